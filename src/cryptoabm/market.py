"""The world bitcoin market: price path, rest-of-world hashrate and the block subsidy.

The price path is drawn once, at the start, from the market stream, so every policy sees the
same path for a given seed. Three sources, in order of precedence for each month:

1. a user CSV (``market.price_csv``: columns ``month``, ``btc_price_usd`` and optionally
   ``world_hashrate_ehs``, months 0..N), which replaces the whole path;
2. the recorded monthly history (``market.use_history``; ``data/btc_market_monthly.csv``,
   2019-01 to 2025-12, sources in ``data/README.md``) for the months it covers;
3. a simulated path after that: a random walk in log price whose monthly returns are either
   Student-t (fat tails, scaled to the configured volatility) or a block bootstrap of the
   recorded monthly returns (their volatility clustering and tails kept, their mean replaced by
   the configured drift).

Rest-of-world hashrate is recorded (history or CSV) where a record exists; otherwise it is the
equilibrium of the world fleet (:class:`WorldFleet`): rigs run while the hashprice covers their
power bill, new rigs are ordered when they beat the cost of capital, idle rigs leave.
"""

from __future__ import annotations

import functools
import math
from collections import deque
from dataclasses import dataclass
from importlib.resources import files

import numpy as np
import pandas as pd

from cryptoabm.config import ConfigError, MarketConfig, Scenario, WorldMiningConfig
from cryptoabm.rules.mining import hashprice_usd_per_ph_day, network_btc_per_day
from cryptoabm.rules.units import MONTHS_PER_YEAR, PH_PER_EH
from cryptoabm.rules.world_mining import (
    cash_cost_usd_per_ph_day,
    efficiency_at,
    fixed_cost_usd_per_ph_day,
    leaving_capacity_ehs,
    lognormal_classes,
    merit_order_running_share,
    new_rig_return_annual,
    rig_orders_ehs,
    sticky_running_share,
)

HISTORY_FILE = "btc_market_monthly.csv"
MIN_HASHRATE_PH = 1e-9  # a floor under the network's hashrate in a division (it is never truly zero)
MIN_ORDER_BASE_EHS = 1.0  # orders scale with the running fleet, but never with less than this
HISTORY_COLUMNS = ("month", "btc_price_usd", "world_hashrate_ehs")


# ---------------------------------------------------------------------------------------
# Recorded history and user CSVs
# ---------------------------------------------------------------------------------------
def history_path() -> str:
    """Where the packaged monthly history lives."""
    return str(files("cryptoabm") / "data" / HISTORY_FILE)


def load_market_history(path: str | None = None) -> pd.DataFrame:
    """The recorded monthly BTC price (month-end close, USD) and world hashrate (monthly mean,
    EH/s), indexed by calendar month ``YYYY-MM``. Refuses a malformed file with one line.

    The packaged file is read once per process (a run only reads it)."""
    if path is None:
        return _packaged_history().copy()
    return _read_market_history(path)


@functools.cache
def _packaged_history() -> pd.DataFrame:
    return _read_market_history(history_path())


def _read_market_history(path: str) -> pd.DataFrame:

    def refuse(message: str) -> ConfigError:
        return ConfigError(path, "", message)

    try:
        table = pd.read_csv(path, dtype={"month": str})
    except (OSError, ValueError, UnicodeDecodeError) as exc:
        raise refuse(f"cannot read market history: {exc}") from None
    missing = [c for c in HISTORY_COLUMNS if c not in table.columns]
    if missing:
        raise refuse(f"market history lacks column(s) {', '.join(missing)}")
    if table.empty:
        raise refuse("market history has no rows")
    months = pd.PeriodIndex(pd.to_datetime(table["month"], format="%Y-%m", errors="coerce"), freq="M")
    if months.isna().any():
        row = int(np.flatnonzero(months.isna())[0]) + 2
        raise refuse(f"line {row}: month must be YYYY-MM (got {table['month'].iloc[row - 2]!r})")
    if months.has_duplicates:
        raise refuse(f"month {months[months.duplicated()][0]} appears twice")
    expected = pd.period_range(months.min(), months.max(), freq="M")
    if len(months) != len(expected) or not (months == expected).all():
        gap = sorted(set(expected) - set(months))
        raise refuse(f"months must be consecutive and in order; {gap[0] if gap else 'order'} is out of place")
    for column in HISTORY_COLUMNS[1:]:
        values = pd.to_numeric(table[column], errors="coerce").to_numpy(dtype=float)
        bad = ~np.isfinite(values) | (values <= 0)
        if bad.any():
            row = int(np.flatnonzero(bad)[0])
            raise refuse(f"month {months[row]}: {column} must be a positive number (got {table[column].iloc[row]!r})")
        table[column] = values
    table.index = months
    return table[list(HISTORY_COLUMNS[1:])]


