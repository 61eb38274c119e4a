"""The live charts: adoption, mining, the power grid and money flows, A and B month by month.

Each chart has one unit and one axis (the miners' load, the share of global hashrate and the
reserve margin have panels of their own, so that no series is flattened against another's
scale). Colours name the series, from the Okabe-Ito palette, which stays distinct with the
common kinds of colour blindness; the line style names the run: A solid, B dashed. The
"B - A" view draws each series' difference instead, around a zero line.

Every chart marks the months where something happens that explains a turn in the lines
(:func:`event_markers`): the policy measures each run schedules (B's power cut in month 9,
say), the events of the world both runs share (a price shock, a relocation wave) and the
halvings of the block subsidy; a line under each chart lists them in words.

A chart's Vega-Lite specification is built once per chart, horizon, view, pair of run names
and set of markers (:func:`chart_spec`, cached); each month adds only the new rows to the
chart's data (:func:`chart_values`), and the browser updates the chart in place
(:mod:`cryptoabm.viz.live_chart`).
"""

from __future__ import annotations

import functools
import html
import math
from dataclasses import dataclass
from typing import Any

import altair as alt
import solara

from cryptoabm.config import Scenario
from cryptoabm.formatting import usd
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
MARKER_COLOUR, MARKER_DASH, MARKER_LABEL_ANGLE = "#5c6b7a", [3, 3], 270
MARKER_LABEL_CHARACTERS = 28  # a marker's label on the chart is cut to this; the line under it has the whole

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
    unit: str = ""  # of a B - A value under the chart: "pp" for shares, "USD a month", "EH/s", "MW"

    @property
    def columns(self) -> tuple[str, ...]:
        return tuple(series.column for series in self.series)


ADOPTION = ChartSpec(
    "chart-adoption", "Adoption", "Shares of citizens (merchants: of merchants)",
    (Series("wallet_share", "Holding a wallet", ORANGE),
     Series("active_share", "Active wallet users", GREEN),
     Series("merchant_accept_share", "Merchants accepting crypto", PURPLE),
     Series("crypto_payment_share", "Paid in crypto this month", VERMILLION)),
    "share", PERCENT_AXIS, SHARE_FORMAT, unit="pp",
)
MINING = ChartSpec(
    "chart-mining", "Mining", "National hashrate running, EH/s",
    (Series("hashrate_ehs", "National hashrate", BLUE),),
    "EH/s", ",.2~f", ",.3f", unit="EH/s",
)
GLOBAL_SHARE = ChartSpec(
    "chart-global-share", "Share of global hashrate", "The country's hashrate over the whole network's",
    (Series("global_hashrate_share", "Share of global hashrate", SKY_BLUE),),
    "share", PERCENT_AXIS, ".3%", empty_top=0.01, unit="pp",
)
MINERS_LOAD = ChartSpec(
    "chart-miners-load", "Miners' load", "Power served to farms, monthly average MW",
    (Series("mining_load_mw", "Miners' load", VERMILLION),),
    "MW", ",.0f", ",.1f", empty_top=10.0, unit="MW",
)
GRID = ChartSpec(
    "chart-grid", "Power grid", "Monthly average MW",
    (Series("capacity_mw", "Available capacity", BLACK),
     Series("non_mining_demand_mw", "Households and industry", SKY_BLUE)),
    "MW", ",.0f", ",.0f", empty_top=1_000.0, unit="MW",
)
RESERVE = ChartSpec(
    "chart-reserve", "Reserve margin", "Spare capacity after dispatch, share of capacity",
    (Series("reserve_margin", "Reserve margin", GREEN),),
    "share", PERCENT_AXIS, SHARE_FORMAT, unit="pp",
)
MONEY = ChartSpec(
    "chart-money", "Money flows", "USD per month, scaled to the whole country",
    (Series("fdi_inflow_usd", "FDI inflow", BLUE),
     Series("profit_repatriation_usd", "Profits repatriated", ORANGE),
     Series("capital_flight_usd", "Capital flight via crypto", VERMILLION),
     Series("state_revenue_usd", "State revenue", GREEN),
     Series("bonus_outlay_usd", "Wallet bonus outlays", PURPLE)),
    "USD per month", USD_AXIS, USD_FORMAT, empty_top=1_000_000.0, unit="USD a month",
)
ACCOUNTS = ChartSpec(
    "chart-accounts", "National and fiscal accounts", "USD per month: crypto- and mining-related",
    (Series("current_account_usd", "Current account", BLUE),
     Series("financial_account_usd", "Financial account (net lending)", ORANGE),
     Series("fiscal_net_usd", "Fiscal net", GREEN),
     Series("national_gain_from_mining_usd", "National gain from mining", VERMILLION)),
    "USD per month", USD_AXIS, USD_FORMAT, empty_top=1_000_000.0, unit="USD a month",
)
CHARTS: tuple[ChartSpec, ...] = (ADOPTION, MINING, GLOBAL_SHARE, MINERS_LOAD, GRID, RESERVE, MONEY)
OPTIONAL_CHARTS: tuple[ChartSpec, ...] = (ACCOUNTS,)  # shown when the monthly table has their columns


