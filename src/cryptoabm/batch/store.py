"""The results folder of a batch: locked, provenance-checked, crash-safe, resumable.

    DIR/manifest.json          the SHA-256 of every input, versions, git commit, the design with seeds, timings
    DIR/runs/arm=<arm>/<run_id>.parquet   one ROW per finished run: its ids, design values, seed and
                               outcomes as real columns; a Parquet dataset partitioned by arm (hive
                               style) that pl.scan_parquet, duckdb and R arrow read lazily. A count or a
                               mean over it counts each run once.
    DIR/timeseries/arm=<arm>/<run_id>.parquet   the run's kept months, one row a month: its ids and
                               design values, the month and the metrics (no outcomes: nothing there
                               repeats a run's totals on every month)
    DIR/failed/<run_id>.json   a run that raised: parameters, seed, traceback
    DIR/corrupt/               run files found unreadable on a resume, set aside (the runs are rerun)
    DIR/timeseries.parquet     all runs' kept months, tidy: run_id, arm, parameters, replicate, seed, month, metrics
    DIR/runs.parquet           one row per run: end-of-horizon and cumulative outcomes
    DIR/.lock                  held (filelock: cryptoabm.folder_lock) while a batch writes here; the OS releases it on any exit
    DIR/.lock.pid              the process holding the lock, named to a second batch

Every file is written to a temporary name and renamed into place, so a crash never leaves a
half-written result; a run's months are written first and its row last, so a run is finished
exactly when its row exists. A temporary file
left by a kill is removed when the batch resumes.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.dataset as ds
import pyarrow.parquet as pq

from cryptoabm.batch.experiment import (
    LoadedExperiment,
    RunSpec,
    design_points,
    file_sha256,
    kept_row_count,
    run_parameters,
)
from cryptoabm import folder_lock
from cryptoabm.config import NONE_WORD, InputError
from cryptoabm.folder_lock import LOCK, LOCK_HOLDER, FolderLock
from cryptoabm.provenance import code_difference, code_record

MANIFEST = "manifest.json"
RUNS_DIR = "runs"
SERIES_DIR = "timeseries"
FAILED_DIR = "failed"
CORRUPT_DIR = "corrupt"
TIMESERIES = "timeseries.parquet"
RUNS_TABLE = "runs.parquet"
INPUTS_KEY = b"cryptoabm.inputs_sha256"  # a run file's record of the inputs it was run from
DEPENDENCIES = ("mesa", "numpy", "scipy", "pandas", "pyarrow", "networkx", "pydantic", "dask", "distributed")
PARTITION = "arm"
CHECKSUMS = "run_sha256"  # the manifest's record of the SHA-256 of every run's row file (runs/)
SERIES_CHECKSUMS = "timeseries_sha256"  # ... and of every run's months file (timeseries/)
CHECKSUM_SAVE_SECONDS = 2.0  # how often the manifest is saved while runs finish
# each finished run's checksums, appended as it is saved and folded into the manifest at its next
# save: a kill between two saves loses no finished run (a resume reads them from here)
CHECKSUM_JOURNAL = ".checksums.journal"


@dataclass(frozen=True)
class RunTables:
    """One finished run as its two files hold it: its row in runs/ and its months in timeseries/."""

    row: pa.Table
    months: pa.Table


class StoreError(InputError):
    """A results folder that cannot be used as asked (one plain line)."""


class FolderBusy(StoreError, folder_lock.FolderBusy):
    """Another batch holds the results folder's lock."""


def write_atomically(path: Path, write: Callable[[Path], Any]) -> None:
    """Write via a temporary name in the same folder, then rename into place; on any
    failure (a full disk, say) the temporary file is removed."""
    temporary = path.with_name(f".{path.name}.partial")
    try:
        write(temporary)
        os.replace(temporary, path)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise


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


