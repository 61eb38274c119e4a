"""``benchmarks/stages.py`` splits a run's time by stage of the month (benchmarks/ENSEMBLES.md
quotes it). Timing must not change the run, the agents' classes must be left as they were, every
farm stage must be timed and the stages must fit inside the month; a wrong preset or seed count is
refused in one line."""

from __future__ import annotations

import importlib.util
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd

from cryptoabm.agents.investor import ForeignInvestor
from cryptoabm.agents.miner import Miner
from cryptoabm.model import CryptoEconomy
from tests.conftest import scenario

ROOT = Path(__file__).resolve().parents[1]
_spec = importlib.util.spec_from_file_location("stages", ROOT / "benchmarks" / "stages.py")
stages = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(stages)


def test_a_timed_run_equals_an_untimed_one_and_every_farm_stage_is_timed():
    config = scenario(months=12)
    wrapped = {(Miner, "plan_operation"), (ForeignInvestor, "review_special_zone"), (ForeignInvestor, "collect_returns")}
    originals = {(cls, name): cls.__dict__[name] for cls, name in wrapped}
    model = CryptoEconomy(config, seed=4)
    with stages.stage_clock(model) as clock:
        assert all(cls.__dict__[name] is not originals[cls, name] for cls, name in wrapped)  # timed while inside
        started = time.process_time()
        timed = model.run()
        months = time.process_time() - started
    pd.testing.assert_frame_equal(timed, CryptoEconomy(config, seed=4).run(), check_exact=True)
    assert all(cls.__dict__[name] is originals[cls, name] for cls, name in wrapped)  # restored afterwards
    assert clock.depth == 0
    assert all(clock.seconds[stage] > 0 for stage in stages.FARM_STAGES)
    assert clock.seconds["citizens and bonus"] > 0 and sum(clock.seconds.values()) <= months


def test_nested_calls_count_towards_the_outer_stage_only():
    clock = stages.StageClock()
    inner = clock.timed("recording", lambda: sum(range(10_000)))
    outer = clock.timed("settlement", lambda: [inner() for _ in range(50)])
    outer()
    assert clock.seconds["settlement"] > 0 and clock.seconds["recording"] == 0.0


def test_a_wrong_preset_or_seed_count_is_refused_in_one_line():
    for arguments, named in ((["atlantis"], "atlantis"), (["baseline", "--seeds", "0"], "--seeds")):
        done = subprocess.run([sys.executable, str(ROOT / "benchmarks" / "stages.py"), *arguments],
                              capture_output=True, text=True)
        assert done.returncode == 2 and done.stdout == ""
        assert len(done.stderr.strip().splitlines()) == 1 and named in done.stderr
