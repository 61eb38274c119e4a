"""Citizens and merchants: wallet adoption, use, drop-out, acceptance and capital flight.

Every rule takes numpy arrays (one entry per citizen) or scalars alike, so the model
applies it to the whole population at once. Probabilities are per month.
"""

from __future__ import annotations

import math

import numpy as np
from scipy.special import ndtri  # the standard normal quantile

from cryptoabm.config import AdoptionConfig, MerchantConfig
from cryptoabm.rules.units import MONTHS_PER_YEAR

PAYMENT_ALLOWED = {"ban": False, "voluntary": True, "legal_tender": True, "fee_conversion": True}


def bonus_pull(adoption: AdoptionConfig, campaign_age_months: int | None) -> float:
    """How many times the unprompted adoption hazard a bonus campaign multiplies it by.

    At launch (age 0) the full ``bonus_innovation_multiplier``; the extra pull then halves every
    ``bonus_pull_half_life_months`` as the news ages, so most downloads come early. 1 with no
    campaign (``campaign_age_months`` None).
    """
    if campaign_age_months is None:
        return 1.0
    extra = adoption.bonus_innovation_multiplier - 1.0
    return 1.0 + extra * 0.5 ** (campaign_age_months / adoption.bonus_pull_half_life_months)


def has_access(income_z: np.ndarray, access_uniform: np.ndarray, share: float, income_correlation: float) -> np.ndarray:
    """Who has an access that a share ``share`` of adults has (a phone with internet, a bank
    account): those whose latent access is among the top ``share``, the latent access being log
    income's standard score ``income_z`` with weight ``income_correlation`` and, for the rest,
    their own draw (``access_uniform``, turned standard normal), so the better-off have it more
    often. With no correlation, exactly those with ``access_uniform < share``."""
    if income_correlation == 0.0 or share <= 0.0 or share >= 1.0:
        return access_uniform < share
    latent = income_correlation * income_z - np.sqrt(1.0 - income_correlation**2) * ndtri(access_uniform)
    return latent > ndtri(1.0 - share)


def adoption_cost_usd(mean_income_usd_per_month: float, is_banked: np.ndarray, bank_account_share: float,
                      cost_z: np.ndarray, adoption: AdoptionConfig) -> np.ndarray:
    """Each adult's one-off cost of adopting a wallet (learning it, the time and trouble, the
    privacy given up), USD: a dollar cost, not a share of one's own income, so a bonus does not
    draw in the poorest first. It averages ``adoption_cost_share_of_annual_income`` of the
    country's annual income per capita over all adults; the unbanked's is
    ``unbanked_adoption_cost_multiplier`` times the banked's (the complexity is greater for
    them), and it is spread log-normally across adults (``adoption_cost_log_sd``; ``cost_z``
    standard normal)."""
    average = adoption.adoption_cost_share_of_annual_income * MONTHS_PER_YEAR * mean_income_usd_per_month
    multiplier = adoption.unbanked_adoption_cost_multiplier
    # the banked's median cost that makes the average over everyone come out at ``average``
    banked_median = average / ((bank_account_share + (1.0 - bank_account_share) * multiplier)
                               * math.exp(adoption.adoption_cost_log_sd**2 / 2.0))
    barrier = np.where(is_banked, 1.0, multiplier)
    return banked_median * barrier * np.exp(adoption.adoption_cost_log_sd * cost_z)


def bonus_covers_adoption_cost(wallet_bonus_usd: float, adoption_cost_usd: np.ndarray) -> np.ndarray:
    """Whether a bonus pays for a citizen's cost of adopting: only those it covers are drawn in
    by a bonus campaign, so a larger bonus reaches adults for whom adopting is harder."""
    return wallet_bonus_usd >= adoption_cost_usd


def lasting_use_probability(is_banked: np.ndarray, adopted_for_bonus: np.ndarray, adoption: AdoptionConfig) -> np.ndarray:
    """Chance that a new adopter finds a lasting use for the wallet (remittances, savings,
    payments), decided by who they are and why they adopted: ``lasting_use_share`` for a banked
    adult who adopted of their own accord, times ``unbanked_lasting_use_ratio`` for the
    unbanked and times ``bonus_adopter_lasting_use_ratio`` for one the bonus drew in (who would
    not have downloaded that month without it)."""
    banked = np.where(is_banked, 1.0, adoption.unbanked_lasting_use_ratio)
    motive = np.where(adopted_for_bonus, adoption.bonus_adopter_lasting_use_ratio, 1.0)
    return adoption.lasting_use_share * banked * motive


def innovation_rate(adoption: AdoptionConfig, pull: float, information_control: float) -> float:
    """Monthly chance of adopting with no active contacts (Bass's p), times a campaign's pull.

    Information control (censorship, VPN bans, warnings) scales it down in proportion to its
    strength (1 = complete control).
    """
    return adoption.innovation_p * pull * (1.0 - information_control)


