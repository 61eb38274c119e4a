"""Scenario configuration: a typed, validated, immutable description of one run.

A scenario is a TOML file under ``configs/``. It may ``extends = "other.toml"`` (a path
relative to the file) and override any value; tables are merged key by key, while lists
(such as ``events``) are replaced whole. Everything is validated by pydantic before a run
starts, and any mistake becomes a :class:`ConfigError` whose message is one line naming
the file, the field and what is allowed.

Every field carries its unit in its name or its description. Defaults are neutral values;
``configs/baseline.toml`` sets the reference economy and gives the source of each figure.
"""

from __future__ import annotations

import csv
import difflib
import math
import re
import tomllib
from pathlib import Path
from typing import Annotated, Any, Literal, Union

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)

PaymentRegime = Literal["ban", "voluntary", "legal_tender", "fee_conversion"]
GridPriority = Literal["equal", "last", "interruptible", "surplus_only"]
PriceProcess = Literal["student_t", "block_bootstrap"]
NetworkKind = Literal["watts_strogatz", "barabasi_albert", "erdos_renyi", "complete", "well_mixed"]

NONE_WORD = "none"


def _none_word(value: Any) -> Any:
    # TOML has no null: the word "none" switches an optional lever off (e.g. lifts a cap).
    return None if isinstance(value, str) and value.strip().lower() == NONE_WORD else value


NoneWord = BeforeValidator(_none_word)

# Every number must be finite: TOML allows inf and nan, which no field means.
Share = Annotated[float, Field(ge=0.0, le=1.0, allow_inf_nan=False)]
NonNegative = Annotated[float, Field(ge=0.0, allow_inf_nan=False)]
Positive = Annotated[float, Field(gt=0.0, allow_inf_nan=False)]
SAFE_NAME_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,79}$"
SAFE_NAME_RULE = "must be a plain name: a letter or digit, then letters, digits, _ . - (at most 80 characters, no path)"
SafeName = Annotated[str, Field(pattern=SAFE_NAME_PATTERN)]  # names a results folder: nothing may escape
MAX_EXTENDS_DEPTH = 32  # files in one extends chain
EXPERIMENT_KEYS = frozenset({"question", "arms", "replications", "horizon_months", "design", "reference"})


class ConfigError(Exception):
    """A configuration mistake, reported as one plain line: file, field, what is allowed."""

    def __init__(self, file: str | Path, field: str, message: str):
        self.file = str(file)
        self.field = field
        self.message = message
        where = f"{self.file}: {field}: " if field else f"{self.file}: "
        super().__init__(where + message)

    def __reduce__(self):
        # rebuilt from its three parts, so it crosses process boundaries (mesa.batch_run's pool)
        return (type(self), (self.file, self.field, self.message))


class _Section(BaseModel):
    """Base for every config table: unknown keys are errors, values are immutable."""

    model_config = ConfigDict(extra="forbid", frozen=True, validate_default=True, allow_inf_nan=False)


# ---------------------------------------------------------------------------------------
# Exogenous world
# ---------------------------------------------------------------------------------------
class MarketConfig(_Section):
    """The world bitcoin market, outside the country's control."""

    btc_price_usd: Positive = 87_000.0  # BTC price in month 0, USD
    use_history: bool = False  # run on the recorded monthly price and world hashrate while they last, then simulate
    price_process: PriceProcess = "student_t"  # how simulated months are drawn: Student-t random walk or block bootstrap
    price_drift_annual: float = Field(0.0, ge=-1.0, le=2.0)  # expected growth of the mean price per year
    price_volatility_annual: NonNegative = 0.55  # annualised SD of log returns (student_t only)
    price_shock_tail_df: float = Field(4.0, gt=2.0, le=1000.0)  # Student-t degrees of freedom
    bootstrap_block_months: int = Field(6, ge=1, le=60)  # block length of the historical-returns bootstrap
    price_csv: Annotated[str | None, NoneWord] = None  # CSV: month, btc_price_usd[, world_hashrate_ehs] (relative to the config)
    block_subsidy_btc: Positive = 3.125  # new coins per block
    blocks_per_day: Positive = 144.0
    fee_share_of_miner_revenue: float = Field(0.04, ge=0.0, lt=1.0)  # fees / (subsidy + fees)
    months_to_next_halving: Annotated[int | None, NoneWord] = Field(None, ge=1)  # month the subsidy next halves
    halving_interval_months: int = Field(48, ge=1)
    global_hashrate_ehs: Positive = 1_050.0  # rest-of-world hashrate running in month 0, EH/s


