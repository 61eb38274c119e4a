"""Free entry into mining: what rigs cost, what a farm expects to earn, and whether it is built.

A greenfield farm is built when its expected net present value at its owner's hurdle rate is
positive. The expectation is forward-looking: it knows the halving schedule and expects the
world's hashrate (the difficulty) to keep growing, so a farm built a year before a halving is
valued on the halved revenue it will earn after it. The number of farms is an outcome; the
binding limits are this value, licences, grid power and how many megawatts of sites the
country can bring into service in a month.

Units: capex in USD per watt of rigs (USD/W), hashprice in USD per PH/s per day, margins in
USD per TH/s per month, rates per year.
"""

from __future__ import annotations

import functools
import math

import numpy as np

from cryptoabm.config import MarketConfig, MiningConfig
from cryptoabm.rules.units import MONTHS_PER_YEAR


def rig_capex_usd_per_w(mining: MiningConfig, months_after_reference: float) -> float:
    """What a watt of new rigs costs some months after (or, if negative, before) the technology
    reference month, USD/W: ``rig_capex_usd_per_w`` then, falling by ``rig_capex_decline_annual``
    a year. Per watt, not per TH/s: as rigs grow more efficient a TH/s costs less, and the
    dollars per watt of a farm's rigs drift down with the industry's."""
    return mining.rig_capex_usd_per_w * (1.0 - mining.rig_capex_decline_annual) ** (months_after_reference / MONTHS_PER_YEAR)


def rig_price_usd_per_th(capex_usd_per_w: float, efficiency_j_per_th: float) -> float:
    """Price of one TH/s of rigs of a given efficiency, USD: a TH/s at e J/TH draws e watts."""
    return capex_usd_per_w * efficiency_j_per_th


def price_process_mean_growth_annual(market: MarketConfig) -> float:
    """Yearly growth of the MEAN BTC price under the model's own price process, a share.

    With ``price_drift_of = "median"`` (the default) the median grows by
    ``price_drift_annual`` and the mean by (1 + drift) x exp(sigma^2 / 2) - 1, about 16% a year at
    zero drift and 55% volatility; otherwise (mean-flat) the mean grows by
    the drift itself. A risk-neutral investor valuing expected revenue expects this growth."""
    if market.price_drift_of == "median":
        return (1.0 + market.price_drift_annual) * math.exp(0.5 * market.price_volatility_annual ** 2) - 1.0
    return market.price_drift_annual


def expected_price_growth_annual(mining: MiningConfig, market: MarketConfig) -> float:
    """BTC price growth farms expect a year (the price expectation rule): the named assumption
    ``mining.expected_price_growth_annual`` when a scenario sets one, otherwise model-consistent,
    the mean growth of the model's own price process (``price_process_mean_growth_annual``)."""
    if mining.expected_price_growth_annual is not None:
        return mining.expected_price_growth_annual
    return price_process_mean_growth_annual(market)


def expected_hashprice_path(
    hashprice_today: float, subsidy_ratio: np.ndarray, fee_share: float, price_growth_annual: float,
    mining: MiningConfig,
) -> np.ndarray:
    """The hashprice a farm expects in each coming month, USD per PH/s per day (the expectation
    rule, "halving-aware expectations").

    Month k ahead: today's hashprice with the subsidy part scaled by the scheduled subsidy then
    relative to today's (``subsidy_ratio[k-1]``; fees, ``fee_share`` of revenue, do not halve),
    the BTC price grown at ``price_growth_annual`` (see ``expected_price_growth_annual``) and the
    world's hashrate at ``expected_hashrate_growth_annual`` (each PH/s earns a smaller share of a
    growing network).
    """
    months_ahead = np.arange(1, len(subsidy_ratio) + 1) / MONTHS_PER_YEAR
    revenue_factor = (1.0 - fee_share) * np.asarray(subsidy_ratio) + fee_share
    growth = ((1.0 + price_growth_annual) / (1.0 + mining.expected_hashrate_growth_annual)) ** months_ahead
    return hashprice_today * revenue_factor * growth


@functools.lru_cache(maxsize=256)
def monthly_discount_factors(hurdle_annual: float, months: int, first_month: int = 1) -> np.ndarray:
    """Present value of a dollar received 1, 2, ... months from ``first_month`` on, at an annual
    hurdle rate compounded monthly. (Remembered: a run asks for the same few rates every month;
    the array is read-only.)"""
    factors = (1.0 + hurdle_annual) ** (-np.arange(first_month, first_month + months) / MONTHS_PER_YEAR)
    factors.setflags(write=False)
    return factors


def operating_value_usd_per_th(margins_usd_per_th_month: np.ndarray, discount_factors: np.ndarray) -> float:
    """Present value of running one TH/s from next month on, USD, stopping (and scrapping) as
    soon as carrying on is worth less than nothing: by backward induction, the value of the
    months from k on is the larger of zero and this month's margin plus the rest."""
    value = 0.0
    # Python floats, not numpy scalars: the same IEEE arithmetic, a quarter of the time
    for margin, factor in zip(reversed(np.asarray(margins_usd_per_th_month).tolist()),
                              reversed(np.asarray(discount_factors).tolist()), strict=True):
        carried = margin * factor + value
        value = carried if carried > 0.0 else 0.0
    return value


def expected_farm_npv_usd(
    margins_usd_per_th_month: np.ndarray, hashrate_ths: float, capex_usd: float, hurdle_annual: float,
    lag_months: int,
) -> float:
    """Expected net present value of building a farm today, USD.

    ``margins_usd_per_th_month[k]`` is what one TH/s is expected to earn in its (k+1)-th month
    of service after everything policy takes (tax, licence fee, sale obligation, or the risk of
    seizure if grey). The farm comes into service ``lag_months`` from now and pays ``capex_usd``
    for its rigs then; every flow is discounted at its owner's hurdle rate."""
    factors = monthly_discount_factors(hurdle_annual, len(margins_usd_per_th_month), first_month=lag_months + 1)
    capex_factor = (1.0 + hurdle_annual) ** (-lag_months / MONTHS_PER_YEAR)
    return hashrate_ths * operating_value_usd_per_th(margins_usd_per_th_month, factors) - capex_usd * capex_factor


def farm_enters(npv_usd: float) -> bool:
    """Free entry: a farm is built when its expected net present value is positive."""
    return npv_usd > 0.0


def worth_keeping(operating_value_usd: float, salvage_value_usd: float) -> bool:
    """A farm is worth keeping while running it for the rest of its rigs' life is expected to be
    worth at least what the rigs would fetch second-hand today (both forward-looking, so a
    halving that was expected does not trigger a sale)."""
    return operating_value_usd >= salvage_value_usd


def sites_this_month(max_new_mw_per_month: float, farm_size_mw: float, mw_carried_over: float) -> tuple[int, float]:
    """How many farm sites the country can bring into service this month, and the megawatts of
    site capacity carried to next month: the pipeline adds ``max_new_mw_per_month`` of capacity
    a month, a farm takes ``farm_size_mw`` of it, and a part-farm's worth waits for the next
    month; sites no one builds on this month are not banked."""
    available = mw_carried_over + max_new_mw_per_month
    sites = int(available // farm_size_mw)
    return sites, available - sites * farm_size_mw
