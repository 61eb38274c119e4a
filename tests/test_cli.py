"""The command line: a run writes its results, reproducibly; help is complete."""

import json
import subprocess
import sys
import tomllib

import pandas as pd
import pytest

from cryptoabm.cli import main
from tests.conftest import CONFIGS

OUTPUTS = ["monthly.csv", "monthly.parquet", "config.toml", "run.json", "dashboard.png"]


@pytest.fixture
def tiny_config(tmp_path):
    path = tmp_path / "tiny.toml"
    path.write_text(f'extends = "{CONFIGS / "baseline.toml"}"\nname = "tiny"\nmonths = 12\n[population]\ncitizens = 200\n')
    return path


def test_run_writes_every_output_and_prints_a_summary(tiny_config, tmp_path, capsys):
    out = tmp_path / "out"
    assert main(["run", str(tiny_config), "--seed", "3", "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "tiny: 12 months" in printed and "Citizens holding a wallet" in printed and "seed 3" in printed
    assert sorted(p.name for p in out.iterdir()) == sorted(OUTPUTS)
    csv = pd.read_csv(out / "monthly.csv")
    parquet = pd.read_parquet(out / "monthly.parquet")
    assert len(csv) == 12 and list(csv.columns) == list(parquet.columns)
    assert json.loads((out / "run.json").read_text())["seed"] == 3
    assert tomllib.loads((out / "config.toml").read_text())["seed"] == 3


def test_resolved_config_reruns_to_the_same_table(tiny_config, tmp_path):
    main(["run", str(tiny_config), "--seed", "5", "--out", str(tmp_path / "a"), "-q"])
    main(["run", str(tmp_path / "a" / "config.toml"), "--out", str(tmp_path / "b"), "-q"])
    assert (tmp_path / "a" / "monthly.csv").read_bytes() == (tmp_path / "b" / "monthly.csv").read_bytes()


def test_same_config_and_seed_give_identical_files_and_other_seeds_differ(tiny_config, tmp_path):
    for name, seed in (("a", "7"), ("b", "7"), ("c", "8")):
        main(["run", str(tiny_config), "--seed", seed, "--out", str(tmp_path / name), "-q"])
    for output in OUTPUTS:
        assert (tmp_path / "a" / output).read_bytes() == (tmp_path / "b" / output).read_bytes(), output
    assert (tmp_path / "a" / "monthly.csv").read_bytes() != (tmp_path / "c" / "monthly.csv").read_bytes()


def test_months_option_shortens_the_run(tiny_config, tmp_path):
    main(["run", str(tiny_config), "--months", "4", "--out", str(tmp_path / "short"), "-q"])
    assert len(pd.read_csv(tmp_path / "short" / "monthly.csv")) == 4


def test_check_validates_without_running(tiny_config, tmp_path, capsys):
    assert main(["check", str(tiny_config)]) == 0
    assert "ok: scenario 'tiny', 12 months" in capsys.readouterr().out
    assert not (tmp_path / "results").exists()


@pytest.mark.parametrize("argv", [["--help"], ["run", "--help"], ["check", "--help"]])
def test_help_describes_every_command_and_option(argv):
    done = subprocess.run([sys.executable, "-m", "cryptoabm", *argv], capture_output=True, text=True)
    assert done.returncode == 0
    text = done.stdout
    if argv == ["--help"]:
        assert "run" in text and "check" in text and "example" in text
    if argv[0] == "run":
        for option in ("--seed", "--months", "--out", "monthly.csv", "dashboard.png"):
            assert option in text


def test_bad_option_values_are_one_line_errors():
    done = subprocess.run([sys.executable, "-m", "cryptoabm", "run", "x.toml", "--months", "0"],
                          capture_output=True, text=True)
    assert done.returncode == 2 and "--months: must be at least 1" in done.stderr and "Traceback" not in done.stderr


def test_no_help_text_prints_a_doubled_percent_sign(capsys):
    from cryptoabm.cli import build_parser

    parser = build_parser()
    commands = [None, *parser._subparsers._group_actions[0].choices]  # every subcommand's --help
    for command in commands:
        with pytest.raises(SystemExit):
            main([command, "--help"] if command else ["--help"])
        printed = capsys.readouterr().out
        assert "%%" not in printed and "usage:" in printed, command


# -- a run's critical path: the summary first, the dashboard optional, no teardown -------------
def test_no_dashboard_writes_no_dashboard_and_run_json_lists_the_files_written(tiny_config, tmp_path, capsys):
    out = tmp_path / "out"
    assert main(["run", str(tiny_config), "--out", str(out), "-q"]) == 0
    assert json.loads((out / "run.json").read_text())["files"] == OUTPUTS
    # over an earlier run with its dashboard: the folder is replaced whole, no stale dashboard stays
    assert main(["run", str(tiny_config), "--out", str(out), "--overwrite", "--no-dashboard"]) == 0
    without = [name for name in OUTPUTS if name != "dashboard.png"]
    assert sorted(p.name for p in out.iterdir()) == sorted(without)
    assert json.loads((out / "run.json").read_text())["files"] == without
    assert capsys.readouterr().out.rstrip().endswith(f"results: {out}/ ({', '.join(without)})")
    # the tables do not depend on whether the dashboard was drawn
    main(["run", str(tiny_config), "--out", str(tmp_path / "drawn"), "-q"])
    for name in without[:3]:
        assert (out / name).read_bytes() == (tmp_path / "drawn" / name).read_bytes(), name


def test_the_summary_is_printed_before_the_dashboard_is_drawn(tiny_config, tmp_path, capsys, monkeypatch):
    import cryptoabm.dashboard

    printed_before_drawing = []
    draw = cryptoabm.dashboard.save_dashboard

    def spy(*args, **kwargs):
        printed_before_drawing.append(capsys.readouterr().out)
        draw(*args, **kwargs)

    monkeypatch.setattr(cryptoabm.dashboard, "save_dashboard", spy)
    assert main(["run", str(tiny_config), "--out", str(tmp_path / "out")]) == 0
    assert "Citizens holding a wallet" in printed_before_drawing[0]
    assert "results:" not in printed_before_drawing[0]  # named once the folder is in place
    assert capsys.readouterr().out.startswith("results:")


# What `cryptoabm` (the console script, and python -m cryptoabm) runs: the command, then an exit
# without the interpreter's teardown. A finaliser at teardown prints; an exit function prints.
ENTRY_POINT = """
import atexit, sys
class AtTeardown:
    def __del__(self):
        print("interpreter teardown", flush=True)
kept = AtTeardown()
atexit.register(lambda: print("exit functions ran", flush=True))
sys.argv = ["cryptoabm", *sys.argv[1:]]
from cryptoabm.cli import entry_point
entry_point()
"""


def test_the_entry_point_exits_with_the_commands_code_and_leaves_every_file_complete(tiny_config, tmp_path):
    out = tmp_path / "out"
    done = subprocess.run([sys.executable, "-c", ENTRY_POINT, "run", str(tiny_config), "--out", str(out), "-q"],
                          capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines() == [str(out), "exit functions ran"]  # flushed; no teardown
    months = tomllib.loads((out / "config.toml").read_text())["months"]
    assert len(pd.read_csv(out / "monthly.csv")) == months
    pd.testing.assert_frame_equal(pd.read_parquet(out / "monthly.parquet"), pd.read_csv(out / "monthly.csv"),
                                  check_dtype=False)
    assert json.loads((out / "run.json").read_text())["files"] == OUTPUTS
    png = (out / "dashboard.png").read_bytes()
    assert png.startswith(b"\x89PNG") and png.endswith(b"IEND\xaeB`\x82")  # the PNG's last chunk is there

    failed = subprocess.run([sys.executable, "-c", ENTRY_POINT, "run", str(tmp_path / "missing.toml")],
                            capture_output=True, text=True)
    assert failed.returncode == 2 and failed.stderr.count("\n") == 1 and "no such config file" in failed.stderr
    assert "interpreter teardown" in failed.stdout  # a failed command exits the ordinary way
    helped = subprocess.run([sys.executable, "-m", "cryptoabm", "run", "--help"], capture_output=True, text=True)
    assert helped.returncode == 0 and "--no-dashboard" in helped.stdout


HEAVY = ("numpy", "pandas", "pyarrow", "matplotlib", "scipy", "mesa", "networkx", "dask", "distributed", "SALib",
         "ema_workbench", "sklearn", "emcee", "solara")


@pytest.mark.parametrize("argv", [["--help"], ["check", str(CONFIGS / "baseline.toml")], ["run", "missing.toml"]])
def test_help_check_and_a_bad_input_import_no_heavy_library(argv):
    """They answer in a few tenths of a second: the libraries a command needs are imported in it."""
    code = ("import atexit, sys\n"
            f"atexit.register(lambda: print(sorted(name for name in {HEAVY!r} if name in sys.modules)))\n"
            "sys.argv = ['cryptoabm', *sys.argv[1:]]\nfrom cryptoabm.cli import entry_point\nentry_point()")
    done = subprocess.run([sys.executable, "-c", code, *argv], capture_output=True, text=True)
    assert done.returncode == (2 if argv[0] == "run" else 0), done.stderr
    assert done.stdout.splitlines()[-1] == "[]"
