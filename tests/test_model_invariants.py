"""Invariants every run must keep: balanced books, shares in [0, 1], no negative stocks,
the output contract, and determinism."""

import numpy as np
import pandas as pd
import pytest

from cryptoabm.agents import Citizen, ForeignInvestor, GridOperator, Miner, State
from cryptoabm.model import INDICATOR_NAMES, SIGNED_INDICATORS, CryptoEconomy
from tests.conftest import run, scenario

CONTRACT = [
    "month", "wallet_share", "active_share", "merchant_accept_share", "crypto_payment_share", "hashrate_ehs",
    "global_hashrate_share", "mining_load_mw", "grey_load_share", "licensed_miners", "reserve_margin",
    "curtailed_mwh", "unserved_mwh", "fdi_inflow_usd", "profit_repatriation_usd", "capital_flight_usd",
    "state_revenue_usd", "bonus_outlay_usd", "ledger_imbalance_usd",
]
SHARES = ["wallet_share", "active_share", "merchant_accept_share", "crypto_payment_share",
          "global_hashrate_share", "grey_load_share", "reserve_margin"]
BUSY = {
    "policy.wallet_bonus_usd": 30.0, "policy.bonus_budget_usd": 3_000.0, "policy.payment_regime": "legal_tender",
    "policy.license_cap": 3, "mining.initial_farms": 8, "economy.parallel_rate_lcu_per_usd": 3.0,
    "policy.capital_controls": 0.8, "policy.crypto_outflow_limit_usd_per_month": 50.0,
}


def test_output_has_one_row_per_month_with_the_contract_columns():
    _, table = run(**BUSY)
    assert list(table["month"]) == list(range(1, 25))
    assert set(CONTRACT) <= set(table.columns)
    assert list(table.columns) == list(INDICATOR_NAMES)


def test_five_kinds_of_mesa_agent_are_created_through_the_model():
    model = CryptoEconomy(scenario(**BUSY), seed=1)
    assert len(model.citizens) == 300  # citizen views are made on first use
    kinds = {kind.__name__: len(agents) for kind, agents in model.agents_by_type.items()}
    assert kinds["State"] == 1 and kinds["GridOperator"] == 1
    assert kinds["Citizen"] == 300 and kinds["ForeignInvestor"] == 5 and kinds["Miner"] == 8
    assert isinstance(model.state, State) and isinstance(model.grid, GridOperator)
    citizen = model.citizens[0]
    assert isinstance(citizen, Citizen) and citizen.wallet_state == "none"
    assert all(isinstance(i, ForeignInvestor) for i in model.investors)
    assert all(isinstance(m, Miner) for m in model.miners)


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_books_balance_every_month(seed):
    model = CryptoEconomy(scenario(**BUSY), seed=seed)
    for _ in range(24):
        model.step()
        gross = sum(model.ledger.total_flows.values())
        assert model.indicators.ledger_imbalance_usd <= 1e-9 * gross + 1e-6
        # each sector's stock equals what its agents hold
        assert model.ledger.balance("households") == pytest.approx(model.population.household_wealth_usd(), rel=1e-12)


def test_money_metrics_are_read_from_the_books():
    model, table = run(**BUSY)
    totals = model.ledger.total_flows
    assert table["fdi_inflow_usd"].sum() == pytest.approx(totals["fdi"])
    assert table["capital_flight_usd"].sum() == pytest.approx(totals["capital_flight"])
    assert table["bonus_outlay_usd"].sum() == pytest.approx(totals["bonus"])
    state_income = sum(totals.get(kind, 0.0) for kind in ("surcharge", "licence_fee", "profit_tax", "seizure"))
    assert table["state_revenue_usd"].sum() == pytest.approx(state_income)


@pytest.mark.parametrize("seed", [1, 2])
def test_shares_stay_within_zero_and_one(seed):
    _, table = run(seed=seed, **BUSY)
    for column in SHARES:
        assert table[column].between(0.0, 1.0).all(), column
    assert (table["active_share"] <= table["wallet_share"] + 1e-12).all()


def test_no_stock_goes_negative():
    model = CryptoEconomy(scenario(**BUSY), seed=4)
    for _ in range(24):
        model.step()
        population = model.population
        assert (population.savings_usd >= 0).all() and (population.bonus_left_usd >= 0).all()
        assert all(miner.cash_usd >= 0 and miner.hashrate_ths > 0 for miner in model.miners)
        assert all(investor.capital_usd >= 0 for investor in model.investors)
        assert model.ledger.balance("state") >= 0
        assert model.state.bonus_campaign.budget_left_usd >= 0


def test_flows_and_physical_quantities_are_never_negative():
    _, table = run(**BUSY)
    numeric = table.select_dtypes("number").drop(columns=["mining_cap_mw", "receipts_converted_share",
                                                          "licensed_power_use_share", *SIGNED_INDICATORS,
                                                          "downloaders_active_year_on_share"])
    assert (numeric >= 0).all().all()
    # shares that are NaN when nobody is there to measure (no accepting merchant, no licensed farm,
    # nobody a year past their download)
    for share in ("receipts_converted_share", "licensed_power_use_share", "downloaders_active_year_on_share"):
        measured = table[share].dropna()
        assert measured.between(0, 1).all()


def test_same_seed_gives_identical_results():
    _, first = run(seed=11, **BUSY)
    _, second = run(seed=11, **BUSY)
    pd.testing.assert_frame_equal(first, second)


def test_different_seeds_differ():
    _, first = run(seed=11, **BUSY)
    _, second = run(seed=12, **BUSY)
    assert not first["btc_price_usd"].equals(second["btc_price_usd"])
    assert not first["wallet_share"].equals(second["wallet_share"])


def test_policy_does_not_shift_the_price_path_or_the_population():
    # Common random numbers: the market and the population draw from their own streams.
    ban, _ = run(seed=5, **{"policy.payment_regime": "ban"})
    bonus, _ = run(seed=5, **{"policy.wallet_bonus_usd": 30.0, "policy.bonus_budget_usd": 1e6, "policy.license_cap": 0})
    np.testing.assert_array_equal(ban.market.price_path_usd, bonus.market.price_path_usd)
    np.testing.assert_array_equal(ban.population.income_usd_per_month, bonus.population.income_usd_per_month)
    assert (ban.population.adjacency != bonus.population.adjacency).nnz == 0
