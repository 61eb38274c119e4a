"""Farms settle one after another in creation order (docs/ODD.md, Updating). The order matters
only through what an earlier farm did to a later farm's keep-or-sell value, so: without a cap it
changes nothing beyond float rounding; under a rationing cap it does (validation/settlement_order.py
measures how much)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from cryptoabm.config import load_scenario
from cryptoabm.model import CryptoEconomy

CONFIGS = Path(__file__).resolve().parents[1] / "configs"
OUTCOMES = ("national_gain_from_mining_usd", "fiscal_net_usd", "hashrate_ehs", "miners")


class ReverseSettlement(CryptoEconomy):
    def settle_farms(self) -> None:
        for farm in reversed(list(self.miners)):
            farm.settle_month()


def largest_relative_difference(preset: str, seeds: range) -> float:
    scenario = load_scenario(CONFIGS / f"{preset}.toml")
    largest = 0.0
    for seed in seeds:
        forward = CryptoEconomy(scenario, seed=seed).run()
        backward = ReverseSettlement(scenario, seed=seed).run()
        for column in OUTCOMES:
            a, b = forward[column].to_numpy(float), backward[column].to_numpy(float)
            largest = max(largest, float(np.max(np.abs(a - b) / np.maximum(np.abs(a), 1.0))))
    return largest


def test_without_a_cap_the_order_in_which_farms_settle_changes_nothing_beyond_rounding():
    assert CryptoEconomy(load_scenario(CONFIGS / "baseline.toml"), seed=1).config.policy.mining_cap_mw is None
    assert largest_relative_difference("baseline", range(1, 4)) < 1e-9


def test_under_a_rationing_cap_a_farm_that_settled_earlier_moves_the_later_farms_values():
    scenario = load_scenario(CONFIGS / "kazakhstan_2021.toml")
    assert any(event.model_dump().get("set", {}).get("mining_cap_mw") for event in scenario.events) \
        or scenario.policy.mining_cap_mw is not None
    assert largest_relative_difference("kazakhstan_2021", range(1, 4)) > 1e-3
