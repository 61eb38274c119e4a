"""Speed and scale of cryptoabm, measured honestly on a shared machine; writes benchmarks/RESULTS.md.

    python benchmarks/run.py                  # everything, about 25-30 minutes on 2 cores
    python benchmarks/run.py --quick          # smaller sizes, 3 rounds, no study or national row; writes nothing
    python benchmarks/run.py --json after.json --before before.json   # keep the figures; compare with a run of another commit
    python benchmarks/run.py --render after.json --before before.json # rewrite RESULTS.md from kept figures

To compare two commits with this one script, run it with ``PYTHONPATH=<other checkout>/src``
and ``--json before.json --no-write``, then here with ``--before before.json``: every table
gains a "before" column. Every command the script starts (``python -m cryptoabm``) inherits
the environment, so it runs the same checkout.

How it measures. Each figure is the median over rounds, with the minimum and maximum beside
it; the tasks of a round run in rotated order (round r starts at task r), so that no task
always runs first or last on a machine whose load changes. Wall time is beside the thread's
CPU time (``time.thread_time``; for commands it starts, the children's CPU time from
``getrusage``): on a busy machine the CPU time is the steadier figure. The load average is
recorded with the results.

1. Plain Mesa: BoltzmannWealth (Mesa's own example, one agent per cell), and a naive Mesa
   version of the citizens' adoption rule (one ``mesa.Agent`` per citizen looping over its
   networkx neighbours each month): agent-steps per second.
2. The full model (default scenario, every agent type) at 1,000 to 1,000,000 citizens, all for
   the same 24 months: build time, run time, citizen-steps per second; peak memory per citizen
   at the largest size (a fresh child process).
3. Two kernels on the very same network, the leanest loops numpy allows, no Mesa, no records,
   each starting from the population as the model built it (a copy taken before the model ran,
   so a kernel never starts from the model's month 24):
   - dense: Bass adoption, p + q x (adopted contacts / contacts), one mat-vec a month;
   - event-driven: the model's own adoption rule and drop-out (hazard (p + q x active share) x
     trust x online for those who never downloaded; active holders stop at the drop-out
     hazard), one uniform per citizen a month plus one per active holder, and active-contact
     counts updated from the citizens who changed.
   Their draws against the model's: the model draws, each month, the same one uniform per
   citizen who can still adopt and one per holder (keyed by citizen, so its numbers differ from
   the kernel's sequential ones), and on top of them the holders' payment, savings-move and
   remittance draws, the merchants' review, the bonus queue, and everything the farms, the grid,
   the market and the state do. "Full model / kernel" is therefore the price of everything the
   model does beyond adoption, at the same adoption draws.
4. The command line: ``cryptoabm run configs/baseline.toml`` as a whole process, and its
   phases in a fresh process (imports, model, writing the tables, dashboard).
5. Batches end to end as the user waits (``cryptoabm batch``: imports, runs, merge, report),
   1 worker against 2: the headline experiment, and a 100,000-citizen sweep.
6. A study: an LHS design of the default preset (2,000 citizens, 60 months), on 2 workers, end
   to end (``--study-runs``; a smaller study is scaled to 10,000 runs at its own pace, and says
   so). Its efficiency against the ideal: the single-run CPU time (measured on a sample of the
   design's runs in this process; also reported as the standalone run) times the runs, divided
   by the cores, plus what the main process must do whatever the runs (the same study with 2
   runs, end to end: imports, plan, merge, report).
7. National scale: 13.5 million citizens (Kazakhstan's adults, one agent each) x 60 months in a
   fresh process: build, run, peak memory.
8. Every network kind built at 10 million citizens, each in a fresh process (the network alone:
   ``cryptoabm.network.adjacency`` at the default mean degree).

The machine should be idle. What else ran is measured, not guessed: a thread reads every
process's CPU time from ``/proc`` twice a second, and what processes outside the benchmark's own
process group used while it ran (kernel threads included) is the CPU other processes took;
averaged over the benchmark's wall time, above a tenth of a core it flags every result as
measured under load. (The load average, recorded at the start and the end, counts the
benchmark's own 2-worker batches, so it cannot say whether anything else ran; and the CPU the
machine spent less the benchmark's own ``os.times`` would count as "other" the workers a fork
server starts, which no process of the benchmark waits for.)
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import resource
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path
from statistics import median

import mesa
import networkx as nx
import numpy as np
import scipy
import scipy.sparse as sp
from mesa.examples import BoltzmannWealth
from mesa.examples.basic.boltzmann_wealth_model.model import BoltzmannScenario

from cryptoabm.config import Scenario
from cryptoabm.model import CryptoEconomy

ROOT = Path(__file__).resolve().parents[1]
RESULTS = Path(__file__).with_name("RESULTS.md")
HEADLINE = ROOT / "experiments" / "turkmenistan_options.toml"
SEED = 1
MONTHS = 24  # every size runs the same horizon, so that cost per citizen-step compares like with like
BOLTZMANN_STEPS = 20
NAIVE_MESA_CITIZENS, NAIVE_MESA_MONTHS = 10_000, 3
NATIONAL_CITIZENS, NATIONAL_MONTHS = 13_500_000, 60
SWEEP_CITIZENS, SWEEP_RUNS = 100_000, 24
STUDY_RUNS, STUDY_SAMPLE = 10_000, 40  # the target's study size; the one measured is --study-runs
STUDY_RUNS_MEASURED = 1_000  # scaled to STUDY_RUNS at its own pace (10,000 runs would take an hour on 2 cores)
NETWORK_CITIZENS = 10_000_000
BUSY_OTHER_CORES = 0.1  # other processes' CPU above a tenth of a core on average: the results say so
NETWORK_KINDS = ("watts_strogatz", "erdos_renyi", "barabasi_albert")

TARGETS = {  # issue 20 (speed targets live here, never in tests)
    "vs_kernel": 2.0, "build_vs_12_months": 1.0, "cli_run_s": 1.0, "headline_speedup": 1.5, "sweep_speedup": 1.7,
    "national_s": 45.0, "national_gib": 4.0, "study_s": 240.0, "standalone_run_s": 0.040, "ensemble_run_s": 0.010,
    "network_s": 60.0,
    # issue 5, kept
    "vs_boltzmann": 20.0, "linear_scaling": 1.5, "bytes_per_citizen": 2048,
}


# -- measuring ----------------------------------------------------------------------------------
class Timing:
    """Wall and CPU seconds of one measurement."""

    def __init__(self, wall: float, cpu: float):
        self.wall, self.cpu = wall, cpu


def timed(action: Callable[[], object]) -> tuple[Timing, object]:
    """Wall and this thread's CPU time of ``action``."""
    wall, cpu = time.perf_counter(), time.thread_time()
    result = action()
    return Timing(time.perf_counter() - wall, time.thread_time() - cpu), result


