"""Foreign investors: the premium policy risk demands, and when capital comes in.

Returns and premia are annual rates (0.15 = 15% a year).
"""

from __future__ import annotations



def policy_risk_premium_annual(
    base_premium: float,
    licence_available: bool,
    no_licence_premium: float,
    months_since_policy_change: int,
    policy_change_memory_months: int,
    policy_change_premium: float,
    in_special_zone: bool,
    sez_premium_reduction: float,
) -> float:
    """Extra annual return an investor demands for the country's policy risk.

    It rises when no licence can be had, and for a while after any policy change; a
    special economic zone's guarantees lower it. Never below zero.
    """
    premium = base_premium
    if not licence_available:
        premium += no_licence_premium
    if months_since_policy_change < policy_change_memory_months:
        premium += policy_change_premium
    if in_special_zone:
        premium -= sez_premium_reduction
    return max(0.0, premium)


def invests(expected_return_annual: float, risk_premium_annual: float, alternative_return_annual: float) -> bool:
    """Capital comes in when the risk-adjusted return beats what it earns elsewhere."""
    return expected_return_annual - risk_premium_annual > alternative_return_annual
