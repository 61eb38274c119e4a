"""Running a batch: any ``concurrent.futures`` executor, failure isolation, progress, resume.

The experiment says *what* to run (:mod:`.experiment`), the executor decides *where* (in this
process, a process pool over the cores, or a Dask cluster), and the store decides where the
results go (:mod:`.store`). The model knows nothing of any of them.

- A run that raises is recorded with its parameters, seed and traceback; the batch goes on.
- A worker process that dies takes only its own run with it: the pool is rebuilt, the runs
  it lost go back in the queue, and each is then retried alone, so the one that kills its
  worker is identified and recorded as failed.
- Ctrl-C stops cleanly; every finished run is already on disk, and ``--resume`` finishes the rest.
- Worker processes die with the batch, even when only its main process is killed (a
  parent-death signal and a watchdog on the batch's process in each worker).
- Runs in flight: on a Dask cluster, its real total thread count (read again as the cluster
  grows or shrinks; Dask queues nothing more); on a process pool, two per worker (one running,
  one queued, so a worker never waits for this process between short runs).
"""

from __future__ import annotations

import contextlib
import ctypes
import multiprocessing
import os
import signal
import sys
import threading
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

from cryptoabm.batch.drawing import native_threads_allowed
from cryptoabm.batch.experiment import LoadedExperiment, RunSpec, expand_runs
from cryptoabm.batch.progress import ProgressBar, stop_progress_monitor
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


PR_SET_PDEATHSIG = 1  # linux/prctl.h
WATCHDOG_SECONDS = 0.5  # how often a worker checks that its batch is still alive
CAPACITY_REFRESH_SECONDS = 2.0  # how often a Dask cluster's thread count is read again
POOL_RUNS_PER_WORKER = 2  # a process pool keeps one run queued per worker besides the one it runs


def _worker_setup(batch_pid: int) -> None:
    """Initializer of every worker process: leave Ctrl-C to the batch, and die with it."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the batch stops cleanly on Ctrl-C
    _die_with_parent()
    threading.Thread(target=_watch_batch, args=(batch_pid,), name="cryptoabm-watchdog", daemon=True).start()


def _die_with_parent() -> None:
    """Ask Linux to kill this process when its parent (the fork server) dies."""
    if not sys.platform.startswith("linux"):
        return
    try:
        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    except (OSError, AttributeError):
        pass  # the watchdog still covers it


def _watch_batch(batch_pid: int) -> None:
    """Exit this worker as soon as the batch's main process is gone (killed, even with SIGKILL)."""
    while True:
        time.sleep(WATCHDOG_SECONDS)
        try:
            os.kill(batch_pid, 0)
        except ProcessLookupError:
            os._exit(1)
        except PermissionError:
            pass  # alive, owned by someone else: cannot happen for our own parent, but harmless


def process_pool(workers: int) -> ProcessPoolExecutor:
    """A pool of worker processes, started at once.

    From a process with no other thread (the command line: see :mod:`cryptoabm.batch.progress`
    for tqdm's monitor thread), the workers are forked from this process
    itself: they start with the model already imported, in milliseconds. Otherwise (Dask's
    client or a notebook runs threads, and forking a threaded process can deadlock) they are
    forked from a clean server process that imports the model first, a second or two once.

    The fork server and the workers are started with Ctrl-C held back (a second or two), so
    that an interrupt during start-up ends the batch with one clean line, instead of
    tracebacks from the server's imports or from workers starting after it has gone.
    """
    pool = None
    stop_progress_monitor()  # a bar other than the batch's own (a caller's) may have started tqdm's monitor
    with _ctrl_c_held_back() as interrupted:
        if threading.active_count() == 1 and "fork" in multiprocessing.get_all_start_methods():
            context = multiprocessing.get_context("fork")
        else:
            from multiprocessing import forkserver

            context = multiprocessing.get_context("forkserver")
            context.set_forkserver_preload(["cryptoabm.batch.runner"])
            forkserver.ensure_running()  # inherits the blocked SIGINT; ignores it once ready
        pool = ProcessPoolExecutor(max_workers=workers, mp_context=context, initializer=_worker_setup,
                                   initargs=(os.getpid(),))
        if hasattr(pool, "_launch_processes"):
            with native_threads_allowed():
                pool._launch_processes()  # every worker now, not one per submit later
    if interrupted:
        _stop_workers(pool)
        raise KeyboardInterrupt
    return pool


