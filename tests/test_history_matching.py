"""History matching with emulators, then a posterior (issue 19): each formula against a
hand-computed case; the whole procedure on a toy model with a known truth; determinism."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from cryptoabm.batch.experiment import replicate_seed
from cryptoabm.calibration.history_matching import (
    HistoryMatcher,
    choose_replications,
    implausibility,
    log_likelihood_term,
    maximin_subset,
    outside_range,
    split_rhat,
    write_history_matching,
)
from cryptoabm.calibration.simulate import Simulated, points_of
from cryptoabm.calibration.targets import LoadedTargets, TargetFile


# -- the formulas, by hand ----------------------------------------------------------------
def test_distance_from_an_observed_range_by_hand():
    assert outside_range(np.array([0.1, 0.3, 0.7]), 0.2, 0.5).tolist() == pytest.approx([-0.1, 0.0, 0.2])


def test_implausibility_by_hand():
    # |0.8 - 0.5| / sqrt(emulator 0.01 + observation 0.1^2 + discrepancy 0.1^2 + ensemble 0.02) = 0.3 / sqrt(0.05)
    found = implausibility(np.array([0.8]), np.array([0.01]), 0.5, 0.5, 0.1, 0.1, 0.02)
    assert found[0] == pytest.approx(0.3 / math.sqrt(0.05)) and found[0] == pytest.approx(1.341641, rel=1e-6)
    # inside an observed range it is 0 whatever the variances
    assert implausibility(np.array([0.55]), np.array([0.0]), 0.5, 0.6, 0.01, 0.0, 0.0)[0] == 0.0
    # below the range: measured from its low end
    assert implausibility(np.array([0.2]), np.array([0.0]), 0.5, 0.6, 0.1, 0.0, 0.0)[0] == pytest.approx(3.0)


def test_the_likelihood_weight_by_hand():
    # -(0.3^2 / 0.05 + log(2 pi 0.05)) / 2
    expected = -0.5 * (0.09 / 0.05 + math.log(2 * math.pi * 0.05))
    found = log_likelihood_term(np.array([0.8]), np.array([0.01]), 0.5, 0.5, 0.1, 0.1, 0.02)
    assert found[0] == pytest.approx(expected) and found[0] == pytest.approx(-0.32107, abs=1e-5)


def test_replications_from_the_noise_study_by_hand():
    # SE of a point's mean, sd / sqrt(R), at most share x sqrt(scale^2 + sd^2), the SD a distance is
    # judged against: R >= sd^2 / (share^2 (scale^2 + sd^2))
    # 0.0036 / (0.09 x (0.0025 + 0.0036)) = 6.56 -> 7
    assert choose_replications({"a": 0.06}, {"a": 0.05}, share=0.3, minimum=1) == 7
    # 0.0009 / (0.09 x 0.0034) = 2.94 -> 3, and the minimum, 10, when it is larger
    assert choose_replications({"a": 0.03}, {"a": 0.05}, share=0.3, minimum=1) == 3
    assert choose_replications({"a": 0.03}, {"a": 0.05}, share=0.3) == 10
    # 0.01 / (0.04 x 0.0125) = 20; at share 0.1, 80: capped at 40
    assert choose_replications({"a": 0.1}, {"a": 0.05}, share=0.2) == 20
    assert choose_replications({"a": 0.1}, {"a": 0.05}, share=0.1) == 40
    # the noisiest target decides: b needs 0.0081 / (0.09 x 0.0106) = 8.49 -> 9
    assert choose_replications({"a": 0.03, "b": 0.09}, {"a": 0.05, "b": 0.05}, share=0.3, minimum=1) == 9
    assert choose_replications({"a": float("nan")}, {"a": 0.05}) == 10
    # a target whose runs scatter 100 times the record's error needs at most 1 / share^2 = 4 at the
    # default share, a half: its ensemble variance is in the denominator whole
    assert choose_replications({"a": 5.0}, {"a": 0.05}, minimum=1) == 4


def test_maximin_subset_by_hand():
    candidates = np.array([[0.0], [0.1], [1.0], [0.5]])
    assert maximin_subset(candidates, 3).ravel().tolist() == [0.0, 1.0, 0.5]


def test_a_small_non_implausible_space_still_gets_a_whole_design():
    """When fewer than a design's points of the first 4,096 candidates survive, the candidate
    sequence is lengthened until enough do: a region of 1/4,600 of a 13-parameter cube (about one
    a candidate in 4,096) still yields a later wave's 20 points, every one inside it."""
    from cryptoabm.calibration.history_matching import CANDIDATES, MAX_CANDIDATES, Space, sobol_unit

    matcher = HistoryMatcher.__new__(HistoryMatcher)
    matcher.space = Space({f"p{i}": (0.0, 1.0) for i in range(13)})
    matcher.seed = 7
    matcher.non_implausible = lambda unit, waves, informative: np.all(unit[:, :3] < 0.06, axis=1)
    kept = matcher.non_implausible_candidates([], [], wanted=20)
    assert len(kept) >= 20 and np.all(kept[:, :3] < 0.06)
    first = matcher.non_implausible(sobol_unit(13, CANDIDATES, 7, 2), [], [])
    assert first.sum() < 20 <= MAX_CANDIDATES * 0.06 ** 3  # the first candidates alone would not do
    # nothing survives anywhere: an empty set after MAX_CANDIDATES tries, not an endless search
    matcher.non_implausible = lambda unit, waves, informative: np.zeros(len(unit), dtype=bool)
    assert len(matcher.non_implausible_candidates([], [], wanted=5)) == 0


