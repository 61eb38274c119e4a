"""The citizens' social network, as a sparse adjacency matrix.

The graph is kept only as a compressed sparse row (CSR) matrix: the share of each citizen's
contacts who are active is then one sparse matrix-vector product for the whole population.

The two families a national-scale run needs are generated here with numpy, drawing from the
run's ``network`` stream, because networkx builds graphs one edge at a time in Python (about
25 s for a million citizens):

- ``watts_strogatz``: networkx's algorithm (ring lattice, each lattice edge rewired with the
  given probability to a uniformly drawn new contact, no self-loops or repeated edges), with all
  edges rewired at once instead of one after another. The one difference: a new contact is never
  a ring-lattice neighbour, even one whose lattice edge was itself rewired away, an event of
  probability about ``mean_degree x rewiring_probability / citizens`` per edge.
- ``erdos_renyi``: exactly G(n, p): a binomial number of edges, drawn uniformly among all pairs.

``barabasi_albert`` is built by networkx's sequential preferential attachment, with a seed
drawn from the same stream (slower: tens of seconds per million citizens). ``complete`` (alias
``well_mixed``) builds no graph at all: every citizen sees the population average, which is
the classic Bass diffusion setting. ``tests/test_network.py`` checks the generators against
networkx's on degree, clustering and path length.
"""

from __future__ import annotations

import networkx as nx
import numpy as np
import scipy.sparse as sp

WELL_MIXED = ("complete", "well_mixed")
# Rewirings that still collide after this many redraws (possible only in tiny, dense graphs)
# keep their lattice edge.
MAX_REWIRING_ROUNDS = 64
# Below this many possible pairs, G(n, p) is drawn pair by pair; above it, by sampling edges.
ENUMERATED_PAIRS_MAX = 5_000_000


def pair_keys(first: np.ndarray, second: np.ndarray, citizens: int) -> np.ndarray:
    """One integer per undirected pair {first, second}, the same whichever end comes first."""
    return np.minimum(first, second).astype(np.int64) * citizens + np.maximum(first, second)


def distinct_sorted(keys: np.ndarray) -> np.ndarray:
    """The distinct values of ``keys``, in increasing order (np.sort is far faster than np.unique)."""
    ordered = np.sort(keys)
    return ordered[np.concatenate([[True], ordered[1:] != ordered[:-1]])]


def repeats(keys: np.ndarray) -> np.ndarray:
    """True for every entry but one of each value that occurs more than once."""
    order = np.argsort(keys)  # deterministic; which of two equal entries counts as first is arbitrary
    ordered = keys[order]
    repeated = np.zeros(keys.size, dtype=bool)
    repeated[order[1:][ordered[1:] == ordered[:-1]]] = True
    return repeated


def ring_distance(first: np.ndarray, second: np.ndarray, citizens: int) -> np.ndarray:
    """Steps between two places on a ring of ``citizens`` places."""
    gap = np.abs(first - second)
    return np.minimum(gap, citizens - gap)


