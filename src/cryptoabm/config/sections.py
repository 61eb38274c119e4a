"""The config tables of the economy a policy acts on: the world bitcoin market and mining fleet,
the grid, the miners, investors, citizens, merchants, money, capital flight, remittances and the
state's opening balance. Each is a typed, immutable pydantic model; every field carries its unit
in its name or its comment."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field, model_validator

from cryptoabm.config.calendar import MONTH_PATTERN
from cryptoabm.config.errors import _FieldProblem
from cryptoabm.config.values import (
    MAX_NEW_SITES_PER_MONTH,
    MAX_PEOPLE,
    MAX_PRICE_VOLATILITY,
    MAX_QUANTITY,
    DriftOf,
    Money,
    NetworkKind,
    NoneWord,
    NonNegative,
    Positive,
    PriceProcess,
    Share,
    _Section,
)


# ---------------------------------------------------------------------------------------
# Exogenous world
# ---------------------------------------------------------------------------------------
class MarketConfig(_Section):
    """The world bitcoin market, outside the country's control."""

    btc_price_usd: float = Field(87_000.0, ge=0.01, le=MAX_QUANTITY)  # BTC price in month 0, USD (at least a cent)
    use_history: bool = False  # run on the recorded monthly price and world hashrate while they last, then simulate
    recorded_hashrate: bool = True  # with use_history: follow the recorded world hashrate too (false: only the price is
    # recorded and the world fleet answers it from the recorded hashrate of month 0: the fleet's back-test)
    price_process: PriceProcess = "student_t"  # how simulated months are drawn: Student-t random walk or block bootstrap
    price_drift_annual: float = Field(0.0, ge=-0.9, le=2.0)  # growth of the median (or mean) price per year
    price_drift_of: DriftOf = "median"  # which the drift sets: the median path (typical) or the mean price
    price_volatility_annual: float = Field(0.55, ge=0.0, le=MAX_PRICE_VOLATILITY)  # annualised SD of log returns (student_t only)
    price_shock_tail_df: float = Field(4.0, gt=2.0, le=1000.0)  # Student-t degrees of freedom
    bootstrap_block_months: int = Field(6, ge=1, le=60)  # block length of the historical-returns bootstrap
    price_csv: Annotated[str | None, NoneWord] = None  # CSV: month, btc_price_usd[, world_hashrate_ehs] (relative to the config)
    block_subsidy_btc: Positive = 3.125  # new coins per block
    blocks_per_day: Positive = 144.0
    fee_share_of_miner_revenue: float = Field(0.04, ge=0.0, lt=1.0)  # fees / (subsidy + fees)
    months_to_next_halving: Annotated[int | None, NoneWord] = Field(None, ge=1, le=1200)  # month the subsidy next halves
    halving_interval_months: int = Field(48, ge=1, le=1200)
    global_hashrate_ehs: Positive = 1_050.0  # rest-of-world hashrate running in month 0, EH/s


class WorldMiningConfig(_Section):
    """The rest of the world's mining fleet: rigs by efficiency and power price, entering and
    leaving on profitability (see ``rules/world_mining.py``)."""

    technology_reference_month: str = Field("2026-01", pattern=MONTH_PATTERN)  # YYYY-MM the two efficiencies below describe
    fleet_efficiency_j_per_th: Positive = 27.0  # median efficiency of the world's running rigs in the reference month
    new_rig_efficiency_j_per_th: Positive = 17.5  # the best rigs on sale in the reference month (earlier: less efficient)
    fleet_efficiency_log_sd: float = Field(0.25, ge=0.0, le=2.0)  # spread of the installed fleet's efficiency
    efficiency_classes: int = Field(8, ge=1, le=64)  # classes the installed fleet is cut into
    power_price_median_usd_per_kwh: Positive = 0.065  # median power price of the world's miners
    power_price_log_sd: float = Field(0.45, ge=0.0, le=2.0)  # spread of miners' power prices across the world
    power_price_classes: int = Field(12, ge=1, le=64)  # classes the world's power prices are cut into
    efficiency_improvement_annual: float = Field(0.12, ge=0.0, le=0.9)  # yearly fall in the J/TH of rigs, before and after the reference month
    rig_price_usd_per_th: Positive = 15.0  # what the world's miners pay for new rigs
    fixed_cost_usd_per_th_month: NonNegative = 0.25  # the world's miners' staff, hosting and maintenance
    capital_cost_annual: float = Field(0.30, ge=0.0, le=5.0)  # return a new rig must promise before it is ordered
    entry_rate_per_excess_return: NonNegative = 1.0  # fleet share ordered a month per unit of annual excess return
    entry_lag_months: int = Field(4, ge=0, le=36)  # months from ordering a rig to plugging it in
    max_orders_share_monthly: NonNegative = 0.15  # most new capacity ordered in a month, share of the running fleet
    order_horizon_months: int = Field(12, ge=0, le=120)  # months of the halving schedule a rig order looks ahead (0: none)
    idle_exit_rate_monthly: Share = 0.10  # share of idle capacity sold off or scrapped each month
    switch_off_share_monthly: Share = 0.75  # share of out-of-the-money running rigs that switch off in a month (1: at once)
    retirement_rate_annual: Share = 0.10  # share of all rigs that wear out each year


