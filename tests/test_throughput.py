"""What the speed-ups must not change: exact active-contact counts, common random numbers,
work that follows the citizens who changed, and a model that starts without plotting libraries.

Speed itself is measured in ``benchmarks/run.py``, never here.
"""

import subprocess
import sys

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp
from hypothesis import given, settings
from hypothesis import strategies as st

from cryptoabm.config import load_scenario
from cryptoabm.model import CryptoEconomy
from cryptoabm.network import ActiveContacts, active_contact_counts, adjacency, edges_to_adjacency, pair_keys
from cryptoabm.streams import RandomStreams, keyed_uint64
from tests.conftest import CONFIGS, scenario


# -- incremental active-contact counts ----------------------------------------------------------
@st.composite
def networks_and_changes(draw):
    """A random simple graph, a starting set of active citizens and a few months of changes."""
    citizens = draw(st.integers(2, 40))
    pairs = draw(st.lists(st.tuples(st.integers(0, citizens - 1), st.integers(0, citizens - 1)), max_size=120))
    keys = np.unique([pair_keys(np.array([a]), np.array([b]), citizens)[0] for a, b in pairs if a != b])
    matrix = edges_to_adjacency(keys // citizens, keys % citizens, citizens)
    states = st.lists(st.booleans(), min_size=citizens, max_size=citizens).map(np.array)
    return matrix, draw(states), draw(st.lists(states, min_size=1, max_size=6))


@settings(max_examples=150, deadline=None)
@given(networks_and_changes(), st.sampled_from([0.0, 0.125, 1e9]))
def test_incremental_counts_equal_the_matrix_vector_product_bit_for_bit(case, recount_share):
    matrix, start, months = case
    counts = ActiveContacts(matrix, start)
    counts.FULL_RECOUNT_SHARE = recount_share  # 0: always recount; 1e9: never; 0.125: as in a run
    for active in months:
        updated = counts.update(active)
        expected = active_contact_counts(matrix, active)
        assert updated.dtype == expected.dtype
        assert np.array_equal(updated, expected)


def test_the_linear_time_build_is_the_symmetric_matrix_of_the_edges():
    rng = np.random.default_rng(4)
    sources, targets = rng.integers(0, 500, 3000), rng.integers(0, 500, 3000)
    keys = np.unique(pair_keys(sources[sources != targets], targets[sources != targets], 500))
    built = edges_to_adjacency(keys // 500, keys % 500, 500)
    reference = sp.coo_array((np.ones(2 * keys.size, np.float32),
                              (np.r_[keys // 500, keys % 500], np.r_[keys % 500, keys // 500])), shape=(500, 500)).tocsr()
    reference.sort_indices()
    built.sort_indices()
    assert np.array_equal(built.indptr, reference.indptr) and np.array_equal(built.indices, reference.indices)
    assert (built.data == 1).all()


def run_with_recount_share(monkeypatch, share: float, preset: str, seed: int) -> pd.DataFrame:
    monkeypatch.setattr(ActiveContacts, "FULL_RECOUNT_SHARE", share)
    loaded = load_scenario(CONFIGS / f"{preset}.toml")
    small = loaded.model_copy(update={"months": 36,
                                      "population": loaded.population.model_copy(update={"citizens": 3_000})})
    return CryptoEconomy(small, seed=seed).run()


@pytest.mark.parametrize("preset, seed", [("baseline", 1), ("el_salvador_2021", 2), ("kazakhstan_2021", 3),
                                          ("turkmenistan_2026", 4)])
def test_a_run_is_identical_whether_counts_are_updated_or_recounted(monkeypatch, preset, seed):
    recounted = run_with_recount_share(monkeypatch, 0.0, preset, seed)  # the matrix-vector product every month
    updated = run_with_recount_share(monkeypatch, 1e9, preset, seed)  # only ever updated from the changes
    pd.testing.assert_frame_equal(recounted, updated, check_exact=True)
    assert recounted["ever_downloaded_share"].iloc[-1] > 0  # something diffused


# -- common random numbers ------------------------------------------------------------------------
def test_a_holders_draw_does_not_depend_on_who_else_holds_a_wallet():
    streams = RandomStreams(11)
    everyone = streams.keyed_uniforms("citizens", (5, 1), np.arange(10_000))
    some = np.array([3, 17, 4_242, 9_999])
    assert np.array_equal(streams.keyed_uniforms("citizens", (5, 1), some), everyone[some])
    other_month = streams.keyed_uniforms("citizens", (6, 1), np.arange(10_000))
    assert not np.array_equal(everyone, other_month)
    assert everyone.dtype == np.float32 and 0.0 <= everyone.min() and everyone.max() < 1.0
    assert everyone.mean() == pytest.approx(0.5, abs=0.01) and everyone.var() == pytest.approx(1 / 12, abs=0.005)


@settings(max_examples=300, deadline=None)
@given(st.lists(st.integers(0, 2**63 - 1) | st.integers(0, 60), min_size=1, max_size=8))
def test_a_keyed_draw_is_numpys_seed_sequence_bit_for_bit(keys):
    """The farms' and sites' keyed draws hash their keys as numpy's SeedSequence does (the pool of
    a month's first words is remembered, not rebuilt): the same 64 bits, for any keys."""
    expected = int(np.random.SeedSequence(keys).generate_state(1, np.uint64)[0])
    assert keyed_uint64(tuple(keys)) == expected


def test_a_farms_enforcement_draw_is_the_same_whoever_else_is_grey():
    streams = RandomStreams(2**62 + 12_345)
    draws = [streams.keyed_uniform("enforcement", 7, serial) for serial in range(50)]
    again = [streams.keyed_uniform("enforcement", 7, serial) for serial in (49, 3, 17)]
    assert again == [draws[49], draws[3], draws[17]]
    assert streams.keyed_uniform("enforcement", 8, 3) != draws[3]  # a new month, a new draw
    assert 0.0 <= min(draws) and max(draws) < 1.0


def test_two_policies_on_one_seed_see_the_same_prices_and_the_same_population():
    common = {"adoption.innovation_p": 0.02, "population.internet_access_share": 1.0,
              "economy.parallel_rate_lcu_per_usd": 3.0}
    open_country = CryptoEconomy(scenario(**common, **{"policy.payment_regime": "voluntary"}), seed=8)
    ban = CryptoEconomy(scenario(**common, **{"policy.payment_regime": "ban", "policy.information_control": 0.5}), seed=8)
    open_country_table, ban_table = open_country.run(), ban.run()
    assert (open_country_table["wallet_share"] != ban_table["wallet_share"]).any()  # the policies do differ
    pd.testing.assert_series_equal(open_country_table["btc_price_usd"], ban_table["btc_price_usd"], check_exact=True)
    for name in ("income_usd_per_month", "trust", "has_internet", "is_merchant", "never_adopts", "bank_route_draw"):
        assert np.array_equal(getattr(open_country.population, name), getattr(ban.population, name)), name
    assert (open_country.population.adjacency != ban.population.adjacency).nnz == 0


# -- a month's work follows the citizens who changed -------------------------------------------
def test_a_months_contact_updates_are_the_contacts_of_the_citizens_who_changed():
    model = CryptoEconomy(scenario(**{"population.citizens": 40_000, "months": 12}), seed=5)
    model.run(3)
    population = model.population
    contacts = population.active_contacts
    for _ in range(3):
        before = contacts.counted_active.copy()
        model.step()
        changed = np.flatnonzero(before != contacts.counted_active)
        assert not contacts.recounted
        # the work is the changed citizens' contacts, whatever the other 40,000 do
        assert contacts.entries_updated == int(population.degree[changed].sum())
        assert contacts.entries_updated < 0.05 * population.adjacency.nnz


# -- start-up ---------------------------------------------------------------------------------------
def test_running_the_model_imports_no_plotting_or_statistics_library():
    code = ("import sys\nfrom cryptoabm.model import CryptoEconomy\nfrom cryptoabm.config import Scenario\n"
            "CryptoEconomy(Scenario(), seed=1).run(2)\n"
            "print(sorted(m for m in ('matplotlib', 'scipy.stats') if m in sys.modules))")
    imported = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert imported.strip() == "[]"