class WorldMiningConfig(_Section):
    """The rest of the world's mining fleet: rigs by efficiency and power price, entering and
    leaving on profitability (see ``rules/world_mining.py``)."""

    technology_reference_month: str = Field("2026-01", pattern=r"^\d{4}-(0[1-9]|1[0-2])$")  # YYYY-MM the two efficiencies below describe
    fleet_efficiency_j_per_th: Positive = 24.0  # median efficiency of the world's running rigs in the reference month
    new_rig_efficiency_j_per_th: Positive = 17.5  # the best rigs on sale in the reference month (earlier: less efficient)
    fleet_efficiency_log_sd: float = Field(0.25, ge=0.0, le=2.0)  # spread of the installed fleet's efficiency
    efficiency_classes: int = Field(8, ge=1, le=64)  # classes the installed fleet is cut into
    power_price_median_usd_per_kwh: Positive = 0.045  # median power price of the world's miners
    power_price_log_sd: float = Field(0.45, ge=0.0, le=2.0)  # spread of miners' power prices across the world
    power_price_classes: int = Field(12, ge=1, le=64)  # classes the world's power prices are cut into
    efficiency_improvement_annual: Share = 0.12  # yearly fall in the J/TH of rigs, before and after the reference month
    rig_price_usd_per_th: Positive = 15.0  # what the world's miners pay for new rigs
    fixed_cost_usd_per_th_month: NonNegative = 0.25  # the world's miners' staff, hosting and maintenance
    capital_cost_annual: float = Field(0.30, ge=0.0, le=5.0)  # return a new rig must promise before it is ordered
    entry_rate_per_excess_return: NonNegative = 0.05  # fleet share ordered a month per unit of annual excess return
    entry_lag_months: int = Field(4, ge=0, le=36)  # months from ordering a rig to plugging it in
    idle_exit_rate_monthly: Share = 0.10  # share of idle capacity sold off or scrapped each month
    retirement_rate_annual: Share = 0.10  # share of all rigs that wear out each year


class GridConfig(_Section):
    """The national power system run by the grid operator."""

    available_capacity_mw: Positive = 6_900.0
    base_demand_mw: Positive = 3_600.0  # average household + industrial load in month 0
    demand_growth_annual: float = Field(0.015, ge=-0.5, le=1.0)
    seasonal_amplitude: Share = 0.12  # peak-to-mean swing of non-mining demand, share
    peak_demand_calendar_month: int = Field(1, ge=1, le=12)
    demand_noise_sd: Share = 0.02  # month-to-month noise in demand, share of demand
    export_value_usd_per_mwh: NonNegative = 40.0  # what a MWh (or its gas) earns if exported
    intra_month_demand_swing: Share = 0.15  # hourly non-mining load ranges over mean x (1 +/- this) within a month


class MiningConfig(_Section):
    """The mining industry already in the country and the rigs on the market."""

    initial_farms: int = Field(4, ge=0, le=100_000)
    farm_size_mw: Positive = 10.0  # typical farm power draw at full load, MW
    initial_foreign_share: Share = 0.5  # share of initial farms owned from abroad
    fleet_efficiency_j_per_th: Positive = 25.0  # median efficiency of the farms here in month 0
    fleet_efficiency_log_sd: float = Field(0.2, ge=0.0, le=2.0)  # spread of efficiency across those farms (vintages)
    rig_price_usd_per_th: Positive = 15.0  # new rigs
    used_rig_payback_months: Positive = 12.0  # a used rig sells for this many months of its cash margin
    scrap_value_usd_per_th: NonNegative = 0.5  # floor under a used rig's price
    fixed_cost_usd_per_th_month: NonNegative = 0.25  # staff, hosting, maintenance
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


class InvestorConfig(_Section):
    """Foreign investors who decide whether to put capital into the country."""

    count: int = Field(5, ge=0, le=10_000)
    capital_usd_per_investor: NonNegative = 60_000_000.0
    alternative_return_annual: float = Field(0.15, ge=-1.0, le=5.0)  # hurdle elsewhere
    base_risk_premium_annual: NonNegative = 0.05
    no_licence_premium_annual: NonNegative = 0.10  # when licences are at the cap
    policy_change_premium_annual: NonNegative = 0.05  # after a recent policy change
    policy_change_memory_months: int = Field(12, ge=0, le=120)
    sez_premium_reduction_annual: NonNegative = 0.03  # special zone's guarantees
    investment_probability_per_month: Share = 0.3  # chance an investor reviews this month
    relocation_cost_usd_per_th: NonNegative = 1.0  # shipping and set-up of a relocated rig
    sez_venture_size_usd: NonNegative = 5_000_000.0
    sez_venture_return_annual: float = Field(0.12, ge=-1.0, le=5.0)
    sez_ventures_capacity_usd: NonNegative = 50_000_000.0  # most the zone's ventures can absorb in all


