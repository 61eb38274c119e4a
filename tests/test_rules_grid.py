"""Dispatch: who gets power when it is short, and the reserve margin."""

import pytest

from cryptoabm.rules.grid import dispatch, non_mining_demand_mw, reserve_margin


def test_ample_capacity_serves_everyone():
    d = dispatch(1_000, 600, 200, "last", 0.1, None)
    assert (d.households_served_mw, d.miners_served_mw, d.households_unserved_mw, d.miners_curtailed_mw) == (600, 200, 0, 0)


def test_miners_last_are_curtailed_before_any_household():
    d = dispatch(1_000, 900, 300, "last", 0.1, None)
    assert d.households_unserved_mw == 0
    assert d.miners_served_mw == pytest.approx(100)
    assert d.miners_curtailed_mw == pytest.approx(200)


def test_households_go_unserved_only_when_they_alone_exceed_capacity():
    d = dispatch(1_000, 1_100, 300, "last", 0.1, None)
    assert d.miners_served_mw == 0
    assert d.households_unserved_mw == pytest.approx(100)


def test_equal_priority_shares_a_shortage_pro_rata():
    d = dispatch(1_000, 900, 300, "equal", 0.1, None)
    assert d.households_served_mw == pytest.approx(750)
    assert d.miners_served_mw == pytest.approx(250)
    assert d.households_unserved_mw == pytest.approx(150)


def test_surplus_only_keeps_a_reserve_above_household_demand():
    # 800 MW of demand plus a 10% reserve leaves 1,000 - 880 = 120 MW for miners.
    d = dispatch(1_000, 800, 300, "surplus_only", 0.1, None)
    assert d.miners_served_mw == pytest.approx(120)


def test_rationing_cap_limits_miners_even_with_spare_capacity():
    d = dispatch(10_000, 800, 300, "equal", 0.1, 50.0)
    assert d.miners_served_mw == pytest.approx(50)
    assert d.miners_curtailed_mw == pytest.approx(250)


def test_reserve_margin_is_spare_share_of_capacity():
    assert reserve_margin(1_000, 750) == pytest.approx(0.25)
    assert reserve_margin(1_000, 1_200) == 0.0


def test_demand_peaks_in_the_peak_month_and_grows_on_trend():
    peak = non_mining_demand_mw(1_000, 0.0, 0, 0.1, 1, 1)
    trough = non_mining_demand_mw(1_000, 0.0, 0, 0.1, 7, 1)
    assert peak == pytest.approx(1_100) and trough == pytest.approx(900)
    assert non_mining_demand_mw(1_000, 0.02, 12, 0.0, 1, 1) == pytest.approx(1_020)
