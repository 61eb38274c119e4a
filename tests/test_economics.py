"""What each policy lever does, stated as the economics it encodes."""

import numpy as np
import pytest

from cryptoabm.model import CryptoEconomy
from tests.conftest import run, scenario

# A lively setting in which miners profit and citizens adopt, so that levers have bite.
PROFITABLE = {"market.price_volatility_annual": 0.0, "market.btc_price_usd": 120_000.0,
              "policy.miner_tariff_usd_per_kwh": 0.03}
ADOPTING = {"adoption.innovation_p": 0.02, "adoption.imitation_q": 0.4, "population.internet_access_share": 1.0}
# savers with a motive to move money out: the street pays three times the official rate for a dollar
MOTIVE = {"economy.parallel_rate_lcu_per_usd": 3.0}


def test_under_a_payment_ban_nobody_pays_and_no_merchant_accepts():
    _, table = run(**ADOPTING, **{"policy.payment_regime": "ban"})
    assert table["wallet_share"].iloc[-1] > 0.1  # wallets may still be held
    assert (table["crypto_payment_share"] == 0).all()
    assert (table["merchant_accept_share"] == 0).all()


def test_legal_tender_makes_complying_merchants_accept_at_once():
    model, table = run(months=3, **ADOPTING, **{"policy.payment_regime": "legal_tender",
                                                "merchants.legal_tender_compliance": 0.5})
    population = model.population
    assert population.accepts_crypto[population.complies_with_mandate].all()
    assert table["merchant_accept_share"].iloc[0] >= population.complies_with_mandate.sum() / population.is_merchant.sum()


def test_a_wallet_bonus_raises_adoption_and_is_paid_from_the_budget():
    # $100 covers the cost of adopting (0.7% of annual income) for all but the richest citizens
    _, without = run(seed=3)
    _, with_bonus = run(seed=3, **{"policy.wallet_bonus_usd": 100.0, "policy.bonus_budget_usd": 100.0 * 300})
    assert with_bonus["ever_downloaded_share"].iloc[-1] > 2 * without["ever_downloaded_share"].iloc[-1]
    assert with_bonus["bonus_outlay_usd"].sum() <= 100.0 * 300
    assert with_bonus["bonus_outlay_usd"].sum() == pytest.approx(100.0 * with_bonus["new_adopters"].iloc[:1].sum() +
                                                                 with_bonus["bonus_outlay_usd"].iloc[1:].sum())


def test_bonus_stops_when_the_budget_runs_out():
    _, table = run(**ADOPTING, **{"policy.wallet_bonus_usd": 30.0, "policy.bonus_budget_usd": 600.0})
    assert table["bonus_outlay_usd"].sum() == pytest.approx(600.0)


def test_holders_drop_out_once_the_bonus_is_spent_when_the_wallet_has_no_use():
    # El Salvador's pattern: a burst of downloads, then most stop using the wallet.
    model, table = run(months=24, **{"policy.payment_regime": "ban", "policy.wallet_bonus_usd": 100.0,
                                     "policy.bonus_budget_usd": 100.0 * 300, "adoption.store_of_value_share": 0.0})
    assert table["ever_downloaded_share"].iloc[-1] > 0.1
    assert table["active_share"].iloc[-1] < 0.25 * table["ever_downloaded_share"].iloc[-1]


def test_information_control_slows_adoption():
    _, open_country = run(seed=2, **ADOPTING)
    _, controlled = run(seed=2, **ADOPTING, **{"policy.information_control": 0.9})
    assert controlled["wallet_share"].iloc[-1] < open_country["wallet_share"].iloc[-1]


def test_an_internet_shutdown_stops_adoption_payments_and_flight_while_it_lasts():
    events = [{"kind": "internet_shutdown", "month": 5, "duration_months": 3}]
    _, table = run(**ADOPTING, events=events, **{"policy.payment_regime": "voluntary"})
    down = table[table["month"].between(5, 7)]
    assert (down["new_adopters"] == 0).all()
    assert (down["crypto_payment_share"] == 0).all() and (down["capital_flight_usd"] == 0).all()
    # and resumes once it is over (about 5 adopters a month expected here: three months of none
    # would be a 1-in-10^7 event)
    assert table[table["month"].between(8, 10)]["new_adopters"].sum() > 0