class PopulationConfig(_Section):
    """Citizens and the social network they learn from."""

    citizens: int = Field(2_000, ge=10, le=20_000_000)  # simulated citizens (agents): up to one per adult of a large nation (assumption: 20 million covers every preset country; configs/kazakhstan_2021.toml: 13.5 million adults)
    people_represented: Annotated[int | None, NoneWord] = Field(None, ge=1)  # adults they stand for; None: one each
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
    adoption_cost_share_of_annual_income: NonNegative = 0.007  # a bonus draws in only those whose cost of adopting it covers
    # (facts.md, El Salvador: adoption cost, about 0.7% of annual income per capita; assumption: in proportion to own income)
    trust_elasticity: NonNegative = 1.0  # hazard scales with (trust / mean trust)^this
    bonus_spend_months: Positive = 2.0  # months over which a bonus is spent
    payment_propensity: Share = 0.6  # chance an active holder pays in crypto, given acceptance
    government_fee_month_probability: Share = 0.1  # chance a citizen owes a government fee this month
    store_of_value_share: Share = 0.1  # chance an active holder finds holding worthwhile
    dropout_hazard: Share = 0.5  # monthly chance a holder with no use and no bonus stops using the wallet
    lasting_use_share: Share = 0.0  # citizens for whom a wallet, once adopted, stays useful
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
    expected_depreciation_annual: float = Field(0.0, ge=-1.0, le=5.0)  # expected yearly fall of the currency, beyond the premium
    inflation_gap_annual: float = Field(0.0, ge=-1.0, le=5.0)  # local inflation minus US inflation, per year
    dollarisation_share: Share = 0.0  # share of savings already held in dollars
    bank_trust: Share = 0.8  # 0..1, confidence that bank deposits are safe and can be withdrawn


class CapitalFlightConfig(_Section):
    """How savers move money abroad, and by which route (see ``rules/capital_flows.py``)."""

    moves_per_net_gain: NonNegative = 0.1  # monthly chance of moving, per unit of net gain over the horizon
    holding_horizon_years: Positive = 2.0  # horizon over which a saver weighs the motive against one-off costs
    bank_risk_premium_annual: NonNegative = 0.05  # yearly motive when banks are not trusted at all
    share_of_savings: Share = 0.2  # of savings moved when they do
    official_route_cost_share: Share = 0.01  # bank transfer abroad: fees and spread, share of the amount
    crypto_route_cost_share: Share = 0.03  # buying, sending and selling crypto: fees and spreads
    controls_enforcement_cost_share: Share = 0.05  # expected loss on the crypto route under full enforcement against it
    route_choice_scale: Positive = 0.01  # logit scale of the route choice, share of the amount
    p2p_leakage_share: Share = 0.3  # share of crypto outflows that bypass licensed-exchange limits


class RemittanceConfig(_Section):
    """Money sent home by workers abroad, and the part that comes through crypto wallets."""

    inflow_usd_per_year: NonNegative = 0.0  # all inbound remittances, USD a year
    recipient_share: Share = 0.2  # share of adults who receive remittances
    traditional_fee_share: Share = 0.06  # cost of a transfer agency, share of the amount
    crypto_fee_share: Share = 0.01  # cost of sending through a wallet, share of the amount
    sender_crypto_access: Share = 0.1  # share of senders abroad able and willing to send crypto
    fee_gap_sensitivity: NonNegative = 20.0  # switching: 1 - exp(-this x fee gap)


class StateConfig(_Section):
    """The state's opening balance sheet."""

    opening_balance_usd: NonNegative = 0.0  # cash the state starts with (on top of the bonus budget)


# ---------------------------------------------------------------------------------------
# Policy: every lever the state can pull; all of it can change through scheduled events
# ---------------------------------------------------------------------------------------
class SurchargeBand(_Section):
    """One band of a progressive surcharge: the rate on each kWh a miner uses in the band."""

    up_to_mwh_per_month: Annotated[Positive | None, NoneWord] = None  # None: the top band
    usd_per_kwh: NonNegative


class Policy(_Section):
    """The policy in force. Each field is a lever; events may change any of them."""

    payment_regime: PaymentRegime = "voluntary"
    license_cap: Annotated[int | None, NoneWord] = Field(None, ge=0)  # most licences at once; "none": no cap
    license_fee_usd: NonNegative = 0.0  # per licence per year
    miner_tariff_usd_per_kwh: NonNegative = 0.045
    surcharge_usd_per_kwh: NonNegative = 0.0  # flat surcharge on mining power
    surcharge_bands: list[SurchargeBand] = Field(default_factory=list)  # progressive, replaces flat
    miner_grid_priority: GridPriority = "equal"
    surplus_reserve_share: Share = 0.1  # surplus_only: spare kept above non-mining demand
    mining_cap_mw: Annotated[NonNegative | None, NoneWord] = None  # rationing: most power miners may draw
    domestic_sale_share: Share = 0.0  # of mined coins that must be sold on local exchanges
    mining_profit_tax_rate: Share = 0.2
    sez_active: bool = False
    sez_tax_holiday: bool = False
    sez_share_of_new_farms: Share = 0.5
    capital_controls: Share = 0.0  # strictness of official (bank) capital controls: share of savers the bank route is closed to
    crypto_flight_enforcement: Share = 0.0  # strength of enforcement (KYC, policing) against moving money out via crypto
    crypto_outflow_limit_usd_per_month: Annotated[NonNegative | None, NoneWord] = None  # per citizen, licensed channel
    licensed_platform_pull: Share = 0.0  # of would-be peer-to-peer crypto flows, the share a licensed framework draws onto licensed platforms
    information_control: Share = 0.0  # how much the state suppresses crypto information/internet
    enforcement_detection_probability: Share = 0.05  # monthly chance a grey farm is caught
    grey_fine_usd_per_mw: NonNegative = 0.0  # fine on a caught grey farm on top of seizing its cash and rigs, USD per MW
    wallet_bonus_usd: NonNegative = 0.0
    bonus_budget_usd: NonNegative = 0.0
    bonus_eligible_max_income_usd_per_month: Annotated[NonNegative | None, NoneWord] = None  # None: every adopter
    ration_below_reserve_margin: Annotated[Share | None, NoneWord] = None  # adaptive: ration miners below this margin
    ration_cut_share: Share = 0.3  # cut to miners' load when rationing starts
    tighten_outflows_above_usd_per_month: Annotated[NonNegative | None, NoneWord] = None  # adaptive capital rule
    tightened_outflow_limit_usd_per_month: NonNegative = 100.0

    @field_validator("surcharge_bands")
    @classmethod
    def _bands_ascend(cls, bands: list[SurchargeBand]) -> list[SurchargeBand]:
        tops = [b.up_to_mwh_per_month for b in bands]
        if any(t is None for t in tops[:-1]):
            raise ValueError("only the last band may omit up_to_mwh_per_month")
        finite = [t for t in tops if t is not None]
        if finite != sorted(finite) or len(set(finite)) != len(finite):
            raise ValueError("band limits up_to_mwh_per_month must strictly increase")
        return bands


