"""Paired effects as distributions across replicates, and the decomposition of their spread
(issue 19): each formula against a hand-computed case, and the report's section."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from cryptoabm.batch.effects import (
    adjusted_r_squared,
    effect_distribution,
    price_path_features,
    replicate_effects,
    shapley_shares,
    variance_decomposition,
)


def test_an_effects_distribution_by_hand():
    values = np.array([-1.0, 1.0, 2.0, 3.0, 5.0])
    found = effect_distribution(values)
    # mean 2, sample SD sqrt(5), t(4) 97.5% quantile 2.776445
    half = 2.7764451051977987 * math.sqrt(5.0) / math.sqrt(5)
    assert found["median"] == 2.0 and found["p_positive"] == 0.8 and found["mean"] == 2.0
    assert (found["ci_low"], found["ci_high"]) == pytest.approx((2.0 - half, 2.0 + half))
    # numpy's linear quantiles: 5% lies at position 0.2 between -1 and 1, 95% at 3.8 between 3 and 5
    assert (found["q05"], found["q95"]) == pytest.approx((-0.6, 4.6))
    assert found["n"] == 5


def test_the_range_across_replicates_does_not_shrink_with_replicates_but_the_mean_s_interval_does():
    rng = np.random.default_rng(1)
    few, many = effect_distribution(rng.normal(1, 2, 40)), effect_distribution(rng.normal(1, 2, 4000))
    assert (many["ci_high"] - many["ci_low"]) < 0.2 * (few["ci_high"] - few["ci_low"])
    assert (many["q95"] - many["q05"]) == pytest.approx(2 * 1.645 * 2, rel=0.1)
    assert many["p_positive"] == pytest.approx(0.69, abs=0.03)  # P(N(1, 2) > 0) = Phi(0.5)


def test_shapley_shares_by_hand():
    # behaviour alone 0.3, price alone 0.2, both 0.6: behaviour (0.3 + 0.4) / 2, price (0.2 + 0.3) / 2
    shares = shapley_shares(0.3, 0.2, 0.6)
    assert shares == pytest.approx({"behaviour": 0.35, "price_path": 0.25, "other_luck": 0.4})
    assert shapley_shares(0.0, 0.0, 0.0) == {"behaviour": 0.0, "price_path": 0.0, "other_luck": 1.0}
    assert all(math.isnan(v) for v in shapley_shares(math.nan, 0.1, 0.2).values())


def test_adjusted_r_squared_by_hand():
    x = np.array([1.0, 2.0, 3.0, 4.0])
    y = np.array([1.0, 3.0, 2.0, 4.0])  # OLS: slope 0.8, R2 = 0.64; adjusted 1 - 0.36 * 3 / 2 = 0.46
    assert adjusted_r_squared(y, x) == pytest.approx(0.46)
    assert adjusted_r_squared(y, np.zeros((4, 0))) == 0.0
    assert math.isnan(adjusted_r_squared(np.ones(4), x))  # nothing to explain
    assert math.isnan(adjusted_r_squared(y, np.column_stack([x, x ** 2, x ** 3])))  # too few replicates


def synthetic_batch(n: int, effect_of) -> tuple[pd.DataFrame, pd.DataFrame]:
    """A two-arm batch of n replicates: behaviour `adoption.imitation_q` drawn per replicate,
    a price path per replicate, and an arm whose outcome differs by ``effect_of(q, drift, luck)``."""
    rng = np.random.default_rng(5)
    q, drift, luck = rng.uniform(0, 1, n), rng.normal(0, 0.05, n), rng.normal(0, 1, n)
    runs, months = [], []
    for arm in ("reference", "policy"):
        for r in range(n):
            outcome = 10.0 + (effect_of(q[r], drift[r], luck[r]) if arm == "policy" else 0.0)
            runs.append({"run_id": f"{arm}{r}", "arm": arm, "label": arm, "point": 0, "replicate": r,
                         "adoption.imitation_q": q[r], "total_state_revenue_usd": outcome})
            for month in range(1, 13):
                months.append({"arm": arm, "point": 0, "replicate": r, "month": month,
                               "btc_price_usd": 50_000 * math.exp(drift[r] * month)})
    return pd.DataFrame(runs), pd.DataFrame(months)


@pytest.mark.parametrize("effect_of, largest", [
    (lambda q, drift, luck: 5 * q + 0.01 * luck, "behaviour"),
    (lambda q, drift, luck: 100 * drift + 0.01 * luck, "price_path"),
    (lambda q, drift, luck: luck, "other_luck"),
])
def test_the_decomposition_finds_where_the_spread_comes_from(effect_of, largest):
    runs, months = synthetic_batch(60, effect_of)
    effects = replicate_effects(runs, "reference", None, ("total_state_revenue_usd",))
    assert len(effects) == 60 and set(effects["label"]) == {"policy"}
    prices = price_path_features(months, "reference")
    assert len(prices) == 60 and prices["log_price_change"].std() > 0
    row = variance_decomposition(effects, runs, ["adoption.imitation_q"], prices).iloc[0]
    shares = {name: row[name] for name in ("behaviour", "price_path", "other_luck")}
    assert sum(shares.values()) == pytest.approx(1.0)
    assert max(shares, key=shares.get) == largest and shares[largest] > 0.8


def test_without_the_price_path_kept_the_decomposition_says_it_cannot_tell():
    runs, months = synthetic_batch(20, lambda q, drift, luck: q)
    effects = replicate_effects(runs, "reference", None, ("total_state_revenue_usd",))
    prices = price_path_features(months.drop(columns="btc_price_usd"), "reference")
    row = variance_decomposition(effects, runs, ["adoption.imitation_q"], prices).iloc[0]
    assert math.isnan(row["behaviour"]) and math.isnan(row["other_luck"])


# -- Sobol' indices over sample size ------------------------------------------------------
def test_sobol_total_indices_settle_on_an_additive_function_as_the_sample_grows(tmp_path):
    from cryptoabm.batch.experiment import Design, scaled_points
    from cryptoabm.batch.sensitivity import SensitivityDesign
    from cryptoabm.batch.sensitivity_convergence import convergence_figure, sobol_convergence

    design = SensitivityDesign(Design.model_validate({"kind": "sobol", "samples": 256,
                                                      "ranges": {"a": [0.0, 1.0], "b": [0.0, 1.0]}}), 11)
    points = scaled_points(design.design.sampled_ranges, design.unit_sample())
    # y = 3a + b: variance shares 9/10 and 1/10; the dummy carries nothing here
    values = np.array([3 * p["a"] + p["b"] for p in points])
    table = sobol_convergence(design, values, seed=1)
    assert sorted(set(table["base_samples"])) == [32, 64, 128, 256]
    full = table[table["base_samples"] == 256].set_index("parameter")["value"]
    assert full["a"] == pytest.approx(0.9, abs=0.05) and full["b"] == pytest.approx(0.1, abs=0.03)
    assert abs(full["dummy"]) < 0.02
    widths = table[table["parameter"] == "a"].set_index("base_samples")["conf"]
    assert widths[256] < widths[32]  # the bootstrap interval narrows as the sample grows
    convergence_figure(table, tmp_path / "c.png", "toy")
    assert (tmp_path / "c.png").stat().st_size > 5000


# -- robustness claims at two base seeds --------------------------------------------------
def test_claims_at_two_seeds_agree_only_when_close_and_on_the_same_side_of_one_half(tmp_path):
    from cryptoabm.batch.seed_check import compare_win_shares, second_seed_figure, second_seed_section

    def wins(shares):
        return pd.DataFrame([{"arm": arm, "reference": "law", "outcome": "total_state_revenue_usd", "better": "higher",
                              "share_better": share} for arm, share in shares.items()])

    table = compare_win_shares(wins({"a": 0.78, "b": 0.55, "c": 0.66}), wins({"a": 1.00, "b": 0.47, "c": 0.70}))
    found = table.set_index("arm")
    assert found.loc["a", "difference"] == pytest.approx(0.22) and not found.loc["a", "agrees"]  # 78% vs 100%
    assert not found.loc["b", "agrees"]  # close, but on either side of one half
    assert found.loc["c", "agrees"]
    section = "\n".join(second_seed_section(table, (2026, 777), "f.png"))
    assert "**1 of 3 claims agree.**" in section and "| a | total_state_revenue_usd | higher | 78% | 100% | **no** |" in section
    second_seed_figure(table, (2026, 777), tmp_path / "s.png")
    assert (tmp_path / "s.png").stat().st_size > 5000


def test_a_second_seed_must_be_the_same_experiment_on_another_seed():
    from cryptoabm.batch.seed_check import check_same_experiment
    from cryptoabm.batch.sensitivity import AnalysisError

    first = {"experiment": "e", "design_spec": {"kind": "sobol"}, "base_seed": 1}
    check_same_experiment(first, {**first, "base_seed": 2}, "b")
    with pytest.raises(AnalysisError, match="same base seed"):
        check_same_experiment(first, dict(first), "b")
    with pytest.raises(AnalysisError, match="not the same experiment"):
        check_same_experiment(first, {**first, "experiment": "f", "base_seed": 2}, "b")
