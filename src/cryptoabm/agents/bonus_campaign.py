"""The wallet-bonus campaign: one home for the bonus instrument.

The campaign holds what the bonus policy needs between months: its budget left and the month it
was launched. Each month it makes the population one offer (:class:`BonusOffer`: the bonus per
adult, the campaign's pull on the unprompted adoption hazard, who may claim it and how many
simulated citizens can be paid), and is then told how many it paid (:meth:`BonusCampaign.pay`),
which it books from the state's account to the households'. The population never calls the
state, and the state never reads the population.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from cryptoabm.config import AdoptionConfig, Policy
from cryptoabm.ledger import DOMESTIC_ECONOMY, HOUSEHOLDS, Ledger
from cryptoabm.rules.citizens import bonus_pull
from cryptoabm.rules.state import bonuses_affordable


@dataclass(frozen=True)
class BonusOffer:
    """This month's bonus offer to the population."""

    amount_usd: float = 0.0  # paid to each adult adopter who may claim it
    pull: float = 1.0  # how many times the unprompted adoption hazard the campaign multiplies it by (1: none)
    affordable: int = 0  # most simulated citizens who can be paid this month
    eligible_max_income_usd_per_month: float | None = None  # None: every adopter may claim it

    @property
    def on_offer(self) -> bool:
        return self.affordable > 0


NO_OFFER = BonusOffer()


class BonusCampaign:
    """The state's wallet-bonus programme (``policy.wallet_bonus_usd``, ``bonus_budget_usd``,
    ``bonus_eligible_max_income_usd_per_month``), paid from the state's account ``account``."""

    def __init__(self, ledger: Ledger, account: str, policy: Policy, adoption: AdoptionConfig,
                 adults_per_citizen: float):
        self.ledger = ledger
        self.account = account
        self.adoption = adoption
        self.adults_per_citizen = adults_per_citizen  # each simulated citizen paid stands for this many adults
        self.policy = policy
        self.budget_left_usd = policy.bonus_budget_usd
        # month the campaign was launched (None: no campaign); month 1 if on at the start
        self.launch_month: int | None = 1 if policy.wallet_bonus_usd > 0 else None
        self.paid_this_month = 0

    def policy_changed(self, changes: Mapping[str, Any], updated: Policy, month: int) -> None:
        """The state put ``updated`` into force this month (``changes``: the levers set). A budget
        set anew replaces what is left, the extra moved into the state's account from the
        domestic economy; a bonus switched on launches a new campaign, one switched off ends it."""
        if "bonus_budget_usd" in changes:
            extra = max(0.0, updated.bonus_budget_usd - self.budget_left_usd)
            self.ledger.transfer("bonus_budget_allocation", DOMESTIC_ECONOMY, self.account, extra)
            self.budget_left_usd = updated.bonus_budget_usd
        if updated.wallet_bonus_usd > 0 and self.policy.wallet_bonus_usd <= 0:
            self.launch_month = month
        elif updated.wallet_bonus_usd <= 0:
            self.launch_month = None
        self.policy = updated

    def affordable(self) -> int:
        """How many more simulated citizens can be paid the bonus."""
        return bonuses_affordable(self.budget_left_usd, self.ledger.balance(self.account), self.policy,
                                  self.adults_per_citizen)

    def offer(self, month: int) -> BonusOffer:
        """This month's offer: none once no bonus can be paid; otherwise the bonus with a pull
        that fades with the campaign's age (:func:`~cryptoabm.rules.citizens.bonus_pull`)."""
        self.paid_this_month = 0
        affordable = self.affordable()
        if affordable <= 0 or self.launch_month is None:
            return NO_OFFER
        return BonusOffer(amount_usd=self.policy.wallet_bonus_usd,
                          pull=bonus_pull(self.adoption, month - self.launch_month),
                          affordable=affordable,
                          eligible_max_income_usd_per_month=self.policy.bonus_eligible_max_income_usd_per_month)

    def pay(self, offer: BonusOffer, count: int) -> float:
        """The population paid ``count`` simulated citizens this month's bonus: book it from the
        state's account to the households' (each stands for ``adults_per_citizen`` adults) and
        return the outlay, USD."""
        outlay = count * offer.amount_usd * self.adults_per_citizen
        self.ledger.transfer("bonus", self.account, HOUSEHOLDS, outlay)
        self.budget_left_usd -= outlay
        self.paid_this_month = count
        return outlay
