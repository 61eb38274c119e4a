"""Citizens' and merchants' rules: adoption, payment, drop-out, acceptance, capital flight."""

import numpy as np
import pytest

from cryptoabm.rules.citizens import (
    adoption_hazard,
    bonus_spending_usd,
    capital_flight_probability,
    crypto_outflow_usd,
    crypto_payment_probability,
    dropout_probability,
    innovation_rate,
    merchant_accepts,
    merchant_net_benefit,
    trust_factor,
)


def test_bonus_raises_and_information_control_lowers_innovation():
    base = innovation_rate(0.01, False, 20.0, 0.0)
    assert innovation_rate(0.01, True, 20.0, 0.0) == pytest.approx(20 * base)
    assert innovation_rate(0.01, False, 20.0, 0.8) == pytest.approx(0.2 * base)
    assert innovation_rate(0.01, True, 20.0, 1.0) == 0.0


def test_adoption_hazard_is_bass_p_plus_q_times_active_contacts():
    share = np.array([0.0, 0.5, 1.0])
    assert adoption_hazard(0.01, 0.3, share) == pytest.approx([0.01, 0.16, 0.31])


def test_offline_citizens_cannot_adopt_and_hazard_stays_a_probability():
    hazard = adoption_hazard(0.5, 0.9, np.array([1.0, 1.0]), 2.0, np.array([True, False]))
    assert list(hazard) == [1.0, 0.0]


def test_trust_scales_hazard_around_the_mean():
    assert trust_factor(np.array([0.25, 0.5, 1.0]), 0.5, 1.0) == pytest.approx([0.5, 1.0, 2.0])


def test_nothing_is_paid_in_crypto_under_a_ban():
    assert crypto_payment_probability("ban", 1.0, 1.0, 1.0) == 0.0


def test_payments_need_accepting_merchants_and_fee_conversion_adds_fees():
    assert crypto_payment_probability("voluntary", 0.0, 0.6, 0.1) == 0.0
    assert crypto_payment_probability("voluntary", 0.5, 0.6, 0.1) == pytest.approx(0.3)
    # government fees are a second way to pay: 1 - (1 - 0.3)(1 - 0.06)
    assert crypto_payment_probability("fee_conversion", 0.5, 0.6, 0.1) == pytest.approx(1 - 0.7 * 0.94)


def test_holders_drop_out_only_when_bonus_is_gone_and_wallet_brought_no_use():
    p = dropout_probability(np.array([10.0, 0.0, 0.0]), np.array([False, True, False]), 0.5)
    assert list(p) == [0.0, 0.0, 0.5]


def test_bonus_is_spent_evenly_and_never_more_than_is_left():
    assert bonus_spending_usd(np.array([30.0, 10.0]), np.array([15.0, 15.0])) == pytest.approx([15.0, 10.0])


def test_merchants_accept_when_customers_outweigh_fees_and_volatility():
    net = merchant_net_benefit(np.array([0.1, 0.9]), 0.05, 0.01, 0.02, 0.5, instant_conversion=False)
    assert net == pytest.approx([0.005 - 0.01 - 0.01, 0.045 - 0.01 - 0.01])
    instant = merchant_net_benefit(np.array([0.1]), 0.05, 0.01, 0.02, 0.5, instant_conversion=True)
    assert instant[0] > net[0]  # instant conversion removes volatility risk


def test_a_ban_stops_all_acceptance_and_legal_tender_forces_compliers():
    net = np.array([1.0, -1.0, -1.0])
    compliant = np.array([False, True, False])
    assert list(merchant_accepts("ban", net, compliant)) == [False, False, False]
    assert list(merchant_accepts("voluntary", net, compliant)) == [True, False, False]
    assert list(merchant_accepts("legal_tender", net, compliant)) == [True, True, False]


def test_capital_controls_push_more_savings_through_crypto():
    assert capital_flight_probability(0.01, 0.0, 3.0) == pytest.approx(0.01)
    assert capital_flight_probability(0.01, 1.0, 3.0) == pytest.approx(0.04)
    assert capital_flight_probability(0.5, 1.0, 3.0) == 1.0


def test_outflow_limit_binds_on_licensed_exchanges_but_p2p_leaks():
    savings = np.array([10_000.0])
    assert crypto_outflow_usd(savings, 0.2, None, 0.3) == pytest.approx([2_000])
    # 70% of $2,000 wants the licensed channel, capped at $100; 30% leaks through P2P
    assert crypto_outflow_usd(savings, 0.2, 100.0, 0.3) == pytest.approx([100 + 600])
