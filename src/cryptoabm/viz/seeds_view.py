"""The "over N seeds" view: each headline figure's B - A across seeds, filling in as seeds finish.

The runs are :class:`~cryptoabm.viz.seeds.SeedsRun`'s (in worker processes); this module only
shows them: per figure, a chart of the median B - A month by month over its 5-95% band, with a
zero line and the comparison's event markers, and a table of the last month's median, band and
share of seeds where B > A. Shares are shown in percentage points; money in USD, hashrate in
EH/s. The view starts its seeds when it is first shown, and cancels those not yet started
when the page closes or the comparison is replaced.
"""

from __future__ import annotations

import functools
import html
import threading
from concurrent.futures import FIRST_COMPLETED, wait
from typing import Any

import altair as alt
import solara

from cryptoabm.viz.charts import Marker, comparison_markers, marker_layers
from cryptoabm.viz.compare import Comparison
from cryptoabm.viz.figures import PERCENTAGE_POINTS, SHARE, Figure
from cryptoabm.viz.headline import comparison_figures
from cryptoabm.viz.live_chart import DATA_NAME, LiveChart
from cryptoabm.viz.offline import for_shipped_vega
from cryptoabm.viz.seeds import BAND, DEFAULT_SEEDS, MAX_SEEDS, SeedsRun, seeds_for

SEEDS_CHART_HEIGHT = 140
WAIT_S = 0.5  # how often the watcher looks for finished seeds when none has finished
BAND_COLOUR, MEDIAN_COLOUR = "#56b4e9", "#0072b2"  # Okabe-Ito sky blue and blue


def scale(figure: Figure) -> float:
    """Shares are shown in percentage points."""
    return PERCENTAGE_POINTS if figure.unit == SHARE else 1.0


def unit_name(figure: Figure) -> str:
    return "pp" if figure.unit == SHARE else figure.unit


def seeds_rows(summary: dict[str, Any], figure: Figure) -> list[dict[str, Any]]:
    """The chart's rows: month, median, low, high (shares in pp)."""
    factor = scale(figure)
    return [{"month": month, "median": median * factor, "low": low * factor, "high": high * factor}
            for month, median, low, high in zip(summary["months"], summary["median"], summary["low"], summary["high"])]


@functools.lru_cache(maxsize=128)
def seeds_spec(figure: Figure, months: int, markers: tuple[Marker, ...]) -> dict[str, Any]:
    """Median B - A over its 5-95% band, month by month, around a zero line."""
    x = alt.X("month:Q", title="month", axis=alt.Axis(tickMinStep=1, format="d"),
              scale=alt.Scale(domain=[1, max(months, 2)], nice=False))
    unit = unit_name(figure)
    base = alt.Chart(alt.NamedData(DATA_NAME))
    band = base.mark_area(opacity=0.35, color=BAND_COLOUR).encode(
        x=x, y=alt.Y("low:Q", title=f"B - A, {unit}"), y2="high:Q")
    line = base.mark_line(color=MEDIAN_COLOUR, strokeWidth=2).encode(
        x=x, y="median:Q",
        tooltip=[alt.Tooltip("month:Q", title="Month"), alt.Tooltip("median:Q", title=f"Median B - A, {unit}", format=",.4~g"),
                 alt.Tooltip("low:Q", title=f"{int(BAND[0] * 100)}th percentile", format=",.4~g"),
                 alt.Tooltip("high:Q", title=f"{int(BAND[1] * 100)}th percentile", format=",.4~g")])
    zero = alt.Chart(alt.Data(values=[{"zero": 0}])).mark_rule(color="#7a8591").encode(y="zero:Q")
    title = alt.TitleParams(f"{figure.label}: B - A", anchor="start",
                            subtitle=f"median and {int(BAND[0] * 100)}-{int(BAND[1] * 100)}% band across seeds, {unit}")
    chart = alt.layer(zero, *marker_layers(markers, x), band, line).properties(
        title=title, width="container", height=SEEDS_CHART_HEIGHT)
    return for_shipped_vega(chart).configure_view(stroke=None).to_dict()


def summary_html(summary: dict[str, dict[str, Any]], figures: tuple[Figure, ...], seeds: list[int],
                 months: int) -> str:
    """The last month's median, band and P(B > A) per figure (exact numbers in data-value)."""
    lines = []
    for figure in figures:
        found = summary[figure.key]
        if not found["seeds"]:
            continue
        factor, unit = scale(figure), unit_name(figure)
        median, low, high = (found[k][-1] for k in ("median", "low", "high"))
        lines.append(
            f"<tr><td>{html.escape(figure.label)}</td>"
            f'<td data-testid="seeds-median-{figure.key}" data-value="{float(median)!r}">{median * factor:+,.4g} {unit}</td>'
            f"<td>[{low * factor:+,.4g}, {high * factor:+,.4g}] {unit}</td>"
            f'<td data-testid="seeds-p-{figure.key}" data-value="{found["p_b_above_a"]!r}">{found["p_b_above_a"]:.0%}</td></tr>')
    return (f"<p>B - A at month {months}, over the seeds finished so far (seeds {seeds[0]} to {seeds[-1]}; A and B "
            "share every draw within a seed). P(B &gt; A): the share of seeds where B ends above A.</p>"
            "<table><tr><th>figure</th><th>median B - A</th><th>5-95% of seeds</th><th>P(B &gt; A)</th></tr>"
            + "".join(lines) + "</table>")


