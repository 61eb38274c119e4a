"""Batches from a notebook: ``run_experiment(dict_or_path) -> Results``.

    import cryptoabm
    results = cryptoabm.run_experiment("experiments/turkmenistan_options.toml", workers=2)
    results.runs                          # one row per run: ids, design values, outcomes
    results.timeseries                    # the kept months of every run, tidy
    results.compare("kazakhstan_package")  # paired differences from another reference arm, with 95% intervals

An experiment given as a dict has the same keys as an experiment file; its configs are looked
up relative to ``base_dir`` (default: the working folder) and its ``configs/`` folder. The
results go into ``out`` (default: a new temporary folder, so a cell can be run again), with
the same files, checks and report as ``cryptoabm batch`` (``report=False`` skips the report:
``results.report()`` writes it later); progress is a ``tqdm.auto`` bar.
"""

from __future__ import annotations

import hashlib
import json
import tempfile
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow.dataset as ds

from cryptoabm.batch.clusters import local_placement
from cryptoabm.batch.experiment import (
    HEADLINE_OUTCOMES,
    LoadedExperiment,
    ensure_results_fit_on_disk,
    experiment_from_dict,
    load_experiment,
    run_sizes,
)
from cryptoabm.batch.report import paired_differences, write_report
from cryptoabm.batch.runner import run_batch
from cryptoabm.batch.store import RUNS_TABLE, TIMESERIES, read_manifest, results_dataset, timeseries_dataset

DICT_SOURCE = "<experiment dict>"


@dataclass(frozen=True)
class Results:
    """A finished batch's results folder, as DataFrames."""

    folder: Path

    @cached_property
    def runs(self) -> pd.DataFrame:
        """One row per finished run: run_id, arm, point, label, design values, replicate, seed, outcomes."""
        return pd.read_parquet(self.folder / RUNS_TABLE)

    @cached_property
    def timeseries(self) -> pd.DataFrame:
        """Every finished run's kept months: ids, design values, month, date and the metrics."""
        return pd.read_parquet(self.folder / TIMESERIES)

    @property
    def dataset(self) -> ds.Dataset:
        """The runs as a lazy pyarrow dataset, one row per run, partitioned by arm."""
        return results_dataset(self.folder)

    @property
    def timeseries_dataset(self) -> ds.Dataset:
        """The kept months as a lazy pyarrow dataset, one row per run and month, partitioned by arm."""
        return timeseries_dataset(self.folder)

    def compare(self, reference: str | None = None, outcomes: list[str] | None = None) -> pd.DataFrame:
        """Paired differences (mean, SD, 95% t-interval) of every other arm and point from
        ``reference`` (default: the experiment's reference arm), replicate by replicate."""
        manifest = read_manifest(self.folder)
        chosen = tuple(outcomes or manifest.get("report_outcomes") or HEADLINE_OUTCOMES)
        arm = reference or manifest["reference"]
        if arm not in set(self.runs["arm"]):
            raise ValueError(f"no arm named {arm!r}; arms: {', '.join(dict.fromkeys(self.runs['arm']))}")
        point = manifest.get("reference_point_index") if reference in (None, manifest["reference"]) else None
        return paired_differences(self.runs, arm, point, chosen)

    def decomposition(self, outcomes: list[str] | None = None) -> pd.DataFrame:
        """Each package's effect by lever (one lever at a time from the reference, the
        interaction, the package effect), as the report's last section; empty without
        ``decompose = true``."""
        from cryptoabm.batch.decomposition import decompose_runs

        manifest = read_manifest(self.folder)
        chosen = tuple(outcomes or manifest.get("report_outcomes") or HEADLINE_OUTCOMES)
        return decompose_runs(self.runs, manifest.get("decomposition") or {}, manifest["reference"], chosen)

    def report(self) -> Path:
        """Write (again) report.md and its figures; returns the report's path."""
        return write_report(self.folder)


def load(experiment: dict[str, Any] | str | Path, base_dir: str | Path | None = None,
         force: bool = False, base_seed: int | None = None) -> LoadedExperiment:
    """An experiment from a file or a dict, validated as ``cryptoabm batch`` validates it;
    ``base_seed`` replaces the experiment's own."""
    if isinstance(experiment, dict):
        if base_seed is not None:
            experiment = {**experiment, "base_seed": base_seed}
        text = json.dumps(experiment, sort_keys=True, default=str)
        where = Path(base_dir or Path.cwd()) / DICT_SOURCE
        return experiment_from_dict(experiment, where, hashlib.sha256(text.encode()).hexdigest(), force=force)
    return load_experiment(experiment, force=force, base_seed=base_seed)


def run_experiment(experiment: dict[str, Any] | str | Path, workers: int | None = None,
                   out: str | Path | None = None, resume: bool = False, progress: bool = True,
                   base_dir: str | Path | None = None, force: bool = False, csv: bool = False,
                   report: bool = True, base_seed: int | None = None) -> Results:
    """Run every run of an experiment (a dict or an experiment file) and return its results.

    ``workers``: 1 runs in this process; default, a pool of one worker per core unless the
    batch is too small to pay for starting one. ``report=False`` leaves out report.md and its
    figures (about half of a small batch's time). ``base_seed`` runs the experiment on other
    random numbers than its file's ``base_seed``. Raises ConfigError (one line) on bad input.
    """
    loaded = load(experiment, base_dir, force, base_seed)
    folder = Path(out) if out is not None else Path(tempfile.mkdtemp(prefix=f"cryptoabm-{loaded.experiment.name}-"))
    ensure_results_fit_on_disk(loaded.experiment, folder, force)
    placement = local_placement(workers, run_sizes(loaded))
    try:
        run_batch(loaded, folder, placement.make_executor, resume=resume, progress=progress, csv=csv)
    finally:
        placement.close()
    if report:
        write_report(folder)
    return Results(folder)
