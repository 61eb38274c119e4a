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
import textwrap
import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.ticker import Formatter, FuncFormatter, PercentFormatter
from scipy.special import stdtrit  # Student's t quantile (what scipy.stats.t.ppf computes), without scipy.stats

from cryptoabm.batch.decomposition import decompose_runs, decomposition_section
from cryptoabm.batch.drawing import FigureJob, start_drawing
from cryptoabm.batch.effects import replicate_effects
from cryptoabm.batch.experiment import HEADLINE_OUTCOMES
from cryptoabm.batch.store import MANIFEST, RUNS_TABLE, TIMESERIES, StoreError, read_manifest
from cryptoabm.config.errors import InputError
from cryptoabm.summary import BOUNDED_AT_ZERO, OUTCOMES, format_value

REPORT = "report.md"
DECOMPOSITION_TABLE = "decomposition.csv"  # decompose = true: each package's effect by lever
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


def paired_runs(runs: pd.DataFrame, reference_arm: str, reference_point: int | None):
    """For each label but the reference's: (label, its runs merged with the reference's on the
    replicate, with the reference's columns suffixed ``_ref``, the reference's label).

    ``reference_point`` is the index of the reference design point (None: the same point).
    """
    reference = runs[runs["arm"] == reference_arm]
    if reference_point is not None:
        reference = reference[reference["point"] == reference_point]
    for label, group in runs.groupby("label", sort=False):
        if reference_point is None:
            matched = reference[reference["point"] == group["point"].iloc[0]]
        else:
            matched = reference
        if group["run_id"].isin(matched["run_id"]).all():
            continue  # the reference itself
        yield (label, group.merge(matched, on="replicate", suffixes=("", "_ref")),
               matched["label"].iloc[0] if len(matched) else reference_arm)


def paired_differences(runs: pd.DataFrame, reference_arm: str, reference_point: int | None,
                       outcomes: tuple[str, ...] = KEY_OUTCOMES) -> pd.DataFrame:
    """Each (label, outcome)'s mean difference from the reference, paired by replicate.

    ``reference_point`` is the index of the reference design point (None: the same point).
    """
    rows = []
    for label, paired, reference_label in paired_runs(runs, reference_arm, reference_point):
        for outcome in outcomes:
            difference = paired[outcome].to_numpy() - paired[f"{outcome}_ref"].to_numpy()
            interval = t_interval(difference)
            rows.append({"label": label, "outcome": outcome, **interval.__dict__, "reference": reference_label})
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
    """(column, label) of the time axis: calendar dates (the month's date), whether or not
    the arms start in the same month."""
    starts = timeseries.groupby("arm", sort=False)["date"].first()
    if starts.nunique() > 1:
        return "calendar", "calendar month (the arms start at different dates)"
    return "calendar", "calendar month"


def _fan_chart(timeseries: pd.DataFrame, panels: tuple, path: Path, title: str,
               reference_labels: frozenset[str] = frozenset()) -> Figure:
    x_column, x_label = time_axis(timeseries)
    timeseries = timeseries.assign(calendar=pd.to_datetime(timeseries["date"], format="%Y-%m"))
    columns = min(PANELS_PER_ROW, len(panels))
    rows = math.ceil(len(panels) / columns)
    by = "label" if timeseries["label"].nunique() <= MAX_FAN_LINES else "arm"
    labels = timeseries[by].nunique()
    fig, axes = _figure(rows, columns, (6.4 * columns, 4.2 * rows + 0.3 * math.ceil(labels / 3)), layout="constrained")
    for ax in list(axes.flat)[len(panels):]:
        ax.set_visible(False)
    for ax, (column, label, unit) in zip(axes.flat, panels, strict=False):
        for index, (name, group) in enumerate(timeseries.groupby(by, sort=False)):
            by_time = group.groupby(x_column)[column]
            mean = by_time.mean()
            style = reference_style(name in reference_labels, index)
            ax.plot(mean.index, mean.to_numpy(), label=name, **style)
            ax.fill_between(mean.index, by_time.quantile(BAND[0]).to_numpy(), by_time.quantile(BAND[1]).to_numpy(),
                            alpha=0.2, color=style["color"], zorder=style["zorder"] - 1, linewidth=0)
        ax.set_title(label, fontsize=LABEL_POINTS + 1)
        ax.set_xlabel(x_label, fontsize=LABEL_POINTS)
        date_axis(ax)
        ax.yaxis.set_major_formatter(axis_formatter(unit))
        ax.tick_params(labelsize=LABEL_POINTS)
    handles, names = axes[0][0].get_legend_handles_labels()
    fig.legend(handles, names, loc="outside lower center", ncols=min(3, len(names)), fontsize=LABEL_POINTS)
    across = "replications" if by == "label" else "design points and replications"
    fig.suptitle(f"{title}: mean and {int(BAND[0] * 100)}%-{int(BAND[1] * 100)}% band across {across}",
                 fontsize=LABEL_POINTS + 2)
    fig.savefig(path, **PNG_OPTIONS)
    return fig


