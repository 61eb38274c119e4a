"""The one-run dashboard: adoption, mining and grid, money flows (a matplotlib figure).

Drawn for files only, fast: a bare ``Figure`` on an Agg canvas (no pyplot, no GUI backend, no
figure manager), a fixed layout instead of ``constrained_layout`` (which re-solves the layout
on every draw), and one figure reused for every dashboard a process draws.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter, PercentFormatter

from cryptoabm.formatting import usd

MONEY_FLOWS = {
    "fdi_inflow_usd": "FDI inflow",
    "profit_repatriation_usd": "Profit repatriation",
    "capital_flight_usd": "Capital flight via crypto",
    "official_outflow_usd": "Savings out through banks",
    "crypto_remittances_usd": "Remittances via crypto",
    "state_revenue_usd": "State revenue",
    "bonus_outlay_usd": "Bonus outlays",
}


def _usd(value: float, _pos: int) -> str:
    return usd(value, trim=True)


# the six panels' margins and gaps, fractions of the figure (room for titles, twin axes' labels)
LAYOUT = {"left": 0.07, "right": 0.93, "bottom": 0.05, "top": 0.93, "wspace": 0.32, "hspace": 0.3}
_reused: Figure | None = None  # the figure the last dashboard was drawn on


def dashboard_figure(table: pd.DataFrame, title: str, event_months: list[int] | tuple[int, ...] = (),
                     fig: Figure | None = None) -> Figure:
    """Six panels over the run's months; dotted lines mark scheduled events. Drawn on ``fig``
    (cleared first) or on a new figure."""
    months = table["month"].to_numpy()
    if fig is None:
        fig = Figure(figsize=(13, 11))
        FigureCanvasAgg(fig)
    fig.clear()
    axes = fig.subplots(3, 2, gridspec_kw=LAYOUT)
    fig.suptitle(title, fontsize=13)

    ax = axes[0, 0]
    for column, label in (("ever_downloaded_share", "Ever downloaded"), ("wallet_share", "Hold a wallet"),
                          ("active_share", "Active users"),
                          ("crypto_payment_share", "Paid in crypto this month"),
                          ("merchant_accept_share", "Merchants accepting")):
        ax.plot(months, table[column], label=label)
    ax.set_title("Adoption (share of citizens; merchants: share of merchants)")
    ax.yaxis.set_major_formatter(PercentFormatter(1.0))
    ax.legend(fontsize=8)

    ax = axes[0, 1]
    ax.plot(months, table["btc_price_usd"], color="tab:orange", label="BTC price")
    ax.yaxis.set_major_formatter(FuncFormatter(_usd))
    ax.set_title("Market: BTC price and hashprice")
    twin = ax.twinx()
    twin.plot(months, table["hashprice_usd_per_ph_day"], color="tab:gray", label="Hashprice, $/PH/day")
    ax.legend(loc="upper left", fontsize=8)
    twin.legend(loc="upper right", fontsize=8)

    ax = axes[1, 0]
    ax.plot(months, table["hashrate_ehs"], label="National hashrate, EH/s")
    ax.set_title("Mining: hashrate and farms")
    twin = ax.twinx()
    twin.step(months, table["licensed_miners"], where="mid", color="tab:green", label="Licensed farms")
    twin.step(months, table["grey_miners"], where="mid", color="tab:red", label="Grey farms")
    twin.step(months, table["idle_miners"], where="mid", color="tab:gray", linestyle="--", label="Idle farms")
    ax.legend(loc="upper left", fontsize=8)
    twin.legend(loc="upper right", fontsize=8)

    ax = axes[1, 1]
    ax.plot(months, table["capacity_mw"], color="black", linestyle="--", label="Available capacity")
    ax.plot(months, table["non_mining_demand_mw"], label="Household + industry demand")
    ax.plot(months, table["non_mining_demand_mw"] + table["mining_load_mw"], label="Demand incl. miners' load")
    ax.fill_between(months, table["non_mining_demand_mw"], table["non_mining_demand_mw"] + table["mining_load_mw"],
                    alpha=0.3, label="Miners' load")
    ax.set_title("Grid (MW); reserve margin on the right")
    ax.set_ylim(bottom=0)
    twin = ax.twinx()
    twin.plot(months, table["reserve_margin"], color="tab:purple", linestyle=":", label="Reserve margin")
    twin.yaxis.set_major_formatter(PercentFormatter(1.0))
    ax.legend(loc="lower left", fontsize=8)
    twin.legend(loc="lower right", fontsize=8)

    ax = axes[2, 0]
    for column, label in MONEY_FLOWS.items():
        ax.plot(months, table[column], label=label)
    ax.set_title("Money flows per month")
    ax.yaxis.set_major_formatter(FuncFormatter(_usd))
    ax.legend(fontsize=8)

    ax = axes[2, 1]
    for column, label in MONEY_FLOWS.items():
        ax.plot(months, table[column].cumsum(), label=label)
    ax.plot(months, table["current_account_usd"].cumsum(), color="black", linewidth=2,
            label="Current account, crypto and mining")
    ax.axhline(0, color="gray", linewidth=0.6)
    ax.set_title("Money flows, cumulative")
    ax.yaxis.set_major_formatter(FuncFormatter(_usd))
    ax.legend(fontsize=8)

    for ax in axes.flat:
        ax.set_xlabel("month")
        for month in event_months:
            ax.axvline(month, color="gray", linestyle=":", linewidth=0.8)
    return fig


def save_dashboard(table: pd.DataFrame, path: Path, title: str, event_months: list[int] | tuple[int, ...] = ()) -> None:
    """Write the dashboard PNG (no timestamps, so the same run gives the same file)."""
    global _reused
    _reused = dashboard_figure(table, title, event_months, _reused)
    _reused.savefig(path, format="png", dpi=100, metadata={"Software": None})
