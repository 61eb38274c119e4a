"""The citizens' social network, as a sparse adjacency matrix.

Graphs are built with networkx from a seed drawn from the run's network stream, then kept
only as a compressed sparse row matrix: the share of each citizen's contacts who are
active is then one sparse matrix-vector product for the whole population.
``complete`` (alias ``well_mixed``) builds no graph at all: every citizen sees the
population average, which is the classic Bass diffusion setting.
"""

from __future__ import annotations

import networkx as nx
import numpy as np
import scipy.sparse as sp

WELL_MIXED = ("complete", "well_mixed")


def build_graph(kind: str, citizens: int, mean_degree: int, rewiring_probability: float, seed: int) -> nx.Graph:
    """A networkx graph of the given family; node i is citizen i."""
    if kind == "watts_strogatz":
        return nx.watts_strogatz_graph(citizens, min(mean_degree, citizens - 1), rewiring_probability, seed=seed)
    if kind == "barabasi_albert":
        attach = max(1, min(mean_degree // 2, citizens - 1))
        return nx.barabasi_albert_graph(citizens, attach, seed=seed)
    if kind == "erdos_renyi":
        return nx.fast_gnp_random_graph(citizens, min(1.0, mean_degree / (citizens - 1)), seed=seed)
    if kind in WELL_MIXED:
        return nx.complete_graph(citizens)
    raise ValueError(f"unknown network kind {kind!r}")


def adjacency(kind: str, citizens: int, mean_degree: int, rewiring_probability: float, seed: int) -> sp.csr_array | None:
    """Symmetric 0/1 adjacency in CSR form (float32), or None for a well-mixed population."""
    if kind in WELL_MIXED:
        return None
    graph = build_graph(kind, citizens, mean_degree, rewiring_probability, seed)
    matrix = nx.to_scipy_sparse_array(graph, nodelist=range(citizens), dtype=np.float32, format="csr")
    return sp.csr_array(matrix)


def active_neighbour_share(adjacency_matrix: sp.csr_array | None, degree: np.ndarray, active: np.ndarray) -> np.ndarray:
    """Share of each citizen's contacts who are active (0 for a citizen with no contacts).

    In a well-mixed population it is the share of everyone else who is active.
    """
    if adjacency_matrix is None:
        others = active.size - 1
        return (np.count_nonzero(active) - active) / others
    counts = adjacency_matrix @ active.astype(np.float32)
    return np.divide(counts, degree, out=np.zeros(active.size, dtype=np.float64), where=degree > 0)
