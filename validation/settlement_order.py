"""How much the order in which farms settle within a month moves a run's outcomes.

    python validation/settlement_order.py > validation/settlement_order.md   # what is committed
    python validation/settlement_order.py [PRESET ...] [--seeds 12] [--base-seeds 1 101]

Farms settle one after another in creation order (docs/ODD.md, Updating). Settlement reads
what earlier farms did only through the keep-or-sell value: under a rationing cap a farm's
expected share of the cap counts the others' full-load power (a farm that closed earlier raises
it, one that bought rigs lowers it), and under a licence cap a licence handed back lowers a
foreign owner's policy-risk premium. This script runs every preset (or those named) on the same
seeds twice, farms settling in creation order and in reverse order, and prints, for five
outcomes, the spread across seeds beside the order's effect on the same seed: its median, its
largest absolute value, and on how many seeds it exceeds a millionth of the outcome (more than
float rounding). Each base seed is a separate set of seeds (base, base + 1, ...): a claim about
the order's size should hold on both.

The answer decides whether farms could settle simultaneously (as arrays, issue 20's lock-step
ensembles) without changing what the model says: where the order never matters beyond rounding,
nothing would change; where it does, by how much against the noise between seeds.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from cryptoabm.cli import OneLineParser
from cryptoabm.config import load_scenario
from cryptoabm.model import CryptoEconomy

ROOT = Path(__file__).resolve().parents[1]
PRESETS = ("baseline", "turkmenistan_2026", "kazakhstan_2021", "kazakhstan_cryptocity", "el_salvador_2021",
           "dubai_2025", "car_2022")
# outcome: (label, what it is read from the monthly table)
OUTCOMES = {
    "national_gain_usd": ("national gain from mining, 60 months", lambda t: t.national_gain_from_mining_usd.sum()),
    "fiscal_net_usd": ("fiscal net, 60 months", lambda t: t.fiscal_net_usd.sum()),
    "fdi_usd": ("FDI received, 60 months", lambda t: t.fdi_gross_usd.sum()),
    "hashrate_ehs": ("national hashrate at the end, EH/s", lambda t: t.hashrate_ehs.iloc[-1]),
    "farms": ("farms at the end", lambda t: float(t.miners.iloc[-1])),
}
BEYOND_ROUNDING = 1e-6  # relative difference above which the order, not float rounding, moved an outcome


HEADER = """# Does the order in which farms settle matter?

Written by `python validation/settlement_order.py > validation/settlement_order.md` (what it does:
the script's docstring). Farms settle one after another in creation order (docs/ODD.md, Updating);
the model was run on the same seeds with farms settling in that order and in reverse, 12 seeds on
each of two base seeds, on every preset. "Beyond rounding" means a difference larger than a
millionth of the outcome.
"""


class ReverseSettlement(CryptoEconomy):
    """The same model, farms settling in the reverse of creation order."""

    def settle_farms(self) -> None:
        for farm in reversed(list(self.miners)):
            farm.settle_month()


def outcomes(model_class: type[CryptoEconomy], scenario, seed: int) -> dict[str, float]:
    table = model_class(scenario, seed=seed).run()
    return {name: float(read(table)) for name, (_label, read) in OUTCOMES.items()}


def compare(preset: str, seeds: list[int]) -> list[str]:
    scenario = load_scenario(ROOT / "configs" / f"{preset}.toml")
    forward = [outcomes(CryptoEconomy, scenario, seed) for seed in seeds]
    backward = [outcomes(ReverseSettlement, scenario, seed) for seed in seeds]
    rows = []
    for name, (label, _read) in OUTCOMES.items():
        values = np.array([run[name] for run in forward])
        effect = np.array([run[name] for run in backward]) - values
        beyond = np.abs(effect) > BEYOND_ROUNDING * np.maximum(np.abs(values), 1.0)
        largest = np.abs(effect).max()
        spread = values.std(ddof=1)
        rows.append(f"| {preset} | {seeds[0]}-{seeds[-1]} | {label} | {values.mean():.4g} | {spread:.3g} | "
                    f"{np.median(effect):.3g} | {largest:.3g} ({largest / spread if spread else 0:.0%} of the spread) | "
                    f"{int(beyond.sum())}/{len(seeds)} |")
    return rows


def main() -> None:
    parser = OneLineParser(prog="settlement_order.py", description=__doc__.splitlines()[0])
    parser.add_argument("presets", nargs="*", choices=PRESETS, metavar="PRESET",
                        help="presets to run (default: all of " + ", ".join(PRESETS) + ")")
    parser.add_argument("--seeds", type=int, default=12, help="seeds per base seed (default 12; a spread needs 2)")
    parser.add_argument("--base-seeds", type=int, nargs="+", default=[1, 101], help="first seed of each set")
    args = parser.parse_args()
    if args.seeds < 2:
        parser.error(f"--seeds {args.seeds} gives no spread across seeds: use at least 2")
    print(HEADER)
    print("| preset | seeds | outcome | mean | spread across seeds (SD) | order's effect, median | "
          "order's effect, largest | seeds moved beyond rounding |")
    print("|---|---|---|---:|---:|---:|---:|---:|")
    for preset in args.presets or PRESETS:
        for base in args.base_seeds:
            for row in compare(preset, list(range(base, base + args.seeds))):
                print(row, flush=True)


if __name__ == "__main__":
    main()
