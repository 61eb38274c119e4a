"""Do the robustness claims survive a second base seed? (issue 19)

A claim such as "the package raises revenue at 78% of points" is a share of a sampled design's
points, and the points' seeds come from the experiment's base seed. The same experiment run
with another base seed (another sample of points and seeds) gives a second figure for every
claim; :func:`compare_win_shares` puts the two side by side, and a claim is reported with both.
One *agrees* when the two shares differ by at most ``AGREEMENT`` (an analysis choice) and fall
on the same side of one half.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from cryptoabm.batch.sensitivity import AnalysisError

AGREEMENT = 0.10  # analysis choice: two seeds' shares within 10 points (and on the same side of 1/2) agree
SECTION = "sensitivity_second_seed.md"


def check_same_experiment(first: dict, second: dict, where: str) -> None:
    """AnalysisError unless the two manifests are the same experiment and design on different base seeds."""
    if first.get("experiment") != second.get("experiment") or first.get("design_spec") != second.get("design_spec"):
        raise AnalysisError(f"--second-seed {where}: not the same experiment and design as the batch analysed")
    if first.get("base_seed") == second.get("base_seed"):
        raise AnalysisError(f"--second-seed {where}: run with the same base seed ({first.get('base_seed')}); "
                            f"rerun the experiment with another base_seed")


def compare_win_shares(first: pd.DataFrame, second: pd.DataFrame) -> pd.DataFrame:
    """Each (arm, outcome)'s share of points where it beats the reference, at both seeds."""
    keys = ["arm", "reference", "outcome", "better"]
    merged = first[[*keys, "share_better"]].merge(second[[*keys, "share_better"]], on=keys,
                                                  suffixes=("_first", "_second"))
    merged["difference"] = merged["share_better_second"] - merged["share_better_first"]
    same_side = (merged["share_better_first"] > 0.5) == (merged["share_better_second"] > 0.5)
    merged["agrees"] = (merged["difference"].abs() <= AGREEMENT) & same_side
    return merged


def second_seed_section(table: pd.DataFrame, seeds: tuple[int, int], figure: str) -> list[str]:
    """The report's section: every claim at both seeds."""
    lines = ["## Robustness claims on a second base seed", "",
             f"The same experiment and design run with base seed {seeds[0]} and with {seeds[1]}. Each claim is the "
             f"share of points at which the arm beats the reference; it *agrees* when the two shares differ by at "
             f"most {AGREEMENT:.0%} and fall on the same side of one half. "
             f"**{int(table['agrees'].sum())} of {len(table)} claims agree.** Quote both figures.", "",
             f"| arm | outcome | better | seed {seeds[0]} | seed {seeds[1]} | agrees |", "|---|---|---|---|---|---|"]
    for r in table.itertuples():
        lines.append(f"| {r.arm} | {r.outcome} | {r.better} | {r.share_better_first:.0%} | {r.share_better_second:.0%} "
                     f"| {'yes' if r.agrees else '**no**'} |")
    lines += ["", f"![Claims at two seeds]({figure})", ""]
    return lines


def second_seed_figure(table: pd.DataFrame, seeds: tuple[int, int], path: Path) -> None:
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(5, 5), layout="constrained")
    FigureCanvasAgg(fig)
    ax = fig.subplots()
    colours = ["tab:green" if agrees else "tab:red" for agrees in table["agrees"]]
    ax.scatter(table["share_better_first"], table["share_better_second"], c=colours, s=18)
    ax.plot([0, 1], [0, 1], color="black", lw=0.8)
    ax.fill_between([0, 1], [-AGREEMENT, 1 - AGREEMENT], [AGREEMENT, 1 + AGREEMENT], color="grey", alpha=0.15)
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1)
    ax.set_xlabel(f"share of points where the arm beats the reference, seed {seeds[0]}")
    ax.set_ylabel(f"same, seed {seeds[1]}")
    ax.set_title("Robustness claims at two base seeds (red: disagree)", fontsize=10)
    fig.savefig(path, dpi=100, metadata={"Software": None})
