"""The headline cards: A, B and B - A for adoption, mining, state revenue, FDI, net crypto
capital flows and, where the monthly table has them, the national and fiscal accounts; the
header sentence (what runs), the month; and the settings in force in each run.

Each card is a :class:`~cryptoabm.viz.figures.Figure` read from a run's monthly rows (the same rows the charts and
the "over N seeds" view use), with a tooltip giving its definition and sign convention. Every
figure carries a ``data-testid`` (and its exact number in ``data-value``) so that the browser
tests, and anyone scripting the page, can read it.
"""

from __future__ import annotations

import html

import solara

from cryptoabm.formatting import usd
from cryptoabm.viz.compare import RUN_A, RUN_B, Comparison
from cryptoabm.viz.figures import ACCOUNT_FIGURES, FIGURES, PERCENTAGE_POINTS, SHARE, Figure, figures_for

__all__ = ["ACCOUNT_FIGURES", "FIGURES", "PERCENTAGE_POINTS", "SHARE", "Figure", "figures_for", "Headline",
           "headline_figures", "headline_html"]


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
                                                 if policy.wallet_bonus_usd > 0
                                                 and model.state.bonus_campaign.budget_left_usd <= 0 else ""),
        "licences": f"{model.licensing.count:,}",
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
