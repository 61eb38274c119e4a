"""Batch runner speed: its overhead per run, and throughput with 2 workers against 1.

    python benchmarks/batch.py

1. Overhead: the headline experiment run by ``run_batch`` in this process (``--workers 1``:
   per-run outcomes, result files, manifest and the merged tables, everything but the
   report) against the same runs as bare ``CryptoEconomy(...).run()`` calls. Target: the
   runner adds under 5% to a run.
2. Throughput: the same batch with 2 worker processes against 1. Target: at least 1.7x.

The measurements alternate (bare, batch 1 worker, batch 2 workers, bare, ...) and each
round's ratios compare measurements taken moments apart; the script prints the median and the
range of those ratios, since a shared machine's noise (several percent) is as large as the
overhead being measured.
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

EXPERIMENT = Path(__file__).resolve().parents[1] / "experiments" / "turkmenistan_options.toml"
ROUNDS = 7


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
    print(f"experiment: {loaded.experiment.name}, {len(specs)} runs; {ROUNDS} alternating rounds")
    bare, one, two = [], [], []
    for _ in range(ROUNDS):
        bare.append(bare_runs(specs))
        one.append(batch_seconds(loaded, InProcessExecutor))
        two.append(batch_seconds(loaded, lambda: process_pool(2)))
    # each round's ratio compares measurements taken moments apart; the median resists noise
    overheads = sorted(b1 / b0 - 1 for b0, b1 in zip(bare, one, strict=True))
    speedups = sorted(b1 / b2 for b1, b2 in zip(one, two, strict=True))
    median = overheads[len(overheads) // 2]
    print(f"bare model runs:           {min(bare):7.2f} s best  ({min(bare) / len(specs) * 1000:.1f} ms a run)")
    print(f"batch, 1 worker:           {min(one):7.2f} s best  runner overhead, median of rounds {median:+.1%} "
          f"(range {overheads[0]:+.1%} to {overheads[-1]:+.1%}; target < 5%)")
    print(f"batch, 2 worker processes: {min(two):7.2f} s best  throughput, median of rounds "
          f"{speedups[len(speedups) // 2]:.2f}x of 1 worker (range {speedups[0]:.2f}-{speedups[-1]:.2f}x; target >= 1.7x)")

if __name__ == "__main__":
    main()