@contextlib.contextmanager
def _ctrl_c_held_back():
    """Hold SIGINT back inside the block: blocked in this thread (so that processes started
    here inherit the block) and, if another thread takes it, only noted. Yields a list that
    is non-empty afterwards if Ctrl-C was pressed meanwhile."""
    from multiprocessing import resource_tracker

    resource_tracker.ensure_running()  # first: starting it unblocks SIGINT in this thread again
    pressed: list[int] = []
    try:
        previous = signal.signal(signal.SIGINT, lambda signum, frame: pressed.append(signum))
    except ValueError:  # not the main thread: Ctrl-C is not ours to handle
        yield pressed
        return
    blocked = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})
    try:
        yield pressed
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, blocked)  # a Ctrl-C blocked meanwhile arrives now
        signal.signal(signal.SIGINT, previous)


def worker_threads(executor: Executor) -> int:
    """How many runs the executor can work on at once: its real worker (thread) count."""
    if isinstance(executor, InProcessExecutor):
        return 1
    workers = getattr(executor, "_max_workers", None)  # concurrent.futures pools
    if workers:
        return int(workers)
    if _is_dask(executor):  # Dask's ClientExecutor
        client = executor._client
        try:
            return max(1, sum(client.nthreads().values()))
        except Exception:  # noqa: BLE001 - a scheduler that does not answer: keep going with one
            return 1
    return os.cpu_count() or 1


def shutdown_executor(executor: Executor) -> None:
    """Stop an executor without waiting, dropping queued work (where the executor allows it).

    A process pool whose workers were started but never given work has no manager thread to
    tell them to stop, so they are ended here; otherwise they would wait for work for ever and
    hold this process open at exit."""
    idle_workers = []
    if isinstance(executor, ProcessPoolExecutor) and getattr(executor, "_executor_manager_thread", True) is None:
        idle_workers = list((getattr(executor, "_processes", None) or {}).values())
    try:
        executor.shutdown(wait=False, cancel_futures=True)
    except TypeError:  # Dask's ClientExecutor has no cancel_futures
        executor.shutdown(wait=False)
    for process in idle_workers:
        process.terminate()
        process.join(timeout=5)


def _stop_workers(executor: Executor) -> None:
    """On an interrupt: end a process pool's workers at once (SIGTERM: no traceback), so that
    none goes on with a run, or starts up after this process has gone."""
    for process in list((getattr(executor, "_processes", None) or {}).values()):
        try:
            process.terminate()
        except (OSError, ValueError, AttributeError):
            pass


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
    warn: Callable[[str], None] = lambda line: print(f"cryptoabm: warning: {line}", file=sys.stderr),
    csv: bool = False,
) -> BatchOutcome:
    """Run every missing run of the experiment into ``out_dir``, then merge the tables.

    ``make_executor`` builds a fresh executor (called again if a process pool breaks);
    ``isolate_on_crash`` builds a one-worker executor for retrying runs lost in a crash
    (default: a one-process pool). The results folder is locked throughout; ``warn`` gets
    one line for each unusable file set aside on a resume. ``csv`` also writes the merged
    tables as CSV.
    """
    started = time.perf_counter()
    runs = expand_runs(loaded)
    with ResultStore(out_dir) as store:
        store.open(loaded, runs, resume)
        for line in store.warnings:
            warn(line)
        shown = len(store.warnings)
        try:
            return _run_into(store, loaded, runs, make_executor, run_function, progress, isolate_on_crash, csv,
                             started)
        finally:
            for line in store.warnings[shown:]:  # files set aside when checked again before the merge
                warn(line)


