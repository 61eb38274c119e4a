"""Free entry into mining: the supply side's economics, stated as specifications."""


import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cryptoabm.config import MarketConfig, MiningConfig
from cryptoabm.rules.mining import expected_used_rig_value_usd_per_th
from cryptoabm.rules.entry import (
    expected_farm_npv_usd,
    expected_hashprice_path,
    expected_price_growth_annual,
    monthly_discount_factors,
    operating_value_usd_per_th,
    rig_capex_usd_per_w,
    rig_price_usd_per_th,
    sites_this_month,
    worth_keeping,
)
from cryptoabm.model import CryptoEconomy
from tests.conftest import run, scenario

MINING = MiningConfig()
# cheap power and a flat price: new farms pay, so entry is limited only by what the test varies
PAYING = {"market.price_volatility_annual": 0.0, "market.btc_price_usd": 120_000.0,
          "policy.miner_tariff_usd_per_kwh": 0.03, "months": 36}


def test_capex_per_watt_declines_over_time_and_a_th_costs_capex_times_efficiency():
    before, reference, later = (rig_capex_usd_per_w(MINING, months) for months in (-12, 0, 48))
    assert before > reference > later
    assert reference == MINING.rig_capex_usd_per_w
    assert later == pytest.approx(reference * (1 - MINING.rig_capex_decline_annual) ** 4)
    assert rig_price_usd_per_th(0.86, 17.5) == pytest.approx(15.05)  # a TH/s at 17.5 J/TH draws 17.5 W


def test_expected_hashprice_halves_its_subsidy_part_at_a_scheduled_halving_and_falls_with_difficulty():
    flat = MiningConfig(expected_hashrate_growth_annual=0.0, expected_price_growth_annual=0.0)
    ratio = np.array([1.0, 1.0, 0.5, 0.5])  # the halving comes in the third month ahead
    path = expected_hashprice_path(40.0, ratio, 0.04, 0.0, flat)
    assert path[1] == pytest.approx(40.0) and path[2] == pytest.approx(40.0 * (0.96 * 0.5 + 0.04))
    growing = expected_hashprice_path(40.0, np.ones(12), 0.04, 0.0, MiningConfig(expected_hashrate_growth_annual=0.2))
    assert growing[-1] == pytest.approx(40.0 / 1.2)


def test_a_farm_stops_rather_than_run_at_a_loss_and_its_value_is_never_negative():
    margins = np.array([5.0, 5.0, -1.0, -1.0, -1.0])
    factors = np.ones(5)
    assert operating_value_usd_per_th(margins, factors) == pytest.approx(10.0)
    assert operating_value_usd_per_th(-margins, factors) == 0.0
    # a loss worth bearing for a later gain is borne
    assert operating_value_usd_per_th(np.array([-1.0, 3.0]), np.ones(2)) == pytest.approx(2.0)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.floats(-50.0, 50.0), min_size=1, max_size=60), st.floats(0.0, 0.5))
def test_the_option_to_stop_is_worth_the_best_stopping_month(margins, hurdle):
    """Stopping as soon as carrying on is worth less than nothing is worth exactly what the best
    stopping month would give: the largest discounted cumulative margin, never less than zero.
    (This is the form in which many farms' values can be computed at once: benchmarks/ENSEMBLES.md.)"""
    margins = np.array(margins)
    factors = monthly_discount_factors(hurdle, len(margins))
    best_stop = max(0.0, float(np.max(np.cumsum(margins * factors))))
    assert operating_value_usd_per_th(margins, factors) == pytest.approx(best_stop, rel=1e-9, abs=1e-9)


def test_npv_rises_with_margins_and_falls_with_the_hurdle_and_the_lag():
    margins = np.full(48, 1.0)
    npv = expected_farm_npv_usd(margins, 1_000.0, 30_000.0, 0.2, 6)
    assert expected_farm_npv_usd(margins * 1.2, 1_000.0, 30_000.0, 0.2, 6) > npv
    assert expected_farm_npv_usd(margins, 1_000.0, 30_000.0, 0.3, 6) < npv
    assert expected_farm_npv_usd(margins, 1_000.0, 30_000.0, 0.2, 12) < npv
    undiscounted = expected_farm_npv_usd(margins, 1_000.0, 30_000.0, 0.0, 0)
    assert undiscounted == pytest.approx(48_000.0 - 30_000.0)
    assert monthly_discount_factors(0.2, 12)[-1] == pytest.approx(1 / 1.2)


