"""LSH band buckets -> candidate pairs, vectorised: sort the band keys, and pair up the documents of each run of
equal keys.

A bucket of k documents gives all k(k-1)/2 pairs when k is small (at most `ALL_PAIRS_UP_TO`), else a star (every
member with the first) plus a chain (every member with the one before it): 2(k-1) pairs instead of k^2. datatrove
emits only the star; because we verify every pair, a star around a false candidate would lose the true pairs behind
it, and the chain keeps them (each true pair also gets a chance in every other band).

With the compiled kernel built, a band's pairs come from `kernel.compiled_bucket_pairs` (a radix sort and one pass
over the runs, the same pairs); the numpy code below is the other path and the definition the tests hold both to.
"""

from __future__ import annotations

import functools

import numpy as np

from deepmath.dedup.kernel import compiled_bucket_pairs

__all__ = ["ALL_PAIRS_UP_TO", "bucket_pairs", "unique_pairs"]

ALL_PAIRS_UP_TO = 12


def unique_pairs(pairs: np.ndarray) -> np.ndarray:
    """Distinct rows of an (n, 2) int64 array of non-negative values, sorted."""
    if len(pairs) == 0:
        return np.zeros((0, 2), dtype=np.int64)
    codec = pair_codec(pairs)
    if codec is not None:  # one int64 sort instead of a two-key lexsort (~5x faster)
        pack, unpack = codec
        return unpack(unique_sorted(pack(pairs)))
    order = np.lexsort((pairs[:, 1], pairs[:, 0]))
    pairs = pairs[order]
    new = np.ones(len(pairs), dtype=bool)
    new[1:] = (pairs[1:, 0] != pairs[:-1, 0]) | (pairs[1:, 1] != pairs[:-1, 1])
    return pairs[new]


def unique_sorted(keys: np.ndarray) -> np.ndarray:
    """Sorted distinct values (sorts `keys` in place): sort + neighbour test, ~2x faster than np.unique's hash."""
    keys.sort()
    first = np.ones(len(keys), dtype=bool)
    np.not_equal(keys[1:], keys[:-1], out=first[1:])
    return keys[first]


def pair_codec(numbers: np.ndarray):
    """(pack, unpack) between (n, 2) pairs of the document numbers `numbers` (`shard << 40 | position`, any
    shape) and one int64 per pair that sorts like the pair, when both halves fit in 31 bits once the unused bits
    are squeezed out; None when they do not (or a number is negative)."""
    if numbers.size == 0 or int(numbers.min()) < 0:
        return None
    high_bits = (int(numbers.max()) >> 40).bit_length()
    low_bits = int((numbers & ((1 << 40) - 1)).max()).bit_length()
    bits = low_bits + high_bits
    if bits > 31:
        return None
    low_mask = (1 << low_bits) - 1

    def pack(pairs: np.ndarray) -> np.ndarray:
        squeezed = ((pairs >> 40) << low_bits) | (pairs & low_mask)
        return (squeezed[:, 0] << bits) | squeezed[:, 1]

    def unpack(keys: np.ndarray) -> np.ndarray:
        halves = np.stack([keys >> bits, keys & ((1 << bits) - 1)], axis=1)
        return ((halves >> low_bits) << 40) | (halves & low_mask)

    return pack, unpack


def bucket_pairs(keys: np.ndarray, ids: np.ndarray, unique: bool = True, compiled: bool = True) -> np.ndarray:
    """(n, 2) int64 pairs (a < b) of `ids` whose `keys` are equal; ids must be distinct. With `unique=False` a pair
    may appear twice (a star and a chain pair coincide) and the order is the compiled kernel's (when built; else
    numpy's, as with `compiled=False`), for callers that deduplicate many bands at once."""
    if len(keys) < 2:
        return np.zeros((0, 2), dtype=np.int64)
    pairs = compiled_bucket_pairs(keys, ids, ALL_PAIRS_UP_TO) if compiled else None
    if pairs is None:
        pairs = _numpy_bucket_pairs(keys, ids)
    return unique_pairs(pairs) if unique else pairs


def _numpy_bucket_pairs(keys: np.ndarray, ids: np.ndarray) -> np.ndarray:
    # an unstable sort of the keys alone (~5x a two-key lexsort): inside a small bucket every pair is taken, so the
    # order there does not matter (each pair is put as (smaller, larger)); only large buckets are ordered by id
    order = np.argsort(keys)
    keys, ids = keys[order], np.asarray(ids, dtype=np.int64)[order]
    starts = np.flatnonzero(np.concatenate(([True], keys[1:] != keys[:-1])))
    return _run_pairs(ids, starts)


def _run_pairs(ids: np.ndarray, starts: np.ndarray) -> np.ndarray:
    """The pairs of the runs of `ids` that begin at `starts` (all pairs of a small run, star and chain of a large
    one); `ids` is reordered in place inside large runs."""
    sizes = np.diff(np.append(starts, len(ids)))
    starts, sizes = starts[sizes > 1], sizes[sizes > 1]
    pieces = [np.zeros((0, 2), dtype=np.int64)]
    small = sizes <= ALL_PAIRS_UP_TO
    for size in np.flatnonzero(np.bincount(sizes[small])):  # not np.unique: its first call imports numpy.ma (~7 ms)
        first = starts[sizes == size][:, None]
        left, right = _triangle(int(size))
        a, b = ids[first + left].ravel(), ids[first + right].ravel()
        pieces.append(np.stack([np.minimum(a, b), np.maximum(a, b)], axis=1))
    if (~small).any():
        big_starts, big_sizes = starts[~small], sizes[~small]
        members = np.repeat(big_starts, big_sizes) + (
            np.arange(big_sizes.sum()) - np.repeat(np.cumsum(big_sizes) - big_sizes, big_sizes)
        )
        run_of = np.repeat(np.arange(len(big_starts)), big_sizes)
        ids[members] = ids[members][np.lexsort((ids[members], run_of))]  # each large bucket by id: star and chain
        run = np.repeat(np.arange(len(big_starts)), big_sizes - 1)
        within = np.arange(len(run)) - np.repeat(np.cumsum(big_sizes - 1) - (big_sizes - 1), big_sizes - 1)
        member = big_starts[run] + within + 1
        pieces.append(np.stack([ids[big_starts[run]], ids[member]], axis=1))  # star
        pieces.append(np.stack([ids[member - 1], ids[member]], axis=1))  # chain
    return np.concatenate(pieces)


@functools.lru_cache(maxsize=ALL_PAIRS_UP_TO + 1)
def _triangle(size: int) -> tuple[np.ndarray, np.ndarray]:
    """np.triu_indices(size, 1), made once per size (~30 us a call, a dozen calls per band)."""
    return np.triu_indices(size, 1)
