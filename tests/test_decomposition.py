"""Decomposing a package's effect into its levers: one lever at a time from the reference, plus
the interaction, on common random numbers."""

from __future__ import annotations

import pandas as pd
import pytest

from cryptoabm.batch.decomposition import INTERACTION, TOTAL, levers_moved, one_lever_overrides, policy_path
from cryptoabm.batch.experiment import expand_runs, load_experiment
from cryptoabm.batch.notebook import Results
from cryptoabm.batch.report import write_report
from cryptoabm.batch.runner import InProcessExecutor, run_batch
from cryptoabm.cli import main
from cryptoabm.config import ConfigError, load_scenario
from cryptoabm.model import CryptoEconomy
from tests.conftest import CONFIGS

SMALL = """
extends = "{baseline}"
name = "small"
[population]
citizens = 150
internet_access_share = 0.9
[mining]
initial_farms = 3
"""

# the package: three levers at once, one of them changed again in month 3
PACKAGE = """
name = "decomposed"
question = "Which lever of the package does what?"
reference = "status_quo"
replications = {reps}
horizon_months = 6
base_seed = 11
decompose = true
report_outcomes = ["final_wallet_share", "final_licensed_miners", "total_state_revenue_usd", "total_bonus_outlay_usd"]
[[arms]]
name = "status_quo"
config = "small.toml"
[[arms]]
name = "package"
config = "small.toml"
overrides = {{ "policy.payment_regime" = "legal_tender", "policy.license_cap" = 1, "policy.wallet_bonus_usd" = 30.0, \
"policy.bonus_budget_usd" = 1e9, "events" = [{{ kind = "policy", month = 3, set = {{ wallet_bonus_usd = 0.0 }} }}] }}
[[arms]]
name = "one_lever"
config = "small.toml"
overrides = {{ "policy.payment_regime" = "ban" }}
"""


def experiment(tmp_path, reps: int = 3, body: str = PACKAGE):
    (tmp_path / "small.toml").write_text(SMALL.format(baseline=CONFIGS / "baseline.toml"))
    path = tmp_path / "exp.toml"
    path.write_text(body.format(reps=reps))
    return path


def test_the_levers_a_package_moves_are_found_and_each_one_lever_arm_moves_only_its_own(tmp_path):
    loaded = load_experiment(experiment(tmp_path))
    packages = loaded.decomposition["packages"]
    assert list(packages["package"]) == ["payment_regime", "license_cap", "wallet_bonus"]
    assert list(packages["one_lever"]) == ["payment_regime"]
    reference = loaded.arm_scenarios["status_quo"]
    bonus_only = loaded.arm_scenarios["package.wallet_bonus"]
    # the bonus as the package sets it, its closing in month 3 included; everything else as the reference
    assert bonus_only.policy.wallet_bonus_usd == 30.0 and bonus_only.policy.bonus_budget_usd == 1e9
    assert bonus_only.policy.payment_regime == reference.policy.payment_regime
    assert bonus_only.policy.license_cap == reference.policy.license_cap
    assert policy_path(bonus_only).at(3)["wallet_bonus_usd"] == 0.0
    assert levers_moved(reference, bonus_only) == ["wallet_bonus"]
    assert levers_moved(reference, loaded.arm_scenarios["package.license_cap"]) == ["license_cap"]


def test_moving_every_lever_of_a_package_rebuilds_the_package_policy_path(tmp_path):
    package = load_scenario(CONFIGS / "kazakhstan_2021.toml")  # a package with many dated measures
    reference = load_scenario(CONFIGS / "kazakhstan_2021.toml", {"policy.payment_regime": "ban", "events": [
        e.model_dump(mode="json") for e in package.events if e.kind not in ("policy", "mining_power_cut",
                                                                              "legal_tender_reversal")]})
    moved = levers_moved(reference, package)
    assert {"payment_regime", "grid_access", "mining_surcharge", "sale_obligation", "license_fee"} <= set(moved)
    raw = reference.model_dump(mode="json")
    for lever in moved:  # apply each lever's one-lever overrides in turn: the package's path comes back
        overrides = one_lever_overrides(load_scenario(CONFIGS / "kazakhstan_2021.toml", _dotted(raw)), package, lever)
        raw["events"] = overrides.pop("events")
        raw["policy"].update({key.removeprefix("policy."): value for key, value in overrides.items()})
    rebuilt = load_scenario(CONFIGS / "kazakhstan_2021.toml", _dotted(raw))
    target = policy_path(package)
    assert all(policy_path(rebuilt).at(m) == target.at(m) for m in range(1, package.months + 1))
    assert policy_path(rebuilt).power_cuts == target.power_cuts
    # and the model runs it exactly as the package, month by month
    tables = [CryptoEconomy(s, seed=5, citizens=120).run() for s in (rebuilt, package)]
    pd.testing.assert_frame_equal(*tables)