POLICY_LEVERS: tuple[str, ...] = tuple(Policy.model_fields)


# ---------------------------------------------------------------------------------------
# Scheduled events
# ---------------------------------------------------------------------------------------
class _Event(_Section):
    month: int = Field(ge=1, le=1200)  # fires at the start of this month
    note: str = ""


class PolicyChange(_Event):
    """Change one or more policy levers from this month on."""

    kind: Literal["policy"]
    set: dict[str, Any]


class RelocationWave(_Event):
    """Mining capacity displaced abroad (a neighbour's ban) looks for a host country."""

    kind: Literal["relocation_wave"]
    hashrate_ehs: Positive  # capacity on offer over the whole wave
    duration_months: int = Field(6, ge=1, le=120)
    efficiency_j_per_th: Positive = 30.0


class PriceShock(_Event):
    """The BTC price jumps by a factor this month."""

    kind: Literal["price_shock"]
    factor: Positive


class HashrateShock(_Event):
    """Rest-of-world hashrate jumps by a factor (e.g. a ban elsewhere switches rigs off)."""

    kind: Literal["hashrate_shock"]
    factor: Positive


class InternetShutdown(_Event):
    """The internet is cut: no adoption, payments or crypto outflows while it lasts.

    ``duration_days`` (if given) cuts that many days of this month instead of whole months."""

    kind: Literal["internet_shutdown"]
    duration_months: int = Field(1, ge=1, le=120)
    duration_days: Annotated[float | None, NoneWord] = Field(None, gt=0.0, le=31.0)


class MiningPowerCut(_Event):
    """Power to every miner is cut for some days of this month (miners' uptime falls by that share)."""

    kind: Literal["mining_power_cut"]
    days: float = Field(gt=0.0, le=31.0)


class LegalTenderReversal(_Event):
    """Legal tender status ends; payments fall back to another regime."""

    kind: Literal["legal_tender_reversal"]
    new_regime: PaymentRegime = "voluntary"
    end_bonus: bool = True


Event = Annotated[
    Union[PolicyChange, RelocationWave, PriceShock, HashrateShock, InternetShutdown, MiningPowerCut,
          LegalTenderReversal],
    Field(discriminator="kind"),
]


# ---------------------------------------------------------------------------------------
# The whole scenario
# ---------------------------------------------------------------------------------------
class Scenario(_Section):
    """One country under one policy: everything a run needs apart from the seed."""

    name: SafeName = "baseline"  # letters, digits, _ . - (it names the results folder)
    description: str = ""
    start_month: str = Field("2026-01", pattern=r"^\d{4}-(0[1-9]|1[0-2])$")  # YYYY-MM of month 1
    months: int = Field(60, ge=1, le=1200)
    seed: int = Field(1, ge=0, le=2**63 - 1)
    market: MarketConfig = MarketConfig()
    world_mining: WorldMiningConfig = WorldMiningConfig()
    grid: GridConfig = GridConfig()
    mining: MiningConfig = MiningConfig()
    investors: InvestorConfig = InvestorConfig()
    population: PopulationConfig = PopulationConfig()
    adoption: AdoptionConfig = AdoptionConfig()
    merchants: MerchantConfig = MerchantConfig()
    economy: EconomyConfig = EconomyConfig()
    capital_flight: CapitalFlightConfig = CapitalFlightConfig()
    remittances: RemittanceConfig = RemittanceConfig()
    state: StateConfig = StateConfig()
    policy: Policy = Policy()
    events: list[Event] = Field(default_factory=list)

    @model_validator(mode="after")
    def _events_fit(self) -> Scenario:
        for i, event in enumerate(self.events):
            if event.month > self.months:
                raise _FieldProblem(
                    f"events.{i}.month",
                    f"month {event.month} is after the last month of the run ({self.months})",
                )
            if isinstance(event, PolicyChange):
                for key in event.set:
                    if key not in POLICY_LEVERS:
                        raise _FieldProblem(f"events.{i}.set.{key}", _unknown_key_message(key, POLICY_LEVERS))
                try:
                    Policy.model_validate({**self.policy.model_dump(), **event.set})
                except ValidationError as exc:
                    first = exc.errors()[0]
                    field = ".".join(str(p) for p in first["loc"])
                    raise _FieldProblem(f"events.{i}.set.{field}", _describe_error(first)) from None
        return self

    @property
    def calendar_month_of_start(self) -> int:
        """Calendar month (1-12) of the first simulated month."""
        return int(self.start_month[5:7])


