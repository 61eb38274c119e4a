"""Households (issue 18): capital flight as a portfolio choice, and wallet adoption and lasting
use that depend on who adopts and why.

Capital flight: each saver has a target foreign share of wealth that rises with the expected
loss on local assets and falls with the cost of the route open to them; flight is the
adjustment toward it, so it tapers. The parallel premium is a rent to those who convert at the
official rate and expected depreciation to the rest; the inflation gap is counted once. Where the
rates differ the official rate is rationed by the central bank's dollar allocation, which bounds
the rent; with none (Turkmenistan's ban on converting at banks) nobody converts at it.

Adoption: the cost of adopting is a dollar cost, higher for the unbanked (who are mostly the
poorer), so a bonus draws in the better-off first; bonus-driven adopters find a lasting use less
often, so the share of downloaders still active a year on falls as the bonus grows.
"""

from __future__ import annotations

import numpy as np
import pytest

from cryptoabm.config import AdoptionConfig, CapitalFlightConfig, EconomyConfig, load_scenario
from cryptoabm.model import CryptoEconomy
from cryptoabm.rules.capital_flows import (
    expected_local_loss_annual,
    market_rate_depreciation_annual,
    official_allocation_served_share,
    official_allocation_usd_per_month,
    official_gap_closure_annual,
    official_route_gain_share,
    official_route_open,
    parallel_premium,
    rebalancing_outflow_usd,
    target_foreign_share,
)
from cryptoabm.rules.citizens import adoption_cost_usd, has_access, lasting_use_probability
from tests.conftest import CONFIGS, run

FLIGHT = CapitalFlightConfig()
# a saver in a country with a parallel premium, half of them holding a wallet, all online
FLEEING = {"economy.parallel_rate_lcu_per_usd": 3.0, "population.initial_holder_share": 0.5,
           "population.internet_access_share": 1.0, "population.citizens": 1_000}


def outflow(table) -> float:
    return float(table["capital_flight_usd"].sum() + table["official_outflow_usd"].sum())


# ---------------------------------------------------------------------------------------
# The rules
# ---------------------------------------------------------------------------------------
def test_the_inflation_gap_and_the_premium_are_each_counted_once():
    economy = EconomyConfig(official_rate_lcu_per_usd=3.5, parallel_rate_lcu_per_usd=19.0, inflation_gap_annual=0.05)
    converts = np.array([True, False])
    loss = expected_local_loss_annual(economy, FLIGHT, converts, np.ones(2))
    # every saver: the inflation gap once; only those without official access: the gap closure
    assert loss[0] == pytest.approx(market_rate_depreciation_annual(economy)) == pytest.approx(0.05)
    assert loss[1] == pytest.approx(0.05 + np.log(19.0 / 3.5) / 10.0)
    assert official_gap_closure_annual(economy) == pytest.approx(np.log(19.0 / 3.5) / 10.0)
    # those with official access earn the premium once, as a rent on each unit they move
    assert official_route_gain_share(economy, FLIGHT) == pytest.approx(19.0 / 3.5 - 1.0 - FLIGHT.official_route_cost_share)


def test_a_dollarised_economy_gives_no_motive_whatever_the_banks():
    economy = EconomyConfig(dollarisation_share=1.0, bank_trust=0.0, inflation_gap_annual=0.0)
    loss = expected_local_loss_annual(economy, FLIGHT, np.array([False, True]), np.zeros(2))
    assert (loss == 0.0).all()


def test_the_target_foreign_share_rises_with_the_gain_and_is_bounded():
    gains = np.array([-0.1, 0.0, 0.05, 0.1, 0.5, 10.0])
    target = target_foreign_share(gains, FLIGHT)
    assert target[0] == target[1] == 0.0
    assert (np.diff(target[1:]) > 0).all() and target[-1] < FLIGHT.max_foreign_share
    assert target[3] == pytest.approx(FLIGHT.max_foreign_share / 2)  # half at half_target_net_gain_annual


def test_a_saver_moves_the_gap_to_the_target_and_no_more():
    target = np.array([0.5, 0.5, 0.5])
    savings = np.array([1_000.0, 1_000.0, 100.0])
    abroad = np.array([0.0, 1_000.0, 900.0])
    # 500 to reach half; none when already above; never more than the savings at home
    assert rebalancing_outflow_usd(target, savings, abroad).tolist() == pytest.approx([500.0, 0.0, 0.0])
    assert rebalancing_outflow_usd(np.array([0.9]), np.array([100.0]), np.array([0.0]))[0] == pytest.approx(90.0)


