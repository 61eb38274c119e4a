"""Issue 10: batch results a user can trust and share.

Provenance-checked resume, a locked results folder, corrupt run files set aside and rerun,
design columns of mixed type, the Parquet dataset and its CSV export, a full disk, and
processes that die with the batch. Each test uses the exact input the issue names.
"""

from __future__ import annotations

import json
import os
import resource
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.dataset as ds
import pytest

from cryptoabm.batch.experiment import load_experiment
from cryptoabm.batch.runner import InProcessExecutor, run_batch
from cryptoabm.batch.store import ResultStore, StoreError, results_dataset, timeseries_dataset
from cryptoabm.cli import main
from tests.conftest import CONFIGS

PARENT = """
extends = "{baseline}"
name = "parent"
[population]
citizens = {citizens}
[mining]
initial_farms = 3
"""
CHILD = 'extends = "parent.toml"\nname = "small"\n'
EXPERIMENT = """
name = "{name}"
question = "Does a ban change anything?"
reference = "voluntary"
replications = {reps}
horizon_months = {months}
base_seed = {seed}
[[arms]]
name = "voluntary"
config = "small.toml"
[[arms]]
name = "ban"
config = "small.toml"
overrides = {{ "policy.payment_regime" = "ban", "market.price_csv" = "prices.csv" }}
"""


def prices(months: int, start: float = 60_000.0) -> str:
    return "month,btc_price_usd\n" + "".join(f"{m},{start * (1 + 0.01 * m):.2f}\n" for m in range(months + 1))


def make_experiment(folder: Path, reps: int = 2, months: int = 4, citizens: int = 150, name: str = "trust",
                    seed: int = 7, extra: str = "") -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "parent.toml").write_text(PARENT.format(baseline=CONFIGS / "baseline.toml", citizens=citizens))
    (folder / "small.toml").write_text(CHILD)
    (folder / "prices.csv").write_text(prices(months))
    path = folder / "exp.toml"
    path.write_text(EXPERIMENT.format(name=name, reps=reps, months=months, seed=seed) + extra)
    return path


def batch_command(path: Path, out: Path, *extra: str) -> list[str]:
    return [sys.executable, "-m", "cryptoabm", "batch", str(path), "--out", str(out), "--no-progress", *extra]


def run_files(folder: Path) -> list[Path]:
    return sorted((folder / "runs").glob("arm=*/*.parquet"))


def tables(folder: Path):
    return pd.read_parquet(folder / "timeseries.parquet"), pd.read_parquet(folder / "runs.parquet")


def assert_same_tables(first: Path, second: Path) -> None:
    for a, b in zip(tables(first), tables(second), strict=True):
        pd.testing.assert_frame_equal(a, b)


# -- provenance ---------------------------------------------------------------------------------
@pytest.mark.parametrize("edited", ["small.toml", "parent.toml", "prices.csv", "exp.toml"])
def test_resume_refuses_when_any_input_changed_naming_the_file(tmp_path, capsys, edited):
    path = make_experiment(tmp_path)
    out = tmp_path / "out"
    run_batch(load_experiment(path), out, InProcessExecutor, progress=False)
    run_files(out)[0].unlink()  # as if interrupted
    target = tmp_path / edited
    target.write_text(target.read_text() + ("\n" if edited != "prices.csv" else "") + "# edited\n"
                      if edited != "prices.csv" else prices(4, start=61_000.0))
    code = main(["batch", str(path), "--out", str(out), "--workers", "1", "--no-progress", "--resume"])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2 and err[-1] == (f"cryptoabm: error: {target.resolve()} has changed since the batch in {out} "
                                     f"started (its SHA-256 differs); run it into a new --out folder, or restore the file")
    assert len(run_files(out)) == 3  # nothing was mixed in


