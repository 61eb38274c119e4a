"""The citizens' social network, as a sparse adjacency matrix.

The graph is kept only as a compressed sparse row (CSR) matrix: the share of each citizen's
contacts who are active is then one sparse matrix-vector product for the whole population.

Every family is generated here with numpy, drawing from the run's ``network`` stream, because
networkx builds graphs one edge at a time in Python (about 25 s for a million citizens):

- ``watts_strogatz``: networkx's algorithm (ring lattice, each lattice edge rewired with the
  given probability to a uniformly drawn new contact, no self-loops or repeated edges), with all
  edges rewired at once instead of one after another. The one difference: a new contact is never
  a ring-lattice neighbour, even one whose lattice edge was itself rewired away, an event of
  probability about ``mean_degree x rewiring_probability / citizens`` per edge.
- ``erdos_renyi``: exactly G(n, p): a binomial number of edges, drawn uniformly among all pairs.
- ``barabasi_albert``: networkx's preferential attachment (a star to start, each newcomer
  linking to ``mean_degree / 2`` distinct citizens in proportion to their contacts), by
  Batagelj and Brandes' list of link ends, all newcomers at once. The one difference: a
  newcomer's repeated contact is redrawn at most twice, then dropped (about 1 link in 100,000).

``complete`` (alias
``well_mixed``) builds no graph at all: every citizen sees the population average, which is
the classic Bass diffusion setting. ``tests/test_network.py`` checks the generators against
networkx's on degree, clustering and path length.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp
from scipy.sparse import _sparsetools  # scipy's linear-time COO -> CSR pass

WELL_MIXED = ("complete", "well_mixed")
# Rewirings that still collide after this many redraws (possible only in tiny, dense graphs)
# keep their lattice edge.
MAX_REWIRING_ROUNDS = 64
# A newcomer's repeated contact is redrawn this many times at most (each round re-resolves every
# link); the few repeats still left are dropped: about 50 of 5 million links at a million citizens.
BARABASI_ALBERT_REDRAW_ROUNDS = 2
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
    # lattice edge j x citizens + u joins u to u + j + 1 (32-bit: a config allows 20 million citizens)
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
    """Edge list of a Barabasi-Albert graph: each newcomer links to ``mean_degree / 2`` existing
    citizens, chosen in proportion to their contacts.

    Batagelj and Brandes' (2005) formulation, all links at once: the links are laid end to end
    as a list of endpoints, and each newcomer's link copies the far end of a uniformly drawn
    earlier place in that list, so a citizen is chosen in proportion to the places they hold,
    their contacts. A copied place that is itself a newcomer's far end is followed back until
    it reaches a known citizen. As in networkx, the first ``attach + 1`` citizens start as a
    star; a link that would repeat a contact or loop back to the newcomer is redrawn (up to
    ``MAX_REWIRING_ROUNDS`` times, then dropped, which happens with probability ~1/citizens)."""
    attach = max(1, min(mean_degree // 2, citizens - 1))
    star = attach + 1  # citizens 0..attach: citizen 0 linked to the others
    newcomers = citizens - star
    star_targets = np.arange(1, star, dtype=np.int64)
    if newcomers <= 0:
        return np.zeros(star_targets.size, dtype=np.int64), star_targets
    links = newcomers * attach
    star_places = 2 * star_targets.size  # places 2j (source) and 2j+1 (target) of star link j
    link = np.arange(links, dtype=np.int64)
    sources = star + link // attach  # the newcomer of each link
    # each link draws a place among those laid before its newcomer's first link
    before = star_places + 2 * (link - link % attach)
    del link
    drawn = (rng.random(links) * before).astype(np.int64)

    def resolve(which: np.ndarray) -> None:
        """The targets of links ``which`` (in increasing order): a drawn source place is its
        link's newcomer, a star place its star citizen, a newcomer's target place that link's
        target, followed back (always to an earlier link) until it reaches a citizen."""
        targets[which] = -1
        place = drawn[which]
        while which.size:
            in_star = place < star_places
            star_link = place[in_star] // 2
            targets[which[in_star]] = np.where(place[in_star] % 2 == 0, 0, star_link + 1)
            which, place = which[~in_star], place[~in_star] - star_places
            earlier = place // 2
            is_source = place % 2 == 0
            targets[which[is_source]] = sources[earlier[is_source]]
            which, earlier = which[~is_source], earlier[~is_source]
            known = targets[earlier] >= 0
            targets[which[known]] = targets[earlier[known]]
            which, place = which[~known], drawn[earlier[~known]]  # not known yet: follow that link's draw

    # A newcomer's links can repeat a contact only among themselves. A repeat is redrawn and
    # every link resolved again (links that copied its old target follow the new one); then
    # only the newcomers whose links changed are checked again.
    targets = np.empty(links, dtype=np.int64)
    everyone = np.arange(links)
    resolve(everyone)
    groups = np.arange(newcomers)
    repeats_left = True
    for _ in range(BARABASI_ALBERT_REDRAW_ROUNDS):
        chosen = targets.reshape(newcomers, attach)[groups]
        order = np.argsort(chosen, axis=1, kind="stable")
        ordered = np.take_along_axis(chosen, order, axis=1)
        repeated = ordered[:, 1:] == ordered[:, :-1]  # the later of two equal contacts is redrawn
        if not repeated.any():
            repeats_left = False
            break
        row, column = np.nonzero(repeated)
        which = groups[row] * attach + order[row, column + 1]
        drawn[which] = (rng.random(which.size) * before[which]).astype(np.int64)
        previous = targets.copy()
        resolve(everyone)
        groups = np.unique(np.flatnonzero(previous != targets) // attach)
        del previous
    keep = np.ones(links, dtype=bool)
    if repeats_left:  # repeats still left after the last round are dropped
        keep &= ~repeats(pair_keys(sources, targets, citizens))
    return np.concatenate([np.zeros(star_targets.size, dtype=np.int64), sources[keep]]), \
        np.concatenate([star_targets, targets[keep]])


def edges_to_adjacency(sources: np.ndarray, targets: np.ndarray, citizens: int) -> sp.csr_array:
    """Symmetric 0/1 CSR matrix (float32) of an undirected edge list without repeated edges.

    Built in linear time by one counting pass (scipy's own ``coo_tocsr``): each entry goes
    straight to its row, in the order of the edge list, so a row's contacts are not in
    increasing order (nothing needs them to be; ``Population.neighbours_of`` sorts one row).
    No global sort."""
    edges = sources.size
    entries = 2 * edges
    index_type = np.int32 if max(entries, citizens) < np.iinfo(np.int32).max else np.int64
    rows = np.empty(entries, dtype=index_type)
    rows[:edges] = sources
    rows[edges:] = targets
    columns = np.empty(entries, dtype=index_type)
    columns[:edges] = targets
    columns[edges:] = sources
    ones = np.ones(entries, dtype=np.float32)  # every value is 1: read and written in place
    row_starts = np.empty(citizens + 1, dtype=index_type)
    grouped_columns = np.empty(entries, dtype=index_type)
    _sparsetools.coo_tocsr(citizens, citizens, entries, rows, columns, ones, row_starts, grouped_columns, ones)
    del rows, columns
    return sp.csr_array((ones, grouped_columns, row_starts), shape=(citizens, citizens))


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
    """Number of contacts of each citizen (everyone else in a well-mixed population), float32
    (exact: a citizen has far fewer than 2**24 contacts)."""
    if adjacency_matrix is None:
        return np.full(citizens, citizens - 1, dtype=np.float32)
    return np.diff(adjacency_matrix.indptr).astype(np.float32)


def contact_weights(degree: np.ndarray) -> np.ndarray:
    """Weight of each of a citizen's contacts in their share of active contacts: 1 / contacts
    (0 for a citizen with none), float32."""
    return np.divide(np.float32(1.0), degree, out=np.zeros(degree.size, dtype=np.float32), where=degree > 0)


def active_contact_counts(adjacency_matrix: sp.csr_array, active: np.ndarray) -> np.ndarray:
    """Number of each citizen's contacts who are active, float32 (exact integers): one sparse
    matrix-vector product over the whole network."""
    return adjacency_matrix @ active.astype(np.float32)


def active_neighbour_share(adjacency_matrix: sp.csr_array | None, contact_weight: np.ndarray,
                           active: np.ndarray) -> np.ndarray:
    """Share of each citizen's contacts who are active (0 for a citizen with no contacts), float32.

    In a well-mixed population it is the share of everyone else who is active.
    """
    if adjacency_matrix is None:
        others = active.size - 1
        return ((np.count_nonzero(active) - active) / others).astype(np.float32)
    return active_contact_counts(adjacency_matrix, active) * contact_weight


class ActiveContacts:
    """Each citizen's number of active contacts, kept up to date month by month from the
    citizens whose active state changed, instead of recounted over the whole network.

    A month when ``k`` citizens changed costs the sum of their contacts (each change adds or
    takes one from every contact's count), not the network's size; only when so many changed
    that this exceeds ``FULL_RECOUNT_SHARE`` of the network's links is everything recounted
    with the matrix-vector product. Counts are whole numbers, exact in float32 below 2**24
    contacts, so both ways give bit-identical counts.
    """

    FULL_RECOUNT_SHARE = 0.125  # np.add.at costs several times a matrix-vector product per entry

    def __init__(self, adjacency_matrix: sp.csr_array, active: np.ndarray):
        self.adjacency = adjacency_matrix
        self.counted_active = active.copy()  # the active states the counts reflect
        self.counts = active_contact_counts(adjacency_matrix, active)
        self.entries_updated = 0  # contact counts changed by the last update (the work it did)
        self.recounted = True  # whether the last update recounted everything

    def update(self, active: np.ndarray) -> np.ndarray:
        """The counts for ``active``, updated from the citizens whose state changed since the last call."""
        changed = np.flatnonzero(active != self.counted_active)
        self.entries_updated, self.recounted = 0, False
        if not changed.size:
            return self.counts
        starts = self.adjacency.indptr[changed]
        lengths = self.adjacency.indptr[changed + 1] - starts
        touched = int(lengths.sum())
        if touched > self.FULL_RECOUNT_SHARE * self.adjacency.nnz:
            self.counts = active_contact_counts(self.adjacency, active)
            self.recounted = True
        else:
            # positions in ``indices`` of every changed citizen's contacts, in one array
            offsets = np.repeat(starts - np.cumsum(lengths) + lengths, lengths) + np.arange(touched)
            signs = np.where(active[changed], np.float32(1.0), np.float32(-1.0))
            np.add.at(self.counts, self.adjacency.indices[offsets], np.repeat(signs, lengths))
        self.entries_updated = touched
        self.counted_active[changed] = active[changed]
        return self.counts
