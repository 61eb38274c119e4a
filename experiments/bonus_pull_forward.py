"""Why a $30 wallet bonus in Turkmenistan leaves fewer wallet holders at the end, not more
(``payment_ban_vs_bonus`` and ``turkmenistan_options``: the bonus's effect on wallets at the end
is negative). The figures quoted in experiments/README.md.

    python experiments/bonus_pull_forward.py [--replicates 10] [--base-seed 2026]

The two arms of ``experiments/payment_ban_vs_bonus.toml`` that differ only by the bonus
(``voluntary_payments`` and ``voluntary_with_bonus``, as ``load_experiment`` resolves them) are run
on the experiment's own replicate seeds (``replicate_seed(base_seed, r)``: common random numbers,
the same citizens with the same draws). The script follows each model citizen (2,000 of them a
run). It counts those who hold a wallet at the end without the bonus but not with it, and how
many of them the bonus drew in: they adopted in a month when, without the bonus, they would not
have. It also counts the citizens who hold a wallet only with the bonus.

The mechanism is an assumption of the model: whether an adopter finds a lasting use is decided
in the month they adopt, by who they are and *why* they adopted (``lasting_use_probability``:
one the bonus drew in has ``adoption.bonus_adopter_lasting_use_ratio`` of the chance). A citizen
who would have adopted later of their own accord, and kept the wallet, is drawn in early by the
bonus, is given the bonus adopter's lower chance, stops once the bonus is spent, and, having
downloaded once, does not adopt again. The script therefore also runs the counterfactual rule in
which a lasting use does not depend on why a citizen adopted (the ratio set to 1).
"""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import NamedTuple

from cryptoabm.batch.experiment import LoadedExperiment, load_experiment, replicate_seed
from cryptoabm.cli import OneLineParser
from cryptoabm.config import with_overrides
from cryptoabm.model import CryptoEconomy

ROOT = Path(__file__).resolve().parents[1]
EXPERIMENT = ROOT / "experiments" / "payment_ban_vs_bonus.toml"
WITHOUT_BONUS, WITH_BONUS = "voluntary_payments", "voluntary_with_bonus"
MOTIVE_BLIND = 1.0  # a bonus adopter's chance of a lasting use relative to anyone else's, in the counterfactual


class Holders(NamedTuple):
    """Model citizens (of the run's 2,000) holding a wallet at the end, summed over replicates."""

    without_bonus: int
    with_bonus: int
    lost: int  # hold one without the bonus, not with it
    lost_drawn_in: int  # of those, drawn in by the bonus (adopted in a month they would not have without it)
    gained: int  # hold one only with the bonus

    def __add__(self, other: Holders) -> Holders:
        return Holders(*(mine + theirs for mine, theirs in zip(self, other, strict=True)))


@cache
def experiment() -> LoadedExperiment:
    """The experiment as a batch loads it: its arms' scenarios resolved, validated."""
    return load_experiment(EXPERIMENT)


def holders(seed: int, bonus_adopter_lasting_use_ratio: float | None = None) -> Holders:
    """One replicate: the two arms on the same seed, citizen by citizen (the configured adoption
    rule, or one with ``bonus_adopter_lasting_use_ratio`` set)."""
    runs = []
    for arm in (WITHOUT_BONUS, WITH_BONUS):
        scenario = experiment().arm_scenarios[arm]
        if bonus_adopter_lasting_use_ratio is not None:
            scenario = with_overrides(scenario, {"adoption.bonus_adopter_lasting_use_ratio": bonus_adopter_lasting_use_ratio})
        model = CryptoEconomy(scenario, seed=seed)
        model.run()
        runs.append(model)
    without_bonus, with_bonus = runs
    before, after = without_bonus.population, with_bonus.population
    lost = before.has_wallet & ~after.has_wallet
    return Holders(int(before.has_wallet.sum()), int(after.has_wallet.sum()), int(lost.sum()),
                   int((lost & after.adopted_for_bonus).sum()), int((~before.has_wallet & after.has_wallet).sum()))


def tally(base_seed: int, replicates: int, bonus_adopter_lasting_use_ratio: float | None = None) -> Holders:
    """``holders`` summed over the experiment's first ``replicates`` replicate seeds."""
    total = Holders(0, 0, 0, 0, 0)
    for replicate in range(replicates):
        total += holders(replicate_seed(base_seed, replicate), bonus_adopter_lasting_use_ratio)
    return total


def lines(title: str, counted: Holders) -> list[str]:
    share = f" ({counted.lost_drawn_in / counted.lost:.0%})" if counted.lost else ""
    return [title,
            f"  wallet holders at the end: {counted.without_bonus} without the bonus, {counted.with_bonus} with it",
            f"  holding without the bonus but not with it: {counted.lost}, of whom the bonus drew in "
            f"{counted.lost_drawn_in}{share}",
            f"  holding only with the bonus: {counted.gained}"]


def main() -> None:
    base_seed = experiment().experiment.base_seed
    parser = OneLineParser(prog="bonus_pull_forward.py", description=__doc__.split("\n\n")[0])
    parser.add_argument("--replicates", type=int, default=10, help="replicates (at least 1; default 10)")
    parser.add_argument("--base-seed", type=int, default=base_seed,
                        help=f"the experiment's base seed (default {base_seed}, as in the file)")
    args = parser.parse_args()
    if args.replicates < 1:
        parser.error(f"--replicates must be at least 1, not {args.replicates}")
    if args.base_seed < 0:
        parser.error(f"--base-seed must be 0 or more, not {args.base_seed}")
    heading = f"Turkmenistan 2026, payments voluntary, base seed {args.base_seed}, {args.replicates} replicates"
    print("\n".join(lines(f"{heading}; the adoption rule as configured:", tally(args.base_seed, args.replicates))))
    print("\n".join(lines(f"The same, a lasting use not depending on why a citizen adopted "
                          f"(adoption.bonus_adopter_lasting_use_ratio = {MOTIVE_BLIND}):",
                          tally(args.base_seed, args.replicates, MOTIVE_BLIND))))


if __name__ == "__main__":
    main()
