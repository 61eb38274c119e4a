"""The power system: non-mining demand, dispatch priority and the reserve margin (MW, MWh)."""

from __future__ import annotations

import math
from dataclasses import dataclass

from cryptoabm.rules.units import MONTHS_PER_YEAR


def non_mining_demand_mw(
    base_demand_mw: float,
    demand_growth_annual: float,
    months_elapsed: int,
    seasonal_amplitude: float,
    calendar_month: int,
    peak_demand_calendar_month: int,
    noise_factor: float = 1.0,
) -> float:
    """Average household and industrial load this month, MW.

    A trend compounding at the annual growth rate, times a seasonal cosine that peaks in
    the peak month with the given amplitude (share of the mean), times a noise factor.
    """
    trend = (1.0 + demand_growth_annual) ** (months_elapsed / MONTHS_PER_YEAR)
    season = 1.0 + seasonal_amplitude * math.cos(2.0 * math.pi * (calendar_month - peak_demand_calendar_month) / 12.0)
    return base_demand_mw * trend * season * noise_factor


@dataclass(frozen=True)
class Dispatch:
    """How the grid operator met this month's load, MW."""

    households_served_mw: float
    miners_served_mw: float
    households_unserved_mw: float
    miners_curtailed_mw: float


def dispatch(
    capacity_mw: float,
    non_mining_demand_mw: float,
    mining_request_mw: float,
    miner_priority: str,
    surplus_reserve_share: float,
    mining_cap_mw: float | None,
) -> Dispatch:
    """Share available capacity between households/industry and miners.

    - ``equal``: miners are ordinary customers; a shortage is shared pro rata.
    - ``last``: households are served first, miners get what is left.
    - ``surplus_only``: miners get only the surplus above non-mining demand plus a reserve
      of ``surplus_reserve_share`` of that demand.
    A rationing cap (``mining_cap_mw``) limits miners further. Miners are always curtailed
    before any household goes unserved, except under ``equal`` priority.
    """
    allowed_mw = mining_request_mw if mining_cap_mw is None else min(mining_request_mw, mining_cap_mw)
    if miner_priority == "equal":
        total = non_mining_demand_mw + allowed_mw
        served_share = 1.0 if total <= capacity_mw else capacity_mw / total
        households_mw = non_mining_demand_mw * served_share
        miners_mw = allowed_mw * served_share
    else:
        households_mw = min(non_mining_demand_mw, capacity_mw)
        headroom = capacity_mw - households_mw
        if miner_priority == "surplus_only":
            headroom = max(0.0, capacity_mw - non_mining_demand_mw * (1.0 + surplus_reserve_share))
        miners_mw = min(allowed_mw, headroom)
    return Dispatch(
        households_served_mw=households_mw,
        miners_served_mw=miners_mw,
        households_unserved_mw=non_mining_demand_mw - households_mw,
        miners_curtailed_mw=mining_request_mw - miners_mw,
    )


def reserve_margin(capacity_mw: float, served_load_mw: float) -> float:
    """Spare capacity after dispatch as a share of available capacity (0 when all is used)."""
    return max(0.0, capacity_mw - served_load_mw) / capacity_mw
