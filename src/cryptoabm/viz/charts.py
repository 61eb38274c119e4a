"""The live charts: adoption, mining, the power grid and money flows, A and B month by month.

Each chart has one unit and one axis (the miners' load, the share of global hashrate and the
reserve margin have panels of their own, so that no series is flattened against another's
scale). Colours name the series, from the Okabe-Ito palette, which stays distinct with the
common kinds of colour blindness; the line style names the run: A solid, B dashed. The
"B - A" view draws each series' difference instead, around a zero line.

A chart's Vega-Lite specification is built once per chart, horizon, view and pair of run
names (:func:`chart_spec`, cached); each month adds only the new rows to the chart's data
(:func:`chart_values`), and the browser updates the chart in place (:mod:`cryptoabm.viz.live_chart`).
"""

from __future__ import annotations

import functools
import html
import math
from dataclasses import dataclass
from typing import Any

import altair as alt
import solara

from cryptoabm.viz.compare import RUN_A, RUN_B, Comparison
from cryptoabm.viz.live_chart import DATA_NAME, LiveChart
from cryptoabm.viz.offline import for_shipped_vega

FIRST_RECORDED_MONTH = 1  # the model records nothing at month 0
CHART_HEIGHT = 150  # pixels of plot, so that title, axes and legend fit the grid cell
LINE_WIDTH = 2.0  # pixels
POINT_SIZE = 14  # square pixels: a dot per month, to hover for the tooltip
LEGEND_COLUMNS, LEGEND_LABEL_PIXELS = 2, 180
A_DASH, B_DASH = [1, 0], [6, 3]  # A solid, B dashed
PAIR, DIFFERENCE = "A and B", "B - A"
VIEWS = (PAIR, DIFFERENCE)
SHARE_FORMAT, PERCENT_AXIS, USD_FORMAT, USD_AXIS = ".2%", "%", "$,.4~s", "$,.3~s"

# Okabe & Ito (2008), "Color Universal Design": distinguishable with protan, deutan and tritan vision
ORANGE, SKY_BLUE, GREEN, BLUE, VERMILLION, PURPLE, BLACK = (
    "#e69f00", "#56b4e9", "#009e73", "#0072b2", "#d55e00", "#cc79a7", "#000000")


@dataclass(frozen=True)
class Series:
    column: str  # a MonthlyIndicators column
    label: str
    colour: str


@dataclass(frozen=True)
class ChartSpec:
    test_id: str  # data-testid of the chart's element in the page
    title: str
    subtitle: str
    series: tuple[Series, ...]
    axis_title: str
    axis_format: str
    tooltip_format: str
    empty_top: float = 1.0  # top of the axis while every value is 0 (no months yet, nothing happening)

    @property
    def columns(self) -> tuple[str, ...]:
        return tuple(series.column for series in self.series)


ADOPTION = ChartSpec(
    "chart-adoption", "Adoption", "Shares of citizens (merchants: of merchants)",
    (Series("wallet_share", "Holding a wallet", ORANGE),
     Series("active_share", "Active wallet users", GREEN),
     Series("merchant_accept_share", "Merchants accepting crypto", PURPLE),
     Series("crypto_payment_share", "Paid in crypto this month", VERMILLION)),
    "share", PERCENT_AXIS, SHARE_FORMAT,
)
MINING = ChartSpec(
    "chart-mining", "Mining", "National hashrate running, EH/s",
    (Series("hashrate_ehs", "National hashrate", BLUE),),
    "EH/s", ",.2~f", ",.3f",
)
GLOBAL_SHARE = ChartSpec(
    "chart-global-share", "Share of global hashrate", "The country's hashrate over the whole network's",
    (Series("global_hashrate_share", "Share of global hashrate", SKY_BLUE),),
    "share", PERCENT_AXIS, ".3%", empty_top=0.01,
)
MINERS_LOAD = ChartSpec(
    "chart-miners-load", "Miners' load", "Power served to farms, monthly average MW",
    (Series("mining_load_mw", "Miners' load", VERMILLION),),
    "MW", ",.0f", ",.1f", empty_top=10.0,
)
GRID = ChartSpec(
    "chart-grid", "Power grid", "Monthly average MW",
    (Series("capacity_mw", "Available capacity", BLACK),
     Series("non_mining_demand_mw", "Households and industry", SKY_BLUE)),
    "MW", ",.0f", ",.0f", empty_top=1_000.0,
)
RESERVE = ChartSpec(
    "chart-reserve", "Reserve margin", "Spare capacity after dispatch, share of capacity",
    (Series("reserve_margin", "Reserve margin", GREEN),),
    "share", PERCENT_AXIS, SHARE_FORMAT,
)
MONEY = ChartSpec(
    "chart-money", "Money flows", "USD per month, scaled to the whole country",
    (Series("fdi_inflow_usd", "FDI inflow", BLUE),
     Series("profit_repatriation_usd", "Profits repatriated", ORANGE),
     Series("capital_flight_usd", "Capital flight via crypto", VERMILLION),
     Series("state_revenue_usd", "State revenue", GREEN),
     Series("bonus_outlay_usd", "Wallet bonus outlays", PURPLE)),
    "USD per month", USD_AXIS, USD_FORMAT, empty_top=1_000_000.0,
)
CHARTS: tuple[ChartSpec, ...] = (ADOPTION, MINING, GLOBAL_SHARE, MINERS_LOAD, GRID, RESERVE, MONEY)