def _run_into(store: ResultStore, loaded: LoadedExperiment, runs: list[RunSpec],
              make_executor: Callable[[], Executor], run_function: Callable[[RunSpec], RunResult], progress: bool,
              isolate_on_crash: Callable[[], Executor] | None, csv: bool, started: float) -> BatchOutcome:
    """Run the missing runs into an opened, locked store, then merge (and export) the tables."""
    done = store.finished_run_ids()
    todo = [run for run in runs if run.run_id not in done]
    # the executor first, before this process starts any thread (writer, progress bar), so
    # that a process pool can fork its workers from here (see process_pool)
    first_executor = make_executor() if todo else None
    failed: list[str] = []
    timings: dict[str, float] = {}
    finished_now: dict[str, Future] = {}  # run id -> its files' write, whose result is the tables written
    # Result files are written by one background thread (Parquet writing releases the GIL),
    # overlapping with the next run; it is drained before merging, and on any stop.
    writer = ThreadPoolExecutor(max_workers=1, thread_name_prefix="cryptoabm-writer")
    writes: list[Future] = []
    bar = ProgressBar(total=len(runs), initial=len(runs) - len(todo), desc=loaded.experiment.name, unit="run",
                      disable=not progress, dynamic_ncols=True, mininterval=0.5)

    def record(spec: RunSpec, result: RunResult) -> None:
        timings[spec.run_id] = round(result.seconds, 4)
        if result.error is None:
            finished_now[spec.run_id] = writer.submit(store.save_run, spec, result.table, result.outcomes)
            writes.append(finished_now[spec.run_id])
        else:
            writes.append(writer.submit(store.save_failure, spec, result.error))
            failed.append(spec.run_id)
        bar.update(1)
        bar.set_postfix(failed=len(failed))

    try:
        lost = _run_pool(todo, make_executor, run_function, record, executor=first_executor)
        for spec in lost:  # each run lost in a worker crash, retried alone
            isolated = (isolate_on_crash or (lambda: process_pool(1)))()
            leftover = _run_pool([spec], lambda executor=isolated: executor, run_function, record, rebuild=False)
            for crashed in leftover:
                record(crashed, RunResult(crashed.run_id, None, None,
                                          "the worker process running this run died (killed or crashed)", 0.0))
        # the files of earlier sessions, checked against their checksums again before they are
        # merged: one that changed meanwhile is set aside and its run is run again
        changed = set(store.verify_stored(done))
        again = [run for run in runs if run.run_id in changed]
        if again:
            todo += again
            _run_pool(again, make_executor, run_function, record)
    finally:
        writer.shutdown(wait=True)  # every finished run reaches the disk, even on Ctrl-C
        bar.close()
        if timings:
            store.record_timings(timings)
    for write in writes:
        write.result()  # a failed write (a full disk, say) is an error of the batch
    store.merge({run_id: write.result() for run_id, write in finished_now.items()})
    if csv:
        store.export_csv()
    return BatchOutcome(len(runs), len(runs) - len(failed), failed, len(runs) - len(todo),
                        time.perf_counter() - started)


def _run_pool(
    todo: list[RunSpec],
    make_executor: Callable[[], Executor],
    run_function: Callable[[RunSpec], RunResult],
    record: Callable[[RunSpec, RunResult], None],
    rebuild: bool = True,
    executor: Executor | None = None,
) -> list[RunSpec]:
    """Submit runs, keeping at most a few per worker in flight; returns runs lost to worker
    crashes (when ``rebuild``, the pool is rebuilt and the rest continue). ``executor``: one
    already made by ``make_executor``, to start with."""
    queue = list(reversed(todo))
    lost: list[RunSpec] = []
    executor = executor if executor is not None else make_executor()
    capacity = _Capacity(executor)
    pending: dict[Future, RunSpec] = {}
    try:
        while queue or pending:
            while queue and len(pending) < capacity.in_flight_limit():
                spec = queue.pop()
                try:
                    pending[executor.submit(run_function, spec)] = spec
                except BrokenProcessPool:
                    queue.append(spec)
                    break
            if not pending:
                shutdown_executor(executor)
                executor = make_executor()
                capacity = _Capacity(executor)
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
                shutdown_executor(executor)
                if not rebuild or not queue:
                    break
                executor = make_executor()
                capacity = _Capacity(executor)
    except BaseException:
        _stop_workers(executor)
        raise
    finally:
        shutdown_executor(executor)
    return lost


class _Capacity:
    """The in-flight limit of an executor: a Dask cluster's real total thread count, or two
    runs per process-pool worker; read again every few seconds so that a growing Dask cluster
    is used at full width."""

    def __init__(self, executor: Executor):
        self.executor = executor
        self.per_thread = 1 if _is_dask(executor) else POOL_RUNS_PER_WORKER
        self.threads = worker_threads(executor)
        self.read_at = time.monotonic()

    def in_flight_limit(self) -> int:
        if time.monotonic() - self.read_at > CAPACITY_REFRESH_SECONDS:
            self.threads = worker_threads(self.executor)
            self.read_at = time.monotonic()
        return self.per_thread * self.threads


def _is_dask(executor: Executor) -> bool:
    return getattr(executor, "_client", None) is not None
