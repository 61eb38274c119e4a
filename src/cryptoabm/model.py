"""CryptoEconomy: a country's crypto policy meeting its economy, one month per step.

Activation order within a month (each stage finishes before the next starts):

1. the market moves (BTC price, subsidy); scheduled events fire (policy changes, relocation
   waves, shocks, shutdowns, reversals); the rest of the world's fleet settles at this
   month's price (or follows the record)
2. the State applies its adaptive capital rule to last month's flight; Licensing reviews each
   farm: it applies for, renews (paying the fee) or gives back its licence
3. ForeignInvestors, in random order, review the special zone's ventures; MiningEntry brings
   finished farms into service and fills this month's sites (relocating rigs first, then
   greenfield farms whose expected net present value is positive); investors collect venture
   earnings
4. Miners plan: run or idle
5. the GridOperator dispatches power, curtails, and (through the State's rationing rule)
   caps miners within the month if the reserve margin is too thin
6. the national fleet as dispatched is observed (the world market sees it next month)
7. Miners settle: revenue, bills, tax, repatriation, expansion, or selling up
8. the State enforces against grey farms
9. Citizens adopt, pay, move savings, receive remittances, drop out; merchants review
10. the month's indicators are recorded (recording changes nothing in the model)

The model knows nothing of the command line, batch runs or the browser app.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass, fields

import pandas as pd
from mesa import Model
from mesa.agent import AgentSet
from mesa.datacollection import DataCollector

from cryptoabm.accounts import balance_of_payments, fiscal_account, national_gain_from_mining
from cryptoabm.agents import Citizen, ForeignInvestor, GridOperator, Miner, Population, State
from cryptoabm.agents.licensing import Licensing
from cryptoabm.agents.mining_entry import MiningEntry
from cryptoabm.config import (
    Event,
    HashrateShock,
    InternetShutdown,
    LegalTenderReversal,
    MiningPowerCut,
    PolicyChange,
    PriceShock,
    RelocationWave,
    Scenario,
    StateCapacityChange,
)
from cryptoabm.config.calendar import date_of_month
from cryptoabm.ledger import HOUSEHOLDS, OPENING_EQUITY, Ledger
from cryptoabm.market import Market
from cryptoabm.rules.mining import (
    farm_efficiency_j_per_th,
    farm_hashrate_ths,
    global_hashrate_share,
    monthly_revenue_usd,
    power_contract_factor,
)
from cryptoabm.rules.units import DAYS_PER_MONTH, TH_PER_EH
from cryptoabm.streams import RandomStreams



@dataclass
class MonthlyIndicators:
    """One month's outcomes: the columns of the output table (units in the names).

    Exchange rates (docs/ODD.md 7.11): coins, rigs, FDI, profits, tariffs, fees, taxes and the
    energy's shadow value, and the national accounts built from them, are dollars as paid (the
    official rate, at which licensed firms and the state settle); households' incomes, savings,
    capital flight by either route, remittances and bonuses are dollars at the market (parallel)
    rate at which the presets state incomes.
    """

    month: int = 0
    date: str = ""
    btc_price_usd: float = 0.0
    hashprice_usd_per_ph_day: float = 0.0
    payment_regime: str = ""
    ever_downloaded_share: float = 0.0  # citizens who have ever downloaded a wallet
    wallet_share: float = 0.0  # citizens holding a wallet now (downloaded, not deleted)
    active_share: float = 0.0  # citizens counted as active users: adopted, and not yet dropped out after a month without use
    paid_last_12_months_share: float = 0.0  # citizens who paid in crypto at least once in the last 12 months
    merchant_accept_share: float = 0.0  # merchants accepting crypto
    merchant_sale_last_12_months_share: float = 0.0  # merchants with any crypto sale in the last 12 months
    receipts_converted_share: float = 0.0  # accepting merchants who convert receipts to cash at once (NaN: none accept)
    crypto_payment_share: float = 0.0  # citizens who paid in crypto this month
    new_adopters: int = 0
    bonus_driven_adopters: int = 0  # the new adopters the bonus drew in (would not have adopted that month without it)
    downloaders_active_year_on_share: float = float("nan")  # of downloaders a year on so far, the share still active then
    hashrate_ehs: float = 0.0  # national hashrate actually running
    world_hashrate_ehs: float = 0.0  # whole network, EH/s (rest of world + national)
    global_hashrate_share: float = 0.0
    miners: int = 0
    licensed_miners: int = 0
    grey_miners: int = 0  # farms mining without a licence
    grey_by_choice_miners: int = 0  # grey farms that would stay grey even if a licence were to be had
    idle_miners: int = 0  # farms that asked for no power this month: mining did not cover the power bill
    grey_mw_caught: float = 0.0  # MW (at full load) of grey farms caught and closed by enforcement this month
    licensed_power_use_share: float = float("nan")  # power licensed farms drew / their full-load power (NaN: none licensed)
    mining_load_mw: float = 0.0  # power served to miners (licensed and grey)
    grey_load_share: float = 0.0  # grey farms' share of mining load
    non_mining_demand_mw: float = 0.0
    capacity_mw: float = 0.0
    reserve_margin: float = 0.0  # spare capacity / capacity after dispatch
    curtailed_mwh: float = 0.0  # miners' requested energy not served
    unserved_mwh: float = 0.0  # households' and industry's energy not served
    energy_shadow_cost_usd: float = 0.0  # energy served to miners at its shadow value (grid.energy_shadow_value_usd_per_mwh)
    mining_revenue_usd: float = 0.0
    domestic_coin_sales_usd: float = 0.0
    rig_imports_usd: float = 0.0
    fdi_inflow_usd: float = 0.0  # foreign direct investment, in the special zone or not (= fdi_gross_usd)
    fdi_gross_usd: float = 0.0  # foreign direct investment received, in cash or in kind
    fdi_net_usd: float = 0.0  # FDI received less divestment
    zone_fdi_inflow_usd: float = 0.0  # the part into the special zone (its farms and ventures)
    profit_repatriation_usd: float = 0.0
    divestment_usd: float = 0.0
    capital_flight_usd: float = 0.0  # savings moved abroad through crypto
    licensed_platform_outflow_usd: float = 0.0  # the part of it that went through licensed platforms (the rest peer to peer)
    official_outflow_usd: float = 0.0  # savings moved abroad through banks (official route), at the market (parallel) rate
    official_conversion_rent_usd: float = 0.0  # extra dollars the official rate delivers abroad on it (premium x outflow)
    foreign_asset_share: float = 0.0  # households' assets abroad / (abroad + savings at home)
    remittances_usd: float = 0.0  # all inbound remittances
    crypto_remittances_usd: float = 0.0  # the part that came through crypto wallets
    rig_exports_usd: float = 0.0  # used rigs sold abroad by farms that closed
    coin_exports_usd: float = 0.0  # mined coins sold abroad (mining revenue less domestic sales): a current-account item
    remittance_fees_saved_usd: float = 0.0  # what crypto remittances saved in transfer fees (their gain; not a new inflow)
    # balance of payments, crypto- and mining-related part (accounts.py; BPM6 layout; credits +)
    goods_balance_usd: float = 0.0  # coins mined at the world price + rigs sold abroad - rigs bought - energy exports forgone
    primary_income_usd: float = 0.0  # - profits repatriated by foreign owners
    secondary_income_usd: float = 0.0  # remittances received (all channels) + fines paid from abroad
    current_account_usd: float = 0.0  # goods + primary income + secondary income
    financial_account_usd: float = 0.0  # net lending: foreign assets acquired - FDI liabilities incurred (= current account)
    assets_kept_usd: float = 0.0  # the financial account's coins held and foreign exchange kept (net money in over the border)
    bop_errors_omissions_usd: float = 0.0  # financial - current account: zero when every cross-border flow is classified
    # fiscal account of the state and its utility, and the national gain from mining (accounts.py)
    state_revenue_usd: float = 0.0  # from mining: surcharge + licence fees + farms' profit tax + seizures + fines
    zone_venture_tax_usd: float = 0.0  # profit tax on the special zone's ventures
    utility_tariff_receipts_usd: float = 0.0  # miners' power bills paid to the state utility, less bills written off
    bonus_outlay_usd: float = 0.0
    enforcement_cost_usd: float = 0.0  # the state's cost of enforcement against grey mining
    fiscal_net_usd: float = 0.0  # revenue + zone tax + tariff receipts - energy at its shadow value - bonuses - enforcement
    national_gain_from_mining_usd: float = 0.0  # coins + rigs sold - rigs bought + owners' net funds + fines from abroad - energy shadow cost
    mining_cap_mw: float = float("nan")  # rationing cap in force (NaN: none)
    ledger_imbalance_usd: float = 0.0  # books out of balance (should be ~0)


INDICATOR_NAMES: tuple[str, ...] = tuple(f.name for f in fields(MonthlyIndicators))
# balances and net flows, which can be negative (every other column is a level, share or one-way flow)
SIGNED_INDICATORS: tuple[str, ...] = (
    "fdi_net_usd", "goods_balance_usd", "primary_income_usd", "secondary_income_usd", "current_account_usd",
    "financial_account_usd", "assets_kept_usd", "bop_errors_omissions_usd", "utility_tariff_receipts_usd",
    "fiscal_net_usd", "national_gain_from_mining_usd",
)

SEED_BITS = 63  # a fresh seed fits a signed 64-bit column (Parquet, pandas)


def fresh_seed() -> int:
    """A seed drawn from the operating system's entropy (``seed=None``, as in Mesa)."""
    return secrets.randbits(SEED_BITS)