def timed_command(command: list[str], cwd: Path | None = None) -> Timing:
    """Wall time of a command and the CPU time of every process it started."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    done = subprocess.run(command, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    if done.returncode:
        sys.exit(f"benchmark command failed ({done.returncode}): {' '.join(command)}\n{done.stderr[-3000:]}")
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return Timing(wall, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime))


def cryptoabm(*args: str) -> list[str]:
    return [sys.executable, "-m", "cryptoabm", *args]


def spread(values: list[float]) -> dict[str, float]:
    return {"median": median(values), "min": min(values), "max": max(values)}


# -- 1. plain Mesa ------------------------------------------------------------------------------
def boltzmann(agents: int) -> dict[str, float]:
    side = round(agents ** 0.5)  # one agent per cell, the example's own density
    model = BoltzmannWealth(BoltzmannScenario(n=agents, width=side, height=side, rng=SEED))
    timing, _ = timed(lambda: [model.step() for _ in range(BOLTZMANN_STEPS)])
    return {"rate_wall": agents * BOLTZMANN_STEPS / timing.wall, "rate_cpu": agents * BOLTZMANN_STEPS / timing.cpu}


class NaiveCitizen(mesa.Agent):
    """A citizen as a plain Mesa user would write it: an agent that looks at its networkx neighbours."""

    def __init__(self, model: NaiveBass, node: int):
        super().__init__(model)
        self.node, self.active, self.next_active = node, False, False

    def step(self) -> None:
        model = self.model
        if self.active:
            self.next_active = model.random.random() >= model.dropout
            return
        neighbours = [model.citizens[other] for other in model.graph.neighbors(self.node)]
        share = sum(n.active for n in neighbours) / len(neighbours) if neighbours else 0.0
        self.next_active = model.random.random() < model.p + model.q * share

    def advance(self) -> None:
        self.active = self.next_active


class NaiveBass(mesa.Model):
    def __init__(self, citizens: int, p: float, q: float, dropout: float):
        super().__init__(rng=SEED)
        self.p, self.q, self.dropout = p, q, dropout
        self.graph = nx.watts_strogatz_graph(citizens, 10, 0.1, seed=SEED)
        self.citizens = [NaiveCitizen(self, node) for node in range(citizens)]

    def step(self) -> None:
        self.agents.do("step")
        self.agents.do("advance")


def naive_mesa() -> dict[str, float]:
    adoption = Scenario().adoption
    model = NaiveBass(NAIVE_MESA_CITIZENS, adoption.innovation_p, adoption.imitation_q, adoption.dropout_hazard)
    timing, _ = timed(lambda: [model.step() for _ in range(NAIVE_MESA_MONTHS)])
    steps = NAIVE_MESA_CITIZENS * NAIVE_MESA_MONTHS
    return {"rate_wall": steps / timing.wall, "rate_cpu": steps / timing.cpu}


# -- 2. the full model ----------------------------------------------------------------------------
def default_scenario(citizens: int, months: int) -> Scenario:
    scenario = Scenario()
    return scenario.model_copy(update={"months": months,
                                       "population": scenario.population.model_copy(update={"citizens": citizens})})


class BuiltPopulation:
    """What the kernels start from: the population's arrays as the model built them (copies)."""

    def __init__(self, population):
        self.adjacency = population.adjacency
        for name in ("trust_multiplier", "has_internet", "never_adopts", "ever_downloaded", "is_active"):
            setattr(self, name, np.array(getattr(population, name), copy=True))


def full_model(citizens: int, keep: dict) -> dict[str, float]:
    build, model = timed(lambda: CryptoEconomy(default_scenario(citizens, MONTHS), seed=SEED))
    keep[citizens] = BuiltPopulation(model.population)  # the kernels' very same network and citizens, at month 0
    run, _ = timed(model.run)
    steps = citizens * MONTHS
    return {"build_wall": build.wall, "build_cpu": build.cpu, "run_wall": run.wall, "run_cpu": run.cpu,
            "ns_wall": 1e9 * run.wall / steps, "ns_cpu": 1e9 * run.cpu / steps}


def resident_bytes(field_name: str) -> int:
    """This process's resident memory, bytes: ``VmRSS`` now or ``VmHWM`` its peak (Linux)."""
    with open("/proc/self/status") as status:
        line = next(line for line in status if line.startswith(field_name + ":"))
    return int(line.split()[1]) * 1024


def memory_child(citizens: int, months: int) -> None:
    """In a fresh process: build and run one model; print build and run times and memory as JSON."""
    with open("/proc/self/clear_refs", "w") as clear_refs:
        clear_refs.write("5")  # resets the peak to the present (imports can peak higher than they end)
    before = resident_bytes("VmRSS")
    try:
        scenario = default_scenario(citizens, months)
    except ValueError as exc:  # a version whose config refuses this many citizens
        print(json.dumps({"refused": str(exc).splitlines()[0]}))
        return
    build, model = timed(lambda: CryptoEconomy(scenario, seed=SEED))
    run, _ = timed(model.run)
    print(json.dumps({"before": before, "peak": resident_bytes("VmHWM"), "build_s": build.wall, "run_s": run.wall,
                      "build_cpu": build.cpu, "run_cpu": run.cpu}))


