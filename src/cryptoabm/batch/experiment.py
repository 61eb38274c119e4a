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
import math
import sys
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any, Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from cryptoabm.config import (
    COUNTRIES_FOLDER,
    ConfigError,
    SafeName,
    Scenario,
    StrictValues,
    composition_files,
    config_files,
    first_problem,
    load_composition,
    load_scenario,
    parse_once,
    read_toml,
    with_overrides,
)
from cryptoabm.batch.progress import ProgressBar
from cryptoabm.batch.posterior import Posterior, PosteriorError, find_posterior, posterior_rows, read_posterior
from cryptoabm.model import INDICATOR_NAMES
from cryptoabm.sizing import (
    FORCE_HINT,
    available_memory_bytes,
    ensure_model_fits,
    free_disk_bytes,
    human_bytes,
    results_bytes,
)
from cryptoabm.summary import OUTCOMES

ALWAYS_KEPT = ("month", "date")
DESIGN_STREAM = 0xD5  # the design's Latin hypercube draws from (base seed, this)
UNCERTAINTY_STREAM = 0xDA  # the per-replicate uncertainty draws from (base seed, this)
SEED_BITS = 63  # scenario seeds are non-negative 63-bit integers
HEADLINE_OUTCOMES = (
    "final_wallet_share", "final_active_share", "peak_global_hashrate_share", "mean_grey_load_share",
    "min_reserve_margin", "total_unserved_mwh", "total_fdi_inflow_usd", "total_profit_repatriation_usd",
    "total_capital_flight_usd", "total_state_revenue_usd", "total_bonus_outlay_usd", "total_energy_shadow_cost_usd",
    "total_national_gain_from_mining_usd", "total_fiscal_net_usd", "total_current_account_usd", "total_fdi_net_usd",
)  # what a report shows unless the experiment names its own `report_outcomes`
ID_COLUMNS = ("run_id", "arm", "point", "label", "replicate", "seed")
CONFIG_KEYS = frozenset({"extends", "country", "policy_package", "market", "grid", "mining", "population", "policy", "events", "months", "seed",
                         "start_month", "description", "adoption", "investors", "merchants", "state"})
RESULTS_SHARE_OF_MEMORY = 0.8  # the merged tables are built in memory: leave the rest to everything else
RESULTS_COPIES_ON_DISK = 2  # the run files, then the merged tables
PROGRESS_FROM_POINTS = 1_000  # designs this large show their progress while they are checked and listed
DUMMY = "dummy"  # the parameter a morris/sobol design adds: read by no model, it sets the replications' seeds


class _Table(StrictValues):
    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)


class Arm(_Table):
    """One scenario to compare: a preset file, or a country under a policy package, plus optional
    overrides of dotted keys."""

    name: SafeName
    config: str | None = None  # a preset file next to the experiment, or in ../configs/
    country: SafeName | None = None  # configs/countries/<country>.toml ...
    policy_package: SafeName | None = None  # ... under configs/policies/<policy_package>.toml
    overrides: dict[str, Any] = Field(default_factory=dict)
    replications: int | None = Field(None, ge=1)  # run only replicates 0..n-1 (default: the experiment's)
    display_name: str | None = Field(None, min_length=1, max_length=60)  # how the report names it (default: from name)

    @model_validator(mode="after")
    def _one_source(self) -> Arm:
        composed = self.country is not None or self.policy_package is not None
        if self.config is not None and composed:
            raise ValueError(f"arm '{self.name}' names a config and a country/policy_package: give one or the other")
        if self.config is None and (self.country is None or self.policy_package is None):
            raise ValueError(f"arm '{self.name}' needs either config = \"<preset>.toml\" or both country and "
                             f"policy_package")
        return self


