"""The citizens' network, coloured by wallet state, merchants marked, with tooltips.

Up to :data:`~cryptoabm.viz.layout.MAX_DRAWN_CITIZENS` citizens are drawn one by one on the
cached layout of their network, over a cached picture of their contacts. A larger population,
or a well-mixed one (no network at all), is shown as an aggregate instead: a 10 x 10 "waffle"
in which each square is one per cent of the citizens, which stays readable and costs the same
at any size.
"""

from __future__ import annotations

from dataclasses import dataclass

import altair as alt
import numpy as np
import pandas as pd
import solara
from mesa.visualization.utils import update_counter

from cryptoabm.agents.citizen import Population
from cryptoabm.viz.layout import MAX_DRAWN_CITIZENS, PADDING, network_drawing
from cryptoabm.viz.offline import for_shipped_vega

NO_WALLET, WALLET, ACTIVE = "No wallet", "Wallet, not in use", "Active wallet user"
STATE_LABELS = (NO_WALLET, WALLET, ACTIVE)
STATE_COLOURS = ("#c3ccd6", "#f0a04b", "#1f8a70")
HOUSEHOLD, MERCHANT = "Household", "Merchant"
ROLE_SHAPES = ("circle", "square")
NODE_SIZE, MERCHANT_SIZE = 28, 60  # area in square pixels
MERCHANT_OUTLINE = "#243447"
COORDINATE_DECIMALS = 4  # enough for a few hundred pixels, keeps the page's data small
CHART_SIZE = 300  # pixels on each side of the (square) drawing
LEGEND_SIDE = "right"
WAFFLE_SIDE = 10  # squares per row and column: each is 1% of the citizens
WAFFLE_CELLS = WAFFLE_SIDE * WAFFLE_SIDE
WAFFLE_GAP = 0.12  # space between squares, as a share of a square
WAFFLE_CORNER = 2  # pixels
WAFFLE_SIZE = 250  # pixels a side (the two-line subtitle takes the rest of the panel)


def wallet_states(population: Population) -> np.ndarray:
    """Each citizen's state as one of STATE_LABELS."""
    labels = np.array(STATE_LABELS, dtype=object)
    return labels[np.where(population.is_active, 2, np.where(population.has_wallet, 1, 0))]


def draws_network(population: Population) -> bool:
    """Whether the citizens are drawn one by one (else the aggregate view)."""
    return population.adjacency is not None and population.size <= MAX_DRAWN_CITIZENS


@solara.component
def NetworkView(model):
    """The citizens' network or, for large or well-mixed populations, the aggregate view."""
    update_counter.get()
    chart = network_chart(model) if draws_network(model.population) else aggregate_chart(model)
    with solara.Div(classes=["cryptoabm-panel"], attributes={"data-testid": "network-view"}):
        solara.FigureAltair(chart)


# -- one by one ------------------------------------------------------------------------------
def network_chart(model) -> alt.LayerChart:
    """The contacts (a cached picture) behind the citizens as dots, merchants as squares."""
    population = model.population
    drawing = network_drawing(population.adjacency)
    contacts = alt.Chart(alt.Data(values=[{"x": 0.5, "y": 0.5, "url": drawing.edges_png}])).mark_image(
        width=CHART_SIZE, height=CHART_SIZE, align="center", baseline="middle", aspect=False
    ).encode(x=_axis("x"), y=_axis("y"), url="url:N")
    citizens = alt.Chart(citizen_table(population, drawing.positions)).mark_point(filled=True, opacity=1.0).encode(
        x=_axis("x"),
        y=_axis("y"),
        color=_state_colour(),
        shape=alt.Shape("role:N", scale=alt.Scale(domain=[HOUSEHOLD, MERCHANT], range=list(ROLE_SHAPES)),
                        legend=alt.Legend(title=None, orient=LEGEND_SIDE)),
        size=alt.condition(f"datum.role == '{MERCHANT}'", alt.value(MERCHANT_SIZE), alt.value(NODE_SIZE)),
        stroke=alt.condition(f"datum.role == '{MERCHANT}'", alt.value(MERCHANT_OUTLINE), alt.value(None)),
        tooltip=[
            alt.Tooltip("citizen:Q", title="Citizen"),
            alt.Tooltip("role:N", title="Role"),
            alt.Tooltip("state:N", title="Wallet"),
            alt.Tooltip("paid:N", title="Paid in crypto this month"),
            alt.Tooltip("accepts:N", title="Accepts crypto (merchants)"),
            alt.Tooltip("contacts:Q", title="Contacts"),
            alt.Tooltip("income:Q", title="Income, USD/month", format=",.0f"),
            alt.Tooltip("online:N", title="Online"),
        ],
    )
    merchants = int(np.count_nonzero(population.is_merchant))
    title = alt.TitleParams(
        "Citizens' network",
        subtitle=f"{population.size:,} citizens, {merchants:,} of them merchants (squares); lines are contacts",
        anchor="start",
    )
    chart = alt.layer(contacts, citizens).properties(title=title, width=CHART_SIZE, height=CHART_SIZE)
    return for_shipped_vega(chart).configure_view(stroke=None)