TITLE_WRAP_CHARACTERS = 48  # a panel title longer than this wraps (6.2-inch panels)


def _difference_bars(differences: pd.DataFrame, outcomes: tuple[str, ...], reference_label: str, path: Path) -> Figure:
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
        ax.set_title(textwrap.fill(OUTCOMES[outcome][2], TITLE_WRAP_CHARACTERS), fontsize=LABEL_POINTS + 1)
        difference_axis(ax, outcome)
        ax.tick_params(axis="both", labelsize=LABEL_POINTS)
        ax.invert_yaxis()  # the first arm on top, as in the tables
    for ax in list(axes.flat)[len(shown):]:
        ax.set_visible(False)
    fig.suptitle(f"Difference from the reference, {reference_label} (mean and 95% t-interval, paired by replicate;\n"
                 f"shares in percentage points)", fontsize=LABEL_POINTS + 2)
    fig.savefig(path, **PNG_OPTIONS)
    return fig


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
    """What the spread across replicates covers: the luck of the draw, and the behaviour drawn
    per replicate (uncertainty ranges, the calibration's posterior)."""
    ranges = manifest.get("uncertainty") or {}
    posterior = manifest.get("posterior_keys") or []
    if not ranges and not posterior:
        return ["The intervals cover the luck of the draw only: every behavioural parameter is held at its "
                "configured value.", ""]
    parts = []
    if posterior:
        parts.append(f"{', '.join(f'`{key}`' for key in posterior)} from the calibration's posterior sample "
                     f"(`{manifest.get('posterior')}`, one draw per replicate)")
    if ranges:
        listed = ", ".join(f"`{key}` in [{low:g}, {high:g}]" for key, (low, high) in ranges.items())
        parts.append(f"{listed} (a Latin hypercube, one row a replicate)")
    return [f"**What we do not know.** Each replicate also draws {'; and '.join(parts)}, the same in every arm: "
            "the spread across replicates covers both the luck of the draw and this behaviour.", ""]


def effects_distribution_lines(manifest: dict, runs: pd.DataFrame, timeseries: pd.DataFrame,
                               outcomes: tuple[str, ...]) -> list[str]:
    """The section on effects as distributions and their variance decomposition
    (:mod:`cryptoabm.batch.effects`)."""
    from cryptoabm.batch.effects import effects_section, price_path_features, variance_decomposition

    reference_point = manifest.get("reference_point_index")
    effects = replicate_effects(runs, manifest["reference"], reference_point, outcomes)
    behaviour_keys = behaviour_draw_keys(manifest)
    decomposition = variance_decomposition(effects, runs, behaviour_keys,
                                           price_path_features(timeseries, manifest["reference"]))
    return effects_section(effects, decomposition, {o: OUTCOMES[o][2] for o in outcomes},
                           lambda outcome: lambda value: _fmt(outcome, value), behaviour_keys)


def behaviour_draw_keys(manifest: dict) -> list[str]:
    """The parameters drawn per replicate (the same in every arm): the uncertainty ranges' and
    the posterior's."""
    return [*(manifest.get("uncertainty") or {}), *(manifest.get("posterior_keys") or [])]


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


