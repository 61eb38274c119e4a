"""The headline cards: A, B and B - A for adoption, mining, state revenue, FDI, net crypto
capital flows and, where the monthly table has them, the national and fiscal accounts; the
header sentence (what runs), the month; and the settings in force in each run.

Each card is a :class:`Figure` read from a run's monthly rows (the same rows the charts and
the "over N seeds" view use), with a tooltip giving its definition and sign convention. Every
figure carries a ``data-testid`` (and its exact number in ``data-value``) so that the browser
tests, and anyone scripting the page, can read it.
"""

from __future__ import annotations

import html
import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import solara

from cryptoabm.formatting import usd
from cryptoabm.viz.compare import RUN_A, RUN_B, Comparison

PERCENTAGE_POINTS = 100.0
SHARE, EHS, MONEY = "share", "EH/s", "USD"  # a figure's unit


@dataclass(frozen=True)
class Figure:
    """One headline figure: a column of the monthly table, as it stands (``cumulative`` False)
    or summed from month 1 (True)."""

    key: str  # data-testid stem
    label: str
    column: str  # a MonthlyIndicators column
    cumulative: bool
    unit: str  # SHARE, EHS or MONEY
    definition: str  # the card's tooltip: what it is, and which sign means what

    def read(self, rows: Sequence[dict[str, Any]]) -> float:
        """The figure after the months in ``rows`` (0 before the first month)."""
        if not rows:
            return 0.0
        if self.cumulative:
            return math.fsum(float(row[self.column]) for row in rows)
        return float(rows[-1][self.column])

    def show(self, value: float) -> str:
        if self.unit == SHARE:
            return f"{value:.1%}"
        if self.unit == EHS:
            return f"{value:,.2f} EH/s"
        return usd(value)

    def show_difference(self, difference: float) -> str:
        """B - A with its unit: percentage points for shares."""
        if self.unit == SHARE:
            return f"{difference * PERCENTAGE_POINTS:+.1f} pp"
        if self.unit == EHS:
            return f"{difference:+,.2f} EH/s"
        return ("+" if difference > 0 else "") + usd(difference)

    @property
    def difference_unit(self) -> str:
        return "percentage points" if self.unit == SHARE else self.unit


B_MINUS_A = "B - A > 0: "
FIGURES: tuple[Figure, ...] = (
    Figure("wallets", "Citizens with a wallet", "wallet_share", False, SHARE,
           "Share of the simulated citizens holding a wallet this month. B - A in percentage points: "
           "above 0, more citizens hold one under B."),
    Figure("hashrate", "National hashrate", "hashrate_ehs", False, EHS,
           "Hashrate running in the country this month (licensed and grey farms), in EH/s (10^18 hashes a "
           "second). " + B_MINUS_A + "more mining under B."),
    Figure("revenue", "State revenue to date", "state_revenue_usd", True, MONEY,
           "Power surcharges, licence fees, profit tax and seizures, summed from month 1; USD for the whole "
           "country. " + B_MINUS_A + "the state collects more under B."),
    Figure("fdi", "FDI inflow to date", "fdi_inflow_usd", True, MONEY,
           "Foreign direct investment into farms (and any special zone), summed from month 1; USD. "
           + B_MINUS_A + "more investment arrives under B."),
    Figure("net-flows", "Net crypto capital flows to date", "net_crypto_capital_flow_usd", True, MONEY,
           "Crypto-related inflows (FDI, crypto remittances, rig exports) minus outflows (profits repatriated, "
           "divestment, capital flight via crypto, rig imports), summed from month 1; USD. Above 0: money comes "
           "in on net. " + B_MINUS_A + "more comes in, or less leaves, under B."),
)
# The national and fiscal accounts: shown when the monthly table has their columns
ACCOUNT_FIGURES: tuple[Figure, ...] = (
    Figure("fiscal-net", "Fiscal net to date", "fiscal_net_usd", True, MONEY,
           "State revenue plus the state utility's tariff receipts, minus the energy miners used at its shadow "
           "value, wallet bonuses and enforcement costs, summed from month 1; USD. Above 0: crypto pays the state. "
           + B_MINUS_A + "the state is better off under B."),
    Figure("national-gain", "National gain from mining to date", "national_gain_from_mining_usd", True, MONEY,
           "What mining leaves in the country: coins mined at the world price, net rig trade and net receipts "
           "from farms' foreign owners, less the energy burned at its shadow value; summed from month 1, USD. "
           + B_MINUS_A + "mining leaves more in the country under B."),
    Figure("current-account", "Current account to date", "current_account_usd", True, MONEY,
           "The crypto- and mining-related current account (goods, primary and secondary income): credits "
           "minus debits, summed from month 1; USD. Above 0: a surplus. " + B_MINUS_A + "a larger surplus "
           "(or smaller deficit) under B."),
    Figure("financial-account", "Financial account to date", "financial_account_usd", True, MONEY,
           "Net lending to the rest of the world: foreign assets acquired (savings moved abroad, coins and "
           "foreign exchange kept) minus liabilities incurred (FDI net of divestment), summed from month 1; "
           "USD. Above 0: the country lends abroad on net. " + B_MINUS_A + "more net lending under B."),
)


