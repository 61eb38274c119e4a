"""The rest of the world's mining fleet: a merit order of rigs that run, idle, enter and leave.

The world fleet is a table of capacity (EH/s) by rig vintage (its efficiency, J/TH) and by
power-price class (USD/kWh). A rig's cash cost of running is its power bill per PH/s per day;
it runs while the hashprice covers that cost. Because the hashprice itself falls as more rigs
run (the network pays a fixed number of coins a day), running hashrate and hashprice are found
together: the hashprice settles at the cash cost of the marginal rig, or above every rig's cost
when the whole fleet runs. New rigs are ordered when a new rig at a given power price earns more
than the cost of capital, and arrive after a delivery lag; idle rigs, and rigs whose margin
over power does not cover their fixed costs, are sold off or scrapped at a monthly rate. So world hashrate growth is an outcome: a halving or a price fall switches
the dearest rigs off and stops orders, and the hashprice recovers toward marginal cost as they
leave.

Units: hashrate in EH/s, efficiency in J/TH, power prices in USD/kWh, hashprice and costs in
USD per PH/s per day, returns per year.
"""

from __future__ import annotations

import numpy as np
from scipy.special import ndtri  # the standard normal quantile (what scipy.stats.norm.ppf computes), without importing scipy.stats

from cryptoabm.config import WorldMiningConfig
from cryptoabm.rules.units import DAYS_PER_MONTH, HOURS_PER_DAY, MONTHS_PER_YEAR, PH_PER_EH, TH_PER_PH, WATTS_PER_KW


def lognormal_classes(median: float, log_sd: float, classes: int) -> tuple[np.ndarray, np.ndarray]:
    """A log-normal distribution cut into equal-probability classes: (class midpoints, weights).

    Each class holds 1/classes of the mass; its value is the distribution's quantile at the
    class's middle probability. With ``log_sd = 0`` every class is the median.
    """
    middles = (np.arange(classes) + 0.5) / classes
    return median * np.exp(log_sd * ndtri(middles)), np.full(classes, 1.0 / classes)


def cash_cost_usd_per_ph_day(efficiency_j_per_th: np.ndarray | float, power_price_usd_per_kwh: np.ndarray | float):
    """Power bill of running one PH/s for a day, USD/(PH/s)/day: the cost a rig must earn to run.

    One PH/s at e J/TH draws e kW (1,000 TH x e W), i.e. 24 e kWh a day.
    """
    kw_per_ph = np.asarray(efficiency_j_per_th) * TH_PER_PH / WATTS_PER_KW
    return kw_per_ph * HOURS_PER_DAY * np.asarray(power_price_usd_per_kwh)


def merit_order_running_share(
    capacity_ehs: np.ndarray,
    cash_cost: np.ndarray,
    network_usd_per_day: float,
    other_hashrate_ehs: float = 0.0,
) -> np.ndarray:
    """Share of each class of rigs that runs in equilibrium (same shape as ``capacity_ehs``).

    ``network_usd_per_day`` is what the network pays all miners a day (coins x price). Rigs
    run in order of cash cost while the hashprice, that pay divided by all running hashrate
    (these rigs plus ``other_hashrate_ehs``, which always runs), covers their cost. The
    marginal class runs in part, just enough to bring the hashprice down to its cost; so the
    hashprice equals the marginal rig's cash cost unless every rig runs.
    """
    capacity = np.asarray(capacity_ehs, dtype=float)
    order = np.argsort(np.asarray(cash_cost, dtype=float).ravel(), kind="stable")
    sorted_capacity = capacity.ravel()[order]
    sorted_cost = np.asarray(cash_cost, dtype=float).ravel()[order]
    cumulative = np.cumsum(sorted_capacity)
    hashprice_if_on = network_usd_per_day / np.maximum((cumulative + other_hashrate_ehs) * PH_PER_EH, 1e-300)
    fully_on = int(np.count_nonzero(sorted_cost <= hashprice_if_on))  # a prefix: costs rise, hashprice falls
    share_sorted = np.zeros_like(sorted_capacity)
    share_sorted[:fully_on] = 1.0
    if fully_on < sorted_capacity.size and sorted_capacity[fully_on] > 0:
        running_before = float(cumulative[fully_on - 1]) if fully_on else 0.0
        at_marginal_cost = network_usd_per_day / (sorted_cost[fully_on] * PH_PER_EH) - other_hashrate_ehs - running_before
        share_sorted[fully_on] = min(1.0, max(0.0, at_marginal_cost / sorted_capacity[fully_on]))
    share = np.empty_like(share_sorted)
    share[order] = share_sorted
    return share.reshape(capacity.shape)


