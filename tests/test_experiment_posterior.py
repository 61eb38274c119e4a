"""Experiments read the calibration's posterior (issue 19): each replicate draws its behaviour
from the posterior file, the same draw in every arm; scenario factors cross any config key
with the design, validated like a design's keys."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from cryptoabm.batch.experiment import design_point_count, design_points, expand_runs, load_experiment
from cryptoabm.batch.posterior import posterior_rows, read_posterior
from cryptoabm.batch.report import write_report
from cryptoabm.batch.runner import InProcessExecutor, run_batch
from cryptoabm.config import ConfigError
from tests.test_batch import TWO_ARMS, write_experiment

POSTERIOR = pd.DataFrame({"adoption.imitation_q": [0.05, 0.1, 0.2, 0.3, 0.35],
                          "adoption.innovation_p": [0.001, 0.002, 0.003, 0.004, 0.005],
                          "weight": [1.0, 2.0, 0.0, 1.0, 1.0]})  # draw 2 has no weight: never drawn


def with_posterior(tmp_path, reps: int = 8, extra: str = "", where: str = "."):
    folder = tmp_path / where
    folder.mkdir(parents=True, exist_ok=True)
    POSTERIOR.to_parquet(folder / "posterior.parquet", index=False)
    return write_experiment(tmp_path, TWO_ARMS.format(reps=reps, months=2) + extra
                            + '\n[uncertainty]\nposterior = "posterior.parquet"\n')


def test_each_replicate_draws_its_behaviour_from_the_posterior_the_same_in_every_arm(tmp_path):
    loaded = load_experiment(with_posterior(tmp_path, reps=8))
    assert loaded.posterior is not None and str(loaded.posterior.path) in loaded.inputs
    runs = expand_runs(loaded)
    rows = {tuple(row) for row in POSTERIOR.drop(columns="weight").to_numpy()[POSTERIOR["weight"] > 0]}
    by_replicate: dict[int, set] = {}
    for run in runs:
        drawn = (run.params["adoption.imitation_q"], run.params["adoption.innovation_p"])
        assert drawn in rows  # a row of the file, never the one without weight
        assert (run.scenario["adoption"]["imitation_q"], run.scenario["adoption"]["innovation_p"]) == drawn
        by_replicate.setdefault(run.replicate, set()).add(drawn)
    assert all(len(draws) == 1 for draws in by_replicate.values())  # paired: one draw per replicate, every arm
    assert len(set().union(*by_replicate.values())) > 1  # and the replicates do not all share one
    # the rows are a seeded weighted draw: the same for the same base seed
    posterior = read_posterior(loaded.posterior.path)
    assert np.array_equal(posterior_rows(posterior, 8, 7), posterior_rows(posterior, 8, 7))
    heavy = posterior_rows(posterior, 4000, 7)
    assert np.mean(heavy == 1) == pytest.approx(0.4, abs=0.03) and not (heavy == 2).any()


def test_a_batch_records_the_posterior_draws_paired_across_arms(tmp_path):
    loaded = load_experiment(with_posterior(tmp_path, reps=3))
    run_batch(loaded, tmp_path / "out", InProcessExecutor, progress=False)
    runs = pd.read_parquet(tmp_path / "out" / "runs.parquet")
    wide = runs.pivot(index="replicate", columns="arm", values="adoption.imitation_q")
    assert (wide["ban"] == wide["voluntary"]).all()
    report = write_report(tmp_path / "out").read_text()
    assert "from the calibration's posterior sample (`posterior.parquet`" in report


def test_the_posterior_is_found_in_validation_calibration(tmp_path):
    (tmp_path / "experiments").mkdir()
    loaded = load_experiment(with_posterior(tmp_path / "experiments", where="../validation/calibration"))
    assert loaded.posterior.path == (tmp_path / "validation" / "calibration" / "posterior.parquet").resolve()


@pytest.mark.parametrize("change, words", [
    (('posterior = "posterior.parquet"', 'posterior = "../posterior.parquet"'), "bare file name"),
    (('posterior = "posterior.parquet"', 'posterior = "other.parquet"'), "no such file: other.parquet"),
    (('[uncertainty]', '[uncertainty.ranges]\n"adoption.imitation_q" = [0.1, 0.2]\n[uncertainty]'),
     "adoption.imitation_q is drawn from the posterior and also set"),
])
def test_a_bad_posterior_is_one_line_naming_the_field(tmp_path, change, words):
    path = with_posterior(tmp_path)
    path.write_text(path.read_text().replace(*change))
    with pytest.raises(ConfigError) as caught:
        load_experiment(path)
    assert caught.value.field == "uncertainty.posterior" and words in caught.value.message


def test_a_posterior_with_a_value_the_config_refuses_is_caught_at_load(tmp_path):
    path = with_posterior(tmp_path)
    bad = POSTERIOR.assign(**{"adoption.imitation_q": [0.05, 0.1, 0.2, 0.3, -4.0]})
    bad.to_parquet(tmp_path / "posterior.parquet", index=False)
    with pytest.raises(ConfigError) as caught:
        load_experiment(path)
    assert "imitation_q" in caught.value.message


FACTORS = """
[scenario_factors]
"market.price_drift_annual" = [-0.2, 0.0, 0.2]
"mining.initial_farms" = [2, 4]
"""


def test_scenario_factors_cross_any_config_key_with_the_design(tmp_path):
    loaded = load_experiment(write_experiment(tmp_path, TWO_ARMS.format(reps=2, months=2) + FACTORS + """
[design]
kind = "grid"
parameters = { "policy.license_cap" = [1, 2] }
"""))
    points = design_points(loaded.experiment)
    assert len(points) == 12 == design_point_count(loaded.experiment)
    assert points[0] == {"market.price_drift_annual": -0.2, "mining.initial_farms": 2, "policy.license_cap": 1}
    assert points[-1] == {"market.price_drift_annual": 0.2, "mining.initial_farms": 4, "policy.license_cap": 2}
    runs = expand_runs(loaded)
    assert {r.scenario["market"]["price_drift_annual"] for r in runs} == {-0.2, 0.0, 0.2}
    # common random numbers across the factors' levels too
    assert len({r.seed for r in runs if r.replicate == 0}) == 1


@pytest.mark.parametrize("factors, field, words", [
    ('"market.no_such_key" = [1, 2]', "design", "no_such_key"),
    ('"market.price_volatility_annual" = [-1.0]', "design", "price_volatility_annual"),
    ('"market.price_drift_annual" = []', "scenario_factors", "empty list"),
])
def test_a_bad_scenario_factor_is_refused_at_load(tmp_path, factors, field, words):
    path = write_experiment(tmp_path, TWO_ARMS.format(reps=2, months=2) + "\n[scenario_factors]\n" + factors + "\n")
    with pytest.raises(ConfigError) as caught:
        load_experiment(path)
    assert field in f"{caught.value.field}: {caught.value.message}" and words in caught.value.message
