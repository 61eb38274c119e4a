"""Independent random streams, all derived from the run's seed.

Each process draws from its own child of ``numpy.random.SeedSequence(seed)``, so changing
a policy (which changes how many miners draw numbers, say) never shifts the draws of the
price path or the population. That is what makes paired comparisons across policies
(common random numbers) meaningful. Streams are only ever added at the end of ``NAMES``.
"""

from __future__ import annotations

import functools

import numpy as np

NAMES = ("market", "network", "population", "citizens", "miners", "investors", "state", "grid", "bonuses",
         "relocation", "enforcement", "entry")

# SplitMix64 (Steele, Lea and Flood 2014): the counter's increment and the finaliser's multipliers
SPLITMIX_GAMMA = np.uint64(0x9E3779B97F4A7C15)
SPLITMIX_MULTIPLIERS = (np.uint64(0xBF58476D1CE4E5B9), np.uint64(0x94D049BB133111EB))

# numpy's SeedSequence (O'Neill's seed_seq_fe, numpy/random/bit_generator.pyx): its constants
MASK32 = 0xFFFFFFFF
POOL_SIZE = 4
INIT_A, MULT_A, INIT_B, MULT_B = 0x43B0D7E5, 0x931E8875, 0x8B51F9DD, 0x58F38DED
MIX_MULT_L, MIX_MULT_R, XSHIFT = 0xCA01F9DD, 0x4973F715, 16


def _uint32_words(keys: tuple[int, ...]) -> tuple[int, ...]:
    """The keys as SeedSequence reads them: each non-negative integer as its 32-bit words, low first."""
    words: list[int] = []
    for key in keys:
        if key < 0:
            raise ValueError(f"a random key must be a non-negative integer, not {key}")
        words.append(key & MASK32)
        key >>= 32
        while key:
            words.append(key & MASK32)
            key >>= 32
    return tuple(words)


def _hashmix(value: int, hash_const: int) -> tuple[int, int]:
    value ^= hash_const
    hash_const = (hash_const * MULT_A) & MASK32
    value = (value * hash_const) & MASK32
    return value ^ (value >> XSHIFT), hash_const


def _mix(x: int, y: int) -> int:
    result = (MIX_MULT_L * x - MIX_MULT_R * y) & MASK32
    return result ^ (result >> XSHIFT)


def _mix_in(pool: tuple[int, ...], hash_const: int, word: int) -> tuple[tuple[int, ...], int]:
    mixed = []
    for entry in pool:
        hashed, hash_const = _hashmix(word, hash_const)
        mixed.append(_mix(entry, hashed))
    return tuple(mixed), hash_const


@functools.lru_cache(maxsize=1024)
def _first_pool(words: tuple[int, ...]) -> tuple[tuple[int, ...], int]:
    """SeedSequence's pool (and hash constant) after its first ``POOL_SIZE`` words: the same for
    every draw of a month (the seed, the process, the month), so it is hashed once."""
    hash_const = INIT_A
    pool = []
    for index in range(POOL_SIZE):
        hashed, hash_const = _hashmix(words[index] if index < len(words) else 0, hash_const)
        pool.append(hashed)
    for source in range(POOL_SIZE):
        for sink in range(POOL_SIZE):
            if source != sink:
                hashed, hash_const = _hashmix(pool[source], hash_const)
                pool[sink] = _mix(pool[sink], hashed)
    return tuple(pool), hash_const


def keyed_uint64(keys: tuple[int, ...]) -> int:
    """The first 64-bit word of ``numpy.random.SeedSequence(keys).generate_state(1, np.uint64)``,
    bit for bit (a test checks it against numpy), without building a SeedSequence: the pool of
    the first four 32-bit words is remembered, so a farm's draw costs only its own key's mixing."""
    words = _uint32_words(keys)
    pool, hash_const = _first_pool(words[:POOL_SIZE])
    for word in words[POOL_SIZE:]:
        pool, hash_const = _mix_in(pool, hash_const, word)
    hash_const = INIT_B
    halves = []
    for index in range(2):
        value = pool[index % POOL_SIZE] ^ hash_const
        hash_const = (hash_const * MULT_B) & MASK32
        value = (value * hash_const) & MASK32
        halves.append(value ^ (value >> XSHIFT))
    return halves[0] | (halves[1] << 32)


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
        return (keyed_uint64((self.seed, NAMES.index(name), *keys)) >> 11) / 2.0**53

    def keyed_uniforms(self, name: str, keys: tuple[int, ...], members: np.ndarray) -> np.ndarray:
        """One uniform float32 number in [0, 1) for each of ``members`` (citizens' indices, say),
        fixed by the seed, the process, the keys (a month and a decision) and the member alone.

        Counter-based: member i's number is SplitMix64's output for counter i from a start
        fixed by the keys, so drawing for a subset (this month's wallet holders) gives each the
        same number it would get in any other subset, whatever a policy does to who else is in it.
        Costs a few array operations per member drawn; nothing for those not drawn."""
        start = np.uint64(keyed_uint64((self.seed, NAMES.index(name), *keys)))
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
