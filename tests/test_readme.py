"""Every shell, Python and SQL block of the READMEs runs, as a reader would run it, in a
scratch copy of the repository (so nothing here is changed): the README cannot drift from the
code. Long blocks are shortened as their marker says; ``CRYPTOABM_README_FULL=1`` runs them as
written (see tests/readme_blocks.py for the markers)."""

from __future__ import annotations

import os
import re
import shlex
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.readme_blocks import FULL_ENV, QUICK_EXPERIMENT_EDITS, Block, blocks, runnable

ROOT = Path(__file__).resolve().parents[1]
READMES = ("README.md", "experiments/README.md")
FULL = os.environ.get(FULL_ENV) == "1"
BLOCKS = [block for name in READMES for block in runnable(blocks(ROOT / name, ROOT))]
BLOCK_TIMEOUT = 3600 if FULL else 300  # seconds
TIMING = re.compile(r"ran in [\d.]+ s")
VENV_BIN = Path(sys.executable).parent


def tracked_files() -> list[str]:
    done = subprocess.run(["git", "ls-files"], cwd=ROOT, capture_output=True, text=True, check=True)
    return [line for line in done.stdout.splitlines() if line]


@pytest.fixture(scope="module")
def scratch(tmp_path_factory) -> Path:
    """A copy of the repository's tracked files, with the test's own environment as .venv."""
    folder = tmp_path_factory.mktemp("readme") / "repo"
    for name in tracked_files():
        source = ROOT / name
        if source.is_file():
            target = folder / name
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target)
    (folder / ".venv").symlink_to(Path(sys.prefix))
    if not FULL:
        for path in (folder / "experiments").glob("*.toml"):
            text = path.read_text()
            for pattern, replacement in QUICK_EXPERIMENT_EDITS:
                text = pattern.sub(replacement, text)
            path.write_text(text)
    return folder


def environment(scratch: Path) -> dict[str, str]:
    return {**os.environ, "PATH": f"{VENV_BIN}{os.pathsep}{os.environ['PATH']}", "MPLBACKEND": "Agg",
            "CRYPTOABM_CONFIGS": str(scratch / "configs"), "PYTHONDONTWRITEBYTECODE": "1"}


def test_the_readmes_have_blocks_to_run_and_markers_that_parse():
    assert len(BLOCKS) >= 15
    known = {"quick", "setup", "continues", "expect-output", "serves", "syntax-only", "quickstart"}
    for block in BLOCKS:
        assert set(block.marker) <= known, f"{block.id}: unknown marker key in {block.marker}"
        if "expect-output" in block.marker:
            assert block.output, f"{block.id}: expect-output with no output block after it"
    assert sum("quickstart" in block.marker for block in BLOCKS) == 1


@pytest.mark.parametrize("block", BLOCKS, ids=[block.id for block in BLOCKS])
def test_readme_block_runs(block: Block, scratch: Path):
    if "quickstart" in block.marker:
        check_quickstart_is_run_by_ci(block)
        return
    if "continues" not in block.marker:
        shutil.rmtree(scratch / "results", ignore_errors=True)
    text = block.runnable_text(FULL)
    env = environment(scratch)
    if "syntax-only" in block.marker:
        check_syntax(text, scratch, env)
        return
    if "serves" in block.marker:
        check_serves(text, block.marker["serves"], scratch, env)
        return
    if block.language == "bash":
        done = subprocess.run(["bash", "-euo", "pipefail", "-c", text], cwd=scratch, env=env, capture_output=True,
                              text=True, timeout=BLOCK_TIMEOUT)
    elif block.language == "python":
        done = subprocess.run([sys.executable, "-c", text], cwd=scratch, env=env, capture_output=True, text=True,
                              timeout=BLOCK_TIMEOUT)
    else:  # sql: as duckdb runs it
        script = f"import duckdb, sys\nprint(duckdb.sql(sys.stdin.read()).fetchall())"
        done = subprocess.run([sys.executable, "-c", script], input=text, cwd=scratch, env=env,
                              capture_output=True, text=True, timeout=BLOCK_TIMEOUT)
    assert done.returncode == 0, f"{block.id} failed:\n{text}\n--- stderr:\n{done.stderr[-3000:]}"
    if block.output is not None:
        assert TIMING.sub("ran in _ s", done.stdout).rstrip("\n").splitlines() == \
            TIMING.sub("ran in _ s", block.output).rstrip("\n").splitlines(), f"{block.id}: the output quoted differs"


def check_quickstart_is_run_by_ci(block: Block) -> None:
    ci = (ROOT / ".ci" / "run").read_text()
    assert "readme-test: quickstart" in ci, ".ci/run must run the Quickstart block of README.md"
    commands = [line for line in block.text.splitlines() if line and not line.startswith("#")]
    assert len(commands) == 2 and all(line.startswith("python3.12 -m venv .venv") for line in commands)
    assert (ROOT / ".python-version").read_text().strip().startswith("3.12")  # pyenv's python3.12 shim resolves


def check_syntax(text: str, scratch: Path, env: dict[str, str]) -> None:
    done = subprocess.run(["bash", "-n", "-c", text], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    from cryptoabm.cli import build_parser

    joined = text.replace("\\\n", " ")
    for line in joined.splitlines():
        words = shlex.split(line, comments=True)
        if words and words[0] == "cryptoabm":
            try:
                build_parser().parse_args(words[1:])
            except SystemExit as exc:  # argparse's way of refusing
                raise AssertionError(f"not a valid cryptoabm command line: {line}") from exc


def check_serves(text: str, expected: str, scratch: Path, env: dict[str, str]) -> None:
    process = subprocess.Popen(["bash", "-c", text], cwd=scratch, env=env, stdout=subprocess.PIPE,
                               stderr=subprocess.STDOUT, text=True, start_new_session=True)
    seen = []
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            line = process.stdout.readline()
            if not line and process.poll() is not None:
                break
            seen.append(line)
            if expected in line:
                return
        raise AssertionError(f"never printed {expected!r}:\n{''.join(seen)[-2000:]}")
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