def write_report(folder: Path, workers: int | None = None) -> Path:
    """Write ``report.md`` and ``figures/`` for the batch in ``folder``; returns the report's path.

    Sections other commands wrote into ``DIR/sections/`` (``cryptoabm sensitivity``) are
    appended, in name order. The figures are drawn by up to ``workers`` processes (default: one
    per core; 1: in this process), while the text is written; the files are the same."""
    folder = Path(folder)
    manifest, runs, timeseries = read_batch(folder)
    all_runs, one_lever_arms = runs, set((manifest.get("decomposition") or {}).get("arms", {}))
    runs, timeseries = runs[~runs["arm"].isin(one_lever_arms)], timeseries[~timeseries["arm"].isin(one_lever_arms)]
    spec = manifest.get("design_spec") or {}
    sampled = spec.get("kind") in SAMPLED_KINDS
    points = runs["point"].nunique()
    n_reps = runs.groupby(["label", "point"]).size()  # replications of each arm (and point)
    if sampled:
        runs, timeseries = pool_sampled_points(runs), pool_sampled_points(timeseries)
    runs, timeseries = with_display_names(runs, manifest), with_display_names(timeseries, manifest)
    reference_labels = frozenset(runs.loc[runs["arm"] == manifest["reference"], "label"])
    outcomes = tuple(manifest.get("report_outcomes") or KEY_OUTCOMES)
    figures = folder / FIGURES
    figures.mkdir(exist_ok=True)
    differences = paired_differences(runs, manifest["reference"], manifest.get("reference_point_index"), outcomes)
    fans = fan_charts(outcomes, timeseries)
    # the figures are drawn in forked processes (cryptoabm.batch.drawing) while the text is written
    with start_drawing(report_figures(differences, outcomes, timeseries, fans, figures, reference_labels), workers):
        lines = _report_lines(folder, manifest, all_runs, runs, timeseries, outcomes, differences, fans, sampled,
                              points, n_reps)
    report = folder / REPORT
    report.write_text("\n".join(lines))
    return report


def fan_charts(outcomes: tuple[str, ...], timeseries: pd.DataFrame) -> dict[str, tuple]:
    """The fan charts a report shows: name -> panels (none when only the last month was kept)."""
    if timeseries["month"].nunique() < 2:  # a batch that kept only the last month has no time series to chart
        return {}
    candidates = {**FAN_PANELS, "declared_outcomes": declared_panels(outcomes, timeseries)}
    return {name: panels for name, panels in candidates.items()
            if panels and all(column in timeseries.columns for column, _, _ in panels)}


def report_figures(differences: pd.DataFrame, outcomes: tuple[str, ...], timeseries: pd.DataFrame,
                   fans: dict[str, tuple], figures: Path, reference_labels: frozenset[str]) -> list[FigureJob]:
    """Every figure of the report, to be drawn: the differences' bars and the fan charts."""
    jobs = []
    if not differences.empty:
        jobs.append(FigureJob(_difference_bars, (differences, outcomes, differences["reference"].iloc[0],
                                                 figures / "differences.png"), len(outcomes)))
    for name, panels in fans.items():
        jobs.append(FigureJob(_fan_chart, (timeseries, panels, figures / f"fan_{name}.png",
                                           name.replace("_", " ").capitalize(), reference_labels), len(panels)))
    return jobs


