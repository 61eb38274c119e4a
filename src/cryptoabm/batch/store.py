"""The results folder of a batch: crash-safe, resumable, merged at the end.

    DIR/manifest.json          experiment hash, versions, git commit, the full design with seeds, timings
    DIR/runs/<run_id>.parquet  one file per finished run (its monthly rows and its outcomes)
    DIR/runs/<run_id>.failed.json   a run that raised: parameters, seed, traceback
    DIR/timeseries.parquet     all runs' kept months, tidy: run_id, arm, parameters, replicate, seed, month, metrics
    DIR/runs.parquet           one row per run: end-of-horizon and cumulative outcomes

Every file is written to a temporary name and renamed into place, so a crash never leaves a
half-written result; a run's file exists only once the run is complete.
"""

from __future__ import annotations

import json
import os
import subprocess
from collections.abc import Callable
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from cryptoabm.batch.experiment import LoadedExperiment, RunSpec

MANIFEST = "manifest.json"
RUNS_DIR = "runs"
TIMESERIES = "timeseries.parquet"
RUNS_TABLE = "runs.parquet"
OUTCOMES_KEY = b"cryptoabm.outcomes"
DEPENDENCIES = ("mesa", "numpy", "scipy", "pandas", "pyarrow", "networkx", "pydantic", "dask", "distributed")


class StoreError(Exception):
    """A results folder that cannot be used as asked (one plain line)."""


def write_atomically(path: Path, write: Callable[[Path], Any]) -> None:
    """Write via a temporary name in the same folder, then rename into place."""
    temporary = path.with_name(f".{path.name}.partial")
    write(temporary)
    os.replace(temporary, path)


def _package_version(name: str) -> str | None:
    try:
        return version(name)
    except PackageNotFoundError:
        return None


def _git_commit() -> str | None:
    try:
        done = subprocess.run(["git", "rev-parse", "HEAD"], capture_output=True, text=True, timeout=5,
                              cwd=Path(__file__).resolve().parent)
    except (OSError, subprocess.SubprocessError):
        return None
    return done.stdout.strip() or None if done.returncode == 0 else None


class ResultStore:
    """One batch's results folder."""

    def __init__(self, folder: Path):
        self.folder = Path(folder)
        self.runs_folder = self.folder / RUNS_DIR

    # -- starting and resuming ------------------------------------------------------------
    def open(self, loaded: LoadedExperiment, runs: list[RunSpec], resume: bool) -> None:
        """Create the folder and manifest, or check it belongs to this experiment when resuming."""
        manifest_path = self.folder / MANIFEST
        if manifest_path.exists():
            manifest = json.loads(manifest_path.read_text())
            if not resume:
                raise StoreError(f"{self.folder} already holds results of a batch; add --resume to finish it, "
                                 f"or choose another --out")
            if manifest.get("experiment_sha256") != loaded.file_hash:
                raise StoreError(f"{loaded.path} has changed since the batch in {self.folder} started "
                                 f"(its hash differs); run it into a new --out folder")
            return
        self.folder.mkdir(parents=True, exist_ok=True)
        self.runs_folder.mkdir(exist_ok=True)
        manifest = {
            "experiment": loaded.experiment.name,
            "experiment_file": str(loaded.path),
            "experiment_sha256": loaded.file_hash,
            "question": loaded.experiment.question,
            "reference": loaded.experiment.reference,
            "reference_point": loaded.experiment.reference_point,
            "cryptoabm_version": _package_version("cryptoabm"),
            "git_commit": _git_commit(),
            "dependencies": {name: _package_version(name) for name in DEPENDENCIES},
            "design": [
                {"run_id": r.run_id, "arm": r.arm, "point": r.point, "label": r.label, "params": r.params,
                 "replicate": r.replicate, "seed": r.seed}
                for r in runs
            ],
            "timings": {},
        }
        write_atomically(manifest_path, lambda p: p.write_text(json.dumps(manifest, indent=1) + "\n"))

    def finished_run_ids(self) -> set[str]:
        return {p.name.removesuffix(".parquet") for p in self.runs_folder.glob("*.parquet")}

    # -- one run ------------------------------------------------------------------------
    def save_run(self, spec: RunSpec, table: pa.Table, outcomes: dict[str, float]) -> None:
        """Write one finished run's kept months, with its outcomes in the file's metadata."""
        arrow = table.replace_schema_metadata({OUTCOMES_KEY: json.dumps(outcomes).encode()})
        write_atomically(self.runs_folder / f"{spec.run_id}.parquet",
                         # small per-run files are written plain (no compression, statistics or
                         # dictionaries): cheap to write, and they are merged into compressed tables
                         lambda p: pq.write_table(arrow, p, compression="none", write_statistics=False,
                                                  use_dictionary=False))
        failed = self.runs_folder / f"{spec.run_id}.failed.json"
        failed.unlink(missing_ok=True)

    def save_failure(self, spec: RunSpec, error: str) -> None:
        record = {"run_id": spec.run_id, "arm": spec.arm, "params": spec.params, "replicate": spec.replicate,
                  "seed": spec.seed, "error": error}
        write_atomically(self.runs_folder / f"{spec.run_id}.failed.json",
                         lambda p: p.write_text(json.dumps(record, indent=1) + "\n"))

    def record_timings(self, timings: dict[str, float]) -> None:
        """Add run times (seconds) to the manifest; they are not part of the result tables."""
        path = self.folder / MANIFEST
        manifest = json.loads(path.read_text())
        manifest["timings"].update(timings)
        write_atomically(path, lambda p: p.write_text(json.dumps(manifest, indent=1) + "\n"))

    # -- the merged tables ----------------------------------------------------------------
    def merge(self, in_memory: dict[str, tuple[pa.Table, dict[str, float]]] | None = None) -> None:
        """Merge finished runs, in design order, into the tidy timeseries and runs tables.

        Runs finished in this session are taken from ``in_memory``; the others are read from
        their files (they finished before a resume). Either way the tables are the same.
        """
        in_memory = in_memory or {}
        manifest = json.loads((self.folder / MANIFEST).read_text())
        design = manifest["design"]
        param_keys = sorted({key for run in design for key in run["params"]})
        series_parts, outcome_rows = [], []
        for run in design:
            if run["run_id"] in in_memory:
                table, outcomes = in_memory[run["run_id"]]
            else:
                path = self.runs_folder / f"{run['run_id']}.parquet"
                if not path.exists():
                    continue
                table = pq.read_table(path)
                outcomes = json.loads(table.schema.metadata[OUTCOMES_KEY])
            ids = {"run_id": run["run_id"], "arm": run["arm"], "point": run["point"], "label": run["label"],
                   **{key: run["params"].get(key) for key in param_keys},
                   "replicate": run["replicate"], "seed": run["seed"]}
            constant_columns = {name: pa.array([value] * table.num_rows) for name, value in ids.items()}
            series_parts.append(pa.table({**constant_columns, **{name: table[name] for name in table.column_names}}))
            outcome_rows.append({**ids, **outcomes})
        timeseries = pa.concat_tables(series_parts, promote_options="permissive") if series_parts else pa.table({})
        runs_table = pd.DataFrame(outcome_rows)
        write_atomically(self.folder / TIMESERIES, lambda p: pq.write_table(timeseries.replace_schema_metadata(None), p))
        write_atomically(self.folder / RUNS_TABLE, lambda p: runs_table.to_parquet(p, index=False))
