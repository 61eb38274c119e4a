"""Named metrics: what a target measures in one run, as a function of its monthly table.

Each metric takes the run's monthly table (the columns of ``cryptoabm.model.MonthlyIndicators``,
with ``date`` as "YYYY-MM"), the calendar window the target names (first and last month, both
included) and the run's scenario (for inputs such as the share of people online), and returns
one number. A window the run does not cover is an error of the target file, caught when it is
loaded, so a metric may assume its window's months are in the table.

``METRICS`` maps each name to its :class:`Metric`: the function, the columns it reads, the
column a figure shows it on (``column``), and whether the observed value is on that column's
scale (``on_column_scale``: then a figure can draw the observed value over the model's band).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd

from cryptoabm.config import Scenario

Window = tuple[str, str]  # first and last month, "YYYY-MM", both included


def in_window(table: pd.DataFrame, window: Window) -> pd.DataFrame:
    """The rows of the table whose month lies in the window."""
    first, last = window
    return table[(table["date"] >= first) & (table["date"] <= last)]


def before_window(table: pd.DataFrame, window: Window) -> pd.DataFrame:
    """The rows of the table before the window's first month."""
    return table[table["date"] < window[0]]


def _last(table: pd.DataFrame, window: Window, column: str) -> float:
    return float(in_window(table, window)[column].iloc[-1])


def _before(table: pd.DataFrame, window: Window, column: str, start_value: float = 0.0) -> float:
    """The column's value in the month before the window (``start_value`` if the run starts in it)."""
    earlier = before_window(table, window)
    return float(earlier[column].iloc[-1]) if len(earlier) else start_value


# -- adoption and use ---------------------------------------------------------------------
def downloads_among_online_share(table: pd.DataFrame, window: Window, scenario: Scenario) -> float:
    """Share of people with internet access who had downloaded a wallet by the window's end
    (only citizens online can adopt, so this is ever-downloaded / internet access share)."""
    online = scenario.population.internet_access_share
    return _last(table, window, "ever_downloaded_share") / online if online > 0 else float("nan")


def first_month_download_share(table: pd.DataFrame, window: Window, scenario: Scenario) -> float:
    """Of all downloads made in the window, the share made in its first month."""
    rows = in_window(table, window)
    start = _before(table, window, "ever_downloaded_share")
    total = float(rows["ever_downloaded_share"].iloc[-1]) - start
    first = float(rows["ever_downloaded_share"].iloc[0]) - start
    return first / total if total > 0 else float("nan")


def window_download_share(table: pd.DataFrame, window: Window, scenario: Scenario) -> float:
    """Of all downloads made by the window's end (since the run began), the share made within
    the window: near zero when the rush is over."""
    total = _last(table, window, "ever_downloaded_share")
    within = total - _before(table, window, "ever_downloaded_share")
    return within / total if total > 0 else float("nan")


def bonus_driven_download_share(table: pd.DataFrame, window: Window, scenario: Scenario) -> float:
    """Of the downloads made in the window, the share the bonus drew in (adopters who would not
    have downloaded that month without it)."""
    rows = in_window(table, window)
    downloads = float(rows["new_adopters"].sum())
    return float(rows["bonus_driven_adopters"].sum()) / downloads if downloads > 0 else float("nan")


def mean_active_share(table: pd.DataFrame, window: Window, scenario: Scenario) -> float:
    """Mean share of citizens actively using a wallet over the window."""
    return float(in_window(table, window)["active_share"].mean())


def paid_last_12_months_share(table: pd.DataFrame, window: Window, scenario: Scenario) -> float:
    """Share of citizens who paid in crypto at least once in the 12 months to the window's end
    (ever, when the run is younger than a year)."""
    return _last(table, window, "paid_last_12_months_share")


# -- merchants ----------------------------------------------------------------------------
def mean_merchant_accept_share(table: pd.DataFrame, window: Window, scenario: Scenario) -> float:
    """Mean share of merchants accepting crypto over the window."""
    return float(in_window(table, window)["merchant_accept_share"].mean())


