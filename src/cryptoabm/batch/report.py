"""The comparison report of a batch: ``report.md`` and its figures, all computed from the tables.

For each arm (and design point): mean, standard deviation and 95% t-interval across
replications of the key outcomes; paired differences against the reference (same design
point, or the experiment's reference point, and the same replicate, i.e. the same random
numbers), with their t-intervals; fan charts of the main time series; and a bar chart of the
differences. Nothing in the report is typed by hand.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
from scipy import stats  # noqa: E402

from cryptoabm.batch.store import MANIFEST, RUNS_TABLE, TIMESERIES  # noqa: E402
from cryptoabm.summary import OUTCOMES, format_value  # noqa: E402

REPORT = "report.md"
FIGURES = "figures"
CONFIDENCE = 0.95
KEY_OUTCOMES = (
    "final_wallet_share", "final_active_share", "peak_global_hashrate_share", "mean_grey_load_share",
    "min_reserve_margin", "total_unserved_mwh", "total_fdi_inflow_usd", "total_profit_repatriation_usd",
    "total_capital_flight_usd", "total_state_revenue_usd", "total_bonus_outlay_usd", "total_export_value_forgone_usd",
)
FAN_PANELS = {
    "adoption": (("active_share", "Active users, share of citizens"), ("wallet_share", "Wallet holders, share of citizens")),
    "mining_and_grid": (("hashrate_ehs", "National hashrate, EH/s"), ("reserve_margin", "Reserve margin, share")),
    "money_flows": (("fdi_inflow_usd", "FDI inflow, USD/month"), ("capital_flight_usd", "Capital flight, USD/month"),
                    ("state_revenue_usd", "State revenue, USD/month")),
}
BAND = (0.05, 0.95)  # fan charts shade the 5th-95th percentile across replications


class ReportError(Exception):
    """A folder that holds no batch results (one plain line)."""


@dataclass(frozen=True)
class Interval:
    mean: float
    sd: float
    low: float
    high: float
    n: int


def t_interval(values: np.ndarray, confidence: float = CONFIDENCE) -> Interval:
    """Mean, sample SD and the two-sided t-interval of the mean (degenerate for n < 2)."""
    values = np.asarray(values, dtype=float)
    n = values.size
    mean = float(values.mean()) if n else math.nan
    if n < 2:
        return Interval(mean, math.nan, math.nan, math.nan, n)
    sd = float(values.std(ddof=1))
    half = float(stats.t.ppf(0.5 + confidence / 2, n - 1)) * sd / math.sqrt(n)
    return Interval(mean, sd, mean - half, mean + half, n)


def arm_summaries(runs: pd.DataFrame) -> pd.DataFrame:
    """One row per (label, outcome): mean, sd and 95% interval across replications."""
    rows = []
    for label, group in runs.groupby("label", sort=False):
        for outcome in KEY_OUTCOMES:
            interval = t_interval(group[outcome].to_numpy())
            rows.append({"label": label, "outcome": outcome, **interval.__dict__})
    return pd.DataFrame(rows)


def paired_differences(runs: pd.DataFrame, reference_arm: str, reference_point: dict | None) -> pd.DataFrame:
    """Each (label, outcome)'s mean difference from the reference, paired by replicate."""
    reference = runs[runs["arm"] == reference_arm]
    if reference_point is not None:
        mask = np.ones(len(reference), dtype=bool)
        for key, value in reference_point.items():
            mask &= (reference[key] == value).to_numpy()
        reference = reference[mask]
    rows = []
    for label, group in runs.groupby("label", sort=False):
        if reference_point is None:
            matched = reference[reference["point"] == group["point"].iloc[0]]
        else:
            matched = reference
        if group["run_id"].isin(matched["run_id"]).all():
            continue  # the reference itself
        paired = group.merge(matched, on="replicate", suffixes=("", "_ref"))
        for outcome in KEY_OUTCOMES:
            difference = paired[outcome].to_numpy() - paired[f"{outcome}_ref"].to_numpy()
            interval = t_interval(difference)
            rows.append({"label": label, "outcome": outcome, **interval.__dict__,
                         "reference": matched["label"].iloc[0] if len(matched) else reference_arm})
    return pd.DataFrame(rows)


def _fmt(outcome: str, value: float) -> str:
    if isinstance(value, float) and math.isnan(value):
        return "n/a"
    return format_value(value, OUTCOMES[outcome][3])


def _fan_chart(timeseries: pd.DataFrame, panels: tuple, path: Path, title: str) -> None:
    fig, axes = plt.subplots(1, len(panels), figsize=(6 * len(panels), 4.2), constrained_layout=True, squeeze=False)
    for ax, (column, label) in zip(axes[0], panels, strict=True):
        for name, group in timeseries.groupby("label", sort=False):
            by_month = group.groupby("month")[column]
            mean = by_month.mean()
            ax.plot(mean.index, mean.to_numpy(), label=name)
            ax.fill_between(mean.index, by_month.quantile(BAND[0]).to_numpy(), by_month.quantile(BAND[1]).to_numpy(),
                            alpha=0.2)
        ax.set_title(label, fontsize=10)
        ax.set_xlabel("month")
    axes[0][0].legend(fontsize=7)
    fig.suptitle(f"{title}: mean and {int(BAND[0] * 100)}-{int(BAND[1] * 100)}% band across replications")
    fig.savefig(path, format="png", dpi=90, metadata={"Software": None})
    plt.close(fig)


