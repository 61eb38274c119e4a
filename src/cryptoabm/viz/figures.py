"""The headline figures: what each card shows, read from a run's monthly rows.

A :class:`Figure` is a column of the monthly table, as it stands (wallet share, hashrate) or
summed from month 1 (revenue, FDI, net flows, the accounts), with its unit and a definition
that gives its sign convention. The cards (:mod:`cryptoabm.viz.headline`) and the "over N
seeds" view (:mod:`cryptoabm.viz.seeds`, in worker processes) read the same figures; this
module imports nothing of the page, so that the workers stay light.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from cryptoabm.formatting import usd

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
           "Revenue from mining: power surcharges, licence fees, farms' profit tax, seizures and fines, summed "
           "from month 1; USD for the whole country (a special zone's ventures pay their tax apart, in the "
           "fiscal net). " + B_MINUS_A + "the state collects more under B."),
    Figure("fdi", "FDI inflow to date", "fdi_inflow_usd", True, MONEY,
           "Foreign direct investment into farms (and any special zone), summed from month 1; USD. "
           + B_MINUS_A + "more investment arrives under B."),
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
    """The cards a table with these columns can show: the four headline figures, and the
    accounts' figures whose column is present (every run's table since the national accounts)."""
    present = set(columns)
    return FIGURES + tuple(figure for figure in ACCOUNT_FIGURES if figure.column in present)


