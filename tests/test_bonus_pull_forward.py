"""A wallet bonus draws in early citizens who would have adopted later of their own accord. The
adoption rule decides a lasting use by why a citizen adopted (``lasting_use_probability``), so as
bonus adopters they stop once it is spent and never return. In Turkmenistan this leaves fewer
holders at the end than no bonus does; under a rule blind to the motive it does not
(experiments/bonus_pull_forward.py; experiments/README.md, ``payment_ban_vs_bonus``)."""

from __future__ import annotations

import importlib.util
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
_spec = importlib.util.spec_from_file_location("bonus_pull_forward", ROOT / "experiments" / "bonus_pull_forward.py")
bonus_pull_forward = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(bonus_pull_forward)
BASE_SEED, REPLICATES = 2026, 3


def test_the_holders_a_bonus_costs_are_citizens_it_drew_in_early():
    configured = bonus_pull_forward.tally(BASE_SEED, REPLICATES)
    assert configured.with_bonus < configured.without_bonus and configured.lost > configured.gained
    assert configured.lost_drawn_in >= 0.8 * configured.lost  # adopted in a month only the bonus made them adopt


def test_with_a_lasting_use_blind_to_the_motive_the_bonus_no_longer_costs_holders():
    configured = bonus_pull_forward.tally(BASE_SEED, REPLICATES)
    blind = bonus_pull_forward.tally(BASE_SEED, REPLICATES, bonus_pull_forward.MOTIVE_BLIND)
    assert blind.without_bonus == configured.without_bonus  # no bonus, no bonus adopters: the rule is not used
    assert blind.lost < configured.lost
    assert blind.with_bonus - blind.without_bonus > configured.with_bonus - configured.without_bonus
    assert blind.with_bonus >= blind.without_bonus
