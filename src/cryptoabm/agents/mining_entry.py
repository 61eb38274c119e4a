"""MiningEntry: the supply side of mining, with free entry.

Each month the country can bring ``mining.max_new_mw_per_month`` of farm sites into service (site
preparation, grid connection, containers: the pipeline's capacity). Each site is a candidate farm
with its own power contract, access to off-meter power and place (in the special zone or not),
drawn from the country's distribution; it is built when its expected net present value at its
owner's hurdle rate is positive (``rules/entry.py``), licensed or grey, whichever is worth more
and allowed. Capacity displaced abroad (a relocation wave) takes sites first, through the same
test. A decided greenfield farm runs ``mining.entry_lag_months`` later; its rigs, licence fee and
working capital are paid then. Who owns it is a draw: ``mining.new_farm_foreign_share`` of farms
are owned from abroad (by one of the investors, whose capital is FDI), the rest at home. The
number of investors decides only who owns a farm, never how many farms are built.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from cryptoabm.agents.miner import Miner, expected_margins_usd_per_th_month
from cryptoabm.agents.investor import ForeignInvestor, fdi_kind
from cryptoabm.ledger import DOMESTIC_ECONOMY, REST_OF_WORLD
from cryptoabm.rules.entry import (
    expected_farm_npv_usd,
    expected_hashprice_path,
    expected_price_growth_annual,
    farm_enters,
    monthly_discount_factors,
    rig_capex_usd_per_w,
    rig_price_usd_per_th,
    sites_this_month,
)
from cryptoabm.rules.mining import (
    farm_hashrate_ths,
    farm_power_mw,
    goes_grey,
    monthly_revenue_usd,
    power_contract_factor,
    expected_used_rig_value_usd_per_th,
)

if TYPE_CHECKING:
    from cryptoabm.model import CryptoEconomy

GREENFIELD, RELOCATED = 0, 1  # keys of a site's random draws


@dataclass
class Site:
    """A candidate farm: its traits and, once decided, its plan."""

    hashrate_ths: float
    efficiency_j_per_th: float
    power_contract_factor: float
    grey_power_access: bool
    in_special_zone: bool
    owner: ForeignInvestor | None
    relocated: bool = False  # displaced rigs from abroad rather than new rigs
    licensed: bool = False  # mines licensed (a licence is reserved for it)
    capex_usd: float = 0.0  # rigs (bought new, or displaced rigs at their second-hand value)
    relocation_cost_usd: float = 0.0  # shipping and set-up of displaced rigs
    in_service_month: int = 0

    @property
    def power_mw(self) -> float:
        return farm_power_mw(self.hashrate_ths, self.efficiency_j_per_th)


class MiningEntry:
    """Where farms come from: the site pipeline, the entry test and the farms under construction."""

    def __init__(self, model: CryptoEconomy):
        self.model = model
        self.under_construction: list[Site] = []
        self.mw_carried_over = 0.0
        self._paths: dict[tuple[int, int], np.ndarray] = {}

    # -- what a farm costs and expects ----------------------------------------------------
    def capex_usd_per_w(self) -> float:
        """This month's price of a watt of new rigs, USD/W."""
        months_after_reference = self.model.market.fleet.months_after_reference_at_start + self.model.month
        return rig_capex_usd_per_w(self.model.config.mining, months_after_reference)

    def rig_price_usd_per_th(self, efficiency_j_per_th: float) -> float:
        """This month's price of a TH/s of new rigs of the given efficiency, USD."""
        return rig_price_usd_per_th(self.capex_usd_per_w(), efficiency_j_per_th)

    def expected_hashprice_path(self, lag_months: int) -> np.ndarray:
        """The hashprice farms expect in each month of a rig's life starting ``lag_months`` from
        now (see ``rules.entry.expected_hashprice_path``): known halvings, expected growth of
        the price and of the world's hashrate. The same for every farm in a month."""
        key = (self.model.month, lag_months)
        if key not in self._paths:
            if len(self._paths) > 4:
                self._paths.clear()
            market = self.model.market
            life = self.model.config.mining.rig_life_months
            months_ahead = range(market.month + 1, market.month + lag_months + life + 1)
            subsidy_ratio = np.array([market.subsidy_in_month(m) for m in months_ahead]) / market.block_subsidy_btc
            growth = expected_price_growth_annual(self.model.config.mining, market.config)
            expected = expected_hashprice_path(market.hashprice_usd_per_ph_day, subsidy_ratio,
                                               market.config.fee_share_of_miner_revenue, growth, self.model.config.mining)
            self._paths[key] = expected[lag_months:]
        return self._paths[key]

    def used_rig_value_usd_per_th(self, efficiency_j_per_th: float) -> float:
        """What a TH/s of used rigs of this efficiency fetches on the world's second-hand market
        this month, USD, net of shipping (``rules.mining.expected_used_rig_value_usd_per_th``): a
        buyer with the world's median power price, foreseeing the same hashprice path, valuing the
        rigs at the world's miners' cost of capital (``world_mining.capital_cost_annual``)."""
        config = self.model.config
        path = self.expected_hashprice_path(lag_months=0)
        buyer_factors = monthly_discount_factors(config.world_mining.capital_cost_annual, len(path))
        return expected_used_rig_value_usd_per_th(path, efficiency_j_per_th,
                                                  config.world_mining.power_price_median_usd_per_kwh, config.mining,
                                                  buyer_factors, config.investors.relocation_cost_usd_per_th)

    @property
    def pipeline_mw(self) -> float:
        """Full-load power of the farms under construction, MW (their claim on the grid)."""
        return sum(site.power_mw for site in self.under_construction)

    # -- the month -------------------------------------------------------------------------
    def step(self) -> None:
        """Bring finished farms into service, then fill this month's sites: displaced rigs first,
        then greenfield farms, each only if it is worth building."""
        mining = self.model.config.mining
        self.bring_into_service()
        sites, self.mw_carried_over = sites_this_month(mining.max_new_mw_per_month, mining.farm_size_mw,
                                                       self.mw_carried_over)
        used = self.host_relocating_capacity(sites)
        for index in range(used, sites):
            site = self.candidate(GREENFIELD, index, self.model.market.new_rig_efficiency_j_per_th, relocated=False)
            if self.decide(site, mining.entry_lag_months):
                self.under_construction.append(site)
        self.bring_into_service()  # with no build lag, this month's decisions run this month

    def bring_into_service(self) -> None:
        """Build the farms whose construction is over, in the order they were decided."""
        due = [site for site in self.under_construction if site.in_service_month <= self.model.month]
        self.under_construction = [site for site in self.under_construction if site.in_service_month > self.model.month]
        for site in due:
            self.build(site)

    def host_relocating_capacity(self, sites: int) -> int:
        """Offer this month's share of each relocation wave to sites, a farm's worth at a time,
        while sites are left; a site hosts the rigs if that is worth it (its own power contract and
        access decide); what is not taken goes elsewhere. Returns the sites used. Displaced rigs arrive with their containers and run
        within the month (assumption)."""
        model = self.model
        model.relocation_waves = [wave for wave in model.relocation_waves if wave[0] >= model.month]
        used = 0
        for _, offered_ths, efficiency in model.relocation_waves:
            remaining = offered_ths
            while remaining > 0 and used < sites:
                site = self.candidate(RELOCATED, used, efficiency, relocated=True)
                site.hashrate_ths = min(site.hashrate_ths, remaining)
                used += 1
                if self.decide(site, lag_months=0):
                    remaining -= site.hashrate_ths
                    self.build(site)
        return used

    def candidate(self, kind: int, index: int, efficiency_j_per_th: float, relocated: bool) -> Site:
        """The ``index``-th candidate site of this month: its power contract, off-meter access,
        place and owner drawn from the country's distribution (keyed draws: a site's luck does not
        depend on how many others were looked at)."""
        model = self.model
        mining = model.config.mining
        contract, access, zone, foreign, owner = (model.streams.keyed_uniform("entry", model.month, kind, index, trait)
                                                  for trait in range(5))
        policy = model.state.policy
        investors = list(model.investors)
        owned_abroad = bool(investors) and foreign < mining.new_farm_foreign_share
        return Site(
            hashrate_ths=farm_hashrate_ths(mining.farm_size_mw, efficiency_j_per_th),
            efficiency_j_per_th=efficiency_j_per_th,
            power_contract_factor=power_contract_factor(contract, mining),
            grey_power_access=access < mining.grey_power_access_share,
            in_special_zone=(not relocated) and policy.sez_active and zone < policy.sez_share_of_new_farms,
            owner=investors[int(owner * len(investors))] if owned_abroad else None,
            relocated=relocated,
        )

    def decide(self, site: Site, lag_months: int) -> bool:
        """Whether the site is worth building (``farm_enters``), and if so as a licensed or a grey
        farm (the one worth more, or grey when no licence can be had; see ``goes_grey``). A
        licensed farm reserves its licence; the decided farm is booked for service."""
        model = self.model
        licensing = model.licensing
        if site.relocated:  # the rigs could be sold second-hand instead: that is their cost here
            site.capex_usd = site.hashrate_ths * self.used_rig_value_usd_per_th(site.efficiency_j_per_th)
            site.relocation_cost_usd = site.hashrate_ths * model.config.investors.relocation_cost_usd_per_th
        else:
            site.capex_usd = site.hashrate_ths * self.rig_price_usd_per_th(site.efficiency_j_per_th)
        path = self.expected_hashprice_path(lag_months)
        licensed_margins, grey_margins = expected_margins_usd_per_th_month(
            model, site.efficiency_j_per_th, site.power_contract_factor, site.grey_power_access, site.in_special_zone,
            site.hashrate_ths, 0.0, farm_is_here=False, hashprice=path)
        capital = site.capex_usd + site.relocation_cost_usd
        licence = licensing.available()
        npv_licensed = expected_farm_npv_usd(licensed_margins, site.hashrate_ths, capital,
                                             self.hurdle_annual(site, holds_licence=True), lag_months)
        npv_grey = expected_farm_npv_usd(grey_margins, site.hashrate_ths, capital,
                                         self.hurdle_annual(site, holds_licence=False), lag_months)
        site.licensed = not goes_grey(npv_licensed, npv_grey, licence, site.grey_power_access)
        if not farm_enters(npv_licensed if site.licensed else npv_grey):
            return False
        if site.licensed:
            licensing.reserve()
        site.in_service_month = model.month + lag_months
        return True

    def hurdle_annual(self, site: Site, holds_licence: bool) -> float:
        """The return the site's owner requires a year: a foreign owner's alternative plus the
        country's policy-risk premium, a domestic owner's alternative."""
        if site.owner is not None:
            return site.owner.required_return_annual(site.in_special_zone, holds_licence)
        return self.model.config.investors.alternative_return_annual

    def build(self, site: Site) -> None:
        """Bring a decided farm into service: its owner funds the rigs (new ones imported, or
        displaced ones arriving in kind), the licence fee and a few months' revenue of working
        capital; a licensed farm takes up its reserved licence. Foreign money is FDI (``fdi``, or
        ``zone_fdi`` in the special zone); domestic money is ``domestic_investment``."""
        model = self.model
        ledger = model.ledger
        mining = model.config.mining
        licensing = model.licensing
        if site.licensed:
            licensing.release()
        working_capital = monthly_revenue_usd(model.market.hashprice_usd_per_ph_day, site.hashrate_ths, 1.0) \
            * mining.initial_cash_months_of_revenue
        relocated = site.relocated
        cash_needed = (0.0 if relocated else site.capex_usd) + site.relocation_cost_usd + licensing.fee_usd + working_capital
        farm = Miner(model, site.hashrate_ths, site.efficiency_j_per_th, owner=site.owner,
                     in_special_zone=site.in_special_zone, power_contract_factor=site.power_contract_factor,
                     grey_power_access=site.grey_power_access)
        if site.owner is not None:
            site.owner.fund(cash_needed)
            ledger.transfer(fdi_kind(site.in_special_zone), site.owner.account, farm.account, cash_needed)
            if relocated:  # the displaced rigs cross the border as foreign direct investment in kind
                ledger.transfer(fdi_kind(site.in_special_zone), REST_OF_WORLD, farm.account, site.capex_usd)
        else:
            ledger.transfer("domestic_investment", DOMESTIC_ECONOMY, farm.account,
                            cash_needed + (site.capex_usd if relocated else 0.0))
        ledger.transfer("rig_imports", farm.account, REST_OF_WORLD, site.capex_usd)
        if relocated:
            ledger.transfer("relocation_costs", farm.account, DOMESTIC_ECONOMY, site.relocation_cost_usd)
        if site.licensed:
            licensing.grant(farm)