def test_the_cost_of_adopting_is_in_dollars_averages_the_surveys_figure_and_is_higher_for_the_unbanked():
    adoption = AdoptionConfig(adoption_cost_share_of_annual_income=0.007, adoption_cost_log_sd=0.0,
                              unbanked_adoption_cost_multiplier=2.0)
    banked = np.array([True, False])
    cost = adoption_cost_usd(344.0, banked, 0.3, np.zeros(2), adoption)
    assert cost[1] == pytest.approx(2.0 * cost[0])
    assert 0.3 * cost[0] + 0.7 * cost[1] == pytest.approx(0.007 * 12 * 344.0)  # facts.md, El Salvador: adoption cost


def test_the_banked_are_mostly_the_better_off_and_access_is_the_plain_draw_without_correlation():
    rng = np.random.default_rng(1)
    income_z = rng.standard_normal(100_000)
    draws = rng.random(100_000)
    banked = has_access(income_z, draws, 0.3, 0.6)
    assert banked.mean() == pytest.approx(0.3, abs=0.01)
    assert income_z[banked].mean() > income_z[~banked].mean() + 0.5
    # with no correlation it is the plain draw, whatever the income
    assert (has_access(income_z, draws, 0.3, 0.0) == (draws < 0.3)).all()


def test_bonus_driven_and_unbanked_adopters_find_a_lasting_use_less_often():
    adoption = AdoptionConfig(lasting_use_share=0.4, unbanked_lasting_use_ratio=0.6, bonus_adopter_lasting_use_ratio=0.5)
    p = lasting_use_probability(np.array([True, True, False, False]), np.array([False, True, False, True]), adoption)
    assert p.tolist() == pytest.approx([0.4, 0.2, 0.24, 0.12])


# ---------------------------------------------------------------------------------------
# Capital flight in the model
# ---------------------------------------------------------------------------------------
def test_capital_flight_rises_with_the_premium_by_both_routes():
    totals = []
    for parallel in (1.5, 3.0, 6.0):
        _, table = run(seed=5, months=36, **{**FLEEING, "policy.capital_controls": 0.7,
                                              "economy.parallel_rate_lcu_per_usd": parallel})
        totals.append((table["capital_flight_usd"].sum(), table["official_outflow_usd"].sum()))
    crypto, bank = zip(*totals, strict=True)
    assert crypto[0] < crypto[1] < crypto[2]
    assert bank[0] < bank[1] < bank[2]


def test_tighter_controls_raise_the_crypto_share_of_flight_while_the_total_falls():
    results = []
    for controls in (0.3, 0.6, 0.9):
        _, table = run(seed=3, months=36, **{**FLEEING, "policy.capital_controls": controls})
        results.append((outflow(table), table["capital_flight_usd"].sum() / outflow(table)))
    total, crypto_share = zip(*results, strict=True)
    assert total[0] > total[1] > total[2]
    assert crypto_share[0] < crypto_share[1] < crypto_share[2]


def test_the_allocation_bounds_the_rent_and_is_ignored_where_the_rates_agree():
    dual = EconomyConfig(official_rate_lcu_per_usd=3.5, parallel_rate_lcu_per_usd=19.0)
    premium = parallel_premium(dual)
    for allocation in (0.0, 1e3, 1e6, 1e9):
        for requested in (0.0, 10.0, 1e5, 1e8, 1e11):
            served = requested * official_allocation_served_share(requested, allocation, dual)
            # the rent on what is served never exceeds the allocation times the premium
            assert premium * served <= allocation * premium + 1e-6
            assert served <= requested
    # an ample allocation serves every request in full
    assert official_allocation_served_share(100.0, 1e6, dual) == 1.0
    # no allocation closes the official route; where the rates agree the official rate is the market's
    none = CapitalFlightConfig(official_fx_allocation_usd_per_adult_year=0.0)
    assert not official_route_open(dual, none)
    assert official_route_open(EconomyConfig(), none)
    assert official_allocation_usd_per_month(EconomyConfig(), none, 1e6) == np.inf


def test_the_official_conversion_rent_never_exceeds_the_allocation_times_the_premium():
    allocation = 30.0  # USD per adult a year: far below what savers with the premium ask
    model, table = run(seed=5, months=24, **{**FLEEING, "policy.capital_controls": 0.0,
                                              "capital_flight.official_fx_allocation_usd_per_adult_year": allocation})
    monthly_allocation = allocation * model.population.size * model.population.people_per_citizen / 12
    premium = parallel_premium(model.config.economy)
    assert table["official_outflow_usd"].sum() > 0.0
    assert (table["official_conversion_rent_usd"] <= monthly_allocation * premium + 1e-6).all()
    _, unrationed = run(seed=5, months=24, **{**FLEEING, "policy.capital_controls": 0.0})
    assert table["official_conversion_rent_usd"].sum() < unrationed["official_conversion_rent_usd"].sum()


