"""The Miner: one mining farm, licensed or grey, domestic or foreign-owned.

Farms differ: each has its own rigs (their efficiency is the farm's vintage), its own power
contract (a factor on the tariff, or on the grey-market price) and its own cash. Each month a
farm chooses whether to hold a licence (comparing expected profit licensed and grey, through
``Licensing.review``), decides whether to run (each MWh must earn more than it costs, otherwise
it idles), asks the grid for power, and then settles: it sells the coins it mined, pays for
power, the surcharge, fixed costs and tax, sends profit home if foreign-owned, buys rigs when
they pay back fast, and sells up when, for a run of months, running it for the rest of its rigs'
life is expected to be worth less than the rigs would fetch second-hand today.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from mesa import Agent

from cryptoabm.ledger import (
    BITCOIN_NETWORK,
    DOMESTIC_ECONOMY,
    FOREIGN_OWNED_MINING_SECTOR,
    GRID_OPERATOR,
    MINING_SECTOR,
    REST_OF_WORLD,
    STATE,
)
from cryptoabm.rules.entry import monthly_discount_factors, operating_value_usd_per_th, worth_keeping
from cryptoabm.rules.mining import (
    cash_margin_usd_per_th_month,
    exits,
    expansion_hashrate_ths,
    farm_power_mw,
    fixed_cost_usd_per_th_month,
    goes_grey,
    grey_margin_usd_per_th_month,
    licensed_margin_usd_per_th_month,
    monthly_energy_mwh,
    monthly_revenue_usd,
    profit_tax_usd,
    repatriable_profit_usd,
    revenue_usd_per_mwh,
    rig_payback_months,
    runs_this_month,
    used_rig_value_usd_per_th,
)
from cryptoabm.rules.units import KWH_PER_MWH, TH_PER_EH

if TYPE_CHECKING:
    from cryptoabm.agents.investor import ForeignInvestor
    from cryptoabm.model import CryptoEconomy

class Miner(Agent):
    """A mining farm. Its cash lives in the ledger under ``account``."""

    model: CryptoEconomy

    def __init__(
        self,
        model: CryptoEconomy,
        hashrate_ths: float,
        efficiency_j_per_th: float,
        owner: ForeignInvestor | None = None,
        in_special_zone: bool = False,
        power_contract_factor: float = 1.0,
        grey_power_access: bool = True,
    ):
        super().__init__(model)
        self.hashrate_ths = hashrate_ths
        self.efficiency_j_per_th = efficiency_j_per_th
        self.power_contract_factor = power_contract_factor  # this farm's power price / the going price
        self.grey_power_access = grey_power_access  # can it get off-meter power if it mines unlicensed?
        self.owner = owner
        if owner is not None:
            owner.farms.append(self)
        self.in_special_zone = in_special_zone
        self.months_not_worth_keeping = 0
        self.requested_mw = 0.0
        self.served_share = 0.0
        self.last_profit_usd = 0.0
        self.serial = model.farms_ever_built  # this farm's number in the order farms were built
        model.farms_ever_built += 1
        self.account = f"miner:{self.unique_id}"
        model.ledger.open_account(self.account, sector=MINING_SECTOR if owner is None else FOREIGN_OWNED_MINING_SECTOR)

    # -- what the farm is -----------------------------------------------------------------
    @property
    def foreign_owned(self) -> bool:
        return self.owner is not None

    @property
    def licensed(self) -> bool:
        """Holding a mining licence (the register is ``Licensing``'s)."""
        return self.model.licensing.holds(self)

    @property
    def grey(self) -> bool:
        """Operating without a licence."""
        return not self.licensed

    @property
    def idle(self) -> bool:
        """Asked for no power this month: mining would not cover the power bill."""
        return self.requested_mw <= 0.0

    @property
    def power_mw(self) -> float:
        """Draw at full load, MW."""
        return farm_power_mw(self.hashrate_ths, self.efficiency_j_per_th)

    @property
    def hashrate_ehs(self) -> float:
        return self.hashrate_ths / TH_PER_EH

    @property
    def cash_usd(self) -> float:
        return self.model.ledger.balance(self.account)

    @property
    def uptime_share(self) -> float:
        """Share of the month the farm actually ran (requested and served)."""
        return self.served_share if self.requested_mw > 0 else 0.0

    def power_price_usd_per_kwh(self, licensed: bool | None = None) -> float:
        """Average price of a kWh to this farm at full load: its contract on the tariff plus the
        surcharge if licensed, its deal on the grey-market price otherwise."""
        licensed = self.licensed if licensed is None else licensed
        if not licensed:
            return grey_power_price_usd_per_kwh(self.model, self.power_contract_factor, self.grey_power_access)
        return self.model.state.mining_power_price_usd_per_kwh(monthly_energy_mwh(self.power_mw, 1.0),
                                                               self.power_contract_factor)

    def salvage_value_usd(self) -> float:
        """What the farm's rigs would fetch second-hand today, USD: a buyer with the world's median
        power price, foreseeing the same hashprice path as the farm, pays a year or so of their
        margin, never more than the rigs are worth to it, less shipping
        (see ``MiningEntry.used_rig_value_usd_per_th``)."""
        return self.hashrate_ths * self.model.mining_entry.used_rig_value_usd_per_th(self.efficiency_j_per_th)

    def expected_operating_value_usd(self) -> float:
        """What running the farm as it is (licensed or grey) for the rest of its rigs' life is
        expected to be worth today, USD: its expected monthly margins along the expected hashprice
        path (halvings and difficulty growth foreseen, see ``MiningEntry.expected_hashprice_path``),
        after everything policy takes (tax, licence fee and sale obligation if licensed, the risk
        of seizure if grey), discounted at its owner's required return, stopping when carrying on
        no longer pays."""
        mining = self.model.config.mining
        path = self.model.mining_entry.expected_hashprice_path(lag_months=0)
        if self.licensed:
            margins = expected_licensed_margins_usd_per_th_month(
                self.model, self.efficiency_j_per_th, self.power_contract_factor, self.in_special_zone,
                self.hashrate_ths, hashprice=path)
        else:
            margins = expected_grey_margins_usd_per_th_month(
                self.model, self.efficiency_j_per_th, self.power_contract_factor, self.grey_power_access,
                self.hashrate_ths, max(0.0, self.cash_usd), hashprice=path)
        factors = monthly_discount_factors(self.required_return_annual(), mining.rig_life_months)
        return self.hashrate_ths * operating_value_usd_per_th(margins, factors)

    def required_return_annual(self) -> float:
        """The return the owner's money could earn elsewhere, after the country's risk premium
        for a foreign owner."""
        if self.owner is not None:
            return self.owner.required_return_annual(self.in_special_zone, holds_licence=self.licensed)
        return self.model.config.investors.alternative_return_annual

    # -- the month ------------------------------------------------------------------------
    def prefers_grey(self, licence_available: bool) -> bool:
        """Whether this farm expects more profit grey than licensed (see ``goes_grey``)."""
        return choose_grey(self.model, self.hashrate_ths, self.efficiency_j_per_th, self.power_contract_factor,
                           self.grey_power_access, self.in_special_zone, max(0.0, self.cash_usd), licence_available)

    def plan_operation(self) -> None:
        """Run at full load if each MWh earns more than it costs; otherwise idle (curtail)."""
        revenue_per_mwh = revenue_usd_per_mwh(self.model.market.hashprice_usd_per_ph_day, self.efficiency_j_per_th)
        runs = runs_this_month(revenue_per_mwh, self.power_price_usd_per_kwh())
        self.requested_mw = self.power_mw if runs else 0.0

    def settle_month(self) -> None:
        """Sell the coins mined, pay the bills and tax, send profit home, grow or sell up."""
        ledger = self.model.ledger
        policy = self.model.state.policy
        mining = self.model.config.mining
        uptime = self.uptime_share
        energy_mwh = monthly_energy_mwh(self.power_mw, uptime)

        revenue = monthly_revenue_usd(self.model.market.hashprice_usd_per_ph_day, self.hashrate_ths, uptime)
        ledger.transfer("mining_revenue", BITCOIN_NETWORK, self.account, revenue)
        if self.licensed:
            power_bill = energy_mwh * KWH_PER_MWH * policy.miner_tariff_usd_per_kwh * self.power_contract_factor
            surcharge = self.model.state.surcharge_usd(energy_mwh)
            sale_discount = revenue * policy.domestic_sale_share * mining.domestic_sale_discount_share
        else:
            power_bill = energy_mwh * KWH_PER_MWH * self.power_price_usd_per_kwh()
            surcharge = sale_discount = 0.0
        fixed_costs = self.hashrate_ths * fixed_cost_usd_per_th_month(self.efficiency_j_per_th, mining)
        ledger.transfer("power_sales", self.account, GRID_OPERATOR, power_bill)
        ledger.transfer("surcharge", self.account, STATE, surcharge)
        ledger.transfer("operating_costs", self.account, DOMESTIC_ECONOMY, fixed_costs)
        ledger.transfer("domestic_sale_discount", self.account, DOMESTIC_ECONOMY, sale_discount)

        profit = revenue - power_bill - surcharge - fixed_costs - sale_discount
        tax_holiday = self.in_special_zone and policy.sez_tax_holiday
        tax = profit_tax_usd(profit, policy.mining_profit_tax_rate, tax_holiday) if self.licensed else 0.0
        ledger.transfer("profit_tax", self.account, STATE, tax)
        after_tax = profit - tax
        self.last_profit_usd = after_tax
        # coins sold on domestic licensed exchanges: a change of currency, not a flow of money
        ledger.note("domestic_coin_sales", revenue * policy.domestic_sale_share if self.licensed else 0.0)

        if self.foreign_owned:
            home = repatriable_profit_usd(after_tax, policy.domestic_sale_share if self.licensed else 0.0,
                                          mining.repatriation_share_of_profit)
            ledger.transfer("profit_repatriation", self.account, self.owner.account, min(home, max(0.0, self.cash_usd)))

        keep = worth_keeping(self.expected_operating_value_usd(), self.salvage_value_usd())
        self.months_not_worth_keeping = 0 if keep else self.months_not_worth_keeping + 1
        if exits(self.months_not_worth_keeping, mining, self.cash_usd):
            reason = "bankrupt" if self.cash_usd <= 0 else ("divested" if self.foreign_owned else "sold_up")
            self.close(reason=reason)
            return
        self.buy_rigs()

    def buy_rigs(self) -> None:
        """Expand with today's rigs when they pay back within the threshold, but only after
        a month in which the farm got all the power it asked for (no curtailment)."""
        if self.uptime_share < 1.0:
            return
        mining = self.model.config.mining
        new_efficiency = self.model.market.new_rig_efficiency_j_per_th
        rig_price = self.model.mining_entry.rig_price_usd_per_th(new_efficiency)
        revenue_per_mwh = revenue_usd_per_mwh(self.model.market.hashprice_usd_per_ph_day, new_efficiency)
        payback = rig_payback_months(revenue_per_mwh, self.power_price_usd_per_kwh(), new_efficiency, rig_price, mining)
        # keep a month of running costs as working capital before spending on rigs
        working_capital = monthly_energy_mwh(self.power_mw, 1.0) * KWH_PER_MWH * self.power_price_usd_per_kwh()
        new_ths = expansion_hashrate_ths(payback, self.cash_usd - working_capital, self.hashrate_ths, rig_price, mining)
        if new_ths <= 0:
            return
        self.model.ledger.transfer("rig_imports", self.account, REST_OF_WORLD, new_ths * rig_price)
        # the fleet's efficiency becomes the hashrate-weighted average of old and new rigs
        total = self.hashrate_ths + new_ths
        self.efficiency_j_per_th = (self.hashrate_ths * self.efficiency_j_per_th + new_ths * new_efficiency) / total
        self.hashrate_ths = total

    def close(self, reason: str) -> None:
        """Leave the country. Unless seized, the rigs are sold abroad at their second-hand value;
        the cash then goes home to the owner (divestment) or into the domestic economy. A negative
        balance is written off by the grid operator. The licence is handed back."""
        ledger = self.model.ledger
        if reason != "seized":
            ledger.transfer("rig_exports", REST_OF_WORLD, self.account, self.salvage_value_usd())
        cash = self.cash_usd
        if cash < 0:
            ledger.transfer("bad_debt", GRID_OPERATOR, self.account, -cash)
        elif self.foreign_owned:
            ledger.transfer("divestment", self.account, self.owner.account, cash)
        else:
            ledger.transfer("liquidation", self.account, DOMESTIC_ECONOMY, cash)
        ledger.close_account(self.account)
        self.model.licensing.give_back(self)
        if self.owner is not None:
            self.owner.farms.remove(self)
        self.model.record_miner_exit(self, reason)
        self.remove()


def grey_power_price_usd_per_kwh(model: CryptoEconomy, power_contract_factor: float, grey_power_access: bool) -> float:
    """What an unlicensed farm pays for a kWh: the off-meter price if it has a route to it,
    otherwise the ordinary tariff (it then saves only the surcharge, tax and fees)."""
    going = model.config.mining.grey_power_price_usd_per_kwh if grey_power_access else model.state.policy.miner_tariff_usd_per_kwh
    return going * power_contract_factor


def expected_operating_terms(model: CryptoEconomy, efficiency_j_per_th: float, farm_ths: float, farm_is_here: bool,
                             hashprice=None):
    """What both margins start from: the hashprice (today's, or the path given), the farm's
    full-load power, MW, and the grid service it expects, a share of its power (for a farm not yet
    built, counting its own claim on any cap and the farms under construction)."""
    hashprice = model.market.hashprice_usd_per_ph_day if hashprice is None else hashprice
    power_mw = farm_power_mw(farm_ths, efficiency_j_per_th)
    claim_mw = 0.0 if farm_is_here else power_mw + model.mining_entry.pipeline_mw
    return hashprice, power_mw, model.grid.expected_miners_served_share(new_farm_mw=claim_mw)


def expected_licensed_margins_usd_per_th_month(
    model: CryptoEconomy, efficiency_j_per_th: float, power_contract_factor: float, in_special_zone: bool,
    farm_ths: float, farm_is_here: bool = True, hashprice=None,
):
    """Expected monthly profit of one licensed TH/s of a farm here, USD, at a hashprice (today's,
    or an array: a path of expected hashprices, giving an array) and the grid service miners
    expect: the cash margin at the licensed power price less tax, the licence fee and the price
    given up on coins sold locally (``rules.mining.licensed_margin_usd_per_th_month``)."""
    state = model.state
    policy = state.policy
    mining = model.config.mining
    hashprice, power_mw, uptime = expected_operating_terms(model, efficiency_j_per_th, farm_ths, farm_is_here, hashprice)
    licensed_price = state.mining_power_price_usd_per_kwh(monthly_energy_mwh(power_mw, 1.0), power_contract_factor)
    revenue_per_th = monthly_revenue_usd(hashprice, 1.0, uptime)
    tax_rate = 0.0 if (in_special_zone and policy.sez_tax_holiday) else policy.mining_profit_tax_rate
    return licensed_margin_usd_per_th_month(
        cash_margin_usd_per_th_month(hashprice, efficiency_j_per_th, licensed_price, mining, uptime),
        revenue_per_th, policy.domestic_sale_share, mining, tax_rate, policy.license_fee_usd / farm_ths)


def expected_grey_margins_usd_per_th_month(
    model: CryptoEconomy, efficiency_j_per_th: float, power_contract_factor: float, grey_power_access: bool,
    farm_ths: float, cash_usd: float, farm_is_here: bool = True, hashprice=None,
):
    """Expected monthly profit of one grey (unlicensed) TH/s of a farm here, USD, at a hashprice
    (or a path of them) and the grid service miners expect: the cash margin at the grey power
    price less the expected loss if caught, which risks the farm's cash, rigs and fine
    (``rules.mining.grey_margin_usd_per_th_month``)."""
    state = model.state
    policy = state.policy
    mining = model.config.mining
    hashprice, power_mw, uptime = expected_operating_terms(model, efficiency_j_per_th, farm_ths, farm_is_here, hashprice)
    grey_price = grey_power_price_usd_per_kwh(model, power_contract_factor, grey_power_access)
    rigs = used_rig_value_usd_per_th(hashprice, efficiency_j_per_th, model.config.world_mining.power_price_median_usd_per_kwh,
                                     mining)
    at_stake = rigs + (cash_usd + policy.grey_fine_usd_per_mw * power_mw) / farm_ths
    return grey_margin_usd_per_th_month(
        cash_margin_usd_per_th_month(hashprice, efficiency_j_per_th, grey_price, mining, uptime),
        state.capacity.grey_mining_detection_probability, at_stake)


def expected_margins_usd_per_th_month(
    model: CryptoEconomy, efficiency_j_per_th: float, power_contract_factor: float, grey_power_access: bool,
    in_special_zone: bool, farm_ths: float, cash_usd: float, farm_is_here: bool = True, hashprice=None,
):
    """Expected monthly profit of one TH/s of a farm here, (licensed, grey), USD (see
    ``expected_licensed_margins_usd_per_th_month`` and ``expected_grey_margins_usd_per_th_month``)."""
    licensed = expected_licensed_margins_usd_per_th_month(model, efficiency_j_per_th, power_contract_factor,
                                                          in_special_zone, farm_ths, farm_is_here, hashprice)
    grey = expected_grey_margins_usd_per_th_month(model, efficiency_j_per_th, power_contract_factor, grey_power_access,
                                                  farm_ths, cash_usd, farm_is_here, hashprice)
    return licensed, grey


def choose_grey(model: CryptoEconomy, farm_ths: float, efficiency_j_per_th: float, power_contract_factor: float,
                grey_power_access: bool, in_special_zone: bool, cash_usd: float, licence_available: bool) -> bool:
    """Whether a farm with these traits mines grey rather than licensed (one rule for new,
    relocated, initial and existing farms)."""
    licensed, grey = expected_margins_usd_per_th_month(model, efficiency_j_per_th, power_contract_factor,
                                                       grey_power_access, in_special_zone, farm_ths, cash_usd)
    return goes_grey(licensed, grey, licence_available, grey_power_access)
