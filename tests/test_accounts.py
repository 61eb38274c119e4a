"""The national accounts (accounts.py): identities that hold every month, read from the books.

The balance of payments is built from the ledger's cross-border flows; the financial account
is measured from the net money that crossed the border, independently of how each flow is
classified, so errors and omissions are zero only if every cross-border flow is classified once.
The fiscal net must equal the change in the state's and its utility's cash less the energy at
its shadow value; the national gain must be the mining sector's net receipts from abroad, fines
from foreign owners and the energy, part by part.
"""

from __future__ import annotations

import numpy as np
import pytest

from cryptoabm.accounts import (
    balance_of_payments,
    fiscal_account,
    mining_cross_border_usd,
    national_gain_from_mining,
    unclassified_cross_border_kinds,
)
from cryptoabm.ledger import (
    BITCOIN_NETWORK,
    FOREIGN_OWNED_MINING_SECTOR,
    GRID_OPERATOR,
    MINING_SECTOR,
    NON_RESIDENT,
    REST_OF_WORLD,
    STATE,
    Ledger,
)
from cryptoabm.model import CryptoEconomy
from tests.conftest import scenario

# a month with every kind of flow: flight by both routes, remittances by both channels, FDI,
# grey farms caught and fined, a bonus, rigs bought and sold
BUSY = {"adoption.innovation_p": 0.02, "adoption.imitation_q": 0.4, "population.internet_access_share": 1.0,
        "market.price_volatility_annual": 0.0, "market.btc_price_usd": 120_000.0, "policy.miner_tariff_usd_per_kwh": 0.03,
        "economy.parallel_rate_lcu_per_usd": 4.0, "policy.capital_controls": 0.7, "remittances.inflow_usd_per_year": 5e8,
        "policy.license_cap": 2, "mining.initial_farms": 10, "mining.grey_power_price_usd_per_kwh": 0.005,
        "state_capacity.grey_mining_detection_probability": 0.03, "policy.wallet_bonus_usd": 30.0,
        "policy.bonus_budget_usd": 3_000.0, "policy.grey_fine_usd_per_mw": 50_000.0, "months": 36}


def months_of(model: CryptoEconomy):
    """Step the model month by month, yielding (model, state and utility cash at the month's start)."""
    for _ in range(model.config.months):
        cash_before = model.ledger.balance(STATE) + model.ledger.balance(GRID_OPERATOR)
        model.step()
        yield model, cash_before


@pytest.fixture(scope="module")
def busy_months():
    model = CryptoEconomy(scenario(**BUSY), seed=4)
    records = []
    for model, cash_before in months_of(model):
        ledger = model.ledger
        shadow = model.grid.energy_shadow_cost_usd()
        records.append({
            "bop": balance_of_payments(ledger, shadow),
            "fiscal": fiscal_account(ledger, shadow),
            "gain": national_gain_from_mining(ledger, shadow),
            "mining_cross_border": mining_cross_border_usd(ledger),
            "unclassified": unclassified_cross_border_kinds(ledger),
            "state_cash_change": ledger.balance(STATE) + ledger.balance(GRID_OPERATOR) - cash_before,
            "budget_allocation": ledger.flow("bonus_budget_allocation"),
            "flows": dict(ledger.month_flows),
        })
    return model, records


def test_every_kind_of_cross_border_flow_happens_in_the_busy_economy(busy_months):
    model, records = busy_months
    totals = model.ledger.total_flows
    for kind in ("capital_flight", "official_outflow", "crypto_remittances", "traditional_remittances", "fdi",
                 "rig_imports", "seizure", "profit_repatriation", "grey_mining_fine", "bonus", "enforcement_costs"):
        assert totals.get(kind, 0.0) > 0, kind


def test_the_balance_of_payments_sums_to_zero_every_month(busy_months):
    _, records = busy_months
    for month, record in enumerate(records, start=1):
        bop = record["bop"]
        scale = max(1.0, sum(record["flows"].values()))
        assert record["unclassified"] == [], month
        assert abs(bop.errors_and_omissions_usd) <= 1e-9 * scale, month
        assert bop.financial_account_usd == pytest.approx(bop.current_account_usd, rel=1e-9, abs=1e-6 * scale)


