"""The target file (``validation/targets.toml``): every empirical target the model is held to.

Each ``[[targets]]`` entry names the preset it applies to, a metric (``cryptoabm.calibration.metrics``),
a calendar window, the observed value (a number or a ``[low, high]`` range), a tolerance, and its
source (a row of the facts sheet). :func:`load_targets` validates the file as configs are
validated: any mistake raises :class:`~cryptoabm.config.ConfigError`, one line naming the file,
the field and what is allowed (the command line prints it and exits 2).

Distance and pass: a target's distance is how far the model's value lies outside the observed
range, in units of the tolerance (0 inside the range, 1 at the edge of the accepted band
``[low - tolerance, high + tolerance]``). A target passes when the mean over replications lies in
that band, i.e. its distance is at most 1. Calibration minimises the weighted sum of squared
distances of the targets marked ``calibrate = true`` (simulated method of moments).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any

from pydantic import ConfigDict, Field, ValidationError, field_validator, model_validator

from cryptoabm.calibration.metrics import METRICS
from cryptoabm.config import ConfigError, SafeName, Scenario, StrictValues, first_problem, load_scenario, read_toml
from cryptoabm.config.calendar import MONTH_PATTERN, date_of_month, month_of_date

Month = Annotated[str, Field(pattern=MONTH_PATTERN)]
DEFAULT_BASE_SEED = 2021
LONGEST_STAGE = "local-000"  # the stages name the work folders f"{stage}__{arm}" (cryptoabm.calibration.simulate)
MAX_ARM_CHARS = 80 - len(LONGEST_STAGE) - 2  # a folder name holds at most 80 characters (config.SafeName)


class _Table(StrictValues):
    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)


class Target(_Table):
    """One empirical target."""

    id: SafeName  # unique name, e.g. sv_downloads_among_online
    preset: SafeName  # a preset in configs/, e.g. el_salvador_2021
    metric: str  # a name in cryptoabm.calibration.metrics.METRICS
    window: Annotated[list[Month], Field(min_length=2, max_length=2)]  # first and last month, included
    observed: float | Annotated[list[float], Field(min_length=2, max_length=2)]  # a value or [low, high]
    tolerance: float = Field(gt=0)  # accepted distance outside the observed range, metric's units
    source: str = Field(min_length=5)  # the row of the facts sheet, e.g. "facts.md, El Salvador: downloads"
    note: str = ""  # how the figure maps onto the metric
    if_missed: str = ""  # what would be needed to close the gap, if the model misses it
    calibrate: bool = True  # false: held out of the fit, validation only
    weight: float = Field(1.0, gt=0)  # weight in the calibration's distance
    events: list[dict[str, Any]] = Field(default_factory=list)  # extra scheduled events for this target's runs
    # a variant of the preset for this target's runs: dotted keys -> values (e.g. "market.use_history"), named by
    # ``variant`` so that targets giving the same variant share its runs (they must then give the same overrides)
    overrides: dict[str, Any] = Field(default_factory=dict)
    variant: SafeName | None = None
    # history matching (issue 19): the observation error's standard deviation (metric's units) and
    # where it comes from; None: the tolerance stands in for it (argued, not sourced). The model
    # discrepancy's SD: None is the file's discrepancy_share of the observation SD.
    observation_sd: float | None = Field(None, gt=0)
    observation_sd_source: str = ""
    discrepancy_sd: float | None = Field(None, ge=0)

    @field_validator("metric")
    @classmethod
    def _known_metric(cls, value: str) -> str:
        if value not in METRICS:
            raise ValueError(f"unknown metric '{value}'; metrics: {', '.join(METRICS)}")
        return value

    @model_validator(mode="after")
    def _ordered(self) -> Target:
        if self.window[0] > self.window[1]:
            raise ValueError(f"window must run forwards (got {self.window[0]} to {self.window[1]})")
        if isinstance(self.observed, list) and self.observed[0] > self.observed[1]:
            raise ValueError(f"observed range must have low <= high (got {self.observed[0]}, {self.observed[1]})")
        return self

    @property
    def low(self) -> float:
        return self.observed[0] if isinstance(self.observed, list) else self.observed

    @property
    def high(self) -> float:
        return self.observed[1] if isinstance(self.observed, list) else self.observed

    @property
    def band(self) -> tuple[float, float]:
        """The accepted band: the observed range widened by the tolerance."""
        return self.low - self.tolerance, self.high + self.tolerance

    @property
    def arm(self) -> str:
        """The batch arm its runs belong to: the preset, the preset's named variant, or the
        preset with this target's own events or overrides."""
        if self.variant is not None:
            return f"{self.preset}__{self.variant}"
        return f"{self.preset}__{self.id}" if self.events or self.overrides else self.preset

    def distance(self, value: float) -> float:
        """Signed distance of a model value from the observed range, in tolerances (0 inside it;
        NaN if the model gives no value)."""
        if value != value:  # NaN
            return float("nan")
        if value < self.low:
            return (value - self.low) / self.tolerance
        if value > self.high:
            return (value - self.high) / self.tolerance
        return 0.0

    @property
    def observation_error_sd(self) -> float:
        """The observation error's SD: the stated one, or the tolerance standing in for it."""
        return self.observation_sd if self.observation_sd is not None else self.tolerance

    def observed_text(self) -> str:
        return f"{self.low:g}-{self.high:g}" if isinstance(self.observed, list) else f"{self.observed:g}"


