"""The live charts: adoption, mining, the power grid and money flows, month by month.

Each chart is Mesa's ``make_plot_component`` (Altair backend) over the model's DataCollector,
whose reporters are the columns of ``MonthlyIndicators``; a ``post_process`` turns Mesa's
default line chart into a titled one with readable series names, units, the month on the
x axis and, where two units meet (EH/s and a share, MW and a margin), a second y axis.
The model records nothing at month 0, so Mesa's row ``Step`` 0 is month 1.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import altair as alt
import pandas as pd
import reacton
import solara
from mesa.visualization import make_plot_component
from mesa.visualization.utils import update_counter

from cryptoabm.viz.offline import for_shipped_vega

FIRST_RECORDED_MONTH = 1  # the DataCollector's first row (Mesa's Step 0)
CHART_HEIGHT = 230  # pixels, so that title, axes and legend fit Mesa's grid cell
LINE_WIDTH = 2.2  # pixels
LEGEND_COLUMNS, LEGEND_LABEL_PIXELS = 3, 170
POINT_SIZE = 18  # square pixels: a dot per month, to hover for the tooltip
SECONDARY_DASH = [5, 3]
EMPTY_MW, EMPTY_USD = 1_000.0, 1_000_000.0  # empty axes of the grid and money charts
SHARE_FORMAT, PERCENT_AXIS, USD_FORMAT = ".1%", "%", "$,.3~s"


@dataclass(frozen=True)
class Series:
    column: str  # a DataCollector reporter (a MonthlyIndicators column)
    label: str
    colour: str
    secondary: bool = False  # on the right-hand axis, dashed


@dataclass(frozen=True)
class ChartSpec:
    test_id: str  # data-testid of the chart's element in the page
    title: str
    subtitle: str
    series: tuple[Series, ...]
    axis_title: str
    axis_format: str
    tooltip_format: str
    secondary_title: str = ""
    secondary_format: str = ""
    secondary_tooltip_format: str = ""
    empty_top: float = 1.0  # top of the left axis while it has nothing to show (no months yet, all zero)


ADOPTION = ChartSpec(
    "chart-adoption", "Adoption", "Shares of citizens (merchants: of merchants)",
    (Series("wallet_share", "Holding a wallet", "#f0a04b"),
     Series("active_share", "Active wallet users", "#1f8a70"),
     Series("merchant_accept_share", "Merchants accepting crypto", "#6a4c93"),
     Series("crypto_payment_share", "Paid in crypto this month", "#d1495b")),
    "share", PERCENT_AXIS, SHARE_FORMAT,
)
MINING = ChartSpec(
    "chart-mining", "Mining", "National hashrate (left) and its share of the global network (right, dashed)",
    (Series("hashrate_ehs", "National hashrate, EH/s", "#00798c"),
     Series("global_hashrate_share", "Share of global hashrate", "#edae49", secondary=True)),
    "EH/s", ",.2~f", ",.3f", "share of global", PERCENT_AXIS, ".2%",
)
GRID = ChartSpec(
    "chart-grid", "Power grid", "Monthly average MW (left) and the reserve margin (right, dashed)",
    (Series("capacity_mw", "Available capacity", "#30638e"),
     Series("non_mining_demand_mw", "Households and industry", "#8d99ae"),
     Series("mining_load_mw", "Miners' load", "#d1495b"),
     Series("reserve_margin", "Reserve margin", "#1f8a70", secondary=True)),
    "MW", ",.0f", ",.0f", "reserve margin", PERCENT_AXIS, SHARE_FORMAT, empty_top=EMPTY_MW,
)
MONEY = ChartSpec(
    "chart-money", "Money flows", "USD per month, scaled to the whole country",
    (Series("fdi_inflow_usd", "FDI inflow", "#00798c"),
     Series("profit_repatriation_usd", "Profits repatriated", "#edae49"),
     Series("capital_flight_usd", "Capital flight via crypto", "#d1495b"),
     Series("state_revenue_usd", "State revenue", "#30638e"),
     Series("bonus_outlay_usd", "Wallet bonus outlays", "#6a4c93")),
    "USD per month", USD_FORMAT, "$,.0f", empty_top=EMPTY_USD,
)
CHARTS: tuple[ChartSpec, ...] = (ADOPTION, MINING, GRID, MONEY)


def live(render: Callable, name: str, test_id: str) -> Callable:
    """A stable Solara component around a Mesa component function, redrawn on every step.

    (SolaraViz wraps bare functions in a new component type on every render, which remounts
    the chart; one component type per chart lets it update in place.) ``test_id`` marks the
    chart's element in the page for the browser tests.
    """

    def LiveComponent(model):
        update_counter.get()
        with solara.Div(classes=["cryptoabm-panel"], attributes={"data-testid": test_id}) as panel:
            render(model)
        return panel

    LiveComponent.__name__ = LiveComponent.__qualname__ = name
    # reacton's decorator (what solara.component wraps): Solara's hook linter cannot read the
    # source of a function defined inside another one
    return reacton.component(LiveComponent)


def plot_component(spec: ChartSpec, page: int = 0) -> tuple[Callable, int]:
    """Mesa's Altair plot component for ``spec``, as (component, page) for SolaraViz.

    Mesa's component is made afresh on each render (a cheap closure) so that its post-process
    knows the run's horizon: the month axis spans the whole run from the first step on.
    """
    measure = {series.column: series.colour for series in spec.series}

    def render(model):
        plot, _ = make_plot_component(measure, post_process=styled(spec, model.config.months),
                                      backend="altair", page=page)
        return plot(model)

    return live(render, f"{spec.title.replace(' ', '')}Chart", spec.test_id), page


def styled(spec: ChartSpec, months: int) -> Callable[[alt.Chart], alt.TopLevelMixin]:
    """A Mesa ``post_process``: rebuild the chart from its data (``Step``, ``Measure``, ``Value``)."""

    def post_process(chart: alt.Chart) -> alt.TopLevelMixin:
        return line_chart(spec, chart.data, months)

    return post_process


def line_chart(spec: ChartSpec, long: pd.DataFrame, months: int) -> alt.TopLevelMixin:
    """Lines per series by month over the run's ``months``; secondary series dashed on a
    right-hand axis. With no months recorded yet, the axes still show (empty)."""
    labels = {series.column: series.label for series in spec.series}
    data = long.assign(month=long["Step"] + FIRST_RECORDED_MONTH, series=long["Measure"].map(labels))
    legend = alt.Legend(title=None, orient="bottom", columns=LEGEND_COLUMNS, labelLimit=LEGEND_LABEL_PIXELS)
    palette = alt.Scale(domain=[s.label for s in spec.series], range=[s.colour for s in spec.series])
    colour = alt.Color("series:N", legend=legend, scale=palette)
    x = alt.X("month:Q", title="month", axis=alt.Axis(tickMinStep=1, format="d"),
              scale=alt.Scale(domain=[FIRST_RECORDED_MONTH, max(months, FIRST_RECORDED_MONTH + 1)], nice=False))
    layers = [_layer(data, spec, x, colour, secondary=False)]
    if any(series.secondary for series in spec.series):
        layers.append(_layer(data, spec, x, colour, secondary=True))
    title = alt.TitleParams(spec.title, subtitle=spec.subtitle, anchor="start")
    chart = alt.layer(*layers).resolve_scale(y="independent").properties(
        title=title, width="container", height=CHART_HEIGHT
    )
    return for_shipped_vega(chart).configure_view(stroke=None)


def _layer(data: pd.DataFrame, spec: ChartSpec, x: alt.X, colour: alt.Color, secondary: bool) -> alt.Chart:
    columns = [s.column for s in spec.series if s.secondary == secondary]
    axis_title, axis_format, value_format = (
        (spec.secondary_title, spec.secondary_format, spec.secondary_tooltip_format) if secondary
        else (spec.axis_title, spec.axis_format, spec.tooltip_format)
    )
    rows = data[data["Measure"].isin(columns)]
    # an empty or all-zero layer has no extent: give its y axis one until it has data to show
    flat = rows.empty or (rows["Value"].min() == 0 and rows["Value"].max() == 0)
    top = 1.0 if secondary else spec.empty_top  # the secondary axes are shares
    y_scale = alt.Scale(domain=[0, top]) if flat else alt.Undefined
    return alt.Chart(rows).mark_line(
        strokeWidth=LINE_WIDTH, point=alt.OverlayMarkDef(size=POINT_SIZE),
        strokeDash=SECONDARY_DASH if secondary else alt.Undefined,
    ).encode(
        x=x,
        y=alt.Y("Value:Q", title=axis_title, scale=y_scale,
                axis=alt.Axis(format=axis_format, orient="right" if secondary else "left")),
        color=colour,
        tooltip=[alt.Tooltip("month:Q", title="Month"), alt.Tooltip("series:N", title="Series"),
                 alt.Tooltip("Value:Q", title="Value", format=value_format)],
    )
