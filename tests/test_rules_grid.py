"""Dispatch: who gets power when it is short, and the reserve margin."""

import pytest

from cryptoabm.config import GridConfig, Policy
from cryptoabm.rules.grid import dispatch, interruptible_miners_served_mw, non_mining_demand_mw, reserve_margin

GRID = GridConfig(peak_demand_calendar_month=1, intra_month_demand_swing=0.15)


def test_ample_capacity_serves_everyone():
    d = dispatch(1_000, 600, 200, Policy(miner_grid_priority="last", surplus_reserve_share=0.1, mining_cap_mw=None), GRID)
    assert (d.households_served_mw, d.miners_served_mw, d.households_unserved_mw, d.miners_curtailed_mw) == (600, 200, 0, 0)


def test_miners_last_are_curtailed_before_any_household():
    d = dispatch(1_000, 900, 300, Policy(miner_grid_priority="last", surplus_reserve_share=0.1, mining_cap_mw=None), GRID)
    assert d.households_unserved_mw == 0
    assert d.miners_served_mw == pytest.approx(100)
    assert d.miners_curtailed_mw == pytest.approx(200)


def test_households_go_unserved_only_when_they_alone_exceed_capacity():
    d = dispatch(1_000, 1_100, 300, Policy(miner_grid_priority="last", surplus_reserve_share=0.1, mining_cap_mw=None), GRID)
    assert d.miners_served_mw == 0
    assert d.households_unserved_mw == pytest.approx(100)


def test_equal_priority_shares_a_shortage_pro_rata():
    d = dispatch(1_000, 900, 300, Policy(miner_grid_priority="equal", surplus_reserve_share=0.1, mining_cap_mw=None), GRID)
    assert d.households_served_mw == pytest.approx(750)
    assert d.miners_served_mw == pytest.approx(250)
    assert d.households_unserved_mw == pytest.approx(150)


def test_surplus_only_keeps_a_reserve_above_household_demand():
    # 800 MW of demand plus a 10% reserve leaves 1,000 - 880 = 120 MW for miners.
    d = dispatch(1_000, 800, 300, Policy(miner_grid_priority="surplus_only", surplus_reserve_share=0.1, mining_cap_mw=None), GRID)
    assert d.miners_served_mw == pytest.approx(120)


def test_rationing_cap_limits_miners_even_with_spare_capacity():
    d = dispatch(10_000, 800, 300, Policy(miner_grid_priority="equal", surplus_reserve_share=0.1, mining_cap_mw=50.0), GRID)
    assert d.miners_served_mw == pytest.approx(50)
    assert d.miners_curtailed_mw == pytest.approx(250)


def test_reserve_margin_is_spare_share_of_capacity():
    assert reserve_margin(1_000, 750) == pytest.approx(0.25)
    assert reserve_margin(1_000, 1_200) == 0.0


def test_demand_peaks_in_the_peak_month_and_grows_on_trend():
    peak = non_mining_demand_mw(GridConfig(base_demand_mw=1_000, demand_growth_annual=0.0, seasonal_amplitude=0.1), 0, 1)
    trough = non_mining_demand_mw(GridConfig(base_demand_mw=1_000, demand_growth_annual=0.0, seasonal_amplitude=0.1), 0, 7)
    assert peak == pytest.approx(1_100) and trough == pytest.approx(900)
    assert non_mining_demand_mw(GridConfig(base_demand_mw=1_000, demand_growth_annual=0.02, seasonal_amplitude=0.0), 12, 1) == pytest.approx(1_020)


def test_interruptible_miners_lose_the_peak_hours_before_the_monthly_average_is_short():
    # average load 800 of 1,000 MW leaves 200 MW on average, but load swings to 920 at peak
    served = interruptible_miners_served_mw(1_000, 800, 200, GRID)
    assert 0 < served < 200
    assert dispatch(1_000, 800, 200, Policy(miner_grid_priority="last"), GRID).miners_served_mw == 200
    assert dispatch(1_000, 800, 200, Policy(miner_grid_priority="interruptible"), GRID).miners_served_mw == served


def test_interruptible_dispatch_serves_all_when_even_the_peak_leaves_room_and_nothing_when_none():
    assert interruptible_miners_served_mw(10_000, 800, 200, GRID) == 200
    assert interruptible_miners_served_mw(800, 800 / 0.85, 200, GRID) == 0.0
    # with no swing it is the monthly-average rule
    flat = GridConfig(intra_month_demand_swing=0.0)
    assert interruptible_miners_served_mw(1_000, 900, 300, flat) == 100


def test_interruptible_service_matches_the_hour_by_hour_average():
    import numpy as np
    hours = np.linspace(800 * 0.85, 800 * 1.15, 200_001)
    by_hour = np.clip(1_000 - hours, 0, 150).mean()
    assert interruptible_miners_served_mw(1_000, 800, 150, GRID) == __import__("pytest").approx(by_hour, rel=1e-4)