class Design(_Table):
    """Points in parameter space, applied to every arm.

    - ``none``: one point, the arms as they are
    - ``grid``: every combination of ``parameters`` (dotted key -> list of values)
    - ``zip``: the i-th values of every list in ``parameters`` together
    - ``table``: the explicit ``rows`` (each a table of dotted key -> value)
    - ``lhs``: ``samples`` Latin-hypercube points in ``ranges`` (dotted key -> [low, high];
      integer bounds give integer values)
    - ``sobol_sequence``: the first ``samples`` points of a scrambled Sobol' low-discrepancy
      sequence in ``ranges`` (scipy's ``qmc.Sobol``; a power of two keeps its balance): the
      global stage of ``cryptoabm calibrate``. (Not SALib's Sobol' sensitivity design.)
    - ``morris``: ``trajectories`` Morris trajectories on a grid of ``levels`` levels over
      ``ranges`` (SALib), for elementary effects (mu*, sigma)
    - ``sobol``: Saltelli's scheme over ``ranges`` with ``samples`` base samples (a power of
      two; SALib), for Sobol' S1 and ST (and S2 with ``second_order = true``)

    A ``morris`` or ``sobol`` design adds a parameter named ``dummy`` on [0, 1] (unless
    ``dummy = false``), sampled like the others. The model never reads it: it picks the seeds
    the replications at a point run with (see :func:`run_seed`), so its index is what seed
    noise alone gives, the yardstick for the real parameters' indices.
    """

    kind: Literal["none", "grid", "zip", "table", "lhs", "sobol_sequence", "morris", "sobol"] = "none"
    parameters: dict[str, list[Any]] = Field(default_factory=dict)
    rows: list[dict[str, Any]] = Field(default_factory=list)
    ranges: dict[str, Annotated[list[int | float], Field(min_length=2, max_length=2)]] = Field(default_factory=dict)
    samples: int = Field(0, ge=0, le=100_000)
    trajectories: int = Field(0, ge=0, le=10_000)  # morris: number of trajectories (SALib's N)
    levels: int = Field(4, ge=2, le=100)  # morris: grid levels of each parameter (SALib's num_levels)
    second_order: bool = False  # sobol: also sample for the second-order indices S2
    dummy: bool = True  # morris/sobol: add the seed-carrying dummy parameter

    @model_validator(mode="after")
    def _fits_its_kind(self) -> Design:
        needs = {"grid": self.parameters, "zip": self.parameters, "table": self.rows, "lhs": self.ranges,
                 "sobol_sequence": self.ranges, "morris": self.ranges, "sobol": self.ranges}
        if self.kind in needs and not needs[self.kind]:
            key = {"grid": "parameters", "zip": "parameters", "table": "rows"}.get(self.kind, "ranges")
            raise ValueError(f"a '{self.kind}' design needs design.{key}")
        empty = next((key for key, values in self.parameters.items() if not values), None)
        if self.kind in ("grid", "zip") and empty is not None:
            raise ValueError(f"design.parameters.{empty} is an empty list: the design would have no runs")
        if self.kind == "zip" and len({len(v) for v in self.parameters.values()}) > 1:
            raise ValueError("a 'zip' design needs lists of equal length")
        if self.kind == "sobol_sequence" and self.samples < 1:
            raise ValueError("a 'sobol_sequence' design needs samples >= 1")
        if self.kind in ("lhs", "sobol_sequence", "morris", "sobol"):
            for key, (low, high) in self.ranges.items():
                if not low < high:
                    raise ValueError(f"range of {key} must have low < high (got {low}, {high})")
        if self.kind == "lhs" and self.samples < 1:
            raise ValueError("an 'lhs' design needs samples >= 1")
        if self.kind in ("morris", "sobol") and DUMMY in self.ranges:
            raise ValueError(f"'{DUMMY}' is the name of the dummy parameter a {self.kind} design adds itself; "
                             f"rename that range")
        if self.kind == "morris" and self.trajectories < 2:
            raise ValueError("a 'morris' design needs trajectories >= 2")
        if self.kind == "sobol" and (self.samples < 2 or self.samples & (self.samples - 1)):
            raise ValueError(f"a 'sobol' design needs samples a power of two >= 2 (got {self.samples})")
        return self

    @property
    def is_sensitivity(self) -> bool:
        """A Morris or Sobol' design, made for sensitivity indices."""
        return self.kind in ("morris", "sobol")

    @property
    def has_dummy(self) -> bool:
        return self.is_sensitivity and self.dummy

    @property
    def sampled_ranges(self) -> dict[str, list[int | float]]:
        """The ranges sampled, the dummy's [0, 1] last when the design has one."""
        return {**self.ranges, DUMMY: [0.0, 1.0]} if self.has_dummy else dict(self.ranges)


class Uncertainty(_Table):
    """Parameters nobody knows, drawn once per replicate and shared by every arm and design point.

    Replicate r runs every arm with the same seed **and** the same parameter draw, so a paired
    difference between arms is a policy effect on the same economy, and its spread across
    replicates covers both the luck of the draw and what we do not know about behaviour. The
    draws are a Latin hypercube over ``ranges`` (dotted key -> [low, high]), one row a replicate,
    seeded from the experiment's base seed; and, with ``posterior`` (a file name: the
    calibration's ``posterior.parquet``, see :mod:`cryptoabm.batch.posterior`), one draw of the
    fitted parameters from the posterior sample per replicate. Parameters the calibration does
    not fit go in ``ranges``, with their sources.
    """

    ranges: dict[str, Annotated[list[int | float], Field(min_length=2, max_length=2)]] = Field(default_factory=dict)
    posterior: str | None = None  # a posterior sample's file name (next to the experiment or in ../validation/calibration/)

    @model_validator(mode="after")
    def _ranges_ascend(self) -> Uncertainty:
        for key, (low, high) in self.ranges.items():
            if not low < high:
                raise ValueError(f"range of {key} must have low < high (got {low}, {high})")
        return self


