"""The value types every config table is built from: shares, finite numbers, safe names, the
word "none" for an optional lever, and the base of every table (unknown keys are errors,
values are immutable)."""

from __future__ import annotations

import functools
import types
from typing import Annotated, Any, Literal, Union, get_args, get_origin

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, model_validator

PaymentRegime = Literal["ban", "voluntary", "legal_tender", "fee_conversion"]
GridPriority = Literal["equal", "last", "interruptible", "surplus_only"]
PriceProcess = Literal["student_t", "block_bootstrap"]
DriftOf = Literal["median", "mean"]
NetworkKind = Literal["watts_strogatz", "barabasi_albert", "erdos_renyi", "complete", "well_mixed"]

NONE_WORD = "none"


def _none_word(value: Any) -> Any:
    # TOML has no null: the word "none" switches an optional lever off (e.g. lifts a cap).
    return None if isinstance(value, str) and value.strip().lower() == NONE_WORD else value


NoneWord = BeforeValidator(_none_word)

# Every number must be finite: TOML allows inf and nan, which no field means. And every number
# is bounded, so that no accepted config can drive a ledger entry to infinity. The derivation:
# every money flow of a month is a product of at most six configured quantities (e.g. a farm's
# power bill: MW x hours x USD/kWh x farms; a coin sale: BTC x USD/BTC x shares) times counts
# of agents (at most 2e7 citizens standing for at most 1e10 people, 1e5 farms) summed over at
# most 1,200 months; with each quantity at most MAX_QUANTITY (1e9) and each money stock or flow
# set in the config at most MAX_USD (1e13), a flow is below (1e9)^6 x 1e13 x 1e10 x 1.2e3 ~ 1e80,
# and the simulated BTC price stays within exp(+-300) of its start (MAX_PRICE_VOLATILITY over
# 1,200 months, shocks capped in their product: MAX_SHOCK_PRODUCT): far from 1.8e308, the
# largest double. The bounds are far beyond any economy (assumption: they are not limits of
# the model's validity, only of its arithmetic); tests/test_config_bounds.py runs extreme
# combinations of them.
MAX_QUANTITY = 1e9  # any price, physical quantity, rate or multiplier in its own units
MAX_USD = 1e13  # any money stock or flow a config sets (about a tenth of world output a year)
MAX_PEOPLE = 10_000_000_000  # people one population may stand for
MAX_PRICE_VOLATILITY = 2.0  # annualised SD of log BTC returns (recorded: below 1.5 since 2013)
MAX_SHOCK_PRODUCT = 1e6  # the product of all price (or hashrate) shock factors, and of their inverses
MAX_NEW_SITES_PER_MONTH = 1_000  # farm sites a month (max_new_mw_per_month / farm_size_mw): each is a decision
# the model takes that month, so this bounds a run's work as initial_farms does (assumption: far above the
# presets' 2.5 to 25 a month; without it, 25 MW of sites in farms of 1e-9 MW are 2.5e10 decisions a month)
Share = Annotated[float, Field(ge=0.0, le=1.0, allow_inf_nan=False)]
NonNegative = Annotated[float, Field(ge=0.0, le=MAX_QUANTITY, allow_inf_nan=False)]
Positive = Annotated[float, Field(gt=0.0, le=MAX_QUANTITY, allow_inf_nan=False)]
Money = Annotated[float, Field(ge=0.0, le=MAX_USD, allow_inf_nan=False)]  # a USD stock or flow
SAFE_NAME_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,79}$"
SAFE_NAME_RULE = "must be a plain name: a letter or digit, then letters, digits, _ . - (at most 80 characters, no path)"
SafeName = Annotated[str, Field(pattern=SAFE_NAME_PATTERN)]  # names a results folder: nothing may escape


class StrictValues(BaseModel):
    """Base of every table a user writes: a number must be written as a number and a switch as
    true or false. Pydantic would otherwise turn ``true`` into 1, ``false`` into 0.0 and the
    text ``"2000"`` into 2000; here each is refused, naming the key. A whole number written as a
    float (``12.0``) still counts as a whole number, and the word "none" still lifts an
    optional lever."""

    @model_validator(mode="before")
    @classmethod
    def _no_coercion(cls, data: Any) -> Any:
        if isinstance(data, dict):
            kinds = _field_kinds(cls)
            for key, value in data.items():
                kind = kinds.get(key)
                if kind is not None:
                    refuse_coercion(value, *kind, where=key)
        return data


@functools.cache
def _field_kinds(model: type[BaseModel]) -> dict[str, tuple[str, bool]]:
    """The kind of value each field of a table takes, for the fields that take a number, a whole
    number or a switch (worked out once per table: a batch validates a scenario per design point)."""
    kinds = {name: _value_kind(field.annotation) for name, field in model.model_fields.items()}
    return {name: kind for name, kind in kinds.items() if kind[0] is not None}


@functools.cache
def _value_kind(annotation: Any) -> tuple[str | None, bool]:
    """("number", "switch" or None; whether None is allowed) of a field's type."""
    union = get_origin(annotation) in (Union, types.UnionType)
    members = set(get_args(annotation)) if union else {annotation}
    optional = type(None) in members
    members.discard(type(None))
    if members == {bool}:
        return "switch", optional
    if members == {int}:
        return "whole number", optional
    if members and members <= {int, float}:
        return "number", optional
    return None, optional


def _is_number_text(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


class WrongKind(ValueError):
    """A value of the wrong kind for its key (text or a switch for a number, anything but
    true/false for a switch); ``field`` is the key in its table."""

    def __init__(self, field: str, message: str):
        super().__init__(message)
        self.field = field
        self.message = message


def refuse_coercion(value: Any, kind: str | None, optional: bool = False, where: str = "") -> None:
    """Raise :class:`WrongKind` if ``value`` is not of ``kind`` ("number", "whole number" or "switch")."""
    if kind is None or (optional and _none_word(value) is None):
        return
    if kind != "switch" and isinstance(value, bool):
        raise WrongKind(where, f"must be a {kind}, not {str(value).lower()} (a switch)")
    if kind != "switch" and isinstance(value, str):
        quoted = _is_number_text(value)
        raise WrongKind(where, f"must be a {kind}{' written without quotes' if quoted else ''} (got {value!r:.60})")
    if kind == "switch" and not isinstance(value, bool):
        raise WrongKind(where, f"must be true or false, without quotes (got {value!r:.60})")


class _Section(StrictValues):
    """Base for every config table: unknown keys are errors, values are immutable."""

    model_config = ConfigDict(extra="forbid", frozen=True, validate_default=True, allow_inf_nan=False)