# -- design values as typed columns ------------------------------------------------------
def design_column_types(points: Iterable[dict[str, Any]]) -> dict[str, pa.DataType]:
    """One Arrow type per design key, so every run's file and the merged tables agree.

    Numbers with "none" (the word that lifts a cap) become a numeric column with nulls;
    whole numbers stay integers; anything else mixed becomes text.
    """
    values: dict[str, list[Any]] = {}
    for point in points:
        for key, value in point.items():
            values.setdefault(key, []).append(value)
    return {key: _column_type([v for v in found if not _is_none(v)]) for key, found in values.items()}


def _is_none(value: Any) -> bool:
    return value is None or (isinstance(value, str) and value.strip().lower() == NONE_WORD)


def _column_type(values: list[Any]) -> pa.DataType:
    if values and all(isinstance(v, bool) for v in values):
        return pa.bool_()
    if all(isinstance(v, int) and not isinstance(v, bool) for v in values):
        return pa.int64()
    if all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in values):
        return pa.float64()
    return pa.string()


def design_value(value: Any, kind: pa.DataType) -> Any:
    """A design value as its column holds it: None for "none", text in a text column."""
    if _is_none(value):
        return None
    if kind == pa.string():
        return value if isinstance(value, str) else json.dumps(value)
    return float(value) if kind == pa.float64() else value


# -- reading run files ------------------------------------------------------------------
def run_file_problem(path: Path, expected_rows: int, inputs_digest: str) -> str | None:
    """Why a run file cannot be used as a finished run (unreadable, truncated, from other inputs), or None."""
    try:
        metadata = pq.read_metadata(path)
    except (OSError, pa.ArrowException) as exc:
        return f"unreadable ({str(exc).splitlines()[0][:120]})"
    if metadata.num_rows != expected_rows:
        return f"holds {metadata.num_rows} rows, not {expected_rows}"
    recorded = (metadata.metadata or {}).get(INPUTS_KEY)
    if recorded is None or recorded.decode() != inputs_digest:
        return "was written from other inputs"
    return None


def read_run_file(path: Path) -> pa.Table:
    """One run's file as a table (without its partition column, which its folder names)."""
    return pq.ParquetFile(path).read().replace_schema_metadata(None)


def results_dataset(folder: Path) -> ds.Dataset:
    """The batch's runs as one lazy pyarrow dataset, one row per run (the arm comes from the folder names)."""
    return ds.dataset(Path(folder) / RUNS_DIR, format="parquet", partitioning="hive")


def timeseries_dataset(folder: Path) -> ds.Dataset:
    """The batch's kept months as one lazy pyarrow dataset, one row per run and month."""
    return ds.dataset(Path(folder) / SERIES_DIR, format="parquet", partitioning="hive")


