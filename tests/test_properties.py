"""Property-based checks: for any valid scenario the model runs, and its invariants hold."""

import math
import os

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cryptoabm.config import scenario_from_dict
from cryptoabm.model import SIGNED_INDICATORS, CryptoEconomy

# more examples for a deeper search: CRYPTOABM_PROPERTY_EXAMPLES=1000 python -m pytest tests/test_properties.py
EXAMPLES = int(os.environ.get("CRYPTOABM_PROPERTY_EXAMPLES", "40"))

regimes = st.sampled_from(["ban", "voluntary", "legal_tender", "fee_conversion"])
networks = st.sampled_from(["watts_strogatz", "barabasi_albert", "erdos_renyi", "complete"])
share = st.floats(0.0, 1.0)
months = st.integers(1, 18)


@st.composite
def scenarios(draw):
    horizon = draw(months)
    event_month = st.integers(1, horizon)
    events = draw(st.lists(st.one_of(
        st.builds(lambda m, r: {"kind": "policy", "month": m, "set": {"payment_regime": r}}, event_month, regimes),
        st.builds(lambda m, c: {"kind": "policy", "month": m, "set": {"license_cap": c}}, event_month, st.integers(0, 5)),
        st.builds(lambda m, f: {"kind": "price_shock", "month": m, "factor": f}, event_month, st.floats(0.2, 3.0)),
        st.builds(lambda m, f: {"kind": "hashrate_shock", "month": m, "factor": f}, event_month, st.floats(0.3, 2.0)),
        st.builds(lambda m, e: {"kind": "relocation_wave", "month": m, "hashrate_ehs": e}, event_month, st.floats(0.01, 5.0)),
        st.builds(lambda m, d: {"kind": "internet_shutdown", "month": m, "duration_months": d}, event_month, st.integers(1, 3)),
        st.builds(lambda m: {"kind": "legal_tender_reversal", "month": m}, event_month),
    ), max_size=4))
    raw = {
        "months": horizon,
        "seed": draw(st.integers(0, 2**32)),
        "market": {"btc_price_usd": draw(st.floats(5_000, 300_000)), "price_volatility_annual": draw(st.floats(0.0, 1.5))},
        "grid": {"available_capacity_mw": draw(st.floats(50, 20_000)), "base_demand_mw": draw(st.floats(10, 20_000))},
        "mining": {"initial_farms": draw(st.integers(0, 12)), "grey_power_price_usd_per_kwh": draw(st.floats(0.0, 0.1)),
                   "farm_size_mw": draw(st.floats(0.5, 50))},
        "investors": {"count": draw(st.integers(0, 6))},
        "population": {"citizens": draw(st.integers(10, 250)), "network": draw(networks),
                       "mean_degree": 2 * draw(st.integers(1, 4)), "internet_access_share": draw(share),
                       "merchant_share": draw(share)},
        "adoption": {"innovation_p": draw(st.floats(0.0, 0.2)), "imitation_q": draw(share),
                     "dropout_hazard": draw(share)},
        "policy": {
            "payment_regime": draw(regimes),
            "license_cap": draw(st.integers(0, 10)),
            "miner_tariff_usd_per_kwh": draw(st.floats(0.0, 0.2)),
            "surcharge_usd_per_kwh": draw(st.floats(0.0, 0.05)),
            "miner_grid_priority": draw(st.sampled_from(["equal", "last", "surplus_only"])),
            "domestic_sale_share": draw(share),
            "capital_controls": draw(share),
            "information_control": draw(share),
            "wallet_bonus_usd": draw(st.floats(0.0, 100.0)),
            "bonus_budget_usd": draw(st.floats(0.0, 20_000.0)),
            "sez_active": draw(st.booleans()),
            "sez_tax_holiday": draw(st.booleans()),
            "ration_below_reserve_margin": draw(share),
        },
        "state_capacity": {"grey_mining_detection_probability": draw(share), "crypto_flight_enforcement": draw(share)},
        "events": events,
    }
    return scenario_from_dict(raw)


@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(scenarios())
def test_any_valid_scenario_runs_and_keeps_its_invariants(scenario):
    model = CryptoEconomy(scenario, seed=scenario.seed)
    table = model.run()
    assert len(table) == scenario.months
    gross = sum(model.ledger.total_flows.values())
    assert table["ledger_imbalance_usd"].max() <= 1e-9 * gross + 1e-6
    for column in ("wallet_share", "active_share", "merchant_accept_share", "crypto_payment_share",
                   "global_hashrate_share", "grey_load_share", "reserve_margin"):
        assert table[column].between(0.0, 1.0).all(), column
    numeric = table.select_dtypes("number").drop(columns=["mining_cap_mw", "receipts_converted_share",
                                                          "licensed_power_use_share", *SIGNED_INDICATORS,
                                                          "downloaders_active_year_on_share"])
    assert (numeric >= 0).all().all()
    assert table["licensed_power_use_share"].dropna().between(0.0, 1.0).all()  # NaN: no licensed farm
    # NaN until someone downloaded a year ago
    assert table["downloaders_active_year_on_share"].dropna().between(0.0, 1.0).all()
    assert table["foreign_asset_share"].between(0.0, 1.0).all()
    assert all(math.isfinite(v) for v in numeric.to_numpy().ravel())
    assert (model.population.savings_usd >= 0).all()
    assert all(miner.cash_usd >= 0 for miner in model.miners)
    # the state never pays out more than it has, except its enforcement effort, which it funds by
    # borrowing (a fiscal deficit the fiscal net shows): its balance is at least minus that cost
    enforcement = float(table["enforcement_cost_usd"].sum())
    assert model.ledger.balance("state") >= -enforcement * (1 + 1e-9) - 1e-6