class _FieldProblem(ValueError):
    """A cross-field check that already knows which field is wrong."""

    def __init__(self, field: str, message: str):
        super().__init__(message)
        self.field = field
        self.message = message


# ---------------------------------------------------------------------------------------
# Loading
# ---------------------------------------------------------------------------------------
def load_scenario(path: str | Path, overrides: dict[str, Any] | None = None) -> Scenario:
    """Read, merge (``extends``) and validate a scenario file.

    ``overrides`` maps dotted keys (``"policy.license_cap"``) to values and is applied on
    top of the file, as the batch layer and the browser app do.
    Raises :class:`ConfigError` with a one-line message on any problem.
    """
    path = Path(path)
    raw = _read_with_extends(path, chain=())
    for dotted, value in (overrides or {}).items():
        _set_dotted(raw, dotted, value)
    return scenario_from_dict(raw, source=path)


def scenario_from_dict(raw: dict[str, Any], source: str | Path = "<config>") -> Scenario:
    """Validate an already-merged dict; ``source`` names the file in error messages.

    A price CSV is parsed here too (see :func:`check_month_csv`), so a bad one is refused
    before any run starts.
    """
    raw = dict(raw)
    price_csv = raw.get("market", {}).get("price_csv") if isinstance(raw.get("market"), dict) else None
    if isinstance(price_csv, str) and _none_word(price_csv) is not None and source != "<config>":
        resolved = (Path(source).parent / price_csv).resolve()
        if not resolved.is_file():
            raise ConfigError(source, "market.price_csv", f"file not found: {resolved}")
        raw["market"] = {**raw["market"], "price_csv": str(resolved)}
    scenario = _validated(raw, source)
    if scenario.market.price_csv is not None:
        problem = check_month_csv(scenario.market.price_csv, "btc_price_usd", scenario.months)
        if problem:
            raise ConfigError(source, "market.price_csv", f"{scenario.market.price_csv}: {problem}")
    return scenario


def check_month_csv(path: str | Path, value_column: str, months: int) -> str | None:
    """What is wrong with a monthly CSV (columns ``month`` and ``value_column``), or None.

    Months must be whole numbers, each once, with no gaps from 0 to at least ``months``;
    values must be positive, finite numbers. Parsed with the csv module: nothing is evaluated.
    """
    try:
        with open(path, newline="", encoding="utf-8") as handle:
            reader = csv.DictReader(handle)
            header = list(reader.fieldnames or [])
            rows = list(reader)
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        return f"cannot read the CSV: {exc}"
    if not rows:
        return f"has no rows (needs columns month, {value_column})"
    missing = [c for c in ("month", value_column) if c not in header]
    if missing:
        return f"lacks column(s) {', '.join(missing)} (has {', '.join(str(h) for h in header)})"
    seen: dict[int, int] = {}
    for line, row in enumerate(rows, start=2):
        month, value = _whole_number(row["month"]), _finite_number(row[value_column])
        if month is None or month < 0:
            return f"line {line}: month must be a whole number >= 0 (got {row['month']!r})"
        if month in seen:
            return f"line {line}: month {month} appears twice (first on line {seen[month]})"
        if value is None or value <= 0:
            return f"line {line}: {value_column} must be a positive, finite number (got {row[value_column]!r})"
        seen[month] = line
    gap = next((m for m in range(months + 1) if m not in seen), None)
    if gap is not None:
        return f"has no row for month {gap} (needs every month 0-{months})"
    return None


def _whole_number(text: Any) -> int | None:
    try:
        return int(str(text).strip())
    except ValueError:
        return None


def _finite_number(text: Any) -> float | None:
    try:
        value = float(str(text).strip())
    except ValueError:
        return None
    return value if math.isfinite(value) else None


def _validated(raw: dict[str, Any], source: str | Path) -> Scenario:
    """``Scenario.model_validate`` with the first problem as a one-line :class:`ConfigError`."""
    try:
        return Scenario.model_validate(raw)
    except ValidationError as exc:
        errors = exc.errors()
        # An unknown key usually explains the other errors in its table (a typo'd name
        # also leaves the real field missing), so report it first.
        error = next((e for e in errors if e["type"] == "extra_forbidden"), errors[0])
        problem = _field_problem_in(error)
        if problem is not None:
            raise ConfigError(source, problem.field, problem.message) from None
        raise ConfigError(source, _loc_to_field(error["loc"]), _describe_error(error)) from None