class Experiment(_Table):
    """A whole experiment file."""

    name: SafeName
    question: str
    arms: list[Arm] = Field(min_length=1)
    reference: str  # name of the reference arm
    reference_point: dict[str, Any] | None = None  # compare with this design point (default: the same point)
    design: Design = Design()
    # assumptions the answer may hinge on (the price regime, the value of energy, farm size), as
    # dotted config keys -> levels: every combination is crossed with the design's points, so each
    # effect is reported at each level; any config key can be one (it is validated like a design's)
    scenario_factors: dict[str, list[Any]] = Field(default_factory=dict)
    # levers every arm keeps, over its policy package: the country's standing policies that the
    # packages compared do not replace (e.g. its capital-account controls), as dotted policy keys
    standing_levers: dict[str, Any] = Field(default_factory=dict)
    uncertainty: Uncertainty = Uncertainty()  # behaviour drawn per replicate, the same in every arm
    replications: int = Field(ge=1, le=100_000)
    horizon_months: int = Field(ge=1, le=1200)
    metrics: list[str] = Field(default_factory=lambda: list(INDICATOR_NAMES))
    record_every_months: int | Literal["end"] = 1  # keep every k-th month, or only the last
    base_seed: int = Field(ge=0, le=2**SEED_BITS - 1)
    report_outcomes: list[str] = Field(default_factory=lambda: list(HEADLINE_OUTCOMES))  # what the report shows
    # split each package's effect into its levers: one lever at a time from the reference, plus the
    # interaction (see batch/decomposition.py); the one-lever arms run the first decompose_replications
    decompose: bool = False
    decompose_replications: int | None = Field(None, ge=1)

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
        both = sorted(set(self.uncertainty.ranges) & _design_keys(self))
        if both:
            raise ValueError(f"{both[0]} is both in the design and in uncertainty.ranges: give it one place")
        empty = next((key for key, levels in self.scenario_factors.items() if not levels), None)
        if empty is not None:
            raise ValueError(f"scenario_factors.{empty} is an empty list: the experiment would have no runs")
        clash = sorted(set(self.scenario_factors) & (_design_keys(self, factors=False) | set(self.uncertainty.ranges)))
        if clash:
            raise ValueError(f"{clash[0]} is both a scenario factor and in the design or uncertainty.ranges: "
                             f"give it one place")
        if self.scenario_factors and (self.design.is_sensitivity or self.reference_point is not None):
            raise ValueError("scenario_factors do not go with a morris/sobol design or a reference_point: each arm "
                             "is compared with the reference at the same factor levels")
        not_levers = [key for key in self.standing_levers if not key.startswith("policy.")]
        if not_levers:
            raise ValueError(f"standing_levers.{not_levers[0]}: standing levers are policy levers, named "
                             f"policy.<lever> (the economy belongs in a country file)")
        if self.design.is_sensitivity and self.reference_point is not None:
            raise ValueError(f"reference_point does not go with a '{self.design.kind}' design: each arm is compared "
                             f"with the reference at the same point")
        if self.decompose and self.design.is_sensitivity:
            raise ValueError(f"decompose does not go with a '{self.design.kind}' design: decompose the packages in an "
                             f"experiment of their own")
        if self.decompose_replications is not None and not self.decompose:
            raise ValueError("decompose_replications is set but decompose is not: add decompose = true")
        if (self.decompose_replications or 0) > self.replications:
            raise ValueError(f"decompose_replications ({self.decompose_replications}) cannot exceed replications "
                             f"({self.replications})")
        too_many = next((arm.name for arm in self.arms if (arm.replications or 0) > self.replications), None)
        if too_many is not None:
            raise ValueError(f"arm '{too_many}' asks for more replications than the experiment's ({self.replications})")
        not_outcomes = [o for o in self.report_outcomes if o not in OUTCOMES]
        if not_outcomes:
            raise ValueError(f"unknown outcome '{not_outcomes[0]}' in report_outcomes; outcomes: {', '.join(OUTCOMES)}")
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
    """A validated experiment, the resolved scenario of each arm and the inputs it reads."""

    experiment: Experiment
    path: Path
    file_hash: str
    arm_scenarios: dict[str, Scenario]
    inputs: dict[str, str] = field(default_factory=dict)  # every file a run reads -> its SHA-256
    # decompose = true: {"replications": n, "packages": {arm: {lever: one-lever arm}}, "arms": {one-lever arm: {...}}}
    decomposition: dict[str, Any] = field(default_factory=dict)
    posterior: Posterior | None = None  # the behaviour drawn per replicate from a calibration's posterior

    @property
    def inputs_digest(self) -> str:
        """One hash over every input's hash: what a run file records of where it came from."""
        return hashlib.sha256("\n".join(f"{k} {v}" for k, v in sorted(self.inputs.items())).encode()).hexdigest()


