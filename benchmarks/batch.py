"""Batch runner speed: its overhead per run, and throughput with 2 workers against 1.

    python benchmarks/batch.py

1. Overhead: the headline experiment run by ``run_batch`` in this process (``--workers 1``:
   per-run outcomes, result files, manifest and the merged tables, everything but the
   report) against the same runs as bare ``CryptoEconomy(...).run()`` calls. Target: the
   runner adds under 5% to a run.
2. Throughput: the same batch with 2 worker processes against 1. Target: at least 1.7x.

The measurements alternate (bare, batch, bare, batch, ...) and each side keeps its best
time, so a noisy machine slows both sides alike; the figures are ratios from one run of this
script.
"""

from __future__ import annotations

import os
import platform
import tempfile
import time
from pathlib import Path

from cryptoabm.batch.experiment import expand_runs, load_experiment
from cryptoabm.batch.runner import InProcessExecutor, process_pool, run_batch
from cryptoabm.config import scenario_from_dict
from cryptoabm.model import CryptoEconomy

EXPERIMENT = Path(__file__).resolve().parents[1] / "experiments" / "central_asia_regimes.toml"
ROUNDS = 5


def bare_runs(specs) -> float:
    started = time.perf_counter()
    for spec in specs:
        CryptoEconomy(scenario_from_dict(spec.scenario), seed=spec.seed).run()
    return time.perf_counter() - started


def batch_seconds(loaded, make_executor) -> float:
    with tempfile.TemporaryDirectory() as folder:
        started = time.perf_counter()
        run_batch(loaded, Path(folder) / "out", make_executor, progress=False)
        return time.perf_counter() - started


def main() -> None:
    loaded = load_experiment(EXPERIMENT)
    specs = expand_runs(loaded)
    print(f"machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}")
    print(f"experiment: {loaded.experiment.name}, {len(specs)} runs; best of {ROUNDS} alternating rounds")
    bare, one, two = [], [], []
    for _ in range(ROUNDS):
        bare.append(bare_runs(specs))
        one.append(batch_seconds(loaded, InProcessExecutor))
        two.append(batch_seconds(loaded, lambda: process_pool(2)))
    bare_s, one_s, two_s = min(bare), min(one), min(two)
    print(f"bare model runs:           {bare_s:7.2f} s  ({bare_s / len(specs) * 1000:.1f} ms a run)")
    print(f"batch, 1 worker:           {one_s:7.2f} s  runner overhead {one_s / bare_s - 1:+.1%} (target < 5%)")
    print(f"batch, 2 worker processes: {two_s:7.2f} s  throughput {one_s / two_s:.2f}x of 1 worker (target >= 1.7x)")


if __name__ == "__main__":
    main()
