"""Mining economics: what a terahash earns, what its power costs, and what a miner does.

Units: hashrate in TH/s (farms) or EH/s (networks), efficiency in J/TH, power in MW,
energy in MWh, money in USD.
"""

from __future__ import annotations

from collections.abc import Sequence

from cryptoabm.rules.units import DAYS_PER_MONTH, HOURS_PER_MONTH, KWH_PER_MWH, PH_PER_EH, TH_PER_PH, WATTS_PER_MW


def network_btc_per_day(block_subsidy_btc: float, blocks_per_day: float, fee_share_of_miner_revenue: float) -> float:
    """Coins paid to all miners per day (subsidy plus fees), BTC/day.

    Fees are given as their share of miners' total revenue, so the total is the subsidy
    grossed up: subsidy / (1 - fee share).
    """
    return block_subsidy_btc * blocks_per_day / (1.0 - fee_share_of_miner_revenue)


def hashprice_usd_per_ph_day(
    btc_price_usd: float,
    block_subsidy_btc: float,
    blocks_per_day: float,
    fee_share_of_miner_revenue: float,
    global_hashrate_ehs: float,
) -> float:
    """Revenue of one PH/s of hashrate for one day, USD/(PH/s)/day.

    The network pays (subsidy + fees) x blocks a day; each PH/s earns its share of the
    global hashrate. 3.125 BTC x 144 blocks at $90,000 over 1,000 EH/s with no fees
    gives $40.5 per PH/s per day.
    """
    btc_per_day = network_btc_per_day(block_subsidy_btc, blocks_per_day, fee_share_of_miner_revenue)
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


def rig_payback_months(
    revenue_per_mwh: float,
    power_price_usd_per_kwh: float,
    efficiency_j_per_th: float,
    fixed_cost_usd_per_th_month: float,
    rig_price_usd_per_th: float,
) -> float:
    """Months a newly bought TH/s takes to pay for itself at today's prices (inf if never).

    The monthly cash margin of one TH/s is (revenue - power) per MWh x the MWh it uses in
    a month, less fixed costs.
    """
    energy_mwh_per_th_month = monthly_energy_mwh(farm_power_mw(1.0, efficiency_j_per_th), 1.0)
    margin_per_th = (
        operating_margin_usd_per_mwh(revenue_per_mwh, power_price_usd_per_kwh) * energy_mwh_per_th_month
        - fixed_cost_usd_per_th_month
    )
    return rig_price_usd_per_th / margin_per_th if margin_per_th > 0 else float("inf")


def expansion_hashrate_ths(
    payback_months: float,
    payback_threshold_months: float,
    spare_cash_usd: float,
    expansion_share_of_cash: float,
    max_expansion_share_per_month: float,
    hashrate_ths: float,
    rig_price_usd_per_th: float,
) -> float:
    """TH/s of new rigs a miner buys this month.

    It buys only when rigs pay back within the threshold, spends a share of its spare cash,
    and grows by at most a share of its current hashrate in a month (delivery and set-up).
    """
    if payback_months > payback_threshold_months or spare_cash_usd <= 0:
        return 0.0
    affordable = spare_cash_usd * expansion_share_of_cash / rig_price_usd_per_th
    return max(0.0, min(affordable, hashrate_ths * max_expansion_share_per_month))


def exits(months_of_losses: int, exit_after_loss_months: int, cash_usd: float) -> bool:
    """A miner leaves after a run of loss-making months, or at once when its cash is gone."""
    return months_of_losses >= exit_after_loss_months or cash_usd <= 0.0


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