def _report_lines(folder: Path, manifest: dict, all_runs: pd.DataFrame, runs: pd.DataFrame, timeseries: pd.DataFrame,
                  outcomes: tuple[str, ...], differences: pd.DataFrame, fans: dict[str, tuple], sampled: bool,
                  points: int, n_reps: pd.Series) -> list[str]:
    """The report's text (markdown), which names the figures :func:`report_figures` draws."""
    spec = manifest.get("design_spec") or {}
    summaries = arm_summaries(runs, outcomes)

    lines = [f"# {manifest['experiment']}", "", *summary_section(manifest, runs, outcomes), "## Design", ""]
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
    if not differences.empty:
        reference_label = differences["reference"].iloc[0]
        lines += ["## Paired differences from the reference", "",
                  f"Reference: **{reference_label}**"
                  + ("" if manifest.get("reference_point") is None else " (the reference design point)")
                  + ". Each cell is the mean over replicates of (arm - reference) on the same random numbers, "
                    "with its 95% t-interval; an interval that excludes 0 is marked *. Differences of shares are in "
                    "percentage points (pp).", ""]
        diff_labels = list(dict.fromkeys(differences["label"]))
        lines += ["| outcome | " + " | ".join(diff_labels) + " |", "|---" * (len(diff_labels) + 1) + "|"]
        difference_rows = {(row["label"], row["outcome"]): row for row in differences.to_dict("records")}
        for outcome in outcomes:
            cells = []
            for label in diff_labels:
                row = difference_rows[label, outcome]
                excludes_zero = row["low"] > 0 or row["high"] < 0
                cells.append(f"{difference_text(outcome, row['mean'])} [{difference_text(outcome, row['low'])}, "
                             f"{difference_text(outcome, row['high'])}]" + (" *" if excludes_zero else ""))
            lines.append(f"| {OUTCOMES[outcome][2]} | " + " | ".join(cells) + " |")
        lines.append("")
        lines += ["![Differences from the reference](figures/differences.png)", ""]
        lines += effects_distribution_lines(manifest, runs, timeseries, outcomes)
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
    if timeseries["month"].nunique() > 1:
        lines += ["## Time series", ""]
    for name in fans:
        lines += [f"![{name}](figures/fan_{name}.png)", ""]
    if (manifest.get("decomposition") or {}).get("packages"):  # decompose = true (its arms may all be the experiment's)
        decomposition = decompose_runs(all_runs, manifest["decomposition"], manifest["reference"], outcomes)
        decomposition.to_csv(folder / DECOMPOSITION_TABLE, index=False)
        lines += decomposition_section(decomposition, manifest["reference"], outcomes, _fmt)
    failed = sorted(p.name.removesuffix(".json") for p in (folder / "failed").glob("*.json"))
    if failed:
        lines += ["## Failed runs", "", f"{len(failed)} runs failed and are left out above: "
                  + ", ".join(f"`{r}`" for r in failed) + " (tracebacks in `failed/<run_id>.json`).", ""]
    for section in sorted((folder / SECTIONS).glob("*.md")):
        lines += [section.read_text().rstrip("\n"), ""]
    return lines


# -- what an analyst reads first: the summary, arms by name, units, dates, the reference on top --
SUMMARY_EFFECTS = 3  # the largest effects the summary names
SPREAD = (0.05, 0.95)  # the summary's spread of a paired difference across replicates
REFERENCE_COLOUR = "black"
ARM_COLOURS = ("tab:blue", "tab:orange", "tab:green", "tab:red", "tab:purple", "tab:brown", "tab:pink",
               "tab:olive", "tab:cyan", "tab:grey")
MAX_TICKS = 4  # value ticks on a bar chart's axis: money labels such as "-$185m" are wide


def arm_display_name(arm: str, manifest: dict) -> str:
    """The name the report gives an arm: the experiment's ``display_name``, else its id in words."""
    named = (manifest.get("display_names") or {}).get(arm)
    if named:
        return named
    words = arm.replace("_", " ").strip()
    return words[:1].upper() + words[1:]


def with_display_names(frame: pd.DataFrame, manifest: dict) -> pd.DataFrame:
    """Runs or months with each label's arm id replaced by the arm's display name (a design
    point's values stay in the label)."""
    names = {arm: arm_display_name(arm, manifest) for arm in frame["arm"].unique()}
    labels = [names[arm] + label[len(arm):] if label.startswith(arm) else label
              for arm, label in zip(frame["arm"], frame["label"], strict=True)]
    return frame.assign(label=labels)


def difference_text(outcome: str, value: float) -> str:
    """A difference in the outcome's units; a difference of shares in percentage points."""
    if isinstance(value, float) and math.isnan(value):
        return "n/a"
    if OUTCOMES[outcome][3] == "pct":
        return f"{value * 100:+.1f} pp" if value else "0.0 pp"
    return format_value(value, OUTCOMES[outcome][3])


def reference_style(is_reference: bool, index: int) -> dict:
    """Line style of an arm in a fan chart: the reference black, thicker and drawn on top."""
    if is_reference:
        return {"color": REFERENCE_COLOUR, "linewidth": 2.2, "zorder": 10}
    return {"color": ARM_COLOURS[index % len(ARM_COLOURS)], "linewidth": 1.4, "zorder": 3}


def date_axis(ax) -> None:
    """Calendar dates on a time axis, as few labels as keep them apart ('2027', 'Jul 2028')."""
    import matplotlib.dates as mdates

    locator = mdates.AutoDateLocator(minticks=3, maxticks=6)
    ax.xaxis.set_major_locator(locator)
    ax.xaxis.set_major_formatter(mdates.ConciseDateFormatter(locator))


