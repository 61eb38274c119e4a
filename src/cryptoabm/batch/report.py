"""The comparison report of a batch: ``report.md`` and its figures, all computed from the tables.

For each arm (and design point): mean, standard deviation and 95% interval across
replications of the key outcomes (a bootstrap interval for outcomes bounded at zero, which
cannot cross zero, a t-interval for the others); paired differences against the reference
(same design point, or the experiment's reference point, and the same replicate, i.e. the
same random numbers), with their t-intervals (differences can be negative); fan charts of the main time series; and a bar chart of the
differences. Nothing in the report is typed by hand.

The outcomes shown are those the experiment declares (``report_outcomes``; default: the
headline set). Figures use the tables' units: money in $k/$m/$bn, shares in %, and calendar
dates on the time axis when the arms start in different months.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.ticker import Formatter, FuncFormatter, PercentFormatter
from scipy.special import stdtrit  # Student's t quantile (what scipy.stats.t.ppf computes), without scipy.stats

from cryptoabm.batch.experiment import HEADLINE_OUTCOMES
from cryptoabm.batch.store import MANIFEST, RUNS_TABLE, TIMESERIES, StoreError, read_manifest
from cryptoabm.config.errors import InputError
from cryptoabm.summary import BOUNDED_AT_ZERO, OUTCOMES, format_value

REPORT = "report.md"
FIGURES = "figures"
CONFIDENCE = 0.95
BOOTSTRAP_RESAMPLES = 2000  # resamples of a bootstrap interval (scipy.stats.bootstrap, BCa)
BOOTSTRAP_SEED = 20260101  # the report's intervals are the same every time it is written
SECTIONS = "sections"  # DIR/sections/*.md: parts other commands add to the report (e.g. sensitivity)
KEY_OUTCOMES = HEADLINE_OUTCOMES  # the default set; an experiment may declare its own
# panel: (column, title, unit) with unit "pct" (shown in %), "usd" ($k/$m/$bn) or "num"
FAN_PANELS = {
    "adoption": (("active_share", "Active users, % of citizens", "pct"),
                 ("wallet_share", "Wallet holders, % of citizens", "pct")),
    "mining_and_grid": (("hashrate_ehs", "National hashrate, EH/s", "num"),
                        ("reserve_margin", "Reserve margin, %", "pct")),
    "money_flows": (("fdi_inflow_usd", "FDI inflow, USD a month", "usd"),
                    ("capital_flight_usd", "Capital flight, USD a month", "usd"),
                    ("state_revenue_usd", "State revenue, USD a month", "usd")),
}
BAND = (0.05, 0.95)  # fan charts shade the 5th-95th percentile across replications
FIGURE_DPI = 100  # at 100% zoom a point is 1.4 px: 10-point labels are 14 px tall
LABEL_POINTS = 10
PANELS_PER_ROW = 3
# Above this many arms x design points (an LHS design, say) a fan chart draws one band per arm,
# across its design points and replications, instead of one per design point.
MAX_FAN_LINES = 12
# PNG compression: zlib level 1 encodes several times faster than matplotlib's default (6), for
# figures a few tens of percent larger
PNG_OPTIONS = {"format": "png", "dpi": FIGURE_DPI, "metadata": {"Software": None}, "pil_kwargs": {"compress_level": 1}}


def _figure(rows: int, columns: int, figsize: tuple[float, float], **layout) -> tuple[Figure, np.ndarray]:
    """A bare figure on an Agg canvas (no pyplot, no GUI backend) and its grid of axes."""
    fig = Figure(figsize=figsize, **layout)
    FigureCanvasAgg(fig)
    return fig, fig.subplots(rows, columns, squeeze=False)


class ReportError(InputError):
    """A folder that holds no batch results (one plain line)."""


@dataclass(frozen=True)
class Interval:
    mean: float
    sd: float
    low: float
    high: float
    n: int
    method: str = "t"


def t_interval(values: np.ndarray, confidence: float = CONFIDENCE) -> Interval:
    """Mean, sample SD and the two-sided t-interval of the mean (degenerate for n < 2)."""
    values = np.asarray(values, dtype=float)
    n = values.size
    mean = float(values.mean()) if n else math.nan
    if n < 2:
        return Interval(mean, math.nan, math.nan, math.nan, n)
    sd = float(values.std(ddof=1))
    half = float(stdtrit(n - 1, 0.5 + confidence / 2)) * sd / math.sqrt(n)
    return Interval(mean, sd, mean - half, mean + half, n)


def bootstrap_interval(values: np.ndarray, confidence: float = CONFIDENCE) -> Interval:
    """Mean, sample SD and a seeded bootstrap interval of the mean (BCa; percentile where BCa
    is undefined). Its ends are means of resamples of the values, so they lie within the
    values' range: for values that are all >= 0 the interval never crosses zero."""
    values = np.asarray(values, dtype=float)
    n = values.size
    mean = float(values.mean()) if n else math.nan
    if n < 2:
        return Interval(mean, math.nan, math.nan, math.nan, n, "bootstrap")
    sd = float(values.std(ddof=1))
    if np.ptp(values) == 0:
        return Interval(mean, sd, mean, mean, n, "bootstrap")  # every replicate the same: nothing to resample
    low = high = math.nan
    for method in ("BCa", "percentile"):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # BCa on few, tied values can be undefined: then percentile
            from scipy import stats  # only when a bootstrap interval is asked for

            found = stats.bootstrap((values,), np.mean, confidence_level=confidence, n_resamples=BOOTSTRAP_RESAMPLES,
                                    method=method, rng=np.random.default_rng(BOOTSTRAP_SEED))
        low, high = float(found.confidence_interval.low), float(found.confidence_interval.high)
        if math.isfinite(low) and math.isfinite(high):
            break
    return Interval(mean, sd, low, high, n, "bootstrap")