def test_split_rhat_is_one_for_mixed_walkers_and_large_for_stuck_ones():
    rng = np.random.default_rng(0)
    assert split_rhat(rng.normal(size=(2000, 8))) == pytest.approx(1.0, abs=0.01)
    stuck = rng.normal(size=(2000, 8)) * 0.1 + np.arange(8)  # each walker in its own place
    assert split_rhat(stuck) > 5


# -- the whole procedure on a toy model ---------------------------------------------------
RANGES = {"adoption.imitation_q": (0.0, 1.0), "adoption.dropout_hazard": (0.0, 10.0),
          "mining.exit_after_months_below_salvage": (1, 5)}
TRUTH = {"adoption.imitation_q": 0.3, "adoption.dropout_hazard": 7.0}


def toy_loaded() -> LoadedTargets:
    common = {"preset": "toy", "window": ["2021-01", "2021-01"], "source": "facts.md, toy: truth"}
    targets = TargetFile.model_validate({"base_seed": 7, "discrepancy_share": 0.5, "targets": [
        {**common, "id": "a", "metric": "mean_active_share", "observed": 0.3, "tolerance": 0.05,
         "observation_sd": 0.02, "observation_sd_source": "toy"},
        {**common, "id": "b", "metric": "mining_operations", "observed": [0.69, 0.71], "tolerance": 0.05,
         "observation_sd": 0.03},
        {**common, "id": "flat", "metric": "licensed_miners", "observed": 1.0, "tolerance": 0.05},
        {**common, "id": "held", "metric": "licensed_miners", "observed": 5.0, "tolerance": 0.05,
         "calibrate": False}]})
    return LoadedTargets(targets, Path("toy.toml"), {}, {})


def toy_simulator(calls: list[tuple[str, int, int]]):
    """Moments q, h/10 (each with a replicate's noise, SD 0.02, on common random numbers), a
    target no parameter moves, and one held out."""
    def simulate(design, replications, stage):
        points = points_of(design, base_seed=7)
        calls.append((stage, len(points), replications))
        rows = []
        for p, point in enumerate(points):
            for r in range(replications):
                noise = np.random.default_rng(replicate_seed(7, r)).normal(0.0, 0.02, 3)
                q, h = point["adoption.imitation_q"], point["adoption.dropout_hazard"]
                rows += [(p, r, "a", q + noise[0]), (p, r, "b", h / 10 + noise[1]), (p, r, "flat", 1.0 + noise[2]),
                         (p, r, "held", h + q)]
        return Simulated(points, pd.DataFrame(rows, columns=["point", "replicate", "target", "value"]))
    return simulate


