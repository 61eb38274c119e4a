"""A wallet bonus draws in early citizens who would have adopted later of their own accord. The
adoption rule decides a lasting use by why a citizen adopted (``lasting_use_probability``), so as
bonus adopters they stop once it is spent and never return. In Turkmenistan this leaves fewer
holders at the end than no bonus does (experiments/bonus_pull_forward.py; experiments/README.md,
``payment_ban_vs_bonus``)."""

from __future__ import annotations

import importlib.util
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
_spec = importlib.util.spec_from_file_location("bonus_pull_forward", ROOT / "experiments" / "bonus_pull_forward.py")
bonus_pull_forward = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(bonus_pull_forward)


def test_the_holders_a_bonus_costs_are_citizens_it_drew_in_early():
    held_without, held_with, lost, drawn_in, gained = sum(bonus_pull_forward.counts(seed) for seed in (2026, 2027, 2028))
    assert held_with < held_without and lost > gained
    assert drawn_in >= 0.8 * lost  # nearly all of them adopted in a month the bonus alone made them adopt