class GridConfig(_Section):
    """The national power system run by the grid operator."""

    available_capacity_mw: Positive = 6_900.0
    base_demand_mw: Positive = 3_600.0  # average household + industrial load in month 0
    demand_growth_annual: float = Field(0.015, ge=-0.5, le=1.0)
    seasonal_amplitude: Share = 0.12  # peak-to-mean swing of non-mining demand, share
    peak_demand_calendar_month: int = Field(1, ge=1, le=12)
    demand_noise_sd: Share = 0.02  # month-to-month noise in demand, share of demand
    # what a MWh used by miners costs the country: the export its gas or power could have earned,
    # from 0 (stranded: no export route, no storage) to export parity; an uncertain country input
    energy_shadow_value_usd_per_mwh: NonNegative = 40.0
    energy_shadow_value_range_usd_per_mwh: tuple[NonNegative, NonNegative] = (0.0, 60.0)  # the country's plausible [low, high]
    intra_month_demand_swing: Share = 0.15  # hourly non-mining load ranges over mean x (1 +/- this) within a month

    @model_validator(mode="after")
    def _shadow_value_in_its_range(self) -> GridConfig:
        low, high = self.energy_shadow_value_range_usd_per_mwh
        if not low <= self.energy_shadow_value_usd_per_mwh <= high:
            raise ValueError(f"energy_shadow_value_usd_per_mwh {self.energy_shadow_value_usd_per_mwh:g} lies outside "
                             f"energy_shadow_value_range_usd_per_mwh [{low:g}, {high:g}]")
        return self


