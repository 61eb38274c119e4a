"""Citizens and merchants: wallet adoption, use, drop-out, acceptance and capital flight.

Every rule takes numpy arrays (one entry per citizen) or scalars alike, so the model
applies it to the whole population at once. Probabilities are per month.
"""

from __future__ import annotations

import numpy as np

PAYMENT_ALLOWED = {"ban": False, "voluntary": True, "legal_tender": True, "fee_conversion": True}
INSTANT_CONVERSION = {"ban": False, "voluntary": False, "legal_tender": True, "fee_conversion": True}


def innovation_rate(
    innovation_p: float,
    bonus_on_offer: bool,
    bonus_innovation_multiplier: float,
    information_control: float,
) -> float:
    """Monthly chance of adopting with no active contacts (Bass's p).

    A wallet bonus on offer multiplies it; information control (censorship, VPN bans,
    warnings) scales it down in proportion to its strength (1 = complete control).
    """
    boost = bonus_innovation_multiplier if bonus_on_offer else 1.0
    return innovation_p * boost * (1.0 - information_control)


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


def crypto_payment_probability(
    payment_regime: str,
    merchant_accept_share: float,
    payment_propensity: float,
    government_fee_month_probability: float,
) -> float:
    """Chance an active wallet holder pays for something in crypto this month.

    Nothing can be paid under a ban. Otherwise they pay when they meet an accepting
    merchant and choose to; under fee conversion they may also pay a government fee.
    """
    if not PAYMENT_ALLOWED[payment_regime]:
        return 0.0
    p_shop = payment_propensity * merchant_accept_share
    if payment_regime != "fee_conversion":
        return p_shop
    p_fee = payment_propensity * government_fee_month_probability
    return 1.0 - (1.0 - p_shop) * (1.0 - p_fee)


def dropout_probability(bonus_left_usd: np.ndarray, used_this_month: np.ndarray, dropout_hazard: float) -> np.ndarray:
    """Chance an active holder abandons the wallet: only once the bonus is spent and it brought no use."""
    return np.where((bonus_left_usd > 0.0) | used_this_month, 0.0, dropout_hazard)


def monthly_saving_usd(income_usd_per_month: np.ndarray, saving_rate: float) -> np.ndarray:
    """What a household adds to its savings each month, USD: a fixed share of its income."""
    return income_usd_per_month * saving_rate


def bonus_spending_usd(bonus_left_usd: np.ndarray, spend_usd_per_month: np.ndarray) -> np.ndarray:
    """Part of the bonus a holder spends this month, USD: the bonus spread evenly over the
    spending period (``adoption.bonus_spend_months``), never more than is left."""
    return np.minimum(bonus_left_usd, spend_usd_per_month)


def merchant_net_benefit(
    active_customer_share: np.ndarray,
    sales_gain_per_active_customer_share: float,
    processing_fee_share: float,
    volatility_cost_weight: float,
    price_volatility_annual: float,
    instant_conversion: bool,
) -> np.ndarray:
    """Gain to a merchant's margin from accepting crypto, share of sales.

    Customers who pay in crypto bring extra sales; the processor takes a fee; holding a
    volatile coin costs margin unless it is converted to cash at once.
    """
    volatility_cost = 0.0 if instant_conversion else volatility_cost_weight * price_volatility_annual
    return active_customer_share * sales_gain_per_active_customer_share - processing_fee_share - volatility_cost


def merchant_accepts(payment_regime: str, net_benefit: np.ndarray, complies_with_mandate: np.ndarray) -> np.ndarray:
    """Whether a merchant accepts crypto.

    Never under a ban; under legal tender, those who comply with the mandate must; otherwise
    a merchant accepts when it pays.
    """
    if not PAYMENT_ALLOWED[payment_regime]:
        return np.zeros_like(complies_with_mandate, dtype=bool)
    voluntary = net_benefit > 0.0
    if payment_regime == "legal_tender":
        return voluntary | complies_with_mandate
    return voluntary


def capital_flight_probability(monthly_probability: float, capital_controls: float, controls_multiplier: float) -> float:
    """Chance a wallet holder moves savings abroad this month; stricter bank controls push more through crypto."""
    return min(1.0, monthly_probability * (1.0 + controls_multiplier * capital_controls))


def licensed_outflow_usd(
    wanted_usd: np.ndarray, outflow_limit_usd_per_month: float | None, p2p_leakage_share: float
) -> np.ndarray:
    """Part of a citizen's outflow that goes through licensed exchanges, USD.

    The non-P2P share of what they want to send, capped by the per-person limit if any.
    """
    through_licensed = wanted_usd * (1.0 - p2p_leakage_share)
    if outflow_limit_usd_per_month is None:
        return through_licensed
    return np.minimum(through_licensed, outflow_limit_usd_per_month)


def crypto_outflow_usd(
    savings_usd: np.ndarray,
    share_of_savings: float,
    outflow_limit_usd_per_month: float | None,
    p2p_leakage_share: float,
) -> np.ndarray:
    """Savings a citizen sends abroad through crypto when they decide to, USD.

    Licensed exchanges enforce the per-person limit; the peer-to-peer share escapes it.
    """
    wanted = savings_usd * share_of_savings
    return licensed_outflow_usd(wanted, outflow_limit_usd_per_month, p2p_leakage_share) + wanted * p2p_leakage_share
