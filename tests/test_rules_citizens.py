"""Citizens' and merchants' rules: adoption, payment, drop-out, acceptance."""

import numpy as np
import pytest

from cryptoabm.config import AdoptionConfig, MerchantConfig
from cryptoabm.rules.citizens import (
    adoption_hazard,
    bonus_pull,
    bonus_spending_usd,
    crypto_payment_probability,
    dropout_probability,
    innovation_rate,
    merchant_accepts,
    merchant_net_benefit,
    receipts_holding_gain,
    trust_factor,
)

ADOPTION = AdoptionConfig(innovation_p=0.01, bonus_innovation_multiplier=20.0, bonus_pull_half_life_months=2.0,
                          payment_propensity=0.6, government_fee_month_probability=0.1, dropout_hazard=0.5,
                          lasting_use_dropout_hazard=0.01)


def test_bonus_raises_and_information_control_lowers_innovation():
    base = innovation_rate(ADOPTION, 1.0, 0.0)
    assert innovation_rate(ADOPTION, bonus_pull(ADOPTION, 0), 0.0) == pytest.approx(20 * base)
    assert innovation_rate(ADOPTION, 1.0, 0.8) == pytest.approx(0.2 * base)
    assert innovation_rate(ADOPTION, 20.0, 1.0) == 0.0


def test_a_bonus_campaign_pulls_hardest_at_launch_and_fades_by_half_lives():
    assert bonus_pull(ADOPTION, None) == 1.0
    assert bonus_pull(ADOPTION, 0) == pytest.approx(20.0)
    assert bonus_pull(ADOPTION, 2) == pytest.approx(1 + 19 / 2)  # one half-life
    assert bonus_pull(ADOPTION, 4) == pytest.approx(1 + 19 / 4)
    assert 1.0 < bonus_pull(ADOPTION, 60) < 1.001


def test_adoption_hazard_is_bass_p_plus_q_times_active_contacts():
    share = np.array([0.0, 0.5, 1.0])
    assert adoption_hazard(0.01, 0.3, share) == pytest.approx([0.01, 0.16, 0.31])


def test_offline_citizens_cannot_adopt_and_hazard_stays_a_probability():
    hazard = adoption_hazard(0.5, 0.9, np.array([1.0, 1.0]), 2.0, np.array([True, False]))
    assert list(hazard) == [1.0, 0.0]


def test_trust_scales_hazard_around_the_mean():
    assert trust_factor(np.array([0.25, 0.5, 1.0]), 0.5, 1.0) == pytest.approx([0.5, 1.0, 2.0])


def test_nothing_is_paid_in_crypto_under_a_ban():
    assert crypto_payment_probability("ban", 1.0, ADOPTION) == 0.0


def test_payments_need_accepting_merchants_and_fee_conversion_adds_fees():
    assert crypto_payment_probability("voluntary", 0.0, ADOPTION) == 0.0
    assert crypto_payment_probability("voluntary", 0.5, ADOPTION) == pytest.approx(0.3)
    # government fees are a second way to pay: 1 - (1 - 0.3)(1 - 0.06)
    assert crypto_payment_probability("fee_conversion", 0.5, ADOPTION) == pytest.approx(1 - 0.7 * 0.94)


def test_holders_drop_out_only_when_bonus_is_gone_and_wallet_brought_no_use():
    p = dropout_probability(np.array([10.0, 0.0, 0.0]), np.array([False, True, False]), np.zeros(3, bool), ADOPTION)
    assert list(p) == [0.0, 0.0, 0.5]


def test_lasting_users_drift_away_slowly():
    p = dropout_probability(np.zeros(2), np.zeros(2, bool), np.array([True, False]), ADOPTION)
    assert list(p) == [0.01, 0.5]


def test_bonus_is_spent_evenly_and_never_more_than_is_left():
    assert bonus_spending_usd(np.array([30.0, 10.0]), np.array([15.0, 15.0])) == pytest.approx([15.0, 10.0])


def test_merchants_accept_when_customers_outweigh_fees_and_staff_time():
    merchants = MerchantConfig(sales_gain_per_active_customer_share=0.05, processing_fee_share=0.01,
                               staff_time_cost_share=0.005)
    converting = merchant_net_benefit(np.array([0.1, 0.9]), merchants, np.zeros(2))
    assert converting == pytest.approx([0.005 - 0.01 - 0.005, 0.045 - 0.01 - 0.005])
    keeping = merchant_net_benefit(np.array([0.1]), merchants, np.array([0.004]))
    assert keeping[0] == pytest.approx(converting[0] + 0.004)  # what it expects from holding counts too
    assert merchant_net_benefit(np.array([0.2]), merchants, np.zeros(1))[0] < 0


def test_merchants_keep_receipts_when_their_expected_gain_beats_the_volatility_cost():
    merchants = MerchantConfig(holding_gain_per_trust=0.02, volatility_cost_weight=0.02)
    # at 50% volatility the cost is 1% of margin: trust above 0.5 makes keeping pay
    gain = receipts_holding_gain(np.array([0.3, 0.5, 0.8]), merchants, 0.5)
    assert gain == pytest.approx([0.0, 0.0, 0.8 * 0.02 - 0.01])
    # a more volatile coin: nobody keeps
    assert (receipts_holding_gain(np.array([0.3, 0.5, 0.8]), merchants, 0.9) == 0).all()


def test_a_ban_stops_all_acceptance_and_legal_tender_forces_compliers():
    net = np.array([1.0, -1.0, -1.0])
    compliant = np.array([False, True, False])
    assert list(merchant_accepts("ban", net, compliant)) == [False, False, False]
    assert list(merchant_accepts("voluntary", net, compliant)) == [True, False, False]
    assert list(merchant_accepts("legal_tender", net, compliant)) == [True, True, False]