def file_sha256(path: str | Path) -> str:
    """The SHA-256 of a file's bytes."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def load_experiment(path: str | Path, force: bool = False, base_seed: int | None = None) -> LoadedExperiment:
    """Read and validate an experiment file and every config it names.

    Raises :class:`ConfigError` (one line: file, field, what is allowed) on any mistake,
    including a design whose results, or a model whose memory, would not fit on this
    machine (unless ``force``). ``base_seed`` replaces the file's ``base_seed`` (the same
    experiment on other random numbers, e.g. for a second-seed robustness check); the
    manifest records the seed used, and a resume must use the same one.
    """
    path = Path(path)
    if not path.is_file():
        raise ConfigError(path, "", "no such experiment file")
    raw, raw_bytes = read_toml(path)
    if base_seed is not None:
        raw = {**raw, "base_seed": base_seed}
    with parse_once():  # every arm composes the same baseline, country and package files
        return experiment_from_dict(raw, path, hashlib.sha256(raw_bytes).hexdigest(), force=force)


def experiment_from_dict(raw: dict[str, Any], path: Path, file_hash: str, force: bool = False) -> LoadedExperiment:
    """Validate an experiment given as data; ``path`` names it in messages and locates its configs."""
    if not raw:
        raise ConfigError(path, "", "the experiment file is empty (see experiments/README.md for the format)")
    if "question" not in raw and "arms" not in raw and CONFIG_KEYS & set(raw):
        raise ConfigError(path, "", "this is a scenario config, not an experiment file; run it with: cryptoabm run")
    try:
        experiment = Experiment.model_validate(raw)
    except ValidationError as exc:
        field_name, message = first_problem(exc, _unknown_experiment_key)
        raise ConfigError(path, field_name, message) from None
    decomposition: dict[str, Any] = {}
    if experiment.decompose:
        experiment, decomposition = with_one_lever_arms(experiment, path)
    ensure_results_fit(experiment, path, force)
    inputs = {str(path.resolve()): file_hash}
    posterior = load_posterior(experiment, path)
    if posterior is not None:
        inputs[str(posterior.path)] = file_sha256(posterior.path)
    arm_scenarios = {}
    points = design_points(experiment)
    for index, arm in enumerate(experiment.arms):
        source = arm_source(path, arm, index)
        overrides = arm_overrides(experiment, arm)
        try:
            scenario = source.load(overrides, arm_override_origins(path, experiment, index))
        except ConfigError as exc:
            raise ConfigError(exc.file, exc.field, f"{exc.message} (in arm '{arm.name}' of {path})") from None
        ensure_model_fits(scenario, path, force)
        arm_scenarios[arm.name] = scenario
        inputs.update({str(f): file_sha256(f) for f in source.files()})
        checked = points + uncertainty_corners(experiment, posterior)
        for point in ProgressBar(checked, desc=f"checking arm '{arm.name}' at each design point", unit="point",
                                 disable=len(checked) < PROGRESS_FROM_POINTS, file=sys.stderr, mininterval=1.0):
            try:
                at_point = point_scenario(source, scenario, overrides, model_overrides(point))
            except ConfigError as exc:
                raise ConfigError(path, "design", f"with arm '{arm.name}': {exc.field}: {exc.message}") from None
            ensure_model_fits(at_point, path, force)
            inputs.update({str(f): file_sha256(f) for f in data_files(at_point)})
    if experiment.reference_point is not None and experiment.reference_point not in points:
        raise ConfigError(path, "reference_point", "is not one of the design's points")
    return LoadedExperiment(experiment, path, file_hash, arm_scenarios, inputs, decomposition, posterior)


def with_one_lever_arms(experiment: Experiment, path: Path) -> tuple[Experiment, dict[str, Any]]:
    """The experiment with, for every arm that differs from the reference only in its policy, one
    arm per lever it moves (the reference with that lever alone as the package sets it), and
    what the manifest records of them. ConfigError (one line) for an arm on another economy."""
    from cryptoabm.batch.decomposition import (
        levers,
        levers_moved,
        one_lever_arm_name,
        one_lever_overrides,
        runs_alike,
        same_economy,
    )

    arms = {arm.name: arm for arm in experiment.arms}
    reference_arm = arms[experiment.reference]

    def scenario_of(index: int, arm: Arm) -> Scenario:
        return arm_source(path, arm, index).load(arm_overrides(experiment, arm))

    reference = scenario_of(experiment.arms.index(reference_arm), reference_arm)
    replications = experiment.decompose_replications or experiment.replications
    added: list[Arm] = []
    decomposition: dict[str, Any] = {"replications": replications, "packages": {}, "arms": {}}
    scenarios = {arm.name: scenario_of(index, arm) for index, arm in enumerate(experiment.arms)}
    known = {runs_alike(scenario): name for name, scenario in scenarios.items()}  # the arms that run already
    for arm in experiment.arms:
        if arm.name == experiment.reference:
            continue
        package = scenarios[arm.name]
        differs = same_economy(reference, package)
        if differs is not None:
            raise ConfigError(path, "decompose", f"arm '{arm.name}' differs from the reference '{reference_arm.name}' "
                                                 f"beyond its policy (in {differs}): a decomposition into levers needs "
                                                 f"arms on the reference's economy")
        decomposition["packages"][arm.name] = parts = {}
        for lever in levers_moved(reference, package):
            one_lever = reference_arm.model_copy(update={
                "name": one_lever_arm_name(arm.name, lever), "replications": replications,
                "overrides": {**reference_arm.overrides, **one_lever_overrides(reference, package, lever)}})
            alike = runs_alike(scenario_of(experiment.arms.index(reference_arm), one_lever))
            if alike in known:  # an arm of the experiment, or another package's lever set alike: run once
                parts[lever] = known[alike]
                continue
            if one_lever.name in arms:
                raise ConfigError(path, "decompose", f"arm '{one_lever.name}' is the name of a one-lever arm the "
                                                     f"decomposition adds itself; rename that arm")
            parts[lever] = known[alike] = one_lever.name
            added.append(one_lever)
            decomposition["arms"][one_lever.name] = {"lever": lever, "fields": list(levers()[lever])}
    return experiment.model_copy(update={"arms": [*experiment.arms, *added]}), decomposition
    

def load_posterior(experiment: Experiment, path: Path) -> Posterior | None:
    """The posterior sample the experiment names, checked (ConfigError naming uncertainty.posterior)."""
    name = experiment.uncertainty.posterior
    if name is None:
        return None
    field_name = "uncertainty.posterior"
    try:
        found = find_posterior(path, name)
        if found is None:
            raise PosteriorError(f"no such file: {name} (looked next to the experiment and in "
                                 f"../validation/calibration/; cryptoabm calibrate writes it)")
        posterior = read_posterior(found)
    except PosteriorError as exc:
        raise ConfigError(path, field_name, str(exc)) from None
    clash = sorted(set(posterior.keys) & (_design_keys(experiment) | set(experiment.uncertainty.ranges)))
    if clash:
        raise ConfigError(path, field_name, f"{clash[0]} is drawn from the posterior and also set in the design, "
                                            f"scenario_factors or uncertainty.ranges: give it one place")
    return posterior


def point_scenario(source: ArmSource, arm_scenario: Scenario, arm_overrides: dict[str, Any],
                   point: dict[str, Any]) -> Scenario:
    """The arm's scenario at a design point: its validated scenario with the point's values set
    (no file is read again), or, when the point names a file (a CSV: relative to its config),
    read from the arm's files."""
    if any(isinstance(value, str) and value.lower().endswith(".csv") for value in point.values()):
        return source.load({**arm_overrides, **point})
    return with_overrides(arm_scenario, point, source=source.experiment_path)


