"""Issue 23: nothing lost, nothing mixed, nothing open.

Each test names the item of the issue it specifies and uses the issue's input: output folders
(``run`` and ``batch``), locks before anything is touched (``calibrate``, ``validate``,
``sensitivity``), idle pool workers stopped on every exit, provenance of the code on resume,
checksums of stored run files, strict values, errors naming the file that holds the mistake,
and a concurrency test for each command that writes a folder.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest

from cryptoabm.batch import store as store_module
from cryptoabm.cli import main
from cryptoabm.config import ConfigError, load_scenario
from cryptoabm.folder_lock import LOCK_HOLDER, FolderLock
from tests.conftest import CONFIGS, ROOT, el_salvador_configs
from tests.test_batch_trust import make_experiment, run_files
from tests.test_calibration import GOOD_TARGET
from tests.test_sensitivity import sampled

CRYPTOABM = [sys.executable, "-m", "cryptoabm"]
BASELINE = CONFIGS / "baseline.toml"
WAIT_S = 240  # a command on a loaded machine


def small_config(folder: Path, months: int = 3, seed: int = 1) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"small-{seed}.toml"
    path.write_text(f'extends = "{BASELINE}"\nname = "small"\nmonths = {months}\nseed = {seed}\n'
                    f'[population]\ncitizens = 150\n[mining]\ninitial_farms = 3\n')
    return path


def one_line_error(capsys) -> str:
    """The one error line printed (a batch prints where it runs before it)."""
    errors = [line for line in capsys.readouterr().err.strip().splitlines() if line.startswith("cryptoabm: error:")]
    assert len(errors) == 1, errors
    return errors[0]


def start(argv: list[str], cwd: Path = ROOT) -> subprocess.Popen:
    return subprocess.Popen([*CRYPTOABM, *argv], cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def wait_for_lock_of(process: subprocess.Popen, folder: Path) -> None:
    """Until ``process`` holds ``folder``'s lock (its pid beside the lock file)."""
    deadline = time.monotonic() + WAIT_S
    while time.monotonic() < deadline:
        lock = folder / LOCK_HOLDER
        if lock.is_file() and lock.read_text().strip() == str(process.pid):
            return
        if process.poll() is not None:
            pytest.fail(f"the first command ended before it took the lock: {process.communicate()}")
        time.sleep(0.05)
    pytest.fail("the first command never took the lock")


# -- item 4: run --out DIR over another run's results -------------------------------------------
def test_run_over_an_earlier_run_needs_overwrite_and_never_writes_into_a_foreign_folder(tmp_path, capsys):
    config = small_config(tmp_path)
    out = tmp_path / "out"
    assert main(["run", str(config), "--out", str(out), "-q"]) == 0
    before = {p.name: p.read_bytes() for p in out.iterdir()}
    assert main(["run", str(config), "--out", str(out), "-q", "--seed", "9"]) == 2
    assert "already holds the results of a run; add --overwrite" in one_line_error(capsys)
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before  # untouched
    assert main(["run", str(config), "--out", str(out), "-q", "--seed", "9", "--overwrite"]) == 0
    assert json.loads((out / "run.json").read_text())["seed"] == 9
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith(".")) == []  # no staging left
    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "notes.txt").write_text("keep me")
    capsys.readouterr()
    assert main(["run", str(config), "--out", str(mine), "-q", "--overwrite"]) == 2
    assert "holds no cryptoabm run (notes.txt)" in one_line_error(capsys)
    assert [p.name for p in mine.iterdir()] == ["notes.txt"]


