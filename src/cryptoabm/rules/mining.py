"""Mining economics: what a terahash earns, what its power costs, and what a miner does.

Units: hashrate in TH/s (farms) or EH/s (networks), efficiency in J/TH, power in MW,
energy in MWh, money in USD.
"""

from __future__ import annotations

from collections.abc import Sequence

import math
from statistics import NormalDist

import numpy as np

from cryptoabm.config import MarketConfig, MiningConfig
from cryptoabm.rules.entry import operating_value_usd_per_th
from cryptoabm.rules.units import (
    DAYS_PER_MONTH,
    HOURS_PER_MONTH,
    KWH_PER_MWH,
    MONTHS_PER_YEAR,
    PH_PER_EH,
    TH_PER_PH,
    WATTS_PER_MW,
)


def network_btc_per_day(block_subsidy_btc: float, market: MarketConfig) -> float:
    """Coins paid to all miners per day (subsidy plus fees), BTC/day.

    Fees are given as their share of miners' total revenue (``fee_share_of_miner_revenue``), so
    the total is the subsidy grossed up: subsidy x blocks a day / (1 - fee share).
    """
    return block_subsidy_btc * market.blocks_per_day / (1.0 - market.fee_share_of_miner_revenue)


def hashprice_usd_per_ph_day(
    btc_price_usd: float, block_subsidy_btc: float, global_hashrate_ehs: float, market: MarketConfig
) -> float:
    """Revenue of one PH/s of hashrate for one day, USD/(PH/s)/day.

    The network pays (subsidy + fees) x blocks a day; each PH/s earns its share of the
    global hashrate. 3.125 BTC x 144 blocks at $90,000 over 1,000 EH/s with no fees
    gives $40.5 per PH/s per day.
    """
    btc_per_day = network_btc_per_day(block_subsidy_btc, market)
    return btc_per_day * btc_price_usd / (global_hashrate_ehs * PH_PER_EH)


def farm_power_mw(hashrate_ths: float, efficiency_j_per_th: float) -> float:
    """Power a farm draws at full load, MW (TH/s x J/TH = watts)."""
    return hashrate_ths * efficiency_j_per_th / WATTS_PER_MW


def revenue_usd_per_mwh(hashprice_usd_per_ph_day: float, efficiency_j_per_th: float) -> float:
    """Mining revenue per MWh of power used, USD/MWh.

    One PH/s at e J/TH draws e kW, i.e. 24 e kWh a day; dividing the hashprice by that
    energy gives revenue per unit of power, the number a miner compares with its tariff.
    """
    mwh_per_ph_day = efficiency_j_per_th * TH_PER_PH * 24.0 / WATTS_PER_MW
    return hashprice_usd_per_ph_day / mwh_per_ph_day


def monthly_revenue_usd(hashprice_usd_per_ph_day: float, hashrate_ths: float, uptime_share: float) -> float:
    """Mining revenue of a farm over one month, USD."""
    return hashprice_usd_per_ph_day * (hashrate_ths / TH_PER_PH) * DAYS_PER_MONTH * uptime_share


def monthly_energy_mwh(power_mw: float, uptime_share: float) -> float:
    """Energy a farm uses in a month at the given uptime, MWh."""
    return power_mw * HOURS_PER_MONTH * uptime_share


def surcharge_usd(
    energy_mwh: float,
    flat_usd_per_kwh: float,
    bands: Sequence[tuple[float | None, float]] = (),
) -> float:
    """The state's surcharge on a miner's monthly power use, USD.

    With no bands it is flat: every kWh pays ``flat_usd_per_kwh``. With bands it is
    progressive like an income tax: each kWh pays the rate of the band it falls in, where
    a band is (upper limit in MWh per month or None for the top band, USD per kWh).
    """
    if not bands:
        return energy_mwh * KWH_PER_MWH * flat_usd_per_kwh
    charged = 0.0
    lower = 0.0
    for upper, rate_usd_per_kwh in bands:
        top = energy_mwh if upper is None else min(energy_mwh, upper)
        if top > lower:
            charged += (top - lower) * KWH_PER_MWH * rate_usd_per_kwh
        if upper is None or energy_mwh <= upper:
            break
        lower = upper
    return charged


