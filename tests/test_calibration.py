"""Calibration and validation (issue 11): the target file, the metrics, the fit, the report."""

from __future__ import annotations

import re
import shutil
from pathlib import Path
import tomllib

import numpy as np
import pandas as pd
import pytest
import tomli_w

from cryptoabm.batch.experiment import replicate_seed
from cryptoabm.calibration.calibrate import calibrate, criterion, update_behaviour_file, write_outputs
from cryptoabm.calibration.metrics import METRICS, evaluate
from cryptoabm.calibration.parameters import BEHAVIOURAL_KEYS, CALIBRATED_RANGES
from cryptoabm.calibration.simulate import Simulated, points_of
from cryptoabm.calibration.targets import Target, load_targets
from cryptoabm.cli import main
from cryptoabm.config import ConfigError, load_scenario
from tests.conftest import CONFIGS, ROOT, scenario

GOOD_TARGET = """
[[targets]]
id = "early_payers"
preset = "el_salvador_2021"
metric = "paid_last_12_months_share"
window = ["2021-12", "2021-12"]
observed = 0.257
tolerance = 0.05
source = "facts.md, El Salvador: early payers"
"""


# -- the shared behaviour file ------------------------------------------------------------
def test_the_behaviour_file_holds_every_behavioural_key_and_baseline_none():
    behaviour = tomllib.loads((CONFIGS / "behaviour.toml").read_text())
    baseline = tomllib.loads((CONFIGS / "baseline.toml").read_text())
    held = {f"{section}.{key}" for section, table in behaviour.items() if isinstance(table, dict) for key in table}
    assert held == set(BEHAVIOURAL_KEYS)
    assert baseline["extends"] == "behaviour.toml"
    assert not [k for k in BEHAVIOURAL_KEYS if k.split(".")[1] in baseline.get(k.split(".")[0], {})]
    assert set(CALIBRATED_RANGES) <= set(BEHAVIOURAL_KEYS)


def test_every_preset_takes_the_shared_behaviour():
    behaviour = tomllib.loads((CONFIGS / "behaviour.toml").read_text())
    for path in CONFIGS.glob("*.toml"):
        resolved = load_scenario(path)
        for key in BEHAVIOURAL_KEYS:
            section, field = key.split(".")
            if (path.stem, key) == ("kazakhstan_cryptocity", "merchants.processing_fee_share"):
                continue  # the pilot zone's processors charge less: a price of that place, not a behaviour
            assert getattr(getattr(resolved, section), field) == behaviour[section][field], (path.name, key)


# -- the target file ----------------------------------------------------------------------
def test_the_repository_target_file_is_valid():
    loaded = load_targets(ROOT / "validation" / "targets.toml")
    assert len(loaded.targets.targets) >= 20
    assert {"el_salvador_2021", "kazakhstan_2021", "car_2022", "baseline"} <= {t.preset for t in loaded.targets.targets}


@pytest.mark.parametrize(("replace", "by", "expected"), [
    ('metric = "paid_last_12_months_share"', 'metric = "paid_share"', "targets.0.metric: unknown metric 'paid_share'"),
    ('window = ["2021-12", "2021-12"]', 'window = ["2019-12", "2019-12"]', "is outside the run of 'el_salvador_2021'"),
    ('window = ["2021-12", "2021-12"]', 'window = ["2021-12", "2021-11"]', "window must run forwards"),
    ('window = ["2021-12", "2021-12"]', 'window = ["2021-13", "2021-12"]', "targets.0.window.0"),
    ("observed = 0.257", "observed = [0.3, 0.2]", "observed range must have low <= high"),
    ("tolerance = 0.05", "tolerance = 0", "targets.0.tolerance"),
    ('preset = "el_salvador_2021"', 'preset = "atlantis"', "no preset 'atlantis'"),
    ('source = "facts.md, El Salvador: early payers"', 'sauce = "x"', "unknown key 'sauce'"),
    ('id = "early_payers"', 'id = "early payers"', "targets.0.id"),
    ("[[targets]]", "[[targets", "malformed TOML"),
])
def test_a_mistake_in_the_target_file_is_one_line_naming_the_field(tmp_path, replace, by, expected):
    path = tmp_path / "targets.toml"
    path.write_text(GOOD_TARGET.replace(replace, by))
    with pytest.raises(ConfigError) as caught:
        load_targets(path)
    assert expected in str(caught.value) and "\n" not in str(caught.value)