def network_child(kind: str, citizens: int) -> None:
    """In a fresh process: build one network kind; print its build time and size as JSON."""
    from cryptoabm.network import adjacency

    population = Scenario().population
    build, matrix = timed(lambda: adjacency(kind, citizens, population.mean_degree, population.rewiring_probability,
                                            np.random.default_rng(SEED)))
    print(json.dumps({"build_s": build.wall, "build_cpu": build.cpu, "entries": int(matrix.nnz),
                      "peak": resident_bytes("VmHWM")}))


def networks() -> dict[str, dict]:
    figures = {}
    for kind in NETWORK_KINDS:
        output = subprocess.run([sys.executable, __file__, "--network-child", kind, str(NETWORK_CITIZENS)],
                                check=True, capture_output=True, text=True).stdout
        figures[kind] = json.loads(output.strip().splitlines()[-1])
        print(f"  network {kind} at {NETWORK_CITIZENS:,}: {figures[kind]['build_s']:.1f} s", flush=True)
    return figures


def in_child(citizens: int, months: int) -> dict:
    started = time.perf_counter()
    output = subprocess.run([sys.executable, __file__, "--memory-child", str(citizens), str(months)],
                            check=True, capture_output=True, text=True).stdout
    figures = json.loads(output.strip().splitlines()[-1])
    figures["process_s"] = time.perf_counter() - started
    return figures


# -- 3. the kernels -------------------------------------------------------------------------------
def dense_kernel(adjacency: sp.csr_array, p: float, q: float, months: int, rng: np.random.Generator) -> np.ndarray:
    """Bass adoption, every month one mat-vec: each non-adopter adopts with p + q x (adopted contacts / contacts)."""
    citizens = adjacency.shape[0]
    contacts = np.diff(adjacency.indptr).astype(np.float32)
    per_contact = np.divide(np.float32(q), contacts, out=np.zeros(citizens, np.float32), where=contacts > 0)
    adopted = np.zeros(citizens, dtype=np.float32)
    draw = np.empty(citizens, dtype=np.float32)
    for _ in range(months):
        hazard = adjacency @ adopted
        hazard *= per_contact
        hazard += np.float32(p)
        rng.random(dtype=np.float32, out=draw)
        np.maximum(adopted, draw < hazard, out=adopted)
    return adopted


def event_kernel(population, p: float, q: float, dropout: float, months: int, rng: np.random.Generator) -> np.ndarray:
    """The model's adoption rule and drop-out, as lean as numpy allows: the hazard (p + q x active
    share) x trust x online for those who never downloaded; active holders stop at the drop-out
    hazard; active-contact counts updated from the citizens who changed."""
    adjacency = population.adjacency
    indptr, indices = adjacency.indptr, adjacency.indices
    citizens = adjacency.shape[0]
    contacts = np.diff(indptr).astype(np.float32)
    weight = np.divide(np.float32(q), contacts, out=np.zeros(citizens, np.float32), where=contacts > 0)
    scale = np.asarray(population.trust_multiplier, dtype=np.float32) * population.has_internet
    can_adopt = ~population.never_adopts & ~population.ever_downloaded
    active = population.is_active.copy()
    counts = adjacency @ active.astype(np.float32)
    draw = np.empty(citizens, dtype=np.float32)
    hazard = np.empty(citizens, dtype=np.float32)
    for _ in range(months):
        np.multiply(counts, weight, out=hazard)
        hazard += np.float32(p)
        hazard *= scale
        rng.random(dtype=np.float32, out=draw)
        new = np.flatnonzero(can_adopt & (draw < hazard))
        can_adopt[new] = False
        holders = np.flatnonzero(active)
        stopped = holders[rng.random(holders.size, dtype=np.float32) < dropout]
        changed = np.concatenate([new, stopped])
        active[new] = True
        active[stopped] = False
        starts, ends = indptr[changed], indptr[changed + 1]
        lengths = ends - starts
        where = np.repeat(starts - np.cumsum(lengths) + lengths, lengths) + np.arange(lengths.sum())
        signs = np.repeat(np.r_[np.ones(new.size, np.float32), -np.ones(stopped.size, np.float32)], lengths)
        np.add.at(counts, indices[where], signs)
    return active


def kernels(citizens: int, keep: dict) -> dict[str, float]:
    population = keep[citizens]
    adoption = Scenario().adoption
    dense, _ = timed(lambda: dense_kernel(population.adjacency, adoption.innovation_p, adoption.imitation_q, MONTHS,
                                          np.random.default_rng(SEED)))
    event, _ = timed(lambda: event_kernel(population, adoption.innovation_p, adoption.imitation_q,
                                          adoption.dropout_hazard, MONTHS, np.random.default_rng(SEED)))
    return {"dense_wall": dense.wall, "dense_cpu": dense.cpu, "event_wall": event.wall, "event_cpu": event.cpu}


# -- 4. the command line --------------------------------------------------------------------------
PHASES_CHILD = """
import json, sys, time
from pathlib import Path
marks = [(time.perf_counter(), time.process_time())]
def mark():
    marks.append((time.perf_counter(), time.process_time()))
import importlib, types
import cryptoabm.outputs as outputs  # what the run command imports (a version may import the dashboard here)
from cryptoabm.config import load_scenario
from cryptoabm.model import CryptoEconomy
mark()
scenario = load_scenario(sys.argv[1]); table = CryptoEconomy(scenario, seed=1).run()
mark()
real = sys.modules.pop("cryptoabm.dashboard", None)
stub = types.ModuleType("cryptoabm.dashboard")
stub.save_dashboard = lambda table, path, *args, **kwargs: Path(path).write_bytes(b"")  # the tables alone
sys.modules["cryptoabm.dashboard"] = stub
if hasattr(outputs, "save_dashboard"):
    outputs.save_dashboard = stub.save_dashboard
outputs.write_run(Path(sys.argv[2]), scenario, 1, table, sys.argv[1])
mark()
del sys.modules["cryptoabm.dashboard"]
if real is not None:
    sys.modules["cryptoabm.dashboard"] = real
dashboard = importlib.import_module("cryptoabm.dashboard")  # matplotlib, if not imported yet
dashboard.save_dashboard(table, Path(sys.argv[2]) / "dashboard.png", scenario.name, [])
mark()
print(json.dumps([[b[0] - a[0], b[1] - a[1]] for a, b in zip(marks, marks[1:])]))
"""