def _axis(field: str) -> alt.X | alt.Y:
    scale = alt.Scale(domain=[-PADDING, 1 + PADDING], nice=False)
    return (alt.X if field == "x" else alt.Y)(f"{field}:Q", axis=None, scale=scale)


def _state_colour() -> alt.Color:
    return alt.Color("state:N", scale=alt.Scale(domain=list(STATE_LABELS), range=list(STATE_COLOURS)),
                     legend=alt.Legend(title=None, orient=LEGEND_SIDE))


def citizen_table(population: Population, positions: np.ndarray) -> pd.DataFrame:
    """One row per citizen: position, wallet state, role and what the tooltip shows."""
    yes_no = np.array(["no", "yes"], dtype=object)
    merchant = population.is_merchant
    return pd.DataFrame({
        "citizen": np.arange(population.size),
        "x": np.round(positions[:, 0], COORDINATE_DECIMALS),
        "y": np.round(positions[:, 1], COORDINATE_DECIMALS),
        "state": wallet_states(population),
        "role": np.where(merchant, MERCHANT, HOUSEHOLD),
        "paid": yes_no[population.paid_in_crypto.astype(int)],
        "accepts": np.where(merchant, yes_no[population.accepts_crypto.astype(int)], "-"),
        "contacts": population.degree.astype(int),
        "income": np.round(population.income_usd_per_month),
        "online": yes_no[population.has_internet.astype(int)],
    })


# -- aggregate -----------------------------------------------------------------------------
@dataclass(frozen=True)
class StateCount:
    label: str
    citizens: int
    squares: int


def state_counts(population: Population) -> list[StateCount]:
    """Citizens per wallet state and their squares in the waffle (largest remainders, 100 in all)."""
    states = wallet_states(population)
    counts = np.array([np.count_nonzero(states == label) for label in STATE_LABELS])
    exact = counts / population.size * WAFFLE_CELLS
    squares = np.floor(exact).astype(int)
    for index in np.argsort(-(exact - squares), kind="stable")[: WAFFLE_CELLS - squares.sum()]:
        squares[index] += 1
    return [StateCount(label, int(c), int(s)) for label, c, s in zip(STATE_LABELS, counts, squares, strict=True)]


def aggregate_chart(model) -> alt.Chart:
    """A waffle of the citizens by wallet state: each square is 1% of them."""
    population = model.population
    squares = [count for count in state_counts(population) for _ in range(count.squares)]
    records = [
        {"state": count.label, "citizens": count.citizens, "share": count.citizens / population.size,
         "column": cell % WAFFLE_SIDE, "row": cell // WAFFLE_SIDE}
        for cell, count in enumerate(squares)
    ]
    merchants = int(np.count_nonzero(population.is_merchant))
    accepting = int(np.count_nonzero(population.accepts_crypto & population.is_merchant))
    why = ("well mixed: everyone meets everyone, no network to draw" if population.adjacency is None
           else f"too many to draw one by one (over {MAX_DRAWN_CITIZENS:,})")
    title = alt.TitleParams(
        "Citizens (aggregate view)",
        subtitle=[f"{population.size:,} citizens, {why}.",
                  f"Each square is 1% of them. Merchants accepting crypto: {accepting:,} of {merchants:,}."],
        anchor="start",
    )
    gaps = alt.Scale(paddingInner=WAFFLE_GAP, paddingOuter=0)
    chart = alt.Chart(alt.Data(values=records)).mark_rect(cornerRadius=WAFFLE_CORNER).encode(
        x=alt.X("column:O", axis=None, scale=gaps),
        y=alt.Y("row:O", axis=None, scale=gaps),
        color=_state_colour(),
        tooltip=[alt.Tooltip("state:N", title="Wallet"), alt.Tooltip("citizens:Q", title="Citizens", format=","),
                 alt.Tooltip("share:Q", title="Share", format=".1%")],
    ).properties(title=title, width=WAFFLE_SIZE, height=WAFFLE_SIZE)
    return for_shipped_vega(chart).configure_view(stroke=None)
