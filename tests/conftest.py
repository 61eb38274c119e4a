"""Shared helpers for the specification tests."""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import Any

import pytest
from hypothesis import settings

# Property tests explore new examples locally; in CI they replay a fixed, reproducible set.
settings.register_profile("ci", derandomize=True, deadline=None)
if os.environ.get("CI"):
    settings.load_profile("ci")

from cryptoabm.config import Scenario, scenario_from_dict
from cryptoabm.model import CryptoEconomy

ROOT = Path(__file__).resolve().parents[1]
CONFIGS = ROOT / "configs"


def scenario(**dotted: Any) -> Scenario:
    """A small scenario: the defaults with a few hundred citizens, plus dotted overrides
    such as ``scenario(**{"policy.payment_regime": "ban"})``."""
    raw: dict[str, Any] = {"population": {"citizens": 300}, "months": 24}
    for key, value in dotted.items():
        *tables, leaf = key.split(".")
        node = raw
        for table in tables:
            node = node.setdefault(table, {})
        node[leaf] = value
    return scenario_from_dict(raw)


def run(seed: int = 1, **dotted: Any):
    """Run a small scenario to its horizon; returns (model, monthly table)."""
    model = CryptoEconomy(scenario(**dotted), seed=seed)
    return model, model.run()


@pytest.fixture
def small_run():
    return run


def el_salvador_configs(folder: Path, citizens: int) -> Path:
    """A configs folder holding only what the El Salvador preset needs, with ``citizens`` citizens
    (small, for calibration tests that run the real model)."""
    folder.mkdir()
    for name in ("behaviour.toml", "el_salvador_2021.toml"):
        shutil.copy(CONFIGS / name, folder / name)
    for part in ("countries", "policies"):
        shutil.copytree(CONFIGS / part, folder / part)
    baseline = (CONFIGS / "baseline.toml").read_text().replace("citizens = 2_000 ", f"citizens = {citizens} ")
    assert f"citizens = {citizens} " in baseline
    (folder / "baseline.toml").write_text(baseline)
    return folder
