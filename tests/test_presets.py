"""Every preset in configs/ is valid, documented and runs to the end of its horizon."""

import pytest

from cryptoabm.config import load_scenario
from cryptoabm.model import CryptoEconomy
from tests.conftest import CONFIGS

PRESETS = ["baseline", "turkmenistan_2026", "kazakhstan_2021", "kazakhstan_cryptocity",
           "el_salvador_2021", "dubai_2025", "car_2022"]


def test_every_regime_in_the_record_has_a_preset():
    assert sorted(p.stem for p in CONFIGS.glob("*.toml") if p.name != "behaviour.toml") == sorted(PRESETS)


@pytest.mark.parametrize("name", PRESETS)
def test_preset_runs_to_the_end_with_balanced_books(name):
    scenario = load_scenario(CONFIGS / f"{name}.toml")
    assert scenario.name == name and scenario.description
    model = CryptoEconomy(scenario, seed=scenario.seed)
    table = model.run()
    assert len(table) == scenario.months and not model.running
    gross = sum(model.ledger.total_flows.values())
    assert table["ledger_imbalance_usd"].max() <= 1e-9 * gross + 1e-6
    for column in ("wallet_share", "active_share", "merchant_accept_share", "reserve_margin"):
        assert table[column].between(0, 1).all()


CONFIG_FILES = sorted(str(p.relative_to(CONFIGS).with_suffix("")) for p in CONFIGS.rglob("*.toml"))


@pytest.mark.parametrize("name", CONFIG_FILES)
def test_every_value_a_preset_country_or_policy_sets_is_sourced_or_marked_as_an_assumption(name):
    lines = (CONFIGS / f"{name}.toml").read_text().splitlines()
    for number, line in enumerate(lines, start=1):
        code = line.split("#", 1)[0].strip()
        is_setting = "=" in code and not code.startswith("[") and not code.startswith(
            ("name", "description", "extends", "country", "policy_package", "kind", "note", "month ="))
        if is_setting and "#" not in line:
            # a setting may be explained by the comment line just above it
            assert lines[number - 2].lstrip().startswith("#"), f"{name}.toml:{number} has no source or assumption: {line}"
