"""Explore a finished batch (``cryptoabm viz --results DIR``): fan charts, paired differences,
the runs, and a live replay of any run against the reference arm on the same seed.

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
        """The monthly series the batch kept (what a fan chart can show)."""
        return [c for c in self.timeseries.columns if c not in ID_COLUMNS and c in _numeric(self.timeseries)]


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
    colour = alt.Color("label:N", title=None, legend=alt.Legend(orient="bottom", labelLimit=300),
                       scale=alt.Scale(domain=list(labels), range=["#0072b2", "#d55e00", "#009e73", "#cc79a7",
                                                                   "#e69f00", "#56b4e9", "#000000"]))
    base = alt.Chart(alt.NamedData(DATA_NAME))
    x = alt.X("month:Q", title="month", axis=alt.Axis(tickMinStep=1, format="d"))
    band = base.mark_area(opacity=0.2).encode(x=x, y=alt.Y("low:Q", title=metric), y2="high:Q", color=colour)
    line = base.mark_line(strokeWidth=2).encode(
        x=x, y="median:Q", color=colour,
        tooltip=[alt.Tooltip("label:N", title="Arm"), alt.Tooltip("month:Q", title="Month"),
                 alt.Tooltip("median:Q", title="Median", format=",.4~g"),
                 alt.Tooltip("low:Q", title=f"{int(BAND[0] * 100)}th percentile", format=",.4~g"),
                 alt.Tooltip("high:Q", title=f"{int(BAND[1] * 100)}th percentile", format=",.4~g")])
    title = alt.TitleParams(metric, subtitle=f"median and {int(BAND[0] * 100)}-{int(BAND[1] * 100)}% band "
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
    metric = solara.use_reactive(next((m for m in ("hashrate_ehs", "active_share") if m in metrics), metrics[0]))
    with solara.Column(classes=["cryptoabm-batch"]) as page:
        solara.HTML(tag="div", unsafe_innerHTML=(
            f"<b>{html.escape(results.manifest['experiment'])}</b>: {html.escape(results.manifest['question'])}<br>"
            f"{len(results.runs)} runs in <code>{html.escape(str(results.folder))}</code>; reference arm: "
            f"<b>{html.escape(results.reference)}</b>."))
        solara.Select(label="Series for the fan chart", value=metric, values=metrics)
        rows = fan_rows(results, metric.value)
        labels = tuple(dict.fromkeys(row["label"] for row in rows))
        with solara.Div(classes=["cryptoabm-panel"], attributes={"data-testid": "batch-fan"}):
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
    cells = []
    for row in differences.itertuples():
        excludes_zero = row.low > 0 or row.high < 0
        cells.append(f"<tr><td>{html.escape(OUTCOMES[row.outcome][2])}</td><td>{html.escape(str(row.label))}</td>"
                     f"<td>{_shown(row.outcome, row.mean)}</td><td>[{_shown(row.outcome, row.low)}, "
                     f"{_shown(row.outcome, row.high)}]{' *' if excludes_zero else ''}</td></tr>")
    reference = html.escape(str(differences["reference"].iloc[0]))
    solara.HTML(tag="div", attributes={"data-testid": "batch-differences"}, classes=["cryptoabm-table"], unsafe_innerHTML=(
        f"<p><b>Paired differences</b> from <b>{reference}</b> (the same replicate: the same random numbers), "
        f"mean over replicates with its 95% t-interval; * marks an interval that excludes 0.</p>"
        "<table><tr><th>outcome</th><th>arm</th><th>mean difference</th><th>95% interval</th></tr>"
        + "".join(cells) + "</table>"))


@solara.component
def RunsTable(results: BatchResults, on_replay):
    outcomes = [o for o in ("final_wallet_share", "total_state_revenue_usd", "total_fdi_inflow_usd")
                if o in results.runs.columns]
    with solara.Div(attributes={"data-testid": "batch-runs"}):
        solara.HTML(tag="p", unsafe_innerHTML="<b>Runs</b>: Replay runs one live in the comparison, against the "
                                              "reference arm's run on the same seed.")
        for row in results.runs.itertuples():
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