class ResultStore:
    """One batch's results folder. Use as a context manager: the lock is held inside."""

    def __init__(self, folder: Path):
        self.folder = Path(folder)
        self.runs_folder = self.folder / RUNS_DIR
        self.series_folder = self.folder / SERIES_DIR
        self.failed_folder = self.folder / FAILED_DIR
        self.warnings: list[str] = []
        self._lock_handle = None
        self._created = False
        self._manifest: dict[str, Any] = {}
        self._column_types: dict[str, pa.DataType] = {}
        self._inputs_digest = ""
        self._expected_rows = 0
        self._saved_at = time.monotonic()

    # -- the lock -------------------------------------------------------------------------
    def __enter__(self) -> ResultStore:
        self._make_folder()
        self._lock()
        try:
            self._refuse_foreign_contents()  # again, now that no other batch can be writing into the folder
        except StoreError:
            self.release()
            raise
        return self

    def __exit__(self, *exc: object) -> None:
        self.release()

    def release(self) -> None:
        """Let go of the folder's lock (the OS does so too if the process dies)."""
        if self._lock_handle is not None:
            self._lock_handle.release()
            self._lock_handle = None

    def _make_folder(self) -> None:
        if self.folder.exists() and not self.folder.is_dir():
            raise StoreError(f"--out {self.folder} is a file, not a folder")
        self._created = not self.folder.exists()
        if not self._created and not (self.folder / LOCK).exists():
            self._refuse_foreign_contents()  # before anything is written into someone else's folder
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise StoreError(f"cannot create the results folder {self.folder}: {exc.strerror or exc}") from None
        if not os.access(self.folder, os.W_OK | os.X_OK):
            raise StoreError(f"cannot write into the results folder {self.folder}: permission denied")

    def _refuse_foreign_contents(self) -> None:
        """Refuse a folder that holds files but no batch. A folder with a lock file is checked only
        once its lock is held: a batch starting into it this instant creates its folders before
        its manifest, and a second batch must then be told the folder is in use, not foreign."""
        others = sorted(p.name for p in self.folder.iterdir() if p.name not in (LOCK, LOCK_HOLDER))
        if others and not (self.folder / MANIFEST).exists():
            raise StoreError(f"--out {self.folder} is not empty and holds no cryptoabm batch (no {MANIFEST}; it "
                             f"holds {', '.join(others[:3])}); choose a new or empty folder")

    def _lock(self) -> None:
        lock = FolderLock(self.folder, "batch")
        try:
            lock.acquire()
        except folder_lock.FolderBusy as exc:
            raise FolderBusy(str(exc)) from None
        except InputError as exc:
            self._discard_created()
            raise StoreError(f"cannot write into the results folder {self.folder}: {exc}") from None
        self._lock_handle = lock

    def _discard_created(self) -> None:
        """Remove the folder this batch created, if it failed before writing a result."""
        if self._created:
            self.release()
            shutil.rmtree(self.folder, ignore_errors=True)

    # -- starting and resuming ------------------------------------------------------------
    def prepare(self, loaded: LoadedExperiment) -> None:
        """Learn what this experiment's run files hold: design column types, inputs, row count."""
        self._column_types = design_column_types(run_parameters(loaded.experiment, loaded.posterior))
        self._inputs_digest = loaded.inputs_digest
        experiment = loaded.experiment
        self._expected_rows = kept_row_count(experiment.horizon_months, experiment.record_every_months)

    def open(self, loaded: LoadedExperiment, runs: list[RunSpec], resume: bool) -> None:
        """Write the manifest, or, when resuming, check every input is unchanged and set aside
        any run file that cannot be used (the run is then rerun)."""
        self.prepare(loaded)
        manifest_path = self.folder / MANIFEST
        try:
            previous = self._read_manifest(manifest_path, resume)
            if previous is not None and not resume:
                raise StoreError(f"{self.folder} already holds results of a batch; add --resume to finish it, "
                                 f"or choose another --out")
            if previous is not None and "inputs" not in previous:
                raise StoreError(f"{self.folder} was started by an older cryptoabm that did not record its inputs' "
                                 f"hashes, so a resume cannot be checked; run the batch into a new --out folder")
            if previous is not None:
                check_unchanged(previous["inputs"], loaded.inputs, self.folder)
                check_same_code(previous.get("code"), self.folder)
                if previous.get("base_seed", loaded.experiment.base_seed) != loaded.experiment.base_seed:
                    raise StoreError(f"the batch in {self.folder} was started with base_seed "
                                     f"{previous['base_seed']}, this one has {loaded.experiment.base_seed}; "
                                     f"resume with --base-seed {previous['base_seed']}, or choose another --out")
            self._manifest = previous or self._new_manifest(loaded, runs)
            self._manifest.setdefault(CHECKSUMS, {})
            self._manifest.setdefault(SERIES_CHECKSUMS, {})
            self.runs_folder.mkdir(exist_ok=True)
            self.series_folder.mkdir(exist_ok=True)
            if previous is None:  # a journal without its manifest vouches for nothing
                (self.folder / CHECKSUM_JOURNAL).unlink(missing_ok=True)
                self._write_manifest()
            else:
                self._fold_in_journal()
            self._remove_partials()
            self._set_aside_unusable(runs)
        except BaseException:
            if not manifest_path.exists():
                self._discard_created()  # nothing of this batch is left behind
            raise

    def _read_manifest(self, path: Path, resume: bool) -> dict[str, Any] | None:
        if not path.exists():
            return None
        try:
            manifest = json.loads(path.read_text())
            if not isinstance(manifest, dict) or "design" not in manifest:
                raise ValueError("not a batch manifest")
            return manifest
        except (OSError, ValueError, UnicodeDecodeError) as exc:
            if not resume:
                raise StoreError(f"{self.folder} already holds results of a batch; add --resume to finish it, "
                                 f"or choose another --out") from None
            self._set_aside(path, f"unreadable ({type(exc).__name__})")
            return None

    def _new_manifest(self, loaded: LoadedExperiment, runs: list[RunSpec]) -> dict[str, Any]:
        experiment = loaded.experiment
        points = design_points(experiment)
        reference_point = experiment.reference_point
        return {
            "experiment": experiment.name,
            "experiment_file": str(loaded.path.resolve()),  # absolute: rerun and replay work from any folder
            "experiment_sha256": loaded.file_hash,
            "inputs": loaded.inputs,
            "question": experiment.question,
            "reference": experiment.reference,
            "reference_point": reference_point,
            "reference_point_index": None if reference_point is None else points.index(reference_point),
            "report_outcomes": list(experiment.report_outcomes),
            "uncertainty": dict(experiment.uncertainty.ranges),
            "posterior": experiment.uncertainty.posterior,  # drawn per replicate (posterior_keys)
            "posterior_keys": list(loaded.posterior.keys) if loaded.posterior is not None else [],
            "standing_levers": dict(experiment.standing_levers),
            "decomposition": loaded.decomposition,  # the one-lever arms of decompose = true
            "display_names": {arm.name: arm.display_name for arm in experiment.arms if arm.display_name},
            "start_months": {arm: scenario.start_month for arm, scenario in loaded.arm_scenarios.items()},
            "cryptoabm_version": _package_version("cryptoabm"),
            "code": code_record(),  # version, source hash, packaged data files: compared on --resume
            "git_commit": _git_commit(),
            "dependencies": {name: _package_version(name) for name in DEPENDENCIES},
            "design_columns": {key: str(kind) for key, kind in self._column_types.items()},
            "design_spec": experiment.design.model_dump(mode="json"),  # what `cryptoabm sensitivity` analyses
            "base_seed": experiment.base_seed,
            "design": [
                {"run_id": r.run_id, "arm": r.arm, "point": r.point, "label": r.label, "params": r.params,
                 "replicate": r.replicate, "seed": r.seed}
                for r in runs
            ],
            "timings": {},
            CHECKSUMS: {},  # run id -> SHA-256 of its row file, verified on resume and merge
            SERIES_CHECKSUMS: {},  # run id -> SHA-256 of its months file, verified likewise
        }

    def _write_manifest(self) -> None:
        text = json.dumps(self._manifest, indent=1) + "\n"
        write_atomically(self.folder / MANIFEST, lambda p: p.write_text(text))
        (self.folder / CHECKSUM_JOURNAL).unlink(missing_ok=True)  # the manifest now holds every checksum in it
        self._saved_at = time.monotonic()

    def _journal_checksum(self, kind: str, run_id: str, digest: str) -> None:
        """Append a (kind, run id, SHA-256) line for a file just written (one write, flushed)."""
        with open(self.folder / CHECKSUM_JOURNAL, "a", encoding="utf-8") as journal:
            journal.write(json.dumps([kind, run_id, digest]) + "\n")

    def _fold_in_journal(self) -> None:
        """On a resume: the checksums of runs finished after the manifest's last save (a line cut
        short by a kill is ignored: its run has no checksum and is run again)."""
        journal = self.folder / CHECKSUM_JOURNAL
        if not journal.exists():
            return
        design = {run["run_id"] for run in self._manifest["design"]}
        for line in journal.read_text(encoding="utf-8", errors="replace").splitlines():
            try:
                kind, run_id, digest = json.loads(line)
            except (ValueError, TypeError):
                continue
            if kind in (CHECKSUMS, SERIES_CHECKSUMS) and run_id in design and isinstance(digest, str):
                self._manifest[kind].setdefault(run_id, digest)
        self._write_manifest()

    def _remove_partials(self) -> None:
        """Temporary files a killed batch left behind (nobody else writes here: we hold the lock),
        only where the batch writes them: beside its tables, and among its run and failure files."""
        for pattern in (".*.partial", f"{RUNS_DIR}/{PARTITION}=*/.*.parquet.partial",
                        f"{SERIES_DIR}/{PARTITION}=*/.*.parquet.partial", f"{FAILED_DIR}/.*.json.partial"):
            for partial in self.folder.glob(pattern):
                partial.unlink(missing_ok=True)

    def _set_aside_unusable(self, runs: list[RunSpec]) -> None:
        """Run rows and months that cannot be used; a row whose months are unusable goes with them."""
        expected = {self.run_path(spec.arm, spec.run_id): spec for spec in runs}
        expected_series = {self.series_path(spec.arm, spec.run_id): spec for spec in runs}
        for path in sorted(self.series_folder.rglob("*.parquet")):
            problem = ("belongs to no run of this experiment" if path not in expected_series else
                       self.checksum_problem(path) or run_file_problem(path, self._expected_rows, self._inputs_digest))
            if problem:
                self._set_aside(path, problem)
        for path in sorted(self.runs_folder.rglob("*.parquet")):
            spec = expected.get(path)
            if spec is None:
                self._set_aside(path, "belongs to no run of this experiment")
                continue
            problem = (self.checksum_problem(path) or run_file_problem(path, 1, self._inputs_digest))
            if problem is None and not self.series_path(spec.arm, spec.run_id).exists():
                problem = "has no months in timeseries/"
            if problem:
                self._set_aside(path, problem)
        self._write_manifest()

    def _checksums_of(self, path: Path) -> dict[str, str]:
        """The manifest's checksums for a run file of this kind: its row (runs/) or its months (timeseries/)."""
        kind = SERIES_CHECKSUMS if path.is_relative_to(self.series_folder) else CHECKSUMS
        return self._manifest.setdefault(kind, {})

    def checksum_problem(self, path: Path) -> str | None:
        """Why a run file is not the file this batch wrote (no checksum recorded, or another), or None."""
        recorded = self._checksums_of(path).get(path.stem)
        if recorded is None:
            return "has no checksum in the manifest (written after the manifest was last saved)"
        if file_sha256(path) != recorded:
            return "does not match its checksum in the manifest (the file changed after it was written)"
        return None

    def verify_stored(self, run_ids: Iterable[str]) -> list[str]:
        """Check the stored files of these runs (row and months) against their checksums; when
        either does not match, both are set aside (a warning each) and the run id returned, to be
        run again."""
        design = {run["run_id"]: run for run in self._manifest["design"]}
        bad = []
        for run_id in run_ids:
            arm = design[run_id]["arm"]
            paths = [p for p in (self.run_path(arm, run_id), self.series_path(arm, run_id)) if p.exists()]
            problems = {path: self.checksum_problem(path) for path in paths}
            if any(problems.values()):
                for path in paths:
                    self._set_aside(path, problems[path] or "goes with its run's other file, which changed")
                bad.append(run_id)
        if bad:
            self._write_manifest()
        return bad

    def _set_aside(self, path: Path, why: str) -> None:
        target_folder = self.folder / CORRUPT_DIR
        target_folder.mkdir(exist_ok=True)
        target = target_folder / f"{path.name}.corrupt"
        counter = 1
        while target.exists():
            counter += 1
            target = target_folder / f"{path.name}.{counter}.corrupt"
        os.replace(path, target)
        if path.suffix == ".parquet":
            self._checksums_of(path).pop(path.stem, None)
        relative = path.relative_to(self.folder)
        self.warnings.append(f"{relative} {why}: set aside as {target.relative_to(self.folder)}"
                             + ("; its run will be run again" if path.suffix == ".parquet" else ""))

    def run_path(self, arm: str, run_id: str) -> Path:
        """Where a run's row lives: its arm's partition folder of runs/."""
        return self.runs_folder / f"{PARTITION}={arm}" / f"{run_id}.parquet"

    def series_path(self, arm: str, run_id: str) -> Path:
        """Where a run's months live: its arm's partition folder of timeseries/."""
        return self.series_folder / f"{PARTITION}={arm}" / f"{run_id}.parquet"

    def finished_run_ids(self) -> set[str]:
        return {p.name.removesuffix(".parquet") for p in self.runs_folder.rglob("*.parquet")}

    # -- one run ------------------------------------------------------------------------
    def run_ids_table(self, spec: RunSpec, rows: int) -> dict[str, pa.Array]:
        """A run's ids and design values, repeated over ``rows`` rows."""
        ids: dict[str, pa.Array] = {
            "run_id": pa.array([spec.run_id] * rows, pa.string()),
            "point": pa.array([spec.point] * rows, pa.int64()),
            "label": pa.array([spec.label] * rows, pa.string()),
        }
        for key, kind in self._column_types.items():
            ids[key] = pa.array([design_value(spec.params.get(key), kind)] * rows, kind)
        ids["replicate"] = pa.array([spec.replicate] * rows, pa.int64())
        ids["seed"] = pa.array([spec.seed] * rows, pa.int64())
        return ids

    def run_file_tables(self, spec: RunSpec, table: pa.Table, outcomes: dict[str, float]) -> RunTables:
        """A run's two files: its row (ids, design values, outcomes) and its kept months (ids, months)."""
        metadata = {INPUTS_KEY: self._inputs_digest.encode()}
        row = pa.table({**self.run_ids_table(spec, 1),
                        **{name: pa.array([value], pa.float64()) for name, value in outcomes.items()}})
        months = pa.table({**self.run_ids_table(spec, table.num_rows),
                           **{name: table[name] for name in table.column_names}})
        return RunTables(row.replace_schema_metadata(metadata), months.replace_schema_metadata(metadata))

    def save_run(self, spec: RunSpec, table: pa.Table, outcomes: dict[str, float]) -> RunTables:
        """Write one finished run's months, then its row (which marks it finished), recording each
        file's SHA-256 in the manifest; returns both tables."""
        tables = self.run_file_tables(spec, table, outcomes)
        for kind, path, written in ((SERIES_CHECKSUMS, self.series_path(spec.arm, spec.run_id), tables.months),
                                    (CHECKSUMS, self.run_path(spec.arm, spec.run_id), tables.row)):
            path.parent.mkdir(parents=True, exist_ok=True)

            def write_and_vouch(temporary: Path, kind: str = kind, written: pa.Table = written) -> None:
                # the checksum is journalled before the file takes its name: a file in place always has one
                pq.write_table(written, temporary, compression="none", write_statistics=False)
                digest = file_sha256(temporary)
                self._manifest.setdefault(kind, {})[spec.run_id] = digest
                self._journal_checksum(kind, spec.run_id, digest)

            write_atomically(path, write_and_vouch)
        if time.monotonic() - self._saved_at > CHECKSUM_SAVE_SECONDS:
            self._write_manifest()
        (self.failed_folder / f"{spec.run_id}.json").unlink(missing_ok=True)
        return tables

    def save_failure(self, spec: RunSpec, error: str) -> None:
        record = {"run_id": spec.run_id, "arm": spec.arm, "params": spec.params, "replicate": spec.replicate,
                  "seed": spec.seed, "error": error}
        self.failed_folder.mkdir(exist_ok=True)
        write_atomically(self.failed_folder / f"{spec.run_id}.json",
                         lambda p: p.write_text(json.dumps(record, indent=1) + "\n"))

    def record_timings(self, timings: dict[str, float]) -> None:
        """Add run times (seconds) to the manifest; they are not part of the result tables."""
        self._manifest["timings"].update(timings)
        self._write_manifest()

    # -- the merged tables ----------------------------------------------------------------
    def merge(self, in_memory: dict[str, RunTables] | None = None) -> None:
        """Merge finished runs, in design order, into the tidy timeseries and runs tables.

        Runs finished in this session are taken from ``in_memory`` (their files' tables); the
        others are read from their files. Either way the tables are the same.
        """
        in_memory = in_memory or {}
        series_parts, run_rows = [], []
        for run in self._manifest["design"]:
            tables = in_memory.get(run["run_id"])
            if tables is None:
                path = self.run_path(run["arm"], run["run_id"])
                if not path.exists():
                    continue
                series = self.series_path(run["arm"], run["run_id"])
                for stored in (path, series):
                    problem = self.checksum_problem(stored) if stored.exists() else "is missing"
                    if problem:  # verify_stored ran just before: a file changed during the merge
                        raise StoreError(f"{stored} {problem}; resume the batch to run it again")
                tables = RunTables(read_run_file(path), read_run_file(series))
            for part, parts in ((tables.row, run_rows), (tables.months, series_parts)):
                part = part.replace_schema_metadata(None)
                parts.append(part.add_column(1, PARTITION, pa.array([run["arm"]] * part.num_rows, pa.string())))
        timeseries = pa.concat_tables(series_parts, promote_options="permissive") if series_parts else pa.table({})
        runs_table = pa.concat_tables(run_rows, promote_options="permissive") if run_rows else pa.table({})
        write_atomically(self.folder / TIMESERIES, lambda p: pq.write_table(timeseries, p))
        write_atomically(self.folder / RUNS_TABLE, lambda p: pq.write_table(runs_table, p))

    def export_csv(self) -> list[Path]:
        """The merged tables as CSV too (timeseries.csv, runs.csv), for spreadsheets and R."""
        return export_csv(self.folder)


