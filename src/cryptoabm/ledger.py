"""One double-entry ledger for every flow of money in the model.

Each flow moves dollars from a source account to a sink account and is tagged with its
kind ("fdi", "surcharge", ...). The ledger keeps each account's balance and each kind's
total for the month, so the accounts always sum to zero (stock-flow consistency) and every
money metric is read from the books rather than re-computed.

Accounts: ``state``, ``grid_operator``, ``households``, ``domestic_economy`` (wages,
suppliers, consumption), ``sez_ventures``, ``bitcoin_network`` (where mined coins come
from), ``rest_of_world`` (rig makers, foreign banks, destinations of capital flight),
``opening_equity`` (where opening stocks come from), and one per miner and investor.

Residence (for the balance of payments, ``accounts.py``): ``rest_of_world``, ``bitcoin_network``
and the foreign investors' accounts are non-residents; every other account but
``opening_equity`` (which stands outside the economy) is a resident, in a sector (a farm's
account is in ``mining``; the others are their own sector). A flow between a resident and a
non-resident crosses the border: the ledger keeps the month's cross-border flows by kind and
by the resident's sector, signed as money into the country, and these are the transactions
the balance of payments is built from.
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
MINING_SECTOR = "mining"  # the sector of a farm's account (resident-owned)
FOREIGN_OWNED_MINING_SECTOR = "mining_foreign_owned"  # a foreign-owned farm: resident, but its cash belongs to its owner
MINING_SECTORS = (MINING_SECTOR, FOREIGN_OWNED_MINING_SECTOR)
NON_RESIDENT = "non_resident"
OUTSIDE = "outside"  # opening equity: where opening stocks come from, neither resident nor not


class LedgerError(RuntimeError):
    """A flow that cannot be booked (negative or not a number): a bug in a rule."""


class Ledger:
    """Balances by account and flows by kind, in USD."""

    def __init__(self) -> None:
        self.balances: dict[str, float] = defaultdict(float)
        self.month_flows: dict[str, float] = defaultdict(float)
        self.total_flows: dict[str, float] = defaultdict(float)
        # sector of each account (NON_RESIDENT for the rest of the world's); an account never
        # opened is a resident in its own name
        self.sectors: dict[str, str] = {REST_OF_WORLD: NON_RESIDENT, BITCOIN_NETWORK: NON_RESIDENT, OPENING_EQUITY: OUTSIDE}
        # this month's flows across the border, (kind, resident sector) -> USD into the country
        self.month_cross_border: dict[tuple[str, str], float] = defaultdict(float)
        self.sector_balances: dict[str, float] = defaultdict(float)  # balance of each sector's accounts together
        self.month_start_sector_balances: dict[str, float] = {}

    def open_account(self, account: str, opening_balance_usd: float = 0.0, *, sector: str | None = None) -> None:
        """Create an account holding an opening stock, funded by opening equity. ``sector``:
        ``NON_RESIDENT`` for a foreigner's account, ``MINING_SECTOR`` for a farm's, none for an
        account that is its own resident sector."""
        self.balances[account] += 0.0
        if sector is not None:
            self.sectors[account] = sector
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
        source_sector = self.sectors.get(source, source)
        sink_sector = self.sectors.get(sink, sink)
        self.sector_balances[source_sector] -= amount_usd
        self.sector_balances[sink_sector] += amount_usd
        if source_sector == NON_RESIDENT and sink_sector not in (NON_RESIDENT, OUTSIDE):
            self.month_cross_border[kind, sink_sector] += amount_usd
        elif sink_sector == NON_RESIDENT and source_sector not in (NON_RESIDENT, OUTSIDE):
            self.month_cross_border[kind, source_sector] -= amount_usd

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
        self.sector_balances[self.sectors.pop(account, account)] -= remaining
        self.sector_balances[OUTSIDE] += remaining

    def flow(self, kind: str) -> float:
        """This month's total of one kind of flow, USD."""
        return self.month_flows.get(kind, 0.0)

    def cross_border(self, kind: str, sector: str | None = None) -> float:
        """This month's net flow of one kind into the country from abroad, USD (negative: out),
        for one resident sector or (none) all of them."""
        return math.fsum(amount for (k, s), amount in self.month_cross_border.items()
                         if k == kind and (sector is None or s == sector))

    def start_month(self) -> None:
        """Begin a new accounting month."""
        self.month_flows = defaultdict(float)
        self.month_cross_border = defaultdict(float)
        self.month_start_sector_balances = dict(self.sector_balances)

    def sector_balance_change(self, sector: str) -> float:
        """How much the accounts of one sector together gained this month, USD."""
        return self.sector_balances.get(sector, 0.0) - self.month_start_sector_balances.get(sector, 0.0)

    def net_worth_sum(self) -> float:
        """Sum of every account's balance: zero when the books balance."""
        return math.fsum(self.balances.values())
