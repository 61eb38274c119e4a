"""Cost grows in proportion to the population, never faster.

Counted, not timed: the Python function calls a month makes (which must not depend on the
number of citizens at all, since their rules run on whole arrays) and the memory it allocates
(which may grow only in proportion). Speed itself is measured in ``benchmarks/run.py``.
"""

import sys
import tracemalloc

import pytest

from cryptoabm.model import CryptoEconomy
from tests.conftest import scenario

SMALL, LARGE = 20_000, 40_000  # doubling the citizens
WARM_UP_MONTHS = 3
# Room for the odd extra branch (a farm expanding, a rewiring redrawn once more): a rule that
# calls a function per citizen adds tens of thousands of calls; the default scenario adds none.
EXTRA_CALLS_ALLOWED = 20
BYTES_SLACK = 2.2  # allocations may double with the citizens, and a little more


def calls_made(action) -> int:
    """Python and C function calls made while ``action`` runs."""
    count = 0

    def profiler(frame, event, arg):
        nonlocal count
        if event in ("call", "c_call"):
            count += 1

    sys.setprofile(profiler)
    try:
        action()
    finally:
        sys.setprofile(None)
    return count


def bytes_allocated(action) -> int:
    """Peak memory allocated (numpy arrays included) while ``action`` runs, bytes."""
    tracemalloc.start()
    try:
        tracemalloc.reset_peak()
        before, _ = tracemalloc.get_traced_memory()
        action()
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    return peak - before


def model_of(citizens: int) -> CryptoEconomy:
    return CryptoEconomy(scenario(**{"population.citizens": citizens, "months": 24}), seed=3)


def warmed_up(citizens: int) -> CryptoEconomy:
    model = model_of(citizens)
    model.run(WARM_UP_MONTHS)
    return model


@pytest.mark.parametrize("measure", [calls_made, bytes_allocated], ids=["calls", "bytes"])
def test_building_the_model_grows_in_proportion_to_the_citizens(measure):
    small = measure(lambda: model_of(SMALL))
    large = measure(lambda: model_of(LARGE))
    limit = small + EXTRA_CALLS_ALLOWED if measure is calls_made else BYTES_SLACK * small
    assert large <= limit, f"{measure.__name__}: {small:,} for {SMALL:,} citizens, {large:,} for {LARGE:,}"


def test_a_months_function_calls_do_not_depend_on_the_number_of_citizens():
    small, large = warmed_up(SMALL), warmed_up(LARGE)
    calls_small = calls_made(small.step)
    calls_large = calls_made(large.step)
    assert calls_large <= calls_small + EXTRA_CALLS_ALLOWED, f"{calls_small:,} calls for {SMALL:,} citizens, {calls_large:,} for {LARGE:,}"


def test_a_months_memory_grows_at_most_in_proportion_to_the_citizens():
    small, large = warmed_up(SMALL), warmed_up(LARGE)
    bytes_small = bytes_allocated(small.step)
    bytes_large = bytes_allocated(large.step)
    assert bytes_large <= BYTES_SLACK * bytes_small, f"{bytes_small:,} B for {SMALL:,} citizens, {bytes_large:,} B for {LARGE:,}"


def test_citizens_cost_no_python_objects_until_someone_looks_at_them():
    model = model_of(SMALL)
    assert not any(kind.__name__ == "Citizen" for kind in model.agents_by_type)
    assert len(model.citizens) == SMALL  # made on first use, one per citizen
    assert [citizen.index for citizen in list(model.citizens)[:3]] == [0, 1, 2]