def test_the_current_account_counts_coins_mined_rigs_remittances_in_total_and_forgone_energy(busy_months):
    _, records = busy_months
    for record in records:
        bop, flows = record["bop"], record["flows"]
        goods = (flows.get("mining_revenue", 0.0) + flows.get("rig_exports", 0.0) - flows.get("rig_imports", 0.0)
                 - bop.energy_exports_forgone_usd)
        assert bop.goods_usd == pytest.approx(goods, abs=1e-6)
        # a remittance switching to crypto is not a new inflow: secondary income is all remittances
        remittances = flows.get("crypto_remittances", 0.0) + flows.get("traditional_remittances", 0.0)
        assert bop.secondary_income_usd >= remittances - 1e-6
        assert bop.primary_income_usd == pytest.approx(-flows.get("profit_repatriation", 0.0), abs=1e-6)
        # every FDI, divestment and outflow of savings crosses the border (investors are foreigners)
        fdi_net = flows.get("fdi", 0.0) + flows.get("zone_fdi", 0.0) - flows.get("divestment", 0.0)
        assert bop.fdi_net_liabilities_usd == pytest.approx(fdi_net, abs=1e-6)
        flight = flows.get("capital_flight", 0.0) + flows.get("official_outflow", 0.0)
        assert bop.household_foreign_assets_usd == pytest.approx(flight, abs=1e-6)


def test_the_fiscal_net_equals_its_parts_and_the_state_and_utility_cash(busy_months):
    _, records = busy_months
    for record in records:
        fiscal = record["fiscal"]
        parts = (fiscal.state_revenue_usd + fiscal.zone_venture_tax_usd + fiscal.utility_tariff_receipts_usd
                 - fiscal.energy_shadow_cost_usd - fiscal.bonus_outlay_usd - fiscal.enforcement_cost_usd)
        assert fiscal.fiscal_net_usd == pytest.approx(parts, abs=1e-6)
        # the same figure from the books: what the state and its utility gained in cash, less new
        # budget allocated to them, less the energy at its shadow value
        from_books = record["state_cash_change"] - record["budget_allocation"] - fiscal.energy_shadow_cost_usd
        assert fiscal.fiscal_net_usd == pytest.approx(from_books, rel=1e-9, abs=1e-3)


def test_the_national_gain_decomposes_exactly_into_the_mining_sectors_dealings_with_abroad(busy_months):
    _, records = busy_months
    for record in records:
        gain = record["gain"]
        assert gain.total_usd == pytest.approx(gain.coins_usd + gain.rigs_usd + gain.foreign_owners_usd
                                               - gain.foreign_owned_cash_change_usd + gain.fines_from_abroad_usd
                                               - gain.energy_shadow_cost_usd, abs=1e-6)
        # every kind of the farms' cross-border flows is one of the named parts
        named = gain.coins_usd + gain.rigs_usd + gain.foreign_owners_usd
        assert named == pytest.approx(record["mining_cross_border"], rel=1e-9, abs=1e-6)


def test_the_monthly_table_reports_the_accounts():
    model = CryptoEconomy(scenario(**BUSY), seed=4)
    table = model.run()
    assert np.allclose(table["current_account_usd"],
                       table["goods_balance_usd"] + table["primary_income_usd"] + table["secondary_income_usd"])
    assert table["bop_errors_omissions_usd"].abs().max() <= 1e-6 * table["mining_revenue_usd"].abs().sum()
    assert np.allclose(table["fdi_gross_usd"], table["fdi_inflow_usd"])
    assert np.allclose(table["fdi_net_usd"], table["fdi_gross_usd"] - table["divestment_usd"])


def test_an_unclassified_cross_border_flow_shows_up_as_errors_and_omissions():
    ledger = Ledger()
    ledger.open_account("miner:1", sector=MINING_SECTOR)
    ledger.transfer("mining_revenue", BITCOIN_NETWORK, "miner:1", 100.0)
    ledger.transfer("consulting_fees", "miner:1", REST_OF_WORLD, 30.0)  # a kind no item claims
    bop = balance_of_payments(ledger, energy_shadow_cost_usd=0.0)
    assert unclassified_cross_border_kinds(ledger) == ["consulting_fees"]
    assert bop.errors_and_omissions_usd == pytest.approx(-30.0)


