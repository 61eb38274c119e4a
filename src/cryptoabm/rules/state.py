"""The state's rules: licensing, enforcement and adaptive responses to stress."""

from __future__ import annotations


def licence_available(licences_in_force: int, license_cap: int | None) -> bool:
    """A licence can be granted while the number in force is below the cap (None: no cap)."""
    return license_cap is None or licences_in_force < license_cap


def grey_farm_detected(uniform_draw: float, detection_probability_monthly: float) -> bool:
    """An unlicensed farm is caught this month with the enforcement's detection probability."""
    return uniform_draw < detection_probability_monthly


def should_ration(reserve_margin: float, ration_below_reserve_margin: float | None) -> bool:
    """Adaptive rule: ration miners when last month's reserve margin fell below the trigger."""
    return ration_below_reserve_margin is not None and reserve_margin < ration_below_reserve_margin


def rationed_mining_cap_mw(mining_load_mw: float, ration_cut_share: float) -> float:
    """The cap on miners' load once rationing starts: today's load cut by a share, MW."""
    return mining_load_mw * (1.0 - ration_cut_share)


def should_tighten_outflows(capital_flight_usd: float, tighten_above_usd_per_month: float | None) -> bool:
    """Adaptive rule: tighten crypto outflow limits when last month's flight passed the trigger."""
    return tighten_above_usd_per_month is not None and capital_flight_usd > tighten_above_usd_per_month