def merchant_sale_last_12_months_share(table: pd.DataFrame, window: Window, scenario: Scenario) -> float:
    """Share of merchants with any crypto sale in the 12 months to the window's end."""
    return _last(table, window, "merchant_sale_last_12_months_share")


def mean_receipts_converted_share(table: pd.DataFrame, window: Window, scenario: Scenario) -> float:
    """Mean, over the window's months in which any merchant accepts, of the share of accepting
    merchants who convert receipts to cash at once (NaN if none ever accepts)."""
    values = in_window(table, window)["receipts_converted_share"].to_numpy(dtype=float)
    return float(np.nanmean(values)) if np.isfinite(values).any() else float("nan")


# -- remittances --------------------------------------------------------------------------
def crypto_remittance_share(table: pd.DataFrame, window: Window, scenario: Scenario) -> float:
    """Share of the window's remittances that came through crypto wallets (sums, USD)."""
    rows = in_window(table, window)
    total = float(rows["remittances_usd"].sum())
    return float(rows["crypto_remittances_usd"].sum()) / total if total > 0 else float("nan")


# -- mining -------------------------------------------------------------------------------
def total_grey_mw_caught(table: pd.DataFrame, window: Window, scenario: Scenario) -> float:
    """Full-load MW of grey farms caught and closed by enforcement within the window."""
    return float(in_window(table, window)["grey_mw_caught"].sum())


def mean_mining_load_mw(table: pd.DataFrame, window: Window, scenario: Scenario) -> float:
    """Mean power served to miners over the window, MW."""
    return float(in_window(table, window)["mining_load_mw"].mean())


def licensed_miners(table: pd.DataFrame, window: Window, scenario: Scenario) -> float:
    """Licences in force at the window's end."""
    return _last(table, window, "licensed_miners")


def mean_licensed_power_use_share(table: pd.DataFrame, window: Window, scenario: Scenario) -> float:
    """Mean over the window of the power licensed farms drew as a share of their full-load
    power (the share of their quota they bought); months with no licensed farm are skipped."""
    values = in_window(table, window)["licensed_power_use_share"].to_numpy(dtype=float)
    return float(np.nanmean(values)) if np.isfinite(values).any() else float("nan")


def mining_operations(table: pd.DataFrame, window: Window, scenario: Scenario) -> float:
    """Mean number of farms (licensed and grey) in the country over the window."""
    return float(in_window(table, window)["miners"].mean())


# -- the world market ---------------------------------------------------------------------
def mean_hashprice_usd_per_ph_day(table: pd.DataFrame, window: Window, scenario: Scenario) -> float:
    """Mean hashprice over the window, USD per PH/s per day."""
    return float(in_window(table, window)["hashprice_usd_per_ph_day"].mean())


def world_hashrate_change(table: pd.DataFrame, window: Window, scenario: Scenario) -> float:
    """Relative change of the whole network's hashrate from the month before the window to the
    window's end (e.g. -0.1: a 10% fall)."""
    before = _before(table, window, "world_hashrate_ehs", start_value=float("nan"))
    return _last(table, window, "world_hashrate_ehs") / before - 1.0


def world_hashrate_vs_record(table: pd.DataFrame, window: Window, scenario: Scenario) -> float:
    """The whole network's hashrate in the window's last month against the recorded hashrate of
    that month (src/cryptoabm/data/btc_market_monthly.csv), as a relative gap (0.1: 10% above)."""
    from cryptoabm.market import load_market_history

    recorded = load_market_history().at[pd.Period(window[1], freq="M"), "world_hashrate_ehs"]
    return _last(table, window, "world_hashrate_ehs") / float(recorded) - 1.0


