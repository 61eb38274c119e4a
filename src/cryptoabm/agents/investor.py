"""The ForeignInvestor: decides whether foreign capital builds mining farms here.

Each month an investor may review the country. It works out the profit a new farm would make
at today's prices, licensed or grey (whichever pays better; grey only risks seizure and a fine),
and compares the annual return on the rigs with what its capital earns elsewhere plus a premium
for policy risk (no licence to be had, a recent policy change, the comfort of a special zone).
Each new farm draws its own power contract. The investor takes a share of any relocating
capacity on offer (rigs displaced by a ban abroad), puts money into special-zone ventures when
they clear the bar, and judges each farm it owns on its own: a farm worth less than its rigs
would fetch is sold (see ``Miner.settle_month``). All capital it sends is FDI; all it brings home
is repatriation or divestment.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from mesa import Agent

from cryptoabm.agents.miner import Miner, expected_margins_usd_per_th_month
from cryptoabm.ledger import DOMESTIC_ECONOMY, NON_RESIDENT, REST_OF_WORLD, SEZ_VENTURES, STATE
from cryptoabm.rules.investment import invests, policy_risk_premium_annual, zone_venture_return_annual
from cryptoabm.rules.mining import (
    farm_hashrate_ths,
    goes_grey,
    monthly_revenue_usd,
    power_contract_factor,
    profit_tax_usd,
)
from cryptoabm.rules.units import MONTHS_PER_YEAR

if TYPE_CHECKING:
    from cryptoabm.model import CryptoEconomy


class ForeignInvestor(Agent):
    """A foreign fund with capital to place. Its cash abroad is the ledger ``account``."""

    model: CryptoEconomy

    def __init__(self, model: CryptoEconomy, capital_usd: float):
        super().__init__(model)
        self.account = f"investor:{self.unique_id}"
        self.sez_stake_usd = 0.0
        self.farms: list[Miner] = []  # farms this investor owns here
        self.relocation_contract = 1.0  # power contract a relocated farm would get this month
        self.relocation_grey_access = True  # and whether it could get off-meter power
        model.ledger.open_account(self.account, capital_usd, sector=NON_RESIDENT)

    @property
    def capital_usd(self) -> float:
        return self.model.ledger.balance(self.account)

    # -- judging the country ---------------------------------------------------------------
    def expected_return_annual(self, efficiency_j_per_th: float, capex_usd_per_th: float, in_special_zone: bool,
                               power_contract_factor: float = 1.0, grey_power_access: bool = True) -> float:
        """Annual return on one TH/s placed here today, before the risk premium: the better of
        licensed (if a licence can be had) and grey mining, at today's hashprice and last
        month's grid service."""
        mining = self.model.config.mining
        farm_ths = farm_hashrate_ths(mining.farm_size_mw, efficiency_j_per_th)
        # grey mining risks the farm's working capital too, as the farm itself will reckon
        working_capital = monthly_revenue_usd(self.model.market.hashprice_usd_per_ph_day, farm_ths, 1.0) \
            * mining.initial_cash_months_of_revenue
        licensed, grey = expected_margins_usd_per_th_month(self.model, efficiency_j_per_th, power_contract_factor,
                                                           grey_power_access, in_special_zone, farm_ths, working_capital,
                                                           farm_is_here=False)
        best = grey if goes_grey(licensed, grey, self.model.state.licence_available(), grey_power_access) else licensed
        return best * MONTHS_PER_YEAR / capex_usd_per_th

    def required_return_annual(self, in_special_zone: bool, holds_licence: bool = False) -> float:
        """What capital placed here must earn a year: the alternative plus the policy-risk premium."""
        return self.model.config.investors.alternative_return_annual + self.risk_premium_annual(in_special_zone, holds_licence)

    def risk_premium_annual(self, in_special_zone: bool, holds_licence: bool = False) -> float:
        """The premium this country's policy risk demands today (a farm that already holds a
        licence does not care whether more can be had)."""
        cfg = self.model.config.investors
        state = self.model.state
        return policy_risk_premium_annual(cfg, holds_licence or state.licence_available(),
                                          state.months_since_policy_change, in_special_zone)

    def clears_hurdle(self, efficiency_j_per_th: float, capex_usd_per_th: float, in_special_zone: bool,
                      power_contract_factor: float = 1.0, grey_power_access: bool = True) -> bool:
        """Whether a TH/s here beats the alternative after the policy-risk premium."""
        return invests(
            self.expected_return_annual(efficiency_j_per_th, capex_usd_per_th, in_special_zone, power_contract_factor,
                                        grey_power_access),
            self.risk_premium_annual(in_special_zone),
            self.model.config.investors.alternative_return_annual,
        )

    # -- the month -------------------------------------------------------------------------
    def allocate_capital(self) -> None:
        """Review the country (with some probability) and fund a new farm if it pays."""
        cfg = self.model.config.investors
        rng = self.model.streams.investors
        # drawn every month, reviewing or not, so that the stream does not depend on policy; the
        # last is the power contract of any relocated farm this investor hosts this month
        review_draw, zone_draw, contract_draw, access_draw, relocation_contract_draw, relocation_access_draw = rng.random(6)
        mining = self.model.config.mining
        self.relocation_contract = power_contract_factor(relocation_contract_draw, mining)
        self.relocation_grey_access = relocation_access_draw < mining.grey_power_access_share
        if review_draw >= cfg.investment_probability_per_month:
            return
        policy = self.model.state.policy
        in_zone = policy.sez_active and zone_draw < policy.sez_share_of_new_farms
        efficiency = self.model.market.new_rig_efficiency_j_per_th
        contract = power_contract_factor(contract_draw, mining)
        access = access_draw < mining.grey_power_access_share
        if self.clears_hurdle(efficiency, mining.rig_price_usd_per_th, in_zone, contract, access):
            self.build_farm(farm_hashrate_ths(mining.farm_size_mw, efficiency), efficiency,
                            mining.rig_price_usd_per_th, in_zone, rigs_arrive_in_kind=False, power_contract=contract,
                            grey_power_access=access)
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
        capital_per_th = mining.rig_price_usd_per_th + cost_per_th
        if offered_ths <= 0 or not self.clears_hurdle(efficiency_j_per_th, capital_per_th, False, self.relocation_contract,
                                                      self.relocation_grey_access):
            return 0.0
        farm_ths = farm_hashrate_ths(mining.farm_size_mw, efficiency_j_per_th)
        taken = min(offered_ths, farm_ths)
        built = self.build_farm(taken, efficiency_j_per_th, cost_per_th, False, rigs_arrive_in_kind=True,
                                power_contract=self.relocation_contract, grey_power_access=self.relocation_grey_access)
        return taken if built else 0.0

    def build_farm(self, hashrate_ths: float, efficiency_j_per_th: float, cost_usd_per_th: float,
                   in_special_zone: bool, rigs_arrive_in_kind: bool, power_contract: float = 1.0,
                   grey_power_access: bool = True) -> bool:
        """Fund a farm: capital, working capital, and a licence if one can be had and licensed
        mining pays better than grey (the farm's own choice, see ``Miner.prefers_grey``)."""
        mining = self.model.config.mining
        state = self.model.state
        hashprice = self.model.market.hashprice_usd_per_ph_day
        working_capital = monthly_revenue_usd(hashprice, hashrate_ths, 1.0) * mining.initial_cash_months_of_revenue
        cash_needed = hashrate_ths * cost_usd_per_th + state.policy.license_fee_usd + working_capital
        if cash_needed > self.capital_usd:
            return False
        ledger = self.model.ledger
        farm = Miner(self.model, hashrate_ths, efficiency_j_per_th, owner=self, in_special_zone=in_special_zone,
                     power_contract_factor=power_contract, grey_power_access=grey_power_access)
        ledger.transfer(fdi_kind(in_special_zone), self.account, farm.account, cash_needed)
        if rigs_arrive_in_kind:
            # the displaced rigs cross the border as foreign direct investment in kind
            rig_value = hashrate_ths * mining.rig_price_usd_per_th
            ledger.transfer(fdi_kind(in_special_zone), REST_OF_WORLD, farm.account, rig_value)
            ledger.transfer("rig_imports", farm.account, REST_OF_WORLD, rig_value)
            ledger.transfer("relocation_costs", farm.account, DOMESTIC_ECONOMY, hashrate_ths * cost_usd_per_th)
        else:
            ledger.transfer("rig_imports", farm.account, REST_OF_WORLD, hashrate_ths * cost_usd_per_th)
        if not farm.prefers_grey(state.licence_available()):
            state.grant_licence(farm)
        return True

    def invest_in_special_zone(self) -> None:
        """Put a tranche into special-zone ventures (exchanges, payment firms) if they clear the
        bar and the zone has room for it (its ventures can absorb only so much)."""
        cfg = self.model.config.investors
        premium = self.risk_premium_annual(in_special_zone=True)
        zone_room = cfg.sez_ventures_capacity_usd - sum(i.sez_stake_usd for i in self.model.investors)
        after_tax = zone_venture_return_annual(cfg, self.model.state.policy)
        if invests(after_tax, premium, cfg.alternative_return_annual) \
                and self.capital_usd >= cfg.sez_venture_size_usd and zone_room >= cfg.sez_venture_size_usd:
            self.model.ledger.transfer(fdi_kind(in_special_zone=True), self.account, SEZ_VENTURES, cfg.sez_venture_size_usd)
            self.sez_stake_usd += cfg.sez_venture_size_usd

    def collect_returns(self) -> None:
        """Bring home the month's earnings on special-zone ventures."""
        if self.sez_stake_usd <= 0:
            return
        policy = self.model.state.policy
        earnings = max(0.0, self.sez_stake_usd * self.model.config.investors.sez_venture_return_annual / MONTHS_PER_YEAR)
        tax = profit_tax_usd(earnings, policy.mining_profit_tax_rate, policy.sez_tax_holiday)
        self.model.ledger.transfer("venture_earnings", DOMESTIC_ECONOMY, SEZ_VENTURES, earnings)
        self.model.ledger.transfer("profit_tax", SEZ_VENTURES, STATE, tax)
        self.model.ledger.transfer("profit_repatriation", SEZ_VENTURES, self.account, earnings - tax)




def fdi_kind(in_special_zone: bool) -> str:
    """The ledger kind of a foreign investment: ``zone_fdi`` into the special zone (its farms and
    ventures), ``fdi`` elsewhere. Both count as FDI (``fdi_inflow_usd``)."""
    return "zone_fdi" if in_special_zone else "fdi"