class MiningConfig(_Section):
    """The mining industry already in the country and the rigs on the market."""

    initial_farms: int = Field(4, ge=0, le=100_000)
    farm_size_mw: Positive = 10.0  # typical farm power draw at full load, MW
    initial_foreign_share: Share = 0.5  # share of initial farms owned from abroad
    fleet_efficiency_j_per_th: Positive = 25.0  # median efficiency of the farms here in month 0
    fleet_efficiency_log_sd: float = Field(0.2, ge=0.0, le=2.0)  # spread of efficiency across those farms (vintages)
    rig_capex_usd_per_w: Positive = 0.86  # new rigs, USD per watt, in world_mining.technology_reference_month
    rig_capex_decline_annual: float = Field(0.05, ge=0.0, le=0.9)  # yearly fall in the USD per watt of new rigs (below 1: never free)
    used_rig_payback_months: Positive = 12.0  # a used rig sells for this many months of its cash margin
    scrap_value_usd_per_th: NonNegative = 0.5  # floor under a used rig's price
    fixed_cost_usd_per_mw_month: NonNegative = 10_000.0  # staff, hosting, maintenance, per MW of rigs
    rig_life_months: int = Field(48, ge=1, le=240)  # months over which a farm values its rigs (entry, keep-or-sell)
    expected_price_growth_annual: float | None = Field(None, ge=-1.0, le=2.0)  # BTC price growth farms expect; None: the price process's mean growth
    expected_hashrate_growth_annual: float = Field(0.15, ge=-0.5, le=2.0)  # world hashrate growth farms expect
    entry_lag_months: int = Field(6, ge=0, le=60)  # months from deciding on a farm to running it
    max_new_mw_per_month: NonNegative = 25.0  # MW of new farm sites the country can bring into service a month
    new_farm_foreign_share: Share = 1.0  # share of greenfield farms owned from abroad (FDI)
    power_contract_log_sd: float = Field(0.15, ge=0.0, le=2.0)  # spread of farms' power prices around the tariff
    grey_power_price_usd_per_kwh: NonNegative = 0.02  # median price an unlicensed farm with off-meter access pays for power
    grey_power_access_share: Share = 0.5  # farms with a route to off-meter power (the others would pay the tariff unlicensed)
    domestic_sale_discount_share: Share = 0.02  # price given up on coins a farm must sell on local exchanges
    initial_cash_months_of_revenue: NonNegative = 3.0
    exit_after_months_below_salvage: int = Field(3, ge=1, le=120)  # months worth less than its rigs' salvage before a farm sells up
    expansion_payback_months: Positive = 18.0  # buy rigs only if they pay back faster
    expansion_share_of_cash: Share = 0.5  # of spare cash spent on rigs in a good month
    max_expansion_share_per_month: Share = 0.1  # of current hashrate
    repatriation_share_of_profit: Share = 1.0  # of repatriable profit a foreign owner takes home

    @model_validator(mode="after")
    def _sites_a_month_within_bounds(self) -> MiningConfig:
        sites = self.max_new_mw_per_month / self.farm_size_mw
        if sites > MAX_NEW_SITES_PER_MONTH:
            raise _FieldProblem("mining.max_new_mw_per_month",
                                f"{self.max_new_mw_per_month:g} MW a month in farms of farm_size_mw "
                                f"{self.farm_size_mw:g} MW is {sites:.3g} farm sites a month; at most "
                                f"{MAX_NEW_SITES_PER_MONTH:,} (raise farm_size_mw or lower max_new_mw_per_month)")
        return self


class InvestorConfig(_Section):
    """Foreign investors who decide whether to put capital into the country."""

    count: int = Field(5, ge=0, le=10_000)
    capital_usd_per_investor: Money = 60_000_000.0
    alternative_return_annual: float = Field(0.15, ge=-0.9, le=5.0)  # hurdle elsewhere (above -100%: it discounts)
    base_risk_premium_annual: NonNegative = 0.05
    no_licence_premium_annual: NonNegative = 0.10  # when licences are at the cap
    policy_change_premium_annual: NonNegative = 0.05  # after a recent policy change
    policy_change_memory_months: int = Field(12, ge=0, le=120)
    sez_premium_reduction_annual: NonNegative = 0.03  # special zone's guarantees
    investment_probability_per_month: Share = 0.3  # chance an investor reviews the special zone's ventures this month
    relocation_cost_usd_per_th: NonNegative = 1.0  # shipping and set-up of a relocated rig
    sez_venture_size_usd: Money = 5_000_000.0
    sez_venture_return_annual: float = Field(0.12, ge=-1.0, le=5.0)
    sez_ventures_capacity_usd: Money = 50_000_000.0  # most the zone's ventures can absorb in all


