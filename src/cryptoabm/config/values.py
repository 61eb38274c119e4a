"""The value types every config table is built from: shares, finite numbers, safe names, the
word "none" for an optional lever, and the base of every table (unknown keys are errors,
values are immutable)."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field

PaymentRegime = Literal["ban", "voluntary", "legal_tender", "fee_conversion"]
GridPriority = Literal["equal", "last", "interruptible", "surplus_only"]
PriceProcess = Literal["student_t", "block_bootstrap"]
NetworkKind = Literal["watts_strogatz", "barabasi_albert", "erdos_renyi", "complete", "well_mixed"]

NONE_WORD = "none"


def _none_word(value: Any) -> Any:
    # TOML has no null: the word "none" switches an optional lever off (e.g. lifts a cap).
    return None if isinstance(value, str) and value.strip().lower() == NONE_WORD else value


NoneWord = BeforeValidator(_none_word)

# Every number must be finite: TOML allows inf and nan, which no field means.
Share = Annotated[float, Field(ge=0.0, le=1.0, allow_inf_nan=False)]
NonNegative = Annotated[float, Field(ge=0.0, allow_inf_nan=False)]
Positive = Annotated[float, Field(gt=0.0, allow_inf_nan=False)]
SAFE_NAME_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,79}$"
SAFE_NAME_RULE = "must be a plain name: a letter or digit, then letters, digits, _ . - (at most 80 characters, no path)"
SafeName = Annotated[str, Field(pattern=SAFE_NAME_PATTERN)]  # names a results folder: nothing may escape


class _Section(BaseModel):
    """Base for every config table: unknown keys are errors, values are immutable."""

    model_config = ConfigDict(extra="forbid", frozen=True, validate_default=True, allow_inf_nan=False)