# -- item 7: an interrupted run ----------------------------------------------------------------
def test_a_run_killed_while_writing_leaves_the_earlier_folder_whole(tmp_path, monkeypatch):
    """kill -9 during the writing: the earlier run's five files stay as they were, together."""
    config = small_config(tmp_path)
    out = tmp_path / "out"
    assert main(["run", str(config), "--out", str(out), "-q"]) == 0
    before = {p.name: p.read_bytes() for p in out.iterdir()}
    code = ("import os, signal, cryptoabm.dashboard as d\n"
            "d.save_dashboard = lambda *a, **k: os.kill(os.getpid(), signal.SIGKILL)\n"
            "from cryptoabm.cli import main\n"
            f"main(['run', {str(config)!r}, '--out', {str(out)!r}, '-q', '--seed', '5', '--overwrite'])\n")
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=WAIT_S)
    assert done.returncode == -signal.SIGKILL
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before
    # the next run into the folder removes what the killed one left beside it
    assert main(["run", str(config), "--out", str(out), "-q", "--seed", "6", "--overwrite"]) == 0
    assert [p.name for p in tmp_path.iterdir() if ".staging-" in p.name] == []


@pytest.mark.parametrize("failure", [KeyboardInterrupt, OSError(28, "No space left on device")])
def test_ctrl_c_or_a_full_disk_while_writing_leaves_nothing_half_written(tmp_path, monkeypatch, capsys, failure):
    """Ctrl-C said "nothing was written" while monthly.csv was left behind; a full disk left half
    a folder and a 0-byte config.toml.partial."""
    import cryptoabm.dashboard

    def fail(*args, **kwargs):
        raise failure

    monkeypatch.setattr(cryptoabm.dashboard, "save_dashboard", fail)
    out = tmp_path / "out"
    code = main(["run", str(small_config(tmp_path)), "--out", str(out), "-q"])
    assert code == (130 if failure is KeyboardInterrupt else 1)
    assert not out.exists() and [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []
    if failure is KeyboardInterrupt:
        assert "nothing was written" in capsys.readouterr().err


def test_two_runs_into_one_folder_at_once_leave_one_whole_run(tmp_path):
    """Concurrency (run): one wins, the other is refused in one line; never a mixture."""
    out = tmp_path / "out"
    first, second = (start(["run", str(small_config(tmp_path, seed=seed)), "--out", str(out), "-q"])
                     for seed in (11, 12))
    codes = sorted(p.wait(timeout=WAIT_S) for p in (first, second))
    assert codes == [0, 2]
    info = json.loads((out / "run.json").read_text())
    assert f"seed {info['seed']})" in (out / "config.toml").read_text()
    assert sorted(p.name for p in out.iterdir()) == sorted(
        ["config.toml", "dashboard.png", "monthly.csv", "monthly.parquet", "run.json"])


# -- item 3: batch --out DIR into a folder holding the user's files ---------------------------
def test_batch_refuses_a_folder_of_the_users_files_and_deletes_none_of_them(tmp_path, capsys):
    path = make_experiment(tmp_path / "exp")
    out = tmp_path / "mine"
    (out / "deep" / "er").mkdir(parents=True)
    (out / "report.md").write_text("my report")
    (out / "deep" / "er" / ".draft.partial").write_text("my draft")
    code = main(["batch", str(path), "--out", str(out), "--workers", "1", "--no-progress"])
    assert code == 2 and "is not empty and holds no cryptoabm batch" in capsys.readouterr().err
    assert (out / "report.md").read_text() == "my report"
    assert (out / "deep" / "er" / ".draft.partial").read_text() == "my draft"


# -- item 5: resume with other code or another packaged data file -----------------------------
@pytest.mark.parametrize(("changed", "words"), [
    ({"source_sha256": "0" * 64}, "the cryptoabm source code"),
    ({"data_files": {"data/btc_market_monthly.csv": "0" * 64}}, "data/btc_market_monthly.csv has changed"),
    ({"version": "0.0.1"}, "cryptoabm 0.0.1 was replaced by"),
])
def test_resume_refuses_other_code_naming_the_difference(tmp_path, capsys, changed, words):
    path = make_experiment(tmp_path / "exp")
    out = tmp_path / "out"
    assert main(["batch", str(path), "--out", str(out), "--workers", "1", "--no-progress"]) == 0
    manifest = json.loads((out / "manifest.json").read_text())
    recorded = manifest["code"]
    manifest["code"] = {**recorded, **changed, "data_files": {**recorded["data_files"], **changed.get("data_files", {})}}
    (out / "manifest.json").write_text(json.dumps(manifest))
    capsys.readouterr()
    assert main(["batch", str(path), "--out", str(out), "--workers", "1", "--no-progress", "--resume"]) == 2
    line = one_line_error(capsys)
    assert words in line and "since the batch in" in line


def test_the_manifest_records_the_packaged_price_history():
    from cryptoabm.provenance import code_record

    assert "data/btc_market_monthly.csv" in code_record()["data_files"]


# -- item 10: checksums of stored run files ------------------------------------------------------
def test_a_flipped_bit_in_a_run_file_is_set_aside_and_the_run_rerun(tmp_path, capsys):
    path = make_experiment(tmp_path / "exp")
    out, fresh = tmp_path / "out", tmp_path / "fresh"
    assert main(["batch", str(path), "--out", str(out), "--workers", "1", "--no-progress"]) == 0
    assert main(["batch", str(path), "--out", str(fresh), "--workers", "1", "--no-progress"]) == 0
    target = run_files(out)[0]
    data = bytearray(target.read_bytes())
    data[len(data) // 2] ^= 0x01  # one bit (the 2.73894 -> 2.73845 was one such flip)
    target.write_bytes(bytes(data))
    capsys.readouterr()
    assert main(["batch", str(path), "--out", str(out), "--workers", "1", "--no-progress", "--resume"]) == 0
    assert "does not match its checksum in the manifest" in capsys.readouterr().err
    assert (out / "corrupt" / f"{target.name}.corrupt").is_file()
    for a, b in zip(("timeseries.parquet", "runs.parquet"), ("timeseries.parquet", "runs.parquet"), strict=True):
        pd.testing.assert_frame_equal(pd.read_parquet(out / a), pd.read_parquet(fresh / b))


def test_a_file_changed_during_a_resume_is_caught_before_the_merge(tmp_path, monkeypatch):
    """Verified on merge too: a stored file that changes after the resume's check is rerun."""
    path = make_experiment(tmp_path / "exp")
    out = tmp_path / "out"
    assert main(["batch", str(path), "--out", str(out), "--workers", "1", "--no-progress"]) == 0
    victim = run_files(out)[0]
    (out / "runs.parquet").unlink()
    original = store_module.ResultStore.verify_stored

    def flip_then_verify(self, run_ids):
        data = bytearray(victim.read_bytes())
        data[len(data) // 2] ^= 0x01
        victim.write_bytes(bytes(data))
        return original(self, run_ids)

    monkeypatch.setattr(store_module.ResultStore, "verify_stored", flip_then_verify)
    assert main(["batch", str(path), "--out", str(out), "--workers", "1", "--no-progress", "--resume"]) == 0
    assert (out / "corrupt" / f"{victim.name}.corrupt").is_file() and victim.is_file()
    manifest = json.loads((out / "manifest.json").read_text())
    from cryptoabm.batch.experiment import file_sha256

    assert manifest["run_sha256"][victim.stem] == file_sha256(victim)


# -- item 14: rerun from another folder ---------------------------------------------------------
def test_rerun_works_from_any_folder(tmp_path):
    exp_dir = tmp_path / "project"
    path = make_experiment(exp_dir)
    out = tmp_path / "project" / "results"
    done = subprocess.run([*CRYPTOABM, "batch", "exp.toml", "--out", "results", "--workers", "1", "--no-progress"],
                          cwd=exp_dir, capture_output=True, text=True, timeout=WAIT_S)
    assert done.returncode == 0, done.stderr
    assert Path(json.loads((out / "manifest.json").read_text())["experiment_file"]) == path.resolve()
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    run_id = json.loads((out / "manifest.json").read_text())["design"][0]["run_id"]
    again = subprocess.run([*CRYPTOABM, "rerun", str(out), run_id], cwd=elsewhere, capture_output=True, text=True,
                           timeout=WAIT_S)
    assert again.returncode == 0 and "reproduces the stored run exactly" in again.stdout, again.stderr


# -- items 2, 6, 11: locks before anything is touched, and pools stopped ---------------------------
def calibration_setup(tmp_path: Path, target: str = GOOD_TARGET) -> tuple[Path, Path]:
    configs = el_salvador_configs(tmp_path / "configs", citizens=200)
    targets = tmp_path / "targets.toml"
    targets.write_text(target)
    return configs, targets


def calibrate_argv(tmp_path: Path, configs: Path, targets: Path, *extra: str) -> list[str]:
    return ["calibrate", str(targets), "--configs", str(configs), "--budget", "2", "--replications", "1",
            "--refine", "0", "--draws", "0", "--method", "smm", "--out", str(tmp_path / "fit"),
            "--work", str(tmp_path / "work"), "--no-progress", *extra]


def test_a_second_calibrate_into_a_work_folder_in_use_is_refused_and_deletes_nothing(tmp_path):
    """Item 2 (and concurrency for calibrate): the second, without --resume, deleted the first's
    running stage folder before taking the lock."""
    configs, targets = calibration_setup(tmp_path)
    first = start(calibrate_argv(tmp_path, configs, targets, "--workers", "1"))
    wait_for_lock_of(first, tmp_path / "work")
    second = start(calibrate_argv(tmp_path, configs, targets, "--workers", "1"))
    out, err = second.communicate(timeout=WAIT_S)
    assert second.returncode == 2 and f"is in use by another calibrate or validate (process {first.pid})" in err
    assert len(err.strip().splitlines()) == 1
    out, err = first.communicate(timeout=WAIT_S)
    assert first.returncode == 0, err
    assert (tmp_path / "fit").is_dir()


def test_a_second_validate_into_a_work_folder_in_use_is_refused(tmp_path):
    """Concurrency (validate)."""
    configs, targets = calibration_setup(tmp_path)
    argv = ["validate", str(targets), "--configs", str(configs), "--replications", "1", "--months", "6",
            "--workers", "1", "--out", str(tmp_path / "v"), "--work", str(tmp_path / "work"), "--no-progress"]
    first = start(argv)
    wait_for_lock_of(first, tmp_path / "work")
    second = start(argv)
    _, err = second.communicate(timeout=WAIT_S)
    assert second.returncode == 2 and "is in use by another calibrate or validate" in err
    _, err = first.communicate(timeout=WAIT_S)
    assert first.returncode == 0, err
    assert (tmp_path / "v" / "report.md").is_file()


def test_sensitivity_on_a_folder_in_use_is_refused_and_two_never_mix(tmp_path, capsys):
    """Item 6 (and concurrency for sensitivity): two analyses shared one staging folder."""
    path = sampled(tmp_path, settings="trajectories = 2", reps=1, months=3)
    out = tmp_path / "out"
    assert main(["batch", str(path), "--out", str(out), "--workers", "1", "--no-progress"]) == 0
    capsys.readouterr()
    held = FolderLock(out, "test")
    held.acquire()
    try:
        assert main(["sensitivity", str(out), "--outcome", "final_wallet_share"]) == 2
        assert f"is in use by another batch or sensitivity analysis (process {os.getpid()})" in one_line_error(capsys)
        assert not (out / "sensitivity").exists()
    finally:
        held.release()
    with_box = ["sensitivity", str(out), "--outcome", "final_wallet_share", "--threshold", "final_wallet_share>0.5%"]
    without = ["sensitivity", str(out), "--outcome", "final_wallet_share"]
    first, second = start(with_box), start(without)
    codes = [first.wait(timeout=WAIT_S), second.wait(timeout=WAIT_S)]
    assert set(codes) <= {0, 2} and 0 in codes
    boxes = (out / "sensitivity" / "prim_boxes.parquet").is_file()
    section = "## Scenario discovery" in (out / "report.md").read_text()
    assert boxes == section  # the tables and the report come from one analysis
    assert [p.name for p in out.iterdir() if p.name.endswith(".partial")] == []


@pytest.mark.parametrize("case", ["work in use", "long target id"])
def test_calibrate_ends_promptly_after_an_early_error_with_a_pool_up(tmp_path, case):
    """Item 11: the right error line, then a wait that two Ctrl-C did not end."""
    long_id = "t" * 79  # with its own events, a target's runs form an arm named after the preset and the id
    target = GOOD_TARGET.replace('id = "early_payers"', f'id = "{long_id}"') + \
        'events = [{ kind = "price_shock", month = 2, factor = 0.9 }]\n' if case == "long target id" else GOOD_TARGET
    configs, targets = calibration_setup(tmp_path, target)
    holder = None
    if case == "work in use":
        (tmp_path / "work").mkdir()
        holder = FolderLock(tmp_path / "work", "test")
        holder.acquire()
    try:
        done = subprocess.run([*CRYPTOABM, *calibrate_argv(tmp_path, configs, targets, "--workers", "2")], cwd=ROOT,
                              capture_output=True, text=True, timeout=120)
    finally:
        if holder:
            holder.release()
    assert done.returncode == 2 and len(done.stderr.strip().splitlines()) == 1, done.stderr
    assert ("in use" if case == "work in use" else "targets.0.id: '" + long_id) in done.stderr


def test_calibrate_resumed_after_an_edit_or_with_another_budget_ends_promptly_with_a_pool_up(tmp_path):
    """Item 11, the two --resume triggers: the pool is up when the edited behaviour.toml is found
    (one line, exit 2), and another --budget restarts the stage whose design changed (exit 0);
    neither waits for idle workers."""
    configs, targets = calibration_setup(tmp_path)
    first = subprocess.run([*CRYPTOABM, *calibrate_argv(tmp_path, configs, targets, "--workers", "1")], cwd=ROOT,
                           capture_output=True, text=True, timeout=WAIT_S)
    assert first.returncode == 0, first.stderr
    argv = calibrate_argv(tmp_path, configs, targets, "--workers", "2", "--resume")
    budget = argv.index("--budget") + 1
    other_budget = subprocess.run([*CRYPTOABM, *argv[:budget], "3", *argv[budget + 1:]], cwd=ROOT,
                                  capture_output=True, text=True, timeout=120)
    assert other_budget.returncode == 0 and "3 Sobol' points" in other_budget.stderr, other_budget.stderr
    behaviour = configs / "behaviour.toml"
    text = behaviour.read_text()
    assert "capital_cost_annual = 0.30 " in text
    behaviour.write_text(text.replace("capital_cost_annual = 0.30 ", "capital_cost_annual = 0.31 "))
    edited = subprocess.run([*CRYPTOABM, *argv[:budget], "3", *argv[budget + 1:]], cwd=ROOT, capture_output=True,
                            text=True, timeout=120)
    errors = [line for line in edited.stderr.splitlines() if line.startswith("cryptoabm: error:")]
    assert edited.returncode == 2 and len(errors) == 1 and "Traceback" not in edited.stderr, edited.stderr
    assert f"{behaviour} has changed since" in errors[0]


def test_the_shared_pool_stops_its_idle_workers_when_closed():
    from cryptoabm.batch.runner import process_pool
    from cryptoabm.calibration.simulate import SharedExecutor

    shared = SharedExecutor(process_pool(2))
    workers = list(shared.inner._processes.values())
    shared.close()
    for worker in workers:
        worker.join(timeout=10)
    assert all(not worker.is_alive() for worker in workers)


# -- item 8: lax coercion ------------------------------------------------------------------------
@pytest.mark.parametrize(("line", "field", "words"), [
    ("license_cap = true", "policy.license_cap", "must be a whole number, not true"),
    ("capital_controls = false", "policy.capital_controls", "must be a number, not false"),
    ('license_fee_usd = "yes"', "policy.license_fee_usd", "must be a number (got 'yes')"),
    ('license_fee_usd = "2000"', "policy.license_fee_usd", "must be a number written without quotes (got '2000')"),
    ('sez_active = "true"', "policy.sez_active", "must be true or false"),
])
def test_numbers_and_switches_of_the_wrong_kind_are_refused_naming_file_and_key(tmp_path, line, field, words):
    path = tmp_path / "s.toml"
    path.write_text(f'extends = "{BASELINE}"\n[policy]\n{line}\n')
    with pytest.raises(ConfigError) as caught:
        load_scenario(path)
    assert caught.value.file == str(path) and caught.value.field == field and words in caught.value.message


# -- item 15: errors name the file that holds the mistake ---------------------------------------
def preset_copy(tmp_path: Path) -> Path:
    configs = tmp_path / "configs"
    shutil.copytree(CONFIGS, configs)
    return configs


def insert_after(path: Path, header: str, line: str) -> None:
    lines = path.read_text().splitlines()
    index = next(i for i, text in enumerate(lines) if text.startswith(header))
    path.write_text("\n".join([*lines[:index + 1], line, *lines[index + 1:]]) + "\n")


@pytest.mark.parametrize(("part", "header", "line", "field"), [
    ("countries/turkmenistan.toml", "[grid]", "intra_month_demand_swing = 5", "grid.intra_month_demand_swing"),
    ("policies/turkmenistan_2026_law.toml", "[policy]", "ration_cut_share = -1", "policy.ration_cut_share"),
    ("baseline.toml", "[grid]", "base_demnd_mw = 1", "grid.base_demnd_mw"),
    ("behaviour.toml", "[adoption]", "imitation_qq = 0.1", "adoption.imitation_qq"),
])
def test_a_mistake_in_a_composed_file_is_reported_against_that_file(tmp_path, part, header, line, field):
    configs = preset_copy(tmp_path)
    insert_after(configs / part, header, line)
    with pytest.raises(ConfigError) as caught:
        load_scenario(configs / "turkmenistan_2026.toml")
    assert Path(caught.value.file) == configs / part and caught.value.field == field


def test_a_mistake_in_an_extends_parent_is_reported_against_the_parent(tmp_path):
    (tmp_path / "parent.toml").write_text(f'extends = "{BASELINE}"\nname = "parent"\n[mining]\nfarm_size_mw = "big"\n')
    (tmp_path / "child.toml").write_text('extends = "parent.toml"\nname = "child"\n')
    with pytest.raises(ConfigError) as caught:
        load_scenario(tmp_path / "child.toml")
    assert Path(caught.value.file) == tmp_path / "parent.toml" and caught.value.field == "mining.farm_size_mw"


def test_an_experiment_override_typo_is_blamed_on_the_experiment(tmp_path, capsys):
    configs = preset_copy(tmp_path)
    (tmp_path / "experiments").mkdir()
    path = tmp_path / "experiments" / "e.toml"
    path.write_text('name = "e"\nquestion = "q?"\nreference = "a"\nreplications = 1\nhorizon_months = 24\n'
                    'base_seed = 1\n[[arms]]\nname = "a"\nconfig = "turkmenistan_2026.toml"\n'
                    'overrides = { "policy.licence_cap" = 3 }\n')
    assert configs.is_dir()
    assert main(["batch", str(path), "--out", str(tmp_path / "o"), "--workers", "1", "--no-progress"]) == 2
    line = one_line_error(capsys)
    assert f"{path}: arms.0.overrides.policy.licence_cap: unknown key 'licence_cap'" in line


def test_a_horizon_before_a_packages_event_names_the_package_and_the_arm(tmp_path, capsys):
    preset_copy(tmp_path)
    (tmp_path / "experiments").mkdir()
    path = tmp_path / "experiments" / "e.toml"
    path.write_text('name = "e"\nquestion = "q?"\nreference = "a"\nreplications = 1\nhorizon_months = 3\n'
                    'base_seed = 1\n[[arms]]\nname = "a"\ncountry = "kazakhstan_2021"\n'
                    'policy_package = "kazakhstan_2025_regime"\n')
    assert main(["batch", str(path), "--out", str(tmp_path / "o"), "--workers", "1", "--no-progress"]) == 2
    line = one_line_error(capsys)
    assert "is after the last month of the run (3)" in line and "configs/" in line and ".toml: events." in line
    assert f"set in {path}: horizon_months" in line and "arm 'a'" in line


def test_run_months_warns_of_the_events_it_leaves_out(tmp_path, capsys):
    assert main(["run", str(CONFIGS / "kazakhstan_2021.toml"), "--months", "3", "--out", str(tmp_path / "o"),
                 "-q"]) == 0
    err = capsys.readouterr().err
    assert "--months 3 ends the run before" in err and "will not happen" in err


# -- item 13: the app on a runs table without columns ---------------------------------------------
@pytest.mark.parametrize("columns", [{}, {"run_id": ["a"]}, {"run_id": ["a"], "arm": ["x"], "seed": [1]}])
def test_the_app_refuses_at_start_a_runs_table_without_the_columns_it_reads(tmp_path, columns):
    import pyarrow as pa
    import pyarrow.parquet as pq

    from cryptoabm.viz.batch_view import check_results_folder, open_results

    path = make_experiment(tmp_path / "exp")
    out = tmp_path / "out"
    assert main(["batch", str(path), "--out", str(out), "--workers", "1", "--no-progress"]) == 0
    pq.write_table(pa.table(columns), out / "runs.parquet")
    open_results.cache_clear()
    problem = check_results_folder(out)
    assert problem is not None and "\n" not in problem
    assert "lacks the column" in problem or "holds no finished runs" in problem


# -- item 16: a threshold that overflows, and a large design's silence -----------------------------
def test_a_threshold_overflowing_to_infinity_is_refused():
    from cryptoabm.batch.robustness import parse_threshold
    from cryptoabm.batch.sensitivity import AnalysisError

    with pytest.raises(AnalysisError, match="overflows to infinity"):
        parse_threshold("total_capital_flight_usd>" + "9" * 400)
    with pytest.raises(AnalysisError, match="overflows to infinity"):
        parse_threshold("total_capital_flight_usd>" + "9" * 305 + "bn")


def test_a_large_lhs_design_shows_its_progress_while_it_is_checked(tmp_path, capsys):
    from cryptoabm.batch.experiment import PROGRESS_FROM_POINTS, load_experiment

    path = make_experiment(tmp_path / "exp", extra=f'[design]\nkind = "lhs"\nsamples = {PROGRESS_FROM_POINTS}\n'
                                                   f'[design.ranges]\n"policy.license_fee_usd" = [0.0, 1e6]\n')
    load_experiment(path)
    assert "checking arm 'voluntary' at each design point" in capsys.readouterr().err


# -- item 9: a target no run can measure -----------------------------------------------------------
def test_calibrate_refuses_a_target_whose_metric_is_nan_in_every_run(tmp_path):
    from cryptoabm.calibration.calibrate import UnmeasurableTarget, calibrate
    from cryptoabm.calibration.simulate import Simulated, points_of
    from cryptoabm.calibration.targets import Target

    target = Target(id="never", preset="baseline", metric="paid_last_12_months_share", window=["2026-01", "2026-02"],
                    observed=0.2, tolerance=0.05, source="facts.md, a test row")

    def simulate(design, replications, stage):
        points = points_of(design, 1)
        rows = [(p, r, "never", float("nan")) for p in range(len(points)) for r in range(replications)]
        return Simulated(points, pd.DataFrame(rows, columns=["point", "replicate", "target", "value"]))

    with pytest.raises(UnmeasurableTarget, match="'never' cannot be measured"):
        calibrate([target], {"adoption.imitation_q": (0.05, 0.3)}, simulate, budget=4, replications=1)