def world_hashrate_dip(table: pd.DataFrame, window: Window, scenario: Scenario) -> float:
    """The deepest the whole network's hashrate falls within the window against the month before
    it, as a relative change (e.g. -0.05; positive when it only grows): a halving's response
    over the months that follow it."""
    before = _before(table, window, "world_hashrate_ehs", start_value=float("nan"))
    return float(in_window(table, window)["world_hashrate_ehs"].min()) / before - 1.0


@dataclass(frozen=True)
class Metric:
    function: Callable[[pd.DataFrame, Window, Scenario], float]
    columns: tuple[str, ...]  # the monthly columns it reads (besides date)
    column: str  # the column a figure shows it on
    on_column_scale: bool  # the observed value can be drawn on that column's axis
    unit: str  # "share", "MW", "count", "USD/PH/day", "change"

    @property
    def description(self) -> str:
        return " ".join((self.function.__doc__ or "").strip().split("\n\n")[0].split())


METRICS: dict[str, Metric] = {
    "downloads_among_online_share": Metric(downloads_among_online_share, ("ever_downloaded_share",),
                                           "ever_downloaded_share", False, "share"),
    "first_month_download_share": Metric(first_month_download_share, ("ever_downloaded_share",),
                                         "ever_downloaded_share", False, "share"),
    "window_download_share": Metric(window_download_share, ("ever_downloaded_share",),
                                    "ever_downloaded_share", False, "share"),
    "bonus_driven_download_share": Metric(bonus_driven_download_share, ("new_adopters", "bonus_driven_adopters"),
                                          "new_adopters", False, "share"),
    "mean_active_share": Metric(mean_active_share, ("active_share",), "active_share", True, "share"),
    "paid_last_12_months_share": Metric(paid_last_12_months_share, ("paid_last_12_months_share",),
                                        "paid_last_12_months_share", True, "share"),
    "mean_merchant_accept_share": Metric(mean_merchant_accept_share, ("merchant_accept_share",),
                                         "merchant_accept_share", True, "share"),
    "merchant_sale_last_12_months_share": Metric(merchant_sale_last_12_months_share,
                                                 ("merchant_sale_last_12_months_share",),
                                                 "merchant_sale_last_12_months_share", True, "share"),
    "mean_receipts_converted_share": Metric(mean_receipts_converted_share, ("receipts_converted_share",),
                                            "receipts_converted_share", True, "share"),
    "crypto_remittance_share": Metric(crypto_remittance_share, ("crypto_remittances_usd", "remittances_usd"),
                                      "crypto_remittances_usd", False, "share"),
    "total_grey_mw_caught": Metric(total_grey_mw_caught, ("grey_mw_caught",), "grey_mw_caught", False, "MW"),
    "mean_mining_load_mw": Metric(mean_mining_load_mw, ("mining_load_mw",), "mining_load_mw", True, "MW"),
    "licensed_miners": Metric(licensed_miners, ("licensed_miners",), "licensed_miners", True, "count"),
    "mean_licensed_power_use_share": Metric(mean_licensed_power_use_share, ("licensed_power_use_share",),
                                            "licensed_power_use_share", True, "share"),
    "mining_operations": Metric(mining_operations, ("miners",), "miners", True, "count"),
    "mean_hashprice_usd_per_ph_day": Metric(mean_hashprice_usd_per_ph_day, ("hashprice_usd_per_ph_day",),
                                            "hashprice_usd_per_ph_day", True, "USD/PH/day"),
    "world_hashrate_change": Metric(world_hashrate_change, ("world_hashrate_ehs",), "world_hashrate_ehs", False,
                                    "change"),
    "world_hashrate_vs_record": Metric(world_hashrate_vs_record, ("world_hashrate_ehs",), "world_hashrate_ehs", False,
                                       "change"),
    "world_hashrate_dip": Metric(world_hashrate_dip, ("world_hashrate_ehs",), "world_hashrate_ehs", False, "change"),
}


def evaluate(name: str, table: pd.DataFrame, window: Window, scenario: Scenario) -> float:
    """The named metric of one run's monthly table over the window."""
    return METRICS[name].function(table, window, scenario)
