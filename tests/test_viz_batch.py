"""Exploring a finished batch in the app (``cryptoabm viz --results DIR``): the tables it reads,
the fan chart, the paired differences, and a replay that is the stored run.

:func:`build_small_batch` makes the batch these tests (and the browser tests) open: two arms,
two replications, a year, a few hundred citizens.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

if os.environ.get("CRYPTOABM_REQUIRE_BROWSER") != "1":
    pytest.importorskip("solara", reason="the browser app's optional extra (cryptoabm[viz]) is not installed")

import ipyvuetify as vw
import solara

from cryptoabm.batch.experiment import load_experiment
from cryptoabm.batch.report import paired_differences
from cryptoabm.batch.runner import InProcessExecutor, run_batch
from cryptoabm.viz.batch_view import (
    BatchExplorer,
    ResultsError,
    check_results_folder,
    column_equal,
    difference_table,
    fan_rows,
    open_results,
    replay_comparison,
    replay_pair,
    stored_run,
)
from cryptoabm.viz.compare import RUN_A, RUN_B
from cryptoabm.viz.live_chart import LiveChart
from tests.conftest import CONFIGS

MONTHS, REPLICATIONS, CITIZENS = 12, 2, 300
REFERENCE, OTHER = "licence_cap_20", "licence_cap_5"
PRICE = 250_000.0  # a price at which new farms pay, so that farms enter within the year and the caps bind
EXPERIMENT = f"""
name = "viz_batch"
question = "What does a tighter licence cap change in Turkmenistan?"
reference = "{REFERENCE}"
replications = {REPLICATIONS}
horizon_months = {MONTHS}
base_seed = 2026

[[arms]]
name = "{REFERENCE}"
config = "turkmenistan_2026.toml"
overrides = {{ "population.citizens" = {CITIZENS}, "market.btc_price_usd" = {PRICE} }}