def test_mined_coins_held_count_in_goods_and_as_an_asset_acquired():
    ledger = Ledger()
    ledger.open_account("miner:1", sector=MINING_SECTOR)
    ledger.transfer("mining_revenue", BITCOIN_NETWORK, "miner:1", 100.0)  # mined and held
    bop = balance_of_payments(ledger, energy_shadow_cost_usd=25.0)
    assert bop.goods_usd == pytest.approx(75.0)  # coins at the world price, less the energy exports forgone
    assert bop.assets_kept_usd == pytest.approx(100.0)  # the coins held are a foreign asset
    assert bop.financial_account_usd == pytest.approx(75.0)
    assert bop.errors_and_omissions_usd == pytest.approx(0.0)


def test_the_shadow_value_of_energy_moves_the_fiscal_net_and_the_national_gain_one_for_one():
    def totals(shadow: float) -> tuple[float, float, float]:
        table = CryptoEconomy(scenario(**{**BUSY, "months": 12, "grid.energy_shadow_value_usd_per_mwh": shadow,
                                          "grid.energy_shadow_value_range_usd_per_mwh": [0.0, 100.0]}), seed=2).run()
        return (table["fiscal_net_usd"].sum(), table["national_gain_from_mining_usd"].sum(),
                table["energy_shadow_cost_usd"].sum())
    stranded, stranded_gain, stranded_cost = totals(0.0)
    parity, parity_gain, parity_cost = totals(60.0)
    assert stranded_cost == 0.0 and parity_cost > 0
    # an accounting price: nothing else changes on the same seed
    assert stranded - parity == pytest.approx(parity_cost, rel=1e-9)
    assert stranded_gain - parity_gain == pytest.approx(parity_cost, rel=1e-9)


def test_a_shadow_value_outside_its_stated_range_is_refused():
    from cryptoabm.config import ConfigError, scenario_from_dict
    with pytest.raises(ConfigError, match="energy_shadow_value"):
        scenario_from_dict({"grid": {"energy_shadow_value_usd_per_mwh": 90.0,
                                     "energy_shadow_value_range_usd_per_mwh": [0.0, 60.0]}})


def test_every_country_file_states_its_shadow_value_range():
    from tests.conftest import CONFIGS
    for path in sorted((CONFIGS / "countries").glob("*.toml")):
        text = path.read_text()
        assert "energy_shadow_value_usd_per_mwh" in text and "energy_shadow_value_range_usd_per_mwh" in text, path.name


def test_a_foreign_owned_farm_leaves_the_country_what_it_pays_residents_less_the_energy():
    ledger = Ledger()
    ledger.open_account("investor:1", 1_000.0, sector=NON_RESIDENT)
    ledger.open_account("miner:1", sector=FOREIGN_OWNED_MINING_SECTOR)
    ledger.start_month()
    ledger.transfer("fdi", "investor:1", "miner:1", 100.0)
    ledger.transfer("rig_imports", "miner:1", REST_OF_WORLD, 80.0)
    ledger.transfer("mining_revenue", BITCOIN_NETWORK, "miner:1", 50.0)
    ledger.transfer("power_sales", "miner:1", GRID_OPERATOR, 20.0)
    ledger.transfer("profit_repatriation", "miner:1", "investor:1", 10.0)
    gain = national_gain_from_mining(ledger, energy_shadow_cost_usd=12.0)
    assert gain.foreign_owned_cash_change_usd == pytest.approx(40.0)  # still the owner's
    assert gain.total_usd == pytest.approx(20.0 - 12.0)  # the tariff paid, less the energy at its shadow value
    # the same farm owned at home: the country keeps coins less rigs less energy, and the cash
    home = Ledger()
    home.open_account("miner:2", 100.0, sector=MINING_SECTOR)
    home.start_month()
    home.transfer("rig_imports", "miner:2", REST_OF_WORLD, 80.0)
    home.transfer("mining_revenue", BITCOIN_NETWORK, "miner:2", 50.0)
    home.transfer("power_sales", "miner:2", GRID_OPERATOR, 20.0)
    assert national_gain_from_mining(home, energy_shadow_cost_usd=12.0).total_usd == pytest.approx(50.0 - 80.0 - 12.0)
