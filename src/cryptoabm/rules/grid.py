"""The power system: non-mining demand, dispatch priority and the reserve margin (MW, MWh)."""

from __future__ import annotations

import math
from dataclasses import dataclass

from cryptoabm.config import GridConfig, Policy
from cryptoabm.rules.units import MONTHS_PER_YEAR


def non_mining_demand_mw(grid: GridConfig, months_elapsed: int, calendar_month: int, noise_factor: float = 1.0) -> float:
    """Average household and industrial load this month, MW.

    A trend compounding at the annual growth rate, times a seasonal cosine that peaks in
    the peak month with the given amplitude (share of the mean), times a noise factor.
    """
    trend = (1.0 + grid.demand_growth_annual) ** (months_elapsed / MONTHS_PER_YEAR)
    phase = 2.0 * math.pi * (calendar_month - grid.peak_demand_calendar_month) / MONTHS_PER_YEAR
    season = 1.0 + grid.seasonal_amplitude * math.cos(phase)
    return grid.base_demand_mw * trend * season * noise_factor


@dataclass(frozen=True)
class Dispatch:
    """How the grid operator met this month's load, MW."""

    households_served_mw: float
    miners_served_mw: float
    households_unserved_mw: float
    miners_curtailed_mw: float


def interruptible_miners_served_mw(capacity_mw: float, non_mining_demand_mw: float, miners_mw: float,
                                   grid: GridConfig) -> float:
    """Average power miners get in a month when they are cut hour by hour whenever households
    and industry need it, MW.

    Within the month non-mining load runs evenly between mean x (1 - swing) and mean x (1 + swing)
    (a flat load-duration curve); in each hour miners get the headroom left, up to their request.
    So miners lose the peak hours first, before the monthly average is short.
    """
    low = non_mining_demand_mw * (1.0 - grid.intra_month_demand_swing)
    high = non_mining_demand_mw * (1.0 + grid.intra_month_demand_swing)
    if miners_mw <= 0:
        return 0.0
    if high <= low:
        return min(miners_mw, max(0.0, capacity_mw - non_mining_demand_mw))
    full_until = min(high, capacity_mw - miners_mw)  # load below this leaves room for every miner
    full = miners_mw * max(0.0, full_until - low)
    partial_from, partial_to = max(low, capacity_mw - miners_mw), min(high, capacity_mw)
    partial = 0.0
    if partial_to > partial_from:
        # integral of (capacity - d) dd over the hours in which miners get part of their request
        partial = capacity_mw * (partial_to - partial_from) - 0.5 * (partial_to**2 - partial_from**2)
    return (full + partial) / (high - low)


def dispatch(
    capacity_mw: float, non_mining_demand_mw: float, mining_request_mw: float, policy: Policy, grid: GridConfig
) -> Dispatch:
    """Share available capacity between households/industry and miners.

    - ``equal``: miners are ordinary customers; a shortage is shared pro rata.
    - ``last``: households are served first, miners get what is left of the monthly average.
    - ``interruptible``: households first hour by hour: miners are cut in the hours of peak
      load (see :func:`interruptible_miners_served_mw`).
    - ``surplus_only``: miners get only the surplus above non-mining demand plus a reserve
      of ``surplus_reserve_share`` of that demand.
    A rationing cap (``mining_cap_mw``) limits miners further. Miners are always curtailed
    before any household goes unserved, except under ``equal`` priority.
    """
    miner_priority = policy.miner_grid_priority
    allowed_mw = mining_request_mw if policy.mining_cap_mw is None else min(mining_request_mw, policy.mining_cap_mw)
    if miner_priority == "equal":
        total = non_mining_demand_mw + allowed_mw
        served_share = 1.0 if total <= capacity_mw else capacity_mw / total
        households_mw = non_mining_demand_mw * served_share
        miners_mw = allowed_mw * served_share
    else:
        households_mw = min(non_mining_demand_mw, capacity_mw)
        headroom = capacity_mw - households_mw
        if miner_priority == "surplus_only":
            headroom = max(0.0, capacity_mw - non_mining_demand_mw * (1.0 + policy.surplus_reserve_share))
        miners_mw = min(allowed_mw, headroom)
        if miner_priority == "interruptible":
            miners_mw = interruptible_miners_served_mw(capacity_mw, households_mw, allowed_mw, grid)
    return Dispatch(
        households_served_mw=households_mw,
        miners_served_mw=miners_mw,
        households_unserved_mw=non_mining_demand_mw - households_mw,
        miners_curtailed_mw=mining_request_mw - miners_mw,
    )


def reserve_margin(capacity_mw: float, served_load_mw: float) -> float:
    """Spare capacity after dispatch as a share of available capacity (0 when all is used)."""
    return max(0.0, capacity_mw - served_load_mw) / capacity_mw
