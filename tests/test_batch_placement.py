"""Issue 10: where a batch runs (Dask at full width, SLURM, small batches in this process),
the notebook API, keyword levers on CryptoEconomy, and report figures in the tables' units."""

from __future__ import annotations

import threading
import time

import pandas as pd
import pytest

from cryptoabm.batch import clusters, runner
from cryptoabm.batch.experiment import RunSpec, load_experiment
from cryptoabm.batch.report import axis_formatter, time_axis, write_report
from cryptoabm.batch.runner import InProcessExecutor, RunResult, execute_run, run_batch, worker_threads
from cryptoabm.cli import main
from cryptoabm.config import ConfigError
from tests.conftest import ROOT
from tests.test_batch_trust import make_experiment

# -- Dask at full width ----------------------------------------------------------------------------
RUNNING = {"now": 0, "peak": 0}
RUNNING_LOCK = threading.Lock()


def slow_run(spec: RunSpec) -> RunResult:
    """A run that only waits, counting how many run at once (threads of one in-process Dask worker)."""
    with RUNNING_LOCK:
        RUNNING["now"] += 1
        RUNNING["peak"] = max(RUNNING["peak"], RUNNING["now"])
    time.sleep(0.4)
    with RUNNING_LOCK:
        RUNNING["now"] -= 1
    return execute_run(spec)


def test_a_dask_cluster_of_eight_threads_runs_eight_at_once(tmp_path):
    distributed = pytest.importorskip("distributed")
    path = make_experiment(tmp_path, reps=8, months=2, citizens=100)
    RUNNING.update(now=0, peak=0)
    with distributed.LocalCluster(n_workers=1, threads_per_worker=8, processes=False, dashboard_address=None) as cluster, \
            distributed.Client(cluster) as client:
        executor = client.get_executor()
        assert worker_threads(executor) == 8  # not 2 x the cores of this machine
        assert runner._Capacity(executor).in_flight_limit() == 8  # the cluster's real thread count
        run_batch(load_experiment(path), tmp_path / "out", client.get_executor, run_function=slow_run, progress=False)
    assert RUNNING["peak"] == 8


def test_process_pools_and_this_process_report_their_worker_count():
    assert worker_threads(InProcessExecutor()) == 1
    from concurrent.futures import ProcessPoolExecutor

    with ProcessPoolExecutor(max_workers=3) as pool:
        assert worker_threads(pool) == 3


# -- SLURM ------------------------------------------------------------------------------------------
SLURM_OPTIONS = """
jobs = 4
queue = "short"
account = "policy-lab"
cores = 8
processes = 8
memory = "16GB"
walltime = "02:00:00"
job_script_prologue = ["module load python/3.12"]
"""


def test_slurm_options_from_a_small_toml_make_the_job_script(tmp_path):
    pytest.importorskip("dask_jobqueue")
    (tmp_path / "slurm.toml").write_text(SLURM_OPTIONS)
    options = clusters.read_slurm_options(tmp_path / "slurm.toml")
    assert options.jobs == 4
    cluster = clusters.slurm_cluster(options)
    try:
        script = cluster.job_script()
    finally:
        cluster.close()
    for line in ("#SBATCH -p short", "#SBATCH -A policy-lab", "#SBATCH -t 02:00:00", "module load python/3.12"):
        assert line in script
    assert "--nworkers 8" in script or "--nprocs 8" in script


def test_bad_slurm_options_are_one_line(tmp_path, capsys):
    (tmp_path / "slurm.toml").write_text("jobs = 0\n")
    path = make_experiment(tmp_path)
    assert main(["batch", str(path), "--cluster", "slurm", "--cluster-config", str(tmp_path / "slurm.toml")]) == 2
    assert "jobs: input should be greater than or equal to 1" in capsys.readouterr().err
    (tmp_path / "slurm.toml").write_text('partition = "short"\n')
    with pytest.raises(ConfigError, match="unknown key 'partition'"):
        clusters.read_slurm_options(tmp_path / "slurm.toml")
    assert main(["batch", str(path), "--cluster-config", str(tmp_path / "slurm.toml")]) == 2
    assert "goes with --cluster slurm" in capsys.readouterr().err


# -- small batches in this process -----------------------------------------------------------------------
def test_small_batches_run_in_this_process_by_default_and_say_so(tmp_path, capsys):
    small = clusters.local_placement(None, [(150, 4)] * 4)
    big = clusters.local_placement(None, [(100_000, 120)] * 200)
    if clusters.os.cpu_count() > 1:
        assert small.where == "1 worker (in this process)" and "small batch" in small.note
        assert big.where.endswith("worker processes") and not big.note
    assert clusters.local_placement(2, [(150, 4)]).where == "2 worker processes"  # --workers insists
    path = make_experiment(tmp_path)
    assert main(["batch", str(path), "--out", str(tmp_path / "out"), "--no-progress"]) == 0
    err = capsys.readouterr().err.splitlines()
    assert err[0].startswith("cryptoabm: small batch (about") and "running in this process" in err[0]


