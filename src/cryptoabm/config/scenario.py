"""The whole scenario (one country under one policy), its validation from plain data, and
overrides of its values by dotted key (:func:`with_overrides`)."""

from __future__ import annotations

import csv
import math
from pathlib import Path
from typing import Any

from pydantic import Field, ValidationError, model_validator

from cryptoabm.config.calendar import MONTH_PATTERN, calendar_month
from cryptoabm.config.errors import (
    ConfigError,
    _describe_error,
    _field_problem_in,
    _FieldProblem,
    _loc_to_field,
    _unknown_key_message,
)
from cryptoabm.config.origins import Origins
from cryptoabm.config.policy import POLICY_LEVERS, Event, Policy, PolicyChange, StateCapacityChange
from cryptoabm.config.sections import (
    AdoptionConfig,
    CapitalFlightConfig,
    EconomyConfig,
    GridConfig,
    InvestorConfig,
    MarketConfig,
    MerchantConfig,
    MiningConfig,
    PopulationConfig,
    RemittanceConfig,
    StateCapacityConfig,
    StateConfig,
    WorldMiningConfig,
)
from cryptoabm.config.values import MAX_QUANTITY, MAX_SHOCK_PRODUCT, SafeName, _none_word, _Section


class Scenario(_Section):
    """One country under one policy: everything a run needs apart from the seed."""

    name: SafeName = "baseline"  # letters, digits, _ . - (it names the results folder)
    description: str = ""
    start_month: str = Field("2026-01", pattern=MONTH_PATTERN)  # YYYY-MM of month 1
    months: int = Field(60, ge=1, le=1200)
    seed: int = Field(1, ge=0, le=2**63 - 1)
    market: MarketConfig = MarketConfig()
    world_mining: WorldMiningConfig = WorldMiningConfig()
    grid: GridConfig = GridConfig()
    mining: MiningConfig = MiningConfig()
    investors: InvestorConfig = InvestorConfig()
    population: PopulationConfig = PopulationConfig()
    adoption: AdoptionConfig = AdoptionConfig()
    merchants: MerchantConfig = MerchantConfig()
    economy: EconomyConfig = EconomyConfig()
    capital_flight: CapitalFlightConfig = CapitalFlightConfig()
    remittances: RemittanceConfig = RemittanceConfig()
    state: StateConfig = StateConfig()
    state_capacity: StateCapacityConfig = StateCapacityConfig()
    policy: Policy = Policy()
    events: list[Event] = Field(default_factory=list)

    @model_validator(mode="after")
    def _shocks_bounded(self) -> Scenario:
        """Price and hashrate shocks compound: their product (and that of their inverses) is
        bounded, so that no sequence of them drives a price or a hashrate out of range."""
        for kind in ("price_shock", "hashrate_shock"):
            factors = [event.factor for event in self.events if event.kind == kind]
            up = math.prod(f for f in factors if f > 1.0)
            down = math.prod(1.0 / f for f in factors if f < 1.0)
            if up > MAX_SHOCK_PRODUCT or down > MAX_SHOCK_PRODUCT:
                first = next(i for i, event in enumerate(self.events) if event.kind == kind)
                raise _FieldProblem(f"events.{first}.factor",
                                    f"the {kind} events together multiply by {up:.3g} and divide by {down:.3g}; "
                                    f"each must stay within {MAX_SHOCK_PRODUCT:.0e}")
        return self

    @model_validator(mode="after")
    def _events_fit(self) -> Scenario:
        for i, event in enumerate(self.events):
            if event.month > self.months:
                raise _EventAfterHorizon(
                    f"events.{i}.month",
                    f"month {event.month} is after the last month of the run ({self.months})",
                )
            if isinstance(event, PolicyChange):
                for key in event.set:
                    if key not in POLICY_LEVERS:
                        raise _FieldProblem(f"events.{i}.set.{key}", _unknown_key_message(key, POLICY_LEVERS))
                try:
                    Policy.model_validate({**self.policy.model_dump(), **event.set})
                except ValidationError as exc:
                    first = exc.errors()[0]
                    problem = _field_problem_in(first)
                    field = problem.field if problem else ".".join(str(p) for p in first["loc"])
                    message = problem.message if problem else _describe_error(first)
                    raise _FieldProblem(f"events.{i}.set.{field}", message) from None
            if isinstance(event, StateCapacityChange):
                capacity = StateCapacityConfig.model_fields
                for key in event.set:
                    if key not in capacity:
                        raise _FieldProblem(f"events.{i}.set.{key}", _unknown_key_message(key, list(capacity)))
                try:
                    StateCapacityConfig.model_validate({**self.state_capacity.model_dump(), **event.set})
                except ValidationError as exc:
                    first = exc.errors()[0]
                    problem = _field_problem_in(first)
                    field = problem.field if problem else ".".join(str(p) for p in first["loc"])
                    message = problem.message if problem else _describe_error(first)
                    raise _FieldProblem(f"events.{i}.set.{field}", message) from None
        return self

    @property
    def calendar_month_of_start(self) -> int:
        """Calendar month (1-12) of the first simulated month."""
        return calendar_month(self.start_month)


class _EventAfterHorizon(_FieldProblem):
    """A scheduled event after the run's last month (the horizon may be set in another file)."""


