"""Simulating the targets' metrics through the batch layer.

A *simulator* turns a design (as an experiment file's ``[design]`` table) and a number of
replications into the metric value of every target, for every design point and replicate:

    simulate(design, replications, stage) -> Simulated(points, values)

:class:`BatchSimulator` is the real one: it writes one experiment file per stage (the targets'
presets as arms, the design, the replications on common random numbers), runs it with
:func:`cryptoabm.batch.runner.run_batch` (parallel, resumable, on a process pool or a Dask
cluster), and evaluates each target's metric on each run's monthly table. Calibration and
validation take any callable of that shape, so a test can put a toy model in its place.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable
from concurrent.futures import Executor, Future
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import pandas as pd
import pyarrow.parquet as pq
import tomli_w

from cryptoabm.batch.experiment import Experiment, design_points, load_experiment
from cryptoabm.batch.store import MANIFEST, TIMESERIES
from cryptoabm.calibration.metrics import METRICS, evaluate
from cryptoabm.calibration.targets import LoadedTargets, Target

VALUE_COLUMNS = ("point", "replicate", "target", "value")
FIGURE_COLUMNS = ("active_share", "merchant_accept_share", "hashrate_ehs", "mining_load_mw", "capital_flight_usd",
                  "reserve_margin")  # kept for validation's figures of presets with no target


@dataclass(frozen=True)
class Simulated:
    """What a simulator returns: the design's points, and a long table of metric values
    (columns point, replicate, target, value)."""

    points: list[dict[str, Any]]
    values: pd.DataFrame
    runs: pd.DataFrame | None = None  # the monthly tables (arm, point, replicate, month, date, ...), when kept


class Simulator(Protocol):
    def __call__(self, design: dict[str, Any], replications: int, stage: str) -> Simulated: ...


def points_of(design: dict[str, Any], base_seed: int) -> list[dict[str, Any]]:
    """The points of a design table, as the batch layer samples them (one owner of sampling)."""
    raw = {"name": "design", "question": "-", "arms": [{"name": "a", "config": "-"}], "reference": "a",
           "design": design, "replications": 1, "horizon_months": 1, "base_seed": base_seed}
    return design_points(Experiment.model_validate(raw))


class SharedExecutor(Executor):
    """One executor lent to many batches in turn (the calibration's local stage runs one small
    batch per evaluation: a pool is started once, not each time). Shutting it down is left to
    its owner."""

    def __init__(self, inner: Executor):
        self.inner = inner
        self._max_workers = getattr(inner, "_max_workers", None)
        self._client = getattr(inner, "_client", None)  # a Dask executor stays recognisable

    def submit(self, fn, /, *args, **kwargs) -> Future:
        return self.inner.submit(fn, *args, **kwargs)

    def shutdown(self, wait: bool = True, *, cancel_futures: bool = False) -> None:
        """Left running for the next batch (see :meth:`close`)."""

    def close(self) -> None:
        """Stop the executor on any exit path, idle workers included: a pool whose workers were
        started but never given work (an error before the first batch) would otherwise keep
        this process waiting for them at exit."""
        from cryptoabm.batch.runner import shutdown_executor

        shutdown_executor(self.inner)


@dataclass
class BatchSimulator:
    """The targets' metrics, simulated through the batch layer.

    ``work_dir`` holds one experiment file and one results folder per stage and arm (scratch:
    the committed outputs are written elsewhere). ``citizens`` reduces the citizens of every arm
    (None: each preset's own). Each arm runs for its preset's months, or only to its last
    target's window (``to_last_target``: what calibration needs), and never past
    ``horizon_months`` (events after the horizon are dropped). ``extra_arms``: presets to run
    besides the targets' (name -> config path), for validation. ``keep_runs``: also return the
    monthly tables.
    """

    loaded: LoadedTargets
    work_dir: Path
    make_executor: Callable[[], Executor]
    citizens: int | None = None
    horizon_months: int | None = None
    resume: bool = False
    progress: bool = False
    extra_arms: dict[str, Path] = field(default_factory=dict)
    keep_runs: bool = False
    to_last_target: bool = False
    only_arms: frozenset[str] | None = None  # run only these target arms (None: every one)

    def arm_specs(self) -> list[tuple[str, Path, Any]]:
        """(arm, config path, scenario) of each target arm (a preset, with any target's events), then extras."""
        from cryptoabm.config import load_scenario

        specs = []
        for arm, scenario in self.loaded.scenarios.items():
            if self.only_arms is not None and arm not in self.only_arms:
                continue
            preset = next(t.preset for t in self.loaded.targets.targets if t.arm == arm)
            specs.append((arm, self.loaded.preset_paths[preset], scenario))
        for arm, path in self.extra_arms.items():
            if arm not in self.loaded.scenarios:
                specs.append((arm, Path(path), load_scenario(path)))
        return specs

    def horizon(self, arm: str, scenario: Any) -> int:
        """Months an arm's runs last: its preset's own, or only as far as its last target's window
        (``to_last_target``), and never past ``horizon_months``."""
        from cryptoabm.calibration.targets import month_index

        months = scenario.months
        if self.to_last_target:
            ends = [month_index(scenario, t.window[1]) for t in self.loaded.targets.targets if t.arm == arm]
            months = max(ends) if ends else months
        return min(months, self.horizon_months) if self.horizon_months is not None else months

    def __call__(self, design: dict[str, Any], replications: int, stage: str) -> Simulated:
        """One batch per arm (each as long as that arm needs), the same design in each."""
        values, runs, points = [], [], None
        for arm, path, scenario in self.arm_specs():
            horizon = self.horizon(arm, scenario)
            overrides: dict[str, Any] = {**self.loaded.arm_overrides.get(arm, {}),
                                         "events": [_plain(e.model_dump(mode="json")) for e in scenario.events
                                                    if e.month <= horizon]}
            if self.citizens is not None:
                overrides["population.citizens"] = self.citizens
            table, points = self._run_arm(arm, path, overrides, horizon, design, replications, stage)
            values.append(self.metric_values(table))
            if self.keep_runs:
                runs.append(table)
        return Simulated(points or [], pd.concat(values, ignore_index=True),
                         pd.concat(runs, ignore_index=True) if self.keep_runs else None)

    def _run_arm(self, arm: str, path: Path, overrides: dict[str, Any], horizon: int, design: dict[str, Any],
                 replications: int, stage: str) -> tuple[pd.DataFrame, list[dict[str, Any]]]:
        from cryptoabm.batch.runner import run_batch

        columns = sorted({c for t in self.loaded.targets.targets for c in METRICS[t.metric].columns}
                         | (set(FIGURE_COLUMNS) if self.keep_runs else set()))
        name = f"{stage}__{arm}"
        raw = {
            "name": name,
            "question": f"cryptoabm calibration/validation, stage '{stage}': {arm} at each design point",
            "arms": [{"name": arm, "config": str(Path(path).resolve()), "overrides": overrides}],
            "reference": arm,
            "design": design,
            "replications": replications,
            "horizon_months": horizon,
            "metrics": columns,
            "record_every_months": 1,
            "base_seed": self.loaded.targets.base_seed,
        }
        self.work_dir.mkdir(parents=True, exist_ok=True)
        experiment_path = self.work_dir / f"{name}.toml"
        text = tomli_w.dumps(raw)
        out_dir = self.work_dir / name
        # a previous run of this stage, by this command, is started afresh unless resuming; and
        # when resuming, a stage whose design has changed (a stage before it ended differently)
        # is too: its finished runs belong to another design
        if (out_dir / MANIFEST).is_file() and (not self.resume or _started_from(out_dir) != _sha256(text)):
            shutil.rmtree(out_dir)
        experiment_path.write_text(text)
        loaded = load_experiment(experiment_path, force=True)
        outcome = run_batch(loaded, out_dir, self.make_executor, resume=self.resume,
                            progress=self.progress and not stage.startswith("local"))
        if outcome.failed:
            raise RuntimeError(f"{len(outcome.failed)} of {outcome.total} runs of {name} failed; "
                               f"tracebacks in {out_dir}/failed/")
        return pq.read_table(out_dir / TIMESERIES).to_pandas(), design_points(loaded.experiment)

    def metric_values(self, table: pd.DataFrame) -> pd.DataFrame:
        """Every target's metric on every run of the merged monthly table."""
        by_arm: dict[str, list[Target]] = {}
        for target in self.loaded.targets.targets:
            by_arm.setdefault(target.arm, []).append(target)
        rows = []
        for (arm, point, replicate), run in table.groupby(["arm", "point", "replicate"], sort=True):
            run = run.sort_values("month")
            for target in by_arm.get(arm, []):
                value = evaluate(target.metric, run, tuple(target.window), self.loaded.scenarios[arm])
                rows.append((int(point), int(replicate), target.id, value))
        return pd.DataFrame(rows, columns=list(VALUE_COLUMNS))


def _sha256(text: str) -> str:
    import hashlib

    return hashlib.sha256(text.encode()).hexdigest()


def _started_from(out_dir: Path) -> str | None:
    """The SHA-256 of the experiment file a stage's batch was started from (None if unreadable)."""
    import json

    try:
        return json.loads((out_dir / MANIFEST).read_text()).get("experiment_sha256")
    except (OSError, ValueError):
        return None


def _plain(value: Any) -> Any:
    """Data without None (TOML has no null): None fields are left out, and take their defaults."""
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value