def scenario_to_toml_dict(scenario: Scenario) -> dict[str, Any]:
    """The fully resolved scenario as plain TOML-ready data (no ``extends``, no None)."""
    return scenario.model_dump(mode="json", exclude_none=True)


def config_files(path: str | Path) -> list[Path]:
    """The config file and every file it extends, child first (what a run of it reads)."""
    files: list[Path] = []
    _read_with_extends(Path(path), chain=(), files=files)
    return files


def _read_with_extends(path: Path, chain: tuple[Path, ...], files: list[Path] | None = None) -> dict[str, Any]:
    resolved = path.resolve()
    if resolved in chain:
        cycle = " -> ".join(p.name for p in (*chain, resolved))
        raise ConfigError(chain[-1], "extends", f"circular extends: {cycle}")
    if len(chain) >= MAX_EXTENDS_DEPTH:
        raise ConfigError(chain[0], "extends", f"the extends chain is longer than {MAX_EXTENDS_DEPTH} files")
    if not path.is_file():
        if chain:
            raise ConfigError(chain[-1], "extends", f"no such file to extend: {path}")
        raise ConfigError(path, "", "no such config file")
    data = _read_toml(path)
    if not data:
        raise ConfigError(path, "", "the config file is empty (extend configs/baseline.toml to start from the baseline)")
    if EXPERIMENT_KEYS & set(data):
        raise ConfigError(path, "", "this is an experiment file, not a scenario config; run it with: cryptoabm batch")
    if files is not None:
        files.append(resolved)
    parent_name = data.pop("extends", None)
    country, package = data.pop("country", None), data.pop("policy_package", None)
    if country is not None or package is not None:
        if parent_name is not None:
            raise ConfigError(path, "extends", "a preset either extends a file or names a country and a "
                                               "policy_package, not both")
        return _with_own_events(_composed(path.parent, country, package, path, (*chain, resolved), files), data)
    if parent_name is None:
        return data
    if not isinstance(parent_name, str):
        raise ConfigError(path, "extends", "must be a file name in quotes, e.g. extends = \"baseline.toml\"")
    parent = _read_with_extends(path.parent / parent_name, chain=(*chain, resolved), files=files)
    return _deep_merge(parent, data)


# ---------------------------------------------------------------------------------------
# Country x policy: a preset is an economy (configs/countries/) plus a policy package
# (configs/policies/), on top of baseline.toml
# ---------------------------------------------------------------------------------------
COUNTRIES_FOLDER = "countries"
POLICIES_FOLDER = "policies"
BASE_FILE = "baseline.toml"  # the defaults every composition starts from, next to the preset
COUNTRY_EVENT_KINDS = ("relocation_wave", "price_shock", "hashrate_shock", "internet_shutdown")  # the world's, not the state's
POLICY_EVENT_KINDS = ("policy", "legal_tender_reversal", "mining_power_cut")  # measures a policy package carries
NOT_IN_A_COUNTRY = ("policy", "name", "seed", "months", "extends", "country", "policy_package")
POLICY_PACKAGE_KEYS = ("description", "extends", "policy", "events")


def load_composition(folder: str | Path, country: str, policy_package: str,
                     overrides: dict[str, Any] | None = None, source: str | Path | None = None) -> Scenario:
    """A country's economy under a policy package, validated like a preset file.

    ``folder`` holds ``baseline.toml``, ``countries/<country>.toml`` and
    ``policies/<policy_package>.toml``. ``overrides`` are dotted keys, as in :func:`load_scenario`.
    """
    folder = Path(folder)
    source = source or folder / f"{country}+{policy_package}"
    raw = _composed(folder, country, policy_package, source, chain=(), files=None)
    raw.setdefault("name", f"{country}__{policy_package}")
    for dotted, value in (overrides or {}).items():
        _set_dotted(raw, dotted, value)
    market = raw.get("market")
    price_csv = market.get("price_csv") if isinstance(market, dict) else None
    if isinstance(price_csv, str) and _none_word(price_csv) is not None:  # relative to the configs folder
        raw["market"] = {**market, "price_csv": str((folder / price_csv).resolve())}
    return scenario_from_dict(raw, source=source)


def composition_files(folder: str | Path, country: str, policy_package: str) -> list[Path]:
    """Every file a composition reads (the country, the package, baseline and what it extends)."""
    files: list[Path] = []
    _composed(Path(folder), country, policy_package, Path(folder), chain=(), files=files)
    return files


