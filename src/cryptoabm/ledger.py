"""One double-entry ledger for every flow of money in the model.

Each flow moves dollars from a source account to a sink account and is tagged with its
kind ("fdi", "surcharge", ...). The ledger keeps each account's balance and each kind's
total for the month, so the accounts always sum to zero (stock-flow consistency) and every
money metric is read from the books rather than re-computed.

Accounts: ``state``, ``grid_operator``, ``households``, ``domestic_economy`` (wages,
suppliers, consumption), ``sez_ventures``, ``bitcoin_network`` (where mined coins come
from), ``rest_of_world`` (rig makers, foreign banks, destinations of capital flight),
``opening_equity`` (where opening stocks come from), and one per miner and investor.
"""

from __future__ import annotations

import math
from collections import defaultdict

# The accounts every run has (farms and investors add their own, see ``miner_account``).
STATE = "state"
GRID_OPERATOR = "grid_operator"
HOUSEHOLDS = "households"
DOMESTIC_ECONOMY = "domestic_economy"
SEZ_VENTURES = "sez_ventures"
BITCOIN_NETWORK = "bitcoin_network"
REST_OF_WORLD = "rest_of_world"
OPENING_EQUITY = "opening_equity"


class LedgerError(RuntimeError):
    """A flow that cannot be booked (negative or not a number): a bug in a rule."""


class Ledger:
    """Balances by account and flows by kind, in USD."""

    def __init__(self) -> None:
        self.balances: dict[str, float] = defaultdict(float)
        self.month_flows: dict[str, float] = defaultdict(float)
        self.total_flows: dict[str, float] = defaultdict(float)

    def open_account(self, account: str, opening_balance_usd: float = 0.0) -> None:
        """Create an account holding an opening stock, funded by opening equity."""
        self.balances[account] += 0.0
        if opening_balance_usd:
            self.transfer("opening_balance", OPENING_EQUITY, account, opening_balance_usd)

    def transfer(self, kind: str, source: str, sink: str, amount_usd: float) -> None:
        """Move ``amount_usd`` from ``source`` to ``sink`` as a flow of ``kind``."""
        if not (amount_usd >= 0.0) or math.isinf(amount_usd):
            raise LedgerError(f"cannot book {kind} of {amount_usd!r} USD from {source} to {sink}")
        if amount_usd == 0.0:
            return
        self.balances[source] -= amount_usd
        self.balances[sink] += amount_usd
        self.month_flows[kind] += amount_usd
        self.total_flows[kind] += amount_usd

    def note(self, kind: str, amount_usd: float) -> None:
        """Record a non-cash item for the month (it moves no balance), such as mined coins
        exchanged for local currency on a domestic exchange."""
        self.month_flows[kind] += amount_usd
        self.total_flows[kind] += amount_usd

    def balance(self, account: str) -> float:
        """Current balance of an account, USD (0 for an account never used)."""
        return self.balances.get(account, 0.0)

    def close_account(self, account: str) -> None:
        """Forget an account whose balance has been paid out (a miner that left)."""
        remaining = self.balances.pop(account, 0.0)
        if abs(remaining) > 1e-6 * max(1.0, abs(remaining)):
            raise LedgerError(f"closing account {account} with {remaining:.2f} USD left in it")
        self.balances[OPENING_EQUITY] += remaining  # round-off only

    def flow(self, kind: str) -> float:
        """This month's total of one kind of flow, USD."""
        return self.month_flows.get(kind, 0.0)

    def start_month(self) -> None:
        """Begin a new accounting month."""
        self.month_flows = defaultdict(float)

    def net_worth_sum(self) -> float:
        """Sum of every account's balance: zero when the books balance."""
        return math.fsum(self.balances.values())
