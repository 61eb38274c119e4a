"""Speed and scale of cryptoabm, side by side with plain Mesa and with a bare numpy kernel.

    python benchmarks/run.py             # everything, about two minutes; writes benchmarks/RESULTS.md
    python benchmarks/run.py --quick     # smaller sizes and one round, to try the script

Measured in one invocation, in alternating rounds, so that every ratio compares figures
taken moments apart on the same (noisy, shared) machine; the medians over rounds are reported.

1. Mesa's own BoltzmannWealth example (``mesa.examples``) at 1,000 and 10,000 agents, one agent
   per grid cell as in the example: agent-steps per second. The reference point for plain Mesa.
2. The full model (all five agent types, default scenario) at 1,000 to 1,000,000 citizens:
   citizen-steps per second (citizens x months / run time), the time to build the model, and
   peak memory per citizen (measured in a fresh child process: the rise of its peak resident
   memory over what it used after imports, divided by the citizens).
3. A bare kernel: the citizens' Bass adoption alone (hazard p + q x share of adopted contacts)
   on the very same network, as the leanest numpy/scipy loop: no Mesa, no other agents, no
   records. The floor the full model can approach but not beat.
4. Batch throughput of the headline experiment with 1 and 2 worker processes.

Targets (issue 5): the full model at 10,000 citizens at least 20x Boltzmann's agent-steps/s at
10,000 agents; within 3x of the bare kernel at 100,000 citizens and above; cost per
citizen-step at 1,000,000 within 1.5x of that at 10,000; at 1,000,000 citizens under 2 KB of
peak memory per citizen, and a build faster than running 12 months.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import subprocess
import sys
import time
from dataclasses import dataclass, field
from statistics import median
from pathlib import Path

import mesa
import numpy as np
import scipy
from batch import EXPERIMENT, batch_seconds
from mesa.examples import BoltzmannWealth
from mesa.examples.basic.boltzmann_wealth_model.model import BoltzmannScenario

from cryptoabm.batch.experiment import expand_runs, load_experiment
from cryptoabm.batch.runner import InProcessExecutor, process_pool
from cryptoabm.config import Scenario
from cryptoabm.model import CryptoEconomy

RESULTS = Path(__file__).with_name("RESULTS.md")
SEED = 1
BOLTZMANN_STEPS = 20
MONTHS = 120
MONTHS_AT_A_MILLION = 12  # the issue allows fewer months for the largest size
LARGE = 1_000_000

TARGET_VS_BOLTZMANN = 20.0
TARGET_VS_KERNEL = 3.0
TARGET_LINEAR_SCALING = 1.5
TARGET_BYTES_PER_CITIZEN = 2048
TARGET_BUILD_VS_12_MONTHS = 1.0


def machine() -> str:
    """CPU model, cores and software versions, for the results' header."""
    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo") as info:
            cpu = next(line.split(":", 1)[1].strip() for line in info if line.startswith("model name"))
    except (OSError, StopIteration):
        pass
    return (f"{cpu}, {os.cpu_count()} cores; Python {platform.python_version()}, Mesa {mesa.__version__}, "
            f"numpy {np.__version__}, scipy {scipy.__version__}")


def default_scenario(citizens: int, months: int) -> Scenario:
    scenario = Scenario()
    return scenario.model_copy(update={
        "months": months,
        "population": scenario.population.model_copy(update={"citizens": citizens}),
    })


def months_for(citizens: int) -> int:
    return MONTHS_AT_A_MILLION if citizens >= LARGE else MONTHS


# -- 1. plain Mesa ------------------------------------------------------------------------------
def boltzmann_agent_steps_per_s(agents: int) -> float:
    side = round(agents ** 0.5)  # one agent per cell, the example's own density
    model = BoltzmannWealth(BoltzmannScenario(n=agents, width=side, height=side, rng=SEED))
    started = time.perf_counter()
    for _ in range(BOLTZMANN_STEPS):
        model.step()
    return agents * BOLTZMANN_STEPS / (time.perf_counter() - started)


# -- 2. the full model ------------------------------------------------------------------------
@dataclass
class FullModelRun:
    build_s: float
    run_s: float
    model: CryptoEconomy = field(repr=False)


def full_model(citizens: int, months: int) -> FullModelRun:
    started = time.perf_counter()
    model = CryptoEconomy(default_scenario(citizens, months), seed=SEED)
    built = time.perf_counter()
    model.run()
    return FullModelRun(built - started, time.perf_counter() - built, model)


def resident_bytes(field_name: str) -> int:
    """This process's resident memory, bytes: ``VmRSS`` now or ``VmHWM`` its peak (Linux)."""
    with open("/proc/self/status") as status:
        line = next(line for line in status if line.startswith(field_name + ":"))
    return int(line.split()[1]) * 1024