def average_surcharge_usd_per_kwh(
    energy_mwh: float,
    flat_usd_per_kwh: float,
    bands: Sequence[tuple[float | None, float]] = (),
) -> float:
    """Surcharge per kWh averaged over a month's use, USD/kWh (what enters the run decision)."""
    if energy_mwh <= 0:
        return flat_usd_per_kwh if not bands else bands[0][1]
    return surcharge_usd(energy_mwh, flat_usd_per_kwh, bands) / (energy_mwh * KWH_PER_MWH)


def operating_margin_usd_per_mwh(revenue_per_mwh: float, power_price_usd_per_kwh: float) -> float:
    """What running one more MWh earns after paying for it, USD/MWh (the run-or-idle test)."""
    return revenue_per_mwh - power_price_usd_per_kwh * KWH_PER_MWH


def runs_this_month(revenue_per_mwh: float, power_price_usd_per_kwh: float) -> bool:
    """A farm runs when each MWh earns more than it costs; otherwise it idles (curtails)."""
    return operating_margin_usd_per_mwh(revenue_per_mwh, power_price_usd_per_kwh) > 0.0


def fixed_cost_usd_per_th_month(efficiency_j_per_th: float, mining: MiningConfig) -> float:
    """Fixed operating cost of one TH/s a month, USD: ``fixed_cost_usd_per_mw_month`` (staff,
    hosting, maintenance scale with a farm's megawatts, not its hashrate) times the MW one TH/s
    draws."""
    return mining.fixed_cost_usd_per_mw_month * farm_power_mw(1.0, efficiency_j_per_th)


def rig_payback_months(
    revenue_per_mwh: float, power_price_usd_per_kwh: float, efficiency_j_per_th: float, rig_price_usd_per_th: float,
    mining: MiningConfig,
) -> float:
    """Months a newly bought TH/s takes to pay for itself at today's prices (inf if never).

    The monthly cash margin of one TH/s is (revenue - power) per MWh x the MWh it uses in
    a month, less fixed costs.
    """
    energy_mwh_per_th_month = monthly_energy_mwh(farm_power_mw(1.0, efficiency_j_per_th), 1.0)
    margin_per_th = (
        operating_margin_usd_per_mwh(revenue_per_mwh, power_price_usd_per_kwh) * energy_mwh_per_th_month
        - fixed_cost_usd_per_th_month(efficiency_j_per_th, mining)
    )
    return rig_price_usd_per_th / margin_per_th if margin_per_th > 0 else float("inf")


def expansion_hashrate_ths(
    payback_months: float, spare_cash_usd: float, hashrate_ths: float, rig_price_usd_per_th: float, mining: MiningConfig
) -> float:
    """TH/s of new rigs a miner buys this month.

    It buys only when rigs pay back within ``expansion_payback_months``, spends
    ``expansion_share_of_cash`` of its spare cash, and grows by at most
    ``max_expansion_share_per_month`` of its current hashrate in a month (delivery and set-up).
    """
    if payback_months > mining.expansion_payback_months or spare_cash_usd <= 0:
        return 0.0
    affordable = spare_cash_usd * mining.expansion_share_of_cash / rig_price_usd_per_th
    return max(0.0, min(affordable, hashrate_ths * mining.max_expansion_share_per_month))


def farm_hashrate_ths(farm_size_mw: float, efficiency_j_per_th: float) -> float:
    """Hashrate of a farm drawing ``farm_size_mw`` at full load, TH/s."""
    return farm_size_mw * WATTS_PER_MW / efficiency_j_per_th


STANDARD_NORMAL = NormalDist()  # quantiles of N(0, 1), turning one uniform draw into a normal one