def test_licences_never_exceed_the_cap_and_refused_entrants_go_grey_or_stay_away():
    _, table = run(**PROFITABLE, **{"policy.license_cap": 2, "state_capacity.grey_mining_detection_probability": 0.0})
    assert (table["licensed_miners"] <= 2).all()
    assert table["grey_miners"].max() > 0  # with no enforcement, grey farms pay


def test_enforcement_shuts_grey_farms_and_seizes_their_cash():
    model, table = run(**PROFITABLE, **{"policy.license_cap": 0, "mining.initial_farms": 10,
                                        "state_capacity.grey_mining_detection_probability": 1.0, "investors.count": 0})
    assert table["grey_miners"].iloc[0] == 0 and model.miner_exits.get("seized", 0) == 10
    assert model.ledger.total_flows["seizure"] > 0


def test_a_domestic_sale_rule_keeps_foreign_miners_profit_at_home():
    base = {**PROFITABLE, "mining.initial_foreign_share": 1.0, "investors.count": 2,
            "mining.max_new_mw_per_month": 0.0,
            "mining.grey_power_access_share": 0.0}  # every farm stays licensed, so the rule binds on all
    _, free = run(**base)
    _, rule = run(**base, **{"policy.domestic_sale_share": 0.75})
    # in the first month (same farms, same prices) a quarter of the profit may leave; a little less,
    # since coins sold locally fetch 2% less (mining.domestic_sale_discount_share)
    assert rule["profit_repatriation_usd"].iloc[0] == pytest.approx(0.25 * free["profit_repatriation_usd"].iloc[0], rel=0.05)
    assert rule["profit_repatriation_usd"].iloc[0] < 0.25 * free["profit_repatriation_usd"].iloc[0]
    # later the retained profit buys rigs, so the gap narrows but stays
    assert rule["profit_repatriation_usd"].sum() < 0.75 * free["profit_repatriation_usd"].sum()
    assert rule["domestic_coin_sales_usd"].sum() > 0


def test_miners_idle_when_power_costs_more_than_mining_earns():
    _, table = run(**{**PROFITABLE, "policy.miner_tariff_usd_per_kwh": 0.5, "mining.grey_power_price_usd_per_kwh": 0.5})
    assert (table["mining_load_mw"] == 0).all()
    assert (table["miners"].iloc[-1] == 0)  # and sell up: idle rigs are worth more sold than kept


def test_investors_bring_fdi_when_mining_pays_and_stay_away_when_it_does_not():
    _, good = run(**PROFITABLE)
    _, bad = run(**{**PROFITABLE, "policy.miner_tariff_usd_per_kwh": 0.2, "mining.grey_power_price_usd_per_kwh": 0.2})
    assert good["fdi_inflow_usd"].sum() > 0 and bad["fdi_inflow_usd"].sum() == 0


def test_relocation_wave_brings_hashrate_and_in_kind_fdi():
    wave = [{"kind": "relocation_wave", "month": 2, "hashrate_ehs": 5.0, "duration_months": 4}]
    # sites for the wave's 150 MW, and greenfield farms that take longer than the run to build
    sites = {"mining.max_new_mw_per_month": 100.0, "mining.entry_lag_months": 36}
    _, calm = run(**PROFITABLE, **sites)
    _, influx = run(**PROFITABLE, events=wave, **sites)
    assert influx["hashrate_ehs"].max() > calm["hashrate_ehs"].max() + 3.0
    assert influx["fdi_inflow_usd"].sum() > calm["fdi_inflow_usd"].sum()


def test_miners_last_priority_never_leaves_households_short_because_of_miners():
    stressed = {**PROFITABLE, "grid.available_capacity_mw": 4_000.0, "mining.initial_farms": 60,
                "grid.demand_noise_sd": 0.0}
    _, last = run(**stressed, **{"policy.miner_grid_priority": "last"})
    _, equal = run(**stressed, **{"policy.miner_grid_priority": "equal"})
    assert last["curtailed_mwh"].sum() > 0
    assert last["unserved_mwh"].sum() < equal["unserved_mwh"].sum()