class TargetFile(_Table):
    """A whole target file."""

    base_seed: int = Field(DEFAULT_BASE_SEED, ge=0, le=2**63 - 1)  # seeds of the replications (common random numbers)
    # model discrepancy's SD as a share of each target's observation SD, where a target states none
    discrepancy_share: float = Field(0.5, ge=0)
    targets: list[Target] = Field(min_length=1)

    @model_validator(mode="after")
    def _unique(self) -> TargetFile:
        seen: set[str] = set()
        for target in self.targets:
            if target.id in seen:
                raise ValueError(f"target id '{target.id}' is used twice")
            seen.add(target.id)
        return self


@dataclass(frozen=True)
class LoadedTargets:
    """A validated target file with the scenario of each arm its targets need."""

    targets: TargetFile
    path: Path
    preset_paths: dict[str, Path]  # preset name -> its config file
    scenarios: dict[str, Scenario]  # arm -> the preset's scenario (with the target's events and overrides)
    arm_overrides: dict[str, dict[str, Any]] = field(default_factory=dict)  # arm -> its targets' overrides

    def discrepancy_sd(self, target: Target) -> float:
        """A target's model-discrepancy SD: its own, or the file's share of its observation SD."""
        return (target.discrepancy_sd if target.discrepancy_sd is not None
                else self.targets.discrepancy_share * target.observation_error_sd)

    @property
    def calibration_targets(self) -> list[Target]:
        return [t for t in self.targets.targets if t.calibrate]


def load_targets(path: str | Path, configs: str | Path | None = None) -> LoadedTargets:
    """Read and validate a target file, and check each target against its preset: the preset
    exists, its events are valid, and the window lies within the preset's run.

    ``configs``: the folder of presets (default: the repository's ``configs/``).
    Raises :class:`ConfigError` (one line) on any mistake.
    """
    from cryptoabm.config.catalogue import configs_dir

    path = Path(path)
    if not path.is_file():
        raise ConfigError(path, "", "no such target file")
    raw, _ = read_toml(path)
    if not raw:
        raise ConfigError(path, "", "the target file is empty (see validation/targets.toml for the format)")
    try:
        targets = TargetFile.model_validate(raw)
    except ValidationError as exc:
        def unknown_key(loc: tuple) -> str:
            model = Target if "targets" in loc else TargetFile
            return f"unknown key '{loc[-1]}'; allowed: {', '.join(model.model_fields)}"

        field, message = first_problem(exc, unknown_key)
        raise ConfigError(path, field, message) from None
    folder = Path(configs) if configs is not None else configs_dir()
    preset_paths: dict[str, Path] = {}
    scenarios: dict[str, Scenario] = {}
    arm_overrides: dict[str, dict[str, Any]] = {}
    for index, target in enumerate(targets.targets):
        where = f"targets.{index}"
        preset_path = folder / f"{target.preset}.toml"
        if not preset_path.is_file():
            raise ConfigError(path, f"{where}.preset", f"no preset '{target.preset}' in {folder}")
        preset_paths[target.preset] = preset_path
        if len(target.arm) > MAX_ARM_CHARS:
            raise ConfigError(path, f"{where}.id", f"'{target.id}' is too long: with its preset, the arm "
                                                   f"'{target.arm}' names the work folders of its runs, which allow "
                                                   f"{MAX_ARM_CHARS} characters; use at most "
                                                   f"{MAX_ARM_CHARS - len(target.preset) - 2} for the id")
        if target.arm not in scenarios:
            try:
                scenarios[target.arm] = arm_scenario(preset_path, target.events, target.overrides)
            except ConfigError as exc:
                field_name = "events" if exc.field.startswith("events") else "overrides"
                raise ConfigError(path, f"{where}.{field_name}", f"{exc.field}: {exc.message}") from None
            arm_overrides[target.arm] = dict(target.overrides)
        elif arm_overrides.get(target.arm, {}) != dict(target.overrides):
            raise ConfigError(path, f"{where}.overrides", f"variant '{target.variant}' is given other overrides "
                                                          "by an earlier target: give each variant one set")
        scenario = scenarios[target.arm]
        first, last = run_months(scenario)
        if target.window[0] < first or target.window[1] > last:
            raise ConfigError(path, f"{where}.window", f"{target.window[0]} to {target.window[1]} is outside the run "
                                                       f"of '{target.preset}' ({first} to {last})")
    return LoadedTargets(targets, path, preset_paths, scenarios, arm_overrides)


def arm_scenario(preset_path: Path, events: list[dict[str, Any]], overrides: dict[str, Any] | None = None) -> Scenario:
    """A preset's scenario with extra events added to its own, and any overrides (dotted keys)."""
    overrides = dict(overrides or {})
    if not events:
        return load_scenario(preset_path, overrides) if overrides else load_scenario(preset_path)
    own = [event.model_dump(mode="json") for event in load_scenario(preset_path, overrides).events]
    return load_scenario(preset_path, {**overrides, "events": [*own, *events]})


def run_months(scenario: Scenario) -> tuple[str, str]:
    """First and last month ("YYYY-MM") a scenario's run covers."""
    return scenario.start_month, date_of_month(scenario.start_month, scenario.months)


def month_index(scenario: Scenario, date: str) -> int:
    """The run's month number (1 = the first) of a calendar month."""
    if not re.match(MONTH_PATTERN, date):
        raise ValueError(date)
    return month_of_date(scenario.start_month, date)
