"""The citizens' network under A and B: who holds a wallet, and where the two runs differ.

A and B share one population and one network (the same seed), so each citizen can be drawn
once and coloured by run A's state, run B's state, or by how the two differ (the default):
"further along in B" (B holds a wallet, or uses it, where A does not), "further along in A",
or the same in both.

- Up to :data:`~cryptoabm.viz.layout.MAX_DRAWN_CITIZENS` citizens are drawn one by one on
  their network's cached layout. Adopters and merchants are larger and drawn on top. While
  few citizens hold a wallet (under :data:`EGO_NETWORKS_BELOW`), only the adopters' ego
  networks (their contacts) are drawn as lines, so the few adopters stand out; above it, the
  whole network is a faint cached picture behind the dots.
- Larger populations are shown by community (Louvain, cached per network; for a well-mixed
  population without a network, by income decile): one square per community, coloured by the
  share of its citizens holding a wallet (or B minus A), with a legend that gives the scale.
"""

from __future__ import annotations

import functools
from typing import Any

import altair as alt
import numpy as np
import solara

from cryptoabm.agents.citizen import Population
from cryptoabm.viz.compare import Comparison
from cryptoabm.viz.layout import MAX_DRAWN_CITIZENS, PADDING, communities, network_drawing
from cryptoabm.viz.live_chart import DATA_NAME, LiveChart
from cryptoabm.viz.offline import for_shipped_vega

SHOW_A, SHOW_B, SHOW_DIFFERENCE = "A", "B", "Where A and B differ"
SHOW_CHOICES = (SHOW_DIFFERENCE, SHOW_A, SHOW_B)
NO_WALLET, WALLET, ACTIVE = "No wallet", "Wallet, not in use", "Active wallet user"
STATE_LABELS = (NO_WALLET, WALLET, ACTIVE)
STATE_COLOURS = ("#c9d1da", "#e69f00", "#009e73")  # grey, then Okabe-Ito orange and green
SAME_NONE, SAME_WALLET, B_AHEAD, A_AHEAD = ("No wallet in A or B", "Same wallet state in A and B",
                                             "Further along in B", "Further along in A")
DIFFERENCE_LABELS = (SAME_NONE, SAME_WALLET, B_AHEAD, A_AHEAD)
DIFFERENCE_COLOURS = ("#c9d1da", "#6b7785", "#0072b2", "#d55e00")  # greys, Okabe-Ito blue and vermillion
NODE_SIZE, ADOPTER_SIZE, MERCHANT_SIZE = 14, 40, 60  # area in square pixels
MERCHANT_OUTLINE = "#243447"
EDGE_COLOUR = "#7a8591"
EGO_NETWORKS_BELOW = 0.10  # share of citizens holding a wallet (in A or B) under which ego networks are drawn
COORDINATE_DECIMALS = 4
CHART_SIZE = 300  # pixels on each side of the drawing
SQUARE_GAP = 0.12  # between community squares, as a share of a square
INCOME_DECILES = 10
DIFFERENCE_EXTENTS = (0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1.0)  # the B - A colour scale runs from -x to +x


def wallet_codes(population: Population) -> np.ndarray:
    """Each citizen's state: 0 no wallet, 1 wallet not in use, 2 active user."""
    return np.where(population.is_active, 2, np.where(population.has_wallet, 1, 0))


def difference_codes(a: Population, b: Population) -> np.ndarray:
    """Each citizen's place in DIFFERENCE_LABELS: the same (with or without a wallet), or
    further along in B, or in A."""
    state_a, state_b = wallet_codes(a), wallet_codes(b)
    same = np.where(state_a == 0, 0, 1)
    return np.where(state_b > state_a, 2, np.where(state_a > state_b, 3, same))


def draws_network(population: Population) -> bool:
    """Whether the citizens are drawn one by one (else the aggregate view)."""
    return population.adjacency is not None and population.size <= MAX_DRAWN_CITIZENS


def _categories(comparison: Comparison, show: str) -> tuple[np.ndarray, tuple[str, ...], tuple[str, ...]]:
    if show == SHOW_DIFFERENCE:
        return difference_codes(comparison.a.population, comparison.b.population), DIFFERENCE_LABELS, DIFFERENCE_COLOURS
    population = comparison.a.population if show == SHOW_A else comparison.b.population
    return wallet_codes(population), STATE_LABELS, STATE_COLOURS


def shows_ego_networks(comparison: Comparison) -> bool:
    """Few adopters: draw only their contacts."""
    holding = comparison.a.population.has_wallet | comparison.b.population.has_wallet
    return holding.mean() < EGO_NETWORKS_BELOW


