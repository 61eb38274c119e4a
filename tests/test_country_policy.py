"""A preset is a country under a policy package: the economy and the levers live apart, so a
policy can be moved to another economy, and an experiment compares policies on one economy,
paired on the same seeds and on the same draws of what we do not know."""

from __future__ import annotations

import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from cryptoabm.batch.experiment import expand_runs, experiment_from_dict, uncertainty_draws
from cryptoabm.config import (
    COUNTRY_EVENT_KINDS,
    POLICY_EVENT_KINDS,
    ConfigError,
    load_composition,
    load_scenario,
    scenario_to_toml_dict,
)
from tests.conftest import CONFIGS, ROOT

PRESETS = sorted(p.stem for p in CONFIGS.glob("*.toml") if "country" in tomllib.loads(p.read_text()))


def preset_parts(name: str) -> tuple[str, str]:
    data = tomllib.loads((CONFIGS / f"{name}.toml").read_text())
    return data["country"], data["policy_package"]


# ---------------------------------------------------------------------------------------
# Presets are compositions
# ---------------------------------------------------------------------------------------
def test_every_preset_but_the_baseline_is_a_country_under_a_policy_package():
    named = sorted(p.stem for p in CONFIGS.glob("*.toml"))
    assert set(named) - set(PRESETS) <= {"baseline", "behaviour"}
    assert {"turkmenistan_2026", "kazakhstan_2021", "el_salvador_2021", "dubai_2025", "car_2022",
            "kazakhstan_cryptocity"} <= set(PRESETS)


@pytest.mark.parametrize("preset", PRESETS)
def test_a_preset_is_exactly_its_country_under_its_policy_package(preset):
    country, package = preset_parts(preset)
    as_preset = scenario_to_toml_dict(load_scenario(CONFIGS / f"{preset}.toml"))
    composed = scenario_to_toml_dict(load_composition(CONFIGS, country, package))
    for own in ("name", "description", "months"):  # what the preset file itself says
        as_preset.pop(own), composed.pop(own)
    assert as_preset == composed


def test_country_files_hold_no_levers_and_policy_packages_no_economy():
    for path in (CONFIGS / "countries").glob("*.toml"):
        data = tomllib.loads(path.read_text())
        assert "policy" not in data, path
        assert {e["kind"] for e in data.get("events", [])} <= set(COUNTRY_EVENT_KINDS), path
    for path in (CONFIGS / "policies").glob("*.toml"):
        data = tomllib.loads(path.read_text())
        assert set(data) <= {"description", "extends", "policy", "events"}, path
        assert {e["kind"] for e in data.get("events", [])} <= set(POLICY_EVENT_KINDS), path


# ---------------------------------------------------------------------------------------
# A policy package can be moved to another economy
# ---------------------------------------------------------------------------------------
def test_a_transplanted_policy_keeps_its_relative_event_months_and_the_new_country_its_economy():
    at_home = load_composition(CONFIGS, "kazakhstan_2021", "kazakhstan_2021_record")
    abroad = load_composition(CONFIGS, "turkmenistan", "kazakhstan_2021_record")
    home_policy_events = [(e.month, e.kind) for e in at_home.events if e.kind in POLICY_EVENT_KINDS]
    abroad_events = [(e.month, e.kind) for e in abroad.events]
    assert abroad_events == home_policy_events  # same months after the start: 9, 9, 10, 21, 24, 33, 45
    assert [m for m, _ in abroad_events][:3] == [9, 9, 10]
    # the policy comes along ...
    assert abroad.policy == at_home.policy
    # ... while the economy, its start date and its own events stay Turkmenistan's
    turkmenistan = load_scenario(CONFIGS / "turkmenistan_2026.toml")
    assert abroad.start_month == turkmenistan.start_month == "2026-01"
    assert abroad.grid == turkmenistan.grid and abroad.economy == turkmenistan.economy
    assert not any(e.kind == "relocation_wave" for e in abroad.events)  # China's ban is Kazakhstan's history