def test_with_turkmenistans_conversion_ban_nobody_moves_savings_at_the_official_rate():
    # facts.md, Turkmenistan: exchange rate (cash conversion at banks banned since 2016)
    for controls in ({}, {"policy.capital_controls": 0.0}):
        _, table = _preset("turkmenistan_2026", seed=1, months=24, **{"population.citizens": 2_000, **controls})
        assert table["official_outflow_usd"].sum() == 0.0
        assert table["official_conversion_rent_usd"].sum() == 0.0
        assert table["capital_flight_usd"].sum() > 0.0  # savers still leave, through crypto at the street rate


def test_without_a_parallel_premium_the_allocation_changes_nothing():
    distrust = {**FLEEING, "economy.parallel_rate_lcu_per_usd": 1.0, "economy.bank_trust": 0.1,
                "economy.inflation_gap_annual": 0.15, "policy.capital_controls": 0.5}
    _, free = run(seed=2, months=24, **distrust)
    _, none = run(seed=2, months=24, **{**distrust, "capital_flight.official_fx_allocation_usd_per_adult_year": 0.0})
    assert free["official_outflow_usd"].sum() > 0.0
    assert free.equals(none)


def test_a_dollarised_economy_has_next_to_no_flight_even_with_distrusted_banks_and_controls():
    dollarised = {**FLEEING, "economy.parallel_rate_lcu_per_usd": 1.0, "economy.dollarisation_share": 1.0, "economy.bank_trust": 0.2,
                  "economy.inflation_gap_annual": 0.1, "policy.capital_controls": 0.9}
    _, table = run(seed=2, months=36, **dollarised)
    assert outflow(table) == 0.0
    _, el_salvador = _preset("el_salvador_2021", seed=1, months=24)
    assert outflow(el_salvador) == 0.0


def test_flight_tapers_as_portfolios_reach_their_targets():
    # the same wallet holders throughout (nobody new adopts): flight is the stock adjusting, then
    # only new saving
    settled = {**FLEEING, "policy.capital_controls": 1.0, "adoption.innovation_p": 0.0, "adoption.imitation_q": 0.0,
               "adoption.dormant_abandon_hazard": 0.0, "policy.information_control": 1.0}
    model, table = run(seed=4, months=60, **settled)
    flight = table["capital_flight_usd"].to_numpy()
    first_year, last_year = flight[:12].sum(), flight[-12:].sum()
    assert first_year > 0 and last_year < 0.4 * first_year
    # by then the holders' foreign share is near what they target
    assert table["foreign_asset_share"].iloc[-1] > table["foreign_asset_share"].iloc[24] > table["foreign_asset_share"].iloc[0]


# ---------------------------------------------------------------------------------------
# Adoption: who adopts, and who keeps using (El Salvador)
# ---------------------------------------------------------------------------------------
def _preset(name: str, seed: int, months: int, **overrides):
    """The first ``months`` months of a preset (its later events never fire)."""
    model = CryptoEconomy(load_scenario(CONFIGS / f"{name}.toml", overrides), seed=seed)
    for _ in range(months):
        model.step()
    return model, model.results()


def test_adopters_are_better_off_than_non_adopters_as_the_surveys_found():
    # facts.md, El Salvador: who adopts (banked, educated, young, male)
    model, _ = _preset("el_salvador_2021", seed=1, months=12, **{"population.citizens": 20_000})
    population = model.population
    online = population.has_internet
    income = population.income_usd_per_month
    adopted = population.ever_downloaded & online
    assert np.median(income[adopted]) > np.median(income[online & ~population.ever_downloaded])
    quartile = np.searchsorted(np.quantile(income, [0.25, 0.5, 0.75]), income)
    downloads = [population.ever_downloaded[online & (quartile == q)].mean() for q in range(4)]
    assert downloads[3] > downloads[0]


def test_retention_a_year_on_falls_as_the_bonus_grows():
    retained = []
    for bonus in (0.0, 30.0, 100.0):
        _, table = _preset("el_salvador_2021", seed=2, months=24, **{
            "population.citizens": 20_000, "policy.wallet_bonus_usd": bonus, "policy.bonus_budget_usd": 1e12})
        retained.append(table["downloaders_active_year_on_share"].iloc[-1])
    assert retained[0] > retained[1] > retained[2]
