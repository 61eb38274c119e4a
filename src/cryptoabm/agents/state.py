"""The State: government and central bank as regulator.

It holds the policy in force, grants mining licences up to the cap for a fee, collects the
power surcharge, profit tax and licence fees (through the miners' settlement), catches
unlicensed ("grey") farms, pays wallet bonuses from a budget, and follows its adaptive
rules when the grid or the capital account comes under stress.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from mesa import Agent

from cryptoabm.config import Policy, StateConfig
from cryptoabm.rules.mining import average_surcharge_usd_per_kwh, surcharge_usd
from cryptoabm.rules.state import (
    grey_farm_detected,
    licence_available,
    rationed_mining_cap_mw,
    should_ration,
    should_tighten_outflows,
)

if TYPE_CHECKING:
    from cryptoabm.agents.miner import Miner
    from cryptoabm.model import CryptoEconomy

ACCOUNT = "state"
MONTHS_PER_LICENCE_TERM = 12
MAX_BONUSES = 2**53  # an upper bound on any count of citizens (exactly representable as a float)


class State(Agent):
    """The regulator. ``policy`` is the policy in force this month."""

    model: CryptoEconomy

    def __init__(self, model: CryptoEconomy, policy: Policy, config: StateConfig):
        super().__init__(model)
        self.policy = policy
        self.months_since_policy_change = 10**6  # no change in living memory at the start
        self.bonus_budget_left_usd = policy.bonus_budget_usd
        self.licences_in_force = 0
        self.policy_log: list[tuple[int, str]] = []
        model.ledger.open_account(ACCOUNT, config.opening_balance_usd + policy.bonus_budget_usd)

    # -- policy -------------------------------------------------------------------------
    def change_policy(self, changes: dict[str, Any], reason: str) -> None:
        """Put new lever values into force from this month on (validated like the config)."""
        updated = Policy.model_validate({**self.policy.model_dump(), **changes})
        if "bonus_budget_usd" in changes:
            extra = max(0.0, updated.bonus_budget_usd - self.bonus_budget_left_usd)
            self.model.ledger.transfer("bonus_budget_allocation", "domestic_economy", ACCOUNT, extra)
            self.bonus_budget_left_usd = updated.bonus_budget_usd
        if updated != self.policy:
            self.policy = updated
            self.months_since_policy_change = 0
            self.policy_log.append((self.model.month, reason))

    def start_month(self) -> None:
        """A month passes: policy changes made from now on are 0 months old."""
        self.months_since_policy_change += 1

    def review_policy(self) -> None:
        """Adaptive rules, applied to last month's indicators: ration miners when the grid's
        reserve margin is too thin; cap crypto outflows when capital flight is too high."""
        last = self.model.indicators
        if self.model.month <= 1:
            return
        if should_ration(last.reserve_margin, self.policy.ration_below_reserve_margin) and self.policy.mining_cap_mw is None:
            cap = rationed_mining_cap_mw(last.mining_load_mw, self.policy.ration_cut_share)
            self.change_policy({"mining_cap_mw": cap}, f"rationing: reserve margin {last.reserve_margin:.1%}")
        if should_tighten_outflows(last.capital_flight_usd, self.policy.tighten_outflows_above_usd_per_month):
            limit = self.policy.tightened_outflow_limit_usd_per_month
            current = self.policy.crypto_outflow_limit_usd_per_month
            if current is None or current > limit:  # tighten, never loosen
                self.change_policy({"crypto_outflow_limit_usd_per_month": limit}, "outflow limit tightened")

    # -- power pricing for licensed miners ----------------------------------------------
    def surcharge_bands(self) -> list[tuple[float | None, float]]:
        return [(band.up_to_mwh_per_month, band.usd_per_kwh) for band in self.policy.surcharge_bands]

    def surcharge_usd(self, energy_mwh: float) -> float:
        """Surcharge a licensed farm owes on a month's power use, USD."""
        return surcharge_usd(energy_mwh, self.policy.surcharge_usd_per_kwh, self.surcharge_bands())

    def mining_power_price_usd_per_kwh(self, energy_mwh: float) -> float:
        """Tariff plus average surcharge per kWh for a licensed farm using ``energy_mwh`` a month."""
        surcharge = average_surcharge_usd_per_kwh(energy_mwh, self.policy.surcharge_usd_per_kwh, self.surcharge_bands())
        return self.policy.miner_tariff_usd_per_kwh + surcharge

    # -- licensing ------------------------------------------------------------------------
    def licence_available(self) -> bool:
        return licence_available(self.licences_in_force, self.policy.license_cap)

    def grant_licence(self, miner: Miner) -> bool:
        """License a farm if the cap allows, charging the first year's fee."""
        if not self.licence_available():
            return False
        miner.licensed = True
        miner.licensed_since_month = self.model.month
        self.licences_in_force += 1
        self.collect_licence_fee(miner)
        return True

    def take_back_licence(self, miner: Miner) -> None:
        """A licensed farm that closes hands its licence back, freeing a place under the cap."""
        if miner.licensed:
            miner.licensed = False
            self.licences_in_force -= 1

    def collect_licence_fee(self, miner: Miner) -> None:
        self.model.ledger.transfer("licence_fee", miner.account, ACCOUNT, self.policy.license_fee_usd)

    def renew_licences(self) -> None:
        """Each licence pays its fee again on every anniversary."""
        for miner in self.model.miners:
            months_held = self.model.month - miner.licensed_since_month
            if miner.licensed and months_held > 0 and months_held % MONTHS_PER_LICENCE_TERM == 0:
                self.collect_licence_fee(miner)

    # -- enforcement ----------------------------------------------------------------------
    def enforce_against_grey_miners(self) -> None:
        """Each grey farm is caught with the detection probability; its cash is seized and it closes."""
        rng = self.model.streams.state
        for miner in list(self.model.miners):
            draw = rng.random()  # one draw per farm, caught or not, in creation order
            if not miner.licensed and grey_farm_detected(draw, self.policy.enforcement_detection_probability):
                self.model.ledger.transfer("seizure", miner.account, ACCOUNT, max(0.0, miner.cash_usd))
                miner.close(reason="seized")

    # -- wallet bonus -------------------------------------------------------------------
    def bonus_on_offer(self) -> bool:
        return self.policy.wallet_bonus_usd > 0 and self.bonus_budget_left_usd >= self.policy.wallet_bonus_usd

    def bonuses_affordable(self, people_per_bonus: float = 1.0) -> int:
        """How many more bonuses the budget (and the state's cash) can pay, each going to
        ``people_per_bonus`` adults (a simulated citizen may stand for many)."""
        if self.policy.wallet_bonus_usd <= 0:
            return 0
        budget = min(self.bonus_budget_left_usd, max(0.0, self.model.ledger.balance(ACCOUNT)))
        # a vanishingly small bonus makes the quotient overflow: no more can be paid than exist
        return int(min(budget / (self.policy.wallet_bonus_usd * people_per_bonus), MAX_BONUSES))

    def pay_bonuses(self, count: int, people_per_bonus: float = 1.0) -> float:
        """Pay ``count`` wallet bonuses (each to ``people_per_bonus`` adults); returns the outlay, USD."""
        outlay = count * self.policy.wallet_bonus_usd * people_per_bonus
        self.model.ledger.transfer("bonus", ACCOUNT, "households", outlay)
        self.bonus_budget_left_usd -= outlay
        return outlay

    def end_bonus_programme(self) -> None:
        self.change_policy({"wallet_bonus_usd": 0.0}, "bonus programme ended")