def _finite(value: Any) -> float | None:
    value = float(value)
    return value if math.isfinite(value) else None


def chart_values(spec: ChartSpec, comparison: Comparison, view: str) -> list[dict[str, Any]]:
    """The chart's rows so far: per month, one row per run (A and B) or one of B - A, with a
    column per series. Kept on the comparison and extended by the months added since the last
    call (a copy is returned: the widget sends a list only when it is a new one)."""
    kept: list[dict[str, Any]] = comparison.cache.setdefault(("chart", spec.test_id, view), [])
    rows_a, rows_b = comparison.rows[RUN_A], comparison.rows[RUN_B]
    per_month = 2 if view == PAIR else 1
    for index in range(len(kept) // per_month, len(rows_a)):
        a, b = rows_a[index], rows_b[index]
        if view == PAIR:
            kept.append({"month": a["month"], "run": RUN_A, **{c: _finite(a[c]) for c in spec.columns}})
            kept.append({"month": b["month"], "run": RUN_B, **{c: _finite(b[c]) for c in spec.columns}})
        else:
            kept.append({"month": a["month"], "run": DIFFERENCE,
                         **{c: _finite(float(b[c]) - float(a[c])) for c in spec.columns}})
    return list(kept)


def is_flat(values: list[dict[str, Any]], spec: ChartSpec) -> bool:
    """No months yet, or every value 0: the axis needs a fixed extent to show."""
    return all(not row[c] for row in values for c in spec.columns)


def _label_expression(spec: ChartSpec, field: str) -> str:
    """A Vega expression naming a series' column by its label."""
    expression = "''"
    for series in reversed(spec.series):
        expression = f"{field} === '{series.column}' ? '{_quoted(series.label)}' : ({expression})"
    return expression


@functools.lru_cache(maxsize=256)
def chart_spec(spec: ChartSpec, months: int, view: str, labels: tuple[str, str], flat: bool) -> dict[str, Any]:
    """The chart's Vega-Lite specification (data: the named source ``rows``), built with Altair
    once per chart, horizon, view, pair of run names and whether it is still flat."""
    x = alt.X("month:Q", title="month", axis=alt.Axis(tickMinStep=1, format="d"),
              scale=alt.Scale(domain=[FIRST_RECORDED_MONTH, max(months, FIRST_RECORDED_MONTH + 1)], nice=False))
    top = spec.empty_top
    y_scale = alt.Scale(domain=[-top, top] if view == DIFFERENCE else [0, top]) if flat else alt.Undefined
    title_prefix = "B - A: " if view == DIFFERENCE else ""
    y = alt.Y("value:Q", title=f"{title_prefix}{spec.axis_title}", scale=y_scale,
              axis=alt.Axis(format=spec.axis_format))
    legend = alt.Legend(title=None, orient="bottom", columns=LEGEND_COLUMNS, labelLimit=LEGEND_LABEL_PIXELS,
                        labelExpr=_label_expression(spec, "datum.label"))
    colour = alt.Color("column:N", legend=legend if len(spec.series) > 1 or view == PAIR else None,
                       scale=alt.Scale(domain=list(spec.columns), range=[s.colour for s in spec.series]))
    run_names = {RUN_A: labels[0], RUN_B: labels[1], DIFFERENCE: f"{labels[1]} minus {labels[0]}"}
    run_expression = " : ".join(f"datum.run === '{key}' ? '{_quoted(name)}'" for key, name in run_names.items())
    tooltip = [alt.Tooltip("month:Q", title="Month"), alt.Tooltip("run_name:N", title="Run"),
               alt.Tooltip("series:N", title="Series"),
               alt.Tooltip("value:Q", title="Value", format=spec.tooltip_format)]
    encoding: dict[str, Any] = {"x": x, "y": y, "color": colour, "tooltip": tooltip}
    if view == PAIR:
        encoding["strokeDash"] = alt.StrokeDash(
            "run:N", scale=alt.Scale(domain=[RUN_A, RUN_B], range=[A_DASH, B_DASH]), legend=None)
    lines = (alt.Chart(alt.NamedData(DATA_NAME))
             .transform_fold(list(spec.columns), as_=["column", "value"])
             .transform_calculate(series=_label_expression(spec, "datum.column"),
                                  run_name=f"{run_expression} : ''")
             .mark_line(strokeWidth=LINE_WIDTH, point=alt.OverlayMarkDef(size=POINT_SIZE))
             .encode(**encoding))
    layers = [lines]
    if view == DIFFERENCE:
        layers.insert(0, alt.Chart(alt.Data(values=[{"zero": 0}])).mark_rule(color="#7a8591", strokeWidth=1)
                      .encode(y="zero:Q"))
    subtitle = f"{spec.subtitle}; A solid, B dashed" if view == PAIR else f"{spec.subtitle}: B minus A"
    chart = alt.layer(*layers).properties(
        title=alt.TitleParams(spec.title, subtitle=subtitle, anchor="start"),
        width="container", height=CHART_HEIGHT,
    )
    return for_shipped_vega(chart).configure_view(stroke=None).to_dict()


def _quoted(text: str) -> str:
    return text.replace("\\", "\\\\").replace("'", "\\'")


@solara.component
def CompareChart(spec: ChartSpec, comparison: Comparison, view: str, tick: int):
    """One chart of the comparison; ``tick`` changes each month (the rows are on the comparison)."""
    with comparison.lock:
        values = chart_values(spec, comparison, view)
    flat = is_flat(values, spec)
    definition = chart_spec(spec, comparison.months, view, comparison.labels, flat)
    if flat:  # build the spec the first month with data will need now, not during that Step
        chart_spec(spec, comparison.months, view, comparison.labels, False)
    with solara.Div(classes=["cryptoabm-panel"], attributes={"data-testid": spec.test_id}) as panel:
        LiveChart.element(spec=definition, values=values)
        if view == DIFFERENCE and values:
            solara.HTML(tag="div", unsafe_innerHTML=latest_difference_html(spec, values[-1]), classes=["latest"])
    return panel


def latest_difference_html(spec: ChartSpec, row: dict[str, Any]) -> str:
    """The latest month's B - A of each series, as a line under the chart (exact numbers in data-value)."""
    parts = []
    for series in spec.series:
        value = row[series.column]
        shown = "n/a" if value is None else _formatted(value, spec.tooltip_format)
        parts.append(f'{html.escape(series.label)} <b data-testid="diff-{series.column}" data-value="{value!r}">'
                     f'{html.escape(shown)}</b>')
    return f"Month {row['month']}, B - A: " + " · ".join(parts)


def _formatted(value: float, d3_format: str) -> str:
    """A number as the tooltip shows it (the d3 formats used here: %, $ with SI, plain)."""
    if d3_format.endswith("%"):
        return f"{value * 100:+.2f} pp"
    if d3_format.startswith("$"):
        from cryptoabm.formatting import usd

        return ("+" if value > 0 else "") + usd(value)
    return f"{value:+,.3f}"