def _difference_bars(differences: pd.DataFrame, path: Path) -> None:
    outcomes = [o for o in KEY_OUTCOMES if o in set(differences["outcome"])]
    columns = 3
    rows = math.ceil(len(outcomes) / columns)
    fig, axes = plt.subplots(rows, columns, figsize=(15, 3.2 * rows), constrained_layout=True, squeeze=False)
    for ax, outcome in zip(axes.flat, outcomes, strict=False):
        part = differences[differences["outcome"] == outcome]
        errors = np.vstack([part["mean"] - part["low"], part["high"] - part["mean"]])
        ax.barh(part["label"], part["mean"], xerr=np.nan_to_num(errors), color="tab:blue", alpha=0.7, capsize=3)
        ax.axvline(0, color="black", linewidth=0.8)
        ax.set_title(OUTCOMES[outcome][2], fontsize=9)
        ax.tick_params(axis="y", labelsize=7)
    for ax in list(axes.flat)[len(outcomes):]:
        ax.set_visible(False)
    fig.suptitle("Difference from the reference (mean and 95% t-interval, paired by replicate)")
    fig.savefig(path, format="png", dpi=90, metadata={"Software": None})
    plt.close(fig)


def write_report(folder: Path) -> Path:
    """Write ``report.md`` and ``figures/`` for the batch in ``folder``; returns the report's path."""
    folder = Path(folder)
    if not (folder / MANIFEST).exists() or not (folder / RUNS_TABLE).exists():
        raise ReportError(f"{folder} holds no finished batch (no {MANIFEST} and {RUNS_TABLE})")
    manifest = json.loads((folder / MANIFEST).read_text())
    runs = pd.read_parquet(folder / RUNS_TABLE)
    timeseries = pd.read_parquet(folder / TIMESERIES)
    if runs.empty:
        raise ReportError(f"{folder} holds no finished runs yet")
    figures = folder / FIGURES
    figures.mkdir(exist_ok=True)
    summaries = arm_summaries(runs)
    differences = paired_differences(runs, manifest["reference"], manifest.get("reference_point"))

    lines = [f"# {manifest['experiment']}", "", f"**Question.** {manifest['question']}", ""]
    n_reps = runs.groupby("label").size()
    lines += [f"{len(runs)} runs: {runs['label'].nunique()} arms/design points x "
              f"{n_reps.min()}{'' if n_reps.min() == n_reps.max() else f'-{n_reps.max()}'} replications, "
              f"common random numbers across arms (replicate r uses the same seed everywhere). "
              f"Intervals are two-sided {int(CONFIDENCE * 100)}% t-intervals across replications. "
              f"Generated by `cryptoabm report` from `{RUNS_TABLE}` and `{TIMESERIES}`.", ""]
    lines += ["## Outcomes by arm", "", "Mean, with [95% interval] and (SD) across replications.", ""]
    labels = list(dict.fromkeys(runs["label"]))
    header = "| outcome | " + " | ".join(labels) + " |"
    lines += [header, "|---" * (len(labels) + 1) + "|"]
    for outcome in KEY_OUTCOMES:
        cells = []
        for label in labels:
            row = summaries[(summaries["label"] == label) & (summaries["outcome"] == outcome)].iloc[0]
            cells.append(f"{_fmt(outcome, row['mean'])} [{_fmt(outcome, row['low'])}, {_fmt(outcome, row['high'])}] "
                         f"({_fmt(outcome, row['sd'])})")
        lines.append(f"| {OUTCOMES[outcome][2]} | " + " | ".join(cells) + " |")
    lines.append("")
    if not differences.empty:
        reference_label = differences["reference"].iloc[0]
        lines += ["## Paired differences from the reference", "",
                  f"Reference: **{reference_label}**"
                  + ("" if manifest.get("reference_point") is None else " (the reference design point)")
                  + ". Each cell is the mean over replicates of (arm - reference) on the same random numbers, "
                    "with its 95% t-interval; an interval that excludes 0 is marked *.", ""]
        diff_labels = list(dict.fromkeys(differences["label"]))
        lines += ["| outcome | " + " | ".join(diff_labels) + " |", "|---" * (len(diff_labels) + 1) + "|"]
        for outcome in KEY_OUTCOMES:
            cells = []
            for label in diff_labels:
                row = differences[(differences["label"] == label) & (differences["outcome"] == outcome)].iloc[0]
                excludes_zero = row["low"] > 0 or row["high"] < 0
                cells.append(f"{_fmt(outcome, row['mean'])} [{_fmt(outcome, row['low'])}, {_fmt(outcome, row['high'])}]"
                             + (" *" if excludes_zero else ""))
            lines.append(f"| {OUTCOMES[outcome][2]} | " + " | ".join(cells) + " |")
        lines.append("")
        _difference_bars(differences, figures / "differences.png")
        lines += ["![Differences from the reference](figures/differences.png)", ""]
    lines += ["## Time series", ""]
    for name, panels in FAN_PANELS.items():
        if all(column in timeseries.columns for column, _ in panels):
            _fan_chart(timeseries, panels, figures / f"fan_{name}.png", name.replace("_", " ").capitalize())
            lines += [f"![{name}](figures/fan_{name}.png)", ""]
    failed = sorted(p.name.removesuffix(".failed.json") for p in (folder / "runs").glob("*.failed.json"))
    if failed:
        lines += ["## Failed runs", "", f"{len(failed)} runs failed and are left out above: "
                  + ", ".join(f"`{r}`" for r in failed) + " (tracebacks in `runs/<run_id>.failed.json`).", ""]
    report = folder / REPORT
    report.write_text("\n".join(lines))
    return report
