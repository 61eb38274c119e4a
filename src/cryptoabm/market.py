"""The exogenous bitcoin market: price path, rest-of-world hashrate and the block subsidy.

The price path is drawn once, at the start, from the market stream (so every policy sees
the same path for a given seed): monthly log returns follow a geometric Brownian motion
whose shocks are Student-t (fat tails), scaled to the configured annual volatility. A user
CSV (columns ``month``, ``btc_price_usd``, months 0..N) replaces the draw. Price shocks
scale the path from their month on. Rest-of-world hashrate grows on trend and follows miners'
revenue (price x subsidy) with a lag and an elasticity below one, as the record shows.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from cryptoabm.config import ConfigError, MarketConfig
from cryptoabm.rules.mining import hashprice_usd_per_ph_day
from cryptoabm.rules.units import MONTHS_PER_YEAR


def simulated_price_path(config: MarketConfig, months: int, rng: np.random.Generator) -> np.ndarray:
    """BTC price for months 0..months, USD: GBM with Student-t shocks of unit variance."""
    df = config.price_shock_tail_df
    shocks = rng.standard_t(df, size=months) * math.sqrt((df - 2.0) / df)
    sigma_month = config.price_volatility_annual / math.sqrt(MONTHS_PER_YEAR)
    drift_month = config.price_drift_annual / MONTHS_PER_YEAR - 0.5 * sigma_month**2
    log_path = np.concatenate([[0.0], np.cumsum(drift_month + sigma_month * shocks)])
    return config.btc_price_usd * np.exp(log_path)


def price_path_from_csv(csv_path: str, months: int) -> np.ndarray:
    """BTC price for months 0..months read from a CSV with columns month, btc_price_usd."""
    try:
        table = pd.read_csv(csv_path)
    except (OSError, ValueError) as exc:
        raise ConfigError(csv_path, "market.price_csv", f"cannot read price CSV: {exc}") from None
    missing = {"month", "btc_price_usd"} - set(table.columns)
    if missing:
        raise ConfigError(csv_path, "market.price_csv", f"price CSV lacks column(s) {', '.join(sorted(missing))}")
    prices = table.set_index("month")["btc_price_usd"]
    needed = range(months + 1)
    absent = [m for m in needed if m not in prices.index]
    if absent:
        raise ConfigError(csv_path, "market.price_csv", f"price CSV has no row for month {absent[0]} (needs months 0-{months})")
    path = prices.loc[list(needed)].to_numpy(dtype=float)
    if not np.all(np.isfinite(path)) or np.any(path <= 0):
        raise ConfigError(csv_path, "market.price_csv", "btc_price_usd must be positive numbers")
    return path


class Market:
    """The world market as seen by the country's miners, month by month."""

    def __init__(self, config: MarketConfig, months: int, rng: np.random.Generator):
        self.config = config
        if config.price_csv:
            self.price_path_usd = price_path_from_csv(config.price_csv, months)
        else:
            self.price_path_usd = simulated_price_path(config, months, rng)
        self.month = 0
        self.rest_of_world_hashrate_ehs = config.global_hashrate_ehs
        self.national_hashrate_ehs = 0.0

    @property
    def btc_price_usd(self) -> float:
        return float(self.price_path_usd[self.month])

    @property
    def block_subsidy_btc(self) -> float:
        """Subsidy this month, halved at each scheduled halving."""
        return self.subsidy_in_month(self.month)

    def subsidy_in_month(self, month: int) -> float:
        first = self.config.months_to_next_halving
        if first is None or month < first:
            return self.config.block_subsidy_btc
        halvings = 1 + (month - first) // self.config.halving_interval_months
        return self.config.block_subsidy_btc / 2**halvings

    def miners_revenue_index(self, month: int) -> float:
        """What the network pays miners in a month, up to a constant: subsidy x price."""
        return self.subsidy_in_month(month) * float(self.price_path_usd[month])

    @property
    def global_hashrate_ehs(self) -> float:
        """Whole network: the rest of the world plus this country's running miners."""
        return self.rest_of_world_hashrate_ehs + self.national_hashrate_ehs

    @property
    def hashprice_usd_per_ph_day(self) -> float:
        return hashprice_usd_per_ph_day(
            self.btc_price_usd,
            self.block_subsidy_btc,
            self.config.blocks_per_day,
            self.config.fee_share_of_miner_revenue,
            self.global_hashrate_ehs,
        )

    def advance(self) -> None:
        """Move to the next month: the price steps on its path."""
        self.month += 1

    def update_rest_of_world_hashrate(self) -> None:
        """Rest-of-world hashrate grows on trend and answers the change in miners' revenue
        (price x subsidy) of ``lag`` months ago, less than one for one: a price fall or a
        halving switches some rigs off, a rally brings more on. Runs after this month's
        shocks, so a lag of 0 answers at once."""
        growth = (1.0 + self.config.global_hashrate_growth_annual) ** (1.0 / MONTHS_PER_YEAR)
        lagged = self.month - self.config.hashrate_response_lag_months
        revenue_ratio = 1.0
        if lagged >= 1:
            revenue_ratio = self.miners_revenue_index(lagged) / self.miners_revenue_index(lagged - 1)
        self.rest_of_world_hashrate_ehs *= growth * revenue_ratio**self.config.hashrate_price_elasticity

    def shock_price(self, factor: float) -> None:
        """Scale the price from this month on (a crash or a rally)."""
        self.price_path_usd[self.month :] *= factor

    def shock_hashrate(self, factor: float) -> None:
        """Scale rest-of-world hashrate (a ban elsewhere switching rigs off)."""
        self.rest_of_world_hashrate_ehs *= factor

    def set_national_hashrate(self, hashrate_ehs: float) -> None:
        self.national_hashrate_ehs = hashrate_ehs
