"""Foreign investors: the return a new farm promises and the premium policy risk demands.

Returns and premia are annual rates (0.15 = 15% a year).
"""

from __future__ import annotations

from cryptoabm.rules.mining import farm_power_mw, monthly_energy_mwh, operating_margin_usd_per_mwh
from cryptoabm.rules.units import MONTHS_PER_YEAR


def farm_return_annual(
    revenue_per_mwh: float,
    power_price_usd_per_kwh: float,
    efficiency_j_per_th: float,
    fixed_cost_usd_per_th_month: float,
    capex_usd_per_th: float,
    profit_tax_rate: float,
    licence_fee_usd_per_th_year: float = 0.0,
    expected_uptime_share: float = 1.0,
) -> float:
    """Expected after-tax annual return on the capital put into one TH/s, at today's prices.

    Monthly margin per TH/s = (revenue - power) per MWh x energy used at the expected
    uptime (the share of requested power the grid has been serving) - fixed costs, which
    are paid whether the rigs run or not; tax takes its share of a positive margin; the
    licence fee is spread over the farm's TH/s.
    """
    energy = monthly_energy_mwh(farm_power_mw(1.0, efficiency_j_per_th), expected_uptime_share)
    margin = operating_margin_usd_per_mwh(revenue_per_mwh, power_price_usd_per_kwh) * energy - fixed_cost_usd_per_th_month
    after_tax = margin * (1.0 - profit_tax_rate) if margin > 0 else margin
    return (after_tax * MONTHS_PER_YEAR - licence_fee_usd_per_th_year) / capex_usd_per_th


def grey_farm_return_annual(return_if_undetected_annual: float, detection_probability_monthly: float) -> float:
    """Expected annual return of an unlicensed farm, which risks losing everything if caught.

    Survives the year with probability (1 - d)^12 and earns its return; otherwise the rigs
    are seized (a return of -100%).
    """
    survival = (1.0 - detection_probability_monthly) ** MONTHS_PER_YEAR
    return survival * return_if_undetected_annual - (1.0 - survival)


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