def test_adaptive_rationing_caps_miners_when_the_reserve_margin_is_thin():
    stressed = {**PROFITABLE, "grid.available_capacity_mw": 4_500.0, "mining.initial_farms": 60,
                "policy.ration_below_reserve_margin": 0.15, "policy.ration_cut_share": 0.5}
    model, table = run(**stressed)
    assert table["mining_cap_mw"].notna().any()
    capped = table[table["mining_cap_mw"].notna()]
    assert (capped["mining_load_mw"] <= capped["mining_cap_mw"] + 1e-9).all()
    assert any("rationing" in reason for _, reason in model.state.policy_log)


def test_capital_controls_raise_flight_and_outflow_limits_cut_it():
    flighty = {**ADOPTING, **MOTIVE}
    _, open_account = run(seed=4, **flighty)
    _, controls = run(seed=4, **flighty, **{"policy.capital_controls": 1.0})
    _, limited = run(seed=4, **flighty, **{"policy.capital_controls": 1.0,
                                           "policy.crypto_outflow_limit_usd_per_month": 10.0})
    assert controls["capital_flight_usd"].sum() > open_account["capital_flight_usd"].sum()
    assert limited["capital_flight_usd"].sum() < controls["capital_flight_usd"].sum()


def test_adaptive_outflow_rule_tightens_the_limit_after_heavy_flight():
    # the bank route closed: with it open, a parallel premium is a rent savers take through the bank
    model, _ = run(**ADOPTING, **MOTIVE, **{"policy.capital_controls": 1.0,
                                  "policy.tighten_outflows_above_usd_per_month": 1.0,
                                  "policy.tightened_outflow_limit_usd_per_month": 25.0})
    assert model.state.policy.crypto_outflow_limit_usd_per_month == 25.0


def test_a_special_zone_tax_holiday_means_no_profit_tax_from_zone_farms():
    zone = {**PROFITABLE, "mining.initial_farms": 0, "policy.sez_active": True, "policy.sez_tax_holiday": True,
            "policy.sez_share_of_new_farms": 1.0}
    model, table = run(**zone)
    assert table["fdi_inflow_usd"].sum() > 0
    assert model.ledger.total_flows.get("profit_tax", 0.0) == 0.0
    assert all(miner.in_special_zone for miner in model.miners)


def test_scheduled_policy_change_and_legal_tender_reversal_take_effect_in_their_month():
    events = [{"kind": "policy", "month": 3, "set": {"license_cap": 0}},
              {"kind": "legal_tender_reversal", "month": 6, "new_regime": "ban"}]
    model = CryptoEconomy(scenario(events=events, **{"policy.payment_regime": "legal_tender",
                                                     "policy.wallet_bonus_usd": 30.0,
                                                     "policy.bonus_budget_usd": 1e6}), seed=1)
    table = model.run()
    assert list(table["payment_regime"].iloc[4:6]) == ["legal_tender", "ban"]
    assert model.state.policy.license_cap == 0
    assert model.state.policy.wallet_bonus_usd == 0.0
    assert (table["merchant_accept_share"].iloc[5:] == 0).all()
    assert table["bonus_outlay_usd"].iloc[5:].sum() == 0


def test_price_shock_moves_the_price_from_its_month_on():
    events = [{"kind": "price_shock", "month": 4, "factor": 0.5}]
    calm, _ = run(seed=9)
    shocked, _ = run(seed=9, events=events)
    ratio = shocked.market.price_path_usd / calm.market.price_path_usd
    assert np.allclose(ratio[:4], 1.0) and np.allclose(ratio[4:], 0.5)


def test_each_citizen_stands_for_many_adults_in_every_money_flow_but_not_in_shares():
    flighty = {**ADOPTING, **MOTIVE,
               "policy.wallet_bonus_usd": 30.0, "policy.bonus_budget_usd": 1e9}
    model_one, one = run(seed=6, **flighty)
    model_many, many = run(seed=6, **flighty, **{"population.people_represented": 300_000})
    assert many["wallet_share"].equals(one["wallet_share"])
    assert many["capital_flight_usd"].sum() == pytest.approx(1_000 * one["capital_flight_usd"].sum())
    assert many["bonus_outlay_usd"].sum() == pytest.approx(1_000 * one["bonus_outlay_usd"].sum())
    assert model_many.ledger_imbalance_usd() <= 1e-9 * sum(model_many.ledger.total_flows.values())