# -- the notebook API --------------------------------------------------------------------------------
def test_run_experiment_takes_a_dict_and_returns_dataframes(tmp_path, monkeypatch):
    import cryptoabm

    make_experiment(tmp_path)
    monkeypatch.chdir(tmp_path)
    experiment = {"name": "nb", "question": "Does a ban change anything?", "reference": "voluntary",
                  "replications": 2, "horizon_months": 4, "base_seed": 7,
                  "arms": [{"name": "voluntary", "config": "small.toml"},
                           {"name": "ban", "config": "small.toml", "overrides": {"policy.payment_regime": "ban"}}]}
    results = cryptoabm.run_experiment(experiment, workers=1, out=tmp_path / "nb", progress=False)
    assert isinstance(results, cryptoabm.Results)
    assert isinstance(results.runs, pd.DataFrame) and len(results.runs) == 4
    assert isinstance(results.timeseries, pd.DataFrame) and len(results.timeseries) == 16
    compared = results.compare()
    assert set(compared["label"]) == {"ban"} and set(compared["reference"]) == {"voluntary"}
    assert set(results.compare("ban")["label"]) == {"voluntary"}
    with pytest.raises(ValueError, match="no arm named 'nobody'"):
        results.compare("nobody")
    with pytest.raises(ConfigError, match="replications"):
        cryptoabm.run_experiment({**experiment, "replications": 0})


# -- keyword levers on CryptoEconomy -----------------------------------------------------------------
def test_keyword_levers_build_the_scenario_and_mesa_batch_run_uses_them():
    import mesa

    from cryptoabm import CryptoEconomy

    model = CryptoEconomy(preset="turkmenistan_2026", license_cap=5, citizens=200, seed=3)
    assert (model.config.policy.license_cap, model.config.population.citizens, model.seed) == (5, 200, 3)
    rows = mesa.batch_run(CryptoEconomy, {"preset": "turkmenistan_2026", "license_cap": [5, "none"], "citizens": 200},
                          rng=[1, 2], max_steps=2, display_progress=False)
    assert len(rows) == 2 * 2  # points x seeds, the last step of each
    assert sorted((str(row["license_cap"]), row["seed"]) for row in rows) == [("5", 1), ("5", 2), ("none", 1), ("none", 2)]
    with pytest.raises(ConfigError, match="policy.license_cap"):
        mesa.batch_run(CryptoEconomy, {"preset": "turkmenistan_2026", "license_cap": [-5]}, rng=[1], max_steps=1,
                       display_progress=False)
    with pytest.raises(ConfigError, match="did you mean 'license_cap'"):
        CryptoEconomy(preset="turkmenistan_2026", licence_cap=5)
    with pytest.raises(ConfigError, match="no preset named 'atlantis'"):
        CryptoEconomy(preset="atlantis")


# -- report figures ------------------------------------------------------------------------------------
def test_figure_axes_use_the_units_of_the_tables():
    assert axis_formatter("usd")(2.5e9, 0) == "$2.5bn" and axis_formatter("usd")(3.4e6, 0) == "$3.4m"
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots()
    ax.set_ylim(0, 0.5)
    ax.yaxis.set_major_formatter(axis_formatter("pct"))
    fig.canvas.draw()
    assert "20%" in [label.get_text() for label in ax.get_yticklabels()]
    plt.close(fig)
    assert axis_formatter("num")(1200, 0) == "1,200"
    two_starts = pd.DataFrame({"arm": ["kz", "kz", "sv"], "date": ["2021-01", "2021-02", "2021-09"]})
    assert time_axis(two_starts) == ("calendar", "calendar month (the arms start at different dates)")
    one_start = pd.DataFrame({"arm": ["a", "b"], "date": ["2026-01", "2026-01"]})
    assert time_axis(one_start) == ("calendar", "calendar month")  # dates, whether or not the arms start together


def test_the_report_shows_the_outcomes_the_experiment_declares(tmp_path, monkeypatch):
    import matplotlib.figure

    titles: list[str] = []
    original = matplotlib.figure.Figure.savefig

    def record(fig, *args, **kwargs):
        titles.append(fig._suptitle.get_text() if fig._suptitle else "")
        titles.extend(t.get_text() for ax in fig.axes for t in ax.get_yticklabels() + ax.get_xticklabels())
        return original(fig, *args, **kwargs)

    monkeypatch.setattr(matplotlib.figure.Figure, "savefig", record)
    path = make_experiment(tmp_path)
    path.write_text('report_outcomes = ["final_licensed_miners", "total_state_revenue_usd"]\n' + path.read_text())
    run_batch(load_experiment(path), tmp_path / "out", InProcessExecutor, progress=False)
    report = write_report(tmp_path / "out").read_text()
    assert "| Licensed farms (end) |" in report and "| State revenue from mining, USD (total) |" in report
    assert "Citizens holding a wallet (end)" not in report.split("## Time series")[0]
    assert any(t.startswith("Difference from the reference, Voluntary") for t in titles)  # the arm's display name
    assert any(t.startswith("$") for t in titles) and not any("1e" in t for t in titles)


def test_the_licence_cap_sweep_declares_licence_counts():
    loaded = load_experiment(ROOT / "experiments" / "license_cap_sweep.toml")
    assert "final_licensed_miners" in loaded.experiment.report_outcomes

