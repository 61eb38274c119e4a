"""Mining economics, checked against hand calculations."""

import math

import pytest

from cryptoabm.config import MarketConfig, MiningConfig
from cryptoabm.rules.mining import (
    cash_margin_usd_per_th_month,
    farm_efficiency_j_per_th,
    farm_hashrate_ths,
    goes_grey,
    grey_margin_usd_per_th_month,
    licensed_margin_usd_per_th_month,
    power_contract_factor,
    used_rig_value_usd_per_th,
    exits,
    expansion_hashrate_ths,
    fixed_cost_usd_per_th_month,
    farm_power_mw,
    hashprice_usd_per_ph_day,
    monthly_energy_mwh,
    monthly_revenue_usd,
    profit_tax_usd,
    repatriable_profit_usd,
    revenue_usd_per_mwh,
    rig_payback_months,
    runs_this_month,
    surcharge_usd,
)


NO_FEES = MarketConfig(fee_share_of_miner_revenue=0.0, blocks_per_day=144.0)
# $10,000 per MW a month is $0.2 per TH/s a month for 20 J/TH rigs (50,000 TH/s per MW)
RIGS = MiningConfig(fixed_cost_usd_per_mw_month=10_000.0, expansion_payback_months=18.0,
                    expansion_share_of_cash=0.5, max_expansion_share_per_month=0.1)
RIG_PRICE = 15.0  # USD per TH/s

def test_hashprice_for_a_known_day():
    # 3.125 BTC x 144 blocks = 450 BTC a day; at $90,000 that is $40.5m a day,
    # shared over 1,000 EH/s = 1,000,000 PH/s: $40.50 per PH/s per day.
    assert hashprice_usd_per_ph_day(90_000, 3.125, 1_000, NO_FEES) == pytest.approx(40.5)


def test_fees_gross_up_the_subsidy():
    # With fees at 4% of miners' revenue, total revenue is subsidy / 0.96.
    no_fees = hashprice_usd_per_ph_day(90_000, 3.125, 1_000, NO_FEES)
    with_fees = hashprice_usd_per_ph_day(90_000, 3.125, 1_000, MarketConfig(fee_share_of_miner_revenue=0.04))
    assert with_fees == pytest.approx(no_fees / 0.96)


def test_hashprice_halves_when_global_hashrate_doubles():
    assert hashprice_usd_per_ph_day(90_000, 3.125, 2_000, NO_FEES) == pytest.approx(40.5 / 2)


def test_farm_power_is_hashrate_times_efficiency():
    # 1 EH/s = 1,000,000 TH/s at 20 J/TH draws 20 MW.
    assert farm_power_mw(1_000_000, 20.0) == pytest.approx(20.0)


def test_revenue_per_mwh_matches_break_even_power_price():
    # $40.5/PH/day at 25 J/TH: one PH/s uses 25 kW = 0.6 MWh a day, so $67.5 per MWh,
    # i.e. break-even at $0.0675/kWh, inside the $0.05-0.12 range reported for 2024-25.
    assert revenue_usd_per_mwh(40.5, 25.0) == pytest.approx(67.5)
    assert runs_this_month(67.5, 0.06)
    assert not runs_this_month(67.5, 0.07)


def test_monthly_revenue_and_energy_scale_with_uptime():
    full = monthly_revenue_usd(40.0, 1_000_000, 1.0)
    assert monthly_revenue_usd(40.0, 1_000_000, 0.5) == pytest.approx(full / 2)
    assert full == pytest.approx(40.0 * 1_000 * 365 / 12)
    assert monthly_energy_mwh(10.0, 1.0) == pytest.approx(7_300)


def test_flat_surcharge_is_rate_times_energy():
    assert surcharge_usd(1_000, 0.002) == pytest.approx(2_000)


def test_progressive_surcharge_charges_each_band_its_rate():
    bands = [(1_000.0, 0.001), (5_000.0, 0.01), (None, 0.05)]
    # 1,000 MWh at $1/MWh + 4,000 MWh at $10/MWh + 1,000 MWh at $50/MWh
    assert surcharge_usd(6_000, 0.0, bands) == pytest.approx(1_000 + 40_000 + 50_000)
    # within the first band only its rate applies
    assert surcharge_usd(500, 0.0, bands) == pytest.approx(500)
    # progressive: the average rate never falls as use grows
    averages = [surcharge_usd(e, 0.0, bands) / e for e in (500, 2_000, 6_000, 50_000)]
    assert averages == sorted(averages)


def test_payback_is_infinite_when_rigs_lose_money():
    assert math.isinf(rig_payback_months(30.0, 0.05, 20.0, RIG_PRICE, RIGS))
    months = rig_payback_months(100.0, 0.03, 20.0, RIG_PRICE, RIGS)
    # margin $70/MWh x 0.0146 MWh per TH-month - $0.2 = $0.822 per TH-month
    assert months == pytest.approx(15.0 / (70.0 * 20.0 * 730 / 1e6 - 0.2))


def test_expansion_needs_fast_payback_and_is_capped():
    assert expansion_hashrate_ths(30, 1e6, 100_000, RIG_PRICE, RIGS) == 0.0
    assert expansion_hashrate_ths(10, 1e6, 100_000, RIG_PRICE, RIGS) == pytest.approx(10_000)  # 10% cap
    assert expansion_hashrate_ths(10, 15_000, 100_000, RIG_PRICE, RIGS) == pytest.approx(500)  # cash-bound