class SeedsHolder:
    """The view's current run (a new number of seeds replaces it) and whether the view is gone."""

    def __init__(self):
        self.run: SeedsRun | None = None
        self.closed = threading.Event()

    def replace(self, run: SeedsRun) -> None:
        if self.run is not None:
            self.run.cancel()
        self.run = run
        run.start()

    def close(self) -> None:
        self.closed.set()
        if self.run is not None:
            self.run.cancel()


@solara.component
def SeedsView(comparison: Comparison, shown: bool):
    """Starts the seeds when first ``shown``; another number of seeds, another run. One watcher
    thread per view redraws it as seeds finish (one writer of its state, whatever the runs)."""
    count = solara.use_reactive(DEFAULT_SEEDS)
    progress = solara.use_reactive((0, 0))  # (runs started, seeds finished in the current one)
    problem = solara.use_reactive("")
    _ = progress.value  # read here, so that the view re-renders as seeds finish
    holder: SeedsHolder = solara.use_memo(SeedsHolder, [])
    figures = comparison_figures(comparison)
    solara.use_effect(lambda: holder.close, [])

    def run_seeds(number: int) -> None:
        try:
            holder.replace(SeedsRun(comparison.a.config, comparison.b.config, seeds_for(comparison.seed, number),
                                    figures))
        except Exception as exc:  # noqa: BLE001 - no worker pool here: shown on the page
            problem.set(f"cannot start the seeds: {type(exc).__name__}: {exc}".splitlines()[0])
            return
        progress.set((progress.value[0] + 1, 0))

    def begin() -> None:
        if shown and holder.run is None:
            run_seeds(count.value)

    solara.use_effect(begin, [shown])

    def watch() -> None:
        # Solara's task thread is not a daemon: it also ends when the interpreter shuts down (the
        # main thread has stopped), or a process that rendered the page would never exit
        while not holder.closed.is_set() and threading.main_thread().is_alive():
            run = holder.run
            if run is None or run.complete:
                holder.closed.wait(WAIT_S)
            else:
                wait([f for f in run.futures if not f.done()], timeout=WAIT_S, return_when=FIRST_COMPLETED)
            if run is not None and run is holder.run and not holder.closed.is_set():
                finished = len(run.done) + len(run.failed)
                if progress.value[1] != finished:
                    progress.set((progress.value[0], finished))

    solara.lab.use_task(watch, dependencies=[], prefer_threaded=True)

    run = holder.run
    # data-seeds: the number of seeds as the server has it (a committed edit shows here first)
    with solara.Div(attributes={"data-testid": "seeds-view", "data-seeds": str(count.value)}) as view:
        with solara.Row(style={"align-items": "center"}):
            solara.InputInt("Seeds", value=count, style={"max-width": "8em"})
            solara.Button("Run again with this many seeds", outlined=True,
                          disabled=not 1 <= count.value <= MAX_SEEDS, on_click=lambda: run_seeds(count.value))
        if problem.value:
            solara.Warning(problem.value, dense=True)
        if run is None:
            solara.Text("Starts when shown.")
            return view
        done = len(run.done)
        solara.HTML(tag="div", attributes={"data-testid": "seeds-done", "data-value": str(done)}, unsafe_innerHTML=(
            f"<b>{done} of {len(run.seeds)} seeds</b> done"
            + (f"; {len(run.failed)} failed ({html.escape(run.failed[0])})" if run.failed else "")
            + ("" if run.complete else ": running in the background, filling in as seeds finish.")))
        if done:
            summary = run.summary()
            solara.HTML(tag="div", classes=["cryptoabm-table"], attributes={"data-testid": "seeds-summary"},
                        unsafe_innerHTML=summary_html(summary, figures, run.seeds, comparison.months))
            markers = comparison_markers(comparison)
            with solara.Div(classes=["cryptoabm-charts"]):
                for figure in figures:
                    with solara.Div(classes=["cryptoabm-panel"], attributes={"data-testid": f"seeds-chart-{figure.key}"}):
                        LiveChart.element(spec=seeds_spec(figure, comparison.months, markers),
                                          values=seeds_rows(summary[figure.key], figure))
    return view