def outcome_interval(outcome: str, values: np.ndarray) -> Interval:
    """The interval the report gives an outcome's mean: bootstrap if it is bounded at zero, else t."""
    return bootstrap_interval(values) if outcome in BOUNDED_AT_ZERO else t_interval(values)


def arm_summaries(runs: pd.DataFrame, outcomes: tuple[str, ...] = KEY_OUTCOMES) -> pd.DataFrame:
    """One row per (label, outcome): mean, sd and 95% interval across replications
    (bootstrap for outcomes bounded at zero, t otherwise; ``method`` says which)."""
    rows = []
    for label, group in runs.groupby("label", sort=False):
        for outcome in outcomes:
            interval = outcome_interval(outcome, group[outcome].to_numpy())
            rows.append({"label": label, "outcome": outcome, **interval.__dict__})
    return pd.DataFrame(rows)


def paired_differences(runs: pd.DataFrame, reference_arm: str, reference_point: int | None,
                       outcomes: tuple[str, ...] = KEY_OUTCOMES) -> pd.DataFrame:
    """Each (label, outcome)'s mean difference from the reference, paired by replicate.

    ``reference_point`` is the index of the reference design point (None: the same point).
    """
    reference = runs[runs["arm"] == reference_arm]
    if reference_point is not None:
        reference = reference[reference["point"] == reference_point]
    rows = []
    for label, group in runs.groupby("label", sort=False):
        if reference_point is None:
            matched = reference[reference["point"] == group["point"].iloc[0]]
        else:
            matched = reference
        if group["run_id"].isin(matched["run_id"]).all():
            continue  # the reference itself
        paired = group.merge(matched, on="replicate", suffixes=("", "_ref"))
        for outcome in outcomes:
            difference = paired[outcome].to_numpy() - paired[f"{outcome}_ref"].to_numpy()
            interval = t_interval(difference)
            rows.append({"label": label, "outcome": outcome, **interval.__dict__,
                         "reference": matched["label"].iloc[0] if len(matched) else reference_arm})
    return pd.DataFrame(rows)


def _fmt(outcome: str, value: float) -> str:
    if isinstance(value, float) and math.isnan(value):
        return "n/a"
    return format_value(value, OUTCOMES[outcome][3])


def axis_formatter(unit: str) -> Formatter:
    """Tick labels in the tables' units: '12%', '$3.4m', '1,200' (no 1e8 offsets)."""
    if unit == "pct":
        return PercentFormatter(xmax=1.0)  # shares as %, with as many decimals as the axis range needs
    if unit == "usd":
        return FuncFormatter(lambda value, _: _short_usd(value))
    return FuncFormatter(lambda value, _: f"{value:,.0f}" if abs(value) >= 100 or value == 0 else f"{value:,.3g}")


