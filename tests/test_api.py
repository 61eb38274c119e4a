"""The Python API: a country under a policy package by keyword, seeds as Mesa gives them,
the headline outcomes, and errors that cross process boundaries."""

from __future__ import annotations

import pickle
import subprocess
import sys
import textwrap
from pathlib import Path

import mesa
import pandas as pd
import pytest

import cryptoabm
from cryptoabm.config import ConfigError, load_composition
from cryptoabm.model import CryptoEconomy
from cryptoabm.summary import OUTCOMES, summarise

CONFIGS = Path(__file__).resolve().parents[1] / "configs"
SMALL = {"citizens": 200, "months": 6}


def test_a_country_under_a_policy_package_by_keyword_is_that_composition():
    model = CryptoEconomy(country="turkmenistan", policy="full_ban", seed=4, **SMALL)
    composed = load_composition(CONFIGS, "turkmenistan", "full_ban",
                                {"population.citizens": 200, "months": 6})
    assert model.config.policy == composed.policy and model.config.economy == composed.economy
    assert model.config.population.citizens == 200 and model.seed == 4
    # the ban's own lever is there: no licence can be had under it
    assert model.config.policy.license_cap == composed.policy.license_cap


def test_keyword_levers_apply_on_top_of_the_package():
    model = CryptoEconomy(country="turkmenistan", policy="turkmenistan_2026_law", license_cap=7, seed=1, **SMALL)
    assert model.config.policy.license_cap == 7


@pytest.mark.parametrize(("kwargs", "match"), [
    ({"country": "turkmenistan"}, "give both country= and policy="),
    ({"country": "turkmenistan", "policy": "fullban"}, "did you mean 'full_ban'"),
    ({"country": "atlantis", "policy": "full_ban"}, "no country named 'atlantis'"),
    ({"preset": "turkmenistan_2026", "country": "turkmenistan", "policy": "full_ban"}, "not a preset and a country"),
])
def test_an_incomplete_or_unknown_composition_is_one_config_error(kwargs, match):
    with pytest.raises(ConfigError, match=match):
        CryptoEconomy(seed=1, **kwargs)


def test_seed_none_draws_a_fresh_seed_and_records_it():
    a = CryptoEconomy(country="turkmenistan", policy="turkmenistan_2026_law", **SMALL)
    b = CryptoEconomy(country="turkmenistan", policy="turkmenistan_2026_law", **SMALL)
    assert a.seed != b.seed  # 63 bits from the operating system: equal by chance once in 9e18
    assert a.config.seed == a.seed and 0 <= a.seed < 2**63
    table_a = a.run()
    assert not table_a["btc_price_usd"].equals(b.run()["btc_price_usd"])  # different price paths
    again = CryptoEconomy(country="turkmenistan", policy="turkmenistan_2026_law", seed=a.seed, **SMALL).run()
    assert again.equals(table_a)  # the recorded seed repeats the run


def test_mesa_iterations_give_different_runs():
    rows = mesa.batch_run(CryptoEconomy, {"preset": "turkmenistan_2026", "citizens": 200}, rng=[None] * 3,
                          max_steps=3, display_progress=False)
    assert len({row["btc_price_usd"] for row in rows}) == 3


def test_outcomes_of_a_model_and_of_its_table_agree():
    model = CryptoEconomy(country="turkmenistan", policy="full_ban", seed=2, **SMALL)
    with pytest.raises(ValueError, match="no month has been run"):
        cryptoabm.outcomes(model)
    table = model.run()
    from_model = cryptoabm.outcomes(model)
    assert set(from_model) == set(OUTCOMES)
    assert from_model == summarise(table) == cryptoabm.outcomes(table)
    assert from_model["total_capital_flight_usd"] == pytest.approx(table["capital_flight_usd"].sum())
    assert from_model["final_wallet_share"] == table["wallet_share"].iloc[-1]


def test_a_config_error_survives_pickling():
    error = ConfigError("x.toml", "policy.license_cap", "must be >= 0")
    again = pickle.loads(pickle.dumps(error))
    assert type(again) is ConfigError and str(again) == str(error)
    assert (again.file, again.field, again.message) == (error.file, error.field, error.message)


def test_mesa_batch_run_on_two_processes_raises_on_an_invalid_lever(tmp_path):
    # in a child process with a time limit: before errors pickled, this hung for ever
    script = textwrap.dedent("""
        import mesa
        from cryptoabm import ConfigError, CryptoEconomy
        try:
            mesa.batch_run(CryptoEconomy, {"preset": "turkmenistan_2026", "citizens": 200,
                                           "license_cap": [5, -5]}, rng=[1], max_steps=2,
                           number_processes=2, display_progress=False)
        except ConfigError as exc:
            print("raised:", exc)
    """)
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert "raised:" in done.stdout and "policy.license_cap" in done.stdout


def test_the_datacollector_holds_the_months_the_table_holds():
    """Mesa's tools read a run through ``model.datacollector``; it must agree with ``results()``
    row for row, though the monthly loop keeps plain rows."""
    model = CryptoEconomy(preset="turkmenistan_2026", citizens=200, seed=4)
    for _ in range(5):
        model.step()
    collected = model.datacollector.get_model_vars_dataframe()
    pd.testing.assert_frame_equal(collected.reset_index(drop=True), model.results(), check_exact=True)
    assert model.datacollector._collection_steps == [1.0, 2.0, 3.0, 4.0, 5.0]  # Mesa's time of each row
    from mesa.datacollection import DataCollector

    own = DataCollector(model_reporters={"price": [model.indicator, ["btc_price_usd"]]})
    model.datacollector = own  # a user's own collector is kept
    own.collect(model)
    assert model.datacollector is own and own.model_vars["price"] == [model.results()["btc_price_usd"].iloc[-1]]
