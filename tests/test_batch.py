"""Batch experiments: designs, seeds, failure isolation, crash-safe resume, executors, report."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest
from scipy import stats

from cryptoabm.batch import runner
from cryptoabm.batch.effects import effect_distribution, headline_cell
from cryptoabm.batch.experiment import design_points, expand_runs, load_experiment, replicate_seed
from cryptoabm.batch.report import (
    BOOTSTRAP_RESAMPLES,
    BOOTSTRAP_SEED,
    KEY_OUTCOMES,
    arm_summaries,
    paired_differences,
    t_interval,
    write_report,
)
from cryptoabm.batch.runner import InProcessExecutor, execute_run, process_pool, run_batch
from cryptoabm.batch.store import StoreError
from cryptoabm.cli import main
from cryptoabm.config import ConfigError
from cryptoabm.model import CryptoEconomy
from cryptoabm.summary import OUTCOMES, format_value
from tests.conftest import CONFIGS, ROOT

SMALL_CONFIG = """
extends = "{baseline}"
name = "small"
[population]
citizens = {citizens}
[mining]
initial_farms = 3
"""


def write_experiment(tmp_path, body: str, citizens: int = 150, name: str = "exp.toml"):
    (tmp_path / "small.toml").write_text(SMALL_CONFIG.format(baseline=CONFIGS / "baseline.toml", citizens=citizens))
    path = tmp_path / name
    path.write_text(body)
    return path


TWO_ARMS = """
name = "two_arms"
question = "Does a ban change anything?"
reference = "voluntary"
replications = {reps}
horizon_months = {months}
base_seed = 7
[[arms]]
name = "voluntary"
config = "small.toml"
[[arms]]
name = "ban"
config = "small.toml"
overrides = {{ "policy.payment_regime" = "ban" }}
"""


def tables(folder):
    return pd.read_parquet(folder / "timeseries.parquet"), pd.read_parquet(folder / "runs.parquet")


def run_files(folder):
    """The finished runs' files of a batch folder (runs/arm=<arm>/<run_id>.parquet)."""
    return sorted((folder / "runs").glob("arm=*/*.parquet"))


# -- design and seeds -------------------------------------------------------------------
def test_designs_expand_to_the_points_they_name(tmp_path):
    grid = write_experiment(tmp_path, TWO_ARMS.format(reps=2, months=3) + """
[design]
kind = "grid"
parameters = { "policy.license_cap" = [1, 2, 3], "policy.miner_tariff_usd_per_kwh" = [0.03, 0.05] }
""")
    loaded = load_experiment(grid)
    points = design_points(loaded.experiment)
    assert len(points) == 6 and points[0] == {"policy.license_cap": 1, "policy.miner_tariff_usd_per_kwh": 0.03}
    runs = expand_runs(loaded)
    assert len(runs) == 2 * 6 * 2 and len({r.run_id for r in runs}) == len(runs)
    assert [r.order for r in runs] == list(range(len(runs)))

    zipped = write_experiment(tmp_path, TWO_ARMS.format(reps=1, months=3) + """
[design]
kind = "zip"
parameters = { "policy.license_cap" = [1, 2, 3], "policy.miner_tariff_usd_per_kwh" = [0.03, 0.04, 0.05] }
""", name="zip.toml")
    assert design_points(load_experiment(zipped).experiment)[2] == {"policy.license_cap": 3, "policy.miner_tariff_usd_per_kwh": 0.05}

    table = write_experiment(tmp_path, TWO_ARMS.format(reps=1, months=3) + """
[design]
kind = "table"
rows = [{ "policy.license_cap" = 4 }, { "policy.license_cap" = 9, "policy.license_fee_usd" = 100.0 }]
""", name="table.toml")
    assert design_points(load_experiment(table).experiment) == [
        {"policy.license_cap": 4}, {"policy.license_cap": 9, "policy.license_fee_usd": 100.0}]


