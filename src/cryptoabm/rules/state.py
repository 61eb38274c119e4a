"""The state's rules: licensing, enforcement and adaptive responses to stress."""

from __future__ import annotations

from cryptoabm.config import Policy, StateConfig
from cryptoabm.rules.units import MONTHS_PER_YEAR

MONTHS_PER_LICENCE_TERM = 12  # a mining licence runs a year; its fee is due again on each anniversary
MAX_BONUSES = 2**53  # an upper bound on any count of citizens (exactly representable as a float)


def licence_available(licences_in_force: int, license_cap: int | None) -> bool:
    """A licence can be granted while the number in force is below the cap (None: no cap)."""
    return license_cap is None or licences_in_force < license_cap


def grey_farm_detected(uniform_draw: float, detection_probability_monthly: float) -> bool:
    """An unlicensed farm is caught this month with the enforcement's detection probability."""
    return uniform_draw < detection_probability_monthly


def enforcement_cost_usd_per_month(config: StateConfig, detection_probability_monthly: float) -> float:
    """What enforcement against grey mining costs the state this month, USD: the yearly cost of a
    unit of monthly detection probability times the detection probability in force, over twelve."""
    return config.enforcement_cost_usd_per_year_per_detection * detection_probability_monthly / MONTHS_PER_YEAR


def should_ration(reserve_margin: float, ration_below_reserve_margin: float | None) -> bool:
    """Adaptive rule: ration miners when the reserve margin left after this month's dispatch fell
    below the trigger (applied within the month, at dispatch)."""
    return ration_below_reserve_margin is not None and reserve_margin < ration_below_reserve_margin


def rationed_mining_cap_mw(mining_load_mw: float, ration_cut_share: float) -> float:
    """The cap on miners' load once rationing starts: today's load cut by a share, MW."""
    return mining_load_mw * (1.0 - ration_cut_share)


def should_tighten_outflows(capital_flight_usd: float, tighten_above_usd_per_month: float | None) -> bool:
    """Adaptive rule: tighten crypto outflow limits when last month's flight passed the trigger."""
    return tighten_above_usd_per_month is not None and capital_flight_usd > tighten_above_usd_per_month


def bonuses_affordable(budget_left_usd: float, state_cash_usd: float, policy: Policy, adults_per_bonus: float) -> int:
    """How many more wallet bonuses can be paid, each to ``adults_per_bonus`` adults (one simulated
    citizen stands for that many): the budget left (never more than the state's cash) over the
    cost of one. Zero when there is no bonus. The one test of whether a bonus is on offer."""
    if policy.wallet_bonus_usd <= 0:
        return 0
    budget = min(budget_left_usd, max(0.0, state_cash_usd))
    # a vanishingly small bonus makes the quotient overflow: no more can be paid than exist
    return int(min(budget / (policy.wallet_bonus_usd * adults_per_bonus), MAX_BONUSES))
