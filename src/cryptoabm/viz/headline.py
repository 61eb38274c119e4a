"""The headline numbers: month, licences, state revenue to date, ... and the settings in force.

Read from the model and its DataCollector on every step. Each figure carries a ``data-testid``
so that the browser tests (and anyone scripting the page) can read it.
"""

from __future__ import annotations

import html

import solara
from mesa.visualization.utils import update_counter

from cryptoabm.formatting import usd
from cryptoabm.rules.units import TH_PER_EH



@solara.component
def Headline(model):
    """The headline figures and the settings in force, or what was wrong with the input."""
    update_counter.get()
    solara.HTML(tag="div", unsafe_innerHTML=headline_html(model), classes=["cryptoabm-panel", "cryptoabm-headline"],
                attributes={"data-testid": "headline"})
    for error in getattr(model, "input_errors", ()):
        solara.Error(f"{error}. Nothing runs until this is fixed: correct it and press Reset.", dense=True)


def headline_numbers(model) -> dict[str, tuple[str, str]]:
    """Headline figures as {test id: (label, text)}."""
    table = model.datacollector.get_model_vars_dataframe()
    date = model.indicators.date if model.month else f"starts {model.config.start_month}"
    policy = model.state.policy
    cap = "no cap" if policy.license_cap is None else f"cap {policy.license_cap:,}"
    revenue = float(table["state_revenue_usd"].sum()) if len(table) else 0.0
    return {
        "month": ("Month", f"{model.month} of {model.config.months}"),
        "date": ("Date", date),
        "licences": ("Licences in force", f"{model.state.licences_in_force:,} ({cap})"),
        "revenue": ("State revenue to date", usd(revenue)),
        "wallets": ("Citizens with a wallet", f"{model.population.wallet_share:.1%}"),
        "hashrate": ("National hashrate", f"{model.running_hashrate_ths / TH_PER_EH:,.2f} EH/s"),
    }


def settings_in_force(model) -> dict[str, str]:
    """The run's preset and main levers as they stand this month (scheduled events may change
    them), its population and seed, as {name: text}."""
    policy = model.state.policy
    return {
        "preset": model.preset.name if hasattr(model, "preset") else model.config.name,
        "regime": policy.payment_regime,
        "licence-cap": "none" if policy.license_cap is None else f"{policy.license_cap:,}",
        "tariff": f"${policy.miner_tariff_usd_per_kwh:.3f}/kWh",
        "citizens": f"{model.population.size:,}",
        "seed": str(model.seed),
    }


def headline_html(model) -> str:
    """Tiles of headline figures, a line of settings in force, the preset's description."""
    tiles = "".join(
        f'<div class="tile"><div class="label">{html.escape(label)}</div>'
        f'<div class="value" data-testid="{key}">{html.escape(text)}</div></div>'
        for key, (label, text) in headline_numbers(model).items()
    )
    settings = " · ".join(
        f'{html.escape(name.replace("-", " "))} <b data-testid="in-force-{name}">{html.escape(value)}</b>'
        for name, value in settings_in_force(model).items()
    )
    description = html.escape(model.config.description)
    return (f'<div class="tiles">{tiles}</div><div class="in-force">In force: {settings}</div>'
            f'<div class="description">{description}</div>')