def export_csv(folder: Path) -> list[Path]:
    """Write ``timeseries.csv`` and ``runs.csv`` next to the batch's Parquet tables."""
    import pyarrow.csv as pacsv

    written = []
    for name in (TIMESERIES, RUNS_TABLE):
        source = Path(folder) / name
        target = source.with_suffix(".csv")
        table = pq.read_table(source)
        if "seed" in table.column_names:  # 19-digit seeds as text: a spreadsheet would round a number
            table = table.set_column(table.column_names.index("seed"), "seed", table["seed"].cast(pa.string()))
        write_atomically(target, lambda p, t=table: pacsv.write_csv(t, p))
        written.append(target)
    return written


def read_manifest(folder: Path) -> dict[str, Any]:
    """A batch folder's manifest; StoreError (one line) if there is none or it is unreadable."""
    path = Path(folder) / MANIFEST
    if not path.is_file():
        raise StoreError(f"{folder} holds no batch (no {MANIFEST})")
    try:
        manifest = json.loads(path.read_text())
    except (OSError, ValueError, UnicodeDecodeError) as exc:
        raise StoreError(f"{path} is unreadable ({type(exc).__name__}); resume the batch to rebuild it") from None
    if not isinstance(manifest, dict) or "design" not in manifest:
        raise StoreError(f"{path} is not a batch manifest")
    return manifest


def check_same_code(recorded: dict[str, Any] | None, folder: Path) -> None:
    """Refuse to resume with other code than the batch started with (version, source, data files)."""
    difference = code_difference(recorded, code_record())
    if difference:
        raise StoreError(f"{difference} since the batch in {folder} started; run it into a new --out folder, "
                         f"or resume it with the code it was started with")


def check_unchanged(recorded: dict[str, str], current: dict[str, str], folder: Path) -> None:
    """Refuse to resume if any input's content changed, or the set of inputs did."""
    for path in sorted(set(recorded) | set(current)):
        if path not in current:
            raise StoreError(f"{path} is no longer an input of the experiment since the batch in {folder} started; "
                             f"run it into a new --out folder")
        if path not in recorded:
            raise StoreError(f"{path} is a new input of the experiment since the batch in {folder} started; "
                             f"run it into a new --out folder")
        if recorded[path] != current[path]:
            raise StoreError(f"{path} has changed since the batch in {folder} started (its SHA-256 differs); "
                             f"run it into a new --out folder, or restore the file")