def test_fixed_costs_are_per_megawatt_so_efficient_rigs_cost_less_per_th():
    assert fixed_cost_usd_per_th_month(20.0, RIGS) == pytest.approx(0.2)
    assert fixed_cost_usd_per_th_month(10.0, RIGS) == pytest.approx(0.1)


def test_a_farm_sells_up_after_a_run_of_months_below_salvage_or_when_cash_is_gone():
    three = MiningConfig(exit_after_months_below_salvage=3)
    assert not exits(2, three, 1_000)
    assert exits(3, three, 1_000)
    assert exits(0, three, 0.0)


def test_an_idle_farm_loses_only_its_fixed_costs():
    # at $10/PH/day a 20 J/TH rig earns $20.8/MWh, less than $0.05/kWh power: it idles
    assert cash_margin_usd_per_th_month(10.0, 20.0, 0.05, RIGS) == pytest.approx(-0.2)
    running = cash_margin_usd_per_th_month(60.0, 20.0, 0.05, RIGS)
    revenue_per_mwh = 60.0 / (20.0 * 24 / 1000)
    assert running == pytest.approx((revenue_per_mwh - 50.0) * 20.0 * 730 / 1e6 - 0.2)
    assert cash_margin_usd_per_th_month(60.0, 20.0, 0.05, RIGS, uptime_share=0.5) < running


def test_used_rigs_are_worth_months_of_their_margin_and_never_less_than_scrap():
    used = MiningConfig(used_rig_payback_months=12.0, scrap_value_usd_per_th=0.5, fixed_cost_usd_per_mw_month=10_000.0)
    efficient, hungry = used_rig_value_usd_per_th(50.0, 15.0, 0.045, used), used_rig_value_usd_per_th(50.0, 35.0, 0.045, used)
    assert efficient > hungry > 0
    assert used_rig_value_usd_per_th(5.0, 35.0, 0.045, used) == 0.5  # out of the money anywhere: scrap
    margin = cash_margin_usd_per_th_month(50.0, 15.0, 0.045, used) + 0.15  # the buyer pays its own fixed costs ($0.15 at 15 J/TH)
    assert efficient == pytest.approx(12.0 * margin)


def test_grey_mining_pays_when_licensed_mining_is_dear_or_unavailable_and_enforcement_weak():
    licensed = licensed_margin_usd_per_th_month(1.0, 2.0, 0.0, RIGS, 0.2, 0.0)
    assert licensed == pytest.approx(0.8)  # tax takes a fifth of a profit
    assert licensed_margin_usd_per_th_month(-1.0, 2.0, 0.0, RIGS, 0.2, 0.0) == -1.0  # none on a loss
    obliged = licensed_margin_usd_per_th_month(1.0, 2.0, 0.5, MiningConfig(domestic_sale_discount_share=0.02), 0.0, 0.0)
    assert obliged == pytest.approx(1.0 - 2.0 * 0.5 * 0.02)  # half the coins sold at a 2% discount
    grey = grey_margin_usd_per_th_month(1.2, 0.01, 10.0)
    assert grey == pytest.approx(1.1)  # 1% a month of losing $10 per TH/s
    assert goes_grey(licensed, grey, licence_available=True, grey_power_access=True)
    assert not goes_grey(licensed, grey_margin_usd_per_th_month(1.2, 0.1, 10.0), licence_available=True, grey_power_access=True)
    assert goes_grey(5.0, -1.0, licence_available=False, grey_power_access=True)
    # without a route to off-meter power a farm cannot draw megawatts unlicensed, unless it must
    assert not goes_grey(licensed, grey, licence_available=True, grey_power_access=False)
    assert goes_grey(5.0, -1.0, licence_available=False, grey_power_access=False)


def test_farms_draw_their_own_efficiency_and_power_contract_around_the_median():
    spread = MiningConfig(fleet_efficiency_j_per_th=25.0, fleet_efficiency_log_sd=0.2, power_contract_log_sd=0.15)
    assert farm_efficiency_j_per_th(0.5, spread) == pytest.approx(25.0)
    assert farm_efficiency_j_per_th(0.1, spread) < 25.0 < farm_efficiency_j_per_th(0.9, spread)
    assert power_contract_factor(0.5, spread) == pytest.approx(1.0)
    assert power_contract_factor(0.0, spread) > 0  # a draw of exactly 0 is not minus infinity
    assert farm_hashrate_ths(10.0, 25.0) == pytest.approx(400_000)


def test_domestic_sale_rule_keeps_profit_at_home():
    assert repatriable_profit_usd(1_000, 0.0, 1.0) == pytest.approx(1_000)
    assert repatriable_profit_usd(1_000, 0.75, 1.0) == pytest.approx(250)
    assert repatriable_profit_usd(-500, 0.0, 1.0) == 0.0


def test_tax_holiday_and_losses_pay_no_tax():
    assert profit_tax_usd(1_000, 0.2, False) == pytest.approx(200)
    assert profit_tax_usd(1_000, 0.2, True) == 0.0
    assert profit_tax_usd(-1_000, 0.2, False) == 0.0
