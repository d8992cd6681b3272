"""Verified edges -> clusters (connected components) -> which member each cluster keeps.

Clusters are connected components of the graph of exact-duplicate and verified near-duplicate edges (union-find,
vectorised with numpy). Each cluster keeps one member:
- "first": the earliest in reading order (smallest document number),
- "longest": the most characters, ties to the earliest,
- "score": the highest score (e.g. the mining classifier's), missing scores lowest, ties to the earliest.
"""

from __future__ import annotations

import numpy as np

__all__ = ["KEEP_POLICIES", "choose_kept", "connected_clusters", "exact_duplicate_pairs"]

KEEP_POLICIES = ("first", "longest", "score")


def connected_clusters(edges: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(nodes, labels): the distinct document numbers of `edges` (sorted) and a cluster label for each (0, 1, ...)."""
    if len(edges) == 0:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
    nodes, inverse = np.unique(edges, return_inverse=True)
    u, v = inverse.reshape(-1, 2).T
    # union-find, vectorised: hook the larger root of every edge under the smaller, then jump pointers until every
    # node points at its root; repeat until no edge joins two roots (a few rounds: pointer jumping halves chains)
    parent = np.arange(len(nodes))
    while True:
        pu, pv = parent[u], parent[v]
        joins = pu != pv
        if not joins.any():
            break
        np.minimum.at(parent, np.maximum(pu, pv)[joins], np.minimum(pu, pv)[joins])
        while True:
            jumped = parent[parent]
            if np.array_equal(jumped, parent):
                break
            parent = jumped
    _, labels = np.unique(parent, return_inverse=True)
    return nodes, labels.astype(np.int64)


def choose_kept(
    labels: np.ndarray,
    order: np.ndarray,
    keep: str = "first",
    lengths: np.ndarray | None = None,
    scores: np.ndarray | None = None,
) -> np.ndarray:
    """For each node, the index (into the node arrays) of the member its cluster keeps."""
    if keep not in KEEP_POLICIES:
        raise ValueError(f"keep must be one of {KEEP_POLICIES}, not {keep!r}")
    if len(labels) == 0:
        return np.zeros(0, dtype=np.int64)
    if keep == "first":
        ranking = np.lexsort((order, labels))
    elif keep == "longest":
        if lengths is None:
            raise ValueError("keep='longest' needs lengths")
        ranking = np.lexsort((order, -np.asarray(lengths, dtype=np.int64), labels))
    else:
        if scores is None:
            raise ValueError("keep='score' needs scores")
        scores = np.nan_to_num(np.asarray(scores, dtype=np.float64), nan=-np.inf)
        ranking = np.lexsort((order, -scores, labels))
    sorted_labels = labels[ranking]
    first = np.concatenate(([True], sorted_labels[1:] != sorted_labels[:-1]))
    winner_of_label = np.empty(labels.max() + 1, dtype=np.int64)
    winner_of_label[sorted_labels[first]] = ranking[first]
    return winner_of_label[labels]


def exact_duplicate_pairs(hashes: np.ndarray, ids: np.ndarray) -> np.ndarray:
    """(dup, first) pairs for rows of `hashes` ((n, 2) uint64 text hashes) equal to a row with a smaller id."""
    if len(ids) < 2:
        return np.zeros((0, 2), dtype=np.int64)
    ids = np.asarray(ids, dtype=np.int64)
    order = np.lexsort((ids, hashes[:, 1], hashes[:, 0]))
    h, ids = hashes[order], ids[order]
    new = np.ones(len(ids), dtype=bool)
    new[1:] = (h[1:, 0] != h[:-1, 0]) | (h[1:, 1] != h[:-1, 1])
    first = ids[np.flatnonzero(new)[np.cumsum(new) - 1]]
    return np.stack([ids[~new], first[~new]], axis=1)
