"""Independent random streams, all derived from the run's seed.

Each process draws from its own child of ``numpy.random.SeedSequence(seed)``, so changing
a policy (which changes how many miners draw numbers, say) never shifts the draws of the
price path or the population. That is what makes paired comparisons across policies
(common random numbers) meaningful. Streams are only ever added at the end of ``NAMES``.
"""

from __future__ import annotations

import numpy as np

NAMES = ("market", "network", "population", "citizens", "miners", "investors", "state", "grid", "bonuses",
         "relocation", "enforcement")


class RandomStreams:
    """One ``numpy.random.Generator`` per model process, named as in :data:`NAMES`."""

    def __init__(self, seed: int):
        self.seed = seed
        children = np.random.SeedSequence(seed).spawn(len(NAMES))
        for name, child in zip(NAMES, children, strict=True):
            setattr(self, name, np.random.default_rng(child))

    def keyed_uniform(self, name: str, *keys: int) -> float:
        """One uniform number in [0, 1) fixed by the seed, the process and the keys (a month and
        a farm's serial number, say): the same number whatever else was drawn before, so an
        agent's luck does not shift when a policy changes how many others draw."""
        entropy = [self.seed, NAMES.index(name), *keys]
        return float(np.random.SeedSequence(entropy).generate_state(1, np.uint64)[0] >> np.uint64(11)) / 2.0**53

    market: np.random.Generator
    network: np.random.Generator
    population: np.random.Generator
    citizens: np.random.Generator
    miners: np.random.Generator
    investors: np.random.Generator
    state: np.random.Generator
    grid: np.random.Generator
    bonuses: np.random.Generator  # each citizen's place in the queue when the bonus budget runs short
    relocation: np.random.Generator  # the order in which investors are offered relocating rigs, each month
    enforcement: np.random.Generator  # unused as a stream: enforcement draws are keyed (keyed_uniform)