def test_a_bonus_budget_for_the_nation_runs_out_at_the_national_scale():
    # 300 simulated citizens standing for 3,000 adults; a budget for 600 adults pays 60 citizens.
    _, table = run(**ADOPTING, **{"population.people_represented": 3_000, "policy.wallet_bonus_usd": 30.0,
                                  "policy.bonus_budget_usd": 30.0 * 600})
    assert table["bonus_outlay_usd"].sum() == pytest.approx(30.0 * 600)


def test_only_citizens_who_can_claim_the_bonus_are_drawn_in_by_it():
    common = {"policy.wallet_bonus_usd": 30.0, "policy.bonus_budget_usd": 1e9, "adoption.imitation_q": 0.0,
              "population.internet_access_share": 1.0, "population.citizens": 2_000, "months": 6}
    model, _ = run(seed=2, **common, **{"policy.bonus_eligible_max_income_usd_per_month": 300.0})
    population = model.population
    poor = population.income_usd_per_month <= 300.0
    assert population.has_wallet[poor].mean() > 3 * population.has_wallet[~poor].mean()


def test_the_adaptive_outflow_rule_never_loosens_a_stricter_limit():
    model, _ = run(**ADOPTING, **MOTIVE, **{
                                  "policy.crypto_outflow_limit_usd_per_month": 10.0,
                                  "policy.tighten_outflows_above_usd_per_month": 1.0,
                                  "policy.tightened_outflow_limit_usd_per_month": 25.0})
    assert model.state.policy.crypto_outflow_limit_usd_per_month == 10.0


def test_a_scheduled_policy_change_weighs_on_investors_for_the_full_memory():
    events = [{"kind": "policy", "month": 2, "set": {"license_fee_usd": 1.0}}]
    model = CryptoEconomy(scenario(events=events, **{"investors.policy_change_memory_months": 12}), seed=1)
    ages = []
    for _ in range(14):
        model.step()
        ages.append(model.state.months_since_policy_change)
    assert ages[1] == 0 and ages[13] == 12  # month 2 is age 0; month 14 is the first month free of it


def test_investors_expect_the_curtailment_they_have_seen():
    common = {**PROFITABLE, "mining.initial_farms": 4}
    model_open, open_grid = run(**common)
    model_rationed, rationed = run(**common, **{"policy.mining_cap_mw": 5.0})
    assert rationed["fdi_inflow_usd"].sum() < open_grid["fdi_inflow_usd"].sum() / 2
    # in month 2, after seeing farms get 5 MW of the 40+ they asked for, nobody builds
    assert rationed["fdi_inflow_usd"].iloc[1] == 0 and rationed["curtailed_mwh"].iloc[0] > 0


def test_the_word_none_lifts_a_cap_in_a_scheduled_event():
    events = [{"kind": "policy", "month": 6, "set": {"mining_cap_mw": "none", "license_cap": "none"}}]
    model, table = run(events=events, **{**PROFITABLE, "policy.mining_cap_mw": 0.0, "policy.license_cap": 1})
    assert (table["mining_load_mw"].iloc[:5] == 0).all() and table["mining_load_mw"].iloc[5:].max() > 0
    assert model.state.policy.mining_cap_mw is None and model.state.policy.license_cap is None


def test_citizens_with_a_lasting_use_keep_using_their_wallets():
    common = {"policy.payment_regime": "ban", "policy.wallet_bonus_usd": 100.0, "policy.bonus_budget_usd": 1e6,
              "adoption.store_of_value_share": 0.0,
              "population.internet_access_share": 1.0, "population.citizens": 2_000}
    _, fading = run(seed=3, **common)
    _, lasting = run(seed=3, **common, **{"adoption.lasting_use_share": 0.2})
    assert fading["active_share"].iloc[-1] < 0.05 * fading["ever_downloaded_share"].iloc[-1]
    # about 20% of adopters have a lasting use; they drift away at 1% a month
    ratio = lasting["active_share"].iloc[-1] / lasting["ever_downloaded_share"].iloc[-1]
    assert 0.12 < ratio < 0.25


def test_special_zone_ventures_absorb_no_more_than_the_zone_can_take():
    zone = {"policy.sez_active": True, "investors.sez_venture_return_annual": 0.5,
            "investors.sez_ventures_capacity_usd": 20_000_000.0, "investors.sez_venture_size_usd": 5_000_000.0}
    model, table = run(**zone)
    stakes = sum(investor.sez_stake_usd for investor in model.investors)
    assert stakes == pytest.approx(20_000_000.0)