def _short_usd(value: float) -> str:
    sign = "-" if value < 0 else ""
    for unit, size in (("bn", 1e9), ("m", 1e6), ("k", 1e3)):
        if abs(value) >= size:
            return f"{sign}${abs(value) / size:,.3g}{unit}"
    return f"{sign}${abs(value):,.3g}"


def outcome_unit(outcome: str) -> str:
    """The unit of an outcome's figure axis, as its table cells show it."""
    return {"pct": "pct", "usd": "usd"}.get(OUTCOMES[outcome][3], "num")


def time_axis(timeseries: pd.DataFrame) -> tuple[str, str]:
    """(column, label) of the time axis: calendar dates when the arms start in different
    months, otherwise the month of the run (naming its calendar start)."""
    starts = timeseries.groupby("arm", sort=False)["date"].first()
    if starts.nunique() > 1:
        return "calendar", "calendar month (the arms start at different dates)"
    return "month", f"month of the run (month 1 = {starts.iloc[0]})"


def _fan_chart(timeseries: pd.DataFrame, panels: tuple, path: Path, title: str) -> None:
    x_column, x_label = time_axis(timeseries)
    if x_column == "calendar":
        timeseries = timeseries.assign(calendar=pd.to_datetime(timeseries["date"], format="%Y-%m"))
    columns = min(PANELS_PER_ROW, len(panels))
    rows = math.ceil(len(panels) / columns)
    by = "label" if timeseries["label"].nunique() <= MAX_FAN_LINES else "arm"
    labels = timeseries[by].nunique()
    fig, axes = _figure(rows, columns, (6.4 * columns, 4.2 * rows + 0.3 * math.ceil(labels / 3)), layout="constrained")
    for ax in list(axes.flat)[len(panels):]:
        ax.set_visible(False)
    for ax, (column, label, unit) in zip(axes.flat, panels, strict=False):
        for name, group in timeseries.groupby(by, sort=False):
            by_time = group.groupby(x_column)[column]
            mean = by_time.mean()
            ax.plot(mean.index, mean.to_numpy(), label=name)
            ax.fill_between(mean.index, by_time.quantile(BAND[0]).to_numpy(), by_time.quantile(BAND[1]).to_numpy(),
                            alpha=0.2)
        ax.set_title(label, fontsize=LABEL_POINTS + 1)
        ax.set_xlabel(x_label, fontsize=LABEL_POINTS)
        ax.yaxis.set_major_formatter(axis_formatter(unit))
        ax.tick_params(labelsize=LABEL_POINTS)
    handles, names = axes[0][0].get_legend_handles_labels()
    fig.legend(handles, names, loc="outside lower center", ncols=min(3, len(names)), fontsize=LABEL_POINTS)
    across = "replications" if by == "label" else "design points and replications"
    fig.suptitle(f"{title}: mean and {int(BAND[0] * 100)}-{int(BAND[1] * 100)}% band across {across}",
                 fontsize=LABEL_POINTS + 2)
    fig.savefig(path, **PNG_OPTIONS)


def _difference_bars(differences: pd.DataFrame, outcomes: tuple[str, ...], reference_label: str, path: Path) -> None:
    shown = [o for o in outcomes if o in set(differences["outcome"])]
    columns = min(3, len(shown))
    rows = math.ceil(len(shown) / columns)
    bars = differences["label"].nunique()
    fig, axes = _figure(rows, columns, (6.2 * columns, (1.4 + 0.35 * bars) * rows), layout="constrained")
    for ax, outcome in zip(axes.flat, shown, strict=False):
        part = differences[differences["outcome"] == outcome]
        errors = np.vstack([part["mean"] - part["low"], part["high"] - part["mean"]])
        ax.barh(part["label"], part["mean"], xerr=np.nan_to_num(errors), color="tab:blue", alpha=0.7, capsize=3)
        ax.axvline(0, color="black", linewidth=0.8)
        ax.set_title(OUTCOMES[outcome][2], fontsize=LABEL_POINTS + 1)
        ax.xaxis.set_major_formatter(axis_formatter(outcome_unit(outcome)))
        ax.tick_params(axis="both", labelsize=LABEL_POINTS)
        ax.invert_yaxis()  # the first arm on top, as in the tables
    for ax in list(axes.flat)[len(shown):]:
        ax.set_visible(False)
    fig.suptitle(f"Difference from the reference, {reference_label} (mean and 95% t-interval, paired by replicate)",
                 fontsize=LABEL_POINTS + 2)
    fig.savefig(path, **PNG_OPTIONS)