class PopulationConfig(_Section):
    """Citizens and the social network they learn from."""

    citizens: int = Field(2_000, ge=10, le=20_000_000)  # simulated citizens (agents): up to one per adult of a large nation (assumption: 20 million covers every preset country; configs/kazakhstan_2021.toml: 13.5 million adults)
    people_represented: Annotated[int | None, NoneWord] = Field(None, ge=1, le=MAX_PEOPLE)  # adults they stand for; None: one each
    network: NetworkKind = "watts_strogatz"
    mean_degree: int = Field(10, ge=2, le=1_000)  # average number of contacts
    rewiring_probability: Share = 0.1  # Watts-Strogatz only
    internet_access_share: Share = 0.6
    merchant_share: Share = 0.05
    income_median_usd_per_month: Positive = 400.0
    income_log_sd: float = Field(0.7, ge=0.0, le=3.0)
    trust_mean: Share = 0.5  # trust in financial novelty, 0..1
    trust_sd: float = Field(0.15, ge=0.0, le=0.5)
    savings_months_of_income: NonNegative = 3.0
    saving_rate: Share = 0.05  # share of income added to savings each month
    initial_holder_share: Share = 0.0  # citizens already holding crypto in month 0
    bank_account_share: Share = 1.0  # adults with a bank account (a country input; 1: everyone banked)
    bank_access_income_correlation: float = Field(0.6, ge=0.0, le=1.0)  # correlation of the latent bank access with log income; assumption
    internet_income_correlation: float = Field(0.0, ge=0.0, le=1.0)  # correlation of the latent internet access with log income (0: independent)

    @model_validator(mode="after")
    def _even_lattice(self) -> PopulationConfig:
        if self.network == "watts_strogatz" and self.mean_degree % 2:
            raise _FieldProblem("population.mean_degree",
                                f"must be even for a watts_strogatz ring lattice (got {self.mean_degree})")
        return self

    @property
    def people_per_citizen(self) -> float:
        """How many real adults each simulated citizen stands for (money flows scale by this)."""
        return 1.0 if self.people_represented is None else self.people_represented / self.citizens


class AdoptionConfig(_Section):
    """How citizens take up, use and abandon crypto wallets (Bass-type diffusion)."""

    innovation_p: Share = 0.003  # monthly hazard of adopting unprompted
    imitation_q: Share = 0.15  # extra monthly hazard when every contact is active
    never_adopter_share: Share = 0.0  # citizens who never take a wallet, whatever the bonus
    bonus_innovation_multiplier: NonNegative = 20.0  # innovation is p x this at a bonus campaign's launch
    bonus_pull_half_life_months: Positive = 1.0  # months in which the campaign's extra pull halves
    adoption_cost_share_of_annual_income: NonNegative = 0.007  # one-off cost of adopting averaged over adults, share of the
    # country's annual income per capita (facts.md, El Salvador: adoption cost, about 0.7% of annual income per capita)
    unbanked_adoption_cost_multiplier: float = Field(2.0, gt=0.0, le=100.0)  # the unbanked's cost of adopting, times the banked's; assumption
    adoption_cost_log_sd: float = Field(0.8, ge=0.0, le=2.0)  # spread of the cost of adopting across adults, SD of its log; assumption
    trust_elasticity: float = Field(1.0, ge=0.0, le=5.0)  # hazard scales with (trust / mean trust)^this
    bonus_spend_months: Positive = 2.0  # months over which a bonus is spent
    payment_propensity: Share = 0.6  # chance an active holder pays in crypto, given acceptance
    government_fee_month_probability: Share = 0.1  # chance a citizen owes a government fee this month
    store_of_value_share: Share = 0.1  # chance an active holder finds holding worthwhile
    dropout_hazard: Share = 0.5  # monthly chance a holder with no use and no bonus stops using the wallet
    lasting_use_share: Share = 0.0  # banked adults who adopt of their own accord and find a lasting use for the wallet
    unbanked_lasting_use_ratio: Share = 0.6  # the unbanked's chance of a lasting use, times the banked's; assumption
    bonus_adopter_lasting_use_ratio: Share = 0.5  # a bonus-driven adopter's chance of a lasting use, times an organic adopter's
    lasting_use_dropout_hazard: Share = 0.01  # monthly chance a lasting user drifts away all the same
    dormant_abandon_hazard: Share = 0.05  # monthly chance a dormant holder deletes the wallet


class MerchantConfig(_Section):
    """How merchants decide whether to accept crypto."""

    review_probability: Share = 0.2  # chance a merchant reconsiders this month
    sales_gain_per_active_customer_share: NonNegative = 0.05  # margin gain if all customers pay crypto
    processing_fee_share: Share = 0.01  # fee on crypto sales
    volatility_cost_weight: NonNegative = 0.02  # margin lost per unit of annual volatility held
    legal_tender_compliance: Share = 0.2  # share of merchants who obey a mandate to accept
    staff_time_cost_share: NonNegative = 0.005  # margin lost to training staff and handling a second payment system
    holding_gain_per_trust: NonNegative = 0.0175  # margin a merchant expects from keeping receipts in crypto, per unit of trust


