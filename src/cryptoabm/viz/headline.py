"""The headline cards: A, B and B - A for adoption, mining, state revenue, FDI and net crypto
capital flows; the month; and the settings in force in each run.

Every figure carries a ``data-testid`` (and its exact number in ``data-value``) so that the
browser tests, and anyone scripting the page, can read it.
"""

from __future__ import annotations

import html
from collections.abc import Callable
from dataclasses import dataclass

import solara

from cryptoabm.formatting import usd
from cryptoabm.model import CryptoEconomy
from cryptoabm.rules.units import TH_PER_EH
from cryptoabm.viz.compare import RUN_A, RUN_B, Comparison

PERCENTAGE_POINTS = 100.0


@dataclass(frozen=True)
class Figure:
    """One headline figure, read from a run (its model and its rows so far)."""

    key: str  # data-testid stem
    label: str
    read: Callable[[CryptoEconomy, list[dict]], float]
    show: Callable[[float], str]
    show_difference: Callable[[float], str]


def _total(column: str) -> Callable[[CryptoEconomy, list[dict]], float]:
    return lambda model, rows: float(sum(row[column] for row in rows))


def _signed_usd(amount: float) -> str:
    return ("+" if amount > 0 else "") + usd(amount)


FIGURES: tuple[Figure, ...] = (
    Figure("wallets", "Citizens with a wallet", lambda model, rows: model.population.wallet_share,
           lambda x: f"{x:.1%}", lambda d: f"{d * PERCENTAGE_POINTS:+.1f} pp"),
    Figure("hashrate", "National hashrate", lambda model, rows: model.running_hashrate_ths / TH_PER_EH,
           lambda x: f"{x:,.2f} EH/s", lambda d: f"{d:+,.2f} EH/s"),
    Figure("revenue", "State revenue to date", _total("state_revenue_usd"), usd, _signed_usd),
    Figure("fdi", "FDI inflow to date", _total("fdi_inflow_usd"), usd, _signed_usd),
    Figure("national-gain", "National gain from mining to date", _total("national_gain_from_mining_usd"), usd, _signed_usd),
    Figure("fiscal-net", "Fiscal net to date", _total("fiscal_net_usd"), usd, _signed_usd),
)


def headline_figures(comparison: Comparison) -> dict[str, tuple[float, float, float]]:
    """Each figure's value in A, in B, and B - A, by key."""
    figures = {}
    for figure in FIGURES:
        a = figure.read(comparison.a, comparison.rows[RUN_A])
        b = figure.read(comparison.b, comparison.rows[RUN_B])
        figures[figure.key] = (a, b, b - a)
    return figures


def settings_in_force(model: CryptoEconomy) -> dict[str, str]:
    """A run's main levers as they stand this month (scheduled events may change them)."""
    policy = model.state.policy
    return {
        "regime": policy.payment_regime,
        "licence-cap": "none" if policy.license_cap is None else f"{policy.license_cap:,}",
        "tariff": f"${policy.miner_tariff_usd_per_kwh:.3f}/kWh",
        "bonus": usd(policy.wallet_bonus_usd),
        "licences": f"{model.licensing.count:,}",
    }


def _value(test_id: str, number: float, text: str, css: str) -> str:
    return f'<span class="{css}" data-testid="{test_id}" data-value="{number!r}">{html.escape(text)}</span>'


def headline_html(comparison: Comparison) -> str:
    """The cards, the month line and the settings in force, as HTML."""
    values = headline_figures(comparison)
    cards = []
    for figure in FIGURES:
        a, b, difference = values[figure.key]
        cards.append(
            f'<div class="tile"><div class="label">{html.escape(figure.label)}</div>'
            f'<div class="pair"><span class="run">A</span>{_value(f"headline-{figure.key}-a", a, figure.show(a), "value")}</div>'
            f'<div class="pair"><span class="run">B</span>{_value(f"headline-{figure.key}-b", b, figure.show(b), "value")}</div>'
            f'<div class="pair difference"><span class="run">B - A</span>'
            f'{_value(f"headline-{figure.key}-diff", difference, figure.show_difference(difference), "value")}</div></div>'
        )
    model = comparison.a
    date = model.indicators.date if model.month else f"starts {model.config.start_month}"
    price_a, price_b = comparison.a.market.btc_price_usd, comparison.b.market.btc_price_usd
    month = (f'<div class="month">Month <b data-testid="month">{comparison.month} of {comparison.months}</b> · '
             f'<span data-testid="date">{html.escape(date)}</span> · seed <b data-testid="seed">{comparison.seed}</b> · '
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
    return f'{month}<div class="tiles">{"".join(cards)}</div>{"".join(in_force)}'


@solara.component
def Headline(comparison: Comparison, tick: int):
    """The headline cards of the comparison (``tick`` changes each month)."""
    with comparison.lock:
        shown = headline_html(comparison)
    solara.HTML(tag="div", unsafe_innerHTML=shown,
                classes=["cryptoabm-panel", "cryptoabm-headline"], attributes={"data-testid": "headline"})
