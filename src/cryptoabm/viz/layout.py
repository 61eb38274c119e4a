"""The fixed part of the network picture, computed once per network: layout and contacts.

Mesa's network drawing runs networkx's spring layout on every draw, which takes seconds for a
thousand nodes and minutes for ten thousand. Here the layout of a network is computed once
(a vectorised Fruchterman-Reingold, seeded) and kept in a small cache keyed by the network's
fingerprint, a hash of its adjacency structure: the same preset, size and seed give the same
network, so Reset and every month of every session reuse one layout. The contacts, which
never change during a run, are drawn once too, into a small transparent PNG that the page
shows behind the citizens: each month then sends only the citizens (a few hundred points),
not thousands of lines. Populations larger than :data:`MAX_DRAWN_CITIZENS` are not laid out
at all; the page shows an aggregate view by community instead, and the communities of a
network (Louvain, seeded) are cached the same way (:func:`communities`).
"""

from __future__ import annotations

import base64
import hashlib
import io
import threading
from collections import OrderedDict
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp
from matplotlib.collections import LineCollection
from matplotlib.figure import Figure

MAX_DRAWN_CITIZENS = 1_000  # more than this and the page shows the aggregate view
LAYOUT_SEED = 20_260_101  # fixed: a network always gets the same picture
LAYOUT_ITERATIONS = 60
INITIAL_TEMPERATURE = 0.1  # largest first move, as a share of the drawing's width
MIN_DISTANCE = 0.01  # keeps coincident points from dividing by zero
CACHED_NETWORKS = 16  # networks remembered (a 1,000-node drawing is about 100 kB)
PADDING = 0.03  # around the drawing, as a share of its width (the page's axes use the same)
EDGE_COLOUR, EDGE_ALPHA, EDGE_WIDTH_PT = "#8896a5", 0.35, 0.35
EDGE_IMAGE_INCHES, EDGE_IMAGE_DPI = 3.0, 200  # 600 x 600 pixels: sharp at 300 on screen
EDGE_IMAGE_COLOURS = 16  # a palette PNG: a third of the size, the same picture
MAX_COMMUNITIES = 100  # the aggregate view shows at most this many; smaller ones are pooled
COMMUNITY_SEED = 20_260_101  # fixed: a network always gets the same communities


@dataclass(frozen=True)
class NetworkDrawing:
    """What stays the same all run: where each citizen sits, and the picture of the contacts."""

    positions: np.ndarray  # n x 2, within [0, 1]
    edges_png: str  # data: URL of a transparent PNG spanning [-PADDING, 1 + PADDING] on both axes


_cache: OrderedDict[str, NetworkDrawing] = OrderedDict()
_lock = threading.Lock()


def fingerprint(adjacency: sp.csr_array | sp.csr_matrix) -> str:
    """A hash of the network's structure: equal networks, equal fingerprints."""
    digest = hashlib.sha256()
    digest.update(np.asarray(adjacency.shape, dtype=np.int64).tobytes())
    digest.update(np.ascontiguousarray(adjacency.indptr, dtype=np.int64).tobytes())
    digest.update(np.ascontiguousarray(adjacency.indices, dtype=np.int64).tobytes())
    return digest.hexdigest()


def network_drawing(adjacency: sp.csr_array | sp.csr_matrix) -> NetworkDrawing:
    """The network's layout and contacts picture, from the cache when known."""
    key = fingerprint(adjacency)
    with _lock:
        if key in _cache:
            _cache.move_to_end(key)
            return _cache[key]
    positions = force_layout(adjacency, seed=LAYOUT_SEED)
    positions.setflags(write=False)
    drawing = NetworkDrawing(positions, edges_picture(adjacency, positions))
    with _lock:
        _cache[key] = drawing
        while len(_cache) > CACHED_NETWORKS:
            _cache.popitem(last=False)
    return drawing


_community_cache: OrderedDict[str, np.ndarray] = OrderedDict()


