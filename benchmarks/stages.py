"""Where a small run's time goes: the CPU time of each stage of the month, per run, by preset.

    python benchmarks/stages.py                       # the default scenario and every preset, 5 seeds each
    python benchmarks/stages.py baseline --seeds 10   # presets named (``default`` is the Scenario() default)

Each stage is timed around the methods ``CryptoEconomy.step`` calls, in the order of the month
(docs/ODD.md, Process overview), by wrapping them on one model at a time; a method called from
inside another timed method counts towards the outer one only. The farms' stages (licensing,
investors, entry, planning, settlement, enforcement) scale with the number of farms, the
citizens' stage with the number of citizens; "rest" is what the month does between the timed
calls (the ledger's new month, the state's review, the events, Mesa's scheduler). Building the
monthly table at the end is not counted. Times are CPU (``time.process_time``), medians over the
seeds. The wrapping itself costs about two microseconds a call, and a baseline run makes several
thousand calls (two a farm a month, and the investors'), so a few percent of a run.

The figures decide what a faster small run needs (issue 20): a per-run saving can only come from
the stages that dominate, and a lock-step ensemble amortises a stage only if it runs with a
member axis. Nothing here changes the model: a timed run gives the same table as an untimed one
(checked at the end of every preset).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from contextlib import contextmanager
from statistics import median

import numpy as np
import pandas as pd

from cryptoabm.agents.investor import ForeignInvestor
from cryptoabm.agents.miner import Miner
from cryptoabm.cli import OneLineParser
from cryptoabm.config import Scenario
from cryptoabm.model import CryptoEconomy
from cryptoabm.config.catalogue import configs_dir, preset_files
from cryptoabm.presets import scenario_for

# stage: the methods timed for it, as (where the method lives, its name); "model." is the model
# itself, "class:" a class whose every agent's method is timed
STAGES: dict[str, tuple[str, ...]] = {
    "market and world fleet": ("market.advance", "market.update_rest_of_world_hashrate",
                               "market.observe_national_hashrate"),
    "licensing review": ("licensing.review",),
    "investors": ("class:ForeignInvestor.review_special_zone", "class:ForeignInvestor.collect_returns"),
    "entry": ("mining_entry.step",),
    "planning and dispatch": ("class:Miner.plan_operation", "grid.dispatch_power", "model.observe_mining"),
    "settlement": ("model.settle_farms",),
    "enforcement": ("state.enforce_against_grey_miners",),
    "citizens and bonus": ("population.step", "state.bonus_campaign.offer", "state.bonus_campaign.pay"),
    "recording": ("model.record_month",),
}
CLASSES = {"ForeignInvestor": ForeignInvestor, "Miner": Miner}
FARM_STAGES = ("licensing review", "investors", "entry", "planning and dispatch", "settlement", "enforcement")


class StageClock:
    """CPU seconds spent in each stage, counting a nested timed call towards the outer one."""

    def __init__(self) -> None:
        self.seconds = dict.fromkeys(STAGES, 0.0)
        self.depth = 0

    def timed(self, stage: str, method: Callable) -> Callable:
        def wrapper(*args, **kwargs):
            if self.depth:
                return method(*args, **kwargs)
            self.depth += 1
            started = time.process_time()
            try:
                return method(*args, **kwargs)
            finally:
                self.seconds[stage] += time.process_time() - started
                self.depth -= 1
        return wrapper


def resolve(model: CryptoEconomy, path: str) -> tuple[object, str]:
    """The object a dotted ``path`` (from the model) names a method of, and the method's name."""
    *owners, name = path.removeprefix("model.").split(".")
    owner = model
    for attribute in owners:
        owner = getattr(owner, attribute)
    return owner, name


@contextmanager
def stage_clock(model: CryptoEconomy):
    """Time the stages of ``model``'s months; the agents' classes are restored afterwards."""
    clock = StageClock()
    restored = []
    try:
        for stage, paths in STAGES.items():
            for path in paths:
                if path.startswith("class:"):
                    class_name, name = path.removeprefix("class:").split(".")
                    cls = CLASSES[class_name]
                    restored.append((cls, name, cls.__dict__[name]))
                    setattr(cls, name, clock.timed(stage, cls.__dict__[name]))
                else:
                    owner, name = resolve(model, path)
                    setattr(owner, name, clock.timed(stage, getattr(owner, name)))
        yield clock
    finally:
        for cls, name, method in restored:
            setattr(cls, name, method)


