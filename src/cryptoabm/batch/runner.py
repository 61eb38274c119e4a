"""Running a batch: any ``concurrent.futures`` executor, failure isolation, progress, resume.

The experiment says *what* to run (:mod:`.experiment`), the executor decides *where* (in this
process, a process pool over the cores, or a Dask cluster), and the store decides where the
results go (:mod:`.store`). The model knows nothing of any of them.

- A run that raises is recorded with its parameters, seed and traceback; the batch goes on.
- A worker process that dies takes only its own run with it: the pool is rebuilt, the runs
  it lost go back in the queue, and each is then retried alone, so the one that kills its
  worker is identified and recorded as failed.
- Ctrl-C stops cleanly; every finished run is already on disk, and ``--resume`` finishes the rest.
"""

from __future__ import annotations

import multiprocessing
import os
import signal
import time
import traceback
from collections.abc import Callable, Iterable
from concurrent.futures import FIRST_COMPLETED, Executor, Future, ProcessPoolExecutor, ThreadPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
from tqdm import tqdm

from cryptoabm.batch.experiment import LoadedExperiment, RunSpec, expand_runs
from cryptoabm.batch.store import ResultStore
from cryptoabm.config import scenario_from_dict
from cryptoabm.model import CryptoEconomy
from cryptoabm.summary import summarise


@dataclass(frozen=True)
class RunResult:
    """What a worker sends back: the kept months and outcomes, or the error."""

    run_id: str
    table: pa.Table | None  # the kept months (Arrow: cheap to send between processes and to write)
    outcomes: dict[str, float] | None
    error: str | None
    seconds: float


def kept_months(table: pd.DataFrame | dict[str, np.ndarray], metrics: Iterable[str],
                record_every_months: int | str) -> pa.Table:
    """The rows and columns an experiment keeps: every k-th month (and always the last), or the end only."""
    columns = ["month", "date", *[m for m in metrics if m not in ("month", "date")]]
    months = len(table["month"])
    if record_every_months == "end":
        rows = [months - 1]
    else:
        rows = sorted({*range(record_every_months - 1, months, int(record_every_months)), months - 1})
    every_month = len(rows) == months
    return pa.table({c: (np.asarray(table[c]) if every_month else np.asarray(table[c])[rows]) for c in columns})


def execute_run(spec: RunSpec) -> RunResult:
    """Run one model and return its kept months and outcomes; never raises (errors are data)."""
    started = time.perf_counter()
    try:
        model = CryptoEconomy(scenario_from_dict(spec.scenario), seed=spec.seed)
        table = model.run()
        columns = {name: table[name].to_numpy() for name in table.columns}  # extracted once, used twice
        outcomes = summarise(columns)
        kept = kept_months(columns, spec.metrics, spec.record_every_months)
        return RunResult(spec.run_id, kept, outcomes, None, time.perf_counter() - started)
    except Exception:  # noqa: BLE001 - a failing run is recorded, not fatal to the batch
        return RunResult(spec.run_id, None, None, traceback.format_exc(), time.perf_counter() - started)


class InProcessExecutor(Executor):
    """Runs each task at once in this process (``--workers 1``): no pickling, no overhead."""

    def submit(self, fn, /, *args, **kwargs) -> Future:
        future: Future = Future()
        try:
            future.set_result(fn(*args, **kwargs))
        except BaseException as exc:  # noqa: BLE001 - handed to the caller through the future
            future.set_exception(exc)
        return future


def _ignore_interrupts() -> None:
    # Workers leave Ctrl-C to the parent, which stops the batch cleanly.
    signal.signal(signal.SIGINT, signal.SIG_IGN)


def process_pool(workers: int) -> ProcessPoolExecutor:
    """A pool of worker processes forked from a clean server process that has the model
    already imported (safe even when this process runs threads, as Dask's client does)."""
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload(["cryptoabm.batch.runner"])
    return ProcessPoolExecutor(max_workers=workers, mp_context=context, initializer=_ignore_interrupts)


def _shutdown(executor: Executor) -> None:
    """Stop an executor without waiting, dropping queued work (where the executor allows it)."""
    try:
        executor.shutdown(wait=False, cancel_futures=True)
    except TypeError:  # Dask's ClientExecutor has no cancel_futures
        executor.shutdown(wait=False)


@dataclass
class BatchOutcome:
    total: int
    finished: int
    failed: list[str]
    skipped: int
    seconds: float