def test_latin_hypercube_covers_each_stratum_once_and_is_seeded(tmp_path):
    body = TWO_ARMS.format(reps=1, months=3) + """
[design]
kind = "lhs"
samples = 10
ranges = { "policy.miner_tariff_usd_per_kwh" = [0.02, 0.07], "policy.license_cap" = [1, 50] }
"""
    first = design_points(load_experiment(write_experiment(tmp_path, body)).experiment)
    again = design_points(load_experiment(write_experiment(tmp_path, body, name="again.toml")).experiment)
    assert first == again
    tariffs = np.array([p["policy.miner_tariff_usd_per_kwh"] for p in first])
    strata = np.floor((tariffs - 0.02) / 0.005).astype(int)  # ten equal strata of the range
    assert sorted(strata) == list(range(10))
    assert all(isinstance(p["policy.license_cap"], int) and 1 <= p["policy.license_cap"] <= 50 for p in first)


@pytest.mark.parametrize("name", ["turkmenistan_options.toml",  # 20 arms: five packages, their levers one at a time
                                  "sensitivity_turkmenistan.toml"])  # 900 runs: a Morris design
def test_an_experiment_reads_each_config_file_once_and_lists_the_same_runs(name, monkeypatch):
    """Every arm composes the same baseline, country and package files; they are parsed once per
    load and once per listing of the runs, and the runs are those of reading every file each time."""
    import contextlib

    from cryptoabm.batch import experiment
    from cryptoabm.config import loading

    path = ROOT / "experiments" / name
    with monkeypatch.context() as reading_each_time:
        reading_each_time.setattr(experiment, "parse_once", contextlib.nullcontext)
        expected_loaded = load_experiment(path)
        expected_runs = expand_runs(expected_loaded)
    parses = []
    parse = loading._parse_toml
    monkeypatch.setattr(loading, "_parse_toml", lambda file: parses.append(Path(file).resolve()) or parse(file))
    loaded = load_experiment(path)
    tomls = {Path(name) for name in loaded.inputs if name.endswith(".toml")}  # besides data files (CSV)
    assert len(parses) == len(set(parses)) and set(parses) == tomls  # the experiment and each config, once
    assert loaded.arm_scenarios == expected_loaded.arm_scenarios and loaded.inputs == expected_loaded.inputs
    parses.clear()
    runs = expand_runs(loaded)
    assert len(parses) == len(set(parses)) and set(parses) == tomls - {path}  # each config, once
    assert len(runs) > 1 and runs == expected_runs


def test_replicate_seeds_are_shared_across_arms_and_points_and_derived_by_seedsequence(tmp_path):
    loaded = load_experiment(write_experiment(tmp_path, TWO_ARMS.format(reps=3, months=3)))
    runs = expand_runs(loaded)
    by_replicate = {}
    for run in runs:
        by_replicate.setdefault(run.replicate, set()).add(run.seed)
    assert all(len(seeds) == 1 for seeds in by_replicate.values())  # common random numbers
    assert len({seeds.pop() for seeds in by_replicate.values()}) == 3
    expected = int(np.random.SeedSequence([7, 2]).generate_state(1, dtype=np.uint64)[0]) >> 1
    assert replicate_seed(7, 2) == expected


def test_one_run_rerun_alone_reproduces_its_stored_result(tmp_path):
    loaded = load_experiment(write_experiment(tmp_path, TWO_ARMS.format(reps=2, months=6)))
    run_batch(loaded, tmp_path / "out", InProcessExecutor, progress=False)
    spec = expand_runs(loaded)[3]
    stored = pd.read_parquet(tmp_path / "out" / "timeseries" / f"arm={spec.arm}" / f"{spec.run_id}.parquet")
    stored_row = pd.read_parquet(tmp_path / "out" / "runs" / f"arm={spec.arm}" / f"{spec.run_id}.parquet")
    result = execute_run(spec)
    again = result.table.to_pandas()
    pd.testing.assert_frame_equal(again, stored[list(again.columns)])
    assert len(stored_row) == 1 and stored_row[list(result.outcomes)].iloc[0].to_dict() == result.outcomes