def sticky_running_share(equilibrium_share: np.ndarray, previous_share: np.ndarray, world: WorldMiningConfig) -> np.ndarray:
    """Share of each class of rigs that runs this month when miners are slow to switch off.

    Rigs the merit order would switch on run at once; of the running rigs it would switch off,
    only ``switch_off_share_monthly`` stop this month, the rest run at a loss for now (power
    bought forward, hosting contracts, hedges, and the expectation that the difficulty will fall
    as others stop). A share of 1 is the instant merit order.
    """
    keep_running = previous_share * (1.0 - world.switch_off_share_monthly)
    return np.maximum(equilibrium_share, np.minimum(previous_share, keep_running))


def fixed_cost_usd_per_ph_day(world: WorldMiningConfig) -> float:
    """The world's miners' fixed costs (staff, hosting, maintenance) per PH/s per day, USD."""
    return world.fixed_cost_usd_per_th_month * TH_PER_PH / DAYS_PER_MONTH


def new_rig_return_annual(
    hashprice_usd_per_ph_day: float,
    efficiency_j_per_th: float,
    power_price_usd_per_kwh: np.ndarray | float,
    world: WorldMiningConfig,
) -> np.ndarray | float:
    """Annual cash return on a new rig bought today, at today's hashprice, per USD of rig.

    (hashprice - power cost) per TH/s per month, less fixed costs, times twelve, over the
    rig's price. Negative when the rig would not cover its costs.
    """
    margin_per_ph_day = hashprice_usd_per_ph_day - cash_cost_usd_per_ph_day(efficiency_j_per_th, power_price_usd_per_kwh)
    margin_per_th_month = margin_per_ph_day / TH_PER_PH * DAYS_PER_MONTH - world.fixed_cost_usd_per_th_month
    return margin_per_th_month * MONTHS_PER_YEAR / world.rig_price_usd_per_th


def rig_orders_ehs(
    expected_return_annual: np.ndarray,
    world: WorldMiningConfig,
    power_class_weights: np.ndarray,
    fleet_ehs: float,
) -> np.ndarray:
    """New capacity ordered this month in each power-price class, EH/s.

    Where a new rig earns more than the cost of capital, miners with that power price order
    rigs: ``entry_rate_per_excess_return`` of the fleet a month for each unit (100 percentage
    points) of annual excess return while the excess is small, saturating at
    ``max_orders_share_monthly`` of the fleet (the makers' output and the sites ready for them)
    however large the excess; spread over classes by where the world's power is (their weights).
    """
    excess = np.maximum(0.0, np.asarray(expected_return_annual) - world.capital_cost_annual)
    # rig makers' output and the sites ready to plug in limit how much can be ordered in a month:
    # the share ordered saturates at the ceiling (slope entry_rate_per_excess_return near zero)
    ceiling = world.max_orders_share_monthly
    if ceiling <= 0.0:
        return np.zeros_like(excess * power_class_weights)  # no rigs to be had
    share = ceiling * -np.expm1(-world.entry_rate_per_excess_return * excess / ceiling)
    return share * power_class_weights * fleet_ehs


def efficiency_at(efficiency_in_reference_month: float, world: WorldMiningConfig, months_after_reference: float) -> float:
    """Efficiency of rigs of a given standing (the best on sale, or the fleet's median) some
    months after (or, if negative, before) ``technology_reference_month``, J/TH: rigs improve by
    ``efficiency_improvement_annual`` a year (facts: S19j Pro 30.5 J/TH in 2021, S21 17.5 in
    2024-25, about 12% a year)."""
    return efficiency_in_reference_month * (1.0 - world.efficiency_improvement_annual) ** (months_after_reference / MONTHS_PER_YEAR)


def leaving_capacity_ehs(
    capacity_ehs: np.ndarray, running_share: np.ndarray, covers_fixed_costs: np.ndarray, world: WorldMiningConfig
) -> np.ndarray:
    """Capacity that leaves the world fleet this month, EH/s, per cell.

    Rigs that idle, and running rigs whose margin over power does not cover their fixed costs,
    are sold off or scrapped at ``idle_exit_rate_monthly`` of that capacity a month (they leave
    with a lag rather than at once); every rig wears out at ``retirement_rate_annual``.
    """
    losing = capacity_ehs * np.where(covers_fixed_costs, 1.0 - running_share, 1.0)
    wear = capacity_ehs * (world.retirement_rate_annual / MONTHS_PER_YEAR)
    return np.minimum(capacity_ehs, losing * world.idle_exit_rate_monthly + wear)