def data_files(scenario: Scenario) -> list[Path]:
    """Every data file (CSV) a scenario reads: any string value naming an existing .csv file."""
    found: list[Path] = []

    def visit(value: Any) -> None:
        if isinstance(value, dict):
            for item in value.values():
                visit(item)
        elif isinstance(value, list):
            for item in value:
                visit(item)
        elif isinstance(value, str) and value.lower().endswith(".csv") and Path(value).is_file():
            found.append(Path(value).resolve())

    visit(scenario.model_dump(mode="json"))
    return found


def run_sizes(loaded: LoadedExperiment) -> list[tuple[int, int]]:
    """(citizens, months) of every run, for estimating a batch's work (arms as they stand)."""
    experiment = loaded.experiment
    replications = {arm.name: arm.replications or experiment.replications for arm in experiment.arms}
    return [(scenario.population.citizens, experiment.horizon_months)
            for arm, scenario in loaded.arm_scenarios.items()
            for _ in range(replications[arm] * design_point_count(experiment))]


def design_point_count(experiment: Experiment) -> int:
    """How many points the design has, counted without listing them."""
    design = experiment.design
    if design.kind == "grid":
        return math.prod(len(values) for values in design.parameters.values()) * factor_level_count(experiment)
    if design.kind == "zip":
        return len(next(iter(design.parameters.values()))) * factor_level_count(experiment)
    if design.kind == "table":
        return len(design.rows) * factor_level_count(experiment)
    if design.kind in ("lhs", "sobol_sequence"):
        return design.samples * factor_level_count(experiment)
    if design.kind == "morris":
        return design.trajectories * (len(design.sampled_ranges) + 1)
    if design.kind == "sobol":
        dimensions = len(design.sampled_ranges)
        return design.samples * (2 * dimensions + 2 if design.second_order else dimensions + 2)
    return factor_level_count(experiment)


def factor_level_count(experiment: Experiment) -> int:
    """How many combinations of scenario-factor levels there are (1 without factors)."""
    return math.prod(len(levels) for levels in experiment.scenario_factors.values())


def kept_row_count(horizon_months: int, record_every_months: int | str) -> int:
    """Rows a run keeps: every k-th month and always the last, or only the last."""
    if record_every_months == "end":
        return 1
    return len({*range(int(record_every_months) - 1, horizon_months, int(record_every_months)), horizon_months - 1})