class CryptoEconomy(Model):
    """The whole economy for one scenario and one seed."""

    def __init__(self, scenario: Scenario | None = None, seed: int | None = None, *, preset: str | None = None,
                 country: str | None = None, policy: str | None = None, **levers: object):
        """One run: ``scenario`` (or a ``preset``, or a ``country`` under a ``policy`` package,
        each by name, with ``levers`` by keyword: see :mod:`cryptoabm.presets`) and a ``seed``.

        ``seed=None`` draws a fresh seed from the operating system, as Mesa does, and records
        it in ``model.seed`` and ``model.config.seed``, so the run can be repeated; a scenario's
        own ``seed`` is what ``cryptoabm run`` uses, not this constructor.
        """
        if preset is not None or country is not None or policy is not None or levers:
            from cryptoabm.presets import scenario_for

            scenario = scenario_for(preset, base=scenario, country=country, policy=policy, **levers)
        scenario = scenario if scenario is not None else Scenario()
        seed = fresh_seed() if seed is None else int(seed)
        super().__init__(rng=seed)
        self.config = scenario.model_copy(update={"seed": seed})  # the validated Scenario (Mesa reserves `scenario`)
        self.seed = seed
        self.month = 0
        self.streams = RandomStreams(seed)
        self.ledger = Ledger()
        self.market = Market(scenario, self.streams.market)
        self.calendar: dict[int, list[Event]] = {}
        for event in scenario.events:
            self.calendar.setdefault(event.month, []).append(event)
        self.relocation_waves: list[tuple[int, float, float]] = []  # (last month, TH/s a month, J/TH)
        self.internet_down_until = 0
        self.internet_down_days = 0.0  # days of this month the internet is cut (short shutdowns)
        self.mining_power_cut_days = 0.0  # days of this month miners get no power
        self.miner_exits: dict[str, int] = {}
        self.farms_ever_built = 0  # serial numbers for farms (their keyed random draws)
        self.indicators = MonthlyIndicators()
        self.running_hashrate_ths = 0.0
        self.grey_load_share = 0.0

        self.state = State(self, scenario.policy, scenario.state, scenario.state_capacity)
        self.licensing = Licensing(self)
        self.mining_entry = MiningEntry(self)
        self.grid = GridOperator(self, scenario.grid)
        ForeignInvestor.create_agents(self, scenario.investors.count, capital_usd=scenario.investors.capital_usd_per_investor)
        self._create_initial_farms()
        self.population = Population(scenario, self.streams.population, self.streams.network, self.streams.bonuses)
        self.ledger.open_account(HOUSEHOLDS, self.population.household_wealth_usd())
        # Citizen agents are views onto the population arrays, created on first use of
        # `citizens`: a million Python objects would cost more than the whole run.

        # one row of indicator values a month, in INDICATOR_NAMES order; the table is built once,
        # by results(), and a DataCollector only when something asks for one (``datacollector``)
        self.recorded_months: list[tuple] = []
        self._own_datacollector: DataCollector | None = None
        self.running = True

    # -- agents by kind ------------------------------------------------------------------
    def _agents_of(self, kind: type) -> AgentSet:
        return self.agents_by_type.get(kind) or AgentSet([], random=self.random)

    @property
    def miners(self) -> AgentSet:
        return self._agents_of(Miner)

    @property
    def investors(self) -> AgentSet:
        return self._agents_of(ForeignInvestor)

    @property
    def citizens(self) -> AgentSet:
        """Every citizen as a Mesa agent (a view onto row ``index`` of the population arrays).

        The views are created the first time this is read, in index order; they draw no
        random numbers, so reading it never changes a run's results.
        """
        if Citizen not in self.agents_by_type:
            for index in range(self.population.size):
                Citizen(self, index)
        return self._agents_of(Citizen)

    @property
    def internet_down_share(self) -> float:
        """Share of this month the internet is cut (1 through a shutdown of whole months)."""
        if self.month <= self.internet_down_until:
            return 1.0
        return min(1.0, self.internet_down_days / DAYS_PER_MONTH)

    @property
    def internet_down(self) -> bool:
        return self.internet_down_share >= 1.0

    @property
    def mining_power_cut_share(self) -> float:
        """Share of this month miners get no power at all."""
        return min(1.0, self.mining_power_cut_days / DAYS_PER_MONTH)

    def _create_initial_farms(self) -> None:
        """The industry at month 0: farms of the configured size, each with its own rigs (an
        efficiency drawn around the fleet's median), its own power contract and cash of a few
        months' revenue; some foreign-owned. Each chooses licensed or grey as any farm does."""
        mining = self.config.mining
        rng = self.streams.miners
        investors = list(self.investors)
        hashprice = self.market.hashprice_usd_per_ph_day
        for _ in range(mining.initial_farms):
            foreign_draw, owner_draw, efficiency_draw, contract_draw, access_draw = rng.random(5)
            owner = investors[int(owner_draw * len(investors))] if investors and foreign_draw < mining.initial_foreign_share else None
            efficiency = farm_efficiency_j_per_th(efficiency_draw, mining)
            hashrate = farm_hashrate_ths(mining.farm_size_mw, efficiency)
            farm = Miner(self, hashrate, efficiency, owner=owner, power_contract_factor=power_contract_factor(contract_draw, mining),
                         grey_power_access=access_draw < mining.grey_power_access_share)
            cash = monthly_revenue_usd(hashprice, hashrate, 1.0) * mining.initial_cash_months_of_revenue
            self.ledger.transfer("opening_balance", OPENING_EQUITY, farm.account, cash + self.state.policy.license_fee_usd)
            if not farm.prefers_grey(self.licensing.available()):
                self.licensing.grant(farm)

    # -- the month -------------------------------------------------------------------------
    def step(self) -> None:
        """Advance one month, in the documented order."""
        self.month += 1
        self.ledger.start_month()
        self.state.start_month()
        self.market.advance()
        self.apply_scheduled_events()
        self.market.update_rest_of_world_hashrate()

        self.state.review_policy(last_capital_flight_usd=self.population.capital_flight_usd)
        for miner in list(self.miners):
            self.licensing.review(miner)

        self.investors.shuffle_do("review_special_zone")
        self.mining_entry.step()
        self.investors.do("collect_returns")

        self.miners.do("plan_operation")
        self.grid.dispatch_power()
        self.observe_mining()
        self.market.observe_national_hashrate(self.running_hashrate_ths / TH_PER_EH)
        self.settle_farms()

        self.state.enforce_against_grey_miners()

        offer = self.state.bonus_campaign.offer(self.month)
        self.population.step(self, offer)
        self.state.bonus_campaign.pay(offer, self.population.bonuses_paid)

        self.record_month()
        if self.month >= self.config.months:
            self.running = False

    def settle_farms(self) -> None:
        """Every farm settles its month, one after another in creation order (docs/ODD.md,
        Updating: the order matters only under a rationing or licence cap, and how much is measured
        by ``validation/settlement_order.py``)."""
        self.miners.do("settle_month")

    def run(self, months: int | None = None) -> pd.DataFrame:
        """Run to the horizon (or ``months`` more steps) and return the monthly table."""
        for _ in range(self.config.months - self.month if months is None else months):
            self.step()
        return self.results()

    def apply_scheduled_events(self) -> None:
        """Fire this month's events, in the order the config lists them."""
        self.internet_down_days = self.mining_power_cut_days = 0.0
        for event in self.calendar.get(self.month, []):
            match event:
                case PolicyChange():
                    self.state.change_policy(event.set, event.note or "scheduled policy change")
                case LegalTenderReversal():
                    self.state.change_policy({"payment_regime": event.new_regime}, event.note or "legal tender reversed")
                    if event.end_bonus:
                        self.state.end_bonus_programme()
                case RelocationWave():
                    per_month = event.hashrate_ehs * TH_PER_EH / event.duration_months
                    self.relocation_waves.append((self.month + event.duration_months - 1, per_month, event.efficiency_j_per_th))
                case PriceShock():
                    self.market.shock_price(event.factor)
                case HashrateShock():
                    self.market.shock_hashrate(event.factor)
                case InternetShutdown() if event.duration_days is not None:
                    self.internet_down_days += event.duration_days
                case InternetShutdown():
                    self.internet_down_until = max(self.internet_down_until, self.month + event.duration_months - 1)
                case MiningPowerCut():
                    self.mining_power_cut_days += event.days
                case StateCapacityChange():
                    self.state.change_capacity(event.set, event.note or "state capacity changed")

    def observe_mining(self) -> None:
        """Measure the fleet as dispatched, before any farm settles, expands or closes."""
        miners = list(self.miners)
        self.running_hashrate_ths = sum(m.hashrate_ths * m.uptime_share for m in miners)
        running_mw = sum(m.power_mw * m.uptime_share for m in miners)
        grey_mw = sum(m.power_mw * m.uptime_share for m in miners if m.grey)
        self.grey_load_share = min(1.0, grey_mw / running_mw) if running_mw > 0 else 0.0

    def record_miner_exit(self, miner: Miner, reason: str) -> None:
        self.miner_exits[reason] = self.miner_exits.get(reason, 0) + 1

    # -- observation -----------------------------------------------------------------------
    def record_month(self) -> None:
        """Compute this month's indicators from the agents and the books, and keep them as a row."""
        miners = list(self.miners)
        running_ths = self.running_hashrate_ths
        load_mw = self.grid.mining_load_mw
        flow = self.ledger.flow
        population = self.population
        policy = self.state.policy
        shadow_cost = self.grid.energy_shadow_cost_usd()
        bop = balance_of_payments(self.ledger, shadow_cost)
        fiscal = fiscal_account(self.ledger, shadow_cost)
        remittances = self.config.remittances
        self.indicators = MonthlyIndicators(
            month=self.month,
            date=date_of_month(self.config.start_month, self.month),
            btc_price_usd=self.market.btc_price_usd,
            hashprice_usd_per_ph_day=self.market.hashprice_usd_per_ph_day,
            payment_regime=policy.payment_regime,
            ever_downloaded_share=population.ever_downloaded_share,
            wallet_share=population.wallet_share,
            active_share=population.active_share,
            paid_last_12_months_share=population.paid_last_12_months_share,
            merchant_accept_share=population.merchant_accept_share,
            merchant_sale_last_12_months_share=population.merchant_sale_last_12_months_share,
            receipts_converted_share=population.receipts_converted_share,
            crypto_payment_share=population.crypto_payment_share,
            new_adopters=population.new_adopters,
            bonus_driven_adopters=population.bonus_driven_adopters,
            downloaders_active_year_on_share=population.downloaders_active_year_on_share,
            hashrate_ehs=running_ths / TH_PER_EH,
            world_hashrate_ehs=self.market.global_hashrate_ehs,
            global_hashrate_share=global_hashrate_share(running_ths / TH_PER_EH, self.market.global_hashrate_ehs),
            miners=len(miners),
            licensed_miners=self.licensing.count,
            grey_miners=sum(1 for m in miners if m.grey),
            grey_by_choice_miners=sum(1 for m in miners if m.grey and m.grey_power_access
                                      and m.prefers_grey(licence_available=True)),
            idle_miners=sum(1 for m in miners if m.idle),
            grey_mw_caught=self.state.grey_mw_caught,
            licensed_power_use_share=self.licensed_power_use_share(miners),
            mining_load_mw=load_mw,
            grey_load_share=self.grey_load_share,
            non_mining_demand_mw=self.grid.non_mining_demand_mw,
            capacity_mw=self.grid.capacity_mw,
            reserve_margin=self.grid.reserve_margin,
            curtailed_mwh=self.grid.curtailed_mwh,
            unserved_mwh=self.grid.unserved_mwh,
            energy_shadow_cost_usd=shadow_cost,
            mining_revenue_usd=flow("mining_revenue"),
            domestic_coin_sales_usd=flow("domestic_coin_sales"),
            rig_imports_usd=flow("rig_imports"),
            fdi_inflow_usd=flow("fdi") + flow("zone_fdi"),
            fdi_gross_usd=flow("fdi") + flow("zone_fdi"),
            fdi_net_usd=bop.fdi_net_liabilities_usd,
            zone_fdi_inflow_usd=flow("zone_fdi"),
            profit_repatriation_usd=flow("profit_repatriation"),
            divestment_usd=flow("divestment"),
            capital_flight_usd=flow("capital_flight"),
            licensed_platform_outflow_usd=population.licensed_platform_outflow_usd,
            official_outflow_usd=flow("official_outflow"),
            official_conversion_rent_usd=population.official_conversion_rent_usd,
            foreign_asset_share=population.foreign_asset_share,
            remittances_usd=flow("crypto_remittances") + flow("traditional_remittances"),
            crypto_remittances_usd=flow("crypto_remittances"),
            rig_exports_usd=flow("rig_exports"),
            coin_exports_usd=flow("mining_revenue") - flow("domestic_coin_sales"),
            remittance_fees_saved_usd=flow("crypto_remittances") * max(0.0, remittances.traditional_fee_share
                                                                       - remittances.crypto_fee_share),
            goods_balance_usd=bop.goods_usd,
            primary_income_usd=bop.primary_income_usd,
            secondary_income_usd=bop.secondary_income_usd,
            current_account_usd=bop.current_account_usd,
            financial_account_usd=bop.financial_account_usd,
            assets_kept_usd=bop.assets_kept_usd,
            bop_errors_omissions_usd=bop.errors_and_omissions_usd,
            state_revenue_usd=fiscal.state_revenue_usd,
            zone_venture_tax_usd=fiscal.zone_venture_tax_usd,
            utility_tariff_receipts_usd=fiscal.utility_tariff_receipts_usd,
            bonus_outlay_usd=fiscal.bonus_outlay_usd,
            enforcement_cost_usd=fiscal.enforcement_cost_usd,
            fiscal_net_usd=fiscal.fiscal_net_usd,
            national_gain_from_mining_usd=national_gain_from_mining(self.ledger, shadow_cost).total_usd,
            mining_cap_mw=float("nan") if policy.mining_cap_mw is None else policy.mining_cap_mw,
            ledger_imbalance_usd=self.ledger_imbalance_usd(),
        )
        self.recorded_months.append(tuple(vars(self.indicators).values()))  # a dataclass's fields, in order

    @staticmethod
    def licensed_power_use_share(miners: list[Miner]) -> float:
        """Power the licensed farms drew this month as a share of their full-load power (the
        share of their licensed quota they bought); NaN when no farm holds a licence."""
        licensed = [m for m in miners if m.licensed]
        full_load_mw = sum(m.power_mw for m in licensed)
        if full_load_mw <= 0.0:
            return float("nan")
        return sum(m.power_mw * m.uptime_share for m in licensed) / full_load_mw

    @property
    def datacollector(self) -> DataCollector:
        """The months recorded so far as a Mesa ``DataCollector`` (one model reporter per
        indicator), built when asked for, so that Mesa's own tools (``mesa.batch_run``) read the
        run as they read any Mesa model; the monthly loop itself keeps plain rows. A collector a
        user assigns here (``model.datacollector = DataCollector(...)``, collected by their own
        ``step``) is kept and returned instead."""
        if self._own_datacollector is not None:
            return self._own_datacollector
        collector = DataCollector(model_reporters={name: [self.indicator, [name]] for name in INDICATOR_NAMES})
        columns = list(zip(*self.recorded_months)) if self.recorded_months else [() for _ in INDICATOR_NAMES]
        collector.model_vars = {name: list(values) for name, values in zip(INDICATOR_NAMES, columns, strict=True)}
        collector._collection_steps = [float(row[0]) for row in self.recorded_months]  # the month (Mesa's time) of each row
        return collector

    @datacollector.setter
    def datacollector(self, collector: DataCollector) -> None:
        self._own_datacollector = collector

    def indicator(self, name: str) -> float | int | str:
        """This month's value of one indicator (a model reporter for a user's own DataCollector)."""
        return getattr(self.indicators, name)

    def ledger_imbalance_usd(self) -> float:
        """How far the books are from balancing, USD: the sum of all accounts (zero in
        double entry) plus any gap between the households' account and the citizens' own
        savings and bonuses."""
        households_gap = self.ledger.balance(HOUSEHOLDS) - self.population.household_wealth_usd()
        return abs(self.ledger.net_worth_sum()) + abs(households_gap)

    def results(self) -> pd.DataFrame:
        """The monthly table: one row per month simulated, columns as in MonthlyIndicators."""
        return pd.DataFrame.from_records(self.recorded_months, columns=list(INDICATOR_NAMES))