def peak_memory_child(citizens: int, months: int) -> None:
    """Run in a fresh process: build and run one model, print the memory figures as JSON."""
    with open("/proc/self/clear_refs", "w") as clear_refs:
        clear_refs.write("5")  # resets the peak to the present (imports can peak higher than they end)
    before = resident_bytes("VmRSS")
    run = full_model(citizens, months)
    peak = resident_bytes("VmHWM")
    print(json.dumps({"before": before, "peak": peak, "build_s": run.build_s, "run_s": run.run_s}))


def peak_memory(citizens: int, months: int) -> dict:
    output = subprocess.run([sys.executable, __file__, "--memory-child", str(citizens), str(months)],
                            check=True, capture_output=True, text=True).stdout
    return json.loads(output)


# -- 3. the bare kernel -------------------------------------------------------------------------
def bare_bass_kernel(adjacency, innovation_p: float, imitation_q: float, months: int,
                     rng: np.random.Generator) -> np.ndarray:
    """Bass adoption on a network, as lean as numpy and scipy allow: each month every
    non-adopter adopts with probability p + q x (adopted contacts / contacts)."""
    citizens = adjacency.shape[0]
    contacts = np.diff(adjacency.indptr).astype(np.float32)
    per_contact = np.divide(np.float32(imitation_q), contacts, out=np.zeros(citizens, np.float32), where=contacts > 0)
    adopted = np.zeros(citizens, dtype=np.float32)
    draw = np.empty(citizens, dtype=np.float32)
    for _ in range(months):
        hazard = adjacency @ adopted
        hazard *= per_contact
        hazard += np.float32(innovation_p)
        rng.random(dtype=np.float32, out=draw)
        np.maximum(adopted, draw < hazard, out=adopted)
    return adopted


def bare_kernel_s(model: CryptoEconomy, months: int) -> float:
    adoption = model.config.adoption
    started = time.perf_counter()
    bare_bass_kernel(model.population.adjacency, adoption.innovation_p, adoption.imitation_q, months,
                     np.random.default_rng(SEED))
    return time.perf_counter() - started


# -- 4. batch throughput -------------------------------------------------------------------------
def batch_runs_per_s(workers: int) -> tuple[float, int]:
    loaded = load_experiment(EXPERIMENT)
    runs = len(expand_runs(loaded))
    make_executor = InProcessExecutor if workers == 1 else (lambda: process_pool(workers))
    return runs / batch_seconds(loaded, make_executor), runs


def worker_start_up_s() -> float:
    """Wall time for a fresh Python to import the batch runner (what the pool's fork server does)."""
    started = time.perf_counter()
    subprocess.run([sys.executable, "-c", "import cryptoabm.batch.runner"], check=True)
    return time.perf_counter() - started