def results_estimate(experiment: Experiment) -> tuple[int, str]:
    """Bytes of a batch's tidy results, and how they were counted (runs x kept months x columns)."""
    runs = sum(arm.replications or experiment.replications for arm in experiment.arms) * design_point_count(experiment)
    rows = kept_row_count(experiment.horizon_months, experiment.record_every_months)
    columns = len(ID_COLUMNS) + len(experiment.metrics) + 2 + len(OUTCOMES) + len(_design_keys(experiment))
    return results_bytes(runs, rows, columns), f"{runs:,} runs x {rows:,} kept months x {columns} columns"


def ensure_results_fit_on_disk(experiment: Experiment, out_dir: Path, force: bool = False) -> None:
    """Refuse (ConfigError) a batch whose files (run files and merged tables) would not fit on
    the disk of ``out_dir``."""
    needed, counted = results_estimate(experiment)
    needed *= RESULTS_COPIES_ON_DISK
    free = free_disk_bytes(out_dir)
    if needed > free and not force:
        raise ConfigError("--out", "", f"the results would take about {human_bytes(needed)} on disk ({counted}, "
                                       f"run files and merged tables) but {out_dir} has {human_bytes(free)} free; "
                                       f"{FORCE_HINT}")


def ensure_results_fit(experiment: Experiment, path: Path, force: bool = False) -> None:
    """Refuse (ConfigError) an experiment whose results would not fit in this machine's memory."""
    needed, counted = results_estimate(experiment)
    available = int(available_memory_bytes() * RESULTS_SHARE_OF_MEMORY)
    if needed > available and not force:
        raise ConfigError(path, "design", (
            f"the results would take about {human_bytes(needed)} ({counted}) but this machine has "
            f"{human_bytes(available)} to hold them; use fewer points, "
            f"replications or metrics, record_every_months, or {FORCE_HINT}"))


def _design_keys(experiment: Experiment, factors: bool = True) -> set[str]:
    """The keys the design's points set (with the scenario factors, unless ``factors`` is false)."""
    design = experiment.design
    keys = {*design.parameters, *design.sampled_ranges, *(key for row in design.rows for key in row)}
    return keys | set(experiment.scenario_factors) if factors else keys


def _find_config(experiment_path: Path, name: str) -> Path | None:
    for folder in (experiment_path.parent, experiment_path.parent.parent / "configs"):
        candidate = folder / name
        if candidate.is_file():
            return candidate
    return None


def _configs_folder(experiment_path: Path) -> Path:
    """Where an experiment's countries/ and policies/ are: next to it, or in ../configs/."""
    beside = experiment_path.parent
    return beside if (beside / COUNTRIES_FOLDER).is_dir() else beside.parent / "configs"


@dataclass(frozen=True)
class ArmSource:
    """Where an arm's scenario comes from: a preset file, or a country under a policy package."""

    experiment_path: Path
    config_path: Path | None = None
    country: str | None = None
    policy_package: str | None = None

    def load(self, overrides: dict[str, Any], origins: dict[str, tuple[str | Path, str]] | None = None) -> Scenario:
        """The arm's scenario with ``overrides``; ``origins`` names where each override was written."""
        if self.config_path is not None:
            return load_scenario(self.config_path, overrides, origins)
        return load_composition(_configs_folder(self.experiment_path), self.country, self.policy_package, overrides,
                                source=self.experiment_path, override_origins=origins)

    def files(self) -> list[Path]:
        if self.config_path is not None:
            return config_files(self.config_path)
        return composition_files(_configs_folder(self.experiment_path), self.country, self.policy_package)


def arm_overrides(experiment: Experiment, arm: Arm) -> dict[str, Any]:
    """What an experiment sets on top of an arm's scenario: the standing levers, then the arm's
    own overrides, then the horizon (design points go on top of these)."""
    return {**experiment.standing_levers, **arm.overrides, "months": experiment.horizon_months}


def arm_override_origins(path: Path, experiment: Experiment, index: int) -> dict[str, tuple[str | Path, str]]:
    """Where each of :func:`arm_overrides` is written in the experiment file (for errors)."""
    arm = experiment.arms[index]
    return {**{key: (path, f"standing_levers.{key}") for key in experiment.standing_levers},
            **{key: (path, f"arms.{index}.overrides.{key}") for key in arm.overrides},
            "months": (path, "horizon_months")}


def arm_source(experiment_path: Path, arm: Arm, index: int) -> ArmSource:
    """The arm's source, checked: ConfigError naming the arm's field when its file is missing."""
    if arm.config is None:
        source = ArmSource(experiment_path, country=arm.country, policy_package=arm.policy_package)
        try:
            source.files()
        except ConfigError as exc:
            field_name = f"arms.{index}.{exc.field}" if exc.field in ("country", "policy_package") else exc.field
            raise ConfigError(exc.file if field_name == exc.field else experiment_path, field_name, exc.message) from None
        return source
    config_path = _find_config(experiment_path, arm.config)
    if config_path is None:
        raise ConfigError(experiment_path, f"arms.{index}.config", f"no such config file: {arm.config} "
                                                                   f"(looked next to the experiment and in ../configs/)")
    return ArmSource(experiment_path, config_path=config_path)


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
    """The design's points in a fixed order: each a dict of dotted key -> value. With scenario
    factors, every combination of their levels (in the order given, the last varying fastest)
    is crossed with every point of the design, the factors first in each point."""
    points = _design_only_points(experiment)
    if not experiment.scenario_factors:
        return points
    keys = list(experiment.scenario_factors)
    return [{**dict(zip(keys, levels, strict=True)), **point}
            for levels in itertools.product(*experiment.scenario_factors.values()) for point in points]