def declared_panels(outcomes: tuple[str, ...], timeseries: pd.DataFrame) -> tuple:
    """Fan panels for declared outcomes whose monthly column no standard panel shows."""
    standard = {column for panels in FAN_PANELS.values() for column, _, _ in panels}
    panels = []
    for outcome in outcomes:
        column, how, label, _ = OUTCOMES[outcome]
        if column in timeseries.columns and column not in standard and column not in {p[0] for p in panels}:
            title = label.split(" (")[0] + (" a month" if how == "sum" else "")  # a total's monthly flow
            panels.append((column, title, outcome_unit(outcome)))
    return tuple(panels)


def uncertainty_note(manifest: dict) -> list[str]:
    """What the intervals cover: the luck of the draw, and the parameters drawn per replicate."""
    ranges = manifest.get("uncertainty") or {}
    if not ranges:
        return ["The intervals cover the luck of the draw only: every behavioural parameter is held at its "
                "configured value.", ""]
    listed = ", ".join(f"`{key}` in [{low:g}, {high:g}]" for key, (low, high) in ranges.items())
    return [f"**What we do not know.** Each replicate also draws {listed} (a Latin hypercube, one row a replicate), "
            "the same in every arm: the intervals cover both the luck of the draw and these parameters.", ""]


def read_batch(folder: Path, timeseries: bool = True) -> tuple[dict, pd.DataFrame, pd.DataFrame | None]:
    """A finished batch's manifest, runs table and (if asked) timeseries; ReportError (one
    line) if ``folder`` holds none."""
    folder = Path(folder)
    if not (folder / MANIFEST).exists() or not (folder / RUNS_TABLE).exists():
        raise ReportError(f"{folder} holds no finished batch (no {MANIFEST} and {RUNS_TABLE})")
    try:
        manifest = read_manifest(folder)
        runs = pd.read_parquet(folder / RUNS_TABLE)
        series = pd.read_parquet(folder / TIMESERIES) if timeseries else None
    except (StoreError, OSError, ValueError) as exc:
        raise ReportError(f"{folder}: cannot read the batch's tables: {str(exc).splitlines()[0]}") from None
    if runs.empty:
        raise ReportError(f"{folder} holds no finished runs yet")
    return manifest, runs, series


SAMPLED_KINDS = ("morris", "sobol")  # designs whose points sample uncertainty rather than name scenarios


def pool_sampled_points(frame: pd.DataFrame) -> pd.DataFrame:
    """Runs (or kept months) of a sampled design with each arm's points pooled: the label is
    the arm, and each (point, replicate) becomes one pooled replicate at point 0, so that the
    tables and fan charts show each arm over the whole sampled space, still paired across arms
    on the same point and seed."""
    pooled = frame.copy()
    width = int(frame["replicate"].max()) + 1
    pooled["replicate"] = frame["point"] * width + frame["replicate"]
    pooled["point"] = 0
    pooled["label"] = frame["arm"]
    return pooled