def scenario_named(name: str) -> Scenario:
    """``default`` (the ``Scenario()`` defaults, the benchmark's standalone run) or a preset."""
    return Scenario() if name == "default" else scenario_for(name)


def measure(name: str, seeds: int) -> dict:
    """Per-run CPU seconds by stage (medians over ``seeds`` seeds), and the farms' counts."""
    scenario = scenario_named(name)
    runs = []
    for seed in range(1, seeds + 1):
        started = time.process_time()
        model = CryptoEconomy(scenario, seed=seed)
        build = time.process_time() - started
        with stage_clock(model) as clock:
            started = time.process_time()
            for _ in range(scenario.months):
                model.step()
            months = time.process_time() - started
        table = model.results()
        untimed = CryptoEconomy(scenario, seed=seed).run()
        pd.testing.assert_frame_equal(table, untimed, check_exact=True)  # timing changed nothing
        seconds = dict(clock.seconds)
        seconds["rest"] = months - sum(clock.seconds.values())
        runs.append({"build": build, "months": months, "stages": seconds,
                     "farm_months": float(table["miners"].sum()), "months_run": len(table)})
    return {
        "name": name, "citizens": scenario.population.citizens, "months_run": runs[0]["months_run"],
        "build": median(run["build"] for run in runs), "months": median(run["months"] for run in runs),
        "stages": {stage: median(run["stages"][stage] for run in runs) for stage in runs[0]["stages"]},
        "farm_months": median(run["farm_months"] for run in runs),
        "farm_seconds": median(sum(run["stages"][stage] for stage in FARM_STAGES) for run in runs),
    }


def table_lines(results: list[dict], seeds: int) -> list[str]:
    """The Markdown table: a column per preset, a row per stage, then the run's size and farms."""
    names = [result["name"] for result in results]
    lines = [f"CPU ms per run, median of {seeds} seeds (share of the months' time in brackets)", "",
             "| stage | " + " | ".join(names) + " |", "|---" + "|---:" * len(names) + "|"]
    for stage in [*STAGES, "rest"]:
        cells = [f"{1000 * r['stages'][stage]:.1f} ({r['stages'][stage] / r['months']:.0%})" for r in results]
        lines.append(f"| {stage} | " + " | ".join(cells) + " |")
    lines.append("| **the months** | " + " | ".join(f"**{1000 * r['months']:.1f}**" for r in results) + " |")
    lines.append("| building the model | " + " | ".join(f"{1000 * r['build']:.1f}" for r in results) + " |")
    lines.append("| citizens x months | " + " | ".join(f"{r['citizens']:,} x {r['months_run']}" for r in results) + " |")
    lines.append("| farms in an average month | " + " | ".join(f"{r['farm_months'] / r['months_run']:.1f}" for r in results) + " |")
    lines.append("| farms' stages, share of the months | " + " | ".join(f"{r['farm_seconds'] / r['months']:.0%}" for r in results) + " |")
    lines.append("| farms' stages per farm-month, microseconds | " + " | ".join(
        f"{1e6 * r['farm_seconds'] / r['farm_months']:.0f}" if r["farm_months"] else "-" for r in results) + " |")
    return lines


def main() -> None:
    parser = OneLineParser(prog="stages.py", description=__doc__.split("\n\n")[0])
    choices = ["default", *(path.stem for path in preset_files(configs_dir()))]
    parser.add_argument("presets", nargs="*", choices=choices, metavar="PRESET",
                        help=f"default (the Scenario() default) or a preset: {', '.join(choices[1:])}; all if none")
    parser.add_argument("--seeds", type=int, default=5, help="seeds per preset (at least 1; default 5)")
    args = parser.parse_args()
    if args.seeds < 1:
        parser.error(f"--seeds must be at least 1, not {args.seeds}")
    CryptoEconomy(Scenario(), seed=1).run(months=2)  # imports and first-call costs out of the figures
    results = [measure(name, args.seeds) for name in (args.presets or choices)]
    print("\n".join(table_lines(results, args.seeds)))
    print(f"\n(numpy {np.__version__}; every timed run's table equals the untimed run's, exactly)")


if __name__ == "__main__":
    main()