def run_batch(
    loaded: LoadedExperiment,
    out_dir: Path,
    make_executor: Callable[[], Executor],
    resume: bool = False,
    run_function: Callable[[RunSpec], RunResult] = execute_run,
    progress: bool = True,
    isolate_on_crash: Callable[[], Executor] | None = None,
) -> BatchOutcome:
    """Run every missing run of the experiment into ``out_dir``, then merge the tables.

    ``make_executor`` builds a fresh executor (called again if a process pool breaks);
    ``isolate_on_crash`` builds a one-worker executor for retrying runs lost in a crash
    (default: a one-process pool).
    """
    started = time.perf_counter()
    runs = expand_runs(loaded)
    store = ResultStore(out_dir)
    store.open(loaded, runs, resume)
    done = store.finished_run_ids()
    todo = [run for run in runs if run.run_id not in done]
    failed: list[str] = []
    timings: dict[str, float] = {}
    finished_now: dict[str, tuple[pa.Table, dict[str, float]]] = {}
    # Result files are written by one background thread (Parquet writing releases the GIL),
    # overlapping with the next run; it is drained before merging, and on any stop.
    writer = ThreadPoolExecutor(max_workers=1, thread_name_prefix="cryptoabm-writer")
    writes: list[Future] = []
    bar = tqdm(total=len(runs), initial=len(runs) - len(todo), desc=loaded.experiment.name, unit="run",
               disable=not progress, dynamic_ncols=True, mininterval=0.5)

    def record(spec: RunSpec, result: RunResult) -> None:
        timings[spec.run_id] = round(result.seconds, 4)
        if result.error is None:
            writes.append(writer.submit(store.save_run, spec, result.table, result.outcomes))
            finished_now[spec.run_id] = (result.table, result.outcomes)
        else:
            writes.append(writer.submit(store.save_failure, spec, result.error))
            failed.append(spec.run_id)
        bar.update(1)
        bar.set_postfix(failed=len(failed))

    try:
        lost = _run_pool(todo, make_executor, run_function, record)
        for spec in lost:  # each run lost in a worker crash, retried alone
            isolated = (isolate_on_crash or (lambda: process_pool(1)))()
            leftover = _run_pool([spec], lambda executor=isolated: executor, run_function, record, rebuild=False)
            for crashed in leftover:
                record(crashed, RunResult(crashed.run_id, None, None,
                                          "the worker process running this run died (killed or crashed)", 0.0))
    finally:
        writer.shutdown(wait=True)  # every finished run reaches the disk, even on Ctrl-C
        bar.close()
        if timings:
            store.record_timings(timings)
    for write in writes:
        write.result()  # a failed write (a full disk, say) is an error of the batch
    store.merge(finished_now)
    return BatchOutcome(len(runs), len(runs) - len(failed), failed, len(runs) - len(todo),
                        time.perf_counter() - started)


def _run_pool(
    todo: list[RunSpec],
    make_executor: Callable[[], Executor],
    run_function: Callable[[RunSpec], RunResult],
    record: Callable[[RunSpec, RunResult], None],
    rebuild: bool = True,
) -> list[RunSpec]:
    """Submit runs, keeping at most a few per worker in flight; returns runs lost to worker
    crashes (when ``rebuild``, the pool is rebuilt and the rest continue)."""
    queue = list(reversed(todo))
    lost: list[RunSpec] = []
    executor = make_executor()
    in_flight_limit = 2 * max(1, getattr(executor, "_max_workers", os.cpu_count() or 1))
    pending: dict[Future, RunSpec] = {}
    try:
        while queue or pending:
            while queue and len(pending) < in_flight_limit:
                spec = queue.pop()
                try:
                    pending[executor.submit(run_function, spec)] = spec
                except BrokenProcessPool:
                    queue.append(spec)
                    break
            if not pending:
                _shutdown(executor)
                executor = make_executor()
                continue
            finished, _ = wait(pending, return_when=FIRST_COMPLETED)
            broken = False
            for future in finished:
                spec = pending.pop(future)
                try:
                    record(spec, future.result())
                except BrokenProcessPool:
                    lost.append(spec)
                    broken = True
                except Exception as exc:  # noqa: BLE001 - e.g. a Dask worker lost for good
                    record(spec, RunResult(spec.run_id, None, None, f"{type(exc).__name__}: {exc}", 0.0))
            if broken:
                # the pool is gone: every run still in flight was lost with it
                lost.extend(pending.values())
                pending.clear()
                _shutdown(executor)
                if not rebuild:
                    break
                executor = make_executor()
    finally:
        _shutdown(executor)
    return lost