def test_rerun_command_reproduces_one_run_and_writes_its_outputs(tmp_path):
    path = write_experiment(tmp_path, TWO_ARMS.format(reps=2, months=6))
    run_batch(load_experiment(path), tmp_path / "out", InProcessExecutor, progress=False)
    done = subprocess.run([sys.executable, "-m", "cryptoabm", "rerun", str(tmp_path / "out"), "ban__p000__r001",
                           "--out", str(tmp_path / "again")], capture_output=True, text=True)
    assert done.returncode == 0 and "reproduces the stored run exactly" in done.stdout
    assert (tmp_path / "again" / "dashboard.png").exists()
    assert json.loads((tmp_path / "again" / "run.json").read_text())["seed"] == replicate_seed(7, 1)


def test_metrics_and_recording_frequency_thin_the_timeseries(tmp_path):
    body = TWO_ARMS.format(reps=1, months=10).replace('base_seed = 7', 'base_seed = 7\nmetrics = ["wallet_share"]\nrecord_every_months = 4')
    loaded = load_experiment(write_experiment(tmp_path, body))
    run_batch(loaded, tmp_path / "out", InProcessExecutor, progress=False)
    timeseries, runs = tables(tmp_path / "out")
    assert sorted(set(timeseries["month"])) == [4, 8, 10]  # every 4th month and always the last
    assert "wallet_share" in timeseries and "hashrate_ehs" not in timeseries
    assert "total_fdi_inflow_usd" in runs  # outcomes come from the full monthly table


# -- failures ---------------------------------------------------------------------------
class EconomyThatBreaksOnDearBitcoin(CryptoEconomy):
    """A model that raises inside its run for one arm (bitcoin at $1m), as a model bug would."""

    def step(self):
        if self.config.market.btc_price_usd == 1e6 and self.month == 3:
            raise ZeroDivisionError("a model bug in month 4")
        super().step()


def test_a_run_that_raises_is_recorded_and_the_batch_goes_on(tmp_path, monkeypatch, capsys):
    body = TWO_ARMS.format(reps=2, months=6) + """
[[arms]]
name = "broken"
config = "small.toml"
overrides = { "market.btc_price_usd" = 1e6 }
"""
    path = write_experiment(tmp_path, body)
    monkeypatch.setattr(runner, "CryptoEconomy", EconomyThatBreaksOnDearBitcoin)
    code = main(["batch", str(path), "--out", str(tmp_path / "out"), "--workers", "1", "--no-progress"])
    assert code == 1
    assert "2 of 6 runs failed" in capsys.readouterr().err.strip().splitlines()[-1]
    record = json.loads((tmp_path / "out" / "failed" / "broken__p000__r001.json").read_text())
    assert record["seed"] == replicate_seed(7, 1) and "Traceback" in record["error"] and "month 4" in record["error"]
    _, runs = tables(tmp_path / "out")
    assert len(runs) == 4 and set(runs["arm"]) == {"voluntary", "ban"}
    assert "Failed runs" in (tmp_path / "out" / "report.md").read_text()


def die_on_second_ban_run(spec):
    """A run function whose worker process dies on one particular run."""
    if spec.run_id == "ban__p000__r001":
        os._exit(1)
    return execute_run(spec)


def test_a_dying_worker_takes_only_its_own_run(tmp_path):
    loaded = load_experiment(write_experiment(tmp_path, TWO_ARMS.format(reps=4, months=4)))
    outcome = run_batch(loaded, tmp_path / "out", lambda: process_pool(2), run_function=die_on_second_ban_run,
                        progress=False)
    assert outcome.failed == ["ban__p000__r001"]
    record = json.loads((tmp_path / "out" / "failed" / "ban__p000__r001.json").read_text())
    assert "worker process" in record["error"] and "died" in record["error"]
    _, runs = tables(tmp_path / "out")
    assert len(runs) == 7


# -- crash safety, resume and executors ------------------------------------------------------
SLOW = TWO_ARMS.format(reps=6, months=60)