def test_a_package_extending_another_keeps_the_parents_levers_and_adds_its_own():
    regime = load_composition(CONFIGS, "kazakhstan_alatau_2026", "kazakhstan_2025_regime").policy
    hub = load_composition(CONFIGS, "kazakhstan_alatau_2026", "cryptocity_digital_hub").policy
    assert hub.domestic_sale_share == regime.domestic_sale_share == 0.75
    assert hub.surcharge_bands == regime.surcharge_bands
    assert hub.sez_active and not regime.sez_active


@pytest.fixture
def configs_copy(tmp_path):
    folder = tmp_path / "configs"
    shutil.copytree(CONFIGS, folder)
    return folder


@pytest.mark.parametrize("text, field", [
    ("[policy]\nlicense_cap = 3\n", "policy"),
    ('[[events]]\nkind = "policy"\nmonth = 2\nset = { license_cap = 3 }\n', "events.0.kind"),
    ("months = 12\n", "months"),
])
def test_a_country_file_cannot_set_a_lever(configs_copy, text, field):
    (configs_copy / "countries" / "utopia.toml").write_text('start_month = "2026-01"\n' + text)
    with pytest.raises(ConfigError) as caught:
        load_composition(configs_copy, "utopia", "turkmenistan_2026_law")
    assert caught.value.field == field and "utopia.toml" in caught.value.file
    assert "\n" not in str(caught.value)


@pytest.mark.parametrize("text, field", [
    ("[grid]\navailable_capacity_mw = 1.0\n", "grid"),
    ('[[events]]\nkind = "price_shock"\nmonth = 2\nfactor = 0.5\n', "events.0.kind"),
    ('extends = "../countries/turkmenistan"\n', "extends"),
])
def test_a_policy_package_cannot_set_the_economy_or_reach_outside_its_folder(configs_copy, text, field):
    (configs_copy / "policies" / "odd.toml").write_text(text)
    with pytest.raises(ConfigError) as caught:
        load_composition(configs_copy, "turkmenistan", "odd")
    assert caught.value.field == field


def test_a_wrong_country_name_says_which_exist(configs_copy):
    with pytest.raises(ConfigError, match="no country named 'turkmenstan'.*did you mean 'turkmenistan'"):
        load_composition(configs_copy, "turkmenstan", "turkmenistan_2026_law")
    with pytest.raises(ConfigError, match="must be the name of a file"):
        load_composition(configs_copy, "../configs/countries/turkmenistan", "turkmenistan_2026_law")


# ---------------------------------------------------------------------------------------
# Experiments compare policies on one economy
# ---------------------------------------------------------------------------------------
def policy_experiment(**extra):
    raw = {"name": "t", "question": "q", "reference": "law", "replications": 3, "horizon_months": 12,
           "base_seed": 5, "arms": [
               {"name": "law", "country": "turkmenistan", "policy_package": "turkmenistan_2026_law"},
               {"name": "ban", "country": "turkmenistan", "policy_package": "full_ban"}]}
    raw.update(extra)
    return experiment_from_dict(raw, ROOT / "experiments" / "t.toml", "hash")


def test_standing_levers_are_kept_in_every_arm_over_its_package():
    loaded = policy_experiment(standing_levers={"policy.capital_controls": 0.9, "policy.information_control": 0.8})
    for scenario in loaded.arm_scenarios.values():
        assert scenario.policy.capital_controls == 0.9 and scenario.policy.information_control == 0.8
    assert loaded.arm_scenarios["ban"].policy.license_cap == 0  # the package's own levers stay
    with pytest.raises(ConfigError, match="standing levers are policy levers"):
        policy_experiment(standing_levers={"grid.available_capacity_mw": 1.0})