def write_report(folder: Path) -> Path:
    """Write ``report.md`` and ``figures/`` for the batch in ``folder``; returns the report's path.

    Sections other commands wrote into ``DIR/sections/`` (``cryptoabm sensitivity``) are
    appended, in name order."""
    folder = Path(folder)
    manifest, runs, timeseries = read_batch(folder)
    spec = manifest.get("design_spec") or {}
    sampled = spec.get("kind") in SAMPLED_KINDS
    points = runs["point"].nunique()
    n_reps = runs.groupby(["label", "point"]).size()  # replications of each arm (and point)
    if sampled:
        runs, timeseries = pool_sampled_points(runs), pool_sampled_points(timeseries)
    outcomes = tuple(manifest.get("report_outcomes") or KEY_OUTCOMES)
    figures = folder / FIGURES
    figures.mkdir(exist_ok=True)
    summaries = arm_summaries(runs, outcomes)
    differences = paired_differences(runs, manifest["reference"], manifest.get("reference_point_index"), outcomes)

    lines = [f"# {manifest['experiment']}", "", f"**Question.** {manifest['question']}", ""]
    shape = (f"{runs['label'].nunique()} arms/design points x " if not sampled
             else f"{runs['arm'].nunique()} arms x {points} sampled points x ")
    lines += [f"{len(runs)} runs: {shape}"
              f"{n_reps.min()}{'' if n_reps.min() == n_reps.max() else f'-{n_reps.max()}'} replications, "
              f"common random numbers across arms (replicate r uses the same seed in every arm). "
              f"Intervals are two-sided {int(CONFIDENCE * 100)}%: for outcomes that cannot be negative (marked "
              f"\u2020), seeded bootstrap intervals of the mean (BCa, {BOOTSTRAP_RESAMPLES:,} resamples), which "
              f"stay within the values seen and so never cross zero; for the others, t-intervals across "
              f"replications. Paired differences, which can be negative, always get t-intervals. "
              f"Generated by `cryptoabm report` from `{RUNS_TABLE}` and `{TIMESERIES}`.", ""]
    if sampled:
        lines += [f"This batch samples uncertain parameters ({spec['kind']} design, {points} points): the tables and "
                  f"charts below pool each arm over every point and replication, so a mean is the arm's mean over the "
                  f"sampled space and an interval treats the point-replications as one sample (indicative: the "
                  f"points are a design, not a random draw). Differences stay paired on the same point and seed. "
                  f"`cryptoabm sensitivity {folder}` says which parameters drive them.", ""]
    lines += [] if sampled else uncertainty_note(manifest)
    lines += ["## Outcomes by arm", "", "Mean, with [95% interval] and (SD) across replications "
              "(\u2020: bootstrap interval, else t-interval).", ""]
    labels = list(dict.fromkeys(runs["label"]))
    header = "| outcome | " + " | ".join(labels) + " |"
    lines += [header, "|---" * (len(labels) + 1) + "|"]
    summary_rows = {(row["label"], row["outcome"]): row for row in summaries.to_dict("records")}
    for outcome in outcomes:
        cells = []
        for label in labels:
            row = summary_rows[label, outcome]
            cells.append(f"{_fmt(outcome, row['mean'])} [{_fmt(outcome, row['low'])}, {_fmt(outcome, row['high'])}] "
                         f"({_fmt(outcome, row['sd'])})")
        mark = " \u2020" if outcome in BOUNDED_AT_ZERO else ""
        lines.append(f"| {OUTCOMES[outcome][2]}{mark} | " + " | ".join(cells) + " |")
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
        difference_rows = {(row["label"], row["outcome"]): row for row in differences.to_dict("records")}
        for outcome in outcomes:
            cells = []
            for label in diff_labels:
                row = difference_rows[label, outcome]
                excludes_zero = row["low"] > 0 or row["high"] < 0
                cells.append(f"{_fmt(outcome, row['mean'])} [{_fmt(outcome, row['low'])}, {_fmt(outcome, row['high'])}]"
                             + (" *" if excludes_zero else ""))
            lines.append(f"| {OUTCOMES[outcome][2]} | " + " | ".join(cells) + " |")
        lines.append("")
        _difference_bars(differences, outcomes, reference_label, figures / "differences.png")
        lines += ["![Differences from the reference](figures/differences.png)", ""]
    all_panels = {**FAN_PANELS, "declared_outcomes": declared_panels(outcomes, timeseries)}
    if timeseries["month"].nunique() > 1:  # a batch that kept only the last month has no time series to chart
        lines += ["## Time series", ""]
    else:
        all_panels = {}
    for name, panels in all_panels.items():
        if panels and all(column in timeseries.columns for column, _, _ in panels):
            _fan_chart(timeseries, panels, figures / f"fan_{name}.png", name.replace("_", " ").capitalize())
            lines += [f"![{name}](figures/fan_{name}.png)", ""]
    failed = sorted(p.name.removesuffix(".json") for p in (folder / "failed").glob("*.json"))
    if failed:
        lines += ["## Failed runs", "", f"{len(failed)} runs failed and are left out above: "
                  + ", ".join(f"`{r}`" for r in failed) + " (tracebacks in `failed/<run_id>.json`).", ""]
    for section in sorted((folder / SECTIONS).glob("*.md")):
        lines += [section.read_text().rstrip("\n"), ""]
    report = folder / REPORT
    report.write_text("\n".join(lines))
    return report