def watts_strogatz_edges(citizens: int, mean_degree: int, rewiring_probability: float,
                         rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Edge list (sources, targets) of a Watts-Strogatz small world.

    Each citizen starts linked to the ``mean_degree / 2`` nearest on each side of a ring; each
    of those lattice edges keeps its source and, with ``rewiring_probability``, gets a new
    target drawn uniformly among citizens who are not the source, not its lattice neighbours and
    not already the new contact of another rewired edge of the same pair.
    """
    half = min(mean_degree // 2, (citizens - 1) // 2)
    # lattice edge j x citizens + u joins u to u + j + 1 (32-bit: a config allows 10 million citizens)
    sources = np.tile(np.arange(citizens, dtype=np.int32), half)
    targets = sources.copy()
    for offset in range(1, half + 1):
        targets[(offset - 1) * citizens : offset * citizens] += offset
    targets[targets >= citizens] -= citizens
    rewire_draw = rng.random(sources.size, dtype=np.float32)
    if 2 * half + 1 >= citizens:  # the lattice is already complete: nowhere to rewire to
        return sources, targets
    rewired = np.flatnonzero(rewire_draw < rewiring_probability)
    del rewire_draw
    rewired_sources = sources[rewired]
    new_targets = np.empty(rewired.size, dtype=np.int32)
    redraw = np.ones(rewired.size, dtype=bool)
    for _ in range(MAX_REWIRING_ROUNDS):
        new_targets[redraw] = rng.integers(0, citizens, size=int(np.count_nonzero(redraw)))
        redraw = ring_distance(rewired_sources, new_targets, citizens) <= half  # self or lattice neighbour
        redraw |= repeats(pair_keys(rewired_sources, new_targets, citizens))
        if not redraw.any():
            break
    keep = ~redraw  # what is still colliding keeps its lattice edge
    targets[rewired[keep]] = new_targets[keep]
    return sources, targets


def erdos_renyi_edges(citizens: int, edge_probability: float,
                      rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Edge list of G(n, p): every pair of citizens is linked independently with ``edge_probability``."""
    pairs = citizens * (citizens - 1) // 2
    if pairs <= ENUMERATED_PAIRS_MAX:
        first, second = np.triu_indices(citizens, k=1)
        linked = rng.random(pairs) < edge_probability
        return first[linked].astype(np.int64), second[linked].astype(np.int64)
    # Sparse case: the number of edges is binomial; draw that many distinct pairs uniformly.
    wanted = int(rng.binomial(pairs, edge_probability))
    keys = np.empty(0, dtype=np.int64)
    while keys.size < wanted:  # each round adds at most the edges still missing
        missing = wanted - keys.size
        first = rng.integers(0, citizens, size=missing)
        second = rng.integers(0, citizens, size=missing)
        distinct = first != second
        keys = distinct_sorted(np.concatenate([keys, pair_keys(first[distinct], second[distinct], citizens)]))
    return keys // citizens, keys % citizens


def barabasi_albert_edges(citizens: int, mean_degree: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Edge list of networkx's Barabasi-Albert graph: each newcomer links to ``mean_degree / 2``
    existing citizens, chosen in proportion to their contacts."""
    attach = max(1, min(mean_degree // 2, citizens - 1))
    graph = nx.barabasi_albert_graph(citizens, attach, seed=int(rng.integers(2**32)))
    edges = np.array(graph.edges(), dtype=np.int64).reshape(-1, 2)
    return edges[:, 0], edges[:, 1]


def edges_to_adjacency(sources: np.ndarray, targets: np.ndarray, citizens: int) -> sp.csr_array:
    """Symmetric 0/1 CSR matrix (float32) of an undirected edge list without repeated edges."""
    # Each entry is coded as row x citizens + column; sorting the codes orders the entries row
    # by row, columns ascending. Done in place: at a million citizens every temporary array
    # is tens of megabytes.
    edges = sources.size
    codes = np.empty(2 * edges, dtype=np.int64)
    np.multiply(sources, citizens, out=codes[:edges], dtype=np.int64)
    codes[:edges] += targets
    np.multiply(targets, citizens, out=codes[edges:], dtype=np.int64)
    codes[edges:] += sources
    codes.sort()
    index_type = np.int32 if codes.size < np.iinfo(np.int32).max else np.int64
    columns = np.empty(codes.size, dtype=index_type)
    np.remainder(codes, citizens, out=columns, casting="unsafe")  # the column, written straight as 32-bit
    del codes
    row_starts = np.zeros(citizens + 1, dtype=index_type)
    np.cumsum(np.bincount(sources, minlength=citizens) + np.bincount(targets, minlength=citizens), out=row_starts[1:])
    ones = np.ones(columns.size, dtype=np.float32)
    return sp.csr_array((ones, columns, row_starts), shape=(citizens, citizens))


def adjacency(kind: str, citizens: int, mean_degree: int, rewiring_probability: float,
              rng: np.random.Generator) -> sp.csr_array | None:
    """The network of the given family as a symmetric 0/1 CSR matrix, or None if well mixed."""
    if kind in WELL_MIXED:
        return None
    if kind == "watts_strogatz":
        edges = watts_strogatz_edges(citizens, mean_degree, rewiring_probability, rng)
    elif kind == "erdos_renyi":
        edges = erdos_renyi_edges(citizens, min(1.0, mean_degree / (citizens - 1)), rng)
    elif kind == "barabasi_albert":
        edges = barabasi_albert_edges(citizens, mean_degree, rng)
    else:
        raise ValueError(f"unknown network kind {kind!r}")
    return edges_to_adjacency(*edges, citizens)


def contact_counts(adjacency_matrix: sp.csr_array | None, citizens: int) -> np.ndarray:
    """Number of contacts of each citizen (everyone else in a well-mixed population)."""
    if adjacency_matrix is None:
        return np.full(citizens, citizens - 1, dtype=np.float64)
    return np.diff(adjacency_matrix.indptr).astype(np.float64)


def contact_weights(degree: np.ndarray) -> np.ndarray:
    """Weight of each of a citizen's contacts in their share of active contacts: 1 / contacts
    (0 for a citizen with none)."""
    return np.divide(1.0, degree, out=np.zeros(degree.size, dtype=np.float64), where=degree > 0)


def active_neighbour_share(adjacency_matrix: sp.csr_array | None, contact_weight: np.ndarray,
                           active: np.ndarray) -> np.ndarray:
    """Share of each citizen's contacts who are active (0 for a citizen with no contacts).

    In a well-mixed population it is the share of everyone else who is active.
    """
    if adjacency_matrix is None:
        others = active.size - 1
        return (np.count_nonzero(active) - active) / others
    return (adjacency_matrix @ active.astype(np.float32)) * contact_weight
