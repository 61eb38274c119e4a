"""Issue 23, item 12: every accepted config runs, and every ledger entry stays finite.

The bounds of the config (``cryptoabm.config.values``: MAX_QUANTITY, MAX_USD, ...) are derived
so that no product of configured quantities overflows; here hypothesis draws combinations of
fields set to their extreme valid values (the bounds themselves, or the smallest positive
value), runs the model, and checks the ledger. Agent counts are left at small values: they
scale the sums linearly (counted in the derivation) and only make a run slow.
"""

from __future__ import annotations

import itertools
import math
import typing

import annotated_types
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cryptoabm.config import ConfigError, MarketConfig, Scenario, load_scenario, scenario_from_dict
from cryptoabm.market import market_path
from cryptoabm.model import CryptoEconomy
from tests.conftest import CONFIGS

AGENT_COUNTS = {"population.citizens", "population.mean_degree", "mining.initial_farms", "investors.count",
                "world_mining.efficiency_classes", "world_mining.power_price_classes"}
SMALLEST_POSITIVE = 1e-9  # "greater than 0": an extreme but valid value


def _constraints(field) -> list:
    """The field's own constraints, and those of an optional number (``Annotated[...] | None``)."""
    found = list(field.metadata)
    for member in typing.get_args(field.annotation):
        for extra in typing.get_args(member)[1:]:
            found.extend(getattr(extra, "metadata", []))
    return found


def _number_kind(field) -> str | None:
    """"int" or "float" for a (possibly optional) number field, else None."""
    members = {typing.get_args(m)[0] if typing.get_origin(m) is typing.Annotated else m
               for m in (typing.get_args(field.annotation) or (field.annotation,))} - {type(None)}
    if members == {int}:
        return "int"
    return "float" if members and members <= {int, float} else None


def _bounds(field) -> tuple[float | None, float | None, bool]:
    low = high = None
    open_low = False
    for item in _constraints(field):
        if isinstance(item, annotated_types.Ge):
            low = item.ge
        elif isinstance(item, annotated_types.Gt):
            low, open_low = item.gt, True
        elif isinstance(item, annotated_types.Le):
            high = item.le
        elif isinstance(item, annotated_types.Lt):
            high = item.lt * (1 - 1e-9)
    return low, high, open_low


def extreme_values() -> dict[str, list[float]]:
    """Every bounded number of every config table: its lowest and highest valid values."""
    found: dict[str, list[float]] = {}
    for section, section_field in Scenario.model_fields.items():
        model = section_field.annotation
        for name, field in getattr(model, "model_fields", {}).items():
            dotted = f"{section}.{name}"
            kind = _number_kind(field)
            if dotted in AGENT_COUNTS or kind is None:
                continue
            low, high, open_low = _bounds(field)
            values = []
            if low is not None:
                values.append(low + SMALLEST_POSITIVE if open_low else low)
            if high is not None:
                values.append(high)
            if values:
                integer = kind == "int"
                found[dotted] = [int(v) if integer else float(v) for v in values]
    return found


EXTREMES = extreme_values()


def test_every_number_has_an_upper_bound():
    """No number field a config can set is unbounded above (the derivation needs them all)."""
    unbounded = []
    for section, section_field in Scenario.model_fields.items():
        for name, field in getattr(section_field.annotation, "model_fields", {}).items():
            if _number_kind(field) is not None and _bounds(field)[1] is None:
                unbounded.append(f"{section}.{name}")
    assert sorted(set(unbounded)) == []


@st.composite
def extreme_configs(draw):
    keys = draw(st.lists(st.sampled_from(sorted(EXTREMES)), min_size=1, max_size=12, unique=True))
    overrides = {key: draw(st.sampled_from(EXTREMES[key])) for key in keys}
    months = draw(st.sampled_from([12, 120]))
    return overrides, months


def _ledger_is_finite(model: CryptoEconomy) -> bool:
    ledger = model.ledger
    values = [*ledger.balances.values(), *ledger.total_flows.values(), *ledger.month_flows.values()]
    return all(math.isfinite(v) for v in values)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(extreme_configs())