def power_contract_factor(uniform_draw: float, mining: MiningConfig) -> float:
    """A farm's power price relative to the going price (tariff, or grey-market price): log-normal
    with median 1 and log-SD ``power_contract_log_sd``, from one uniform draw."""
    return math.exp(mining.power_contract_log_sd * STANDARD_NORMAL.inv_cdf(_open_unit(uniform_draw)))


def farm_efficiency_j_per_th(uniform_draw: float, mining: MiningConfig) -> float:
    """Efficiency of a farm found in the country at the start, J/TH: log-normal around the fleet's
    median with log-SD ``fleet_efficiency_log_sd`` (farms bought their rigs in different years)."""
    return mining.fleet_efficiency_j_per_th * math.exp(mining.fleet_efficiency_log_sd * STANDARD_NORMAL.inv_cdf(_open_unit(uniform_draw)))


def _open_unit(uniform_draw: float) -> float:
    # a uniform draw of exactly 0 would map to minus infinity
    return min(max(uniform_draw, 1e-12), 1.0 - 1e-12)


def cash_margin_usd_per_th_month(
    hashprice_usd_per_ph_day: float,
    efficiency_j_per_th: float,
    power_price_usd_per_kwh: float,
    mining: MiningConfig,
    uptime_share: float = 1.0,
) -> float:
    """Monthly operating cash flow of one TH/s, USD, run as a miner would run it: only when each
    MWh earns more than it costs (otherwise idle), at the uptime the grid allows, less the fixed
    costs paid whether it runs or not. Takes a hashprice or an array of them (a path)."""
    revenue_per_mwh = revenue_usd_per_mwh(hashprice_usd_per_ph_day, efficiency_j_per_th)
    margin_per_mwh = np.maximum(0.0, operating_margin_usd_per_mwh(revenue_per_mwh, power_price_usd_per_kwh))
    energy_mwh = monthly_energy_mwh(farm_power_mw(1.0, efficiency_j_per_th), uptime_share)
    return margin_per_mwh * energy_mwh - fixed_cost_usd_per_th_month(efficiency_j_per_th, mining)


def used_rig_value_usd_per_th(
    hashprice_usd_per_ph_day: float, efficiency_j_per_th: float, world_power_price_usd_per_kwh: float,
    mining: MiningConfig,
) -> float:
    """What a used rig fetches on the world's second-hand market, USD per TH/s.

    A buyer with the world's median power price pays ``used_rig_payback_months`` of the cash
    margin the rig would earn it at today's hashprice; never less than scrap. So old, hungry rigs
    are worth little, and every rig is worth less after a halving (facts: $3-8/TH for older
    models in late 2025 against $15-25 in 2022-23).
    """
    margin = cash_margin_usd_per_th_month(hashprice_usd_per_ph_day, efficiency_j_per_th,
                                          world_power_price_usd_per_kwh, mining)
    margin += fixed_cost_usd_per_th_month(efficiency_j_per_th, mining)  # the buyer's own fixed costs are not the rig's
    return np.maximum(mining.scrap_value_usd_per_th, mining.used_rig_payback_months * margin)


def expected_used_rig_value_usd_per_th(
    expected_hashprice_path: np.ndarray, efficiency_j_per_th: float, world_power_price_usd_per_kwh: float,
    mining: MiningConfig, buyer_discount_factors: np.ndarray, shipping_usd_per_th: float,
) -> float:
    """What a used rig fetches second-hand when the buyer foresees what the seller foresees, USD per
    TH/s, net of shipping it to the buyer.

    The buyer has the world's median power price and its own fixed costs (it hosts the rig too, as
    the seller's own valuation counts them). It pays the market's convention,
    ``used_rig_payback_months`` of the rig's cash margin along the expected hashprice path
    (halvings and difficulty growth included), but never more than running the rig is worth to it:
    the margins over the rest of the path, discounted (``buyer_discount_factors``, one a month) and
    stopped when carrying on no longer pays (``operating_value_usd_per_th``). Without that cap a
    buyer would pay a year's pre-halving margin for a rig that earns nothing after the halving,
    and every farm would sell to it. The seller gets the price less ``shipping_usd_per_th``, never
    less than scrap."""
    path = np.asarray(expected_hashprice_path)
    margins = cash_margin_usd_per_th_month(path, efficiency_j_per_th, world_power_price_usd_per_kwh, mining)
    months = max(1, round(mining.used_rig_payback_months))
    first_months = margins[:months]
    convention = float(np.add.reduce(first_months) / len(first_months)) * mining.used_rig_payback_months  # mean margin
    worth_to_buyer = operating_value_usd_per_th(margins, np.asarray(buyer_discount_factors)[:len(margins)])
    return float(max(mining.scrap_value_usd_per_th, min(convention, worth_to_buyer) - shipping_usd_per_th))