# -- one by one ------------------------------------------------------------------------------
def citizen_rows(comparison: Comparison, show: str, ego: bool) -> list[dict[str, Any]]:
    """The drawing's rows: the adopters' contacts (if ``ego``) as lines, then every citizen,
    non-adopters first so that adopters and merchants are drawn on top."""
    a, b = comparison.a.population, comparison.b.population
    positions = np.round(network_drawing(a.adjacency).positions, COORDINATE_DECIMALS)
    codes, labels, _ = _categories(comparison, show)
    state_a, state_b = wallet_codes(a), wallet_codes(b)
    adopter = (state_a > 0) | (state_b > 0)
    merchant = a.is_merchant
    rows: list[dict[str, Any]] = []
    if ego:
        upper = a.adjacency.tocoo()
        keep = (upper.row < upper.col) & (adopter[upper.row] | adopter[upper.col])
        for i, j in zip(upper.row[keep].tolist(), upper.col[keep].tolist(), strict=True):
            rows.append({"kind": "edge", "x": positions[i, 0], "y": positions[i, 1],
                         "x2": positions[j, 0], "y2": positions[j, 1]})
    order = np.lexsort((merchant, adopter))  # non-adopting households first, merchants and adopters last
    sizes = np.where(merchant, MERCHANT_SIZE, np.where(adopter, ADOPTER_SIZE, NODE_SIZE))
    state_names = np.array(STATE_LABELS, dtype=object)
    degree = a.degree.astype(int)
    for i in order.tolist():
        rows.append({"kind": "citizen", "citizen": i, "x": positions[i, 0], "y": positions[i, 1],
                     "category": labels[codes[i]], "size": int(sizes[i]), "merchant": bool(merchant[i]),
                     "state_a": state_names[state_a[i]], "state_b": state_names[state_b[i]],
                     "contacts": int(degree[i])})
    return rows


@functools.lru_cache(maxsize=64)
def network_spec(show: str, ego: bool, edges_png: str, citizens: int, merchants: int) -> dict[str, Any]:
    """The drawing's Vega-Lite specification: the contacts (ego lines or the cached picture)
    and the citizens, coloured as ``show`` says."""
    labels, colours = (DIFFERENCE_LABELS, DIFFERENCE_COLOURS) if show == SHOW_DIFFERENCE else (STATE_LABELS, STATE_COLOURS)
    x, y = _axis("x"), _axis("y")
    base = alt.Chart(alt.NamedData(DATA_NAME))
    if ego:
        contacts = base.transform_filter("datum.kind === 'edge'").mark_rule(
            color=EDGE_COLOUR, opacity=0.6, strokeWidth=0.8).encode(x=x, y=y, x2="x2:Q", y2="y2:Q")
        contact_note = "lines: the adopters' contacts"
    else:
        contacts = alt.Chart(alt.Data(values=[{"x": 0.5, "y": 0.5, "url": edges_png}])).mark_image(
            width=CHART_SIZE, height=CHART_SIZE, align="center", baseline="middle", aspect=False
        ).encode(x=x, y=y, url="url:N")
        contact_note = "lines are contacts"
    citizen_layer = base.transform_filter("datum.kind === 'citizen'").mark_point(filled=True, opacity=1.0).encode(
        x=x, y=y,
        color=alt.Color("category:N", scale=alt.Scale(domain=list(labels), range=list(colours)),
                        legend=alt.Legend(title=_legend_title(show), orient="right", labelLimit=170)),
        shape=alt.condition("datum.merchant", alt.value("square"), alt.value("circle")),
        size=alt.Size("size:Q", scale=None, legend=None),
        stroke=alt.condition("datum.merchant", alt.value(MERCHANT_OUTLINE), alt.value(None)),
        tooltip=[alt.Tooltip("citizen:Q", title="Citizen"), alt.Tooltip("state_a:N", title="Wallet in A"),
                 alt.Tooltip("state_b:N", title="Wallet in B"), alt.Tooltip("merchant:N", title="Merchant"),
                 alt.Tooltip("contacts:Q", title="Contacts")],
    )
    title = alt.TitleParams(
        "Citizens' network",
        subtitle=[f"{citizens:,} citizens, {merchants:,} merchants (squares); {contact_note}.",
                  "Adopters and merchants drawn larger, on top."],
        anchor="start",
    )
    chart = alt.layer(contacts, citizen_layer).properties(title=title, width=CHART_SIZE, height=CHART_SIZE)
    return for_shipped_vega(chart).configure_view(stroke=None).to_dict()


def _legend_title(show: str) -> str:
    return {SHOW_A: "Run A", SHOW_B: "Run B", SHOW_DIFFERENCE: "A against B"}[show]


def _axis(field: str) -> alt.X | alt.Y:
    scale = alt.Scale(domain=[-PADDING, 1 + PADDING], nice=False)
    return (alt.X if field == "x" else alt.Y)(f"{field}:Q", axis=None, scale=scale)


# -- aggregate -------------------------------------------------------------------------------
def citizen_groups(population: Population) -> tuple[np.ndarray, str]:
    """Each citizen's group for the aggregate view, and what the groups are."""
    if population.adjacency is not None:
        return communities(population.adjacency), "community"
    income = population.income_usd_per_month
    edges = np.quantile(income, np.linspace(0, 1, INCOME_DECILES + 1)[1:-1])
    return np.searchsorted(edges, income, side="right"), "income decile"


