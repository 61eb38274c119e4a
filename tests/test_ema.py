"""The EMA Workbench adapter: one call gives a model that EMA's experiments and optimisation
run without glue, paired on the seed, with outcomes in their better directions."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from ema_workbench import ScalarOutcome, SequentialEvaluator, perform_experiments

from cryptoabm.cli import main
from cryptoabm.config import load_composition
from cryptoabm.ema import (
    LEVER_RANGES,
    SEED_PARAMETER,
    behaviour_ranges,
    dotted_key,
    ema_model,
    package_levers,
    robust_policies,
)
from cryptoabm.model import CryptoEconomy
from cryptoabm.summary import BETTER, outcomes
from tests.conftest import CONFIGS, ROOT

SMALL = {"citizens": 200, "months": 12}


@pytest.fixture(scope="module")
def model():
    return ema_model("turkmenistan", "turkmenistan_2026_law", **SMALL)


def test_the_model_declares_behaviour_levers_seed_and_directed_outcomes(model):
    names = {u.name for u in model.uncertainties}
    ranges, source = behaviour_ranges(ROOT)
    assert {name.replace(".", "__") for name in ranges} | {SEED_PARAMETER} <= names
    assert "fitted.toml" in source or "posterior" in source  # the fit's ranges, not the search's
    levers = [dotted_key(lever.name) for lever in model.levers]
    assert levers == package_levers("turkmenistan", "turkmenistan_2026_law")
    assert "policy.license_cap" in levers and "policy.capital_controls" in levers
    assert all(key in LEVER_RANGES for key in levers)
    kinds = {outcome.name: outcome.kind for outcome in model.outcomes}
    assert kinds["total_state_revenue_usd"] == ScalarOutcome.MAXIMIZE == kinds["final_wallet_share"]
    assert kinds["total_capital_flight_usd"] == ScalarOutcome.MINIMIZE
    assert kinds["final_hashrate_ehs"] == ScalarOutcome.INFO
    assert all((kinds[name] == ScalarOutcome.INFO) == (BETTER.get(name, "neither") == "neither") for name in kinds)


def test_perform_experiments_runs_8_scenarios_by_2_policies_paired_on_the_seed(model):
    experiments, results = perform_experiments(model, scenarios=8, policies=2, log_progress=False)
    assert len(experiments) == 16 and len(results["total_state_revenue_usd"]) == 16
    frame = pd.DataFrame({"scenario": experiments["scenario"], "policy": experiments["policy"],
                          "seed": experiments[SEED_PARAMETER], "price": results["total_fdi_inflow_usd"]})
    # each scenario has one seed under both policies: paired comparisons
    assert (frame.groupby("scenario")["seed"].nunique() == 1).all() and frame["seed"].nunique() == 8
    # the first experiment is exactly a direct run with its values
    row = experiments.iloc[0]
    overrides = {dotted_key(name): (row[name].item() if hasattr(row[name], "item") else row[name])
                 for name in [*(u.name for u in model.uncertainties), *(lever.name for lever in model.levers)]
                 if name != SEED_PARAMETER}
    overrides.update({"population.citizens": 200, "months": 12})
    direct = CryptoEconomy(load_composition(CONFIGS, "turkmenistan", "turkmenistan_2026_law", overrides),
                           seed=int(row[SEED_PARAMETER]))
    direct.run()
    assert outcomes(direct)["total_state_revenue_usd"] == pytest.approx(results["total_state_revenue_usd"][0])


def test_ema_optimisation_runs_on_the_model_without_glue(tmp_path):
    model = ema_model("turkmenistan", "turkmenistan_2026_law", levers=["policy.license_cap", "policy.license_fee_usd"],
                      outcomes=["total_state_revenue_usd", "total_capital_flight_usd"], seed_as_uncertainty=False,
                      **SMALL)
    with SequentialEvaluator(model) as evaluator:
        found, _ = evaluator.optimize(nfe=24, searchover="levers", epsilons=[1e5, 1e5], population_size=6, rng=2,
                                      filename="archive.tar.gz", directory=str(tmp_path))
    assert len(found) >= 1
    assert found["policy__license_cap"].between(0, 100).all()
    assert np.isfinite(found["total_state_revenue_usd"]).all()


def test_robust_search_gives_a_pareto_set_with_regrets(tmp_path):
    model = ema_model("turkmenistan", "turkmenistan_2026_law", levers=["policy.license_cap", "policy.license_fee_usd"],
                      outcomes=["total_state_revenue_usd", "total_capital_flight_usd"], **SMALL)
    status_quo = {"policy__license_cap": 20, "policy__license_fee_usd": 50_000.0}
    pareto, regret, scenarios = robust_policies(model, ("total_state_revenue_usd", "total_capital_flight_usd"),
                                                scenarios=3, nfe=24, population_size=6, seed=3,
                                                status_quo=status_quo, directory=tmp_path)
    assert len(scenarios) == 3 and len(pareto) >= 1
    assert {"policy__license_cap", "policy__license_fee_usd", "mean_total_state_revenue_usd"} <= set(pareto.columns)
    assert list(regret.index)[-1] == "package as it stands" and len(regret) == len(pareto) + 1
    for name in ("total_state_revenue_usd", "total_capital_flight_usd"):
        assert (regret[f"regret_{name}"] >= 0).all()  # a shortfall from the best
        assert (regret[f"regret_{name}"] == 0).any() or len(scenarios) > 1  # someone is best somewhere
    # no Pareto policy is dominated by another on the means the search optimised
    means = pareto[["mean_total_state_revenue_usd", "mean_total_capital_flight_usd"]].to_numpy()
    for i, a in enumerate(means):
        for j, b in enumerate(means):
            assert i == j or not (b[0] >= a[0] and b[1] <= a[1] and (b[0] > a[0] or b[1] < a[1]))


def test_the_optimize_command_prints_the_pareto_set_with_regrets(tmp_path, capsys):
    out = tmp_path / "opt"
    code = main(["optimize", str(ROOT / "experiments" / "turkmenistan_options.toml"), "--scenarios", "2",
                 "--nfe", "12", "--population", "4", "--citizens", "200", "--months", "12",
                 "--lever", "policy.license_cap", "--objective", "total_state_revenue_usd",
                 "--objective", "total_capital_flight_usd", "--out", str(out)])
    printed = capsys.readouterr().out
    assert code == 0
    assert "package as it stands | 20 |" in printed and "Pareto policies" in printed
    regret = pd.read_csv(out / "regret.csv")
    assert np.isfinite(regret["regret_total_capital_flight_usd"]).all()
    assert {"pareto.csv", "scenarios.csv"} <= {p.name for p in out.iterdir()}
