"""Explore a finished batch (``cryptoabm viz --results DIR``): fan charts, paired differences,
the runs, and a live replay of any run against the reference arm on the same seed.

The page opens on what the batch is about: the fan chart shows the first of the experiment's
own outcomes that differs between its arms (:func:`first_varying`), the series on offer are
the monthly columns behind outcomes (by their names and units, not raw column names), arms are
coloured from the Okabe-Ito palette and, beyond its eight colours, also dashed (so that no two
arms look alike), the paired differences are an outcome x arm matrix in percentage points or
money, and the runs list is filterable and paginated, with the experiment's outcomes.

Everything is read with the batch layer's own readers: the manifest (:func:`read_manifest`),
the months dataset (``timeseries/arm=<arm>/``, :func:`timeseries_dataset`), the one-row-per-run table,
and the report's statistics (:func:`paired_differences`, :func:`t_interval`). A replay rebuilds
the runs' scenarios from the experiment file the manifest names (:func:`expand_runs`), after
checking that none of its inputs changed since the batch ran (:func:`check_unchanged`); the
same scenario and seed give the same monthly table, so the replay is the stored run.
"""

from __future__ import annotations

import functools
import html
import math
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import altair as alt
import numpy as np
import pandas as pd
import solara

from cryptoabm.batch.experiment import RunSpec, expand_runs, load_experiment
from cryptoabm.batch.report import BAND, KEY_OUTCOMES, paired_differences
from cryptoabm.batch.store import RUNS_TABLE, StoreError, check_unchanged, read_manifest, timeseries_dataset
from cryptoabm.config import ConfigError, scenario_from_dict
from cryptoabm.summary import OUTCOMES, format_value
from cryptoabm.viz.compare import Comparison
from cryptoabm.viz.live_chart import DATA_NAME, LiveChart
from cryptoabm.viz.offline import for_shipped_vega

RESULTS_ENV = "CRYPTOABM_RESULTS"  # set by --results DIR (the app runs in the server's process)
ID_COLUMNS = ("run_id", "arm", "point", "label", "replicate", "seed", "month", "date")
FAN_HEIGHT = 220
RUNS_NEEDED = ("run_id", "arm", "label")  # what the app reads of each run's row
TIMESERIES_NEEDED = ("run_id", "arm", "label", "month")  # and of each kept month
# Okabe & Ito (2008): eight colours told apart with the common colour-vision deficiencies
ARM_COLOURS = ("#0072b2", "#d55e00", "#009e73", "#cc79a7", "#e69f00", "#56b4e9", "#000000", "#f0e442")
ARM_DASHES = ([1, 0], [6, 3], [2, 2], [8, 3, 2, 3])  # after each eight arms, the next line style
RUNS_PER_PAGE = 20
RUNS_TABLE_OUTCOMES = 4  # the experiment's first outcomes shown beside each run
PERCENTAGE_POINTS = 100.0


class ResultsError(Exception):
    """A folder the app cannot explore (one plain line)."""


@dataclass(frozen=True)
class BatchResults:
    folder: Path
    manifest: dict[str, Any]
    runs: pd.DataFrame  # one row per finished run: ids, design values, outcomes
    timeseries: pd.DataFrame  # the runs dataset: kept months of every run

    @property
    def reference(self) -> str:
        return self.manifest["reference"]

    @property
    def outcomes(self) -> tuple[str, ...]:
        return tuple(self.manifest.get("report_outcomes") or KEY_OUTCOMES)

    @property
    def metrics(self) -> list[str]:
        """The monthly series behind outcomes that the batch kept (what a fan chart can show):
        the experiment's own outcomes' first, then the other outcomes'."""
        numeric = _numeric(self.timeseries)
        ordered = [OUTCOMES[o][0] for o in self.outcomes if o in OUTCOMES] + [column for column, *_ in OUTCOMES.values()]
        return [c for c in dict.fromkeys(ordered) if c in numeric and c not in ID_COLUMNS]