def path_from_csv(csv_path: str, months: int) -> tuple[np.ndarray, np.ndarray | None]:
    """BTC price (and world hashrate, if the CSV has it) for months 0..months from a user CSV
    with columns ``month`` (0, 1, ...), ``btc_price_usd`` and optionally ``world_hashrate_ehs``."""
    try:
        table = pd.read_csv(csv_path)
    except (OSError, ValueError, UnicodeDecodeError) as exc:
        raise ConfigError(csv_path, "market.price_csv", f"cannot read price CSV: {exc}") from None
    missing = {"month", "btc_price_usd"} - set(table.columns)
    if missing:
        raise ConfigError(csv_path, "market.price_csv", f"price CSV lacks column(s) {', '.join(sorted(missing))}")
    if table["month"].duplicated().any():
        raise ConfigError(csv_path, "market.price_csv", f"month {table['month'][table['month'].duplicated()].iloc[0]} appears twice")
    indexed = table.set_index("month")
    needed = list(range(months + 1))
    absent = [m for m in needed if m not in indexed.index]
    if absent:
        raise ConfigError(csv_path, "market.price_csv", f"price CSV has no row for month {absent[0]} (needs months 0-{months})")
    columns = ["btc_price_usd"] + (["world_hashrate_ehs"] if "world_hashrate_ehs" in indexed.columns else [])
    out = []
    for column in columns:
        values = pd.to_numeric(indexed.loc[needed, column], errors="coerce").to_numpy(dtype=float)
        if not np.all(np.isfinite(values)) or np.any(values <= 0):
            raise ConfigError(csv_path, "market.price_csv", f"{column} must be positive numbers")
        out.append(values)
    return out[0], (out[1] if len(out) > 1 else None)


# ---------------------------------------------------------------------------------------
# Simulated price returns
# ---------------------------------------------------------------------------------------
def mean_log_return_monthly(config: MarketConfig, variance_monthly: float) -> float:
    """The monthly mean log return that gives the configured drift (``price_drift_annual``).

    ``price_drift_of = "median"``: the median price grows by the drift a year, so the mean log
    return is log(1 + drift) / 12 whatever the volatility (drift 0: the typical path stays flat,
    the mean price rises by about half the variance a year). ``"mean"``: the mean price grows by
    the drift, so the log return gives up half the monthly variance (drift 0: the mean price stays
    flat and the median falls, by about 15% a year at 55% volatility).
    """
    if config.price_drift_of == "median":
        return math.log1p(config.price_drift_annual) / MONTHS_PER_YEAR
    return config.price_drift_annual / MONTHS_PER_YEAR - 0.5 * variance_monthly


def student_t_log_returns(config: MarketConfig, months: int, rng: np.random.Generator) -> np.ndarray:
    """Monthly log returns of a geometric random walk with Student-t shocks of unit variance:
    the drift of :func:`mean_log_return_monthly`, volatility ``price_volatility_annual``."""
    df = config.price_shock_tail_df
    shocks = rng.standard_t(df, size=months) * math.sqrt((df - 2.0) / df)
    sigma_month = config.price_volatility_annual / math.sqrt(MONTHS_PER_YEAR)
    return mean_log_return_monthly(config, sigma_month**2) + sigma_month * shocks


