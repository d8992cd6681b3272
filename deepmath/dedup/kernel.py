"""Shingle hashes + MinHash signatures of a batch of texts: the compiled kernel when it was built, else numpy.

`sketch(texts, ngram, perms)` returns the `ShingleBatch` of `shingles.shingle_batch` and the signatures of
`signatures.signatures` for every text (empty texts keep datasketch's empty value), bit for bit, by one of two paths:
- compiled (`_kernel.c`, built from pyproject.toml's `ext-modules` at `pip install`): one pass per document
  normalises through the same character table (folds to several characters with letters, e.g. "ﬁ", "™", "½", are
  expanded there too), hashes each shingle and folds its `num_perm` permuted values into the running minima, with no
  (shingles x num_perm) matrix. A page with a code point outside the BMP seen for the first time (or more than 64
  characters added by expansions) goes through numpy instead, which also resolves those characters in the shared
  table.
- numpy (`shingle_batch` + `signatures`): used when the extension is missing (no C compiler at install time) or
  `DEEPMATH_DEDUP_KERNEL=numpy` is set (for comparisons; tests check both paths agree).
The extension (`_kernel_sets.c`) also sorts each page's shingle set (`shingle_sets`; with AVX-512 a merge sort of
16-value registers, else a bucket sort: the same sets), verifies candidate pairs (`verify_ordered`) and compares
signatures (`estimate_pairs`) for MinhashVerify, in place over memory-mapped files, and finds each band's buckets
(`compiled_bucket_pairs`, behind `buckets.bucket_pairs`). Those three release the GIL: with `threads`, verification
runs on groups of whole connected components (`component_groups`) and estimates on slices of the pairs at once.
`KERNEL` says which path runs ("compiled" or "numpy"); the dedup stage logs it at DEBUG and writes it to stats.json.
"""

from __future__ import annotations

import itertools
import logging
import os
import threading

import numpy as np

from deepmath.dedup.shingles import ShingleBatch, _exact_hashes, shingle_batch
from deepmath.dedup.signatures import Permutations, signatures
from deepmath.text.chars import bmp_expansions, fold_table

__all__ = [
    "KERNEL",
    "compiled_bucket_pairs",
    "component_groups",
    "estimate_pairs",
    "in_threads",
    "release_scratch",
    "shingle_sets",
    "sketch",
    "verify_ordered",
    "warm_up",
]

logger = logging.getLogger(__name__)

try:
    from deepmath.dedup import _kernel
except ImportError:  # built without a C compiler (the extension is optional): numpy path
    _kernel = None

if os.environ.get("DEEPMATH_DEDUP_KERNEL", "").lower() == "numpy":
    _kernel = None

KERNEL = "compiled" if _kernel is not None else "numpy"


_EXTRA = 64  # characters the expansions of one document may add in the kernel (EXTRA in _kernel.c)


def warm_up() -> None:
    """Build the shared character table now (~5 ms from the shipped tables, ~30 ms computed), e.g. before forking
    workers that would each build it."""
    fold_table()
    if _kernel is not None:
        bmp_expansions()  # what the kernel splices in for a fold of several characters (shingles._expand_slow's)


def sketch(texts: list[str], ngram: int, perms: Permutations, compiled: bool | None = None, sets: bool = False):
    """(ShingleBatch, signatures (docs x num_perm)) of `texts`; `compiled` forces a path (None: the best built).
    With `sets`, each document's hashes are its sorted set, repeats dropped (what `shingle_sets` makes of them; the
    kernel sorts each one right after hashing it, while it is in cache)."""
    use_kernel = _kernel is not None if compiled is None else compiled
    if compiled and _kernel is None:
        raise RuntimeError("the compiled dedup kernel is not built (pip install -e . with a C compiler)")
    if not use_kernel or not texts:
        batch = shingle_batch(texts, ngram)
        sigs = signatures(batch, perms)
        return (_as_sets(batch, compiled=False) if sets else batch), sigs
    return _sketch_compiled(list(texts), ngram, perms, sets)


def _as_sets(batch: ShingleBatch, compiled: bool | None = None) -> ShingleBatch:
    batch.hashes, batch.offsets = shingle_sets(batch.hashes, batch.offsets, compiled=compiled)
    return batch


def _sketch_compiled(
    texts: list[str], ngram: int, perms: Permutations, sets: bool = False
) -> tuple[ShingleBatch, np.ndarray]:
    if ngram < 1:
        raise ValueError(f"ngram must be at least 1, got {ngram}")
    n_docs = len(texts)
    chars = sum(map(len, texts))
    a, b = perms.ab
    sigs = np.empty((n_docs, perms.num_perm), dtype=perms.dtype)
    room = chars + _EXTRA * n_docs + 1
    hashes = _scratch("hashes", room)
    offsets = np.empty(n_docs + 1, dtype=np.int64)
    canon = _scratch("canon", 2 * room)
    canon_bounds = np.empty(n_docs + 1, dtype=np.int64)
    n_words = np.empty(n_docs, dtype=np.int64)
    slow = np.zeros(n_docs, dtype=np.uint8)
    n_hashes, n_canon = _kernel.sketch(
        texts,
        fold_table(),
        *bmp_expansions(),
        ngram,
        a,
        b,
        sigs,
        hashes,
        offsets,
        canon,
        canon_bounds,
        n_words,
        slow,
        sets,
    )
    hashes = hashes[:n_hashes].copy()
    exact = _exact_hashes(canon[:n_canon], canon_bounds)
    batch = ShingleBatch(hashes=hashes, offsets=offsets, exact=exact, n_words=n_words)
    slow_docs = np.flatnonzero(slow)
    if len(slow_docs):
        _splice_slow(batch, sigs, [texts[i] for i in slow_docs.tolist()], slow_docs, ngram, perms, sets)
    return batch, sigs