def test_keeping_a_farm_compares_its_forward_value_with_its_salvage():
    assert worth_keeping(100.0, 100.0) and not worth_keeping(99.0, 100.0)


def test_site_capacity_carries_a_part_farm_over_to_next_month():
    assert sites_this_month(25.0, 10.0, 0.0) == (2, pytest.approx(5.0))
    assert sites_this_month(25.0, 10.0, 5.0) == (3, pytest.approx(0.0))
    assert sites_this_month(0.0, 10.0, 0.0) == (0, 0.0)


def test_fdi_does_not_depend_on_how_many_investors_there_are_or_how_often_they_look():
    _, base = run(**PAYING)
    _, more = run(**PAYING, **{"investors.count": 10})
    _, keener = run(**PAYING, **{"investors.investment_probability_per_month": 0.6})
    assert base["fdi_inflow_usd"].sum() > 0
    for other in (more, keener):
        assert other["fdi_inflow_usd"].sum() == pytest.approx(base["fdi_inflow_usd"].sum(), rel=0.1)
        assert other["miners"].iloc[-1] == pytest.approx(base["miners"].iloc[-1], rel=0.1)


def test_entry_is_limited_by_the_monthly_site_capacity():
    _, slow = run(**PAYING, **{"mining.max_new_mw_per_month": 10.0})
    _, fast = run(**PAYING, **{"mining.max_new_mw_per_month": 40.0})
    assert slow["miners"].diff().max() <= 1  # one 10 MW farm a month at most
    assert fast["miners"].iloc[-1] > slow["miners"].iloc[-1]


def test_with_a_licence_cap_entry_stops_at_the_cap():
    no_grey = {"state_capacity.grey_mining_detection_probability": 1.0, "mining.grey_power_access_share": 0.0}
    _, table = run(**PAYING, **no_grey, **{"policy.license_cap": 8})
    assert table["licensed_miners"].max() == 8
    assert (table["miners"] <= 8).all()
    _, uncapped = run(**PAYING, **no_grey)
    assert uncapped["miners"].iloc[-1] > 8


def test_the_number_of_farms_rises_with_a_better_hashprice():
    _, poor = run(**{**PAYING, "market.btc_price_usd": 80_000.0})
    _, rich = run(**PAYING)
    assert rich["miners"].iloc[-1] > poor["miners"].iloc[-1]
    assert rich["fdi_inflow_usd"].sum() > poor["fdi_inflow_usd"].sum()


def test_no_wave_of_sales_and_rebuilds_after_a_scheduled_halving_under_a_flat_price():
    """Farms foresee the halving: none sells up in the year after it while others are built."""
    # a price at which farms pay even after the halving, so that some are built before it
    model = CryptoEconomy(scenario(**{**PAYING, "market.btc_price_usd": 200_000.0, "market.months_to_next_halving": 12,
                                      "months": 30}), seed=1)
    model.run(months=11)
    sales_before = sum(model.miner_exits.get(reason, 0) for reason in ("sold_up", "divested"))
    farms_before = model.farms_ever_built
    table = model.run()
    sales_after = sum(model.miner_exits.get(reason, 0) for reason in ("sold_up", "divested")) - sales_before
    built_after = model.farms_ever_built - farms_before
    assert farms_before > MiningConfig().initial_farms  # farms were built before the halving
    assert table["btc_price_usd"].nunique() == 1
    assert not (sales_after > 0 and built_after > 0), (sales_after, built_after)