def block_bootstrap_log_returns(config: MarketConfig, recorded_log_returns: np.ndarray, months: int,
                                rng: np.random.Generator) -> np.ndarray:
    """Monthly log returns resampled in blocks of ``bootstrap_block_months`` consecutive recorded
    months (a moving-block bootstrap), which keeps their fat tails and volatility clustering.
    The recorded mean return is replaced by the configured drift (:func:`mean_log_return_monthly`):
    2019-25 rose about 60% a year, which no forecast should assume."""
    block = min(config.bootstrap_block_months, recorded_log_returns.size)
    starts = rng.integers(0, recorded_log_returns.size - block + 1, size=-(-months // block))
    resampled = np.concatenate([recorded_log_returns[s : s + block] for s in starts])[:months]
    drift_month = mean_log_return_monthly(config, float(np.var(recorded_log_returns)))
    return resampled - float(np.mean(recorded_log_returns)) + drift_month


@dataclass(frozen=True)
class MarketPath:
    """The exogenous market for months 0..N: price, and world hashrate where it is recorded."""

    btc_price_usd: np.ndarray
    recorded_world_hashrate_ehs: np.ndarray  # NaN where not recorded (the world fleet decides)
    world_hashrate_at_start_ehs: float = math.nan  # the record's month 0 when only the price is followed


def market_path(scenario: Scenario, rng: np.random.Generator) -> MarketPath:
    """Build the whole path once. The simulated returns are always drawn, for every month, so
    that the market stream (and with it every other draw) does not depend on the history used."""
    config, months = scenario.market, scenario.months
    history = load_market_history() if (config.use_history or config.price_process == "block_bootstrap") else None
    if history is not None and config.price_process == "block_bootstrap":
        returns = block_bootstrap_log_returns(config, np.diff(np.log(history["btc_price_usd"].to_numpy())), months, rng)
    else:
        returns = student_t_log_returns(config, months, rng)
    hashrate = np.full(months + 1, np.nan)
    if config.price_csv:
        prices, recorded = path_from_csv(config.price_csv, months)
        if recorded is not None:
            hashrate = recorded
        return MarketPath(prices, hashrate)
    prices = np.empty(months + 1)
    prices[0] = config.btc_price_usd
    recorded_until = -1
    if config.use_history:
        month0 = pd.Period(scenario.start_month, freq="M") - 1
        for m in range(months + 1):
            if month0 + m not in history.index:
                break
            prices[m] = history.at[month0 + m, "btc_price_usd"]
            hashrate[m] = history.at[month0 + m, "world_hashrate_ehs"]
            recorded_until = m
    start = max(recorded_until, 0)
    prices[start + 1 :] = prices[start] * np.exp(np.cumsum(returns[start:]))
    if config.use_history and not config.recorded_hashrate:
        return MarketPath(prices, np.full(months + 1, np.nan), float(hashrate[0]))
    return MarketPath(prices, hashrate)


# ---------------------------------------------------------------------------------------
# The rest of the world's fleet
# ---------------------------------------------------------------------------------------
class WorldFleet:
    """Rest-of-world mining capacity (EH/s) by vintage (rows: efficiency) and power-price class
    (columns). Rules in :mod:`cryptoabm.rules.world_mining`."""

    def __init__(self, world: WorldMiningConfig, months_after_reference_at_start: int):
        self.world = world
        self.months_after_reference_at_start = months_after_reference_at_start  # run month 0 vs the technology reference
        self.power_price_usd_per_kwh, self.power_weights = lognormal_classes(
            world.power_price_median_usd_per_kwh, world.power_price_log_sd, world.power_price_classes)
        self.efficiency_j_per_th = np.empty(0)
        self.running_now_ehs = 0.0  # running this month, before idle and worn rigs leave
        self.capacity_ehs = np.empty((0, world.power_price_classes))
        self.running_share = np.empty((0, world.power_price_classes))
        self.orders: deque[np.ndarray] = deque()  # EH/s by power class, oldest first
        self.months_elapsed = 0

    @property
    def installed_ehs(self) -> float:
        return float(self.capacity_ehs.sum())

    @property
    def running_ehs(self) -> float:
        return float((self.capacity_ehs * self.running_share).sum())

    def cash_cost(self) -> np.ndarray:
        return cash_cost_usd_per_ph_day(self.efficiency_j_per_th[:, None], self.power_price_usd_per_kwh[None, :])

    def start(self, running_ehs: float, hashprice: float, months_elapsed: int) -> None:
        """The fleet as found: the rigs that are in the money at today's hashprice, spread over
        efficiency and power classes in proportion to their weights, adding up to ``running_ehs``."""
        self.months_elapsed = months_elapsed
        median = efficiency_at(self.world.fleet_efficiency_j_per_th, self.world,
                               self.months_after_reference_at_start + months_elapsed)
        self.efficiency_j_per_th, efficiency_weights = lognormal_classes(
            median, self.world.fleet_efficiency_log_sd, self.world.efficiency_classes)
        weights = efficiency_weights[:, None] * self.power_weights[None, :]
        cost = self.cash_cost()
        in_money = cost <= max(hashprice, float(cost.min()))
        weights = np.where(in_money, weights, 0.0)
        self.capacity_ehs = running_ehs * weights / weights.sum()
        self.running_share = in_money.astype(float)
        self.running_now_ehs = running_ehs
        self.orders = deque(np.zeros(self.world.power_price_classes) for _ in range(self.world.entry_lag_months))

    def new_rig_efficiency(self) -> float:
        """The best rigs on sale this month, J/TH."""
        return efficiency_at(self.world.new_rig_efficiency_j_per_th, self.world,
                             self.months_after_reference_at_start + self.months_elapsed)

    def step(self, network_usd_per_day: float, national_ehs: float, pay_ahead_ratio: float = 1.0) -> None:
        """One month: ordered rigs arrive, the merit order decides who runs, idle and worn rigs
        leave, and new orders are placed at the hashprice expected over the rigs' first years:
        today's, scaled by ``pay_ahead_ratio`` (the network's pay in coins over that horizon
        against today's: below 1 when a halving falls within it)."""
        self.months_elapsed += 1
        if self.orders:
            arriving = self.orders.popleft()
            if arriving.sum() > 0:
                self.efficiency_j_per_th = np.append(self.efficiency_j_per_th, self.new_rig_efficiency())
                self.capacity_ehs = np.vstack([self.capacity_ehs, arriving])
                self.running_share = np.vstack([self.running_share, np.ones_like(arriving)])
        cost = self.cash_cost()
        previous = self.running_share
        self.running_share = merit_order_running_share(self.capacity_ehs, cost, network_usd_per_day, national_ehs)
        if self.world.switch_off_share_monthly < 1.0:
            self.running_share = sticky_running_share(self.running_share, previous, self.world)
        running = self.running_now_ehs = self.running_ehs
        hashprice = network_usd_per_day / max((running + national_ehs) * PH_PER_EH, MIN_HASHRATE_PH)
        covers_fixed = hashprice - cost >= fixed_cost_usd_per_ph_day(self.world)
        self.capacity_ehs = self.capacity_ehs - leaving_capacity_ehs(self.capacity_ehs, self.running_share, covers_fixed,
                                                                     self.world)
        expected = new_rig_return_annual(hashprice * pay_ahead_ratio, self.new_rig_efficiency(), self.power_price_usd_per_kwh,
                                         self.world)
        # orders scale with the fleet (its miners' reach), never from nothing
        self.orders.append(rig_orders_ehs(expected, self.world, self.power_weights, max(running, MIN_ORDER_BASE_EHS)))
        if not self.world.entry_lag_months:
            arriving = self.orders.popleft()
            self.efficiency_j_per_th = np.append(self.efficiency_j_per_th, self.new_rig_efficiency())
            self.capacity_ehs = np.vstack([self.capacity_ehs, arriving])
            self.running_share = np.vstack([self.running_share, np.zeros_like(arriving)])

    def shock(self, factor: float) -> None:
        """Scale the whole fleet (a ban elsewhere switches rigs off for good, or brings them back)."""
        self.capacity_ehs = self.capacity_ehs * factor


class Market:
    """The world market as seen by the country's miners, month by month."""

    def __init__(self, scenario: Scenario, rng: np.random.Generator):
        self.config = scenario.market
        path = market_path(scenario, rng)
        self.price_path_usd = path.btc_price_usd
        self.recorded_world_hashrate_ehs = path.recorded_world_hashrate_ehs
        self.month = 0
        self.national_hashrate_ehs = 0.0
        reference = pd.Period(scenario.world_mining.technology_reference_month, freq="M")
        month0 = pd.Period(scenario.start_month, freq="M") - 1
        self.fleet = WorldFleet(scenario.world_mining, (month0 - reference).n)
        recorded_at_start = self.recorded_world_hashrate_ehs[0]
        if not np.isfinite(recorded_at_start):
            recorded_at_start = path.world_hashrate_at_start_ehs
        self.rest_of_world_hashrate_ehs = recorded_at_start if np.isfinite(recorded_at_start) else self.config.global_hashrate_ehs
        self.fleet_started = False
        self.pending_hashrate_shock = 1.0
        self.hashprice_usd_per_ph_day = self.hashprice_at(self.global_hashrate_ehs)

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

    def pay_ahead_ratio(self, months_ahead: int) -> float:
        """The network's mean pay in coins over the next ``months_ahead`` months against this
        month's: what miners who know the halving schedule expect of the subsidy (1 with no
        halving within the horizon, or a horizon of 0)."""
        if months_ahead <= 0:
            return 1.0
        now = self.subsidy_in_month(self.month)
        ahead = [self.subsidy_in_month(self.month + k) for k in range(1, months_ahead + 1)]
        fee_share = self.config.fee_share_of_miner_revenue  # fees are a share of pay: they scale with the subsidy
        return (sum(ahead) / len(ahead)) / now if now > 0 and fee_share < 1 else 1.0

    def network_usd_per_day(self) -> float:
        """What the network pays all miners a day this month, USD (subsidy and fees at today's price)."""
        return network_btc_per_day(self.block_subsidy_btc, self.config) * self.btc_price_usd

    @property
    def global_hashrate_ehs(self) -> float:
        """Whole network: the rest of the world plus this country's running miners."""
        return self.rest_of_world_hashrate_ehs + self.national_hashrate_ehs

    def hashprice_at(self, global_hashrate_ehs: float) -> float:
        """Revenue of a PH/s for a day at this month's price and subsidy, USD."""
        return hashprice_usd_per_ph_day(self.btc_price_usd, self.block_subsidy_btc,
                                        max(global_hashrate_ehs, MIN_HASHRATE_PH / PH_PER_EH), self.config)

    @property
    def new_rig_efficiency_j_per_th(self) -> float:
        """Efficiency of the best rigs on sale this month, J/TH (dated by the calendar)."""
        return efficiency_at(self.fleet.world.new_rig_efficiency_j_per_th, self.fleet.world,
                             self.fleet.months_after_reference_at_start + self.month)

    def advance(self) -> None:
        """Move to the next month: the price steps on its path."""
        self.month += 1

    def update_rest_of_world_hashrate(self) -> None:
        """Where the world's hashrate is recorded, the rest of the world is the record less this
        country; otherwise the world fleet finds its equilibrium at this month's price and
        subsidy. Runs after this month's events. The month's hashprice is then fixed: every miner
        plans and is paid at it (this country's own hashrate enters as it was last month)."""
        recorded = self.recorded_world_hashrate_ehs[self.month]
        if np.isfinite(recorded):
            self.rest_of_world_hashrate_ehs = max(0.0, recorded - self.national_hashrate_ehs)
            self.pending_hashrate_shock = 1.0  # the record already holds every shock
            self.hashprice_usd_per_ph_day = self.hashprice_at(self.global_hashrate_ehs)
            return
        if not self.fleet_started:
            self.fleet.start(self.rest_of_world_hashrate_ehs, self.hashprice_usd_per_ph_day, self.month - 1)
            self.fleet_started = True
        self.fleet.shock(self.pending_hashrate_shock)
        self.pending_hashrate_shock = 1.0
        self.fleet.step(self.network_usd_per_day(), self.national_hashrate_ehs,
                        self.pay_ahead_ratio(self.fleet.world.order_horizon_months))
        self.rest_of_world_hashrate_ehs = self.fleet.running_now_ehs
        self.hashprice_usd_per_ph_day = self.hashprice_at(self.global_hashrate_ehs)

    def shock_price(self, factor: float) -> None:
        """Scale the price from this month on (a crash or a rally)."""
        self.price_path_usd[self.month :] *= factor

    def shock_hashrate(self, factor: float) -> None:
        """Scale rest-of-world hashrate this month (a ban elsewhere switches rigs off)."""
        self.pending_hashrate_shock *= factor

    def observe_national_hashrate(self, hashrate_ehs: float) -> None:
        """The country's running hashrate this month: part of the world's hashrate reported this
        month; the world fleet and the hashprice see it next month."""
        self.national_hashrate_ehs = hashrate_ehs