_workspace = threading.local()


def _scratch(name: str, size: int) -> np.ndarray:
    """A uint32 work array of at least `size` items, kept between calls of this thread: a fresh array of this size
    (megabytes per batch) is fresh memory the kernel must fault in page by page, ~7% of a whole dedup run."""
    array = getattr(_workspace, name, None)
    if array is None or len(array) < size:
        array = np.empty(max(size, 2 * len(array) if array is not None else 0), dtype=np.uint32)
        setattr(_workspace, name, array)
    return array[:size]


def release_scratch() -> None:
    """Free this thread's work arrays. Not after each shard: the next task in the same worker would fault the
    same megabytes in again (~3 ms a task); the dedup stage calls it when its pipelines are done."""
    _workspace.__dict__.clear()


def _splice_slow(
    batch: ShingleBatch,
    sigs: np.ndarray,
    texts: list[str],
    docs: np.ndarray,
    ngram: int,
    perms: Permutations,
    sets: bool = False,
) -> None:
    """Put the numpy path's results for `docs` (the kernel left them with no shingles) into `batch` and `sigs`."""
    logger.debug("dedup kernel: %d document(s) of %d through the numpy path (slow characters)", len(docs), len(batch))
    slow = shingle_batch(texts, ngram)
    sigs[docs] = signatures(slow, perms)
    if sets:
        _as_sets(slow)  # the kernel's sort (`sort_sets`) when it is built, as for every other page
    batch.exact[docs] = slow.exact
    batch.n_words[docs] = slow.n_words
    counts = np.diff(slow.offsets)
    batch.hashes = np.insert(batch.hashes, np.repeat(batch.offsets[docs], counts), slow.hashes)
    added = np.zeros(len(batch) + 1, dtype=np.int64)
    added[docs + 1] = counts
    batch.offsets = batch.offsets + np.cumsum(added)


# below this many pairs a second thread costs more than it saves (~0.1 ms to start one)
_MIN_PAIRS_PER_THREAD = 4096


def in_threads(jobs: list) -> None:
    """Run the callables `jobs` at once: the first in this thread, the others in threads of their own (the kernel
    functions they call release the GIL); the first exception raised is raised here, after all have ended."""
    errors: list[BaseException] = []

    def guarded(job) -> None:
        try:
            job()
        except BaseException as err:  # re-raised in the calling thread below
            errors.append(err)

    threads = [threading.Thread(target=guarded, args=(job,), daemon=True) for job in jobs[1:]]
    for thread in threads:
        thread.start()
    if jobs:
        guarded(jobs[0])
    for thread in threads:
        thread.join()
    if errors:
        raise errors[0]