def communities(adjacency: sp.csr_array | sp.csr_matrix) -> np.ndarray:
    """Each citizen's community (Louvain modularity, seeded), numbered from the largest (0);
    beyond :data:`MAX_COMMUNITIES` the smallest are pooled into the last number. Cached per
    network, as the layout is: a second on 10,000 citizens, once."""
    import networkx as nx

    key = fingerprint(adjacency)
    with _lock:
        if key in _community_cache:
            _community_cache.move_to_end(key)
            return _community_cache[key]
    found = nx.community.louvain_communities(nx.from_scipy_sparse_array(adjacency), seed=COMMUNITY_SEED)
    found = sorted(found, key=lambda members: (-len(members), min(members)))
    groups = np.empty(adjacency.shape[0], dtype=np.int64)
    for number, members in enumerate(found):
        groups[list(members)] = min(number, MAX_COMMUNITIES - 1)
    groups.setflags(write=False)
    with _lock:
        _community_cache[key] = groups
        while len(_community_cache) > CACHED_NETWORKS:
            _community_cache.popitem(last=False)
    return groups


def network_layout(adjacency: sp.csr_array | sp.csr_matrix) -> np.ndarray:
    """Positions (n x 2, within [0, 1]) of the network's nodes, from the cache when known."""
    return network_drawing(adjacency).positions


def is_cached(adjacency: sp.csr_array | sp.csr_matrix) -> bool:
    """Whether this network's drawing is in the cache (for tests and diagnostics)."""
    key = fingerprint(adjacency)
    with _lock:
        return key in _cache


def edges_picture(adjacency: sp.csr_array | sp.csr_matrix, positions: np.ndarray) -> str:
    """Every contact as a faint line, as a transparent PNG (data: URL) over the padded unit square."""
    upper = sp.triu(sp.coo_array(adjacency), k=1)  # each contact once
    segments = np.stack([positions[upper.row], positions[upper.col]], axis=1)
    figure = Figure(figsize=(EDGE_IMAGE_INCHES, EDGE_IMAGE_INCHES), dpi=EDGE_IMAGE_DPI)
    axes = figure.add_axes((0, 0, 1, 1))
    axes.set_xlim(-PADDING, 1 + PADDING)
    axes.set_ylim(-PADDING, 1 + PADDING)
    axes.axis("off")
    axes.add_collection(LineCollection(segments, colors=EDGE_COLOUR, linewidths=EDGE_WIDTH_PT, alpha=EDGE_ALPHA))
    rendered = io.BytesIO()
    figure.savefig(rendered, format="png", transparent=True)
    return "data:image/png;base64," + base64.b64encode(_palette_png(rendered.getvalue())).decode("ascii")


def _palette_png(png: bytes) -> bytes:
    from PIL import Image  # matplotlib's own dependency

    smaller = io.BytesIO()
    Image.open(io.BytesIO(png)).quantize(colors=EDGE_IMAGE_COLOURS).save(smaller, format="PNG", optimize=True)
    return smaller.getvalue()


def force_layout(adjacency: sp.csr_array | sp.csr_matrix, seed: int,
                 iterations: int = LAYOUT_ITERATIONS) -> np.ndarray:
    """Fruchterman-Reingold: nodes repel, contacts attract; returns positions scaled to [0, 1].

    Dense and vectorised (memory grows with the square of the nodes), for networks of up to
    a few thousand nodes.
    """
    n = adjacency.shape[0]
    rng = np.random.default_rng(seed)
    positions = rng.random((n, 2))
    if n < 2:
        return positions
    attraction = sp.csr_array(adjacency).toarray().astype(np.float64)
    ideal = np.sqrt(1.0 / n)  # ideal distance between nodes in a unit square
    temperature = INITIAL_TEMPERATURE
    cooling = temperature / (iterations + 1)
    for _ in range(iterations):
        delta = positions[:, None, :] - positions[None, :, :]
        distance = np.maximum(np.sqrt(np.einsum("ijk,ijk->ij", delta, delta)), MIN_DISTANCE)
        strength = ideal**2 / distance**2 - attraction * distance / ideal
        displacement = np.einsum("ijk,ij->ik", delta, strength)
        length = np.maximum(np.linalg.norm(displacement, axis=1), MIN_DISTANCE)
        positions += displacement * (temperature / length)[:, None]
        temperature -= cooling
    return _unit_square(positions)


def _unit_square(positions: np.ndarray) -> np.ndarray:
    low = positions.min(axis=0)
    span = np.maximum(positions.max(axis=0) - low, MIN_DISTANCE)
    return (positions - low) / span.max()