[[arms]]
name = "{OTHER}"
config = "turkmenistan_2026.toml"
overrides = {{ "population.citizens" = {CITIZENS}, "market.btc_price_usd" = {PRICE}, "policy.license_cap" = 5 }}
"""


def build_small_batch(root: Path) -> Path:
    """Run the small batch above into ``root/results`` (the configs copied beside it)."""
    shutil.copytree(CONFIGS, root / "configs")
    (root / "experiments").mkdir()
    experiment = root / "experiments" / "viz_batch.toml"
    experiment.write_text(EXPERIMENT)
    out = root / "results"
    run_batch(load_experiment(experiment), out, InProcessExecutor, progress=False)
    return out


@pytest.fixture(scope="module")
def batch(tmp_path_factory) -> Path:
    return build_small_batch(tmp_path_factory.mktemp("viz-batch"))


def test_the_explorer_reads_the_batch_through_its_own_tables(batch):
    results = open_results(batch.resolve())
    assert len(results.runs) == 2 * REPLICATIONS and results.reference == REFERENCE
    assert set(results.timeseries["arm"]) == {REFERENCE, OTHER}
    assert results.timeseries.groupby("run_id")["month"].apply(list).map(len).eq(MONTHS).all()
    assert "active_share" in results.metrics and "date" not in results.metrics


def test_fan_rows_are_the_band_across_replications(batch):
    results = open_results(batch.resolve())
    rows = fan_rows(results, "wallet_share")
    assert len(rows) == 2 * MONTHS
    last = next(row for row in rows if row["label"] == OTHER and row["month"] == MONTHS)
    values = results.timeseries.query("arm == @OTHER and month == @MONTHS")["wallet_share"]
    assert last["low"] <= last["median"] <= last["high"]
    assert last["median"] == pytest.approx(values.median())


def test_the_differences_are_the_reports(batch):
    results = open_results(batch.resolve())
    expected = paired_differences(results.runs, REFERENCE, None, results.outcomes)
    shown = difference_table(results)
    assert shown.equals(expected)
    revenue = shown.set_index("outcome").loc["total_state_revenue_usd", "mean"]
    assert revenue < 0  # five licences instead of twenty: less licensed mining to tax


def test_a_replay_is_the_stored_run_against_the_reference_on_its_seed(batch):
    results = open_results(batch.resolve())
    run_id = f"{OTHER}__p000__r001"
    reference, chosen = replay_pair(results, run_id)
    assert reference.arm == REFERENCE and reference.replicate == chosen.replicate and reference.seed == chosen.seed
    pair = replay_comparison(results, run_id)
    while pair.running:
        pair.step()
    for run, spec in ((RUN_B, chosen), (RUN_A, reference)):
        replayed, stored = pd.DataFrame(pair.rows[run]), stored_run(results, spec.run_id)
        assert len(replayed) == len(stored) == MONTHS
        for column in spec.metrics:
            assert column_equal(replayed[column], stored[column]), (run, column)
    assert [row["btc_price_usd"] for row in pair.rows[RUN_A]] == [row["btc_price_usd"] for row in pair.rows[RUN_B]]
    assert pair.rows[RUN_A][-1]["licensed_miners"] > pair.rows[RUN_B][-1]["licensed_miners"]  # the caps differ


def test_a_replay_refuses_a_run_the_batch_does_not_have(batch):
    with pytest.raises(ResultsError, match="no run 'nothing'"):
        replay_pair(open_results(batch.resolve()), "nothing")


def test_a_folder_that_is_no_batch_is_one_plain_line(tmp_path):
    problem = check_results_folder(tmp_path)
    assert problem is not None and "holds no batch" in problem and "\n" not in problem


def test_the_explorer_page_offers_a_replay_of_each_run(batch):
    replayed = []
    _, rc = solara.render(BatchExplorer(batch, replayed.append), handle_error=False)
    fan = rc.find(LiveChart).widget
    assert {row["label"] for row in fan.values} == {REFERENCE, OTHER}
    buttons = rc.find(vw.Btn, children=["Replay"]).widgets
    assert len(buttons) == 2 * REPLICATIONS
    buttons[-1].click()
    assert replayed == [f"{OTHER}__p000__r001"]
    assert np.isfinite([row["median"] for row in fan.values]).all()


def test_the_explorer_opens_on_an_outcome_that_differs_between_arms(batch):
    from cryptoabm.summary import OUTCOMES
    from cryptoabm.viz.batch_view import ARM_COLOURS, arm_styles, first_varying, series_label

    results = open_results(batch.resolve())
    first = first_varying(results)
    medians = results.timeseries.groupby(["label", "month"])[first].median().unstack("label")
    assert (medians.max(axis=1) - medians.min(axis=1)).abs().max() > 0  # the arms' lines part
    outcome_columns = {column for column, *_ in OUTCOMES.values()}
    assert set(results.metrics) <= outcome_columns  # outcomes only, no parameter columns
    assert series_label("hashrate_ehs") == "National hashrate, EH/s"
    labels = tuple(f"arm {i}" for i in range(12))
    colours, dashes = arm_styles(labels)
    assert len(set(zip(colours, map(tuple, dashes)))) == 12  # beyond eight arms, still told apart
    assert set(colours) <= set(ARM_COLOURS)


def test_the_differences_are_a_matrix_in_points_or_money_and_the_runs_page(batch):
    from cryptoabm.viz.batch_view import difference_matrix_html, filtered_runs, runs_outcomes

    results = open_results(batch.resolve())
    matrix = difference_matrix_html(difference_table(results))
    assert " pp" in matrix and "$" in matrix and f"<th>{OTHER}</th>" in matrix
    assert runs_outcomes(results) == [o for o in results.outcomes if o in results.runs.columns][:len(runs_outcomes(results))]
    assert len(filtered_runs(results, "r001")) == 2 and len(filtered_runs(results, "")) == len(results.runs)
