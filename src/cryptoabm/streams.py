"""Independent random streams, all derived from the run's seed.

Each process draws from its own child of ``numpy.random.SeedSequence(seed)``, so changing
a policy (which changes how many miners draw numbers, say) never shifts the draws of the
price path or the population. That is what makes paired comparisons across policies
(common random numbers) meaningful. Streams are only ever added at the end of ``NAMES``.
"""

from __future__ import annotations

import numpy as np

NAMES = ("market", "network", "population", "citizens", "miners", "investors", "state", "grid", "bonuses",
         "relocation", "enforcement", "entry")

# SplitMix64 (Steele, Lea and Flood 2014): the counter's increment and the finaliser's multipliers
SPLITMIX_GAMMA = np.uint64(0x9E3779B97F4A7C15)
SPLITMIX_MULTIPLIERS = (np.uint64(0xBF58476D1CE4E5B9), np.uint64(0x94D049BB133111EB))


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

    def keyed_uniforms(self, name: str, keys: tuple[int, ...], members: np.ndarray) -> np.ndarray:
        """One uniform float32 number in [0, 1) for each of ``members`` (citizens' indices, say),
        fixed by the seed, the process, the keys (a month and a decision) and the member alone.

        Counter-based: member i's number is SplitMix64's output for counter i from a start
        fixed by the keys, so drawing for a subset (this month's wallet holders) gives each the
        same number it would get in any other subset, whatever a policy does to who else is in it.
        Costs a few array operations per member drawn; nothing for those not drawn."""
        start = np.random.SeedSequence([self.seed, NAMES.index(name), *keys]).generate_state(1, np.uint64)
        mixed = members.astype(np.uint64)
        mixed *= SPLITMIX_GAMMA
        mixed += start  # arrays wrap around modulo 2**64, as the algorithm intends
        mixed ^= mixed >> np.uint64(30)
        mixed *= SPLITMIX_MULTIPLIERS[0]
        mixed ^= mixed >> np.uint64(27)
        mixed *= SPLITMIX_MULTIPLIERS[1]
        mixed ^= mixed >> np.uint64(31)
        mixed >>= np.uint64(40)  # the top 24 bits: exactly representable in float32
        uniforms = mixed.astype(np.float32)
        uniforms *= np.float32(2.0**-24)
        return uniforms

    market: np.random.Generator
    network: np.random.Generator
    population: np.random.Generator
    citizens: np.random.Generator
    miners: np.random.Generator
    investors: np.random.Generator
    state: np.random.Generator
    grid: np.random.Generator
    bonuses: np.random.Generator  # each citizen's place in the queue when the bonus budget runs short
    relocation: np.random.Generator  # unused since free entry (relocating rigs go to keyed sites); kept so no later stream shifts
    enforcement: np.random.Generator  # unused as a stream: enforcement draws are keyed (keyed_uniform)
    entry: np.random.Generator  # unused as a stream: candidate farm sites' draws are keyed (keyed_uniform)
