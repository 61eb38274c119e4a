"""The world mining market's rules: rigs' cash costs, the merit order, orders and exits."""

import numpy as np
import pytest

from cryptoabm.config import WorldMiningConfig
from cryptoabm.rules.units import PH_PER_EH
from cryptoabm.rules.world_mining import (
    cash_cost_usd_per_ph_day,
    efficiency_at,
    fixed_cost_usd_per_ph_day,
    leaving_capacity_ehs,
    lognormal_classes,
    merit_order_running_share,
    new_rig_return_annual,
    rig_orders_ehs,
)

WORLD = WorldMiningConfig(capital_cost_annual=0.3, entry_rate_per_excess_return=0.05, idle_exit_rate_monthly=0.1,
                          retirement_rate_annual=0.12, efficiency_improvement_annual=0.12)


def test_a_rigs_cash_cost_is_its_power_bill_per_ph_day():
    # 20 J/TH: a PH/s draws 20 kW, 480 kWh a day; at $0.05 that is $24
    assert cash_cost_usd_per_ph_day(20.0, 0.05) == pytest.approx(24.0)


def test_the_merit_order_runs_the_cheapest_rigs_until_the_hashprice_meets_the_marginal_cost():
    capacity = np.array([100.0, 100.0, 100.0])  # EH/s
    cost = np.array([10.0, 20.0, 40.0])  # USD/PH/day
    pay = 25.0 * 150.0 * PH_PER_EH  # a hashprice of $25 at 150 EH/s
    share = merit_order_running_share(capacity, cost, pay)
    assert list(share[:1]) == [1.0] and share[2] == 0.0
    running = float((capacity * share).sum())
    hashprice = pay / (running * PH_PER_EH)
    assert hashprice == pytest.approx(20.0)  # the marginal class runs in part, at its cost


def test_when_every_rig_pays_all_run_and_the_hashprice_is_above_every_cost():
    share = merit_order_running_share(np.array([10.0, 10.0]), np.array([10.0, 20.0]), 1e9 * PH_PER_EH)
    assert list(share) == [1.0, 1.0]


def test_other_hashrate_always_runs_and_crowds_the_world_fleet_out():
    capacity, cost = np.array([100.0, 100.0]), np.array([10.0, 20.0])
    pay = 15.0 * 200.0 * PH_PER_EH
    alone = (capacity * merit_order_running_share(capacity, cost, pay)).sum()
    crowded = (capacity * merit_order_running_share(capacity, cost, pay, other_hashrate_ehs=50.0)).sum()
    assert crowded == pytest.approx(alone - 50.0)


def test_rigs_are_ordered_only_where_they_beat_the_cost_of_capital():
    weights = np.array([0.5, 0.5])
    unlimited = WORLD.model_copy(update={"max_orders_share_monthly": 1e6})  # no ceiling in sight: the linear rule
    orders = rig_orders_ehs(np.array([0.2, 0.5]), unlimited, weights, 1_000.0)
    assert orders[0] == 0.0 and orders[1] == pytest.approx(0.05 * 0.2 * 0.5 * 1_000.0)


def test_orders_rise_with_the_excess_return_but_never_past_the_monthly_ceiling():
    weights = np.array([1.0])
    world = WORLD.model_copy(update={"max_orders_share_monthly": 0.1, "entry_rate_per_excess_return": 1.0})
    small, large, huge = (float(rig_orders_ehs(np.array([0.3 + x]), world, weights, 1_000.0)[0]) for x in (0.001, 0.2, 50.0))
    assert small == pytest.approx(1.0 * 0.001 * 1_000.0, rel=0.01)  # the slope near zero
    assert small < large < huge <= 0.1 * 1_000.0  # rising, saturating at 10% of the fleet
    assert huge == pytest.approx(0.1 * 1_000.0)
    assert float(rig_orders_ehs(np.array([5.0]), world.model_copy(update={"max_orders_share_monthly": 0.0}),
                                weights, 1_000.0)[0]) == 0.0  # no rigs to be had


def test_idle_and_loss_making_rigs_leave_with_a_lag_and_all_rigs_wear_out():
    capacity = np.array([100.0, 100.0, 100.0])
    running = np.array([1.0, 0.0, 1.0])
    covers_fixed = np.array([True, True, False])
    leaving = leaving_capacity_ehs(capacity, running, covers_fixed, WORLD)
    assert leaving[0] == pytest.approx(1.0)  # wear only: 12% a year
    assert leaving[1] == pytest.approx(10.0 + 1.0)  # idle: 10% a month
    assert leaving[2] == pytest.approx(10.0 + 1.0)  # runs, but does not cover its fixed costs


def test_fixed_costs_per_ph_day():
    assert fixed_cost_usd_per_ph_day(WorldMiningConfig(fixed_cost_usd_per_th_month=0.25)) == pytest.approx(250 / (365 / 12))


def test_a_new_rig_returns_its_margin_over_its_price():
    world = WorldMiningConfig(fixed_cost_usd_per_th_month=0.0, rig_price_usd_per_th=15.0)
    # $40/PH/day against a $24 bill: $16/PH/day = $0.016/TH/day, ~$5.84 a year per $15
    assert new_rig_return_annual(40.0, 20.0, 0.05, world) == pytest.approx(0.016 * 365 / 15.0)


def test_rigs_improve_at_a_constant_rate_dated_by_the_calendar():
    assert efficiency_at(17.5, WORLD, 0) == 17.5
    assert efficiency_at(17.5, WORLD, 12) == pytest.approx(17.5 * 0.88)
    assert efficiency_at(17.5, WORLD, -56) == pytest.approx(17.5 / 0.88 ** (56 / 12))  # mid-2021: ~31 J/TH


def test_lognormal_classes_hold_equal_mass_around_the_median():
    values, weights = lognormal_classes(0.045, 0.45, 12)
    assert weights.sum() == pytest.approx(1.0) and np.median(values) == pytest.approx(0.045, rel=0.05)
    assert list(lognormal_classes(0.045, 0.0, 3)[0]) == pytest.approx([0.045] * 3)


def test_rigs_switch_on_at_once_but_off_only_in_part_each_month():
    from cryptoabm.rules.world_mining import sticky_running_share

    world = WORLD.model_copy(update={"switch_off_share_monthly": 0.25})
    previous = np.array([1.0, 1.0, 0.0])
    equilibrium = np.array([1.0, 0.0, 1.0])  # keep running; switch off; switch on
    assert np.allclose(sticky_running_share(equilibrium, previous, world), [1.0, 0.75, 1.0])
    instant = WORLD.model_copy(update={"switch_off_share_monthly": 1.0})
    assert np.allclose(sticky_running_share(equilibrium, previous, instant), equilibrium)