def _design_only_points(experiment: Experiment) -> list[dict[str, Any]]:
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
    if design.kind == "sobol_sequence":
        return sobol_sequence_points(design.ranges, design.samples, experiment.base_seed)
    if design.kind == "morris":
        return scaled_points(design.sampled_ranges, morris_unit_sample(design, experiment.base_seed))
    if design.kind == "sobol":
        return scaled_points(design.sampled_ranges, sobol_unit_sample(design, experiment.base_seed))
    return latin_hypercube_points(design.ranges, design.samples, experiment.base_seed)


SAMPLER_STREAM = 0x5A1  # the sensitivity samplers' stream, apart from the LHS one (0xD5)


def _sampler_seed(base_seed: int) -> int:
    """A seed for SALib's samplers, derived from the experiment's base seed."""
    return int(np.random.SeedSequence([base_seed, SAMPLER_STREAM]).generate_state(1)[0])


def _salib():
    try:
        import SALib  # noqa: F401
    except ImportError:
        raise ConfigError("design", "kind", "morris and sobol designs need SALib: "
                                            "pip install 'cryptoabm[analysis]'") from None


def salib_problem(ranges: dict[str, list[int | float]]) -> dict[str, Any]:
    """SALib's problem over the unit cube (values are scaled to their ranges afterwards)."""
    return {"num_vars": len(ranges), "names": list(ranges), "bounds": [[0.0, 1.0]] * len(ranges)}


def morris_unit_sample(design: Design, base_seed: int) -> np.ndarray:
    """Morris trajectories in the unit cube (SALib), one row per point, seeded from the base seed."""
    _salib()
    from SALib.sample import morris

    return morris.sample(salib_problem(design.sampled_ranges), design.trajectories, num_levels=design.levels,
                         seed=_sampler_seed(base_seed))


def sobol_unit_sample(design: Design, base_seed: int) -> np.ndarray:
    """Saltelli's scheme in the unit cube (SALib's scrambled Sobol' sequence), seeded from the base seed."""
    _salib()
    from SALib.sample import sobol

    return sobol.sample(salib_problem(design.sampled_ranges), design.samples, calc_second_order=design.second_order,
                        seed=_sampler_seed(base_seed))


def sobol_sequence_points(ranges: dict[str, list[int | float]], samples: int, base_seed: int) -> list[dict[str, Any]]:
    """The first ``samples`` points of a scrambled Sobol' sequence over the ranges, seeded from
    the base seed (scipy's ``qmc.Sobol``); a range with integer bounds gives integers."""
    from scipy.stats import qmc  # here, not at the top: scipy.stats costs a batch with no design 0.4 s of imports

    sampler = qmc.Sobol(d=len(ranges), scramble=True, rng=np.random.default_rng(np.random.SeedSequence([base_seed, 0x50B])))
    with warnings.catch_warnings():  # a sample size that is not a power of two only loses some balance
        warnings.simplefilter("ignore", UserWarning)
        unit = sampler.random(samples)
    return scaled_points(ranges, unit)


def scaled_points(ranges: dict[str, list[int | float]], unit: np.ndarray) -> list[dict[str, Any]]:
    """Points of the unit cube (one row each) scaled to the ranges; integer bounds give integers."""
    from scipy.stats import qmc  # here, not at the top (see sobol_sequence_points)

    keys = list(ranges)
    lows = np.array([ranges[k][0] for k in keys], dtype=float)
    highs = np.array([ranges[k][1] for k in keys], dtype=float)
    scaled = qmc.scale(unit, lows, highs) if len(unit) else unit
    points = []
    for row in scaled:
        point = {}
        for key, value in zip(keys, row, strict=True):
            low, high = ranges[key]
            point[key] = int(round(value)) if isinstance(low, int) and isinstance(high, int) else float(value)
        points.append(point)
    return points


def uncertainty_draws(experiment: Experiment, posterior: Posterior | None = None) -> list[dict[str, Any]]:
    """Replicate r's draw of the uncertain parameters: its Latin-hypercube row over the ranges
    and its row of the posterior sample (an empty dict each without either)."""
    ranges = experiment.uncertainty.ranges
    draws = ([{} for _ in range(experiment.replications)] if not ranges else
             latin_hypercube_points(ranges, experiment.replications, experiment.base_seed, stream=UNCERTAINTY_STREAM))
    if posterior is not None:
        rows = posterior_rows(posterior, experiment.replications, experiment.base_seed)
        draws = [{**draw, **posterior.row(int(row))} for draw, row in zip(draws, rows, strict=True)]
    return draws