def difference_axis(ax, outcome: str) -> None:
    """A difference's value axis: the outcome's units (percentage points for shares), few ticks."""
    from matplotlib.ticker import MaxNLocator

    if OUTCOMES[outcome][3] == "pct":
        ax.xaxis.set_major_formatter(FuncFormatter(lambda value, _: f"{value * 100:.3g} pp"))
    else:
        ax.xaxis.set_major_formatter(axis_formatter(outcome_unit(outcome)))
    ax.xaxis.set_major_locator(MaxNLocator(nbins=MAX_TICKS, min_n_ticks=2))


def effect_distributions(runs: pd.DataFrame, reference_arm: str, reference_point: int | None,
                         outcomes: tuple[str, ...]) -> pd.DataFrame:
    """Each (label, outcome)'s paired differences across replicates as a distribution: median,
    5%-95% range, share of replicates above zero, and a scale-free size (|mean difference| over
    the larger of the two arms' mean magnitudes: 1 is a change as large as the level)."""
    rows = []
    for label, paired, reference_label in paired_runs(runs, reference_arm, reference_point):
        for outcome in outcomes:
            arm, reference = paired[outcome].to_numpy(float), paired[f"{outcome}_ref"].to_numpy(float)
            difference = arm - reference
            scale = max(abs(arm.mean()), abs(reference.mean()))
            rows.append({"label": label, "outcome": outcome, "reference": reference_label,
                         "mean": difference.mean(), "median": float(np.median(difference)),
                         "low": float(np.quantile(difference, SPREAD[0])),
                         "high": float(np.quantile(difference, SPREAD[1])),
                         "above_zero": float((difference > 0).mean()), "below_zero": float((difference < 0).mean()),
                         "size": abs(difference.mean()) / scale if scale > 0 else 0.0,
                         "precision": abs(difference.mean()) / sd if (sd := difference.std(ddof=1)) > 0 else math.inf,
                         "n": difference.size})
    return pd.DataFrame(rows)


def largest_effects(effects: pd.DataFrame, count: int = SUMMARY_EFFECTS) -> pd.DataFrame:
    """The ``count`` largest effects: by scale-free size times the share of replicates on the
    mean's side of zero (a large effect in every replicate before one in half of them), then by
    the mean over its standard deviation."""
    shown = effects[effects["size"] > 0]
    consistency = np.where(shown["mean"] > 0, shown["above_zero"], shown["below_zero"])
    ranked = shown.assign(score=shown["size"] * consistency)
    return ranked.sort_values(["score", "precision"], ascending=False, kind="stable").head(count)


def summary_section(manifest: dict, runs: pd.DataFrame, outcomes: tuple[str, ...]) -> list[str]:
    """The report's opening: the question, the arms, and the largest effects with their spread
    across replicates and the share of replicates on each side of zero."""
    reference_arm = manifest["reference"]
    arms = list(dict.fromkeys(runs["arm"]))
    listed = ", ".join(f"**{arm_display_name(arm, manifest)}**" + (" (the reference)" if arm == reference_arm else "")
                       for arm in arms)
    lines = ["## Summary", "", f"**Question.** {manifest['question']}", "",
             f"**Arms.** {listed}; {runs.groupby('label').size().max()} replications each, paired on common random "
             f"numbers.", ""]
    effects = effect_distributions(runs, reference_arm, manifest.get("reference_point_index"), outcomes)
    largest = largest_effects(effects) if not effects.empty else effects
    if largest.empty:
        return lines + ["No arm differs from the reference on the outcomes shown.", ""]
    lines += [f"**Largest effects** against {largest['reference'].iloc[0]} (the mean difference over the larger "
              f"arm's mean level, times the share of replicates on its side of zero), each as the median paired "
              f"difference across replicates, its "
              f"{int(SPREAD[0] * 100)}%-{int(SPREAD[1] * 100)}% range, and the share of replicates in which it is "
              f"above zero:", ""]
    for number, row in enumerate(largest.to_dict("records"), start=1):
        outcome = row["outcome"]
        lines.append(f"{number}. {row['label']}, {OUTCOMES[outcome][2]}: {difference_text(outcome, row['median'])} "
                     f"(range {difference_text(outcome, row['low'])} to {difference_text(outcome, row['high'])}); "
                     f"above zero in {row['above_zero']:.0%} of {row['n']} replicates, below in "
                     f"{row['below_zero']:.0%}.")
    return lines + [""]