def test_a_batch_killed_with_sigkill_and_resumed_equals_an_uninterrupted_batch(tmp_path):
    path = write_experiment(tmp_path, SLOW, citizens=3_000)
    straight = tmp_path / "straight"
    run_batch(load_experiment(path), straight, InProcessExecutor, progress=False)

    resumed = tmp_path / "resumed"
    command = [sys.executable, "-m", "cryptoabm", "batch", str(path), "--out", str(resumed), "--workers", "1", "--no-progress"]
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and len(run_files(resumed)) < 3:
        time.sleep(0.02)
    os.killpg(process.pid, signal.SIGKILL)
    process.wait()
    # every run whose files were written is finished, whether or not the manifest was saved since
    # (the checksums of runs finished after its last save are in its journal)
    finished = len(run_files(resumed))
    assert 3 <= finished < 12, "the batch should have been killed part-way"
    assert not (resumed / "timeseries.parquet").exists()
    # A kill during a write may leave one temporary file; it is never a result, and the
    # resume removes it, keeps every finished run and ends with complete, identical tables.
    assert len(list(resumed.rglob(".*.partial"))) <= 1

    done = subprocess.run([*command, "--resume"], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert f"({finished} from before)" in done.stdout
    assert not list(resumed.rglob(".*.partial"))
    assert len(run_files(resumed)) == 12
    for a, b in zip(tables(straight), tables(resumed), strict=True):
        pd.testing.assert_frame_equal(a, b)


def test_ctrl_c_stops_cleanly_keeping_finished_runs(tmp_path):
    path = write_experiment(tmp_path, SLOW, citizens=3_000)
    out = tmp_path / "out"
    command = [sys.executable, "-m", "cryptoabm", "batch", str(path), "--out", str(out), "--workers", "2", "--no-progress"]
    # As in a terminal, SIGINT must have its default disposition (a shell without job control
    # starts background jobs with it ignored, and Python then installs no Ctrl-C handler).
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                               start_new_session=True,
                               preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and len(run_files(out)) < 2:
        time.sleep(0.02)
    os.killpg(process.pid, signal.SIGINT)  # what Ctrl-C in a terminal does: the whole process group
    _, stderr = process.communicate(timeout=60)
    assert process.returncode == 130
    assert "interrupted; finished runs are kept" in stderr and "--resume" in stderr and "Traceback" not in stderr
    kept = len(run_files(out))
    assert 2 <= kept < 12 and not (out / "timeseries.parquet").exists()
    done = subprocess.run([*command, "--resume"], capture_output=True, text=True)
    assert done.returncode == 0 and f"({kept} from before)" in done.stdout


def test_resume_refuses_a_changed_experiment_and_a_new_batch_refuses_a_used_folder(tmp_path):
    path = write_experiment(tmp_path, TWO_ARMS.format(reps=1, months=3))
    run_batch(load_experiment(path), tmp_path / "out", InProcessExecutor, progress=False)
    with pytest.raises(StoreError, match="already holds results"):
        run_batch(load_experiment(path), tmp_path / "out", InProcessExecutor, progress=False)
    path.write_text(path.read_text().replace("replications = 1", "replications = 2"))
    done = subprocess.run([sys.executable, "-m", "cryptoabm", "batch", str(path), "--out", str(tmp_path / "out"),
                           "--resume", "--no-progress", "--workers", "1"], capture_output=True, text=True)
    assert done.returncode == 2 and f"{path.resolve()} has changed since the batch" in done.stderr
    assert len(done.stderr.strip().splitlines()) == 2  # the "running on" line and the one error line


def test_base_seed_option_reruns_the_same_experiment_on_other_random_numbers(tmp_path):
    """--base-seed S: the same design, every replicate's seed derived from S (common across arms),
    recorded in the manifest; a resume with another base seed is refused in one line."""
    path = write_experiment(tmp_path, TWO_ARMS.format(reps=2, months=3))
    first = expand_runs(load_experiment(path))
    second = expand_runs(load_experiment(path, base_seed=777))
    assert [run.run_id for run in first] == [run.run_id for run in second]
    assert {run.seed for run in second} == {replicate_seed(777, r) for r in range(2)}
    assert not {run.seed for run in first} & {run.seed for run in second}
    out = tmp_path / "seed777"
    done = subprocess.run([sys.executable, "-m", "cryptoabm", "batch", str(path), "--base-seed", "777", "--out",
                           str(out), "--no-progress", "--workers", "1"], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert json.loads((out / "manifest.json").read_text())["base_seed"] == 777
    done = subprocess.run([sys.executable, "-m", "cryptoabm", "batch", str(path), "--out", str(out), "--resume",
                           "--no-progress", "--workers", "1"], capture_output=True, text=True)
    assert done.returncode == 2 and "was started with base_seed 777, this one has 7" in done.stderr
    assert "Traceback" not in done.stderr


def test_one_worker_two_workers_and_a_dask_cluster_give_identical_tables(tmp_path):
    distributed = pytest.importorskip("distributed")
    path = write_experiment(tmp_path, TWO_ARMS.format(reps=3, months=12))
    loaded = load_experiment(path)
    run_batch(loaded, tmp_path / "one", InProcessExecutor, progress=False)
    run_batch(loaded, tmp_path / "two", lambda: process_pool(2), progress=False)
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None) as cluster, \
            distributed.Client(cluster) as client:
        run_batch(loaded, tmp_path / "dask", client.get_executor, progress=False)
    for other in ("two", "dask"):
        for a, b in zip(tables(tmp_path / "one"), tables(tmp_path / other), strict=True):
            pd.testing.assert_frame_equal(a, b)


def test_the_merged_tables_are_every_runs_own_files_in_design_order_column_by_column(tmp_path):
    """runs.parquet and timeseries.parquet hold, column by column, what each run's own files hold
    (its row, its months), the runs in the design's order, with the arm; the same whether a run
    was merged from memory at the end of its batch or read back from its files on a resume."""
    import pyarrow.parquet as pq

    path = write_experiment(tmp_path, TWO_ARMS.format(reps=2, months=4)
                            + '[design]\nkind = "grid"\nparameters = { "policy.license_cap" = ["none", 2] }\n')
    out = tmp_path / "out"
    run_batch(load_experiment(path), out, InProcessExecutor, progress=False)
    design = json.loads((out / "manifest.json").read_text())["design"]
    for merged_name, folder in (("runs.parquet", "runs"), ("timeseries.parquet", "timeseries")):
        merged = pq.read_table(out / merged_name)
        files = [pq.read_table(out / folder / f"arm={run['arm']}" / f"{run['run_id']}.parquet") for run in design]
        expected = {}
        for column in merged.column_names:
            values = []
            for run, table in zip(design, files, strict=True):
                values += [run["arm"]] * table.num_rows if column == "arm" else table[column].to_pylist()
            expected[column] = pa.array(values, merged.schema.field(column).type)
        pd.testing.assert_frame_equal(merged.to_pandas(), pa.table(expected).to_pandas())
        assert set(merged.column_names) == {"arm", *files[0].column_names}
    before = tables(out)
    for table in (out / "timeseries.parquet", out / "runs.parquet"):
        table.unlink()
    run_batch(load_experiment(path), out, InProcessExecutor, resume=True, progress=False)  # all read from files
    for a, b in zip(before, tables(out), strict=True):
        pd.testing.assert_frame_equal(a, b)


# -- bad experiment files ----------------------------------------------------------------
@pytest.mark.parametrize(
    ("change", "field", "words"),
    [
        (("replications = 2", "replicatons = 2"), "replicatons", "did you mean 'replications'"),
        (('reference = "voluntary"', 'reference = "nobody"'), "", "reference 'nobody' is not an arm"),
        (('config = "small.toml"', 'config = "missing.toml"'), "arms.0.config", "no such config file"),
        (("base_seed = 7", 'base_seed = 7\nmetrics = ["wallet_shar"]'), "", "unknown metric 'wallet_shar'"),
        (("horizon_months = 3", "horizon_months = 0"), "horizon_months", "greater than or equal to 1"),
        (('overrides = { "policy.payment_regime" = "ban" }', 'overrides = { "policy.payment_regime" = "crypto" }'),
         "policy.payment_regime", "'ban', 'voluntary'"),
    ],
)
def test_bad_experiment_files_are_refused_with_one_line_before_anything_runs(tmp_path, change, field, words):
    path = write_experiment(tmp_path, TWO_ARMS.format(reps=2, months=3).replace(*change))
    with pytest.raises(ConfigError) as caught:
        load_experiment(path)
    assert field in caught.value.field and words in caught.value.message
    done = subprocess.run([sys.executable, "-m", "cryptoabm", "batch", str(path), "--out", str(tmp_path / "out")],
                          capture_output=True, text=True)
    assert done.returncode == 2 and len(done.stderr.strip().splitlines()) == 1 and "Traceback" not in done.stderr
    assert not (tmp_path / "out").exists()


# -- the report ---------------------------------------------------------------------------
def test_report_intervals_match_a_direct_computation(tmp_path):
    path = write_experiment(tmp_path, TWO_ARMS.format(reps=5, months=12).replace(
        "[[arms]]\nname = \"ban\"", "[[arms]]\nname = \"bonus\"").replace(
        '{ "policy.payment_regime" = "ban" }', '{ "policy.wallet_bonus_usd" = 30.0, "policy.bonus_budget_usd" = 1e6 }'))
    loaded = load_experiment(path)
    run_batch(loaded, tmp_path / "out", InProcessExecutor, progress=False)
    report = write_report(tmp_path / "out").read_text()
    _, runs = tables(tmp_path / "out")

    values = runs.loc[runs["arm"] == "bonus", "final_wallet_share"].to_numpy()
    mean, sem = values.mean(), stats.sem(values)
    low, high = stats.t.interval(0.95, len(values) - 1, loc=mean, scale=sem)
    interval = t_interval(values)
    assert (interval.mean, interval.low, interval.high) == pytest.approx((mean, low, high))
    # a share cannot be negative: the report gives it the seeded BCa bootstrap interval instead
    direct = stats.bootstrap((values,), np.mean, n_resamples=BOOTSTRAP_RESAMPLES, method="BCa",
                             rng=np.random.default_rng(BOOTSTRAP_SEED)).confidence_interval
    summary = arm_summaries(runs)
    row = summary[(summary["label"] == "bonus") & (summary["outcome"] == "final_wallet_share")].iloc[0]
    assert row["method"] == "bootstrap" and (row["low"], row["high"]) == pytest.approx((direct.low, direct.high))
    assert f"{mean:.1%} [{direct.low:.1%}, {direct.high:.1%}]" in report
    margins = runs.loc[runs["arm"] == "bonus", "min_reserve_margin"].to_numpy()  # can be negative: a t-interval
    row = summary[(summary["label"] == "bonus") & (summary["outcome"] == "min_reserve_margin")].iloc[0]
    assert row["method"] == "t" and (row["low"], row["high"]) == pytest.approx(
        (t_interval(margins).low, t_interval(margins).high), nan_ok=True)

    bonus = runs[runs["arm"] == "bonus"].sort_values("replicate")["total_bonus_outlay_usd"].to_numpy()
    base = runs[runs["arm"] == "voluntary"].sort_values("replicate")["total_bonus_outlay_usd"].to_numpy()
    d_low, d_high = stats.t.interval(0.95, 4, loc=(bonus - base).mean(), scale=stats.sem(bonus - base))
    differences = paired_differences(runs, "voluntary", None)
    row = differences[differences["outcome"] == "total_bonus_outlay_usd"].iloc[0]
    assert (row["low"], row["high"]) == pytest.approx((d_low, d_high))
    assert set(differences["outcome"]) == set(KEY_OUTCOMES)
    # the effects as distributions across replicates: median, 5-95% range, P(>0), mean and its interval
    section = report.split("## Effects across replicates")[1]
    found = effect_distribution(bonus - base)
    cell = headline_cell(found, lambda value: format_value(value, OUTCOMES["total_bonus_outlay_usd"][3]))
    assert f"| {OUTCOMES['total_bonus_outlay_usd'][2]} | {cell} |" in section
    assert "P(>0) 100%" in cell and "5-95% range across replicates" in section
    assert "### Where the spread of an effect comes from" in section
    for figure in ("differences.png", "fan_adoption.png", "fan_mining_and_grid.png", "fan_money_flows.png"):
        assert (tmp_path / "out" / "figures" / figure).stat().st_size > 10_000


def test_the_reports_figures_drawn_by_forked_processes_are_those_drawn_one_by_one(tmp_path):
    import shutil

    path = write_experiment(tmp_path, TWO_ARMS.format(reps=3, months=6))
    run_batch(load_experiment(path), tmp_path / "here", InProcessExecutor, progress=False)
    shutil.copytree(tmp_path / "here", tmp_path / "forked")
    write_report(tmp_path / "here", workers=1)
    # in a fresh process, with no other thread: two children draw the figures
    subprocess.run([sys.executable, "-c", "import sys; from cryptoabm.batch.report import write_report; "
                                          "write_report(sys.argv[1], workers=2)", str(tmp_path / "forked")],
                   check=True)
    drawn = sorted(p.relative_to(tmp_path / "here") for p in (tmp_path / "here").rglob("*.png"))
    assert len(drawn) == 5  # the differences and four fan charts
    for name in [*drawn, "report.md"]:
        assert (tmp_path / "here" / name).read_bytes() == (tmp_path / "forked" / name).read_bytes(), name


def test_a_batch_leaves_no_thread_running_so_that_its_pools_and_report_fork_from_it(tmp_path):
    """tqdm's monitor thread, started by any bar and outliving it, made every pool start from a
    fork server (a fresh Python importing the model) and would keep the report's figures serial."""
    path = write_experiment(tmp_path, TWO_ARMS.format(reps=2, months=3))
    code = ("import sys, threading\nfrom cryptoabm.batch.experiment import load_experiment\n"
            "from cryptoabm.batch.runner import InProcessExecutor, run_batch\n"
            "run_batch(load_experiment(sys.argv[1]), sys.argv[2], InProcessExecutor, progress=True)\n"
            "print([thread.name for thread in threading.enumerate()])")
    done = subprocess.run([sys.executable, "-c", code, str(path), str(tmp_path / "out")], capture_output=True,
                          text=True, check=True)
    assert "two_arms: 100%" in done.stderr  # the bar was drawn
    assert done.stdout.strip() == "['MainThread']"


DRAWING = """
import os, sys
from pathlib import Path
from cryptoabm.batch.drawing import FigureJob, start_drawing
folder = Path(sys.argv[1])
def draw(name):
    (folder / name).write_text(str(os.getpid()))
def fail(name):
    raise ValueError(f"cannot draw {name}")
with start_drawing([FigureJob(draw, (f"figure{i}",), panels=i) for i in range(6)], workers=2) as drawing:
    print(os.getpid(), *drawing.children)
try:
    with start_drawing([FigureJob(draw, ("fine",)), FigureJob(fail, ("broken",))], workers=2):
        pass
except ValueError as exc:
    print(exc)
"""


def test_figures_are_drawn_by_forked_children_and_a_failure_is_raised_as_if_drawn_here(tmp_path):
    done = subprocess.run([sys.executable, "-c", DRAWING, str(tmp_path)], capture_output=True, text=True, check=True)
    here, *children = map(int, done.stdout.splitlines()[0].split())
    assert len(children) == 2 and here not in children
    drawers = {int((tmp_path / f"figure{i}").read_text()) for i in range(6)}
    assert drawers <= set(children)  # every figure drawn by a child, none here
    assert done.stdout.splitlines()[1] == "cannot draw broken"  # the child's failure, raised here as is
    assert int((tmp_path / "fine").read_text()) == here  # after a failure every figure is drawn again here


def test_report_refuses_a_folder_without_results(tmp_path):
    done = subprocess.run([sys.executable, "-m", "cryptoabm", "report", str(tmp_path)], capture_output=True, text=True)
    assert done.returncode == 2 and "holds no finished batch" in done.stderr


def test_shipped_experiments_are_valid():
    for path in sorted((ROOT / "experiments").glob("*.toml")):
        loaded = load_experiment(path)
        assert expand_runs(loaded), path


def test_a_pool_shut_down_before_any_work_leaves_no_worker_waiting():
    # workers started at once but never given work would otherwise wait for ever and keep the
    # process from exiting (as after a last run lost with a broken pool)
    from cryptoabm.batch import runner

    pool = process_pool(2)
    workers = list(pool._processes.values())
    assert workers and all(worker.is_alive() for worker in workers)
    runner.shutdown_executor(pool)
    assert not any(worker.is_alive() for worker in workers)