def uncertainty_corners(experiment: Experiment, posterior: Posterior | None = None) -> list[dict[str, Any]]:
    """The lowest and the highest values of every uncertain parameter: what load-time validation tries."""
    ranges = experiment.uncertainty.ranges
    if not ranges and posterior is None:
        return []
    low, high = posterior.corners() if posterior is not None else ({}, {})
    return [{**{key: bounds[0] for key, bounds in ranges.items()}, **low},
            {**{key: bounds[1] for key, bounds in ranges.items()}, **high}]


def run_parameters(experiment: Experiment, posterior: Posterior | None = None) -> list[dict[str, Any]]:
    """Every set of parameter values a run may record: the design points and the uncertainty draws."""
    return design_points(experiment) + uncertainty_draws(experiment, posterior)


def model_overrides(point: dict[str, Any]) -> dict[str, Any]:
    """A design point as config overrides: the dummy is no config key and is left out."""
    return {key: value for key, value in point.items() if key != DUMMY}


def latin_hypercube_points(ranges: dict[str, list[int | float]], samples: int, base_seed: int,
                           stream: int = DESIGN_STREAM) -> list[dict[str, Any]]:
    """``samples`` Latin-hypercube points over the ranges, seeded from the base seed and a
    stream number (scipy's ``qmc.LatinHypercube``); a range with integer bounds gives integers."""
    from scipy.stats import qmc  # here, not at the top (see sobol_sequence_points)

    keys = list(ranges)
    sampler = qmc.LatinHypercube(d=len(keys), rng=np.random.default_rng(np.random.SeedSequence([base_seed, stream])))
    return scaled_points(ranges, sampler.random(samples))


def replicate_seed(base_seed: int, replicate: int) -> int:
    """The seed of replicate r, the same for every arm and design point (common random numbers)."""
    state = np.random.SeedSequence([base_seed, replicate]).generate_state(1, dtype=np.uint64)[0]
    return int(state) >> (64 - SEED_BITS)


DUMMY_SEED_RESOLUTION = 2**32  # dummy values closer than 1/this share their seeds


def run_seed(base_seed: int, replicate: int, point: dict[str, Any]) -> int:
    """The seed of replicate r at a design point: the same for every arm (common random numbers).

    Without a dummy it is also the same at every point (:func:`replicate_seed`). With one it
    is derived from (base seed, r, the dummy's value): a step in the dummy alone changes only
    the seeds, so the dummy's sensitivity index measures seed noise. (A dummy that changed
    nothing would rerun identical runs and always score exactly zero.) A step in any real
    parameter keeps the dummy, and so the seeds.
    """
    if DUMMY not in point:
        return replicate_seed(base_seed, replicate)
    key = int(round(float(point[DUMMY]) * DUMMY_SEED_RESOLUTION))
    state = np.random.SeedSequence([base_seed, replicate, key]).generate_state(1, dtype=np.uint64)[0]
    return int(state) >> (64 - SEED_BITS)


def point_label(point: dict[str, Any]) -> str:
    """A short readable name for a design point, e.g. 'license_cap=20, miner_tariff_usd_per_kwh=0.05'."""
    return ", ".join(f"{key.split('.')[-1]}={value}" for key, value in point.items())


def expand_runs(loaded: LoadedExperiment) -> list[RunSpec]:
    """Every run of the experiment: arms x design points x replicates, in a fixed order."""
    with parse_once():  # the arms' files, each read once
        return _expand_runs(loaded)


def _expand_runs(loaded: LoadedExperiment) -> list[RunSpec]:
    experiment = loaded.experiment
    points = design_points(experiment)
    draws = uncertainty_draws(experiment, loaded.posterior)
    runs = []
    for index, arm in enumerate(experiment.arms):
        source = arm_source(loaded.path, arm, index)
        overrides = arm_overrides(experiment, arm)
        arm_scenario = source.load(overrides)
        for point_index, point in enumerate(ProgressBar(points, desc=f"listing the runs of arm '{arm.name}'",
                                                        unit="point", disable=len(points) < PROGRESS_FROM_POINTS,
                                                        file=sys.stderr, mininterval=1.0)):
            at_point = model_overrides(point)
            base = point_scenario(source, arm_scenario, overrides, at_point) if not any(draws[0]) else None
            for replicate in range(arm.replications or experiment.replications):
                draw = draws[replicate]
                scenario = base or point_scenario(source, arm_scenario, overrides, {**at_point, **draw})
                runs.append(RunSpec(
                    run_id=f"{arm.name}__p{point_index:03d}__r{replicate:03d}",
                    order=len(runs),
                    arm=arm.name,
                    point=point_index,
                    params={**point, **draw},
                    replicate=replicate,
                    seed=run_seed(experiment.base_seed, replicate, point),
                    scenario=scenario.model_dump(mode="json"),
                    metrics=tuple(experiment.metrics),
                    record_every_months=experiment.record_every_months,
                    label=f"{arm.name} [{point_label(point)}]" if point else arm.name,
                ))
    return runs