def test_resume_after_a_config_edit_during_a_running_batch_is_refused(tmp_path):
    """Concurrency: the parent config is edited while the batch runs; the resume refuses, and
    once the file is restored the resume completes to the same tables as a straight batch."""
    path = make_experiment(tmp_path / "exp", reps=4, months=24, citizens=2_000)
    straight = tmp_path / "straight"
    run_batch(load_experiment(path), straight, InProcessExecutor, progress=False)
    out = tmp_path / "out"
    process = subprocess.Popen(batch_command(path, out, "--workers", "1"), stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL, start_new_session=True)
    parent = tmp_path / "exp" / "parent.toml"
    original = parent.read_text()
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and len(run_files(out)) < 2:
        time.sleep(0.02)
    parent.write_text(original.replace("initial_farms = 3", "initial_farms = 4"))
    os.killpg(process.pid, signal.SIGKILL)
    process.wait()
    refused = subprocess.run(batch_command(path, out, "--workers", "1", "--resume"), capture_output=True, text=True)
    assert refused.returncode == 2 and f"{parent.resolve()} has changed since the batch" in refused.stderr
    parent.write_text(original)
    done = subprocess.run(batch_command(path, out, "--workers", "1", "--resume"), capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert_same_tables(straight, out)


def test_manifest_records_the_hash_of_every_input(tmp_path):
    path = make_experiment(tmp_path)
    run_batch(load_experiment(path), tmp_path / "out", InProcessExecutor, progress=False)
    inputs = json.loads((tmp_path / "out" / "manifest.json").read_text())["inputs"]
    names = {Path(p).name for p in inputs}
    assert {"exp.toml", "small.toml", "parent.toml", "baseline.toml", "prices.csv"} <= names
    assert all(len(digest) == 64 for digest in inputs.values())


# -- the lock -------------------------------------------------------------------------------------
def test_a_second_batch_into_a_locked_folder_is_refused(tmp_path, capsys):
    path = make_experiment(tmp_path)
    out = tmp_path / "out"
    with ResultStore(out):
        code = main(["batch", str(path), "--out", str(out), "--workers", "1", "--no-progress"])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2 and f"{out} is in use by another batch (process {os.getpid()})" in err[-1]
    assert sorted(p.name for p in out.iterdir()) == [".lock", ".lock.pid"]  # nothing written into it


def test_a_batch_that_has_made_its_folders_but_not_yet_its_manifest_is_in_use_not_foreign(tmp_path, capsys):
    """The moment a batch starts: it holds the lock and has made runs/ and timeseries/, but not
    yet written manifest.json. A second batch must be told the folder is in use, not that it
    holds someone else's files."""
    path = make_experiment(tmp_path)
    out = tmp_path / "out"
    with ResultStore(out):
        (out / "runs").mkdir()
        (out / "timeseries").mkdir()
        code = main(["batch", str(path), "--out", str(out), "--workers", "1", "--no-progress"])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2 and f"{out} is in use by another batch" in err[-1]


def test_a_folder_of_other_files_is_refused_before_anything_is_written_into_it(tmp_path, capsys):
    path = make_experiment(tmp_path)
    out = tmp_path / "notes"
    out.mkdir()
    (out / "draft.txt").write_text("mine")
    code = main(["batch", str(path), "--out", str(out), "--workers", "1", "--no-progress"])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2 and "holds no cryptoabm batch" in err[-1]
    assert sorted(p.name for p in out.iterdir()) == ["draft.txt"]  # no lock file left in someone else's folder


def test_two_batches_started_together_into_one_folder_never_mix(tmp_path):
    """Concurrency: two different experiments started into the same --out within milliseconds."""
    first = make_experiment(tmp_path / "a", name="first", seed=7, months=12, citizens=500)
    second = make_experiment(tmp_path / "b", name="second", seed=8, months=12, citizens=500)
    out = tmp_path / "out"
    processes = [subprocess.Popen(batch_command(p, out, "--workers", "1"), stdout=subprocess.PIPE,
                                  stderr=subprocess.PIPE, text=True) for p in (first, second)]
    results = [(p.wait(timeout=120), p.stderr.read()) for p in processes]
    codes = sorted(code for code, _ in results)
    assert codes == [0, 2], results
    loser = next(err for code, err in results if code == 2)
    assert "in use by another batch" in loser or "already holds results" in loser
    assert "Traceback" not in loser and not list(out.rglob(".*.partial"))
    winner = first if results[0][0] == 0 else second
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["experiment_file"] == str(winner)
    rerun = subprocess.run([sys.executable, "-m", "cryptoabm", "rerun", str(out), "ban__p000__r001",
                            "--out", str(tmp_path / "rerun")], capture_output=True, text=True)
    assert rerun.returncode == 0 and "reproduces the stored run exactly" in rerun.stdout


# -- corrupt files --------------------------------------------------------------------------------
@pytest.mark.parametrize("damage", ["truncated", "empty", "random bytes", "truncated manifest"])
def test_corrupt_files_are_set_aside_and_rerun_with_a_warning(tmp_path, capsys, damage):
    path = make_experiment(tmp_path)
    straight, out = tmp_path / "straight", tmp_path / "out"
    run_batch(load_experiment(path), straight, InProcessExecutor, progress=False)
    run_batch(load_experiment(path), out, InProcessExecutor, progress=False)
    victim = run_files(out)[1]
    if damage == "truncated":
        victim.write_bytes(victim.read_bytes()[: victim.stat().st_size // 2])
    elif damage == "empty":
        victim.write_bytes(b"")
    elif damage == "random bytes":
        victim.write_bytes(os.urandom(4096))
    else:
        manifest = out / "manifest.json"
        manifest.write_text(manifest.read_text()[:100])
    code = main(["batch", str(path), "--out", str(out), "--workers", "1", "--no-progress", "--resume"])
    err = capsys.readouterr().err
    assert code == 0 and "Traceback" not in err
    warnings = [line for line in err.splitlines() if line.startswith("cryptoabm: warning:")]
    assert "set aside as corrupt/" in warnings[0]
    if damage == "truncated manifest":  # the checksums went with it: no run file can be verified, each is rerun
        assert len(warnings) == 1 + 2 * len(run_files(straight))  # each run's row and its months
        assert all("has no checksum in the manifest" in line for line in warnings[1:])
    else:
        assert len(warnings) == 1
    assert list((out / "corrupt").iterdir())
    assert_same_tables(straight, out)


# -- mixed-type design columns ----------------------------------------------------------------------
def test_a_licence_cap_grid_with_none_merges_and_resumes(tmp_path):
    path = make_experiment(tmp_path, extra='[design]\nkind = "grid"\nparameters = { "policy.license_cap" = ["none", 5, 20] }\n')
    out = tmp_path / "out"
    run_batch(load_experiment(path), out, InProcessExecutor, progress=False)
    runs = pd.read_parquet(out / "runs.parquet")
    caps = runs.drop_duplicates("point").set_index("point")["policy.license_cap"]
    assert caps.isna().tolist() == [True, False, False] and caps.iloc[1:].tolist() == [5, 20]
    assert results_dataset(out).schema.field("policy.license_cap").type == pa.int64()
    run_files(out)[0].unlink()
    resumed = run_batch(load_experiment(path), out, InProcessExecutor, resume=True, progress=False)
    assert (resumed.skipped, resumed.finished) == (11, 12)
    assert pd.read_parquet(out / "runs.parquet").equals(runs)


# -- the dataset and its CSV export ------------------------------------------------------------------
def test_runs_hold_one_row_per_run_and_timeseries_the_months_both_partitioned_by_arm(tmp_path):
    path = make_experiment(tmp_path)
    out = tmp_path / "out"
    assert main(["batch", str(path), "--out", str(out), "--workers", "1", "--no-progress", "--csv"]) == 0
    timeseries, runs = tables(out)
    dataset = results_dataset(out)
    assert {"arm", "run_id", "seed", "final_wallet_share", "total_fdi_inflow_usd"} <= set(dataset.schema.names)
    assert not {"month", "wallet_share"} & set(dataset.schema.names)  # no month repeats a run's totals
    assert dataset.count_rows() == len(runs) == 4  # a count over runs/ is the number of runs
    table = dataset.to_table(filter=ds.field("arm") == "ban")
    assert sorted(table.column("run_id").to_pylist()) == ["ban__p000__r000", "ban__p000__r001"]
    assert sum(dataset.to_table().column("total_fdi_inflow_usd").to_pylist()) == pytest.approx(
        runs["total_fdi_inflow_usd"].sum())  # and a sum is the sum over runs
    months = timeseries_dataset(out)
    assert {"arm", "run_id", "month", "wallet_share"} <= set(months.schema.names)
    assert not set(months.schema.names) & {"final_wallet_share", "total_fdi_inflow_usd"}
    assert months.count_rows() == len(timeseries) == 4 * 4
    assert months.to_table(filter=ds.field("arm") == "voluntary").num_rows == 2 * 4
    assert len(pd.read_csv(out / "timeseries.csv")) == len(timeseries)
    csv_runs = pd.read_csv(out / "runs.csv", dtype={"seed": str})
    assert list(csv_runs.columns) == list(runs.columns)
    assert csv_runs["final_wallet_share"].tolist() == pytest.approx(runs["final_wallet_share"].tolist())
    # seeds are text in the CSV (quoted), so a spreadsheet keeps all 19 digits
    assert csv_runs["seed"].tolist() == [str(seed) for seed in runs["seed"]]
    first_row = (out / "runs.csv").read_text().splitlines()[1]
    assert f'"{runs["seed"].iloc[0]}"' in first_row


def test_polars_and_duckdb_count_and_average_each_run_once(tmp_path):
    import duckdb
    import polars as pl

    path = make_experiment(tmp_path)
    out = tmp_path / "out"
    run_batch(load_experiment(path), out, InProcessExecutor, progress=False)
    runs = pd.read_parquet(out / "runs.parquet")
    expected = runs.groupby("arm")["final_wallet_share"].agg(["mean", "size"])
    # the README's examples, as written there
    scanned = (pl.scan_parquet(str(out / "runs" / "**" / "*.parquet"), hive_partitioning=True)
               .group_by("arm").agg(pl.col("final_wallet_share").mean(), pl.len().alias("runs")).collect())
    for row in scanned.iter_rows(named=True):
        assert row["runs"] == expected.loc[row["arm"], "size"] == 2
        assert row["final_wallet_share"] == pytest.approx(expected.loc[row["arm"], "mean"])
    counted = duckdb.sql(f"select arm, count(*) as runs, avg(total_fdi_inflow_usd) as fdi from "
                         f"read_parquet('{out}/runs/*/*.parquet', hive_partitioning=true) group by arm order by arm").fetchall()
    assert [(arm, n) for arm, n, _ in counted] == [("ban", 2), ("voluntary", 2)]
    for arm, _, fdi in counted:
        assert fdi == pytest.approx(runs.loc[runs["arm"] == arm, "total_fdi_inflow_usd"].mean())
    months = duckdb.sql(f"select count(*) from read_parquet('{out}/timeseries/*/*.parquet', hive_partitioning=true)"
                        ).fetchall()[0][0]
    assert months == len(runs) * 4


# -- a full disk ------------------------------------------------------------------------------------
def _small_file_limit():
    """Make writes past 64 kB fail in the child, as a full disk would (EFBIG instead of ENOSPC)."""
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    resource.setrlimit(resource.RLIMIT_FSIZE, (64_000, 64_000))


def test_a_full_disk_is_one_line_exit_1_and_leaves_no_partial_file(tmp_path):
    path = make_experiment(tmp_path, months=60, citizens=150)
    out = tmp_path / "out"
    done = subprocess.run(batch_command(path, out, "--workers", "1"), capture_output=True, text=True,
                          preexec_fn=_small_file_limit)
    lines = done.stderr.strip().splitlines()
    assert done.returncode == 1 and "Traceback" not in done.stderr, done.stderr
    assert lines[-1].startswith("cryptoabm: error: ") and "File too large" in lines[-1]  # the OS's words, or Arrow's
    assert not list(out.rglob("*.partial"))


# -- no orphans --------------------------------------------------------------------------------------
def _descendants(pid: int) -> set[int]:
    found: set[int] = set()
    try:
        children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    except OSError:
        return found
    for child in map(int, children):
        found |= {child, *_descendants(child)}
    return found


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
def test_workers_die_when_only_the_main_process_is_killed(tmp_path):
    path = make_experiment(tmp_path, reps=20, months=60, citizens=3_000)
    out = tmp_path / "out"
    process = subprocess.Popen(batch_command(path, out, "--workers", "2"), stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline and not run_files(out):
        time.sleep(0.05)
    helpers = _descendants(process.pid)
    assert len(helpers) >= 3, "a fork server, a resource tracker and the workers"
    process.kill()  # SIGKILL to the main process alone
    process.wait()
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline and any(_alive(pid) for pid in helpers):
        time.sleep(0.1)
    left = [pid for pid in helpers if _alive(pid)]
    for pid in left:  # do not leave them to the next test
        os.kill(pid, signal.SIGKILL)
    assert not left, f"orphaned: {left}"


def test_ctrl_c_during_pool_start_up_is_one_clean_line(tmp_path):
    path = make_experiment(tmp_path, reps=10, months=60, citizens=3_000)
    process = subprocess.Popen(batch_command(path, tmp_path / "out", "--workers", "2"), stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True, start_new_session=True,
                               preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    assert "running on 2 worker processes" in process.stderr.readline()
    time.sleep(0.3)  # the fork server is importing the model
    os.killpg(process.pid, signal.SIGINT)
    _, stderr = process.communicate(timeout=60)
    assert process.returncode == 130
    assert stderr.strip().splitlines() == [
        f"cryptoabm: interrupted; finished runs are kept in {tmp_path / 'out'}/runs/; "
        f"finish with: cryptoabm batch {path} --out {tmp_path / 'out'} --resume"]


def test_store_refuses_an_unknown_folder_kind(tmp_path):
    (tmp_path / "file").write_text("x")
    with pytest.raises(StoreError, match="is a file, not a folder"), ResultStore(tmp_path / "file"):
        pass


@pytest.mark.skipif("fork" not in __import__("multiprocessing").get_all_start_methods(), reason="no fork here")
def test_a_progress_bar_shown_before_the_pool_starts_does_not_stop_it_forking_its_workers():
    """Any progress bar (the design points' check shows one) starts tqdm's monitor thread; the
    pool must still fork its workers from the batch process, with the model already imported,
    not fall back to a fork server whose workers import it afresh."""
    code = ("import io, threading\nfrom tqdm.auto import tqdm\n"
            "from cryptoabm.batch.runner import process_pool, shutdown_executor\n"
            "for _ in tqdm(range(3), file=io.StringIO()):\n    pass\n"
            "threads = threading.active_count()\n"
            "pool = process_pool(1)\n"
            "print(threads, pool._mp_context.get_start_method(), flush=True)\nshutdown_executor(pool)\n")
    printed = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                             timeout=60).stdout.split()
    assert printed == ["2", "fork"]  # the bar's monitor was running, and the workers were forked all the same


def test_runs_finished_after_the_manifests_last_save_are_kept_on_resume(tmp_path, capsys):
    """The manifest is saved every few seconds; a kill in between leaves the checksums of the runs
    finished since in the journal, and a resume keeps those runs (a line cut short by the kill is
    ignored: that run is run again)."""
    import json as json_module

    from cryptoabm.batch.store import CHECKSUM_JOURNAL, CHECKSUMS, SERIES_CHECKSUMS

    path = make_experiment(tmp_path, reps=3)
    straight, out = tmp_path / "straight", tmp_path / "out"
    run_batch(load_experiment(path), straight, InProcessExecutor, progress=False)
    run_batch(load_experiment(path), out, InProcessExecutor, progress=False)
    (out / "timeseries.parquet").unlink()
    (out / "runs.parquet").unlink()
    manifest = json_module.loads((out / "manifest.json").read_text())
    late = sorted(manifest[CHECKSUMS])[:3]  # as if these finished after the manifest was last saved
    lines = []
    for run_id in late:
        lines += [json_module.dumps([kind, run_id, manifest[kind].pop(run_id)]) for kind in (SERIES_CHECKSUMS, CHECKSUMS)]
    lines[-1] = lines[-1][:20]  # the kill cut the last line short
    (out / "manifest.json").write_text(json_module.dumps(manifest))
    (out / CHECKSUM_JOURNAL).write_text("\n".join(lines))
    code = main(["batch", str(path), "--out", str(out), "--workers", "1", "--no-progress", "--resume"])
    captured = capsys.readouterr()
    assert code == 0
    total = len(run_files(straight))
    assert f"({total - 1} from before)" in captured.out  # only the run whose checksum line was cut short is rerun
    warnings = [line for line in captured.err.splitlines() if line.startswith("cryptoabm: warning:")]
    assert len(warnings) == 1 and "has no checksum in the manifest" in warnings[0]
    assert not (out / CHECKSUM_JOURNAL).exists()  # folded into the manifest
    assert_same_tables(straight, out)