def with_overrides(scenario: Scenario, overrides: dict[str, Any], source: str | Path = "<overrides>") -> Scenario:
    """The scenario with dotted keys (``"policy.license_cap"``) set to new values, validated by
    the same schema as a config file; ``source`` names the origin of the overrides in errors."""
    raw = scenario.model_dump(mode="json")
    for dotted, value in overrides.items():
        _set_dotted(raw, dotted, value)
    return scenario_from_dict(raw, source=source)


def scenario_from_dict(raw: dict[str, Any], source: str | Path = "<config>", origins: Origins | None = None) -> Scenario:
    """Validate an already-merged dict; ``source`` names the file in error messages.

    A price CSV is parsed here too (see :func:`check_month_csv`), so a bad one is refused
    before any run starts.
    """
    raw = dict(raw)
    price_csv = raw.get("market", {}).get("price_csv") if isinstance(raw.get("market"), dict) else None
    if isinstance(price_csv, str) and _none_word(price_csv) is not None and source != "<config>":
        resolved = (Path(source).parent / price_csv).resolve()
        if not resolved.is_file():
            raise ConfigError(source, "market.price_csv", f"file not found: {resolved}")
        raw["market"] = {**raw["market"], "price_csv": str(resolved)}
    scenario = _validated(raw, source, origins)
    if scenario.market.price_csv is not None:
        problem = check_month_csv(scenario.market.price_csv, "btc_price_usd", scenario.months)
        if problem:
            raise ConfigError(source, "market.price_csv", f"{scenario.market.price_csv}: {problem}")
    return scenario


def check_month_csv(path: str | Path, value_column: str, months: int) -> str | None:
    """What is wrong with a monthly CSV (columns ``month`` and ``value_column``), or None.

    Months must be whole numbers, each once, with no gaps from 0 to at least ``months``;
    values must be positive, finite numbers. Parsed with the csv module: nothing is evaluated.
    """
    try:
        with open(path, newline="", encoding="utf-8") as handle:
            reader = csv.DictReader(handle)
            header = list(reader.fieldnames or [])
            rows = list(reader)
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        return f"cannot read the CSV: {exc}"
    if not rows:
        return f"has no rows (needs columns month, {value_column})"
    missing = [c for c in ("month", value_column) if c not in header]
    if missing:
        return f"lacks column(s) {', '.join(missing)} (has {', '.join(str(h) for h in header)})"
    seen: dict[int, int] = {}
    for line, row in enumerate(rows, start=2):
        month, value = _whole_number(row["month"]), _finite_number(row[value_column])
        if month is None or month < 0:
            return f"line {line}: month must be a whole number >= 0 (got {row['month']!r})"
        if month in seen:
            return f"line {line}: month {month} appears twice (first on line {seen[month]})"
        if value is None or value <= 0:
            return f"line {line}: {value_column} must be a positive, finite number (got {row[value_column]!r})"
        if value > MAX_QUANTITY:
            return f"line {line}: {value_column} must be at most {MAX_QUANTITY:.0e} (got {row[value_column]!r})"
        seen[month] = line
    gap = next((m for m in range(months + 1) if m not in seen), None)
    if gap is not None:
        return f"has no row for month {gap} (needs every month 0-{months})"
    return None


def _whole_number(text: Any) -> int | None:
    try:
        return int(str(text).strip())
    except ValueError:
        return None


def _finite_number(text: Any) -> float | None:
    try:
        value = float(str(text).strip())
    except ValueError:
        return None
    return value if math.isfinite(value) else None


def _validated(raw: dict[str, Any], source: str | Path, origins: Origins | None = None) -> Scenario:
    """``Scenario.model_validate`` with the first problem as a one-line :class:`ConfigError`,
    naming the file that holds it when ``origins`` knows (see :mod:`.origins`)."""
    try:
        return Scenario.model_validate(raw)
    except ValidationError as exc:
        errors = exc.errors()
        # An unknown key usually explains the other errors in its table (a typo'd name
        # also leaves the real field missing), so report it first.
        error = next((e for e in errors if e["type"] == "extra_forbidden"), errors[0])
        problem = _field_problem_in(error)
        field = problem.field if problem is not None else _loc_to_field(error["loc"])
        message = problem.message if problem is not None else _describe_error(error)
        if origins is None:
            raise ConfigError(source, field, message) from None
        file, field_in_file = origins.locate(field, raw, source)
        if isinstance(problem, _EventAfterHorizon):
            months_file, months_field = origins.locate("months", raw, source)
            if months_file != file:
                message += f"; the run's months are set in {months_file}: {months_field or 'months'}"
        raise ConfigError(file, field_in_file, message) from None


def scenario_to_toml_dict(scenario: Scenario) -> dict[str, Any]:
    """The fully resolved scenario as plain TOML-ready data (no ``extends``, no None)."""
    return scenario.model_dump(mode="json", exclude_none=True)


def _set_dotted(raw: dict[str, Any], dotted: str, value: Any) -> None:
    *tables, leaf = dotted.split(".")
    node = raw
    for table in tables:
        node = node.setdefault(table, {})
        if not isinstance(node, dict):
            raise ConfigError("<overrides>", dotted, f"'{table}' is not a table")
    node[leaf] = value