def exits(months_not_worth_keeping: int, mining: MiningConfig, cash_usd: float) -> bool:
    """A farm sells up after a run of months in which it was worth less than its salvage value,
    or at once when its cash is gone."""
    return months_not_worth_keeping >= mining.exit_after_months_below_salvage or cash_usd <= 0.0


def licensed_margin_usd_per_th_month(
    cash_margin_usd_per_th_month: float,
    revenue_usd_per_th_month: float,
    domestic_sale_share: float,
    mining: MiningConfig,
    profit_tax_rate: float,
    licence_fee_usd_per_th_year: float,
) -> float:
    """Expected monthly profit of one licensed TH/s, USD: the cash margin at the licensed power
    price, less the price given up on coins that must be sold locally, less tax on a profit,
    less the licence fee spread over the farm's TH/s."""
    before_tax = (cash_margin_usd_per_th_month - revenue_usd_per_th_month * domestic_sale_share
                  * mining.domestic_sale_discount_share)
    after_tax = before_tax - profit_tax_rate * np.maximum(before_tax, 0.0)  # tax on a profit only
    return after_tax - licence_fee_usd_per_th_year / MONTHS_PER_YEAR


def grey_margin_usd_per_th_month(
    cash_margin_usd_per_th_month: float,
    detection_probability_monthly: float,
    value_at_stake_usd_per_th: float,
) -> float:
    """Expected monthly profit of one unlicensed TH/s, USD: the untaxed cash margin at the grey
    power price, less the chance of being caught this month times what is then lost (cash,
    rigs and the fine, per TH/s)."""
    return cash_margin_usd_per_th_month - detection_probability_monthly * value_at_stake_usd_per_th


def goes_grey(licensed_margin: float, grey_margin: float, licence_available: bool, grey_power_access: bool) -> bool:
    """Whether a farm mines without a licence.

    A farm with a route to off-meter power goes grey when grey mining is expected to earn more
    than licensed mining, or when no licence can be had. A farm without one cannot buy megawatts
    from the grid unlicensed, so it is grey only when no licence can be had at all (then it mines
    covertly at the ordinary tariff, risking seizure).
    """
    if not grey_power_access:
        return not licence_available
    return not licence_available or grey_margin > licensed_margin


def repatriable_profit_usd(
    profit_usd: float, domestic_sale_share: float, repatriation_share_of_profit: float
) -> float:
    """Profit a foreign-owned miner sends home this month, USD.

    Coins that must be sold on domestic licensed exchanges earn local currency that stays
    in the country; only profit on the rest can leave, and the owner takes home a share.
    """
    if profit_usd <= 0:
        return 0.0
    return profit_usd * (1.0 - domestic_sale_share) * repatriation_share_of_profit


def profit_tax_usd(profit_usd: float, tax_rate: float, tax_holiday: bool) -> float:
    """Tax on a miner's monthly profit, USD (none on losses or during a tax holiday)."""
    if tax_holiday or profit_usd <= 0:
        return 0.0
    return profit_usd * tax_rate


def global_hashrate_share(national_ehs: float, world_ehs: float) -> float:
    """The country's share of the world's running hashrate (EH/s over EH/s); 0 when no rig
    anywhere runs (a price so low that every fleet, the world's too, has switched off)."""
    return national_ehs / world_ehs if world_ehs > 0.0 else 0.0