def figures_for(columns: Sequence[str] | set[str]) -> tuple[Figure, ...]:
    """The cards a table with these columns can show: the five headline figures, and the
    accounts' figures whose column is present."""
    present = set(columns)
    return FIGURES + tuple(figure for figure in ACCOUNT_FIGURES if figure.column in present)


def headline_figures(comparison: Comparison) -> dict[str, tuple[float, float, float]]:
    """Each figure's value in A, in B, and B - A, by key."""
    figures = {}
    for figure in comparison_figures(comparison):
        a = figure.read(comparison.rows[RUN_A])
        b = figure.read(comparison.rows[RUN_B])
        figures[figure.key] = (a, b, b - a)
    return figures


def comparison_figures(comparison: Comparison) -> tuple[Figure, ...]:
    from cryptoabm.model import INDICATOR_NAMES

    return figures_for(INDICATOR_NAMES)


def settings_in_force(model) -> dict[str, str]:
    """A run's main levers as they stand this month (scheduled events may change them)."""
    policy = model.state.policy
    return {
        "regime": policy.payment_regime,
        "licence-cap": "none" if policy.license_cap is None else f"{policy.license_cap:,}",
        "tariff": f"${policy.miner_tariff_usd_per_kwh:.3f}/kWh",
        "bonus": usd(policy.wallet_bonus_usd) + (" (no budget left: pays nothing)"
                                                 if policy.wallet_bonus_usd > 0 and model.state.bonus_budget_left_usd <= 0
                                                 else ""),
        "licences": f"{model.state.licences_in_force:,}",
    }


def plain_number(number: float) -> str:
    """A number as data-value carries it: Python's float repr (never numpy's ``np.float64(...)``)."""
    return repr(float(number))


def _value(test_id: str, number: float, text: str, css: str) -> str:
    return f'<span class="{css}" data-testid="{test_id}" data-value="{plain_number(number)}">{html.escape(text)}</span>'


def headline_html(comparison: Comparison, header: str = "") -> str:
    """The header sentence, the cards, the month line and the settings in force, as HTML."""
    values = headline_figures(comparison)
    cards = []
    for figure in comparison_figures(comparison):
        a, b, difference = values[figure.key]
        cards.append(
            f'<div class="tile" title="{html.escape(figure.definition)}" data-testid="card-{figure.key}">'
            f'<div class="label">{html.escape(figure.label)} <span class="info">ⓘ</span></div>'
            f'<div class="pair"><span class="run">A</span>{_value(f"headline-{figure.key}-a", a, figure.show(a), "value")}</div>'
            f'<div class="pair"><span class="run">B</span>{_value(f"headline-{figure.key}-b", b, figure.show(b), "value")}</div>'
            f'<div class="pair difference"><span class="run">B - A</span>'
            f'{_value(f"headline-{figure.key}-diff", difference, figure.show_difference(difference), "value")}</div></div>'
        )
    model = comparison.a
    date = model.indicators.date if model.month else f"starts {model.config.start_month}"
    price_a, price_b = comparison.a.market.btc_price_usd, comparison.b.market.btc_price_usd
    header_html = f'<div class="header" data-testid="header">{html.escape(header)}</div>' if header else ""
    month = (f'<div class="month">One draw (seed <b data-testid="seed">{comparison.seed}</b>): a single seed\'s '
             f'B - A is partly luck; "Over N seeds" shows the spread. · '
             f'Month <b data-testid="month">{comparison.month} of {comparison.months}</b> · '
             f'<span data-testid="date">{html.escape(date)}</span> · '
             f'<span data-testid="citizens">{model.population.size:,}</span> citizens · '
             f'BTC price (one world, the same in both): A {_value("price-a", price_a, usd(price_a), "price")}, '
             f'B {_value("price-b", price_b, usd(price_b), "price")}</div>')
    in_force = []
    for run, label, run_model in ((RUN_A, comparison.labels[0], comparison.a), (RUN_B, comparison.labels[1], comparison.b)):
        settings = " · ".join(
            f'{html.escape(name.replace("-", " "))} <b data-testid="in-force-{run.lower()}-{name}">{html.escape(text)}</b>'
            for name, text in settings_in_force(run_model).items()
        )
        in_force.append(f'<div class="in-force"><span class="run-name" data-testid="run-name-{run.lower()}">'
                        f'{html.escape(label)}</span>: {settings}</div>')
    return f'{header_html}{month}<div class="tiles">{"".join(cards)}</div>{"".join(in_force)}'


@solara.component
def Headline(comparison: Comparison, tick: int, header: str = ""):
    """The headline cards of the comparison (``tick`` changes each month)."""
    with comparison.lock:
        shown = headline_html(comparison, header)
    solara.HTML(tag="div", unsafe_innerHTML=shown,
                classes=["cryptoabm-panel", "cryptoabm-headline"], attributes={"data-testid": "headline"})
