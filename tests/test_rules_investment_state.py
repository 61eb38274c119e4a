"""Investors' risk premium; the state's licensing, bonus and adaptive rules."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from cryptoabm.config import InvestorConfig, Policy
from cryptoabm.rules.investment import invests, policy_risk_premium_annual
from cryptoabm.rules.state import (
    MAX_BONUSES,
    bonuses_affordable,
    grey_farm_detected,
    licence_available,
    rationed_mining_cap_mw,
    should_ration,
    should_tighten_outflows,
)


def test_risk_premium_rises_with_no_licence_and_recent_change_and_falls_in_a_zone():
    investors = InvestorConfig(base_risk_premium_annual=0.05, no_licence_premium_annual=0.1, policy_change_memory_months=12,
                               policy_change_premium_annual=0.05, sez_premium_reduction_annual=0.03)
    assert policy_risk_premium_annual(investors, True, 99, False) == pytest.approx(0.05)
    assert policy_risk_premium_annual(investors, False, 99, False) == pytest.approx(0.15)
    assert policy_risk_premium_annual(investors, True, 3, False) == pytest.approx(0.10)
    assert policy_risk_premium_annual(investors, True, 99, True) == pytest.approx(0.02)
    calm = investors.model_copy(update={"base_risk_premium_annual": 0.0})
    assert policy_risk_premium_annual(calm, True, 99, True) == 0.0


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


def test_a_bonus_is_affordable_only_for_whole_simulated_citizens():
    policy = Policy(wallet_bonus_usd=30.0)
    # a citizen standing for 1,000 adults costs $30,000: a $64k budget pays two of them
    assert bonuses_affordable(64_000.0, 1e9, policy, 1_000.0) == 2
    assert bonuses_affordable(64_000.0, 1e9, policy, 10_000.0) == 0  # nothing can be paid: no bonus on offer
    assert bonuses_affordable(64_000.0, 40_000.0, policy, 1_000.0) == 1  # the state's cash binds
    assert bonuses_affordable(64_000.0, 1e9, Policy(wallet_bonus_usd=0.0), 1.0) == 0


@given(people=st.integers(1, 10**8), citizens=st.integers(10, 10**5), budget=st.floats(0, 1e10),
       bonus=st.floats(0.01, 1e4))
def test_bonus_affordability_never_promises_more_than_the_budget_pays(people, citizens, budget, bonus):
    per_citizen = people / citizens
    count = bonuses_affordable(budget, budget, Policy(wallet_bonus_usd=bonus), per_citizen)
    assert count * bonus * per_citizen <= budget * (1 + 1e-9)
    # and no fewer than the budget allows (unless the count hits the bound on any count of citizens)
    assert count == MAX_BONUSES or (count + 1) * bonus * per_citizen > budget * (1 - 1e-9)