def test_farms_expect_the_mean_growth_of_the_models_own_price_process_unless_told_otherwise():
    """A risk-neutral farm values expected revenue, so by default it expects the MEAN price growth
    of the process the model draws prices from: a mean-flat process, none; a median-flat one at 55%
    volatility, exp(0.55^2 / 2) - 1, about 16% a year. A scenario may name another assumption."""
    default = MiningConfig()
    mean_flat = MarketConfig(price_drift_annual=0.0, price_volatility_annual=0.55, price_drift_of="mean")
    assert expected_price_growth_annual(default, mean_flat) == pytest.approx(0.0)  # the drift is the mean's
    assert expected_price_growth_annual(default, MarketConfig(price_drift_annual=0.1, price_drift_of="mean")) \
        == pytest.approx(0.1)
    median_flat = MarketConfig(price_drift_annual=0.0, price_volatility_annual=0.55)  # the default: median-flat
    assert expected_price_growth_annual(default, median_flat) == pytest.approx(np.exp(0.55**2 / 2) - 1)
    assert 0.15 < expected_price_growth_annual(default, median_flat) < 0.17
    static = MiningConfig(expected_price_growth_annual=0.0)
    assert expected_price_growth_annual(static, median_flat) == 0.0


def test_a_buyer_does_not_pay_a_years_pre_halving_margin_for_a_rig_that_earns_nothing_after_it():
    """At Kazakhstan's 2023 numbers: a 34 J/TH rig at a $75/PH/day hashprice, the halving 12 months
    ahead, after which it is out of the money at the buyer's $0.045/kWh. The market's convention
    (a year's margin) would hand the seller every dollar the rig will ever earn the buyer,
    undiscounted; the buyer pays at most its own discounted value of the rig, and shipping comes
    off what the seller gets."""
    from cryptoabm.rules.mining import cash_margin_usd_per_th_month
    mining = MiningConfig(used_rig_payback_months=12.0, scrap_value_usd_per_th=0.5)
    ratio = np.r_[np.ones(11), np.full(37, 0.5)]
    path = expected_hashprice_path(75.0, ratio, 0.0, 0.0, MiningConfig(expected_hashrate_growth_annual=0.0))
    factors = monthly_discount_factors(0.30, len(path))
    price = expected_used_rig_value_usd_per_th(path, 34.0, 0.045, mining, factors, shipping_usd_per_th=0.0)
    margins = cash_margin_usd_per_th_month(path, 34.0, 0.045, mining)
    assert margins[0] > 0 > margins[11]  # earns before the halving, loses after it
    worth_to_buyer = operating_value_usd_per_th(margins, factors)
    assert price == pytest.approx(worth_to_buyer)
    assert price < 11 * margins[0]  # under the undiscounted pre-halving margin
    shipped = expected_used_rig_value_usd_per_th(path, 34.0, 0.045, mining, factors, shipping_usd_per_th=1.0)
    assert shipped == pytest.approx(price - 1.0)
    # a rig that keeps earning is priced at the market's convention of a year's margin
    flat = expected_hashprice_path(75.0, np.ones(48), 0.0, 0.0, MiningConfig(expected_hashrate_growth_annual=0.0))
    convention = expected_used_rig_value_usd_per_th(flat, 34.0, 0.045, mining, factors, shipping_usd_per_th=0.0)
    assert convention == pytest.approx(12 * cash_margin_usd_per_th_month(75.0, 34.0, 0.045, mining))


def test_a_farm_that_still_pays_after_the_halving_is_worth_keeping_through_it():
    """A farm with the buyer's power price, whose margin halves but stays positive at the halving
    6 months ahead, is worth more running than sold: the forward-looking buyer and the seller see
    the same path, and the seller saves the shipping."""
    mining = MiningConfig(used_rig_payback_months=12.0, scrap_value_usd_per_th=0.5)
    ratio = np.r_[np.ones(6), np.full(42, 0.5)]
    path = expected_hashprice_path(120.0, ratio, 0.0, 0.0, MiningConfig(expected_hashrate_growth_annual=0.0))
    margins = cash_margin_usd_per_th_month_for_test(path)
    assert margins[-1] > 0
    own = operating_value_usd_per_th(margins, monthly_discount_factors(0.15, len(path)))
    salvage = expected_used_rig_value_usd_per_th(path, 34.0, 0.045, mining, monthly_discount_factors(0.30, len(path)), 1.0)
    assert worth_keeping(own, salvage)


def cash_margin_usd_per_th_month_for_test(path):
    from cryptoabm.rules.mining import cash_margin_usd_per_th_month
    return cash_margin_usd_per_th_month(path, 34.0, 0.045, MiningConfig())