def cli_run(folder: Path) -> dict[str, float]:
    whole = timed_command(cryptoabm("run", str(ROOT / "configs" / "baseline.toml"), "--out", str(folder / "run"),
                                    "--force", "--overwrite"))
    started = time.perf_counter()
    output = subprocess.run([sys.executable, "-c", PHASES_CHILD, str(ROOT / "configs" / "baseline.toml"),
                             str(folder / f"phases-{time.time_ns()}")], check=True, capture_output=True, text=True).stdout
    process = time.perf_counter() - started
    phases = json.loads(output.strip().splitlines()[-1])
    interpreter = process - sum(wall for wall, _ in phases)  # Python itself, and what the phases leave out
    figures = {"whole_wall": whole.wall, "whole_cpu": whole.cpu, "python_wall": interpreter}
    for name, (wall, cpu) in zip(("imports", "model", "writing", "dashboard"), phases, strict=True):
        figures[f"{name}_wall"], figures[f"{name}_cpu"] = wall, cpu
    return figures


# -- 5. and 6. batches ------------------------------------------------------------------------------
def batch_command(experiment: Path, workers: int, folder: Path) -> Timing:
    out = folder / f"out-{experiment.stem}-{workers}"
    shutil.rmtree(out, ignore_errors=True)
    timing = timed_command(cryptoabm("batch", str(experiment), "--workers", str(workers), "--out", str(out),
                                     "--no-progress"))
    shutil.rmtree(out, ignore_errors=True)
    return timing


def write_experiment(folder: Path, name: str, body: str) -> Path:
    """An experiment file in ``folder``, next to copies of the presets it names."""
    folder.mkdir(parents=True, exist_ok=True)
    for preset in (ROOT / "configs").glob("*.toml"):
        shutil.copy(preset, folder / preset.name)
    path = folder / f"{name}.toml"
    path.write_text(body)
    return path


def sweep_experiment(folder: Path) -> Path:
    return write_experiment(folder, "sweep_100k", f"""
name = "sweep_100k"
question = "Benchmark: {SWEEP_RUNS} replications of the baseline at {SWEEP_CITIZENS:,} citizens."
reference = "baseline"
replications = {SWEEP_RUNS}
horizon_months = 60
base_seed = 1
record_every_months = 12

[[arms]]
name = "baseline"
config = "baseline.toml"
overrides = {{ "population.citizens" = {SWEEP_CITIZENS} }}
""")


def study_experiment(folder: Path, runs: int) -> Path:
    return write_experiment(folder, "study", f"""
name = "study"
question = "Benchmark: a {runs}-point LHS design of the baseline (2,000 citizens, 60 months)."
reference = "baseline"
replications = 1
horizon_months = 60
base_seed = 1
record_every_months = "end"
metrics = ["active_share", "wallet_share", "hashrate_ehs", "state_revenue_usd"]

[[arms]]
name = "baseline"
config = "baseline.toml"

[design]
kind = "lhs"
samples = {runs}
ranges = {{ "adoption.innovation_p" = [0.001, 0.02], "adoption.imitation_q" = [0.05, 0.6] }}
""")