def run_toy(calls=None, **settings):
    calls = [] if calls is None else calls
    options = {"waves": 3, "points": 32, "noise_replications": 20, "steps": 1500, "draws": 400, **settings}
    return HistoryMatcher(toy_loaded(), RANGES, toy_simulator(calls), **options).run()


def test_history_matching_cuts_the_space_and_the_posterior_holds_the_truth(tmp_path):
    calls: list[tuple[str, int, int]] = []
    result = run_toy(calls)
    assert calls[0] == ("noise", 1, 20)
    # the noise SD 0.02 against scale SDs 0.02 and 0.03 x sqrt(1.25): (0.02 / (0.5 x 0.02236))^2 = 3.2: 10
    assert result.replications == 10 and all(r == 10 for stage, _, r in calls[1:])
    assert [c[0] for c in calls[1:]] == ["wave1", "wave2", "wave3"]
    assert result.checks == ["flat"] and result.informative == ["a", "b"]  # no parameter moves "flat"
    shares = [w.non_implausible_share for w in result.waves]
    assert shares[0] < 0.2 and all(later <= earlier + 1e-9 for earlier, later in zip(shares, shares[1:]))
    uncertainty = result.uncertainty()
    for key, truth in TRUTH.items():
        low, high = uncertainty[key]
        assert low <= truth <= high, f"{key}: truth {truth} outside {low:.3g}-{high:.3g}"
        assert high - low < 0.25 * (RANGES[key][1] - RANGES[key][0])
    assert result.diagnostics["acceptance_fraction"] > 0.1
    # walkers of an ensemble sampler are correlated: split R-hat over them near 1, not at it
    assert all(abs(r - 1) < 0.15 for r in result.diagnostics["split_rhat"].values())
    paths = write_history_matching(result, tmp_path, "cryptoabm calibrate toy.toml")
    assert all(p.is_file() for p in paths)
    written = pd.read_parquet(tmp_path / "posterior.parquet")
    assert list(written.columns) == list(RANGES) and len(written) == 400
    assert written["mining.exit_after_months_below_salvage"].dtype == np.int64


def test_history_matching_gives_the_same_posterior_file_twice(tmp_path):
    first = write_history_matching(run_toy(steps=200, draws=100), tmp_path / "one", "x")
    second = write_history_matching(run_toy(steps=200, draws=100), tmp_path / "two", "x")
    for a, b in zip(first, second, strict=True):
        if a.suffix in (".parquet", ".csv"):
            assert a.read_bytes() == b.read_bytes(), a.name


# -- posterior predictive checks ----------------------------------------------------------
def test_a_posterior_predictive_check_covers_what_the_posterior_predicts_and_counts_checks_apart(tmp_path):
    from cryptoabm.calibration.predictive import k_of_n, predictive_check, predictive_figure

    loaded = toy_loaded()
    near_truth = pd.DataFrame({"adoption.imitation_q": np.linspace(0.28, 0.32, 30),
                               "adoption.dropout_hazard": np.linspace(6.9, 7.1, 30),
                               "mining.exit_after_months_below_salvage": [3] * 30})
    table = predictive_check(loaded, loaded.targets.targets, near_truth, toy_simulator([]), draws=10, replications=4,
                             checks=frozenset({"flat"}))
    assert list(table["runs"]) == [40] * 4
    covered = dict(zip(table["target"], table["covered"], strict=True))
    assert covered == {"a": True, "b": True, "flat": True, "held": False}  # held: h + q = 7.3 against 5
    assert k_of_n(table) == "2 of 3 (checks, counted apart: 1 of 1)"
    # the interval carries observation error and discrepancy: about 1.96 x sqrt(0.02^2 + 0.02^2 x 1.25) around 0.3
    row = table.set_index("target").loc["a"]
    assert row["predictive_high"] - row["predictive_low"] == pytest.approx(2 * 1.96 * 0.02 * math.sqrt(2.25), rel=0.3)
    predictive_figure(table, tmp_path / "p.png", "toy")
    assert (tmp_path / "p.png").stat().st_size > 5000
