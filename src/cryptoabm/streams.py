"""Independent random streams, all derived from the run's seed.

Each process draws from its own child of ``numpy.random.SeedSequence(seed)``, so changing
a policy (which changes how many miners draw numbers, say) never shifts the draws of the
price path or the population. That is what makes paired comparisons across policies
(common random numbers) meaningful. Streams are only ever added at the end of ``NAMES``.
"""

from __future__ import annotations

import numpy as np

NAMES = ("market", "network", "population", "citizens", "miners", "investors", "state", "grid", "bonuses")


class RandomStreams:
    """One ``numpy.random.Generator`` per model process, named as in :data:`NAMES`."""

    def __init__(self, seed: int):
        children = np.random.SeedSequence(seed).spawn(len(NAMES))
        for name, child in zip(NAMES, children, strict=True):
            setattr(self, name, np.random.default_rng(child))

    market: np.random.Generator
    network: np.random.Generator
    population: np.random.Generator
    citizens: np.random.Generator
    miners: np.random.Generator
    investors: np.random.Generator
    state: np.random.Generator
    grid: np.random.Generator
    bonuses: np.random.Generator  # which eligible adopters are paid when the bonus budget runs short
