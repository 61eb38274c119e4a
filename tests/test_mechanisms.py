"""The mechanisms a referee asks about, stated as the economics they encode: why capital moves,
how the world's mining market clears, how farms idle and leave one by one, when mining goes
grey, and how a bonus campaign draws people in."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from cryptoabm.config import ConfigError, scenario_from_dict
from cryptoabm.market import load_market_history
from cryptoabm.model import CryptoEconomy
from cryptoabm.rules.units import DAYS_PER_MONTH
from tests.conftest import run, scenario

ADOPTING = {"adoption.innovation_p": 0.02, "adoption.imitation_q": 0.4, "population.internet_access_share": 1.0}
PROFITABLE = {"market.price_volatility_annual": 0.0, "market.btc_price_usd": 120_000.0,
              "policy.miner_tariff_usd_per_kwh": 0.03}


def total(table: pd.DataFrame, column: str) -> float:
    return float(table[column].sum())


# ---------------------------------------------------------------------------------------
# Capital flows with motives
# ---------------------------------------------------------------------------------------
def test_with_no_motive_nobody_moves_savings_abroad_whatever_the_wallets():
    no_motive = {"economy.dollarisation_share": 1.0, "economy.bank_trust": 1.0, "policy.capital_controls": 1.0,
                 "policy.wallet_bonus_usd": 30.0, "policy.bonus_budget_usd": 1e9}
    _, table = run(months=36, **ADOPTING, **no_motive)
    assert table["wallet_share"].max() > 0.5  # plenty of wallets ...
    assert total(table, "capital_flight_usd") == 0.0  # ... and no reason to use them to leave
    assert total(table, "official_outflow_usd") == 0.0


def test_capital_flight_rises_with_the_parallel_market_premium():
    flights = []
    for parallel in (1.5, 3.0, 6.0):
        _, table = run(seed=5, months=36, **ADOPTING, **{"policy.capital_controls": 0.9,
                                                         "economy.parallel_rate_lcu_per_usd": parallel})
        flights.append(total(table, "capital_flight_usd"))
    assert flights[0] < flights[1] < flights[2]


def test_capital_controls_shift_outflows_from_the_banks_to_crypto():
    motive = {**ADOPTING, "economy.parallel_rate_lcu_per_usd": 3.0}
    _, open_account = run(seed=4, months=36, **motive)
    _, controlled = run(seed=4, months=36, **motive, **{"policy.capital_controls": 0.9})
    assert total(controlled, "official_outflow_usd") < 0.2 * total(open_account, "official_outflow_usd")
    assert total(controlled, "capital_flight_usd") > 2 * total(open_account, "capital_flight_usd")


def test_capital_flight_never_turns_a_dormant_wallet_into_an_active_one():
    # an open capital account: savers' motive moves money (some of it through crypto) but gives
    # nobody a reason to get a wallet, so wallets and their use are the same with and without it
    wallets = {**ADOPTING, "policy.payment_regime": "ban", "adoption.store_of_value_share": 0.0}
    _, calm = run(seed=2, months=36, **wallets)
    # (a falling currency, not a parallel premium: with the bank route open to all, a premium is a
    # rent every saver takes through the bank)
    _, fleeing = run(seed=2, months=36, **wallets, **{"economy.inflation_gap_annual": 0.3,
                                                      "capital_flight.crypto_route_cost_share": 0.005})
    # (the calm economy's few savers who distrust their banks move a little too)
    assert total(fleeing, "capital_flight_usd") > 10 * total(calm, "capital_flight_usd")
    pd.testing.assert_series_equal(fleeing["active_share"], calm["active_share"])
    pd.testing.assert_series_equal(fleeing["wallet_share"], calm["wallet_share"])


def test_the_crypto_share_of_remittances_rises_with_the_fee_gap():
    common = {**ADOPTING, "remittances.inflow_usd_per_year": 1e9, "remittances.crypto_fee_share": 0.01}
    shares = []
    for fee in (0.02, 0.05, 0.10):
        _, table = run(seed=3, **common, **{"remittances.traditional_fee_share": fee})
        shares.append(total(table, "crypto_remittances_usd") / total(table, "remittances_usd"))
    assert 0 < shares[0] < shares[1] < shares[2]


def test_the_balance_of_payments_adds_up_and_the_ledger_balances_in_every_new_flow():
    busy = {**ADOPTING, **PROFITABLE, "economy.parallel_rate_lcu_per_usd": 4.0, "policy.capital_controls": 0.7,
            "remittances.inflow_usd_per_year": 5e8, "policy.license_cap": 2, "mining.initial_farms": 10,
            "mining.grey_power_price_usd_per_kwh": 0.005, "state_capacity.grey_mining_detection_probability": 0.03,
            "policy.wallet_bonus_usd": 30.0, "policy.bonus_budget_usd": 3_000.0}
    model, table = run(months=36, **busy)
    flows = model.ledger.total_flows
    for kind in ("capital_flight", "official_outflow", "crypto_remittances", "traditional_remittances", "fdi",
                 "rig_imports", "seizure", "profit_repatriation"):
        assert flows.get(kind, 0.0) > 0, kind
    assert table["bop_errors_omissions_usd"].abs().max() <= 1e-9 * sum(flows.values())  # tests/test_accounts.py
    assert table["ledger_imbalance_usd"].max() <= 1e-9 * sum(flows.values())


# ---------------------------------------------------------------------------------------
# The world mining market
# ---------------------------------------------------------------------------------------
def marginal_cash_cost(model: CryptoEconomy) -> float:
    """Cash cost of the dearest world rig that runs at all this month, USD/PH/day."""
    fleet = model.market.fleet
    cost = fleet.cash_cost()
    return float(cost[(fleet.running_share > 0) & (fleet.capacity_ehs > 0)].max())


def cheapest_idle_cash_cost(model: CryptoEconomy) -> float:
    """Cash cost of the cheapest world rig that does not run at all this month (inf: all run)."""
    fleet = model.market.fleet
    idle = (fleet.running_share < 1) & (fleet.capacity_ehs > 0)
    return float(fleet.cash_cost()[idle].min()) if idle.any() else float("inf")


def test_the_world_market_clears_at_the_marginal_rig_and_a_halving_moves_it_down_the_merit_order():
    quiet = scenario(months=30, **{"market.price_volatility_annual": 0.0, "market.months_to_next_halving": 6,
                                   "mining.initial_farms": 0, "investors.count": 0,
                                   "world_mining.switch_off_share_monthly": 1.0})  # the instant merit order
    model = CryptoEconomy(quiet, seed=1)
    hashprice, hashrate = [], []
    for _ in range(30):
        model.step()
        hashprice.append(model.market.hashprice_usd_per_ph_day)
        hashrate.append(model.market.global_hashrate_ehs)
        # equilibrium every month: every running rig covers its cash cost, no idle rig would
        assert marginal_cash_cost(model) <= hashprice[-1] * (1 + 1e-9) <= cheapest_idle_cash_cost(model) * (1 + 1e-6)
    before, after = hashprice[4], hashprice[5]  # months 5 and 6: the subsidy halves in month 6
    assert 0.5 * before < after < before  # the dearest rigs switch off, so it falls by less than half
    assert hashrate[5] < hashrate[4]
    # as idle and worn rigs leave and no new ones pay, it creeps back up the merit order within a year
    assert hashprice[17] > hashprice[5]


def test_rigs_slow_to_switch_off_soften_a_halving_and_run_at_a_loss_meanwhile():
    def halving(switch_off: float) -> tuple[list[float], CryptoEconomy]:
        model = CryptoEconomy(scenario(months=8, **{"market.price_volatility_annual": 0.0, "market.months_to_next_halving": 6,
                                                    "mining.initial_farms": 0, "investors.count": 0,
                                                    "world_mining.switch_off_share_monthly": switch_off}), seed=1)
        hashrate = []
        for _ in range(6):
            model.step()
            hashrate.append(model.market.global_hashrate_ehs)
        return hashrate, model

    instant, _ = halving(1.0)
    slow, model = halving(0.25)
    assert instant[4] == pytest.approx(slow[4])  # the same fleet until the halving
    assert instant[5] / instant[4] < slow[5] / slow[4] <= 1.0  # then it falls, by less when rigs are slow to stop
    assert marginal_cash_cost(model) > model.market.hashprice_usd_per_ph_day  # some run at a loss for now


def test_world_orders_look_ahead_at_the_halving_schedule():
    def orders_before_a_halving(horizon: int) -> float:
        model = CryptoEconomy(scenario(months=6, **{"market.price_volatility_annual": 0.0, "market.months_to_next_halving": 8,
                                                    "mining.initial_farms": 0, "investors.count": 0,
                                                    "world_mining.order_horizon_months": horizon}), seed=1)
        model.run()
        return float(sum(order.sum() for order in model.market.fleet.orders))

    assert orders_before_a_halving(12) < orders_before_a_halving(0)  # the coming halving cuts the pay the rigs are bought for
    assert CryptoEconomy(scenario(**{"market.months_to_next_halving": 3}), seed=1).market.pay_ahead_ratio(12) == pytest.approx(
        (2 * 1.0 + 10 * 0.5) / 12)  # months 1-2 at today's subsidy, 3-12 at half


def test_world_hashrate_growth_is_an_outcome_of_miners_profits():
    def world_hashrate_after(price: float) -> float:
        model, table = run(months=36, **{"market.price_volatility_annual": 0.0, "market.btc_price_usd": price,
                                          "mining.initial_farms": 0, "investors.count": 0})
        return float(table["world_hashrate_ehs"].iloc[-1])

    start = scenario().market.global_hashrate_ehs
    assert world_hashrate_after(200_000) > 1.2 * start  # rigs pay: the world orders more
    assert world_hashrate_after(40_000) < 0.9 * start  # rigs idle and leave


def test_a_price_fall_cuts_world_hashrate_by_less_than_the_price():
    crash = [{"kind": "price_shock", "month": 3, "factor": 0.7}]
    _, table = run(months=12, events=crash, **{"market.price_volatility_annual": 0.0, "mining.initial_farms": 0,
                                                "investors.count": 0})
    fall = 1 - table["world_hashrate_ehs"].iloc[8] / table["world_hashrate_ehs"].iloc[1]
    assert 0.0 < fall < 0.3


# ---------------------------------------------------------------------------------------
# Heterogeneous farms
# ---------------------------------------------------------------------------------------
def csv_market(tmp_path, prices: list[float], world_ehs: float = 1_000.0) -> str:
    path = tmp_path / "market.csv"
    pd.DataFrame({"month": range(len(prices)), "btc_price_usd": prices,
                  "world_hashrate_ehs": world_ehs}).to_csv(path, index=False)
    return str(path)


def test_a_price_below_every_farms_cost_idles_them_all_and_they_restart_when_it_recovers(tmp_path):
    prices = [150_000] * 3 + [3_000] * 2 + [150_000] * 7  # months 3-4: the price collapses, then recovers
    # farms expect no growth of the world's hashrate, so at $150,000 every vintage is worth keeping
    # and only the crash could make one sell
    farms = scenario(months=11, **{"market.price_csv": csv_market(tmp_path, prices), "mining.max_new_mw_per_month": 0.0,
                                   "mining.initial_farms": 12, "mining.exit_after_months_below_salvage": 6,
                                   "mining.expected_hashrate_growth_annual": 0.0})
    model = CryptoEconomy(farms, seed=1)
    table = model.run()
    crash = table[table["month"].isin([3, 4])]
    assert (crash["idle_miners"] == crash["miners"]).all() and (crash["mining_load_mw"] == 0).all()
    after = table[table["month"] >= 5]
    assert (table["miners"] == 12).all()  # two idle months are not enough to sell up
    assert (after["idle_miners"] == 0).all() and (after["mining_load_mw"] > 0).all()


def exit_months(tmp_path, efficiency_spread: float, contract_spread: float) -> list[int]:
    prices = list(np.linspace(100_000, 10_000, 41))  # a long, slow decline
    farms = scenario(months=40, **{"market.price_csv": csv_market(tmp_path, prices), "mining.max_new_mw_per_month": 0.0,
                                   "mining.initial_farms": 30, "mining.fleet_efficiency_log_sd": efficiency_spread,
                                   "mining.power_contract_log_sd": contract_spread, "mining.initial_cash_months_of_revenue": 24})
    table = CryptoEconomy(farms, seed=2).run()
    exits = -np.diff(np.concatenate([[30], table["miners"].to_numpy()]))
    return [month for month, count in zip(table["month"], exits, strict=True) if count > 0]


def test_farms_that_differ_leave_over_many_months_and_identical_farms_together(tmp_path):
    assert len(exit_months(tmp_path, 0.0, 0.0)) == 1  # identical farms: one cliff
    assert len(exit_months(tmp_path, 0.3, 0.2)) >= 6  # farm by farm, dearest first


def grey_share(**overrides) -> float:
    _, table = run(months=36, seed=3, **{**PROFITABLE, "mining.initial_farms": 10, "investors.count": 5,
                                         "mining.grey_power_price_usd_per_kwh": 0.02, **overrides})
    return float(table["grey_load_share"].mean())


def test_dearer_licences_push_mining_grey_and_enforcement_pulls_it_back():
    # half the farms (mining.grey_power_access_share) could get off-meter power; only they may go grey
    cheap, dear = grey_share(), grey_share(**{"policy.license_fee_usd": 3_000_000.0})
    assert dear > cheap + 0.1
    assert grey_share(**{"policy.license_fee_usd": 3_000_000.0, "state_capacity.grey_mining_detection_probability": 0.3}) < dear - 0.1


def test_a_licence_cap_sends_the_rest_grey():
    assert grey_share(**{"policy.license_cap": 2}) > grey_share() + 0.1


# ---------------------------------------------------------------------------------------
# Adoption as surveyed
# ---------------------------------------------------------------------------------------
def test_a_bonus_campaign_front_loads_downloads():
    campaign = {"policy.wallet_bonus_usd": 30.0, "policy.bonus_budget_usd": 1e9, "population.internet_access_share": 1.0,
                "adoption.bonus_innovation_multiplier": 60.0, "adoption.bonus_pull_half_life_months": 1.0,
                "adoption.imitation_q": 0.05, "population.citizens": 2_000}
    _, table = run(months=12, **campaign)
    downloads = table["new_adopters"].to_numpy(dtype=float)
    assert downloads[0] / downloads.sum() > 0.3
    assert downloads[6:].sum() / downloads.sum() < 0.15


def test_never_adopters_never_download_whatever_the_bonus():
    model, table = run(months=24, **{**ADOPTING, "adoption.never_adopter_share": 0.3, "policy.wallet_bonus_usd": 30.0,
                                     "policy.bonus_budget_usd": 1e9})
    population = model.population
    assert not population.ever_downloaded[population.never_adopts].any()
    assert table["ever_downloaded_share"].iloc[-1] <= 0.7 + 1e-9


def test_a_budget_too_small_for_one_simulated_citizen_offers_no_bonus_and_no_pull():
    # 300 citizens for 4.6 million adults: one citizen's bonus costs $460k, the budget is $64k
    nation = {"population.people_represented": 4_600_000, "policy.wallet_bonus_usd": 30.0}
    _, tiny_budget = run(seed=7, **nation, **{"policy.bonus_budget_usd": 64_000.0})
    _, no_bonus = run(seed=7, **{"population.people_represented": 4_600_000})
    assert total(tiny_budget, "bonus_outlay_usd") == 0.0
    pd.testing.assert_series_equal(tiny_budget["ever_downloaded_share"], no_bonus["ever_downloaded_share"])


def test_counts_of_wallets_nest_ever_downloaded_holding_active():
    _, table = run(months=36, **{**ADOPTING, "policy.wallet_bonus_usd": 30.0, "policy.bonus_budget_usd": 1e9})
    assert (table["ever_downloaded_share"] >= table["wallet_share"]).all()
    assert (table["wallet_share"] >= table["active_share"]).all()
    assert table["ever_downloaded_share"].is_monotonic_increasing
    assert (table["paid_last_12_months_share"] <= table["ever_downloaded_share"]).all()


def test_merchants_accepting_and_merchants_with_sales_are_counted_apart():
    _, table = run(months=24, **{**ADOPTING, "policy.payment_regime": "legal_tender",
                                 "merchants.legal_tender_compliance": 0.5, "population.citizens": 1_000})
    assert (table["merchant_sale_last_12_months_share"] <= table["merchant_accept_share"].cummax() + 1e-9).all()
    assert table["merchant_sale_last_12_months_share"].iloc[-1] > 0
    converted = table["receipts_converted_share"].dropna()
    assert converted.between(0, 1).all() and converted.iloc[-1] > 0.5  # most do not trust the coin enough to keep it


def test_initial_holders_start_with_wallets():
    _, table = run(months=1, **{"population.initial_holder_share": 0.2, "adoption.innovation_p": 0.0,
                                "adoption.imitation_q": 0.0})
    assert 0.12 < table["ever_downloaded_share"].iloc[0] < 0.28


# ---------------------------------------------------------------------------------------
# The grid and events measured in days
# ---------------------------------------------------------------------------------------
def test_a_one_week_power_cut_takes_a_quarter_of_the_month_from_miners():
    cut = [{"kind": "mining_power_cut", "month": 4, "days": 7}]
    _, whole = run(months=6, **PROFITABLE)
    _, week_off = run(months=6, events=cut, **PROFITABLE)
    assert week_off["mining_load_mw"].iloc[3] == pytest.approx(whole["mining_load_mw"].iloc[3] * (1 - 7 / DAYS_PER_MONTH))
    assert week_off["mining_load_mw"].iloc[:3].equals(whole["mining_load_mw"].iloc[:3])


def test_a_five_day_internet_shutdown_takes_that_share_of_the_months_chances():
    shutdown = [{"kind": "internet_shutdown", "month": 3, "duration_days": 5}]
    common = {**ADOPTING, "population.citizens": 2_000, "adoption.imitation_q": 0.0}
    _, normal = run(seed=2, months=4, **common)
    _, cut = run(seed=2, months=4, events=shutdown, **common)
    ratio = cut["new_adopters"].iloc[2] / normal["new_adopters"].iloc[2]
    assert 1 - 5 / DAYS_PER_MONTH - 0.15 < ratio < 1.0


def test_rationing_answers_a_shortfall_within_the_same_month():
    stressed = {**PROFITABLE, "grid.available_capacity_mw": 4_500.0, "mining.initial_farms": 60,
                "policy.ration_below_reserve_margin": 0.15, "policy.ration_cut_share": 0.5, "grid.demand_noise_sd": 0.0}
    model, table = run(months=3, **stressed)
    month, reason = model.state.policy_log[0]
    assert month == 1 and "rationing" in reason
    assert table["mining_cap_mw"].notna().iloc[0]  # the cap is in force in the month of the shortfall


# ---------------------------------------------------------------------------------------
# The recorded market
# ---------------------------------------------------------------------------------------
def test_the_recorded_history_is_complete_monthly_2019_to_2025():
    history = load_market_history()
    assert str(history.index[0]) == "2019-01" and str(history.index[-1]) == "2025-12" and len(history) == 84
    assert (history["btc_price_usd"] > 0).all() and (history["world_hashrate_ehs"] > 0).all()


@pytest.mark.parametrize("text, problem", [
    ("month,btc_price_usd\n2020-01,1\n", "lacks column"),
    ("month,btc_price_usd,world_hashrate_ehs\n", "no rows"),
    ("month,btc_price_usd,world_hashrate_ehs\n2020-13,1,1\n", "YYYY-MM"),
    ("month,btc_price_usd,world_hashrate_ehs\n2020-01,1,1\n2020-01,2,2\n", "twice"),
    ("month,btc_price_usd,world_hashrate_ehs\n2020-01,1,1\n2020-03,2,2\n", "consecutive"),
    ("month,btc_price_usd,world_hashrate_ehs\n2020-01,-5,1\n", "positive"),
    ("month,btc_price_usd,world_hashrate_ehs\n2020-01,abc,1\n", "positive"),
])
def test_a_malformed_history_file_is_refused_with_one_line(tmp_path, text, problem):
    path = tmp_path / "history.csv"
    path.write_text(text)
    with pytest.raises(ConfigError) as refused:
        load_market_history(str(path))
    message = str(refused.value)
    assert problem in message and "\n" not in message and str(path) in message


def test_past_episodes_run_on_the_record_then_simulate():
    raw = {"start_month": "2025-06", "months": 12, "market": {"use_history": True}, "population": {"citizens": 50},
           "mining": {"initial_farms": 0}, "investors": {"count": 0}}
    model = CryptoEconomy(scenario_from_dict(raw), seed=1)
    history = load_market_history()
    recorded = history.loc[pd.Period("2025-05", "M") : pd.Period("2025-12", "M"), "btc_price_usd"].to_numpy()
    assert np.allclose(model.market.price_path_usd[:8], recorded)  # months 0-7: May-Dec 2025 as recorded
    assert not np.allclose(model.market.price_path_usd[8:], recorded[-1])  # then a simulated path
    table = model.run()
    assert table["world_hashrate_ehs"].iloc[0] == pytest.approx(history.at[pd.Period("2025-06", "M"), "world_hashrate_ehs"])


@pytest.mark.parametrize("drift_of", ["median", "mean"])
def test_the_block_bootstrap_resamples_recorded_returns_with_the_drift_replaced(drift_of):
    raw = {"months": 120, "market": {"price_process": "block_bootstrap", "price_drift_annual": 0.0, "price_drift_of": drift_of},
           "population": {"citizens": 50}}
    path = CryptoEconomy(scenario_from_dict(raw), seed=3).market.price_path_usd
    again = CryptoEconomy(scenario_from_dict(raw), seed=3).market.price_path_usd
    assert np.array_equal(path, again)
    recorded = np.diff(np.log(load_market_history()["btc_price_usd"].to_numpy()))
    # median-flat: the recorded returns recentred on zero; mean-flat: also less half their variance
    shift = -recorded.mean() - (0.5 * recorded.var() if drift_of == "mean" else 0.0)
    simulated = np.diff(np.log(path))
    assert np.isin(np.round(simulated - shift, 9), np.round(recorded, 9)).all()


def test_policies_see_the_same_world_market_on_the_same_seed():
    _, ban = run(seed=8, **{"policy.payment_regime": "ban", "mining.initial_farms": 0, "investors.count": 0})
    _, open_ = run(seed=8, **{"policy.payment_regime": "legal_tender", "mining.initial_farms": 0, "investors.count": 0})
    assert ban["btc_price_usd"].equals(open_["btc_price_usd"])
    assert ban["world_hashrate_ehs"].equals(open_["world_hashrate_ehs"])


# ---------------------------------------------------------------------------------------
# Common random numbers survive policies that change how many agents draw
# ---------------------------------------------------------------------------------------
def test_relocation_rounds_do_not_shift_the_order_investors_are_shuffled_in():
    wave = [{"kind": "relocation_wave", "month": 2, "hashrate_ehs": 5.0, "duration_months": 4}]
    rich = {**PROFITABLE, "investors.capital_usd_per_investor": 1e9}
    taken, _ = run(months=12, events=wave, **rich)
    refused, _ = run(months=12, events=wave, **rich, **{"investors.relocation_cost_usd_per_th": 1e6})
    assert taken.farms_ever_built > refused.farms_ever_built  # the waves were taken in one run only
    assert taken.random.getstate() == refused.random.getstate()  # Mesa's shuffles stayed in step


def test_a_farms_enforcement_draw_is_its_own_whatever_other_farms_exist():
    model = CryptoEconomy(scenario(months=1), seed=4)
    first = model.streams.keyed_uniform("enforcement", 7, 3)
    model.streams.enforcement.random(1000)  # other draws in between change nothing
    assert model.streams.keyed_uniform("enforcement", 7, 3) == first
    assert 0.0 <= first < 1.0 and model.streams.keyed_uniform("enforcement", 7, 4) != first


def test_capital_controls_close_the_bank_route_to_the_same_savers_every_month():
    # complete information control: nobody learns of wallets, not even to move money out
    motive = {**ADOPTING, "economy.parallel_rate_lcu_per_usd": 6.0, "policy.information_control": 1.0}
    model, table = run(months=36, **motive, **{"policy.capital_controls": 0.9})
    blocked = model.population.bank_route_draw < 0.9
    # with no wallets, only the tenth with the bank route open ever moves money
    assert total(table, "capital_flight_usd") == 0 and total(table, "official_outflow_usd") > 0
    start = model.population.income_usd_per_month * scenario().population.savings_months_of_income
    saved = model.population.saving_usd_per_month * 36
    assert np.allclose(model.population.savings_usd[blocked], (start + saved)[blocked])


def test_enforcement_against_crypto_outflows_cuts_crypto_flight_but_not_bank_outflows():
    motive = {**ADOPTING, "economy.parallel_rate_lcu_per_usd": 3.0, "policy.capital_controls": 0.9}
    _, lax = run(seed=6, months=36, **motive)
    _, policed = run(seed=6, months=36, **motive, **{"state_capacity.crypto_flight_enforcement": 1.0})
    # enforcement raises the crypto route's one-off cost, which lowers savers' targets abroad
    assert total(policed, "capital_flight_usd") < 0.9 * total(lax, "capital_flight_usd")


# ---------------------------------------------------------------------------------------
# Licences, caps and what farms expect
# ---------------------------------------------------------------------------------------
def test_a_licence_fee_a_farm_cannot_earn_makes_it_sell_up_not_run_into_debt():
    dear = {**PROFITABLE, "policy.license_fee_usd": 20_000_000.0, "mining.grey_power_access_share": 0.0,
            "investors.count": 0, "mining.initial_cash_months_of_revenue": 30.0}
    model, table = run(months=24, **dear)
    # the fee is part of what a licensed farm expects to earn: far more than its margin, so it sells
    assert model.ledger.total_flows.get("bad_debt", 0.0) == 0.0
    assert model.miner_exits.get("bankrupt", 0) == 0 and model.miner_exits.get("sold_up", 0) > 0


def test_a_licensed_farm_that_cannot_pay_its_renewal_gives_the_licence_up():
    model = CryptoEconomy(scenario(months=13, **{**PROFITABLE, "mining.initial_farms": 1, "investors.count": 0,
                                                  "mining.grey_power_access_share": 1.0,
                                                  "mining.grey_power_price_usd_per_kwh": 0.2}), seed=1)  # licensed pays better
    for _ in range(11):
        model.step()
    farm = next(iter(model.miners))
    assert farm.licensed
    model.ledger.transfer("test_withdrawal", farm.account, "domestic_economy", farm.cash_usd - 1.0)
    model.state.change_policy({"license_fee_usd": 1_000.0}, "a fee the farm cannot pay")
    model.step()  # month 12: the anniversary
    assert not farm.licensed and model.ledger.total_flows.get("bad_debt", 0.0) == 0.0


def test_investors_stop_building_once_a_rationing_cap_is_shared_too_thinly():
    capped = {**PROFITABLE, "mining.initial_farms": 10, "policy.mining_cap_mw": 100.0}
    _, table = run(months=24, **capped)
    _, open_grid = run(months=24, **{**capped, "policy.mining_cap_mw": "none"})
    # each new farm counts its own claim on the cap, so entry stops while the uncapped grid keeps growing;
    # what still enters replaces older, hungrier farms that the cap's share no longer pays to keep
    assert total(table, "fdi_inflow_usd") < 0.6 * total(open_grid, "fdi_inflow_usd")
    assert table["fdi_inflow_usd"].iloc[-8:].sum() < 0.25 * open_grid["fdi_inflow_usd"].iloc[-8:].sum()
    assert (table["mining_load_mw"] <= 100.0 + 1e-9).all()


def test_grey_by_choice_and_coin_exports_are_reported_as_defined():
    model, table = run(months=24, **{**PROFITABLE, "policy.license_cap": 3, "mining.initial_farms": 8,
                                     "policy.domestic_sale_share": 0.5})
    assert (table["grey_by_choice_miners"] <= table["grey_miners"]).all()
    flows = model.ledger.total_flows
    assert total(table, "coin_exports_usd") == pytest.approx(flows["mining_revenue"] - flows["domestic_coin_sales"])


# ---------------------------------------------------------------------------------------
# A bonus draws in those whose cost of adopting it covers; licensed platforms; the special zone
# ---------------------------------------------------------------------------------------
def test_a_bonus_draws_in_only_those_whose_cost_of_adopting_it_covers():
    from cryptoabm.rules.citizens import bonus_covers_adoption_cost

    costs = np.array([10.0, 30.0, 31.0, 100.0])  # USD: each adult's cost of adopting (tests/test_households.py)
    assert bonus_covers_adoption_cost(30.0, costs).tolist() == [True, True, False, False]
    assert bonus_covers_adoption_cost(100.0, costs).tolist() == [True, True, True, True]


def test_a_larger_bonus_draws_in_more_adopters_on_the_same_seed():
    bonus = {"policy.payment_regime": "legal_tender", "population.internet_access_share": 1.0,
             "population.income_median_usd_per_month": 300.0, "adoption.bonus_innovation_multiplier": 60.0}
    downloads = []
    for size in (10.0, 30.0, 100.0):
        _, table = run(months=12, **bonus, **{"policy.wallet_bonus_usd": size, "policy.bonus_budget_usd": 1e9})
        downloads.append(table["ever_downloaded_share"].iloc[-1])
    assert downloads[0] < downloads[1] < downloads[2]


def test_licensed_platforms_draw_flows_from_peer_to_peer_without_changing_the_total():
    fleeing = {"economy.parallel_rate_lcu_per_usd": 3.0, "policy.capital_controls": 1.0,
               "population.initial_holder_share": 0.5, "population.internet_access_share": 1.0,
               "capital_flight.p2p_leakage_share": 0.9}
    _, loose = run(months=24, **fleeing)
    _, pulled = run(months=24, **fleeing, **{"policy.licensed_platform_pull": 0.5})
    assert total(pulled, "capital_flight_usd") == pytest.approx(total(loose, "capital_flight_usd"))
    # 10% of each outflow goes through licensed platforms, then 10% + 0.5 x 90% = 55%
    assert total(loose, "licensed_platform_outflow_usd") == pytest.approx(0.1 * total(loose, "capital_flight_usd"))
    assert total(pulled, "licensed_platform_outflow_usd") == pytest.approx(0.55 * total(pulled, "capital_flight_usd"))


def test_zone_investment_is_foreign_direct_investment_and_its_tax_holiday_costs_the_state():
    from cryptoabm.config import InvestorConfig, Policy
    from cryptoabm.rules.investment import zone_venture_return_annual

    investors = InvestorConfig(sez_venture_return_annual=0.2)
    assert zone_venture_return_annual(investors, Policy(sez_tax_holiday=True, mining_profit_tax_rate=0.2)) == 0.2
    assert zone_venture_return_annual(investors, Policy(sez_tax_holiday=False, mining_profit_tax_rate=0.2)) \
        == pytest.approx(0.16)
    zone = {"policy.sez_active": True, "policy.sez_share_of_new_farms": 0.0, "investors.sez_venture_return_annual": 0.3,
            "mining.initial_farms": 0,
            "investors.investment_probability_per_month": 1.0}
    holiday_model, holiday = run(months=24, **zone, **{"policy.sez_tax_holiday": True})
    taxed_model, taxed = run(months=24, **zone, **{"policy.sez_tax_holiday": False})
    assert total(holiday, "zone_fdi_inflow_usd") > 0
    assert (holiday["zone_fdi_inflow_usd"] <= holiday["fdi_inflow_usd"] + 1e-6).all()
    assert holiday_model.ledger.total_flows["zone_fdi"] == pytest.approx(total(holiday, "zone_fdi_inflow_usd"))
    # the same ventures (0.3 x 0.8 = 0.24 still clears the hurdle) pay profit tax only without the holiday
    assert total(taxed, "zone_fdi_inflow_usd") == pytest.approx(total(holiday, "zone_fdi_inflow_usd"))
    # the tax is the state's, in the fiscal account, but not revenue from mining
    assert total(taxed, "zone_venture_tax_usd") > 0 and total(holiday, "zone_venture_tax_usd") == 0
    assert total(taxed, "state_revenue_usd") == pytest.approx(total(holiday, "state_revenue_usd"))
    assert total(taxed, "fiscal_net_usd") - total(holiday, "fiscal_net_usd") == pytest.approx(
        total(taxed, "zone_venture_tax_usd"), rel=1e-9)
    assert total(taxed, "profit_repatriation_usd") < total(holiday, "profit_repatriation_usd")
