"""The fiscal net and the national gain of a finished batch at any shadow value of energy.

    python experiments/accounts_at_shadow_values.py results/turkmenistan_options [--country turkmenistan]

The shadow value of the energy miners burn (``grid.energy_shadow_value_usd_per_mwh``) is an
accounting price: it changes no behaviour, and the fiscal net and the national gain fall one
for one with the energy's shadow cost. So a batch run at the country's central value gives both
at every other value exactly, from the same runs: at value v,
``X(v) = X(v0) - (v / v0 - 1) x shadow cost(v0)``. For each arm this prints the paired
difference from the reference arm (mean over replicates, [95% t-interval]) at the low, central
and high ends of the country's range, and the shadow value at which the mean difference changes
sign (the break-even value: none if it keeps its sign for every non-negative value).
"""

from __future__ import annotations

import argparse
import json
import math
from pathlib import Path

import numpy as np
import pandas as pd
from scipy import stats

from cryptoabm.config import load_scenario

CONFIGS = Path(__file__).resolve().parents[1] / "configs"
OUTCOMES = {"total_fiscal_net_usd": "fiscal net", "total_national_gain_from_mining_usd": "national gain from mining"}
ENERGY = "total_energy_shadow_cost_usd"


def t_interval(values: np.ndarray) -> tuple[float, float, float]:
    mean = float(np.mean(values))
    if len(values) < 2:
        return mean, mean, mean
    half = float(stats.t.ppf(0.975, len(values) - 1) * np.std(values, ddof=1) / math.sqrt(len(values)))
    return mean, mean - half, mean + half


def millions(value: float) -> str:
    return f"{value / 1e6:+,.1f}m"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("results", type=Path, help="a batch results folder (runs.parquet, manifest.json)")
    parser.add_argument("--country", default="turkmenistan", help="the country file whose shadow value and range apply")
    args = parser.parse_args()
    grid = load_scenario(CONFIGS / "countries" / f"{args.country}.toml").grid
    central = grid.energy_shadow_value_usd_per_mwh
    low, high = grid.energy_shadow_value_range_usd_per_mwh
    runs = pd.read_parquet(args.results / "runs.parquet")
    manifest = json.loads((args.results / "manifest.json").read_text())
    reference = manifest.get("reference") or runs["arm"].iloc[0]
    one_lever_arms = set((manifest.get("decomposition") or {}).get("arms", {}))  # decompose = true: left out
    runs = runs[~runs["arm"].isin(one_lever_arms)]
    base = runs[runs["arm"] == reference].set_index("replicate")
    print(f"{args.results.name}: paired differences from {reference}, USD; shadow value {central:g} in [{low:g}, {high:g}] USD/MWh")
    for arm in [a for a in runs["arm"].unique() if a != reference]:
        other = runs[runs["arm"] == arm].set_index("replicate").loc[base.index]
        energy = (other[ENERGY] - base[ENERGY]).to_numpy()
        for column, name in OUTCOMES.items():
            difference = (other[column] - base[column]).to_numpy()
            cells = []
            for value in (low, central, high):
                # at value v the difference falls by (v / central - 1) x the difference in shadow cost
                mean, lo, hi = t_interval(difference - (value / central - 1.0) * energy)
                cells.append(f"at {value:g}: {millions(mean)} [{millions(lo)}, {millions(hi)}]")
            slope = float(np.mean(energy)) / central  # USD of difference lost per USD/MWh of shadow value
            breakeven = central + float(np.mean(difference)) / slope if slope else float("nan")
            even = f"changes sign at {breakeven:,.0f} USD/MWh" if breakeven >= 0 and math.isfinite(breakeven) else "keeps its sign"
            print(f"  {arm:<20} {name:<26} " + "; ".join(cells) + f"; {even}")


if __name__ == "__main__":
    main()
