"""Investors' return and risk premium; the state's licensing and adaptive rules."""

import pytest

from cryptoabm.rules.investment import farm_return_annual, grey_farm_return_annual, invests, policy_risk_premium_annual
from cryptoabm.rules.state import (
    grey_farm_detected,
    licence_available,
    rationed_mining_cap_mw,
    should_ration,
    should_tighten_outflows,
)


def test_farm_return_is_annual_margin_over_capex():
    # $100/MWh revenue, $0.04/kWh power: $60/MWh; a TH/s at 20 J/TH uses 0.0146 MWh a month.
    margin = 60.0 * 20.0 * 730 / 1e6 - 0.2
    expected = margin * 0.8 * 12 / 15.0
    assert farm_return_annual(100.0, 0.04, 20.0, 0.2, 15.0, 0.2) == pytest.approx(expected)


def test_tax_holiday_raises_the_return():
    assert farm_return_annual(100.0, 0.04, 20.0, 0.2, 15.0, 0.0) > farm_return_annual(100.0, 0.04, 20.0, 0.2, 15.0, 0.2)


def test_grey_farms_expect_to_lose_everything_if_caught():
    assert grey_farm_return_annual(0.5, 0.0) == pytest.approx(0.5)
    survival = 0.9**12
    assert grey_farm_return_annual(0.5, 0.1) == pytest.approx(survival * 0.5 - (1 - survival))


def test_risk_premium_rises_with_no_licence_and_recent_change_and_falls_in_a_zone():
    base = policy_risk_premium_annual(0.05, True, 0.1, 99, 12, 0.05, False, 0.03)
    assert base == pytest.approx(0.05)
    assert policy_risk_premium_annual(0.05, False, 0.1, 99, 12, 0.05, False, 0.03) == pytest.approx(0.15)
    assert policy_risk_premium_annual(0.05, True, 0.1, 3, 12, 0.05, False, 0.03) == pytest.approx(0.10)
    assert policy_risk_premium_annual(0.05, True, 0.1, 99, 12, 0.05, True, 0.03) == pytest.approx(0.02)
    assert policy_risk_premium_annual(0.0, True, 0.1, 99, 12, 0.05, True, 0.03) == 0.0


def test_capital_comes_when_risk_adjusted_return_beats_the_alternative():
    assert invests(0.30, 0.05, 0.15)
    assert not invests(0.18, 0.05, 0.15)


def test_licences_stop_at_the_cap():
    assert licence_available(9, 10) and not licence_available(10, 10) and licence_available(10**6, None)


def test_detection_uses_the_enforcement_probability():
    assert grey_farm_detected(0.04, 0.05) and not grey_farm_detected(0.06, 0.05)


def test_adaptive_rules_trigger_only_when_set_and_crossed():
    assert should_ration(0.05, 0.1) and not should_ration(0.15, 0.1) and not should_ration(0.0, None)
    assert rationed_mining_cap_mw(500, 0.3) == pytest.approx(350)
    assert should_tighten_outflows(2e6, 1e6) and not should_tighten_outflows(2e6, None)
