"""The State: government and central bank as regulator.

It holds the policy in force (mining licences are kept by ``Licensing``, which reads the cap and
fee from it), collects the power surcharge and profit tax (through the miners' settlement), catches
unlicensed ("grey") farms, runs the wallet-bonus campaign (``bonus_campaign``), and follows its adaptive
rules when the grid or the capital account comes under stress.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from mesa import Agent

from cryptoabm.config import Policy, StateCapacityConfig, StateConfig
from cryptoabm.agents.bonus_campaign import BonusCampaign
from cryptoabm.ledger import DOMESTIC_ECONOMY, STATE
from cryptoabm.rules.mining import average_surcharge_usd_per_kwh, surcharge_usd
from cryptoabm.rules.state import (
    enforcement_cost_usd_per_month,
    grey_farm_detected,
    rationed_mining_cap_mw,
    should_ration,
    should_tighten_outflows,
)

if TYPE_CHECKING:
    from cryptoabm.model import CryptoEconomy

ACCOUNT = STATE


class State(Agent):
    """The regulator. ``policy`` is the policy in force this month; ``capacity`` what the state
    can enforce (the country's, whatever the policy)."""

    model: CryptoEconomy

    def __init__(self, model: CryptoEconomy, policy: Policy, config: StateConfig, capacity: StateCapacityConfig):
        super().__init__(model)
        self.policy = policy
        self.config = config
        self.capacity = capacity
        self.months_since_policy_change = 10**6  # no change in living memory at the start
        self.grey_farms_caught = 0
        self.grey_mw_caught = 0.0  # MW (at full load) of the grey farms caught this month
        self.policy_log: list[tuple[int, str]] = []
        model.ledger.open_account(ACCOUNT, config.opening_balance_usd + policy.bonus_budget_usd)
        # the wallet-bonus instrument, paid from the state's account
        self.bonus_campaign = BonusCampaign(model.ledger, ACCOUNT, policy, model.config.adoption,
                                            model.config.population.people_per_citizen)

    # -- policy -------------------------------------------------------------------------
    def change_policy(self, changes: dict[str, Any], reason: str) -> None:
        """Put new lever values into force from this month on (validated like the config)."""
        updated = Policy.model_validate({**self.policy.model_dump(), **changes})
        self.bonus_campaign.policy_changed(changes, updated, self.model.month)
        if updated != self.policy:
            self.policy = updated
            self.months_since_policy_change = 0
            self.policy_log.append((self.model.month, reason))

    def change_capacity(self, changes: dict[str, Any], reason: str) -> None:
        """The state's capacity to enforce changes from this month on (not a policy change: investors'
        policy-change premium does not react)."""
        self.capacity = StateCapacityConfig.model_validate({**self.capacity.model_dump(), **changes})
        self.policy_log.append((self.model.month, reason))

    def start_month(self) -> None:
        """A month passes: policy changes made from now on are 0 months old."""
        self.months_since_policy_change += 1
        self.grey_mw_caught = 0.0

    def ration_miners_if_short(self, reserve_margin: float, mining_load_mw: float) -> bool:
        """Adaptive rule, applied within the month at dispatch: when the reserve margin left
        after serving everyone falls below the trigger and no cap is in force, cap miners' load
        at today's load less the cut. Returns whether a cap was set."""
        if not should_ration(reserve_margin, self.policy.ration_below_reserve_margin) or self.policy.mining_cap_mw is not None:
            return False
        cap = rationed_mining_cap_mw(mining_load_mw, self.policy.ration_cut_share)
        self.change_policy({"mining_cap_mw": cap}, f"rationing: reserve margin {reserve_margin:.1%}")
        return True

    def review_policy(self, last_capital_flight_usd: float) -> None:
        """Adaptive capital rule, applied to last month's capital flight: cap crypto outflows
        when it was too high."""
        if self.model.month <= 1:
            return
        last_capital_flight_usd = float(last_capital_flight_usd)
        if should_tighten_outflows(last_capital_flight_usd, self.policy.tighten_outflows_above_usd_per_month):
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

    def mining_power_price_usd_per_kwh(self, energy_mwh: float, contract_factor: float = 1.0) -> float:
        """Tariff (times the farm's contract factor) plus average surcharge per kWh for a
        licensed farm using ``energy_mwh`` a month."""
        surcharge = average_surcharge_usd_per_kwh(energy_mwh, self.policy.surcharge_usd_per_kwh, self.surcharge_bands())
        return self.policy.miner_tariff_usd_per_kwh * contract_factor + surcharge

    # -- enforcement ----------------------------------------------------------------------
    def enforce_against_grey_miners(self) -> None:
        """Each grey farm is caught with the detection probability: its cash is seized, its rigs
        are confiscated, its owner is fined (``grey_fine_usd_per_mw`` of the farm's power, paid
        from the foreign owner's funds, or by the domestic owner out of the domestic economy),
        and it closes. The enforcement costs the state its effort's yearly cost, a twelfth a month."""
        streams = self.model.streams
        self.model.ledger.transfer("enforcement_costs", ACCOUNT, DOMESTIC_ECONOMY,
                                   enforcement_cost_usd_per_month(self.config, self.capacity.grey_mining_detection_probability))
        detection = self.capacity.grey_mining_detection_probability
        grey_farms = [miner for miner in self.model.miners if miner.grey] if detection > 0.0 else []
        for miner in grey_farms:
            # each grey farm's own draw for the month, keyed by the month and the farm: no farm's
            # luck shifts when others come, go or take a licence (licensed farms draw nothing)
            draw = streams.keyed_uniform("enforcement", self.model.month, miner.serial)
            if grey_farm_detected(draw, detection):
                ledger = self.model.ledger
                ledger.transfer("seizure", miner.account, ACCOUNT, max(0.0, miner.cash_usd))
                fine = self.policy.grey_fine_usd_per_mw * miner.power_mw
                if miner.owner is not None:
                    ledger.transfer("grey_mining_fine", miner.owner.account, ACCOUNT,
                                    min(fine, max(0.0, miner.owner.capital_usd)))
                else:
                    ledger.transfer("grey_mining_fine", DOMESTIC_ECONOMY, ACCOUNT, fine)
                self.grey_mw_caught += miner.power_mw
                miner.close(reason="seized")
                self.grey_farms_caught += 1

    # -- wallet bonus (the campaign is agents/bonus_campaign.py) -----------------------
    def end_bonus_programme(self) -> None:
        self.change_policy({"wallet_bonus_usd": 0.0}, "bonus programme ended")
