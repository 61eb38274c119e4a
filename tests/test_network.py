"""The social network: numpy generators that match networkx's graphs in what diffusion depends on."""

import networkx as nx
import numpy as np
import pytest

import cryptoabm.network as network
from cryptoabm.network import active_neighbour_share, adjacency, contact_counts, contact_weights

CITIZENS = 2_000
MEAN_DEGREE = 10
REWIRING = 0.1
SEEDS = range(5)


def as_graph(matrix) -> nx.Graph:
    return nx.from_scipy_sparse_array(matrix)


def well_formed(matrix) -> None:
    """Undirected, 0/1, no one is their own contact, no contact twice in a row."""
    assert (matrix != matrix.T).nnz == 0
    assert set(np.unique(matrix.data)) == {1.0}
    assert matrix.diagonal().sum() == 0
    canonical = matrix.copy()
    canonical.sum_duplicates()
    assert canonical.nnz == matrix.nnz


@pytest.mark.parametrize("kind", ["watts_strogatz", "erdos_renyi", "barabasi_albert"])
def test_every_network_is_a_simple_undirected_graph_fixed_by_its_seed(kind):
    first = adjacency(kind, CITIZENS, MEAN_DEGREE, REWIRING, np.random.default_rng(7))
    again = adjacency(kind, CITIZENS, MEAN_DEGREE, REWIRING, np.random.default_rng(7))
    other = adjacency(kind, CITIZENS, MEAN_DEGREE, REWIRING, np.random.default_rng(8))
    well_formed(first)
    assert (first != again).nnz == 0
    assert (first != other).nnz > 0


def test_small_world_without_rewiring_is_the_ring_lattice():
    matrix = adjacency("watts_strogatz", 50, 4, 0.0, np.random.default_rng(1))
    lattice = nx.watts_strogatz_graph(50, 4, 0.0)
    assert {frozenset(e) for e in as_graph(matrix).edges()} == {frozenset(e) for e in lattice.edges()}


def test_small_world_keeps_every_citizen_at_least_half_their_lattice_contacts():
    matrix = adjacency("watts_strogatz", CITIZENS, MEAN_DEGREE, REWIRING, np.random.default_rng(3))
    assert matrix.nnz == CITIZENS * MEAN_DEGREE  # rewiring moves edges, never adds or drops them
    assert contact_counts(matrix, CITIZENS).min() >= MEAN_DEGREE // 2


def test_small_world_rewires_the_configured_share_of_edges():
    matrix = adjacency("watts_strogatz", CITIZENS, MEAN_DEGREE, REWIRING, np.random.default_rng(4))
    ring = adjacency("watts_strogatz", CITIZENS, MEAN_DEGREE, 0.0, np.random.default_rng(4))
    rewired_share = 1 - (matrix.multiply(ring)).nnz / ring.nnz
    assert rewired_share == pytest.approx(REWIRING, abs=0.01)


def test_small_world_matches_networkx_in_clustering():
    """Imitation spreads through closed triangles of contacts: clustering must match
    networkx's Watts-Strogatz graphs (averages over seeds)."""
    ours = np.mean([nx.average_clustering(as_graph(adjacency("watts_strogatz", CITIZENS, MEAN_DEGREE, REWIRING,
                                                                     np.random.default_rng(s)))) for s in SEEDS])
    theirs = np.mean([nx.average_clustering(nx.watts_strogatz_graph(CITIZENS, MEAN_DEGREE, REWIRING, seed=s))
                      for s in SEEDS])
    assert ours == pytest.approx(theirs, rel=0.02)


def test_small_world_path_lengths_match_networkx():
    """Rewired shortcuts make the world small: mean distances must match networkx's too."""
    sample = range(0, CITIZENS, 50)
    def mean_distance(graph):
        return np.mean([np.mean(list(nx.single_source_shortest_path_length(graph, s).values())) for s in sample])
    ours = np.mean([mean_distance(as_graph(adjacency("watts_strogatz", CITIZENS, MEAN_DEGREE, REWIRING,
                                                             np.random.default_rng(s)))) for s in SEEDS])
    theirs = np.mean([mean_distance(nx.watts_strogatz_graph(CITIZENS, MEAN_DEGREE, REWIRING, seed=s)) for s in SEEDS])
    assert ours == pytest.approx(theirs, rel=0.03)


@pytest.mark.parametrize("enumerated_pairs_max", [network.ENUMERATED_PAIRS_MAX, 0], ids=["pair by pair", "sampled edges"])
def test_random_graph_has_binomial_edges_and_poisson_degrees(monkeypatch, enumerated_pairs_max):
    monkeypatch.setattr(network, "ENUMERATED_PAIRS_MAX", enumerated_pairs_max)
    p = MEAN_DEGREE / (CITIZENS - 1)
    pairs = CITIZENS * (CITIZENS - 1) / 2
    edges = []
    for seed in SEEDS:
        matrix = adjacency("erdos_renyi", CITIZENS, MEAN_DEGREE, REWIRING, np.random.default_rng(seed))
        edges.append(matrix.nnz / 2)
        degrees = contact_counts(matrix, CITIZENS)
        assert degrees.var() == pytest.approx(MEAN_DEGREE * (1 - p), rel=0.15)  # Poisson: variance = mean
    sd_of_mean = np.sqrt(pairs * p * (1 - p) / len(SEEDS))
    assert abs(np.mean(edges) - pairs * p) < 4 * sd_of_mean


def test_scale_free_network_is_networkx_preferential_attachment():
    attach = MEAN_DEGREE // 2
    ours = [adjacency("barabasi_albert", CITIZENS, MEAN_DEGREE, REWIRING, np.random.default_rng(seed)) for seed in SEEDS]
    theirs = [nx.barabasi_albert_graph(CITIZENS, attach, seed=seed) for seed in SEEDS]
    for matrix in ours:  # each newcomer's links, less the rare repeat that is dropped
        assert attach * (CITIZENS - attach) * 0.995 <= matrix.nnz / 2 <= attach * (CITIZENS - attach)
        assert contact_counts(matrix, CITIZENS).min() >= 1
    hubs = np.mean([contact_counts(matrix, CITIZENS).max() for matrix in ours])
    their_hubs = np.mean([max(degree for _, degree in graph.degree()) for graph in theirs])
    assert hubs > 10 * MEAN_DEGREE and hubs == pytest.approx(their_hubs, rel=0.3)
    clustering = np.mean([nx.average_clustering(as_graph(matrix)) for matrix in ours])
    assert clustering == pytest.approx(np.mean([nx.average_clustering(graph) for graph in theirs]), rel=0.3)


def test_active_contact_share_is_the_share_of_each_citizens_contacts_who_are_active():
    matrix = adjacency("watts_strogatz", 12, 4, 0.0, np.random.default_rng(0))  # ring: i ~ i±1, i±2
    active = np.zeros(12, dtype=bool)
    active[[1, 2]] = True
    share = active_neighbour_share(matrix, contact_weights(contact_counts(matrix, 12)), active)
    assert share[0] == pytest.approx(2 / 4) and share[3] == pytest.approx(2 / 4) and share[6] == 0.0
    assert share[1] == pytest.approx(1 / 4)  # a citizen is not their own contact


def test_well_mixed_population_sees_everyone_else():
    assert adjacency("well_mixed", 10, 4, 0.0, np.random.default_rng(0)) is None
    active = np.array([True, True] + [False] * 8)
    share = active_neighbour_share(None, contact_weights(contact_counts(None, 10)), active)
    assert share[0] == pytest.approx(1 / 9) and share[5] == pytest.approx(2 / 9)