def trust_factor(trust: np.ndarray, trust_mean: float, trust_elasticity: float) -> np.ndarray:
    """How a citizen's trust scales their adoption hazard: (trust / mean trust)^elasticity."""
    if trust_mean <= 0.0:
        return np.ones_like(trust)
    return (trust / trust_mean) ** trust_elasticity


def adoption_hazard(
    innovation: float,
    imitation_q: float,
    active_neighbour_share: np.ndarray,
    trust_multiplier: np.ndarray | float = 1.0,
    online: np.ndarray | bool = True,
) -> np.ndarray:
    """Monthly chance a citizen without a wallet gets one: (p + q x active contacts) x trust.

    This is the discrete Bass hazard; only citizens who are online can adopt.
    """
    hazard = (innovation + imitation_q * active_neighbour_share) * trust_multiplier
    return np.clip(hazard, 0.0, 1.0) * online


def crypto_payment_probability(payment_regime: str, merchant_accept_share: float, adoption: AdoptionConfig) -> float:
    """Chance an active wallet holder pays for something in crypto this month.

    Nothing can be paid under a ban. Otherwise they pay when they meet an accepting
    merchant and choose to; under fee conversion they may also pay a government fee.
    """
    if not PAYMENT_ALLOWED[payment_regime]:
        return 0.0
    p_shop = adoption.payment_propensity * merchant_accept_share
    if payment_regime != "fee_conversion":
        return p_shop
    p_fee = adoption.payment_propensity * adoption.government_fee_month_probability
    return 1.0 - (1.0 - p_shop) * (1.0 - p_fee)


def dropout_probability(
    bonus_left_usd: np.ndarray, used_this_month: np.ndarray, has_lasting_use: np.ndarray, adoption: AdoptionConfig
) -> np.ndarray:
    """Chance an active holder stops using the wallet this month.

    None while bonus is left or the wallet was used this month; a citizen with a lasting use for
    it drifts away slowly (``lasting_use_dropout_hazard``); anyone else stops at ``dropout_hazard``.
    """
    idle_hazard = np.where(has_lasting_use, adoption.lasting_use_dropout_hazard, adoption.dropout_hazard)
    return np.where((bonus_left_usd > 0.0) | used_this_month, 0.0, idle_hazard)


def monthly_saving_usd(income_usd_per_month: np.ndarray, saving_rate: float) -> np.ndarray:
    """What a household adds to its savings each month, USD: a fixed share of its income."""
    return income_usd_per_month * saving_rate


def bonus_spending_usd(bonus_left_usd: np.ndarray, spend_usd_per_month: np.ndarray) -> np.ndarray:
    """Part of the bonus a holder spends this month, USD: the bonus spread evenly over the
    spending period (``adoption.bonus_spend_months``), never more than is left."""
    return np.minimum(bonus_left_usd, spend_usd_per_month)


def merchant_net_benefit(
    active_customer_share: np.ndarray,
    merchants: MerchantConfig,
    receipts_holding_gain: np.ndarray,
) -> np.ndarray:
    """Gain to a merchant's margin from accepting crypto, share of sales.

    Customers who pay in crypto bring extra sales; the processor takes a fee; staff time and a
    second payment system cost margin; and a merchant who keeps its receipts in crypto expects
    to gain from holding them, net of the coin's volatility (``receipts_holding_gain``: zero for
    one who converts at once).
    """
    gain = active_customer_share * merchants.sales_gain_per_active_customer_share
    return gain - merchants.processing_fee_share - merchants.staff_time_cost_share + receipts_holding_gain


def receipts_holding_gain(trust: np.ndarray, merchants: MerchantConfig, price_volatility_annual: float) -> np.ndarray:
    """What a merchant expects to gain by keeping the crypto it is paid instead of converting it
    at once, share of sales: its expected gain from holding the coin, rising with its trust in it
    (``holding_gain_per_trust`` x trust), less the margin the coin's volatility costs
    (``volatility_cost_weight`` x annual volatility). A merchant keeps its receipts when this is
    positive and converts them otherwise (a gain of zero), so fewer keep a more volatile coin."""
    net = trust * merchants.holding_gain_per_trust - merchants.volatility_cost_weight * price_volatility_annual
    return np.maximum(0.0, net)


def merchant_accepts(payment_regime: str, net_benefit: np.ndarray, complies_with_mandate: np.ndarray) -> np.ndarray:
    """Whether a merchant accepts crypto.

    Never under a ban; under legal tender, those who comply with the mandate must, and the rest
    accept when it pays after its costs; otherwise a merchant accepts when it pays.
    """
    if not PAYMENT_ALLOWED[payment_regime]:
        return np.zeros_like(complies_with_mandate, dtype=bool)
    voluntary = net_benefit > 0.0
    if payment_regime == "legal_tender":
        return voluntary | complies_with_mandate
    return voluntary