def _dotted(raw: dict) -> dict:
    return {"policy." + key: value for key, value in raw["policy"].items()} | {"events": raw["events"]}


def test_the_parts_sum_exactly_to_the_package_effect_and_a_single_lever_package_has_no_interaction(tmp_path):
    loaded = load_experiment(experiment(tmp_path))
    packages = loaded.decomposition["packages"]
    out = tmp_path / "out"
    run_batch(loaded, out, InProcessExecutor, progress=False)
    write_report(out)
    table = pd.read_csv(out / "decomposition.csv")
    for (package, outcome), rows in table.groupby(["package", "outcome"]):
        parts = rows.set_index("part")["mean"]
        assert parts.drop(TOTAL).sum() == pytest.approx(parts[TOTAL], rel=1e-12, abs=1e-9), (package, outcome)
    # a package of one lever is that lever: its one-lever arm is the package itself, not run twice
    assert packages["one_lever"] == {"payment_regime": "one_lever"}
    assert not (out / "runs" / "arm=one_lever.payment_regime").exists()
    single = table[(table["package"] == "one_lever") & (table["part"] == INTERACTION)]
    assert (single["mean"].abs() < 1e-12).all()
    # the bonus lever alone pays bonuses; the levers that are not the bonus alone pay none
    bonus = table[(table["outcome"] == "total_bonus_outlay_usd") & (table["package"] == "package")].set_index("part")
    assert bonus.loc["wallet_bonus", "mean"] > 0 and bonus.loc["license_cap", "mean"] == 0
    report = (out / "report.md").read_text()
    assert "## What each lever of a package contributes" in report and "*interaction*" in report
    from_notebook = Results(out).decomposition(["total_bonus_outlay_usd"])
    from_notebook = from_notebook[from_notebook["package"] == "package"]
    assert from_notebook["mean"].tolist() == pytest.approx(bonus["mean"].tolist())
    assert "package.wallet_bonus" not in report.split("## What each lever")[0]  # not an arm of the main tables


def test_one_lever_arms_run_the_decomposition_replicates_on_the_same_seeds(tmp_path):
    body = PACKAGE.replace("decompose = true", "decompose = true\ndecompose_replications = 2")
    runs = expand_runs(load_experiment(experiment(tmp_path, reps=4, body=body)))
    seeds = {(r.arm, r.replicate): r.seed for r in runs}
    assert sorted(r.replicate for r in runs if r.arm == "package.license_cap") == [0, 1]
    assert sorted(r.replicate for r in runs if r.arm == "package") == [0, 1, 2, 3]
    assert seeds["package.license_cap", 1] == seeds["status_quo", 1] == seeds["package", 1]


@pytest.mark.parametrize(("extra", "message"), [
    ("decompose_replications = 9", "cannot exceed replications"),
    ('[design]\nkind = "morris"\ntrajectories = 2\nranges = {{ "adoption.imitation_q" = [0.1, 0.2] }}',
     "decompose does not go with a 'morris' design"),
])
def test_a_wrong_decomposition_is_refused_in_one_line(tmp_path, extra, message):
    body = PACKAGE + extra if extra.startswith("[design]") else PACKAGE.replace("decompose = true",
                                                                               "decompose = true\n" + extra)
    with pytest.raises(ConfigError, match=message):
        load_experiment(experiment(tmp_path, body=body))


def test_an_arm_on_another_economy_cannot_be_decomposed(tmp_path, capsys):
    body = PACKAGE.replace('"policy.payment_regime" = "ban"', '"policy.payment_regime" = "ban", "grid.base_demand_mw" = 3000.0')
    path = experiment(tmp_path, body=body)
    assert main(["batch", str(path), "--out", str(tmp_path / "out")]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "beyond its policy (in grid)" in err


def test_a_package_whose_levers_are_all_arms_already_is_decomposed_without_new_runs(tmp_path):
    body = PACKAGE.split("[[arms]]\nname = \"package\"")[0] + '''[[arms]]
name = "one_lever"
config = "small.toml"
overrides = {{ "policy.payment_regime" = "ban" }}
'''
    loaded = load_experiment(experiment(tmp_path, reps=2, body=body))
    assert loaded.decomposition["arms"] == {} and len(loaded.experiment.arms) == 2
    out = tmp_path / "out"
    run_batch(loaded, out, InProcessExecutor, progress=False)
    write_report(out)
    assert "## What each lever of a package contributes" in (out / "report.md").read_text()
