"""The spread over many seeds: A and B run on N seeds in the background, and each headline
figure's B - A shown as a median line with a 5-95% band, with the share of seeds where B > A.

One draw's B - A mixes the policy's effect with the luck of that seed's price path, population
and network. Here the same pair is run on seeds ``s, s + 1, ..., s + N - 1`` (``s`` the page's
seed, so the one-draw story is the first of them); within a seed A and B share every draw
(common random numbers), so each seed's B - A is a paired difference and the band is the
spread of the policy's effect across worlds, not of two independent runs.

The runs go to a pool of worker processes shared by every session (one worker per core, as
the batch runner starts them: :func:`cryptoabm.batch.runner.process_pool`); each finished seed
is added to the view as it arrives. A session that closes, or starts another comparison,
cancels the seeds not yet started.
"""

from __future__ import annotations

import os
import threading
from concurrent.futures import Future
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from cryptoabm.config import Scenario, scenario_from_dict
from cryptoabm.model import INDICATOR_NAMES, CryptoEconomy
from cryptoabm.viz.figures import Figure, figures_for

DEFAULT_SEEDS = 20
MAX_SEEDS = 200
BAND = (0.05, 0.95)  # the band's quantiles (the batch report's)

_pool_lock = threading.Lock()
_pool = None


def seeds_for(first: int, count: int) -> list[int]:
    """The seeds of the view: the page's seed and the next ``count - 1``."""
    return [first + k for k in range(count)]


def paired_differences(scenario_a: dict[str, Any], scenario_b: dict[str, Any], seed: int,
                       keys: tuple[str, ...]) -> dict[str, list[float]]:
    """One seed: A and B run to the horizon, and each figure's B - A month by month (by key).
    Plain data in and out, so that it runs in a worker process."""
    figures = {figure.key: figure for figure in figures_for(INDICATOR_NAMES)}
    tables = [CryptoEconomy(scenario_from_dict(raw), seed=seed).run() for raw in (scenario_a, scenario_b)]
    rows_a, rows_b = (table.to_dict("records") for table in tables)
    return {key: [b - a for a, b in zip(figure_paths(rows_a, figures[key]), figure_paths(rows_b, figures[key]))]
            for key in keys}


def figure_paths(table_rows: list[dict[str, Any]], figure: Figure) -> list[float]:
    """A figure month by month over a run's rows (cumulative figures summed as they go)."""
    return [figure.read(table_rows[:m]) for m in range(1, len(table_rows) + 1)]


def shared_pool():
    """The worker processes every session's seeds run on. The server starts them from its main
    thread before it serves (:func:`cryptoabm.viz.server.serve`): started from a page's thread,
    the fork server's semaphores can vanish before a worker opens them."""
    global _pool
    with _pool_lock:
        if _pool is None:
            from cryptoabm.batch.runner import process_pool

            _pool = process_pool(os.cpu_count() or 1)
        return _pool


def stop_shared_pool() -> None:
    """Stop the workers (the server's exit): queued seeds are dropped, and workers that never had
    a seed are ended (as the batch runner ends its idle workers: nothing else tells them to)."""
    global _pool
    from cryptoabm.batch.runner import shutdown_executor

    with _pool_lock:
        if _pool is not None:
            shutdown_executor(_pool)
            _pool = None


@dataclass(eq=False)
class SeedsRun:
    """N seeds of a pair of scenarios, running in the background; ``done`` fills in as they finish."""

    scenario_a: Scenario
    scenario_b: Scenario
    seeds: list[int]
    figures: tuple[Figure, ...]
    done: dict[int, dict[str, list[float]]] = field(default_factory=dict)  # seed -> key -> B - A by month
    failed: list[str] = field(default_factory=list)
    futures: list[Future] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)
    cancelled: threading.Event = field(default_factory=threading.Event)

    def start(self, on_seed=None, executor=None) -> None:
        """Submit every seed; ``on_seed()`` is called (from a pool thread) as each finishes."""
        executor = executor or shared_pool()
        raw_a, raw_b = self.scenario_a.model_dump(mode="json"), self.scenario_b.model_dump(mode="json")
        keys = tuple(figure.key for figure in self.figures)
        for seed in self.seeds:
            future = executor.submit(paired_differences, raw_a, raw_b, seed, keys)
            future.add_done_callback(lambda done, seed=seed: self._finished(seed, done, on_seed))
            self.futures.append(future)

    def _finished(self, seed: int, future: Future, on_seed) -> None:
        if future.cancelled():
            return
        error = future.exception()
        with self.lock:
            if error is None:
                self.done[seed] = future.result()
            else:
                self.failed.append(f"seed {seed}: {type(error).__name__}: {error}".splitlines()[0])
        if on_seed is not None:
            on_seed()

    def cancel(self) -> None:
        """Drop the seeds not yet started (those running finish, unseen)."""
        self.cancelled.set()
        for future in self.futures:
            future.cancel()

    @property
    def complete(self) -> bool:
        return len(self.done) + len(self.failed) >= len(self.seeds)

    def summary(self) -> dict[str, dict[str, Any]]:
        """Per figure: the seeds finished so far, month by month the median and the 5-95% band of
        B - A, and at the last month the share of seeds where B > A."""
        with self.lock:
            done = {seed: paths for seed, paths in self.done.items()}
        summary = {}
        for figure in self.figures:
            paths = np.array([done[seed][figure.key] for seed in sorted(done)], dtype=float)
            if paths.size == 0:
                summary[figure.key] = {"seeds": 0, "months": [], "median": [], "low": [], "high": [],
                                       "p_b_above_a": float("nan")}
                continue
            summary[figure.key] = {
                "seeds": len(paths),
                "months": list(range(1, paths.shape[1] + 1)),
                "median": np.median(paths, axis=0).tolist(),
                "low": np.quantile(paths, BAND[0], axis=0).tolist(),
                "high": np.quantile(paths, BAND[1], axis=0).tolist(),
                "p_b_above_a": float(np.mean(paths[:, -1] > 0)),
            }
        return summary
