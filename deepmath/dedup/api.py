"""In-memory exact + near-duplicate detection for a collection that fits in memory (e.g. the SFT mix builder).

    from deepmath.dedup.api import find_duplicates
    removed = find_duplicates(texts, ids, threshold=0.8)   # {removed_id: kept_id}

The same shingling, signatures, band buckets, exact-Jaccard verification and keep policies as `deepmath dedup`,
without datatrove or files: documents with equal normalised text are exact duplicates; others are near duplicates
when LSH makes them a candidate pair and the Jaccard of their shingle sets is at least `threshold`. Clusters are
connected components; each keeps one member (`keep`) and every other member maps to it.
"""

from __future__ import annotations

import numpy as np

from deepmath.dedup.buckets import bucket_pairs, unique_pairs
from deepmath.dedup.clusters import KEEP_POLICIES, choose_kept, connected_clusters, exact_duplicate_pairs
from deepmath.dedup.shingles import ShingleBatch, shingle_batch
from deepmath.dedup.signatures import Permutations, band_keys, lsh_params, signatures
from deepmath.dedup.verify import exact_jaccard

__all__ = ["find_duplicates", "near_duplicate_edges"]

_BATCH = 1024


def near_duplicate_edges(
    batch: ShingleBatch,
    docs: np.ndarray,
    threshold: float,
    num_perm: int = 128,
    seed: int = 1,
) -> tuple[np.ndarray, np.ndarray]:
    """(edges, jaccard): verified near-duplicate pairs among `docs` of `batch`, and the Jaccard of every candidate."""
    params = lsh_params(threshold, num_perm)
    sigs = signatures(batch, Permutations(num_perm, seed), docs)
    keys = band_keys(sigs, params.bands, params.rows)
    candidates = unique_pairs(np.concatenate([bucket_pairs(band, docs) for band in keys]))
    jaccard = exact_jaccard(candidates, batch.doc)
    return candidates[jaccard >= threshold], jaccard


def find_duplicates(
    texts: list[str],
    ids: list[str] | None = None,
    *,
    threshold: float = 0.8,
    ngram: int = 5,
    num_perm: int = 128,
    seed: int = 1,
    scores: list[float] | None = None,
    keep: str = "first",
) -> dict[str, str]:
    """Exact and near duplicates of `texts`: {removed_id: kept_id it duplicates} (ids default to "0", "1", ...)."""
    if isinstance(texts, str):
        raise TypeError("texts must be a list of strings, not one string")
    if ids is None:
        ids = [str(i) for i in range(len(texts))]
    if len(ids) != len(texts):
        raise ValueError(f"got {len(texts)} texts but {len(ids)} ids")
    if len(set(ids)) != len(ids):
        raise ValueError("ids must be distinct")
    if keep not in KEEP_POLICIES:
        raise ValueError(f"keep must be one of {KEEP_POLICIES}, not {keep!r}")
    if keep == "score" and scores is None:
        raise ValueError("keep='score' needs scores")
    if scores is not None and len(scores) != len(texts):
        raise ValueError(f"got {len(texts)} texts but {len(scores)} scores")
    bad = [i for i, t in enumerate(texts) if not isinstance(t, str)]
    if bad:
        raise TypeError(f"texts[{bad[0]}] is {type(texts[bad[0]]).__name__}, not str")
    if not texts:
        return {}
    batch = ShingleBatch.concat([shingle_batch(texts[i : i + _BATCH], ngram) for i in range(0, len(texts), _BATCH)])
    number = np.arange(len(texts), dtype=np.int64)
    has_words = batch.n_words > 0
    exact = exact_duplicate_pairs(batch.exact[has_words], number[has_words])
    unique = np.setdiff1d(number[has_words], exact[:, 0])
    edges, _ = near_duplicate_edges(batch, unique, threshold, num_perm, seed)
    nodes, labels = connected_clusters(np.concatenate([exact, edges]))
    lengths = np.fromiter((len(texts[i]) for i in nodes), dtype=np.int64, count=len(nodes))
    node_scores = None if scores is None else np.array([_score(scores[i]) for i in nodes], dtype=np.float64)
    kept = nodes[choose_kept(labels, nodes, keep, lengths, node_scores)]
    return {ids[n]: ids[k] for n, k in zip(nodes.tolist(), kept.tolist()) if n != k}


def _score(value) -> float:
    try:
        return float(value)
    except (TypeError, ValueError):
        return float("nan")