def group_rows(comparison: Comparison) -> list[dict[str, Any]]:
    """One row per group: its square's place, size, and the share holding a wallet in A and B."""
    a, b = comparison.a.population, comparison.b.population
    key = ("groups", a.size)
    if key not in comparison.cache:
        comparison.cache[key] = citizen_groups(a)
    groups, kind = comparison.cache[key]
    count = int(groups.max()) + 1
    citizens = np.bincount(groups, minlength=count)
    share_a = np.bincount(groups, weights=a.has_wallet, minlength=count) / np.maximum(citizens, 1)
    share_b = np.bincount(groups, weights=b.has_wallet, minlength=count) / np.maximum(citizens, 1)
    side = int(np.ceil(np.sqrt(count)))
    return [{"group": f"{kind} {g + 1}", "column": g % side, "row": g // side, "citizens": int(citizens[g]),
             "share_a": float(share_a[g]), "share_b": float(share_b[g]), "difference": float(share_b[g] - share_a[g])}
            for g in range(count)]


def difference_extent(rows: list[dict[str, Any]]) -> float:
    """The end of the symmetric B - A colour scale: the first of DIFFERENCE_EXTENTS that covers
    every group's difference (so that -2 pp and +2 pp are equally dark, and the scale changes
    only in steps)."""
    largest = max((abs(row["difference"]) for row in rows), default=0.0)
    return next((extent for extent in DIFFERENCE_EXTENTS if largest <= extent), DIFFERENCE_EXTENTS[-1])


@functools.lru_cache(maxsize=64)
def aggregate_spec(show: str, citizens: int, why: str, kind: str, extent: float = DIFFERENCE_EXTENTS[0]) -> dict[str, Any]:
    """Squares per group coloured by the share holding a wallet (A or B; sequential from 0) or
    by B minus A (diverging, centred on 0 and symmetric: -extent to +extent); the legend gives
    the scale."""
    if show == SHOW_DIFFERENCE:
        colour = alt.Color("difference:Q",
                           scale=alt.Scale(scheme="blueorange", domain=[-extent, extent], domainMid=0, reverse=True,
                                           clamp=True),
                           legend=alt.Legend(title=["B - A: share", "holding a wallet"], orient="right",
                                             labelExpr="format(datum.value * 100, '+.1f') + ' pp'", values=[-extent, -extent / 2, 0, extent / 2, extent]))
    else:
        field = "share_a" if show == SHOW_A else "share_b"
        colour = alt.Color(f"{field}:Q", scale=alt.Scale(scheme="viridis", domainMin=0, zero=True),
                           legend=alt.Legend(title=[f"Run {show}: share", "holding a wallet"], format=".1%", orient="right"))
    gaps = alt.Scale(paddingInner=SQUARE_GAP, paddingOuter=0)
    title = alt.TitleParams(
        f"Citizens by {kind} (aggregate view)",
        subtitle=[f"{citizens:,} citizens, {why}.", f"Each square is one {kind}."],
        anchor="start",
    )
    chart = alt.Chart(alt.NamedData(DATA_NAME)).mark_rect(cornerRadius=2).encode(
        x=alt.X("column:O", axis=None, scale=gaps),
        y=alt.Y("row:O", axis=None, scale=gaps),
        color=colour,
        tooltip=[alt.Tooltip("group:N", title="Group"), alt.Tooltip("citizens:Q", title="Citizens", format=","),
                 alt.Tooltip("share_a:Q", title="Holding a wallet in A", format=".1%"),
                 alt.Tooltip("share_b:Q", title="Holding a wallet in B", format=".1%"),
                 alt.Tooltip("difference:Q", title="B - A", format="+.1%")],
    ).properties(title=title, width=CHART_SIZE - 60, height=CHART_SIZE - 60)
    return for_shipped_vega(chart).configure_view(stroke=None).to_dict()


def network_view_spec(comparison: Comparison, show: str) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """The specification and rows the network panel shows this month."""
    population = comparison.a.population
    if draws_network(population):
        ego = shows_ego_networks(comparison)
        drawing = network_drawing(population.adjacency)
        spec = network_spec(show, ego, "" if ego else drawing.edges_png, population.size,
                            int(np.count_nonzero(population.is_merchant)))
        return spec, citizen_rows(comparison, show, ego)
    why = ("well mixed: everyone meets everyone, no network to draw" if population.adjacency is None
           else f"too many to draw one by one (over {MAX_DRAWN_CITIZENS:,})")
    kind = "community" if population.adjacency is not None else "income decile"
    rows = group_rows(comparison)
    return aggregate_spec(show, population.size, why, kind, difference_extent(rows)), rows


@solara.component
def NetworkView(comparison: Comparison, tick: int):
    """The citizens: a toggle picks what colours them (A, B, or where they differ)."""
    show = solara.use_reactive(SHOW_DIFFERENCE)
    with comparison.lock:
        spec, rows = network_view_spec(comparison, show.value)
    with solara.Div(classes=["cryptoabm-panel"], attributes={"data-testid": "network-view"}) as panel:
        solara.ToggleButtonsSingle(value=show, values=list(SHOW_CHOICES), dense=True)
        LiveChart.element(spec=spec, values=rows)
    return panel