# -- the report -----------------------------------------------------------------------------------
def verdict(met: bool) -> str:
    return "met" if met else "**missed**"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=3, help="alternating rounds (medians are reported)")
    parser.add_argument("--quick", action="store_true", help="sizes up to 100,000, one round, no batch; writes nothing")
    parser.add_argument("--memory-child", nargs=2, type=int, metavar=("CITIZENS", "MONTHS"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.memory_child:
        peak_memory_child(*args.memory_child)
        return

    sizes = [1_000, 10_000, 100_000] if args.quick else [1_000, 10_000, 100_000, LARGE]
    rounds = 1 if args.quick else args.rounds
    print(f"machine: {machine()}")
    print(f"{rounds} round(s); sizes {', '.join(f'{s:,}' for s in sizes)} citizens")

    boltzmann: dict[int, list[float]] = {1_000: [], 10_000: []}
    full_rate: dict[int, list[float]] = {s: [] for s in sizes}
    build: dict[int, list[float]] = {s: [] for s in sizes}
    run_time: dict[int, list[float]] = {s: [] for s in sizes}
    kernel_rate: dict[int, list[float]] = {s: [] for s in sizes}
    vs_kernel: dict[int, list[float]] = {s: [] for s in sizes}
    vs_boltzmann: list[float] = []
    for round_number in range(1, rounds + 1):
        for agents in boltzmann:
            boltzmann[agents].append(boltzmann_agent_steps_per_s(agents))
        for citizens in sizes:
            months = months_for(citizens)
            run = full_model(citizens, months)
            kernel_s = bare_kernel_s(run.model, months)
            del run.model
            steps = citizens * months
            full_rate[citizens].append(steps / run.run_s)
            kernel_rate[citizens].append(steps / kernel_s)
            vs_kernel[citizens].append(run.run_s / kernel_s)
            build[citizens].append(run.build_s)
            run_time[citizens].append(run.run_s)
        vs_boltzmann.append(full_rate[10_000][-1] / boltzmann[10_000][-1])
        print(f"  round {round_number}: full model at 10,000 {full_rate[10_000][-1]:,.0f} citizen-steps/s, "
              f"Boltzmann at 10,000 {boltzmann[10_000][-1]:,.0f} agent-steps/s")

    memory = {citizens: peak_memory(citizens, months_for(citizens)) for citizens in sizes}
    batch = {} if args.quick else {workers: batch_runs_per_s(workers) for workers in (1, 2)}
    if batch:
        # the same batch again: the pool's fork server (started by the batch above) is running
        warm_two_workers = batch_runs_per_s(2)[0]
        import_s = worker_start_up_s()

    lines = [f"Machine: {machine()}.", "",
             f"`python benchmarks/run.py`, {datetime.date.today().isoformat()}; {rounds} alternating rounds, "
             "medians. Seed 1, default scenario.", ""]
    lines += ["| Mesa BoltzmannWealth | agent-steps/s |", "|---:|---:|"]
    lines += [f"| {agents:,} agents | {median(rates):,.0f} |" for agents, rates in boltzmann.items()]
    lines += ["", "| citizens | months | build s | run s | citizen-steps/s | bare kernel citizen-steps/s "
              "| full / kernel time | ns per citizen-step | peak memory per citizen | process peak |",
              "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for citizens in sizes:
        months = months_for(citizens)
        mem = memory[citizens]
        per_citizen = (mem["peak"] - mem["before"]) / citizens
        lines.append(f"| {citizens:,} | {months} | {median(build[citizens]):.3f} | {median(run_time[citizens]):.3f} "
                     f"| {median(full_rate[citizens]):,.0f} | {median(kernel_rate[citizens]):,.0f} "
                     f"| {median(vs_kernel[citizens]):.2f}x | {1e9 / median(full_rate[citizens]):.1f} "
                     f"| {per_citizen:,.0f} B | {mem['peak'] / 2**20:,.0f} MiB |")
    if batch:
        runs = batch[1][1]
        lines += ["", f"| batch: {EXPERIMENT.stem}, {runs} runs | runs/s |", "|---|---:|"]
        lines += [f"| {workers} worker{'s' if workers > 1 else ''} | {rate:.1f} |" for workers, (rate, _) in batch.items()]
        lines.append(f"| 2 workers, fork server already running | {warm_two_workers:.1f} |")
        lines += ["", f"A process pool's one-off start-up is a fresh Python importing the model: {import_s:.2f} s here, "
                  f"against {runs / batch[1][0]:.2f} s for the whole batch in one process."]

    largest = max(sizes)
    cost_ratio = median(full_rate[10_000]) / median(full_rate[largest])
    large_mem = memory[largest]
    bytes_per_citizen = (large_mem["peak"] - large_mem["before"]) / largest
    per_month = median(run_time[largest]) / months_for(largest)
    build_vs_12 = median(build[largest]) / (12 * per_month)
    kernel_sizes = [s for s in sizes if s >= 100_000]
    worst_kernel = max(median(vs_kernel[s]) for s in kernel_sizes)
    ratio_rows = [
        ("full model at 10,000 / Boltzmann at 10,000 (steps/s)", f"{median(vs_boltzmann):.1f}x",
         f">= {TARGET_VS_BOLTZMANN:.0f}x", median(vs_boltzmann) >= TARGET_VS_BOLTZMANN),
        *[(f"full model / bare kernel at {s:,} (time)", f"{median(vs_kernel[s]):.2f}x", f"<= {TARGET_VS_KERNEL:.0f}x",
           median(vs_kernel[s]) <= TARGET_VS_KERNEL) for s in kernel_sizes],
        (f"cost per citizen-step at {largest:,} / at 10,000", f"{cost_ratio:.2f}x", f"<= {TARGET_LINEAR_SCALING}x",
         cost_ratio <= TARGET_LINEAR_SCALING),
        (f"peak memory per citizen at {largest:,}", f"{bytes_per_citizen:,.0f} B", f"< {TARGET_BYTES_PER_CITIZEN:,} B",
         bytes_per_citizen < TARGET_BYTES_PER_CITIZEN),
        (f"build time / 12 months' run at {largest:,}", f"{build_vs_12:.2f}", f"< {TARGET_BUILD_VS_12_MONTHS:.0f}",
         build_vs_12 < TARGET_BUILD_VS_12_MONTHS),
    ]
    if batch:
        speedup = batch[2][0] / batch[1][0]
        ratio_rows.append(("batch throughput, 2 workers / 1", f"{speedup:.2f}x", "(issue 3: >= 1.7x)", speedup >= 1.7))
        warm = warm_two_workers / batch[1][0]
        ratio_rows.append(("batch throughput, 2 workers (fork server running) / 1", f"{warm:.2f}x", "(issue 3: >= 1.7x)",
                           warm >= 1.7))
    lines += ["", "| ratio | measured | target | |", "|---|---:|---:|---|"]
    lines += [f"| {name} | {value} | {target} | {verdict(met)} |" for name, value, target, met in ratio_rows]
    if worst_kernel > TARGET_VS_KERNEL:
        lines.append(f"\nThe full model is {worst_kernel:.2f}x the bare kernel at its slowest size.")
    text = "\n".join(lines) + "\n"
    print()
    print(text)
    if not args.quick:
        RESULTS.write_text("# Benchmark results\n\nWritten by `python benchmarks/run.py`; rerun it to refresh. "
                           "What each figure means is in the script's docstring.\n\n" + text)
        print(f"written to {RESULTS}")


if __name__ == "__main__":
    main()