def _composed(folder: Path, country: Any, package: Any, source: str | Path, chain: tuple[Path, ...],
              files: list[Path] | None) -> dict[str, Any]:
    """baseline <- the country <- the policy package, with the events of all three in month order."""
    country_path = _part_path(folder, COUNTRIES_FOLDER, country, source, "country")
    package_path = _part_path(folder, POLICIES_FOLDER, package, source, "policy_package")
    merged = _read_with_extends(folder / BASE_FILE, chain, files)
    country_data = _country_part(country_path, files)
    package_data = _package_part(package_path, files)
    events = [*merged.pop("events", []), *country_data.pop("events", []), *package_data.pop("events", [])]
    described = [str(part.pop("description")) for part in (package_data, country_data) if "description" in part]
    merged = _deep_merge(_deep_merge(merged, country_data), package_data)
    merged["description"] = " In: ".join(described)  # "<the policy> In: <the economy>", unless the preset says
    merged["events"] = sorted(events, key=lambda event: event.get("month", 0) if isinstance(event, dict) else 0)
    return merged


def _with_own_events(composed: dict[str, Any], own: dict[str, Any]) -> dict[str, Any]:
    """A preset's own values over its composition; its own ``events`` are added, not substituted."""
    own = dict(own)
    extra = own.pop("events", [])
    if not isinstance(extra, list):
        extra = [extra]  # let validation name the problem
    merged = _deep_merge(composed, own)
    merged["events"] = [*composed.get("events", []), *extra]
    return merged


def _part_path(folder: Path, subfolder: str, name: Any, source: str | Path, field: str) -> Path:
    """The file of a named country or policy package; its name cannot leave its folder."""
    if not isinstance(name, str) or not re.match(SAFE_NAME_PATTERN, name) or name.endswith(".toml"):
        raise ConfigError(source, field, f"must be the name of a file in {subfolder}/ without .toml "
                                         f"(e.g. \"turkmenistan\"); {SAFE_NAME_RULE}")
    path = folder / subfolder / f"{name}.toml"
    if not path.is_file():
        available = sorted(p.stem for p in (folder / subfolder).glob("*.toml"))
        close = difflib.get_close_matches(name, available, n=1)
        hint = f"did you mean '{close[0]}'?" if close else f"available: {', '.join(available) or 'none'}"
        what = "country" if subfolder == COUNTRIES_FOLDER else "policy package"
        raise ConfigError(source, field, f"no {what} named '{name}' in {folder / subfolder}; {hint}")
    return path


def read_toml(path: Path) -> tuple[dict[str, Any], bytes]:
    """A TOML file's tables and its bytes (to hash); ConfigError (one line) if it cannot be
    read or parsed. Configs, experiments and target files are all read here."""
    try:
        raw_bytes = Path(path).read_bytes()
        return tomllib.loads(raw_bytes.decode("utf-8")), raw_bytes
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ConfigError(path, "", f"malformed TOML: {exc}") from None
    except OSError as exc:
        raise ConfigError(path, "", f"cannot read file: {exc.strerror or exc}") from None


def _read_toml(path: Path) -> dict[str, Any]:
    """A TOML file's tables (see :func:`read_toml`)."""
    return read_toml(path)[0]


def _read_part(path: Path, files: list[Path] | None) -> dict[str, Any]:
    data = _read_toml(path)
    if files is not None:
        files.append(path.resolve())
    return data


def _country_part(path: Path, files: list[Path] | None) -> dict[str, Any]:
    """A country file: the economy only. No lever, no policy event, no horizon or seed."""
    data = _read_part(path, files)
    for key in NOT_IN_A_COUNTRY:
        if key in data:
            why = ("levers belong in a policy package (configs/policies/)" if key == "policy" else
                   "a country file holds the economy only; set it in the preset or the experiment")
            raise ConfigError(path, key, f"not allowed in a country file: {why}")
    _check_event_kinds(path, data, COUNTRY_EVENT_KINDS, "a country file",
                       "policy measures belong in a policy package (configs/policies/)")
    return data


def _package_part(path: Path, files: list[Path] | None, chain: tuple[Path, ...] = ()) -> dict[str, Any]:
    """A policy package: its levers and its measures, dated in months from its start. It may
    extend another package in the same folder (``extends = "kazakhstan_2025_regime"``): its
    levers override the parent's and its events are added to the parent's."""
    if path.resolve() in chain:
        raise ConfigError(path, "extends", f"circular extends: {' -> '.join(p.stem for p in (*chain, path))}")
    if len(chain) >= MAX_EXTENDS_DEPTH:
        raise ConfigError(path, "extends", f"the extends chain is longer than {MAX_EXTENDS_DEPTH} files")
    data = _read_part(path, files)
    extra = next((key for key in data if key not in POLICY_PACKAGE_KEYS), None)
    if extra is not None:
        raise ConfigError(path, extra, f"not allowed in a policy package, which holds only "
                                       f"{', '.join(POLICY_PACKAGE_KEYS)}; the economy belongs in a country file")
    _check_event_kinds(path, data, POLICY_EVENT_KINDS, "a policy package",
                       "events of the world or the economy belong in a country file")
    parent_name = data.pop("extends", None)
    if parent_name is None:
        return data
    parent_path = _part_path(path.parent.parent, POLICIES_FOLDER, parent_name, path, "extends")
    parent = _package_part(parent_path, files, (*chain, path.resolve()))
    events = [*parent.pop("events", []), *data.pop("events", [])]
    return {**_deep_merge(parent, data), "events": events}


