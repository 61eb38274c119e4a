"""Foreign investors: the premium policy risk demands, and when capital comes in.

Returns and premia are annual rates (0.15 = 15% a year).
"""

from __future__ import annotations

from cryptoabm.config import InvestorConfig, Policy


def policy_risk_premium_annual(
    investors: InvestorConfig, licence_available: bool, months_since_policy_change: int, in_special_zone: bool
) -> float:
    """Extra annual return an investor demands for the country's policy risk.

    It rises when no licence can be had, and for a while after any policy change; a
    special economic zone's guarantees lower it. Never below zero.
    """
    premium = investors.base_risk_premium_annual
    if not licence_available:
        premium += investors.no_licence_premium_annual
    if months_since_policy_change < investors.policy_change_memory_months:
        premium += investors.policy_change_premium_annual
    if in_special_zone:
        premium -= investors.sez_premium_reduction_annual
    return max(0.0, premium)


def invests(expected_return_annual: float, risk_premium_annual: float, alternative_return_annual: float) -> bool:
    """Capital comes in when the risk-adjusted return beats what it earns elsewhere."""
    return expected_return_annual - risk_premium_annual > alternative_return_annual


def zone_venture_return_annual(investors: InvestorConfig, policy: Policy) -> float:
    """After-tax annual return on special-zone ventures (exchanges, payment firms, start-ups):
    ``sez_venture_return_annual`` less the profit tax (``policy.mining_profit_tax_rate``, the
    corporate rate the model has), unless the zone gives a tax holiday."""
    tax_rate = 0.0 if policy.sez_tax_holiday else policy.mining_profit_tax_rate
    return investors.sez_venture_return_annual * (1.0 - tax_rate)