def component_groups(pairs: np.ndarray, n_nodes: int, groups: int) -> list[np.ndarray]:
    """The pair indices (ascending) of `groups` sets of whole connected components of the graph of `pairs`, with
    about as many pairs each: verifying each set on its own gives what verifying all pairs in order gives, since
    whether a pair is checked depends only on the accepted pairs of its own component. Compiled kernel only."""
    labels = np.empty(n_nodes, dtype=np.int64)
    _kernel.components(
        np.ascontiguousarray(pairs[:, 0], dtype=np.int64), np.ascontiguousarray(pairs[:, 1], dtype=np.int64), labels
    )
    component = labels[pairs[:, 0]]
    # components in label order, cut where the running pair count crosses each 1/groups of the total: a component
    # larger than a share makes its group larger (verification within a component is sequential)
    sizes = np.bincount(component, minlength=n_nodes)
    before = np.cumsum(sizes) - sizes
    group_of = np.minimum(before * groups // max(1, len(pairs)), groups - 1)[component]
    return [index for g in range(groups) if len(index := np.flatnonzero(group_of == g))]


def verify_ordered(
    pairs: np.ndarray,
    shard: np.ndarray,
    position: np.ndarray,
    shingles: list[np.ndarray],
    offsets: list[np.ndarray],
    threshold: float,
    cache_bytes: int = 1 << 28,
    threads: int = 1,
) -> tuple[np.ndarray, np.ndarray]:
    """MinhashVerify's exact check in the compiled kernel: `pairs` (n, 2) of node indices in checking order, node k
    being document `position[k]` of shard `shard[k]` whose shingle hashes are `shingles[s][offsets[s][p]:
    offsets[s][p + 1]]`. A pair already connected by accepted pairs is skipped. Returns (status, jaccard) per pair:
    status 0 skipped, 1 checked and below `threshold`, 2 accepted; jaccard is set where status > 0. With `threads`
    > 1, groups of whole connected components (`component_groups`) are verified at once, one thread each: the same
    result."""
    if _kernel is None:
        raise RuntimeError("the compiled dedup kernel is not built")
    status = np.zeros(len(pairs), dtype=np.uint8)
    jaccard = np.zeros(len(pairs), dtype=np.float32)
    common = (
        np.ascontiguousarray(shard, dtype=np.int64),
        np.ascontiguousarray(position, dtype=np.int64),
        [np.ascontiguousarray(m, dtype=np.uint32) for m in shingles],
        [np.ascontiguousarray(o, dtype=np.int64) for o in offsets],
        float(threshold),
    )
    groups = min(int(threads), len(pairs) // _MIN_PAIRS_PER_THREAD)
    if groups < 2:
        _kernel.verify(
            np.ascontiguousarray(pairs[:, 0], dtype=np.int64),
            np.ascontiguousarray(pairs[:, 1], dtype=np.int64),
            *common,
            int(cache_bytes),
            jaccard,
            status,
        )
        return status, jaccard
    parts = component_groups(pairs, len(common[0]), groups)

    def job(index: np.ndarray):
        def run() -> None:
            part_status = np.zeros(len(index), dtype=np.uint8)
            part_jaccard = np.zeros(len(index), dtype=np.float32)
            _kernel.verify(
                np.ascontiguousarray(pairs[index, 0], dtype=np.int64),
                np.ascontiguousarray(pairs[index, 1], dtype=np.int64),
                *common,
                int(cache_bytes) // len(parts),
                part_jaccard,
                part_status,
            )
            status[index], jaccard[index] = part_status, part_jaccard

        return run

    in_threads([job(index) for index in parts])
    return status, jaccard


def shingle_sets(hashes: np.ndarray, offsets: np.ndarray, compiled: bool | None = None):
    """Each document's shingle hashes `hashes[offsets[i]:offsets[i + 1]]` as a sorted set (repeats dropped):
    (values, offsets) in the same layout. The signature step stores these, so verification reads sets in place."""
    offsets = np.ascontiguousarray(offsets, dtype=np.int64)
    if (_kernel is not None if compiled is None else compiled) and len(offsets) > 1:
        values = np.array(hashes, dtype=np.uint32)  # a copy, sorted in place
        out = np.empty_like(offsets)
        kept = _kernel.sort_sets(values, offsets, out)
        return values[:kept], out
    doc = np.repeat(np.arange(len(offsets) - 1), np.diff(offsets))
    order = np.lexsort((hashes, doc))
    values, doc = np.asarray(hashes, dtype=np.uint32)[order], doc[order]
    keep = np.ones(len(values), dtype=bool)
    keep[1:] = (values[1:] != values[:-1]) | (doc[1:] != doc[:-1])
    out = np.zeros_like(offsets)
    np.cumsum(np.bincount(doc[keep], minlength=len(offsets) - 1), out=out[1:])
    return values[keep], out


def compiled_bucket_pairs(keys: np.ndarray, ids: np.ndarray, all_pairs_up_to: int) -> np.ndarray | None:
    """`buckets.bucket_pairs(keys, ids, unique=False)` in the compiled kernel (a radix sort of the keys and one
    pass over their runs: ~4x numpy's dozen calls per band); the same pairs, in another order, as a read-only
    (n, 2) int64 array. None without the kernel (or with one built before it had this function)."""
    if getattr(_kernel, "bucket_pairs", None) is None:
        return None
    raw = _kernel.bucket_pairs(
        np.ascontiguousarray(keys, dtype=np.uint64), np.ascontiguousarray(ids, dtype=np.int64), int(all_pairs_up_to)
    )
    return np.frombuffer(raw, dtype=np.int64).reshape(-1, 2)


def estimate_pairs(
    left: tuple, right: tuple, signatures: list[np.ndarray], num_perm: int, threads: int = 1
) -> np.ndarray:
    """`verify.estimated_jaccard` of the signature rows (shard, position) `left[0][i], left[1][i]` and `right...`,
    read in place from the per-shard signature arrays (no gathered copy); with `threads`, slices of the pairs at
    once. Compiled kernel only."""
    if _kernel is None:
        raise RuntimeError("the compiled dedup kernel is not built")
    out = np.empty(len(left[0]), dtype=np.float32)
    as64 = [np.ascontiguousarray(a, dtype=np.int64) for a in (*left, *right)]
    maps = [np.ascontiguousarray(s) for s in signatures]
    bounds = np.linspace(0, len(out), max(1, min(int(threads), len(out) // _MIN_PAIRS_PER_THREAD)) + 1).astype(int)

    def job(lo: int, hi: int):
        return lambda: _kernel.estimate(*(a[lo:hi] for a in as64), maps, int(num_perm), out[lo:hi])

    in_threads([job(lo, hi) for lo, hi in itertools.pairwise(bounds.tolist())])
    return out