def _check_event_kinds(path: Path, data: dict[str, Any], allowed: tuple[str, ...], what: str, why: str) -> None:
    events = data.get("events", [])
    if not isinstance(events, list):
        raise ConfigError(path, "events", "must be a list of [[events]] tables")
    for i, event in enumerate(events):
        kind = event.get("kind") if isinstance(event, dict) else None
        if kind not in allowed:
            raise ConfigError(path, f"events.{i}.kind", f"{kind!r} is not allowed in {what} "
                                                        f"(allowed: {', '.join(allowed)}); {why}")


def _deep_merge(base: dict[str, Any], override: dict[str, Any]) -> dict[str, Any]:
    merged = dict(base)
    for key, value in override.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = _deep_merge(merged[key], value)
        else:
            merged[key] = value
    return merged


def _set_dotted(raw: dict[str, Any], dotted: str, value: Any) -> None:
    *tables, leaf = dotted.split(".")
    node = raw
    for table in tables:
        node = node.setdefault(table, {})
        if not isinstance(node, dict):
            raise ConfigError("<overrides>", dotted, f"'{table}' is not a table")
    node[leaf] = value


def first_problem(exc: ValidationError, unknown_key: Any) -> tuple[str, str]:
    """The field and one-line message of a validation error's first problem: an unknown key
    first (it usually explains the others; ``unknown_key(loc)`` words it), else a failed check's
    own message, else pydantic's error described."""
    errors = exc.errors()
    error = next((e for e in errors if e["type"] == "extra_forbidden"), errors[0])
    if error["type"] == "extra_forbidden":
        message = unknown_key(error["loc"])
    elif error["type"] == "value_error":
        message = str(error["ctx"]["error"])
    else:
        message = _describe_error(error)
    return _loc_to_field(error["loc"]), message


def _field_problem_in(error: dict[str, Any]) -> _FieldProblem | None:
    ctx = error.get("ctx") or {}
    problem = ctx.get("error")
    return problem if isinstance(problem, _FieldProblem) else None


def _loc_to_field(loc: tuple[Any, ...]) -> str:
    # Discriminated unions put the event kind into the location; drop it for readability.
    return ".".join(str(part) for i, part in enumerate(loc) if not _is_event_tag(loc, i))


def _is_event_tag(loc: tuple[Any, ...], i: int) -> bool:
    return i >= 2 and loc[i - 2] == "events" and isinstance(loc[i - 1], int) and loc[i] in _EVENT_KINDS


_EVENT_KINDS = {"policy", "relocation_wave", "price_shock", "hashrate_shock", "internet_shutdown",
                "mining_power_cut", "legal_tender_reversal"}


def _describe_error(error: dict[str, Any]) -> str:
    kind = error["type"]
    loc = error["loc"]
    if kind == "extra_forbidden":
        return _unknown_key_message(str(loc[-1]), _allowed_keys_at(loc[:-1]))
    given = error.get("input")
    message = error["msg"]
    if kind == "union_tag_invalid":
        tag = (error.get("ctx") or {}).get("tag", given)
        return f"unknown event kind {tag!r}; allowed: {', '.join(sorted(_EVENT_KINDS))}"
    if kind == "missing":
        return "required value is missing"
    if kind == "string_pattern_mismatch" and (error.get("ctx") or {}).get("pattern") == SAFE_NAME_PATTERN:
        return f"{SAFE_NAME_RULE} (got {given!r:.100})"
    if kind == "finite_number":
        return f"must be a finite number (got {given!r})"
    shown = repr(given) if not isinstance(given, (dict, list)) else type(given).__name__
    return f"{message[0].lower()}{message[1:]} (got {shown})"


def _unknown_key_message(key: str, allowed: tuple[str, ...] | list[str]) -> str:
    close = difflib.get_close_matches(key, allowed, n=1, cutoff=0.6)
    hint = f"; did you mean '{close[0]}'?" if close else f"; allowed: {', '.join(allowed)}"
    return f"unknown key '{key}'{hint}"


def _allowed_keys_at(loc: tuple[Any, ...]) -> tuple[str, ...]:
    """Field names of the config table at ``loc``, for did-you-mean suggestions."""
    model: Any = Scenario
    for i, part in enumerate(loc):
        if isinstance(part, int):
            continue
        if _is_event_tag(loc, i):
            model = _EVENT_MODELS[part]
            continue
        field = getattr(model, "model_fields", {}).get(part)
        if field is None:
            return ()
        annotation = field.annotation
        model = _section_model_in(annotation)
        if model is None:
            return ()
    return tuple(getattr(model, "model_fields", {}))


_EVENT_MODELS = {
    "policy": PolicyChange,
    "relocation_wave": RelocationWave,
    "price_shock": PriceShock,
    "hashrate_shock": HashrateShock,
    "internet_shutdown": InternetShutdown,
    "mining_power_cut": MiningPowerCut,
    "legal_tender_reversal": LegalTenderReversal,
}


def _section_model_in(annotation: Any) -> Any:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for arg in getattr(annotation, "__args__", ()):
        found = _section_model_in(arg)
        if found is not None:
            return found
    return None