def charts_for(columns) -> tuple[ChartSpec, ...]:
    """The charts a monthly table with these columns can draw: every chart whose columns are all there."""
    present = set(columns)
    return CHARTS + tuple(spec for spec in OPTIONAL_CHARTS if set(spec.columns) <= present)


@dataclass(frozen=True)
class Marker:
    """A month to mark on the time charts, and why."""

    month: int
    label: str


def event_markers(scenario_a: Scenario, scenario_b: Scenario, months: int) -> tuple[Marker, ...]:
    """What happens when, in either run: each scheduled event (named with the run it belongs to
    when only one run has it), and each halving of the block subsidy within the horizon."""
    found: dict[tuple[int, str], None] = {}
    events_a = [event.model_dump(mode="json") for event in scenario_a.events]
    events_b = [event.model_dump(mode="json") for event in scenario_b.events]
    for run, own, other in ((RUN_A, events_a, events_b), (RUN_B, events_b, events_a)):
        for raw in own:
            if raw["month"] > months:
                continue
            prefix = "" if raw in other else f"{run}: "
            found[(raw["month"], prefix + event_name(raw))] = None
    market = scenario_a.market
    if market.months_to_next_halving is not None:
        month = market.months_to_next_halving
        while 1 <= month <= months:
            found[(month, "halving")] = None
            month += market.halving_interval_months
    return tuple(Marker(month, label) for month, label in sorted(found))


def event_name(raw: dict[str, Any]) -> str:
    """An event in a few words: its note if it has one, else its kind and size."""
    if raw.get("note"):
        return str(raw["note"])
    kind = raw["kind"]
    if kind == "price_shock":
        return f"price shock x{raw['factor']:g}"
    if kind == "hashrate_shock":
        return f"world hashrate x{raw['factor']:g}"
    if kind == "mining_power_cut":
        return f"power cut to miners ({raw['days']:g} days)"
    if kind == "policy":
        return "policy change: " + ", ".join(f"{key} {value}" for key, value in raw["set"].items())
    return kind.replace("_", " ")


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
def chart_spec(spec: ChartSpec, months: int, view: str, labels: tuple[str, str], flat: bool,
               markers: tuple[Marker, ...] = ()) -> dict[str, Any]:
    """The chart's Vega-Lite specification (data: the named source ``rows``), built with Altair
    once per chart, horizon, view, pair of run names, whether it is still flat, and markers."""
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
    layers = [*marker_layers(markers, x), lines]
    if view == DIFFERENCE:
        layers.insert(0, alt.Chart(alt.Data(values=[{"zero": 0}])).mark_rule(color="#7a8591", strokeWidth=1)
                      .encode(y="zero:Q"))
    subtitle = f"{spec.subtitle}; A solid, B dashed" if view == PAIR else f"{spec.subtitle}: B minus A"
    chart = alt.layer(*layers).properties(
        title=alt.TitleParams(spec.title, subtitle=subtitle, anchor="start"),
        width="container", height=CHART_HEIGHT,
    )
    return for_shipped_vega(chart).configure_view(stroke=None).to_dict()