class EconomyConfig(_Section):
    """The country's money: exchange rates, inflation, dollarisation, trust in banks."""

    official_rate_lcu_per_usd: Positive = 1.0  # local currency per dollar at the official rate
    parallel_rate_lcu_per_usd: Positive = 1.0  # local currency per dollar on the street
    parallel_convergence_years: Positive = 10.0  # years in which savers expect the official rate to reach the parallel
    expected_depreciation_annual: float = Field(0.0, ge=-1.0, le=5.0)  # expected yearly fall of the market rate beyond the inflation gap (PPP)
    inflation_gap_annual: float = Field(0.0, ge=-1.0, le=5.0)  # local inflation minus US inflation, per year: the market rate's expected fall under PPP
    dollarisation_share: Share = 0.0  # share of savings already held in dollars
    bank_trust: Share = 0.8  # 0..1, confidence that bank deposits are safe and can be withdrawn


class CapitalFlightConfig(_Section):
    """How savers move money abroad, and by which route (see ``rules/capital_flows.py``)."""

    adjustment_per_month: Share = 0.1  # monthly chance a saver rebalances their portfolio toward its target
    holding_horizon_years: Positive = 2.0  # horizon over which a saver spreads a route's one-off gain or cost
    bank_risk_premium_annual: NonNegative = 0.05  # yearly motive when banks are not trusted at all
    max_foreign_share: Share = 0.8  # foreign share of wealth a saver targets when holding abroad pays very well
    half_target_net_gain_annual: Positive = 0.1  # yearly net gain at which the target is half of max_foreign_share
    fixed_cost_usd_per_move: NonNegative = 10.0  # one-off fixed cost of a move abroad (time, travel, minimum trades), USD
    official_route_cost_share: Share = 0.01  # bank transfer abroad: fees and spread, share of the amount
    crypto_route_cost_share: Share = 0.03  # buying, sending and selling crypto: fees and spreads
    controls_enforcement_cost_share: Share = 0.05  # expected loss on the crypto route under full enforcement against it
    route_choice_scale: Positive = 0.01  # logit scale of the route choice, share of the amount
    p2p_leakage_share: Share = 0.3  # share of crypto outflows that bypass licensed-exchange limits
    # dollars the central bank sells households at the official rate to move savings abroad, USD per
    # adult a year (delivered at the official rate); None: no limit (where the rates agree nothing is rationed)
    official_fx_allocation_usd_per_adult_year: Annotated[NonNegative | None, NoneWord] = None


class RemittanceConfig(_Section):
    """Money sent home by workers abroad, and the part that comes through crypto wallets."""

    inflow_usd_per_year: Money = 0.0  # all inbound remittances, USD a year
    recipient_share: Share = 0.2  # share of adults who receive remittances
    traditional_fee_share: Share = 0.06  # cost of a transfer agency, share of the amount
    crypto_fee_share: Share = 0.01  # cost of sending through a wallet, share of the amount
    sender_crypto_access: Share = 0.1  # share of senders abroad able and willing to send crypto
    fee_gap_sensitivity: NonNegative = 20.0  # switching: 1 - exp(-this x fee gap)


class StateConfig(_Section):
    """The state's opening balance sheet."""

    opening_balance_usd: Money = 0.0  # cash the state starts with (on top of the bonus budget)
    # yearly cost of enforcement against grey mining (inspectors, meter audits) per unit of the monthly
    # detection probability in force: the cost scales with the enforcement effort
    enforcement_cost_usd_per_year_per_detection: Money = 5_000_000.0


class StateCapacityConfig(_Section):
    """What the state can enforce, whatever its policy: a trait of the country (configs/countries/),
    never of a policy package, so that a package moved to another country meets that country's
    enforcement. A country event of kind ``state_capacity`` may change it."""

    grey_mining_detection_probability: Share = 0.05  # monthly chance an unlicensed (grey) farm is caught
    crypto_flight_enforcement: Share = 0.0  # 0..1 strength of enforcement (KYC, policing) against moving money out via crypto