def test_replicate_r_draws_the_same_uncertain_behaviour_in_every_arm():
    ranges = {"adoption.imitation_q": [0.05, 0.3], "capital_flight.adjustment_per_month": [0.05, 0.2]}
    loaded = policy_experiment(uncertainty={"ranges": ranges})
    runs = expand_runs(loaded)
    by_replicate: dict[int, list] = {}
    for run in runs:
        by_replicate.setdefault(run.replicate, []).append(run)
    draws = [runs_r[0].params for _, runs_r in sorted(by_replicate.items())]
    for replicate, runs_r in by_replicate.items():
        assert len({r.seed for r in runs_r}) == 1  # common random numbers ...
        assert all(r.params == runs_r[0].params for r in runs_r)  # ... and common parameters
        assert all(r.scenario["adoption"]["imitation_q"] == runs_r[0].params["adoption.imitation_q"] for r in runs_r)
    assert len({d["adoption.imitation_q"] for d in draws}) == 3  # replicates differ
    for draw in draws:
        for key, (low, high) in ranges.items():
            assert low <= draw[key] <= high
    assert uncertainty_draws(loaded.experiment) == draws  # deterministic


def test_an_uncertain_parameter_that_does_not_validate_is_refused_at_load():
    with pytest.raises(ConfigError, match="imitation_q"):
        policy_experiment(uncertainty={"ranges": {"adoption.imitation_q": [0.5, 1.5]}})


@pytest.mark.parametrize("arm, message", [
    ({"name": "x", "config": "turkmenistan_2026.toml", "country": "turkmenistan"}, "not both|one or the other"),
    ({"name": "x", "country": "turkmenistan"}, "needs either config"),
    ({"name": "x", "country": "turkmenstan", "policy_package": "full_ban"}, "arms.1.country: no country named"),
])
def test_an_arm_names_a_preset_or_a_country_and_a_package(arm, message):
    raw = {"name": "t", "question": "q", "reference": "law", "replications": 1, "horizon_months": 6, "base_seed": 1,
           "arms": [{"name": "law", "country": "turkmenistan", "policy_package": "turkmenistan_2026_law"}, arm]}
    with pytest.raises(ConfigError, match=message):
        experiment_from_dict(raw, ROOT / "experiments" / "t.toml", "hash")


def test_a_bad_arm_is_one_line_and_exit_2_from_the_command_line(tmp_path):
    (tmp_path / "experiments").mkdir()
    experiment = tmp_path / "experiments" / "bad.toml"
    experiment.write_text((ROOT / "experiments" / "turkmenistan_options.toml").read_text()
                          .replace('policy_package = "full_ban"', 'policy_package = "ful_ban"'))
    (tmp_path / "configs").symlink_to(CONFIGS)
    out = tmp_path / "out"
    done = subprocess.run([sys.executable, "-m", "cryptoabm", "batch", str(experiment), "--out", str(out)],
                          capture_output=True, text=True)
    assert done.returncode == 2
    assert done.stderr.strip().count("\n") == 0 and "did you mean 'full_ban'" in done.stderr
    assert not out.exists()


def test_the_shipped_policy_experiments_compare_policies_on_one_economy():
    from cryptoabm.batch.experiment import load_experiment

    for name, country in [("turkmenistan_options", "turkmenistan"), ("cryptocity_variants", "kazakhstan_alatau_2026"),
                          ("el_salvador_counterfactuals", "el_salvador")]:
        loaded = load_experiment(ROOT / "experiments" / f"{name}.toml")
        assert {arm.country for arm in loaded.experiment.arms} == {country}, name
        economies = {(s.start_month, s.population.model_dump_json(), s.grid.model_dump_json(), s.economy.model_dump_json(),
                      s.state_capacity.model_dump_json()) for s in loaded.arm_scenarios.values()}
        assert len(economies) == 1, name  # one economy, one state capacity ...
        policies = {s.policy.model_dump_json() + str(s.events) for s in loaded.arm_scenarios.values()}
        assert len(policies) == len(loaded.arm_scenarios), name  # ... many policies
        assert loaded.decomposition["packages"], name  # each split into its levers
        assert loaded.experiment.uncertainty.ranges, name  # intervals that include what we don't know