def test_a_target_id_used_twice_is_refused(tmp_path):
    path = tmp_path / "targets.toml"
    path.write_text(GOOD_TARGET + GOOD_TARGET)
    with pytest.raises(ConfigError, match="target id 'early_payers' is used twice"):
        load_targets(path)


@pytest.mark.parametrize("command", ["calibrate", "validate"])
def test_the_commands_refuse_a_bad_target_file_with_one_line_and_exit_2(tmp_path, capsys, command):
    path = tmp_path / "targets.toml"
    path.write_text(GOOD_TARGET.replace('metric = "paid_last_12_months_share"', 'metric = "nope"'))
    out = tmp_path / "out"
    assert main([command, str(path), "--out", str(out), "--work", str(tmp_path / "work")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "unknown metric 'nope'" in err and "Traceback" not in err
    assert not out.exists() and not (tmp_path / "work").exists()  # nothing left behind


# -- the metrics --------------------------------------------------------------------------
@pytest.fixture
def monthly() -> pd.DataFrame:
    """Six hand-made months from 2021-09: every column a metric reads."""
    return pd.DataFrame({
        "month": [1, 2, 3, 4, 5, 6],
        "date": ["2021-09", "2021-10", "2021-11", "2021-12", "2022-01", "2022-02"],
        "ever_downloaded_share": [0.10, 0.20, 0.24, 0.25, 0.25, 0.26],
        "active_share": [0.10, 0.18, 0.12, 0.08, 0.06, 0.06],
        "new_adopters": [100, 100, 40, 10, 0, 10],
        "bonus_driven_adopters": [90, 80, 20, 0, 0, 0],
        "paid_last_12_months_share": [0.0, 0.05, 0.08, 0.10, 0.11, 0.11],
        "merchant_accept_share": [0.2, 0.2, 0.3, 0.3, 0.2, 0.2],
        "merchant_sale_last_12_months_share": [0.0, 0.1, 0.15, 0.2, 0.2, 0.25],
        "receipts_converted_share": [np.nan, 0.8, 0.9, 1.0, np.nan, 0.9],
        "remittances_usd": [100.0] * 6,
        "crypto_remittances_usd": [1.0, 2.0, 3.0, 4.0, 5.0, 6.0],
        "grey_mw_caught": [0.0, 0.0, 20.0, 30.0, 0.0, 5.0],
        "mining_load_mw": [100.0, 200.0, 300.0, 400.0, 380.0, 380.0],
        "licensed_miners": [1, 2, 3, 4, 5, 6],
        "licensed_power_use_share": [np.nan, 1.0, 0.5, 0.3, 0.2, 0.1],
        "miners": [10, 20, 30, 40, 50, 60],
        "hashprice_usd_per_ph_day": [40.0, 50.0, 60.0, 70.0, 80.0, 90.0],
        "world_hashrate_ehs": [100.0, 100.0, 110.0, 99.0, 90.0, 88.0],
    })


METRIC_CASES = [
    ("downloads_among_online_share", ("2021-09", "2021-12"), 0.25 / 0.5),  # half the people are online
    ("first_month_download_share", ("2021-09", "2021-12"), 0.10 / 0.25),
    ("first_month_download_share", ("2021-10", "2022-02"), (0.20 - 0.10) / (0.26 - 0.10)),
    ("window_download_share", ("2022-01", "2022-02"), (0.26 - 0.25) / 0.26),
    ("mean_active_share", ("2021-11", "2022-01"), (0.12 + 0.08 + 0.06) / 3),
    ("bonus_driven_download_share", ("2021-09", "2022-02"), (90 + 80 + 20) / 260),
    ("paid_last_12_months_share", ("2021-12", "2021-12"), 0.10),
    ("mean_merchant_accept_share", ("2021-09", "2021-12"), 0.25),
    ("merchant_sale_last_12_months_share", ("2021-09", "2022-02"), 0.25),
    ("mean_receipts_converted_share", ("2021-09", "2022-01"), 0.9),  # months with no accepting merchant skipped
    ("crypto_remittance_share", ("2021-10", "2021-11"), 5.0 / 200.0),
    ("total_grey_mw_caught", ("2021-11", "2021-12"), 50.0),
    ("mean_mining_load_mw", ("2022-01", "2022-02"), 380.0),
    ("licensed_miners", ("2021-09", "2021-11"), 3),
    ("mean_licensed_power_use_share", ("2021-09", "2021-11"), 0.75),
    ("mining_operations", ("2021-12", "2022-01"), 45.0),
    ("mean_hashprice_usd_per_ph_day", ("2021-09", "2021-10"), 45.0),
    ("world_hashrate_change", ("2021-12", "2022-02"), 88.0 / 110.0 - 1.0),
    ("world_hashrate_vs_record", ("2021-12", "2021-12"), 99.0 / 173.2 - 1.0),  # the record: 173.2 EH/s in Dec 2021
    ("world_hashrate_dip", ("2022-01", "2022-02"), 88.0 / 99.0 - 1.0),  # the deepest month against the month before
]


@pytest.mark.parametrize(("metric", "window", "expected"), METRIC_CASES)
def test_each_metric_on_a_hand_made_table(monthly, metric, window, expected):
    online_half = scenario(**{"population.internet_access_share": 0.5})
    assert evaluate(metric, monthly, window, online_half) == pytest.approx(expected)


def test_every_metric_is_tested_and_reads_only_recorded_columns(monthly):
    from cryptoabm.model import INDICATOR_NAMES

    for name, metric in METRICS.items():
        assert set(metric.columns) <= set(INDICATOR_NAMES) and metric.column in INDICATOR_NAMES, name
    assert {case[0] for case in METRIC_CASES} == set(METRICS)


def test_a_target_distance_is_zero_inside_the_range_and_counts_tolerances_outside():
    target = Target.model_validate({"id": "t", "preset": "p", "metric": "licensed_miners", "window": ["2021-01"] * 2,
                                    "observed": [10.0, 20.0], "tolerance": 5.0, "source": "facts.md, x: y"})
    assert [target.distance(v) for v in (15.0, 10.0, 25.0, 0.0)] == [0.0, 0.0, 1.0, -2.0]
    assert target.band == (5.0, 25.0)


# -- the calibration, on a toy model with a known optimum ---------------------------------
TOY_RANGES = {"adoption.imitation_q": (0.0, 1.0), "adoption.dropout_hazard": (0.0, 10.0), "mining.exit_after_months_below_salvage": (1, 5)}
TOY_TRUTH = {"adoption.imitation_q": 0.3, "adoption.dropout_hazard": 7.0}


def toy_targets() -> list[Target]:
    common = {"preset": "toy", "window": ["2021-01", "2021-01"], "tolerance": 0.05, "source": "facts.md, toy: truth"}
    return [Target.model_validate({**common, "id": "a", "metric": "mean_active_share", "observed": 0.3}),
            Target.model_validate({**common, "id": "b", "metric": "mining_operations", "observed": [0.69, 0.71]}),
            Target.model_validate({**common, "id": "held", "metric": "licensed_miners", "observed": 5.0,
                                   "calibrate": False})]


def toy_simulator(calls: list[tuple[str, int]]):
    """A model whose moments are q, h/10 and h + q, each plus a replicate's noise, drawn on
    common random numbers (the same seeds at every point), with design points sampled by the
    batch layer itself."""
    def simulate(design, replications, stage):
        points = points_of(design, base_seed=7)
        calls.append((stage, len(points)))
        rows = []
        for p, point in enumerate(points):
            for r in range(replications):
                noise = np.random.default_rng(replicate_seed(7, r)).normal(0.0, 0.005, 3)
                q, h = point["adoption.imitation_q"], point["adoption.dropout_hazard"]
                rows += [(p, r, "a", q + noise[0]), (p, r, "b", h / 10 + noise[1]), (p, r, "held", h + q + noise[2])]
        return Simulated(points, pd.DataFrame(rows, columns=["point", "replicate", "target", "value"]))
    return simulate


def test_calibration_finds_a_toy_models_known_optimum(tmp_path):
    calls: list[tuple[str, int]] = []
    result = calibrate(toy_targets(), TOY_RANGES, toy_simulator(calls), budget=64, replications=3,
                       refine_evaluations=40)
    fitted = result.fitted()
    assert fitted["adoption.imitation_q"] == pytest.approx(0.3, abs=0.02)
    assert fitted["adoption.dropout_hazard"] == pytest.approx(7.0, abs=0.2)
    assert isinstance(fitted["mining.exit_after_months_below_salvage"], int)  # held at the best global point
    assert result.best.criterion < 1.0
    global_best = min(e.criterion for e in result.evaluations if e.stage == "global")
    assert result.best.criterion <= global_best  # the local stage never makes it worse
    assert calls[0] == ("global", 64) and calls[-1] == ("draws", 32)
    assert all(stage.startswith("local") and n == 1 for stage, n in calls[1:-1]) and len(calls) - 2 <= 40
    # the accepted draws bracket the truth
    for key, truth in TOY_TRUTH.items():
        low, high = result.uncertainty()[key]
        assert low <= truth <= high
    # the criterion counts only the fitted targets
    assert criterion(toy_targets(), {"a": 0.3, "b": 0.7, "held": 99.0}) == 0.0

    paths = write_outputs(result, tmp_path / "out", "cryptoabm calibrate toy.toml")
    assert all(p.is_file() for p in paths)
    fitted_file = tomllib.loads((tmp_path / "out" / "fitted.toml").read_text())
    assert fitted_file["parameters"]["adoption.imitation_q"]["value"] == pytest.approx(0.3, abs=0.02)
    design = pd.read_parquet(tmp_path / "out" / "design.parquet")
    assert len(design) == len(result.evaluations) and design["accepted"].sum() == len(result.accepted)
    distances = pd.read_csv(tmp_path / "out" / "distances.csv")
    assert distances.set_index("target").loc["a", "distance"] == pytest.approx(0.0, abs=1.0)


def test_the_draws_around_the_fit_run_with_the_fitted_integer_parameters():
    """Each draw is simulated as the whole point it is recorded as: a parameter outside the
    box (an integer one) runs at its fitted value, not at whatever the config file holds."""
    designs: list[tuple[str, dict]] = []
    simulate = toy_simulator([])

    def recording(design, replications, stage):
        designs.append((stage, design))
        return simulate(design, replications, stage)

    result = calibrate(toy_targets(), TOY_RANGES, recording, budget=16, replications=2, refine_evaluations=5,
                       draws=8)
    stage, design = designs[-1]
    assert stage == "draws"
    key = "mining.exit_after_months_below_salvage"
    simulated = points_of(design, base_seed=7)
    assert all(point[key] == result.best.point[key] for point in simulated)
    draws = [e for e in result.evaluations if e.stage == "draws"]
    assert [e.point for e in draws] == simulated  # what is recorded is what ran


def test_fitted_values_are_written_into_the_behaviour_file_keeping_everything_else(tmp_path):
    path = tmp_path / "behaviour.toml"
    shutil.copy(CONFIGS / "behaviour.toml", path)
    before = tomllib.loads(path.read_text())
    update_behaviour_file(path, {"adoption.imitation_q": 0.123, "mining.exit_after_months_below_salvage": 7},
                          {"adoption.imitation_q": (0.1, 0.2), "mining.exit_after_months_below_salvage": (5, 9)},
                          "cryptoabm calibrate validation/targets.toml")
    after = tomllib.loads(path.read_text())
    assert after["adoption"]["imitation_q"] == 0.123 and after["mining"]["exit_after_months_below_salvage"] == 7
    before["adoption"]["imitation_q"], before["mining"]["exit_after_months_below_salvage"] = 0.123, 7
    assert after == before
    text = path.read_text()
    assert "imitation_q = 0.123" in text and "# fitted: cryptoabm calibrate" in text
    original = (CONFIGS / "behaviour.toml").read_text()
    comments = [line.strip() for line in original.splitlines() if line.strip().startswith("#")]
    assert comments and all(comment in text for comment in comments)  # every comment line survives
    assert len(text.splitlines()) == len(original.splitlines())


def small_configs(tmp_path: Path) -> Path:
    """A copy of configs/ with 300 citizens per run (a quick calibration or validation)."""
    configs = tmp_path / "configs"
    shutil.copytree(CONFIGS, configs)
    baseline = (CONFIGS / "baseline.toml").read_text().replace("citizens = 2_000 ", "citizens = 300   ")
    assert "citizens = 300" in baseline
    (configs / "baseline.toml").write_text(baseline)
    return configs


def test_calibrate_writes_its_fit_to_out_and_the_behaviour_file_only_when_asked(tmp_path, capsys):
    configs = small_configs(tmp_path)
    behaviour = configs / "behaviour.toml"
    before = behaviour.read_bytes()
    targets = tmp_path / "targets.toml"
    targets.write_text(GOOD_TARGET)
    common = [str(targets), "--method", "smm", "--budget", "2", "--replications", "1", "--refine", "0", "--draws", "0",
              "--workers", "1", "--configs", str(configs), "--no-progress"]
    assert main(["calibrate", *common, "--out", str(tmp_path / "fit"), "--work", str(tmp_path / "w1")]) == 0
    assert behaviour.read_bytes() == before  # untouched without the flag
    fitted = tomllib.loads((tmp_path / "fit" / "fitted.toml").read_text())
    assert set(fitted["parameters"]) == set(CALIBRATED_RANGES)
    assert "untouched" in capsys.readouterr().out

    assert main(["calibrate", *common, "--out", str(tmp_path / "fit2"), "--work", str(tmp_path / "w2"),
                 "--write-behaviour"]) == 0
    after = behaviour.read_text()
    assert after != before.decode() and "# fitted: cryptoabm calibrate" in after
    values = tomllib.loads(after)
    written = tomllib.loads((tmp_path / "fit2" / "fitted.toml").read_text())["parameters"]
    for key, fit in written.items():
        section, name = key.split(".")
        assert values[section][name] == fit["value"]
    # the file's comments that describe it, not a fitted value, are all still there
    kept = [line for line in before.decode().splitlines() if line.startswith("#")]
    assert all(line in after.splitlines() for line in kept)


# -- validation, end to end ---------------------------------------------------------------
def test_a_small_validation_run_writes_the_report_and_a_figure_per_preset(tmp_path, capsys):
    configs = tmp_path / "configs"
    configs.mkdir()
    for name in ("behaviour.toml", "el_salvador_2021.toml"):
        shutil.copy(CONFIGS / name, configs / name)
    for part in ("countries", "policies"):  # the preset is a country under a policy package
        shutil.copytree(CONFIGS / part, configs / part)
    baseline = (CONFIGS / "baseline.toml").read_text().replace("citizens = 2_000 ", "citizens = 300   ")
    assert "citizens = 300" in baseline
    (configs / "baseline.toml").write_text(baseline)
    targets = tmp_path / "targets.toml"
    targets.write_text(GOOD_TARGET + GOOD_TARGET.replace('id = "early_payers"', 'id = "never_paid"')
                       .replace("observed = 0.257", "observed = [0.9, 1.0]"))
    out = tmp_path / "validation"
    code = main(["validate", str(targets), "--replications", "2", "--months", "6", "--workers", "1",
                 "--configs", str(configs), "--out", str(out), "--work", str(tmp_path / "work"), "--no-progress"])
    assert code == 0
    printed = capsys.readouterr().out
    report = (out / "report.md").read_text()
    line = re.search(r"\*\*(\d+) of (\d+) targets pass\*\*", report)
    assert line and line.group(2) == "2" and f"{line.group(1)} of 2 targets pass" in printed
    assert "| `never_paid` |" in report and "**miss**" in report  # nobody near 90% paid: an honest miss
    assert "Presets with no quantitative target yet: `baseline`" in report
    assert sorted(p.name for p in (out / "figures").glob("*.png")) == ["baseline.png", "el_salvador_2021.png"]


def test_validate_refuses_a_horizon_that_cuts_a_target_off(tmp_path, capsys):
    targets = tmp_path / "targets.toml"
    targets.write_text(GOOD_TARGET)
    assert main(["validate", str(targets), "--months", "2", "--out", str(tmp_path / "o"),
                 "--work", str(tmp_path / "w")]) == 2
    assert "target 'early_payers' needs the run to reach 2021-12" in capsys.readouterr().err


def test_targets_giving_one_variant_share_its_runs_and_must_agree_on_its_overrides(tmp_path):
    variant = {"preset": "baseline", "variant": "on_record", "metric": "world_hashrate_vs_record", "observed": 0.0,
               "tolerance": 0.15, "source": "facts.md, Mining economics: global hashrate",
               "overrides": {"start_month": "2022-01", "months": 12, "market.use_history": True,
                             "market.recorded_hashrate": False}}
    first = {**variant, "id": "a", "window": ["2022-06", "2022-06"]}
    second = {**variant, "id": "b", "window": ["2022-12", "2022-12"]}
    path = tmp_path / "targets.toml"
    path.write_text(tomli_w.dumps({"targets": [first, second]}))
    loaded = load_targets(path, ROOT / "configs")
    assert list(loaded.scenarios) == ["baseline__on_record"]
    assert loaded.scenarios["baseline__on_record"].start_month == "2022-01"
    assert not loaded.scenarios["baseline__on_record"].market.recorded_hashrate
    second["overrides"] = {**second["overrides"], "months": 13}
    path.write_text(tomli_w.dumps({"targets": [first, second]}))
    with pytest.raises(ConfigError, match="variant 'on_record'"):
        load_targets(path, ROOT / "configs")
