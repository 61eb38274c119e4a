"""Experiment files: what to run, kept apart from where it runs and where results go.

An experiment (TOML, under ``experiments/``) states the question, the scenario arms (config
files, each with optional dotted-key overrides), the reference arm, a design over
parameters, the replications, the horizon, which metrics to keep and how often, and a base
seed. :func:`load_experiment` validates it (one clear line on any mistake, like configs), and
:func:`expand_runs` turns it into the full list of runs, each with its own derived seed.

Seeds and common random numbers: replicate r of every arm and design point runs with the
same seed, derived from (base seed, r) by ``numpy.random.SeedSequence``. Inside the model
each process draws from its own child stream (see ``cryptoabm.streams``), so a policy
difference is measured on the same price path and the same population.
"""

from __future__ import annotations

import hashlib
import itertools
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any, Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator
from scipy.stats import qmc

from cryptoabm.config import ConfigError, Scenario, _describe_error, _loc_to_field, load_scenario
from cryptoabm.model import INDICATOR_NAMES

ALWAYS_KEPT = ("month", "date")
SEED_BITS = 63  # scenario seeds are non-negative 63-bit integers


class _Table(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Arm(_Table):
    """One scenario to compare: a config file plus optional overrides of dotted keys."""

    name: str = Field(pattern=r"^[A-Za-z0-9_.-]+$")
    config: str  # a file next to the experiment, or in ../configs/
    overrides: dict[str, Any] = Field(default_factory=dict)


class Design(_Table):
    """Points in parameter space, applied to every arm.

    - ``none``: one point, the arms as they are
    - ``grid``: every combination of ``parameters`` (dotted key -> list of values)
    - ``zip``: the i-th values of every list in ``parameters`` together
    - ``table``: the explicit ``rows`` (each a table of dotted key -> value)
    - ``lhs``: ``samples`` Latin-hypercube points in ``ranges`` (dotted key -> [low, high];
      integer bounds give integer values)
    """

    kind: Literal["none", "grid", "zip", "table", "lhs"] = "none"
    parameters: dict[str, list[Any]] = Field(default_factory=dict)
    rows: list[dict[str, Any]] = Field(default_factory=list)
    ranges: dict[str, Annotated[list[int | float], Field(min_length=2, max_length=2)]] = Field(default_factory=dict)
    samples: int = Field(0, ge=0, le=100_000)

    @model_validator(mode="after")
    def _fits_its_kind(self) -> Design:
        needs = {"grid": self.parameters, "zip": self.parameters, "table": self.rows, "lhs": self.ranges}
        if self.kind in needs and not needs[self.kind]:
            key = {"grid": "parameters", "zip": "parameters", "table": "rows", "lhs": "ranges"}[self.kind]
            raise ValueError(f"a '{self.kind}' design needs design.{key}")
        if self.kind == "zip" and len({len(v) for v in self.parameters.values()}) > 1:
            raise ValueError("a 'zip' design needs lists of equal length")
        if self.kind == "lhs":
            if self.samples < 1:
                raise ValueError("an 'lhs' design needs samples >= 1")
            for key, (low, high) in self.ranges.items():
                if not low < high:
                    raise ValueError(f"range of {key} must have low < high (got {low}, {high})")
        return self


class Experiment(_Table):
    """A whole experiment file."""

    name: str = Field(pattern=r"^[A-Za-z0-9_.-]+$")
    question: str
    arms: list[Arm] = Field(min_length=1)
    reference: str  # name of the reference arm
    reference_point: dict[str, Any] | None = None  # compare with this design point (default: the same point)
    design: Design = Design()
    replications: int = Field(ge=1, le=100_000)
    horizon_months: int = Field(ge=1, le=1200)
    metrics: list[str] = Field(default_factory=lambda: list(INDICATOR_NAMES))
    record_every_months: int | Literal["end"] = 1  # keep every k-th month, or only the last
    base_seed: int = Field(ge=0, le=2**SEED_BITS - 1)

    @model_validator(mode="after")
    def _consistent(self) -> Experiment:
        names = [arm.name for arm in self.arms]
        if len(set(names)) != len(names):
            raise ValueError("arm names must be unique")
        if self.reference not in names:
            raise ValueError(f"reference '{self.reference}' is not an arm; arms: {', '.join(names)}")
        unknown = [m for m in self.metrics if m not in INDICATOR_NAMES]
        if unknown:
            raise ValueError(f"unknown metric '{unknown[0]}'; metrics are the columns: {', '.join(INDICATOR_NAMES)}")
        if isinstance(self.record_every_months, int) and self.record_every_months < 1:
            raise ValueError("record_every_months must be a whole number >= 1 or \"end\"")
        return self


@dataclass(frozen=True)
class RunSpec:
    """Everything one run needs, as plain data (so it can travel to any worker)."""

    run_id: str
    order: int  # position in the design, for stable sorting of results
    arm: str
    point: int
    params: dict[str, Any]
    replicate: int
    seed: int
    scenario: dict[str, Any]  # the validated scenario, as plain data
    metrics: tuple[str, ...]
    record_every_months: int | str
    label: str = field(default="")


@dataclass(frozen=True)
class LoadedExperiment:
    """A validated experiment and the resolved scenario of each arm."""

    experiment: Experiment
    path: Path
    file_hash: str
    arm_scenarios: dict[str, Scenario]


def load_experiment(path: str | Path) -> LoadedExperiment:
    """Read and validate an experiment file and every config it names.

    Raises :class:`ConfigError` (one line: file, field, what is allowed) on any mistake.
    """
    path = Path(path)
    if not path.is_file():
        raise ConfigError(path, "", "no such experiment file")
    raw_bytes = path.read_bytes()
    try:
        raw = tomllib.loads(raw_bytes.decode("utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ConfigError(path, "", f"malformed TOML: {exc}") from None
    try:
        experiment = Experiment.model_validate(raw)
    except ValidationError as exc:
        errors = exc.errors()
        error = next((e for e in errors if e["type"] == "extra_forbidden"), errors[0])
        field_name = _loc_to_field(error["loc"])
        message = _describe_error(error) if error["type"] != "value_error" else str(error["ctx"]["error"])
        if error["type"] == "extra_forbidden":
            message = _unknown_experiment_key(error["loc"])
        raise ConfigError(path, field_name, message) from None
    arm_scenarios = {}
    for index, arm in enumerate(experiment.arms):
        config_path = _find_config(path, arm.config)
        if config_path is None:
            raise ConfigError(path, f"arms.{index}.config", f"no such config file: {arm.config} "
                                                            f"(looked next to the experiment and in ../configs/)")
        overrides = {**arm.overrides, "months": experiment.horizon_months}
        scenario = load_scenario(config_path, overrides)
        arm_scenarios[arm.name] = scenario
        for point in design_points(experiment):
            try:
                load_scenario(config_path, {**overrides, **point})
            except ConfigError as exc:
                raise ConfigError(path, "design", f"with arm '{arm.name}': {exc.field}: {exc.message}") from None
    if experiment.reference_point is not None and experiment.reference_point not in design_points(experiment):
        raise ConfigError(path, "reference_point", "is not one of the design's points")
    digest = hashlib.sha256(raw_bytes).hexdigest()
    return LoadedExperiment(experiment, path, digest, arm_scenarios)


def _find_config(experiment_path: Path, name: str) -> Path | None:
    for folder in (experiment_path.parent, experiment_path.parent.parent / "configs"):
        candidate = folder / name
        if candidate.is_file():
            return candidate
    return None


def _unknown_experiment_key(loc: tuple[Any, ...]) -> str:
    import difflib

    models: dict[str, type[BaseModel]] = {"": Experiment, "design": Design, "arms": Arm}
    parent = next((str(p) for p in reversed(loc[:-1]) if isinstance(p, str)), "")
    allowed = list(models.get(parent, Experiment).model_fields)
    key = str(loc[-1])
    close = difflib.get_close_matches(key, allowed, n=1, cutoff=0.6)
    hint = f"; did you mean '{close[0]}'?" if close else f"; allowed: {', '.join(allowed)}"
    return f"unknown key '{key}'{hint}"


def design_points(experiment: Experiment) -> list[dict[str, Any]]:
    """The design's points in a fixed order: each a dict of dotted key -> value."""
    design = experiment.design
    if design.kind == "none":
        return [{}]
    if design.kind == "grid":
        keys = list(design.parameters)
        return [dict(zip(keys, values, strict=True)) for values in itertools.product(*design.parameters.values())]
    if design.kind == "zip":
        keys = list(design.parameters)
        return [dict(zip(keys, values, strict=True)) for values in zip(*design.parameters.values(), strict=True)]
    if design.kind == "table":
        return [dict(row) for row in design.rows]
    return latin_hypercube_points(design.ranges, design.samples, experiment.base_seed)


def latin_hypercube_points(ranges: dict[str, list[int | float]], samples: int, base_seed: int) -> list[dict[str, Any]]:
    """``samples`` Latin-hypercube points over the ranges, seeded from the base seed (scipy's
    ``qmc.LatinHypercube``); a range with integer bounds gives integers."""
    keys = list(ranges)
    sampler = qmc.LatinHypercube(d=len(keys), rng=np.random.default_rng(np.random.SeedSequence([base_seed, 0xD5])))
    unit = sampler.random(samples)
    lows = np.array([ranges[k][0] for k in keys], dtype=float)
    highs = np.array([ranges[k][1] for k in keys], dtype=float)
    scaled = qmc.scale(unit, lows, highs)
    points = []
    for row in scaled:
        point = {}
        for key, value in zip(keys, row, strict=True):
            low, high = ranges[key]
            point[key] = int(round(value)) if isinstance(low, int) and isinstance(high, int) else float(value)
        points.append(point)
    return points


def replicate_seed(base_seed: int, replicate: int) -> int:
    """The seed of replicate r, the same for every arm and design point (common random numbers)."""
    state = np.random.SeedSequence([base_seed, replicate]).generate_state(1, dtype=np.uint64)[0]
    return int(state) >> (64 - SEED_BITS)


def point_label(point: dict[str, Any]) -> str:
    """A short readable name for a design point, e.g. 'license_cap=20, miner_tariff_usd_per_kwh=0.05'."""
    return ", ".join(f"{key.split('.')[-1]}={value}" for key, value in point.items())


def expand_runs(loaded: LoadedExperiment) -> list[RunSpec]:
    """Every run of the experiment: arms x design points x replicates, in a fixed order."""
    experiment = loaded.experiment
    points = design_points(experiment)
    runs = []
    for arm in experiment.arms:
        config_path = _find_config(loaded.path, arm.config)
        for point_index, point in enumerate(points):
            scenario = load_scenario(config_path, {**arm.overrides, "months": experiment.horizon_months, **point})
            for replicate in range(experiment.replications):
                runs.append(RunSpec(
                    run_id=f"{arm.name}__p{point_index:03d}__r{replicate:03d}",
                    order=len(runs),
                    arm=arm.name,
                    point=point_index,
                    params=dict(point),
                    replicate=replicate,
                    seed=replicate_seed(experiment.base_seed, replicate),
                    scenario=scenario.model_dump(mode="json"),
                    metrics=tuple(experiment.metrics),
                    record_every_months=experiment.record_every_months,
                    label=f"{arm.name} [{point_label(point)}]" if point else arm.name,
                ))
    return runs
