"""Farms settle one after another in creation order (docs/ODD.md, Updating). The order matters
only through what an earlier farm did to a later farm's keep-or-sell value, so: without a cap it
changes nothing beyond float rounding; under a rationing cap it does (validation/settlement_order.py
measures how much)."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np

from cryptoabm.config import PolicyChange, load_scenario
from cryptoabm.model import CryptoEconomy

ROOT = Path(__file__).resolve().parents[1]
CONFIGS = ROOT / "configs"
OUTCOMES = ("national_gain_from_mining_usd", "fiscal_net_usd", "hashrate_ehs", "miners")

# the model the validation script runs with farms settling in reverse order (its own class, not a copy)
_spec = importlib.util.spec_from_file_location("settlement_order", ROOT / "validation" / "settlement_order.py")
settlement_order = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(settlement_order)


def largest_relative_difference(preset: str, seeds: range) -> float:
    scenario = load_scenario(CONFIGS / f"{preset}.toml")
    largest = 0.0
    for seed in seeds:
        forward = CryptoEconomy(scenario, seed=seed).run()
        backward = settlement_order.ReverseSettlement(scenario, seed=seed).run()
        for column in OUTCOMES:
            a, b = forward[column].to_numpy(float), backward[column].to_numpy(float)
            largest = max(largest, float(np.max(np.abs(a - b) / np.maximum(np.abs(a), 1.0))))
    return largest


def test_without_a_cap_the_order_in_which_farms_settle_changes_nothing_beyond_rounding():
    assert load_scenario(CONFIGS / "baseline.toml").policy.mining_cap_mw is None
    assert largest_relative_difference("baseline", range(1, 4)) < 1e-9


def test_under_a_rationing_cap_a_farm_that_settled_earlier_moves_the_later_farms_values():
    scenario = load_scenario(CONFIGS / "kazakhstan_2021.toml")
    assert any(isinstance(event, PolicyChange) and event.set.get("mining_cap_mw") for event in scenario.events)
    assert largest_relative_difference("kazakhstan_2021", range(1, 4)) > 1e-3


def test_the_script_refuses_an_unknown_preset_or_too_few_seeds_in_one_line():
    import subprocess
    import sys

    for arguments, says in ((["nosuch"], "invalid choice: 'nosuch'"), (["car_2022", "--seeds", "1"], "use at least 2")):
        done = subprocess.run([sys.executable, str(ROOT / "validation" / "settlement_order.py"), *arguments],
                              capture_output=True, text=True, timeout=60)
        assert done.returncode == 2 and says in done.stderr and len(done.stderr.strip().splitlines()) == 1
        assert done.stdout == ""  # nothing printed before the refusal
