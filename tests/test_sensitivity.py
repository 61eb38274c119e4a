"""Sensitivity designs and their analysis, robustness tables, PRIM, and bootstrap intervals."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest

from cryptoabm.batch.experiment import DUMMY, design_point_count, design_points, expand_runs, load_experiment
from cryptoabm.batch.report import arm_summaries, bootstrap_interval, t_interval
from cryptoabm.batch.robustness import find_box, parse_threshold, regret_table, win_shares
from cryptoabm.batch.runner import InProcessExecutor, RunResult, run_batch
from cryptoabm.batch.sensitivity import AnalysisError
from cryptoabm.batch.sensitivity_report import analyse
from cryptoabm.cli import main
from cryptoabm.config import ConfigError
from cryptoabm.summary import BETTER, BOUNDED_AT_ZERO, OUTCOMES
from tests.test_batch import write_experiment

# three real config keys stand for the toy's inputs x1, x2, x3 (the toy simulator reads them from the point)
X1, X2, X3 = "adoption.innovation_p", "adoption.imitation_q", "capital_flight.adjustment_per_month"
RANGES = {X1: (0.0, 0.01), X2: (0.0, 0.5), X3: (0.0, 1.0)}

SAMPLED = """
name = "sampled"
question = "What drives it?"
reference = "status_quo"
replications = {reps}
horizon_months = {months}
base_seed = 11
record_every_months = "end"
metrics = ["wallet_share"]
report_outcomes = ["final_wallet_share", "total_capital_flight_usd"]
[[arms]]
name = "status_quo"
config = "small.toml"
[[arms]]
name = "reform"
config = "small.toml"
overrides = {{ "policy.payment_regime" = "legal_tender" }}
[design]
kind = "{kind}"
{settings}
[design.ranges]
"adoption.innovation_p" = [0.0, 0.01]
"adoption.imitation_q" = [0.0, 0.5]
"capital_flight.adjustment_per_month" = [0.0, 1.0]
"""


def sampled(tmp_path, kind="morris", settings="trajectories = 4", reps=1, months=3):
    return write_experiment(tmp_path, SAMPLED.format(kind=kind, settings=settings, reps=reps, months=months))


def unit(spec, key: str) -> float:
    low, high = RANGES[key]
    return (spec.params[key] - low) / (high - low)


def toy_simulator(outcome_of):
    """A stand-in for the model with the batch's signature: ``outcome_of(spec)`` gives the value
    of total_capital_flight_usd (every other outcome 0); nothing else of the batch changes."""

    def run(spec):
        outcomes = dict.fromkeys(OUTCOMES, 0.0)
        outcomes["total_capital_flight_usd"] = float(outcome_of(spec))
        table = pa.table({"month": [spec.scenario["months"]], "date": ["2026-03"], "wallet_share": [0.0]})
        return RunResult(spec.run_id, table, outcomes, None, 0.0)

    return run


def run_toy(path, out, outcome_of):
    loaded = load_experiment(path)
    run_batch(loaded, out, InProcessExecutor, run_function=toy_simulator(outcome_of), progress=False)
    return out


# -- designs and seeds --------------------------------------------------------------------
def test_morris_and_sobol_designs_add_a_dummy_that_only_moves_the_seeds(tmp_path):
    morris = load_experiment(sampled(tmp_path, settings="trajectories = 3\nlevels = 4"))
    points = design_points(morris.experiment)
    assert len(points) == design_point_count(morris.experiment) == 3 * (3 + 1 + 1)  # 3 parameters and the dummy
    assert all(set(p) == {X1, X2, X3, DUMMY} for p in points)
    assert design_points(load_experiment(sampled(tmp_path, settings="trajectories = 3")).experiment) == points
    assert design_points(morris.experiment.model_copy(update={"base_seed": 12})) != points  # drawn from the base seed
    runs = expand_runs(morris)
    assert all("dummy" not in spec.scenario for spec in runs)  # the model's config never sees it
    by_arm_point = {(r.arm, r.point): r.seed for r in runs}
    assert all(by_arm_point[("status_quo", p)] == by_arm_point[("reform", p)] for p in range(len(points)))
    # along a trajectory one parameter moves at a time: the seeds change exactly when the dummy moves
    for i in range(len(points) - 1):
        if i % 5 == 4:
            continue  # the next trajectory starts
        moved = [k for k in points[i] if points[i][k] != points[i + 1][k]]
        assert len(moved) == 1
        same_seed = by_arm_point[("status_quo", i)] == by_arm_point[("status_quo", i + 1)]
        assert same_seed == (moved[0] != DUMMY)
    sobol = load_experiment(sampled(tmp_path, kind="sobol", settings="samples = 8\nsecond_order = true"))
    assert len(design_points(sobol.experiment)) == design_point_count(sobol.experiment) == 8 * (2 * 4 + 2)


@pytest.mark.parametrize("settings, ranges, message", [
    ("trajectories = 4", '"adoption.imitation_q" = [0.5, 0.1]', "low < high"),
    ("trajectories = 4", '"dummy" = [0.0, 1.0]', "dummy"),
    ("trajectories = 1", '"adoption.imitation_q" = [0.1, 0.5]', "trajectories >= 2"),
    ("samples = 6", '"adoption.imitation_q" = [0.1, 0.5]', "power of two"),
    ("trajectories = 4", '"adoption.no_such_key" = [0.1, 0.5]', "no_such_key"),
])
def test_a_bad_sensitivity_design_is_one_line_exit_2_and_leaves_nothing(tmp_path, capsys, settings, ranges, message):
    kind = "sobol" if "samples" in settings else "morris"
    body = SAMPLED.format(kind=kind, settings=settings, reps=1, months=2).split("[design.ranges]")[0]
    path = write_experiment(tmp_path, body + "[design.ranges]\n" + ranges + "\n")
    out = tmp_path / "out"
    assert main(["batch", str(path), "--out", str(out), "--workers", "1", "--no-progress"]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and message in err and "Traceback" not in err
    assert not out.exists()
    with pytest.raises(ConfigError):
        load_experiment(path)


# -- SALib through the batch: known indices ---------------------------------------------------
def test_sobol_indices_of_an_additive_function_are_its_variance_shares(tmp_path):
    """y = 4 x1 + 2 x2 (x uniform on the unit ranges) has S1 = ST = 16/20 and 4/20, and 0 for x3;
    the reform adds 3 x3, so its paired effect depends on x3 alone (S1 = ST = 1). With 32 base samples
    the estimates are within 0.1 of these."""
    path = sampled(tmp_path, kind="sobol", settings="samples = 32")

    def toy(spec):
        return 4 * unit(spec, X1) + 2 * unit(spec, X2) + (3 * unit(spec, X3) if spec.arm == "reform" else 0.0)

    result = analyse(run_toy(path, tmp_path / "out", toy), ["total_capital_flight_usd"])
    indices = result.indices.set_index(["quantity", "arm", "parameter", "index"])["value"]
    expected_level = {X1: 0.8, X2: 0.2, X3: 0.0, DUMMY: 0.0}
    for parameter, share in expected_level.items():
        for index in ("S1", "ST"):
            assert indices[("level", "status_quo", parameter, index)] == pytest.approx(share, abs=0.1)
    for parameter, share in {X1: 0.0, X2: 0.0, X3: 1.0, DUMMY: 0.0}.items():
        for index in ("S1", "ST"):
            assert indices[("effect", "reform", parameter, index)] == pytest.approx(share, abs=0.1)
    assert set(result.checks["verdict"]) == {"ok"}  # no seed noise: the dummy scores nothing
    assert (tmp_path / "out" / "sensitivity" / "indices.parquet").is_file()
    assert (tmp_path / "out" / "sensitivity" / "indices.csv").is_file()
    # the effect's ST over growing prefixes of the base samples: x3 carries it at every size
    convergence = pd.read_csv(tmp_path / "out" / "sensitivity" / "sobol_convergence.csv")
    x3 = convergence[(convergence["arm"] == "reform") & (convergence["parameter"] == X3)]
    assert list(x3["base_samples"]) == [4, 8, 16, 32] and x3["value"].iloc[-1] == pytest.approx(1.0, abs=0.1)
    assert "## Do the indices settle?" in (tmp_path / "out" / "report.md").read_text()


def test_the_dummy_check_flags_a_design_too_small_for_the_seed_noise(tmp_path):
    """The same small Morris design: a weak effect under strong seed noise is flagged, a strong one is not."""
    path = sampled(tmp_path, settings="trajectories = 4")

    def noisy(signal, noise):
        return lambda spec: signal * unit(spec, X1) + noise * np.random.default_rng(spec.seed).normal()

    weak = analyse(run_toy(path, tmp_path / "weak", noisy(0.1, 1.0)), ["total_capital_flight_usd"])
    strong = analyse(run_toy(path, tmp_path / "strong", noisy(10.0, 0.01)), ["total_capital_flight_usd"])
    level = lambda checks: checks[(checks["quantity"] == "level") & (checks["arm"] == "status_quo")].iloc[0]
    assert level(weak.checks)["verdict"] == "too small"
    assert X1 in level(weak.checks)["within_noise"]
    assert level(strong.checks)["verdict"] == "ok" and level(strong.checks)["top_parameter"] == X1
    report = (tmp_path / "weak" / "report.md").read_text()
    assert "The design is too small" in report
    assert "Passes" in (tmp_path / "strong" / "report.md").read_text()


# -- robustness and PRIM ------------------------------------------------------------------------
def test_prim_finds_the_box_a_toy_dataset_fails_in():
    rng = np.random.default_rng(1)
    x = pd.DataFrame(rng.random((400, 3)), columns=["a", "b", "c"])
    failing = ((x["a"] > 0.7) & (x["b"] < 0.4)).to_numpy()
    box = find_box(x, failing)
    bounds = {b["parameter"]: b for b in box["bounds"]}
    assert box["density"] > 0.9 and box["coverage"] > 0.8
    assert bounds["a"]["low"] == pytest.approx(0.7, abs=0.05) and bounds["b"]["high"] == pytest.approx(0.4, abs=0.05)
    assert bounds["a"]["restricted"] and bounds["b"]["restricted"] and not bounds["c"]["restricted"]
    # EMA Workbench's resampling finds the two real limits again, and never the irrelevant one
    assert bounds["a"]["reproduce_coverage"] > 0 and bounds["b"]["reproduce_coverage"] > 0
    assert bounds["c"]["reproduce_coverage"] == 0
    assert find_box(x, np.zeros(400, bool)) is None


def _runs(values: dict[str, list[float]], outcome: str) -> pd.DataFrame:
    rows = [{"arm": arm, "point": point, "replicate": 0, outcome: value}
            for arm, series in values.items() for point, value in enumerate(series)]
    return pd.DataFrame(rows)


def test_win_shares_and_regret_follow_each_outcomes_better_side():
    assert BETTER["total_capital_flight_usd"] == "lower" and BETTER["total_state_revenue_usd"] == "higher"
    assert set(OUTCOMES) <= set(BETTER) and set(BETTER.values()) <= {"higher", "lower", "neither"}
    flight = _runs({"law": [10.0, 10.0, 10.0, 10.0], "ban": [5.0, 12.0, 10.0, 4.0]}, "total_capital_flight_usd")
    wins = win_shares(flight, "law", ["total_capital_flight_usd", "peak_hashrate_ehs"], 4).iloc[0]
    assert (wins["share_better"], wins["share_worse"], wins["share_tie"]) == (0.5, 0.25, 0.25)
    regret = regret_table(flight, ["total_capital_flight_usd"], 4).set_index("arm")
    assert regret.loc["law", "max_regret"] == 6.0 and regret.loc["law", "mean_regret"] == (5 + 0 + 0 + 6) / 4
    assert regret.loc["ban", "max_regret"] == 2.0 and regret.loc["ban", "share_best"] == 0.75


def test_thresholds_parse_in_the_outcomes_units_or_fail_in_one_line():
    assert parse_threshold("total_capital_flight_usd>20m").value == 20e6
    assert parse_threshold("total_capital_flight_usd >= $1,500k").op == ">="
    assert parse_threshold("final_wallet_share<5%").value == pytest.approx(0.05)
    for bad in ("capital flight > 20", "total_capital_flight_usd=>20", "no_such_outcome>1", "final_wallet_share>"):
        with pytest.raises(AnalysisError):
            parse_threshold(bad)


# -- honest intervals --------------------------------------------------------------------------
def test_a_bootstrap_interval_of_non_negative_values_never_crosses_zero():
    revenue = np.array([0.0] * 17 + [2e6, 5e6, 40e6])  # a few replications with revenue, most without
    assert t_interval(revenue).low < 0  # the t-interval says revenue could be negative: it cannot
    interval = bootstrap_interval(revenue)
    assert 0 <= interval.low < interval.mean < interval.high <= revenue.max()
    assert bootstrap_interval(revenue) == interval  # seeded: the same every time
    assert bootstrap_interval(np.zeros(5)).low == bootstrap_interval(np.zeros(5)).high == 0.0
    runs = pd.DataFrame({"label": "a", "total_state_revenue_usd": revenue,
                         "total_fiscal_net_usd": revenue - 3e6})
    table = arm_summaries(runs, ("total_state_revenue_usd", "total_fiscal_net_usd")).set_index("outcome")
    assert "total_state_revenue_usd" in BOUNDED_AT_ZERO and table.loc["total_state_revenue_usd", "method"] == "bootstrap"
    assert table.loc["total_fiscal_net_usd", "method"] == "t"  # can be negative: a t-interval


# -- the model, end to end through the command line -----------------------------------------------
def test_a_small_morris_run_of_the_model_through_batch_and_sensitivity(tmp_path, capsys):
    path = sampled(tmp_path, settings="trajectories = 2", reps=1, months=6)
    out = tmp_path / "out"
    assert main(["batch", str(path), "--out", str(out), "--workers", "1", "--no-progress"]) == 0
    report = (out / "report.md").read_text()
    assert "pool each arm over every point" in report
    capsys.readouterr()
    assert main(["sensitivity", str(out), "--outcome", "final_wallet_share", "--outcome", "total_capital_flight_usd",
                 "--threshold", "final_wallet_share>0.5%"]) == 0
    printed = capsys.readouterr().out
    assert "dummy check:" in printed
    indices = pd.read_parquet(out / "sensitivity" / "indices.parquet")
    assert set(indices["quantity"]) <= {"level", "effect"} and "level" in set(indices["quantity"])
    assert {X1, X2, X3, DUMMY} == set(indices["parameter"])
    for name in ("dummy_check", "win_shares", "regret", "prim_boxes"):
        assert (out / "sensitivity" / f"{name}.parquet").is_file() and (out / "sensitivity" / f"{name}.csv").is_file()
    report = (out / "report.md").read_text()
    assert "## Sensitivity of outcomes and policy effects" in report and "### The dummy check" in report
    assert "## Robustness over the sampled parameters" in report and "## Scenario discovery" in report
    assert all((out / "sensitivity" / "figures" / name).is_file() for name in ("win_shares.png",))
    # the report command keeps the section; a second analysis replaces it rather than adding another
    assert main(["report", str(out)]) == 0
    assert main(["sensitivity", str(out), "--outcome", "final_wallet_share"]) == 0
    report = (out / "report.md").read_text()
    assert report.count("## Sensitivity of outcomes") == 1 and "## Scenario discovery" not in report

    # bad input: one line, exit 2, the earlier analysis untouched
    before = sorted(p.name for p in (out / "sensitivity").iterdir())
    capsys.readouterr()
    for argv, says in (([str(out), "--outcome", "no_such_outcome"], "unknown outcome"),
                       ([str(out), "--threshold", "flight is high"], "does not parse"),
                       ([str(tmp_path)], "holds no finished batch")):
        assert main(["sensitivity", *argv]) == 2
        err = capsys.readouterr().err.strip()
        assert len(err.splitlines()) == 1 and says in err
    assert sorted(p.name for p in (out / "sensitivity").iterdir()) == before
    assert not (tmp_path / "sensitivity").exists()


def test_a_batch_without_a_sampled_design_is_refused(tmp_path, capsys):
    path = write_experiment(tmp_path, SAMPLED.format(kind="lhs", settings="samples = 2", reps=1, months=2))
    out = tmp_path / "out"
    loaded = load_experiment(path)
    run_batch(loaded, out, InProcessExecutor, run_function=toy_simulator(lambda spec: 1.0), progress=False)
    assert main(["sensitivity", str(out)]) == 2
    assert "not run with a morris or sobol design" in capsys.readouterr().err
    assert not (out / "sensitivity").exists()