def _numeric(table: pd.DataFrame) -> set[str]:
    return {c for c in table.columns if pd.api.types.is_numeric_dtype(table[c])}


def results_folder() -> Path | None:
    """The folder given to ``--results``, if any."""
    chosen = os.environ.get(RESULTS_ENV)
    return Path(chosen) if chosen else None


def check_results_folder(folder: Path) -> str | None:
    """What is wrong with ``folder`` as a finished batch, or None (for the server's start-up)."""
    try:
        open_results(folder.resolve())
    except ResultsError as exc:
        return str(exc)
    return None


@functools.lru_cache(maxsize=4)
def open_results(folder: Path) -> BatchResults:
    """A finished batch's tables; ResultsError (one line) if it is not one."""
    try:
        manifest = read_manifest(folder)
    except StoreError as exc:
        raise ResultsError(str(exc)) from None
    runs_table = folder / RUNS_TABLE
    if not runs_table.is_file():
        raise ResultsError(f"{folder} holds no finished batch (no {RUNS_TABLE}: the batch has not finished)")
    try:
        runs = pd.read_parquet(runs_table)
        timeseries = timeseries_dataset(folder).to_table().to_pandas()
    except (OSError, ValueError) as exc:
        raise ResultsError(f"{folder}: cannot read the batch's tables: {str(exc).splitlines()[0]}") from None
    if runs.empty:
        raise ResultsError(f"{folder} holds no finished runs")
    for name, table, needed in ((RUNS_TABLE, runs, RUNS_NEEDED), ("the runs dataset", timeseries, TIMESERIES_NEEDED)):
        missing = [column for column in needed if column not in table.columns]
        if missing:
            raise ResultsError(f"{folder}: {name} lacks the column(s) {', '.join(missing)}; rebuild the tables "
                               f"with: cryptoabm batch <experiment> --out {folder} --resume")
    timeseries["arm"] = timeseries["arm"].astype(str)
    return BatchResults(folder, manifest, runs, timeseries.sort_values(["run_id", "month"], kind="stable"))


def series_label(column: str) -> str:
    """A monthly column's name in words, with its unit: from the outcome it is behind
    ("National hashrate, EH/s (peak)" -> "National hashrate, EH/s")."""
    for name, (source, _, label, kind) in OUTCOMES.items():
        if source == column:
            words = label.rsplit(" (", 1)[0]
            return words + (", share" if kind == "pct" else ", USD a month" if kind == "usd" and "USD" not in words
                            else "")
    return column


def series_kind(column: str) -> str:
    """pct, usd, int or num: how a column's values are shown."""
    return next((kind for source, _, _, kind in OUTCOMES.values() if source == column), "num")


def first_varying(results: BatchResults) -> str:
    """The fan chart's first series: the first outcome series whose arms' medians differ at some
    month (else the first that varies at all; else the first)."""
    metrics = results.metrics
    table = results.timeseries
    for metric in metrics:
        medians = table.groupby(["label", "month"])[metric].median().unstack("label")
        if medians.shape[1] > 1 and not np.allclose(medians.min(axis=1), medians.max(axis=1), equal_nan=True):
            return metric
    return next((m for m in metrics if table[m].nunique(dropna=True) > 1), metrics[0])


