"""State capacity (how well the state detects grey farms and polices crypto outflows) is a trait of
the country, not a lever of a policy package: a package moved to another country meets that
country's enforcement, and no package can carry its own."""

from __future__ import annotations

import shutil
import subprocess
import sys

import pytest

from cryptoabm.config import ConfigError, StateCapacityConfig, load_composition, load_scenario
from cryptoabm.model import CryptoEconomy
from tests.conftest import CONFIGS


@pytest.fixture
def configs_copy(tmp_path):
    folder = tmp_path / "configs"
    shutil.copytree(CONFIGS, folder)
    return folder


def test_every_package_moved_to_a_country_meets_that_countrys_capacity():
    for country in ("turkmenistan", "el_salvador", "central_african_republic"):
        capacities = {load_composition(CONFIGS, country, package.stem).state_capacity
                      for package in (CONFIGS / "policies").glob("*.toml")}
        assert len(capacities) == 1, country  # whatever the package
    # the legal-tender package no longer brings weak enforcement with it into Turkmenistan
    moved = load_composition(CONFIGS, "turkmenistan", "legal_tender_with_bonus").state_capacity
    assert moved == load_composition(CONFIGS, "turkmenistan", "turkmenistan_2026_law").state_capacity
    assert moved.grey_mining_detection_probability > StateCapacityConfig().grey_mining_detection_probability


def test_every_country_states_its_capacity():
    for path in (CONFIGS / "countries").glob("*.toml"):
        assert "\n[state_capacity]\n" in path.read_text(), path


@pytest.mark.parametrize("text, field", [
    ("[policy]\nenforcement_detection_probability = 0.05\n", "policy.enforcement_detection_probability"),
    ("[policy]\ncrypto_flight_enforcement = 0.0\n", "policy.crypto_flight_enforcement"),
    ("[state_capacity]\ngrey_mining_detection_probability = 0.05\n", "state_capacity"),
    ('[[events]]\nkind = "policy"\nmonth = 2\nset = { enforcement_detection_probability = 0.9 }\n',
     "events.0.set.enforcement_detection_probability"),
])
def test_a_policy_package_cannot_carry_state_capacity(configs_copy, text, field):
    (configs_copy / "policies" / "weak_state.toml").write_text('description = "x"\n' + text)
    with pytest.raises(ConfigError) as caught:
        load_composition(configs_copy, "turkmenistan", "weak_state")
    assert caught.value.field == field and "weak_state.toml" in caught.value.file
    assert "state capacity is a trait of the country" in caught.value.message and "\n" not in str(caught.value)


def test_a_package_with_state_capacity_is_one_line_and_exit_2_from_the_command_line(configs_copy, tmp_path):
    (configs_copy / "policies" / "weak_state.toml").write_text(
        "[policy]\nenforcement_detection_probability = 0.05\n")
    preset = configs_copy / "weak.toml"
    preset.write_text('country = "turkmenistan"\npolicy_package = "weak_state"\n')
    done = subprocess.run([sys.executable, "-m", "cryptoabm", "run", str(preset), "--months", "2"],
                          capture_output=True, text=True)
    assert done.returncode == 2
    assert done.stderr.strip().count("\n") == 0
    assert "weak_state.toml: policy.enforcement_detection_probability: state capacity" in done.stderr


def test_the_old_policy_name_anywhere_points_to_state_capacity(configs_copy):
    preset = configs_copy / "old.toml"
    preset.write_text('extends = "baseline.toml"\n[policy]\nenforcement_detection_probability = 0.3\n')
    with pytest.raises(ConfigError, match="is state capacity, not a policy lever: set "
                                          "state_capacity.grey_mining_detection_probability"):
        load_scenario(preset)


def test_a_country_event_changes_capacity_from_its_month_on():
    scenario = load_scenario(CONFIGS / "kazakhstan_2021.toml")  # illegal sites pursued from Feb 2022 (month 10)
    model = CryptoEconomy(scenario, seed=2, citizens=100)
    model.run(months=9)
    assert model.state.capacity.grey_mining_detection_probability == 0.01
    model.run(months=1)
    assert model.state.capacity.grey_mining_detection_probability == 0.25
    assert any("illegal mining sites pursued" in note for _, note in model.state.policy_log)


def test_more_capacity_catches_more_grey_farms_under_the_same_policy():
    """Economics: with every lever of the package held, a state that detects more grey farms
    ends with fewer of them (the same seeds)."""
    def grey(detection: float) -> float:
        model = CryptoEconomy(preset="turkmenistan_2026", seed=4, citizens=100, months=24, license_cap=0,
                              grey_mining_detection_probability=detection)
        return float(model.run()["grey_load_share"].mean())

    assert grey(0.6) < grey(0.0)
