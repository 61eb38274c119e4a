"""The ForeignInvestor: decides whether foreign capital builds mining farms here.

Each month an investor may review the country. It compares the after-tax return a new
farm promises at today's prices with what its capital earns elsewhere plus a premium for
policy risk (no licence to be had, a recent policy change, the comfort of a special zone).
If a licence is available and the return clears the bar, it funds a licensed farm; if not,
it may go grey when the expected return survives the risk of seizure. It takes a share of
any relocating capacity on offer (rigs displaced by a ban abroad), puts money into
special-zone ventures when they clear the bar, and pulls out of its farms when returns stay
below the bar. All capital it sends is FDI; all it brings home is repatriation.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from mesa import Agent

from cryptoabm.agents.miner import Miner
from cryptoabm.rules.investment import farm_return_annual, grey_farm_return_annual, invests, policy_risk_premium_annual
from cryptoabm.rules.mining import monthly_energy_mwh, monthly_revenue_usd, revenue_usd_per_mwh
from cryptoabm.rules.units import MONTHS_PER_YEAR, WATTS_PER_MW

if TYPE_CHECKING:
    from cryptoabm.model import CryptoEconomy


class ForeignInvestor(Agent):
    """A foreign fund with capital to place. Its cash abroad is the ledger ``account``."""

    model: CryptoEconomy

    def __init__(self, model: CryptoEconomy, capital_usd: float):
        super().__init__(model)
        self.account = f"investor:{self.unique_id}"
        self.months_below_hurdle = 0
        self.sez_stake_usd = 0.0
        self.farms: list[Miner] = []  # farms this investor owns here
        model.ledger.open_account(self.account, capital_usd)

    @property
    def capital_usd(self) -> float:
        return self.model.ledger.balance(self.account)

    # -- judging the country ---------------------------------------------------------------
    def expected_return_annual(self, efficiency_j_per_th: float, capex_usd_per_th: float, licensed: bool,
                               in_special_zone: bool) -> float:
        """After-tax annual return on one TH/s placed here today, before the risk premium,
        expecting the grid to serve miners as it did last month."""
        policy = self.model.state.policy
        mining = self.model.config.mining
        revenue_per_mwh = revenue_usd_per_mwh(self.model.market.hashprice_usd_per_ph_day, efficiency_j_per_th)
        if not licensed:
            undetected = farm_return_annual(revenue_per_mwh, mining.grey_power_price_usd_per_kwh, efficiency_j_per_th,
                                            mining.fixed_cost_usd_per_th_month, capex_usd_per_th, 0.0,
                                            expected_uptime_share=self.model.grid.miners_served_share)
            return grey_farm_return_annual(undetected, policy.enforcement_detection_probability)
        farm_ths = farm_hashrate_ths(mining.farm_size_mw, efficiency_j_per_th)
        tax_rate = 0.0 if (in_special_zone and policy.sez_tax_holiday) else policy.mining_profit_tax_rate
        power_price = self.model.state.mining_power_price_usd_per_kwh(monthly_energy_mwh(mining.farm_size_mw, 1.0))
        return farm_return_annual(
            revenue_per_mwh,
            power_price,
            efficiency_j_per_th,
            mining.fixed_cost_usd_per_th_month,
            capex_usd_per_th,
            tax_rate,
            policy.license_fee_usd / farm_ths,
            self.model.grid.miners_served_share,
        )

    def risk_premium_annual(self, in_special_zone: bool, holds_licence: bool = False) -> float:
        """The premium this country's policy risk demands today (a farm that already holds a
        licence does not care whether more can be had)."""
        cfg = self.model.config.investors
        state = self.model.state
        return policy_risk_premium_annual(
            cfg.base_risk_premium_annual,
            holds_licence or state.licence_available(),
            cfg.no_licence_premium_annual,
            state.months_since_policy_change,
            cfg.policy_change_memory_months,
            cfg.policy_change_premium_annual,
            in_special_zone,
            cfg.sez_premium_reduction_annual,
        )

    def clears_hurdle(self, efficiency_j_per_th: float, capex_usd_per_th: float, licensed: bool,
                      in_special_zone: bool, holds_licence: bool = False) -> bool:
        """Whether a TH/s here beats the alternative after the policy-risk premium."""
        return invests(
            self.expected_return_annual(efficiency_j_per_th, capex_usd_per_th, licensed, in_special_zone),
            self.risk_premium_annual(in_special_zone, holds_licence),
            self.model.config.investors.alternative_return_annual,
        )

    # -- the month -------------------------------------------------------------------------
    def allocate_capital(self) -> None:
        """Review the country (with some probability) and fund a new farm if it pays."""
        cfg = self.model.config.investors
        rng = self.model.streams.investors
        reviews = rng.random() < cfg.investment_probability_per_month
        zone_draw = rng.random()  # drawn every month so the stream does not depend on policy
        if not reviews:
            return
        policy = self.model.state.policy
        in_zone = policy.sez_active and zone_draw < policy.sez_share_of_new_farms
        mining = self.model.config.mining
        efficiency = mining.new_rig_efficiency_j_per_th
        licensed = self.model.state.licence_available()
        if self.clears_hurdle(efficiency, mining.rig_price_usd_per_th, licensed, in_zone):
            self.build_farm(farm_hashrate_ths(mining.farm_size_mw, efficiency), efficiency,
                            mining.rig_price_usd_per_th, in_zone, rigs_arrive_in_kind=False)
        if policy.sez_active:
            self.invest_in_special_zone()

    def take_relocating_capacity(self, offered_ths: float, efficiency_j_per_th: float) -> float:
        """Host part of the capacity relocating from abroad if it pays; returns TH/s taken.

        The rigs come in kind (FDI and an import of equal value) and the investor pays cash
        only for shipping and set-up; but the rigs could earn elsewhere, so the return is
        judged on their value plus the relocation cost.
        """
        mining = self.model.config.mining
        cost_per_th = self.model.config.investors.relocation_cost_usd_per_th
        licensed = self.model.state.licence_available()
        capital_per_th = mining.rig_price_usd_per_th + cost_per_th
        if offered_ths <= 0 or not self.clears_hurdle(efficiency_j_per_th, capital_per_th, licensed, False):
            return 0.0
        farm_ths = farm_hashrate_ths(mining.farm_size_mw, efficiency_j_per_th)
        taken = min(offered_ths, farm_ths)
        return taken if self.build_farm(taken, efficiency_j_per_th, cost_per_th, False, rigs_arrive_in_kind=True) else 0.0

    def build_farm(self, hashrate_ths: float, efficiency_j_per_th: float, cost_usd_per_th: float,
                   in_special_zone: bool, rigs_arrive_in_kind: bool) -> bool:
        """Fund a farm: capital, a licence if one can be had (else it runs grey), working capital."""
        mining = self.model.config.mining
        state = self.model.state
        licensed = state.licence_available()
        licence_fee = state.policy.license_fee_usd if licensed else 0.0
        hashprice = self.model.market.hashprice_usd_per_ph_day
        working_capital = monthly_revenue_usd(hashprice, hashrate_ths, 1.0) * mining.initial_cash_months_of_revenue
        cash_needed = hashrate_ths * cost_usd_per_th + licence_fee + working_capital
        if cash_needed > self.capital_usd:
            return False
        ledger = self.model.ledger
        farm = Miner(self.model, hashrate_ths, efficiency_j_per_th, owner=self, in_special_zone=in_special_zone)
        ledger.transfer("fdi", self.account, farm.account, cash_needed)
        if rigs_arrive_in_kind:
            # the displaced rigs cross the border as foreign direct investment in kind
            rig_value = hashrate_ths * mining.rig_price_usd_per_th
            ledger.transfer("fdi", "rest_of_world", farm.account, rig_value)
            ledger.transfer("rig_imports", farm.account, "rest_of_world", rig_value)
            ledger.transfer("relocation_costs", farm.account, "domestic_economy", hashrate_ths * cost_usd_per_th)
        else:
            ledger.transfer("rig_imports", farm.account, "rest_of_world", hashrate_ths * cost_usd_per_th)
        if licensed:
            state.grant_licence(farm)
        return True

    def invest_in_special_zone(self) -> None:
        """Put a tranche into special-zone ventures (exchanges, payment firms) if they clear the
        bar and the zone has room for it (its ventures can absorb only so much)."""
        cfg = self.model.config.investors
        premium = self.risk_premium_annual(in_special_zone=True)
        zone_room = cfg.sez_ventures_capacity_usd - sum(i.sez_stake_usd for i in self.model.investors)
        if invests(cfg.sez_venture_return_annual, premium, cfg.alternative_return_annual) \
                and self.capital_usd >= cfg.sez_venture_size_usd and zone_room >= cfg.sez_venture_size_usd:
            self.model.ledger.transfer("fdi", self.account, "sez_ventures", cfg.sez_venture_size_usd)
            self.sez_stake_usd += cfg.sez_venture_size_usd

    def collect_returns(self) -> None:
        """Bring home the month's earnings on special-zone ventures."""
        if self.sez_stake_usd <= 0:
            return
        earnings = self.sez_stake_usd * self.model.config.investors.sez_venture_return_annual / MONTHS_PER_YEAR
        self.model.ledger.transfer("venture_earnings", "domestic_economy", "sez_ventures", max(0.0, earnings))
        self.model.ledger.transfer("profit_repatriation", "sez_ventures", self.account, max(0.0, earnings))

    def review_holdings(self) -> None:
        """Pull out of every farm here when their return has stayed below the bar for too long."""
        farms = list(self.farms)
        if not farms:
            self.months_below_hurdle = 0
            return
        cfg = self.model.config.investors
        hurdle_met = any(
            self.clears_hurdle(farm.efficiency_j_per_th, self.model.config.mining.rig_price_usd_per_th,
                               farm.licensed, farm.in_special_zone, holds_licence=farm.licensed)
            for farm in farms
        )
        self.months_below_hurdle = 0 if hurdle_met else self.months_below_hurdle + 1
        if self.months_below_hurdle >= cfg.divest_after_months_below_hurdle:
            for farm in farms:
                farm.close(reason="divested")
            self.months_below_hurdle = 0


def farm_hashrate_ths(farm_size_mw: float, efficiency_j_per_th: float) -> float:
    """Hashrate of a farm drawing ``farm_size_mw`` at full load, TH/s."""
    return farm_size_mw * WATTS_PER_MW / efficiency_j_per_th
