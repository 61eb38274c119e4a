"""The price process: which price the drift sets, and the scenario factors experiments vary."""

from __future__ import annotations

import numpy as np
import pytest

from cryptoabm.config import MarketConfig
from cryptoabm.market import mean_log_return_monthly, student_t_log_returns

YEARS = 5


def five_year_log_changes(config: MarketConfig, paths: int = 4000) -> np.ndarray:
    rng = np.random.default_rng(7)
    return np.array([student_t_log_returns(config, 12 * YEARS, rng).sum() for _ in range(paths)])


def test_by_default_the_median_path_stays_flat_and_the_mean_price_rises():
    changes = five_year_log_changes(MarketConfig())
    assert MarketConfig().price_drift_of == "median"
    assert abs(np.median(changes)) < 0.05  # the typical path ends where it started
    assert np.mean(np.exp(changes)) > 1.3  # so the mean price rises (about sigma^2/2 a year)


def test_mean_flat_keeps_the_mean_price_and_lets_the_median_fall_by_half_the_variance():
    config = MarketConfig(price_drift_of="mean", price_shock_tail_df=1000.0)  # near-normal: the mean exists
    changes = five_year_log_changes(config)
    assert np.mean(np.exp(changes)) == pytest.approx(1.0, abs=0.06)
    assert np.median(changes) == pytest.approx(-0.5 * 0.55**2 * YEARS, abs=0.08)  # ~14% a year down


@pytest.mark.parametrize("drift", [0.3, -0.3])
def test_bull_and_bear_regimes_move_the_median_by_their_drift(drift):
    changes = five_year_log_changes(MarketConfig(price_drift_annual=drift))
    assert np.median(changes) == pytest.approx(YEARS * np.log1p(drift), abs=0.1)


def test_the_drift_of_the_median_does_not_depend_on_the_volatility():
    calm, wild = MarketConfig(price_volatility_annual=0.2), MarketConfig(price_volatility_annual=0.8)
    assert mean_log_return_monthly(calm, 0.2**2 / 12) == mean_log_return_monthly(wild, 0.8**2 / 12) == 0.0
