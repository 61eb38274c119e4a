"""Citizen-steps per second of the full model (all five agent types, default scenario).

    python benchmarks/citizens.py              # 1k, 10k and 100k citizens, 120 months
    python benchmarks/citizens.py --sizes 1000000 --months 12

Prints, for each population size: the time to build the model (network included), the
time to run it, and citizen-steps per second (citizens x months / run time). Speed is
measured here, never in the tests.
"""

from __future__ import annotations

import argparse
import os
import platform
import time

from cryptoabm.config import Scenario
from cryptoabm.model import CryptoEconomy


def measure(citizens: int, months: int, seed: int) -> tuple[float, float]:
    scenario = Scenario().model_copy(update={
        "months": months,
        "population": Scenario().population.model_copy(update={"citizens": citizens}),
    })
    started = time.perf_counter()
    model = CryptoEconomy(scenario, seed=seed)
    built = time.perf_counter()
    model.run()
    finished = time.perf_counter()
    return built - started, finished - built


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", type=int, nargs="+", default=[1_000, 10_000, 100_000])
    parser.add_argument("--months", type=int, default=120)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    print(f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}")
    print(f"{'citizens':>10} {'months':>6} {'build s':>9} {'run s':>8} {'citizen-steps/s':>16}")
    for size in args.sizes:
        build_s, run_s = measure(size, args.months, args.seed)
        print(f"{size:>10,} {args.months:>6} {build_s:>9.2f} {run_s:>8.2f} {size * args.months / run_s:>16,.0f}")


if __name__ == "__main__":
    main()
