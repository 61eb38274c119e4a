"""Licensing: the one home of the mining licence.

It reads the cap from the policy in force (``policy.license_cap``), keeps the one record of who
holds a licence and since when (so the count of licences in force is the number of holders),
and applies the rules: a farm applies when a licence can be had and licensed mining is expected
to pay it better; each licence pays its fee when granted and again on every anniversary; at an
anniversary a farm that would rather mine grey, or cannot pay, gives its licence back; a farm
that closes hands its licence back. Farms under construction that mean to mine licensed hold a
reservation, so the cap binds on farms decided, not only on farms built.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from cryptoabm.ledger import STATE
from cryptoabm.rules.state import MONTHS_PER_LICENCE_TERM, licence_available

if TYPE_CHECKING:
    from cryptoabm.agents.miner import Miner
    from cryptoabm.model import CryptoEconomy


class Licensing:
    """The mining licence register."""

    def __init__(self, model: CryptoEconomy):
        self.model = model
        self.granted_month: dict[int, int] = {}  # farm's unique_id -> month its licence (term) began
        self.reserved = 0  # licences promised to farms under construction

    @property
    def cap(self) -> int | None:
        """Most licences that may be in force (None: no cap): the policy lever ``license_cap``."""
        return self.model.state.policy.license_cap

    @property
    def count(self) -> int:
        """Licences in force."""
        return len(self.granted_month)

    @property
    def fee_usd(self) -> float:
        """A year's licence fee, USD (``policy.license_fee_usd``)."""
        return self.model.state.policy.license_fee_usd

    def available(self) -> bool:
        """Whether one more licence can be had (counting those promised to farms being built)."""
        return licence_available(self.count + self.reserved, self.cap)

    def holds(self, miner: Miner) -> bool:
        return miner.unique_id in self.granted_month

    def reserve(self) -> bool:
        """Promise a licence to a farm under construction, if the cap allows."""
        if not self.available():
            return False
        self.reserved += 1
        return True

    def release(self) -> None:
        """A farm under construction takes up (or drops) its promised licence."""
        self.reserved -= 1

    def grant(self, miner: Miner) -> bool:
        """License a farm if the cap allows, charging the first year's fee."""
        if not self.available():
            return False
        self.granted_month[miner.unique_id] = self.model.month
        self._charge_fee(miner)
        return True

    def give_back(self, miner: Miner) -> None:
        """A farm hands its licence back (at renewal, or when it closes), freeing a place."""
        self.granted_month.pop(miner.unique_id, None)

    def review(self, miner: Miner) -> None:
        """The month's licence decision of one farm: apply, renew (paying the fee again) or give
        back; a farm that cannot pay and has no route to off-meter power sells up."""
        if self.holds(miner):
            months_held = self.model.month - self.granted_month[miner.unique_id]
            if months_held <= 0 or months_held % MONTHS_PER_LICENCE_TERM:
                return
            cannot_renew = miner.cash_usd < self.fee_usd
            if cannot_renew or miner.prefers_grey(licence_available=True):
                self.give_back(miner)
                if cannot_renew and not miner.grey_power_access:
                    miner.close(reason="divested" if miner.foreign_owned else "sold_up")
            else:
                self._charge_fee(miner)
        elif self.available() and miner.cash_usd >= self.fee_usd and not miner.prefers_grey(licence_available=True):
            self.grant(miner)

    def _charge_fee(self, miner: Miner) -> None:
        self.model.ledger.transfer("licence_fee", miner.account, STATE, self.fee_usd)