def test_extreme_but_valid_combinations_run_with_a_finite_ledger(case):
    overrides, months = case
    try:
        scenario = load_scenario(CONFIGS / "baseline.toml", {**overrides, "months": months,
                                                            "population.citizens": 30, "mining.initial_farms": 3})
    except ConfigError:
        return  # a cross-field check refused the combination: refused, not crashed
    model = CryptoEconomy(scenario, seed=1)
    table = model.run()
    assert _ledger_is_finite(model), overrides
    assert len(table) == months


def test_the_price_path_stays_positive_and_finite_at_the_bounds():
    """The most volatile, longest, most drifting price path: positive and finite on many seeds."""
    raw = Scenario().model_dump(mode="json")
    raw.update(months=1200)
    drift_field = MarketConfig.model_fields["price_drift_annual"]
    lowest = next(m.ge for m in drift_field.metadata if getattr(m, "ge", None) is not None)
    highest = next(m.le for m in drift_field.metadata if getattr(m, "le", None) is not None)
    for drift, drift_of in itertools.product((lowest, highest), ("median", "mean")):
        raw["market"] = {**raw["market"], "price_volatility_annual": 2.0, "price_drift_annual": drift,
                         "price_drift_of": drift_of, "btc_price_usd": 0.01, "price_shock_tail_df": 2.0001}
        scenario = scenario_from_dict(raw)
        for seed in range(20):
            prices = market_path(scenario, np.random.default_rng(seed)).btc_price_usd
            assert np.all(np.isfinite(prices)) and np.all(prices > 0), (drift, drift_of, seed)


@pytest.mark.parametrize(("key", "value"), [
    ("mining.farm_size_mw", 1e308), ("market.btc_price_usd", 1e308), ("policy.license_fee_usd", 1e300),
])
def test_a_value_beyond_the_bounds_is_refused_at_check_time(key, value):
    """Issue 23, item 12: 1e308 passed check and failed the run with 'LedgerError ... inf USD'."""
    with pytest.raises(ConfigError, match="less than or equal"):
        load_scenario(CONFIGS / "baseline.toml", {key: value})


@pytest.mark.parametrize("overrides", [{"mining.farm_size_mw": 1e-9}, {"mining.max_new_mw_per_month": 1e9}])
def test_more_farm_sites_a_month_than_the_model_can_weigh_are_refused(overrides):
    """Each extreme alone was valid, and 25 MW of sites a month in farms of 1e-9 MW made 2.5e10
    entry decisions a month: a run that never ends. Their ratio is bounded instead."""
    with pytest.raises(ConfigError, match="farm sites a month; at most") as caught:
        load_scenario(CONFIGS / "baseline.toml", overrides)
    assert caught.value.field == "mining.max_new_mw_per_month"


def test_the_crash_input_of_the_issue_runs():
    """Issue 23, item 12: months = 12, btc_price_usd = 1.0, initial_farms = 500, license_fee_usd
    = 1e9 passed check, and run failed with ZeroDivisionError on every seed."""
    scenario = load_scenario(CONFIGS / "baseline.toml", {"months": 12, "market.btc_price_usd": 1.0,
                                                         "mining.initial_farms": 500,
                                                         "policy.license_fee_usd": 1e9,
                                                         "population.citizens": 200})
    for seed in (1, 2):
        model = CryptoEconomy(scenario, seed=seed)
        table = model.run()
        assert len(table) == 12 and _ledger_is_finite(model)
        assert (table["global_hashrate_share"] >= 0).all()


def test_a_price_csv_row_beyond_the_bounds_is_refused(tmp_path):
    """Issue 23, item 12: a price-CSV row of 1e308 passed check."""
    rows = "".join(f"{m},{1e308 if m == 3 else 60000.0}\n" for m in range(13))
    (tmp_path / "prices.csv").write_text("month,btc_price_usd\n" + rows)
    (tmp_path / "s.toml").write_text(f'extends = "{CONFIGS / "baseline.toml"}"\nmonths = 12\n'
                                     f'[market]\nprice_csv = "prices.csv"\n')
    with pytest.raises(ConfigError, match="line 5"):
        load_scenario(tmp_path / "s.toml")