def single_run_cpu(experiment: Path, sample: int) -> float:
    """Mean CPU seconds of one run of the experiment, over ``sample`` of its runs (in this process)."""
    from cryptoabm.batch.experiment import expand_runs, load_experiment
    from cryptoabm.batch.runner import execute_run

    specs = expand_runs(load_experiment(experiment))
    chosen = specs[:: max(1, len(specs) // sample)][:sample]
    timing, _ = timed(lambda: [execute_run(spec) for spec in chosen])
    return timing.cpu / len(chosen)


# -- the report -------------------------------------------------------------------------------------
def cell(figures: dict, key: str, fmt: str = "{:.3f}") -> str:
    if key not in figures:
        return "-"
    value = figures[key]
    return f"{fmt.format(value['median'])} [{fmt.format(value['min'])}-{fmt.format(value['max'])}]"


def verdict(met: bool) -> str:
    return "met" if met else "**missed**"


def machine() -> str:
    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo") as info:
            cpu = next(line.split(":", 1)[1].strip() for line in info if line.startswith("model name"))
    except (OSError, StopIteration):
        pass
    return (f"{cpu}, {os.cpu_count()} cores; Python {platform.python_version()}, Mesa {mesa.__version__}, "
            f"numpy {np.__version__}, scipy {scipy.__version__}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=5, help="rounds (medians, min and max are reported)")
    parser.add_argument("--quick", action="store_true",
                        help="sizes up to 100,000, 3 rounds, small batches, no study or national row; writes nothing")
    parser.add_argument("--skip", default="",
                        help="comma-separated sections to leave out: cli, batch, study, national, networks")
    parser.add_argument("--study-runs", type=int, default=STUDY_RUNS_MEASURED,
                        help=f"runs of the study's design (scaled to the target's {STUDY_RUNS:,})")
    parser.add_argument("--batch-rounds", type=int, default=2, help="rounds of the batch measurements")
    parser.add_argument("--json", type=Path, help="also write every figure to this JSON file")
    parser.add_argument("--before", type=Path, help="JSON of an earlier run (another commit) to show beside")
    parser.add_argument("--no-write", action="store_true", help="do not write benchmarks/RESULTS.md")
    parser.add_argument("--render", type=Path, help="measure nothing: write RESULTS.md from this JSON (and --before)")
    parser.add_argument("--before-label", default="the code before issue 20 (f6b9d9a)",
                        help="what the --before figures measured (shown in the results)")
    parser.add_argument("--memory-child", nargs=2, type=int, metavar=("CITIZENS", "MONTHS"), help=argparse.SUPPRESS)
    parser.add_argument("--network-child", nargs=2, metavar=("KIND", "CITIZENS"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.memory_child:
        memory_child(*args.memory_child)
        return
    if args.network_child:
        network_child(args.network_child[0], int(args.network_child[1]))
        return
    if args.render:
        before = json.loads(args.before.read_text()) if args.before else None
        RESULTS.write_text(report(json.loads(args.render.read_text()), before, args.before_label))
        print(f"written to {RESULTS}")
        return
    skip = set(filter(None, args.skip.split(",")))
    if args.quick:
        skip |= {"study", "national", "networks"}
    rounds = min(3, args.rounds) if args.quick else args.rounds
    sizes = [1_000, 10_000, 100_000] if args.quick else [1_000, 10_000, 100_000, 1_000_000]
    largest = sizes[-1]
    load_start = os.getloadavg()
    others = OtherProcesses()
    started = time.perf_counter()
    print(f"machine: {machine()}; load average {load_start[0]:.2f}; {rounds} rounds", flush=True)

    results: dict[str, dict] = {}
    keep: dict = {}
    with tempfile.TemporaryDirectory(prefix="cryptoabm-bench-") as tmp:
        folder = Path(tmp)
        tasks: dict[str, Callable[[], dict[str, float]]] = {
            "boltzmann_1000": lambda: boltzmann(1_000), "boltzmann_10000": lambda: boltzmann(10_000),
            "naive_mesa": naive_mesa,
        }
        for citizens in sizes:  # the kernels right after their model, which leaves them its network
            tasks[f"model_{citizens}"] = lambda c=citizens: full_model(c, keep)
            tasks[f"kernels_{citizens}"] = lambda c=citizens: kernels(c, keep)
        if "cli" not in skip:
            tasks["cli"] = lambda: cli_run(folder)
        # the kernels need their model's population: run each model before its kernels in every round
        names = list(tasks)
        for round_number in range(rounds):
            offset = round_number % len(names)
            order = names[offset:] + names[:offset]
            order = [n for n in order if not n.startswith("kernels_")]
            for name in order:
                for key, value in tasks[name]().items():
                    results.setdefault(name, {}).setdefault(key, []).append(value)
                if name.startswith("model_"):
                    citizens = int(name.split("_")[1])
                    for key, value in tasks[f"kernels_{citizens}"]().items():
                        results.setdefault(f"kernels_{citizens}", {}).setdefault(key, []).append(value)
                    keep.pop(citizens, None)
            print(f"  round {round_number + 1} of {rounds} ({time.strftime('%H:%M:%S')})", flush=True)
        memory = in_child(largest, MONTHS)

        if "batch" not in skip:
            sweep = sweep_experiment(folder / "sweep")
            batch_rounds = 1 if args.quick else args.batch_rounds
            batch_tasks = {f"headline_{w}": (lambda w=w: batch_command(HEADLINE, w, folder)) for w in (1, 2)}
            if not args.quick:
                batch_tasks |= {f"sweep_{w}": (lambda w=w: batch_command(sweep, w, folder)) for w in (1, 2)}
            for round_number in range(batch_rounds):
                names = list(batch_tasks)
                offset = round_number % len(names)
                for name in names[offset:] + names[:offset]:
                    timing = batch_tasks[name]()
                    results.setdefault(name, {}).setdefault("wall", []).append(timing.wall)
                    results[name].setdefault("cpu", []).append(timing.cpu)
                print(f"  batch round {round_number + 1} of {batch_rounds} ({time.strftime('%H:%M:%S')})", flush=True)
        if "study" not in skip:
            study = study_experiment(folder / "study", args.study_runs)
            per_run = single_run_cpu(study, STUDY_SAMPLE)
            fixed = batch_command(study_experiment(folder / "study_fixed", 2), 2, folder)
            timing = batch_command(study, 2, folder)
            results["study"] = {"wall": [timing.wall], "cpu": [timing.cpu], "per_run_cpu": [per_run],
                                "runs": [args.study_runs], "fixed_wall": [fixed.wall]}
            print(f"  study done ({time.strftime('%H:%M:%S')})", flush=True)
        national = None if "national" in skip else in_child(NATIONAL_CITIZENS, NATIONAL_MONTHS)
        network_figures = None if "networks" in skip else networks()

    summary = {name: {key: spread(values) for key, values in figures.items()} for name, figures in results.items()}
    summary["memory"] = {key: spread([value]) for key, value in memory.items() if isinstance(value, (int, float))}
    if national is not None:
        summary["national"] = ({"refused": national["refused"]} if "refused" in national
                               else {key: spread([value]) for key, value in national.items()})
    if network_figures is not None:
        summary["networks"] = {kind: {key: spread([value]) for key, value in figures.items()}
                               for kind, figures in network_figures.items()}
    load_end = os.getloadavg()
    seconds = time.perf_counter() - started
    other_cpu_s = others.stop()
    summary["meta"] = {"machine": machine(), "date": datetime.date.today().isoformat(), "rounds": rounds,
                       "load_start": load_start[0], "load_end": load_end[0], "sizes": sizes, "quick": args.quick,
                       "minutes": seconds / 60, "other_cpu_s": other_cpu_s, "other_cores": other_cpu_s / seconds}
    if args.json:
        args.json.write_text(json.dumps(summary, indent=1))
    before = json.loads(args.before.read_text()) if args.before else None
    text = report(summary, before, args.before_label)
    print()
    print(text)
    if not args.quick and not args.no_write:
        RESULTS.write_text(text)
        print(f"written to {RESULTS}")


class OtherProcesses:
    """The CPU time processes outside this benchmark's process group take while it runs, seconds:
    every process's user and system time read from ``/proc/<pid>/stat`` every ``interval`` seconds
    by a thread. A process counts from the first reading (or from its start, if it started after the
    benchmark); one that starts and ends between two readings is missed, so the figure is a floor."""

    def __init__(self, interval: float = 0.5):
        self.group = os.getpgid(0)
        self.ticks = os.sysconf("SC_CLK_TCK")
        self.seen: dict[tuple[str, str], float] = {}  # (pid, start time): CPU seconds at the last reading
        self.other_s = 0.0
        self.started_ticks = self.uptime_ticks()
        self.interval = interval
        self.done = threading.Event()
        self.read()
        self.thread = threading.Thread(target=self.keep_reading, daemon=True)
        self.thread.start()

    def uptime_ticks(self) -> float:
        with open("/proc/uptime") as uptime:
            return float(uptime.read().split()[0]) * self.ticks

    def read(self) -> None:
        for entry in os.scandir("/proc"):
            if not entry.name.isdigit():
                continue
            try:
                with open(f"/proc/{entry.name}/stat") as stat:
                    text = stat.read()
            except OSError:  # it ended meanwhile
                continue
            fields = text[text.rindex(")") + 2:].split()  # after the command name, which may hold spaces
            if int(fields[2]) == self.group:
                continue  # the benchmark, or a process it started
            cpu_s = (int(fields[11]) + int(fields[12])) / self.ticks
            key = (entry.name, fields[19])  # pid and start time (a pid can be reused)
            if key in self.seen:
                self.other_s += cpu_s - self.seen[key]
            elif int(fields[19]) > self.started_ticks:
                self.other_s += cpu_s  # started after the benchmark: all its CPU is in the window
            self.seen[key] = cpu_s

    def keep_reading(self) -> None:
        while not self.done.wait(self.interval):
            self.read()

    def stop(self) -> float:
        """Stop reading; the CPU seconds other processes took."""
        self.done.set()
        self.thread.join()
        self.read()
        return self.other_s


def other_load(meta: dict) -> str:
    """What other processes took while a benchmark ran, as text (older result files lack it)."""
    if "other_cores" not in meta:
        return f"load average {meta['load_start']:.2f} to {meta['load_end']:.2f}"
    return (f"other processes {meta['other_cpu_s']:.0f} CPU s, {meta['other_cores']:.2f} of a core on average; "
            f"load average {meta['load_start']:.2f} to {meta['load_end']:.2f}")


def under_load(meta: dict) -> bool:
    """Whether other processes took more than BUSY_OTHER_CORES while it ran (older files: the
    load average at the start above half the cores)."""
    if "other_cores" in meta:
        return meta["other_cores"] > BUSY_OTHER_CORES
    return meta["load_start"] > 1.0


def report(now: dict, before: dict | None, before_label: str = "the code before issue 20 (f6b9d9a)") -> str:
    """RESULTS.md: each figure as median [min-max] over rounds, wall and CPU; a before column if given."""
    meta = now["meta"]
    sizes = meta["sizes"]
    largest = sizes[-1]
    columns = [("now", now)] + ([("before", before)] if before else [])

    def both(section: str, key: str, fmt: str = "{:.3f}") -> str:
        return " | ".join(cell(data.get(section, {}), key, fmt) for _, data in columns)

    heads = " | ".join(name for name, _ in columns)
    bars = "|---:" * len(columns)
    lines = ["# Benchmark results", "",
             "Written by `python benchmarks/run.py` (what each figure means: the script's docstring). Each cell is "
             "the median over rounds [min-max]; rounds run their tasks in rotated order. Wall time beside CPU time "
             "(this thread's, or the children's for commands): on a busy machine CPU time is the steadier figure.", "",
             f"Machine: {meta['machine']}. {meta['date']}, {meta['rounds']} rounds, {meta['minutes']:.1f} minutes; "
             f"{other_load(meta)} (the load average counts the benchmark's own batches)."]
    if before:
        bm = before["meta"]
        lines += ["", f"*before*: the same script on {before_label} ({bm['date']}, {bm['rounds']} rounds, "
                      f"{other_load(bm)})."]
    loaded = [f"{name} ({other_load(data['meta'])})" for name, data in columns if under_load(data["meta"])]
    if loaded:
        lines += ["", f"**Measured under load**: other processes took more than {BUSY_OTHER_CORES} of a core for "
                      + ", ".join(loaded) + "; wall times and ratios of wall times there are flagged by it, CPU times "
                      "less so."]
    else:
        lines += ["", f"Measured on an idle machine: other processes took less than {BUSY_OTHER_CORES} of a core "
                      "on average while each column was measured."]
    lines += ["", f"## Plain Mesa, the full model and the kernels ({MONTHS} months at every size)", "",
              f"| figure | {heads} |", f"|---{bars}|"]
    for agents in (1_000, 10_000):
        lines.append(f"| Mesa BoltzmannWealth, {agents:,} agents: agent-steps/s (CPU) | "
                     + both(f"boltzmann_{agents}", "rate_cpu", "{:,.0f}") + " |")
    lines.append(f"| naive Mesa citizens (networkx neighbours), {NAIVE_MESA_CITIZENS:,}: citizen-steps/s (CPU) | "
                 + both("naive_mesa", "rate_cpu", "{:,.0f}") + " |")
    for citizens in sizes:
        model, kern = f"model_{citizens}", f"kernels_{citizens}"
        lines += [f"| {citizens:,} citizens: build s (wall) | {both(model, 'build_wall')} |",
                  f"| {citizens:,} citizens: run s (wall) | {both(model, 'run_wall')} |",
                  f"| {citizens:,} citizens: run s (CPU) | {both(model, 'run_cpu')} |",
                  f"| {citizens:,} citizens: ns per citizen-step (CPU) | {both(model, 'ns_cpu', '{:.1f}')} |",
                  f"| {citizens:,} citizens: dense kernel s (CPU) | {both(kern, 'dense_cpu')} |",
                  f"| {citizens:,} citizens: event-driven kernel s (CPU) | {both(kern, 'event_cpu')} |"]
    lines += ["", f"Peak memory at {largest:,} citizens ({MONTHS} months, fresh process): "
              + "; ".join(f"{name}: {(d['memory']['peak']['median'] - d['memory']['before']['median']) / largest:,.0f} B "
                          f"a citizen, process peak {d['memory']['peak']['median'] / 2**20:,.0f} MiB"
                          for name, d in columns if 'memory' in d) + "."]
    if "cli" in now:
        lines += ["", "## `cryptoabm run configs/baseline.toml`", "", f"| figure | {heads} |", f"|---{bars}|",
                  f"| whole process s (wall) | {both('cli', 'whole_wall')} |",
                  f"| whole process s (CPU) | {both('cli', 'whole_cpu')} |"]
        for phase in ("imports", "model", "writing", "dashboard"):
            lines.append(f"| phase: {phase} s (wall) | {both('cli', phase + '_wall')} |")
        lines.append(f"| Python start-up and the rest, s (wall) | {both('cli', 'python_wall')} |")
    if "headline_1" in now:
        lines += ["", "## Batches end to end (`cryptoabm batch`: imports, runs, merge, report)", "",
                  f"| figure | {heads} |", f"|---{bars}|"]
        for name, label in (("headline", f"headline ({HEADLINE.stem}, 300 runs with its decomposition)"),
                            ("sweep", f"{SWEEP_CITIZENS:,}-citizen sweep ({SWEEP_RUNS} runs x 60 months)")):
            for workers in (1, 2):
                if f"{name}_{workers}" in now:
                    lines += [f"| {label}, {workers} worker{'s' * (workers > 1)}: s (wall) | "
                              f"{both(f'{name}_{workers}', 'wall', '{:.2f}')} |",
                              f"| {label}, {workers} worker{'s' * (workers > 1)}: s (CPU, all processes) | "
                              f"{both(f'{name}_{workers}', 'cpu', '{:.2f}')} |"]
    if "headline_1" in now:
        lines += ["", "CPU of a batch is that of every process `cryptoabm batch` waited for: workers forked from it count, "
                      "but a fork server's workers are not waited for by it. Pools started from a fork server before "
                      "issue 14, and again, by mistake, whenever a progress bar had been shown before the pool started "
                      "(the design points' check shows one), until issue 20; so the *before* CPU of 2 workers (and of "
                      "the study) leaves the workers out."]
    for name, data in columns:
        if "study" not in data:
            continue
        study = data["study"]
        runs = int(study["runs"]["median"])
        fixed = study.get("fixed_wall", {}).get("median", 0.0)
        ideal = study["per_run_cpu"]["median"] * runs / 2 + fixed
        lines += ["", f"## Study ({name})", "",
                  f"An LHS design of the baseline, {runs:,} runs (2,000 citizens, 60 months), 2 workers, end to end: "
                  f"{study['wall']['median']:.1f} s wall, {study['cpu']['median']:.1f} s CPU in all processes. "
                  f"Ideal: {study['per_run_cpu']['median'] * 1000:.1f} ms CPU a run (mean of {STUDY_SAMPLE} of its runs "
                  f"in one process) x {runs:,} runs / 2 cores + {fixed:.1f} s the main process needs whatever the runs "
                  f"(the same study with 2 runs, end to end) = {ideal:.1f} s; efficiency {ideal / study['wall']['median']:.0%}."]
    if "networks" in now:
        lines += ["", f"## Networks at {NETWORK_CITIZENS:,} citizens (each built in a fresh process)", "",
                  f"| kind | {heads} |", f"|---{bars}|"]
        for kind in NETWORK_KINDS:
            lines.append(f"| {kind}: build s (wall) | {both_networks(columns, kind)} |")
    if "national" in now:
        national = now["national"]
        if "refused" in national:
            lines += ["", f"National scale ({NATIONAL_CITIZENS:,} citizens): refused by the config: {national['refused']}"]
        else:
            lines += ["", "## National scale", "",
                      f"{NATIONAL_CITIZENS:,} citizens x {NATIONAL_MONTHS} months (default scenario, fresh process): build "
                      f"{national['build_s']['median']:.1f} s, run {national['run_s']['median']:.1f} s, whole process "
                      f"{national['process_s']['median']:.1f} s (wall); build {national['build_cpu']['median']:.1f} s, run "
                      f"{national['run_cpu']['median']:.1f} s (CPU); peak memory {national['peak']['median'] / 2**30:.2f} GiB."]

    # targets, on medians, for each column
    now_rows = target_rows(now, sizes)
    before_rows = dict((key, (value, met)) for key, _, value, _, met in target_rows(before, before["meta"]["sizes"])) \
        if before else {}
    lines += ["", "## Targets (issue 20; issue 5's and 14's kept)", ""]
    if before:
        lines += ["| figure | before | now | target | now |", "|---|---:|---:|---:|---|"]
        lines += [f"| {label} | {before_rows.get(key, ('-', None))[0]} | {value} | {target} | {verdict(met)} |"
                  for key, label, value, target, met in now_rows]
    else:
        lines += ["| figure | measured | target | |", "|---|---:|---:|---|"]
        lines += [f"| {label} | {value} | {target} | {verdict(met)} |" for key, label, value, target, met in now_rows]
    return "\n".join(lines) + "\n"


def both_networks(columns, kind: str) -> str:
    cells = []
    for _, data in columns:
        figures = data.get("networks", {}).get(kind)
        cells.append("-" if figures is None else f"{figures['build_s']['median']:.1f}")
    return " | ".join(cells)


def target_rows(data: dict, sizes: list[int]) -> list[tuple[str, str, str, str, bool]]:
    """(key, figure, measured, target, met) for every target a results set has figures for."""
    rows = []
    largest = sizes[-1]

    def med(section: str, key: str) -> float | None:
        return data.get(section, {}).get(key, {}).get("median")

    for citizens in [s for s in sizes if s >= 100_000]:
        run_cpu, event_cpu = med(f"model_{citizens}", "run_cpu"), med(f"kernels_{citizens}", "event_cpu")
        dense_cpu = med(f"kernels_{citizens}", "dense_cpu")
        ratio = run_cpu / event_cpu
        rows.append((f"kernel_{citizens}", f"full model / event-driven kernel at {citizens:,} (CPU)", f"{ratio:.2f}x",
                     f"<= {TARGETS['vs_kernel']:.0f}x", ratio <= TARGETS["vs_kernel"]))
        rows.append((f"dense_{citizens}", f"full model / dense kernel at {citizens:,} (CPU)", f"{run_cpu / dense_cpu:.2f}x",
                     "(issue 5: <= 3x)", run_cpu / dense_cpu <= 3))
    build_ratio = med(f"model_{largest}", "build_cpu") / (med(f"model_{largest}", "run_cpu") * 12 / MONTHS)
    rows.append(("build", f"build / 12 months' run at {largest:,} (CPU)", f"{build_ratio:.2f}", "< 1", build_ratio < 1))
    if "memory" in data and "build_cpu" in data["memory"]:
        memory = data["memory"]
        fresh = memory["build_cpu"]["median"] / (memory["run_cpu"]["median"] * 12 / MONTHS)
        rows.append(("build_fresh", f"build / 12 months' run at {largest:,}, in a fresh process (CPU)", f"{fresh:.2f}",
                     "< 1", fresh < 1))
    boltz = med("model_10000", "run_cpu")
    vs_boltzmann = 10_000 * MONTHS / boltz / med("boltzmann_10000", "rate_cpu")
    rows.append(("boltzmann", "full model at 10,000 / Boltzmann at 10,000 (steps/s, CPU)", f"{vs_boltzmann:.1f}x",
                 ">= 20x", vs_boltzmann >= 20))
    scaling = med(f"model_{largest}", "ns_cpu") / med("model_10000", "ns_cpu")
    rows.append(("scaling", f"cost per citizen-step at {largest:,} / at 10,000 (CPU, same horizon)", f"{scaling:.2f}x",
                 "<= 1.5x", scaling <= 1.5))
    per_citizen = (data["memory"]["peak"]["median"] - data["memory"]["before"]["median"]) / largest
    rows.append(("memory", f"peak memory per citizen at {largest:,}", f"{per_citizen:,.0f} B", "< 2,048 B",
                 per_citizen < 2048))
    if "cli" in data:
        whole = med("cli", "whole_wall")
        rows.append(("cli", "`cryptoabm run` of a preset, whole process (wall)", f"{whole:.2f} s", "< 1.0 s", whole < 1.0))
    for name, target in (("headline", "headline_speedup"), ("sweep", "sweep_speedup")):
        if f"{name}_2" in data:
            speedup = med(f"{name}_1", "wall") / med(f"{name}_2", "wall")
            rows.append((name, f"{name} batch end to end, 2 workers / 1 (wall)", f"{speedup:.2f}x",
                         f">= {TARGETS[target]}x", speedup >= TARGETS[target]))
    if "study" in data:
        per_run = data["study"]["per_run_cpu"]["median"]
        rows.append(("standalone", "standalone run of the default preset, 2,000 citizens x 60 months (CPU)",
                     f"{per_run * 1000:.0f} ms", f"< {TARGETS['standalone_run_s'] * 1000:.0f} ms",
                     per_run < TARGETS["standalone_run_s"]))
        rows.append(("ensemble", "amortised run in a lock-step ensemble (CPU)", "not built",
                     f"< {TARGETS['ensemble_run_s'] * 1000:.0f} ms", False))
        wall = data["study"]["wall"]["median"]
        runs = int(data["study"]["runs"]["median"])
        # the target is for the full design: a smaller study is scaled to it at the same runs per second
        at_target_size = wall * STUDY_RUNS / runs
        scaled = "" if runs == STUDY_RUNS else f" (scaled from {runs:,} runs in {wall:.0f} s)"
        rows.append(("study", f"study, {STUDY_RUNS:,} runs on 2 workers, end to end (wall){scaled}",
                     f"{at_target_size:.0f} s", "< 240 s", at_target_size < TARGETS["study_s"]))
    if "national" in data and "refused" not in data["national"]:
        national = data["national"]
        total = national["build_s"]["median"] + national["run_s"]["median"]
        gib = national["peak"]["median"] / 2**30
        rows.append(("national", f"national scale: build + run, {NATIONAL_CITIZENS:,} x {NATIONAL_MONTHS} months (wall)",
                     f"{total:.1f} s", "< 45 s", total < TARGETS["national_s"]))
        total_cpu = national["build_cpu"]["median"] + national["run_cpu"]["median"]
        rows.append(("national_cpu", f"national scale: build + run, {NATIONAL_CITIZENS:,} x {NATIONAL_MONTHS} months (CPU)",
                     f"{total_cpu:.1f} s", "(< 45 s)", total_cpu < TARGETS["national_s"]))
        rows.append(("national_memory", "national scale: peak memory", f"{gib:.2f} GiB", "< 4 GiB",
                     gib < TARGETS["national_gib"]))
    for kind in NETWORK_KINDS:
        figures = data.get("networks", {}).get(kind)
        if figures is not None:
            build = figures["build_s"]["median"]
            rows.append((f"network_{kind}", f"{kind} network built at {NETWORK_CITIZENS:,} citizens (wall)",
                         f"{build:.1f} s", f"< {TARGETS['network_s']:.0f} s", build < TARGETS["network_s"]))
    return rows


if __name__ == "__main__":
    main()