def marker_layers(markers: tuple[Marker, ...], x: alt.X) -> list[alt.Chart]:
    """A dashed rule at each marked month, labelled along it at the top of the plot."""
    if not markers:
        return []
    values = [{"month": m.month, "label": _short(m.label)} for m in markers]
    base = alt.Chart(alt.Data(values=values))
    rules = base.mark_rule(color=MARKER_COLOUR, strokeDash=MARKER_DASH, strokeWidth=1).encode(
        x=x, tooltip=[alt.Tooltip("month:Q", title="Month"), alt.Tooltip("label:N", title="Event")])
    labels = base.mark_text(angle=MARKER_LABEL_ANGLE, align="right", baseline="bottom", dx=-2, dy=-2,
                            fontSize=9, color=MARKER_COLOUR).encode(x=x, y=alt.value(0), text="label:N")
    return [rules, labels]


def _short(label: str) -> str:
    return label if len(label) <= MARKER_LABEL_CHARACTERS else label[:MARKER_LABEL_CHARACTERS - 1] + "…"


def markers_html(markers: tuple[Marker, ...], test_id: str) -> str:
    """The chart's markers in words, under it (their months in data-months)."""
    months = ",".join(str(m.month) for m in markers)
    listed = "; ".join(f"month {m.month}: {html.escape(m.label)}" for m in markers)
    return (f'<div class="markers" data-testid="markers-{test_id}" data-months="{months}">'
            f'Marked (dashed): {listed}</div>')


def _quoted(text: str) -> str:
    return text.replace("\\", "\\\\").replace("'", "\\'")


def comparison_markers(comparison: Comparison) -> tuple[Marker, ...]:
    """The comparison's markers, worked out once."""
    if "markers" not in comparison.cache:
        comparison.cache["markers"] = event_markers(comparison.a.config, comparison.b.config, comparison.months)
    return comparison.cache["markers"]


@solara.component
def CompareChart(spec: ChartSpec, comparison: Comparison, view: str, tick: int):
    """One chart of the comparison; ``tick`` changes each month (the rows are on the comparison)."""
    with comparison.lock:
        values = chart_values(spec, comparison, view)
    markers = comparison_markers(comparison)
    flat = is_flat(values, spec)
    definition = chart_spec(spec, comparison.months, view, comparison.labels, flat, markers)
    if flat:  # build the spec the first month with data will need now, not during that Step
        chart_spec(spec, comparison.months, view, comparison.labels, False, markers)
    with solara.Div(classes=["cryptoabm-panel"], attributes={"data-testid": spec.test_id}) as panel:
        LiveChart.element(spec=definition, values=values)
        if view == DIFFERENCE and values:
            solara.HTML(tag="div", unsafe_innerHTML=latest_difference_html(spec, values[-1]), classes=["latest"])
        if markers:
            solara.HTML(tag="div", unsafe_innerHTML=markers_html(markers, spec.test_id), classes=["latest"])
    return panel


def latest_difference_html(spec: ChartSpec, row: dict[str, Any]) -> str:
    """The latest month's B - A of each series, as a line under the chart (exact numbers in data-value)."""
    parts = []
    for series in spec.series:
        value = row[series.column]
        shown = "n/a" if value is None else _formatted(value, spec)
        exact = "nan" if value is None else repr(float(value))
        parts.append(f'{html.escape(series.label)} <b data-testid="diff-{series.column}" data-value="{exact}">'
                     f'{html.escape(shown)}</b>')
    return f"Month {row['month']}, B - A: " + " · ".join(parts)


def _formatted(value: float, spec: ChartSpec) -> str:
    """A B - A value with its unit: percentage points for shares, USD a month, EH/s, MW."""
    if spec.tooltip_format.endswith("%"):
        return f"{value * 100:+.2f} pp"
    if spec.tooltip_format.startswith("$"):
        return ("+" if value > 0 else "") + usd(value) + (" a month" if "month" in spec.unit else "")
    return f"{value:+,.3f} {spec.unit}".rstrip()