def arm_styles(labels: tuple[str, ...]) -> tuple[list[str], list[list[int]]]:
    """Each arm's colour and line dash: eight colours, then the same colours dashed."""
    colours = [ARM_COLOURS[i % len(ARM_COLOURS)] for i in range(len(labels))]
    dashes = [ARM_DASHES[(i // len(ARM_COLOURS)) % len(ARM_DASHES)] for i in range(len(labels))]
    return colours, dashes


def fan_rows(results: BatchResults, metric: str) -> list[dict[str, Any]]:
    """Per arm (label) and month: the median and the 5th-95th percentile band across replications."""
    rows = []
    for label, group in results.timeseries.groupby("label", sort=False):
        by_month = group.groupby("month")[metric]
        low, middle, high = by_month.quantile(BAND[0]), by_month.median(), by_month.quantile(BAND[1])
        for month in middle.index:
            rows.append({"label": str(label), "month": int(month), "low": float(low[month]),
                         "median": float(middle[month]), "high": float(high[month])})
    return rows


@functools.lru_cache(maxsize=16)
def fan_spec(metric: str, labels: tuple[str, ...]) -> dict[str, Any]:
    """A fan chart: per arm, the median line over its 5-95% band."""
    colours, dashes = arm_styles(labels)
    legend = alt.Legend(orient="bottom", labelLimit=300, symbolType="stroke", symbolStrokeWidth=3, symbolOpacity=1,
                        symbolSize=300, columns=min(len(labels), 4))
    colour = alt.Color("label:N", title=None, legend=legend, scale=alt.Scale(domain=list(labels), range=colours))
    dash = alt.StrokeDash("label:N", legend=None, scale=alt.Scale(domain=list(labels), range=dashes))
    base = alt.Chart(alt.NamedData(DATA_NAME))
    x = alt.X("month:Q", title="month", axis=alt.Axis(tickMinStep=1, format="d"))
    kind = series_kind(metric)
    axis = alt.Axis(format="%" if kind == "pct" else "$,.3~s" if kind == "usd" else ",.4~g")
    shown = ".2%" if kind == "pct" else "$,.4~s" if kind == "usd" else ",.4~g"
    label = series_label(metric)
    band = base.mark_area(opacity=0.15).encode(x=x, y=alt.Y("low:Q", title=label, axis=axis), y2="high:Q",
                                                color=alt.Color("label:N", legend=None,
                                                                scale=alt.Scale(domain=list(labels), range=colours)))
    line = base.mark_line(strokeWidth=2).encode(
        x=x, y="median:Q", color=colour, strokeDash=dash,
        tooltip=[alt.Tooltip("label:N", title="Arm"), alt.Tooltip("month:Q", title="Month"),
                 alt.Tooltip("median:Q", title="Median", format=shown),
                 alt.Tooltip("low:Q", title=f"{int(BAND[0] * 100)}th percentile", format=shown),
                 alt.Tooltip("high:Q", title=f"{int(BAND[1] * 100)}th percentile", format=shown)])
    title = alt.TitleParams(label, subtitle=f"median and {int(BAND[0] * 100)}-{int(BAND[1] * 100)}% band "
                                            "across replications, per arm", anchor="start")
    chart = alt.layer(band, line).properties(title=title, width="container", height=FAN_HEIGHT)
    return for_shipped_vega(chart).configure_view(stroke=None).to_dict()


def difference_table(results: BatchResults) -> pd.DataFrame:
    """Paired differences from the reference (the report's), with their 95% intervals."""
    return paired_differences(results.runs, results.reference, results.manifest.get("reference_point_index"),
                              results.outcomes)


def _shown(outcome: str, value: float) -> str:
    if isinstance(value, float) and math.isnan(value):
        return "n/a"
    return format_value(value, OUTCOMES[outcome][3])


def shown_difference(outcome: str, value: float) -> str:
    """A difference of an outcome: percentage points for shares, signed money or numbers."""
    if isinstance(value, float) and math.isnan(value):
        return "n/a"
    kind = OUTCOMES[outcome][3]
    if kind == "pct":
        return f"{value * PERCENTAGE_POINTS:+.2f} pp"
    sign = "+" if value > 0 else ""
    return sign + format_value(value, kind)


def difference_matrix_html(differences: pd.DataFrame) -> str:
    """The paired differences as a table: an outcome per row, an arm per column; each cell the
    mean difference and its 95% interval (* when the interval excludes 0)."""
    arms = list(dict.fromkeys(str(label) for label in differences["label"]))
    header = "".join(f"<th>{html.escape(arm)}</th>" for arm in arms)
    rows = []
    for outcome, group in differences.groupby("outcome", sort=False):
        by_arm = {str(row.label): row for row in group.itertuples()}
        cells = []
        for arm in arms:
            row = by_arm.get(arm)
            if row is None:
                cells.append("<td></td>")
                continue
            excludes_zero = row.low > 0 or row.high < 0
            cells.append(f'<td data-testid="difference-{html.escape(outcome)}-{html.escape(arm)}" '
                         f'data-value="{float(row.mean)!r}"><b>{shown_difference(outcome, row.mean)}</b>'
                         f"{' *' if excludes_zero else ''}<br><small>[{shown_difference(outcome, row.low)}, "
                         f"{shown_difference(outcome, row.high)}]</small></td>")
        rows.append(f"<tr><td>{html.escape(OUTCOMES[outcome][2])}</td>{''.join(cells)}</tr>")
    return f"<table><tr><th>outcome</th>{header}</tr>{''.join(rows)}</table>"


# -- replay ----------------------------------------------------------------------------------
def replay_pair(results: BatchResults, run_id: str) -> tuple[RunSpec, RunSpec]:
    """The chosen run and the reference arm's run it is paired with (same design point, or the
    reference point, and the same replicate: the same seed)."""
    try:
        loaded = load_experiment(results.manifest["experiment_file"], force=True)
        check_unchanged(results.manifest.get("inputs", {}), loaded.inputs, results.folder)
    except (ConfigError, StoreError) as exc:
        raise ResultsError(f"cannot replay: {exc}") from None
    specs = {spec.run_id: spec for spec in expand_runs(loaded)}
    if run_id not in specs:
        raise ResultsError(f"cannot replay: no run {run_id!r} in this batch")
    chosen = specs[run_id]
    point = results.manifest.get("reference_point_index")
    point = chosen.point if point is None else point
    reference = next(spec for spec in specs.values()
                     if spec.arm == results.reference and spec.point == point and spec.replicate == chosen.replicate)
    return reference, chosen


def replay_comparison(results: BatchResults, run_id: str) -> Comparison:
    """A live comparison: A the reference arm's run, B the chosen run, on the chosen run's seed."""
    reference, chosen = replay_pair(results, run_id)
    assert reference.seed == chosen.seed  # replicate r has one seed in every arm (common random numbers)
    return Comparison(scenario_from_dict(reference.scenario), scenario_from_dict(chosen.scenario), chosen.seed,
                      labels=(f"A: {reference.run_id} (reference)", f"B: {chosen.run_id}"))


def stored_run(results: BatchResults, run_id: str) -> pd.DataFrame:
    """One run's kept months, as stored."""
    return results.timeseries[results.timeseries["run_id"] == run_id].reset_index(drop=True)


# -- the page --------------------------------------------------------------------------------
@solara.component
def BatchExplorer(folder: Path, on_replay):
    """The batch: fan chart of a chosen series per arm, paired differences, the runs with a
    Replay button each (``on_replay(run_id)``)."""
    results = open_results(folder.resolve())
    metrics = results.metrics
    metric = solara.use_reactive(first_varying(results))
    with solara.Column(classes=["cryptoabm-batch"]) as page:
        solara.HTML(tag="div", unsafe_innerHTML=(
            f"<b>{html.escape(results.manifest['experiment'])}</b>: {html.escape(results.manifest['question'])}<br>"
            f"{len(results.runs)} runs in <code>{html.escape(str(results.folder))}</code>; reference arm: "
            f"<b>{html.escape(results.reference)}</b>."))
        solara.v.Select(label="Series for the fan chart", v_model=metric.value, on_v_model=metric.set,
                        items=[{"text": series_label(m), "value": m} for m in metrics])
        rows = fan_rows(results, metric.value)
        labels = tuple(dict.fromkeys(row["label"] for row in rows))
        with solara.Div(classes=["cryptoabm-panel"], attributes={"data-testid": "batch-fan", "data-series": metric.value}):
            LiveChart.element(spec=fan_spec(metric.value, labels), values=rows)
        DifferencesTable(results)
        RunsTable(results, on_replay)
    return page


@solara.component
def DifferencesTable(results: BatchResults):
    differences = difference_table(results)
    if differences.empty:
        solara.Text("No paired differences: the batch has only the reference arm.")
        return
    reference = html.escape(str(differences["reference"].iloc[0]))
    solara.HTML(tag="div", attributes={"data-testid": "batch-differences"}, classes=["cryptoabm-table"], unsafe_innerHTML=(
        f"<p><b>Paired differences</b>: each arm minus <b>{reference}</b> on the same replicate (the same random "
        "numbers), mean over replicates with its 95% t-interval below; shares in percentage points (pp), money "
        "in USD; * marks an interval that excludes 0.</p>" + difference_matrix_html(differences)))


def runs_outcomes(results: BatchResults) -> list[str]:
    """The outcomes shown beside each run: the experiment's own first ones that the table has."""
    return [o for o in results.outcomes if o in results.runs.columns and o in OUTCOMES][:RUNS_TABLE_OUTCOMES]


def filtered_runs(results: BatchResults, text: str) -> pd.DataFrame:
    """The runs whose id or arm contains ``text`` (any case)."""
    wanted = text.strip().lower()
    if not wanted:
        return results.runs
    keep = (results.runs["run_id"].astype(str).str.lower().str.contains(wanted, regex=False)
            | results.runs["label"].astype(str).str.lower().str.contains(wanted, regex=False))
    return results.runs[keep]


@solara.component
def RunsTable(results: BatchResults, on_replay):
    outcomes = runs_outcomes(results)
    search = solara.use_reactive("")
    page = solara.use_reactive(0)
    shown = filtered_runs(results, search.value)
    pages = max(1, math.ceil(len(shown) / RUNS_PER_PAGE))
    current = min(page.value, pages - 1)
    with solara.Div(attributes={"data-testid": "batch-runs"}):
        solara.HTML(tag="p", unsafe_innerHTML="<b>Runs</b>: Replay runs one live in the comparison, against the "
                                              "reference arm's run on the same seed.")
        with solara.Row(style={"align-items": "center"}):
            def filter_by(text: str) -> None:
                search.set(text)
                page.set(0)

            solara.InputText("Filter by run or arm", value=search.value, continuous_update=True, on_value=filter_by)
            solara.Button("Previous", small=True, disabled=current == 0, on_click=lambda: page.set(current - 1))
            solara.HTML(tag="span", attributes={"data-testid": "runs-page"},
                        unsafe_innerHTML=f"page {current + 1} of {pages} ({len(shown)} runs)")
            solara.Button("Next", small=True, disabled=current >= pages - 1, on_click=lambda: page.set(current + 1))
        for row in shown.iloc[current * RUNS_PER_PAGE:(current + 1) * RUNS_PER_PAGE].itertuples():
            with solara.Div(classes=["cryptoabm-run-row"], attributes={"data-testid": f"run-{row.run_id}"}):
                solara.Button("Replay", small=True, outlined=True, on_click=lambda r=row.run_id: on_replay(r))
                solara.Text(f"{row.run_id} · seed {row.seed} · "
                            + " · ".join(f"{OUTCOMES[o][2]}: {_shown(o, getattr(row, o))}" for o in outcomes))


def column_equal(replayed: pd.Series, stored: pd.Series) -> bool:
    """Whether a replayed column equals the stored one exactly (NaN equal to NaN)."""
    left, right = np.asarray(replayed), np.asarray(stored)
    if left.dtype.kind in "fc" or right.dtype.kind in "fc":
        return bool(np.array_equal(left.astype(float), right.astype(float), equal_nan=True))
    return bool((left == right).all())
