"""MinHash signatures equal to datasketch's, computed for a whole batch of documents at once, and LSH band keys.

`signatures(batch, perms)` gives, for every document, the same hash values as

    m = datasketch.MinHash(num_perm, seed=seed, hashfunc=shingle_hash32, scheme=scheme)
    m.update_batch(shingles_of(text, ngram))

so `datasketch.LeanMinHash(seed=seed, hashvalues=row, scheme=scheme)` rebuilds a datasketch object from a row.
Two permutation schemes, as in datasketch 2.x:
- "affine32" (datasketch's default since 2.0): fmix32 of the input hash, then `a*h + b` in uint32 (the wraparound
  is the mod 2^32), with `a` odd. Stored as uint32: 4 bytes per permutation.
- "legacy" (datasketch < 2.0): `(a*h + b) % (2^61 - 1) & (2^32 - 1)` in uint64. `a*h` exceeds 2^64 and numpy
  wraps it before the `%`; datasketch computes it exactly like that, so we do too (the values are then not a true
  mod-prime permutation, but they are bit-for-bit datasketch's). Slower and uses uint64; kept for old indexes.

`lsh_params` picks bands x rows with datasketch's optimiser (`datasketch.lsh._optimal_param`, same objective and
result, computed here without scipy); the default
weights (0.05 on false positives, 0.95 on false negatives) give 16 bands x 8 rows at threshold 0.8 with 128
permutations: a pair at Jaccard 0.85 becomes a candidate with probability 0.994 (datasketch's default weights give
9 x 13 and 0.69). The extra false candidates cost only verification time (see verify.py).
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import numpy as np

from deepmath.dedup.shingles import ShingleBatch

__all__ = [
    "LshParams",
    "Permutations",
    "band_keys",
    "candidate_probability",
    "legacy_mt19937",
    "lsh_params",
    "signatures",
]

_MERSENNE = np.uint64((1 << 61) - 1)
_MAX32 = np.uint64((1 << 32) - 1)
_ROWS_PER_CHUNK = 1 << 13  # shingle rows permuted at once: 128 perms x 8k rows x 4 B = 4 MB of scratch (fits in cache)
SCHEMES = ("affine32", "legacy")


@dataclass(frozen=True)
class Permutations:
    """datasketch's permutation parameters for (num_perm, seed, scheme), drawn exactly as datasketch draws them."""

    num_perm: int
    seed: int = 1
    scheme: str = "affine32"

    def __post_init__(self):
        if self.scheme not in SCHEMES:
            raise ValueError(f"scheme must be one of {SCHEMES}, not {self.scheme!r}")
        if self.num_perm < 1:
            raise ValueError("num_perm must be at least 1")

    @functools.cached_property
    def ab(self) -> tuple[np.ndarray, np.ndarray]:
        if self.scheme == "affine32" and 0 <= self.seed < 1 << 32:
            # numpy's legacy randint for these two ranges is the generator's raw output (masked to 31 bits for `a`):
            # drawn here without importing numpy.random (~8 ms by -X importtime, in every dedup worker)
            raw = legacy_mt19937(self.seed, 2 * self.num_perm)
            a = (raw[: self.num_perm] & np.uint32(0x7FFFFFFF)) * np.uint32(2) + np.uint32(1)
            return a, raw[self.num_perm :].copy()
        gen = np.random.RandomState(self.seed)
        if self.scheme == "legacy":
            pairs = [
                (gen.randint(1, _MERSENNE, dtype=np.uint64), gen.randint(0, _MERSENNE, dtype=np.uint64))
                for _ in range(self.num_perm)
            ]
            a, b = np.array(pairs, dtype=np.uint64).T
            return a.copy(), b.copy()
        a = gen.randint(0, 1 << 31, self.num_perm, dtype=np.uint32) * np.uint32(2) + np.uint32(1)
        b = gen.randint(0, 1 << 32, self.num_perm, dtype=np.uint32)
        return a, b

    @property
    def dtype(self):
        return np.uint64 if self.scheme == "legacy" else np.uint32

    @property
    def empty_value(self) -> int:
        return (1 << 32) - 1  # what an empty datasketch MinHash holds, in both schemes


def legacy_mt19937(seed: int, count: int) -> np.ndarray:
    """The first `count` 32-bit outputs of `numpy.random.RandomState(seed)` (MT19937 seeded by Matsumoto and
    Nishimura's `init_genrand`, as numpy's legacy seeding of an integer does), as uint32; tests compare it with
    numpy. `seed` must be in [0, 2**32)."""
    state = [seed & 0xFFFFFFFF]
    for i in range(1, 624):
        previous = state[-1]
        state.append((1812433253 * (previous ^ (previous >> 30)) + i) & 0xFFFFFFFF)
    out = []
    while len(out) < count:
        for i in range(624):  # the twist: the next 624 words of state
            y = (state[i] & 0x80000000) | (state[(i + 1) % 624] & 0x7FFFFFFF)
            state[i] = state[(i + 397) % 624] ^ (y >> 1) ^ (0x9908B0DF if y & 1 else 0)
        for y in state[: count - len(out)]:  # tempering
            y ^= y >> 11
            y ^= (y << 7) & 0x9D2C5680
            y ^= (y << 15) & 0xEFC60000
            out.append(y ^ (y >> 18))
    return np.array(out, dtype=np.uint32)


def _fmix32(h: np.ndarray) -> np.ndarray:
    h = h ^ (h >> np.uint32(16))
    h = h * np.uint32(0x85EBCA6B)
    h = h ^ (h >> np.uint32(13))
    h = h * np.uint32(0xC2B2AE35)
    return h ^ (h >> np.uint32(16))


def _permute(hashes: np.ndarray, perms: Permutations) -> np.ndarray:
    """(num_perm, rows) permuted values of `hashes` (uint32 shingle hashes). Permutations on the first axis: numpy's
    broadcasting and `minimum.reduceat` along the last axis are several times faster than the other layout."""
    a, b = perms.ab
    if perms.scheme == "legacy":
        out = np.multiply(a[:, None], hashes.astype(np.uint64)[None, :])
        out += b[:, None]
        out %= _MERSENNE
        out &= _MAX32
        return out
    out = np.multiply(a[:, None], _fmix32(hashes)[None, :])
    out += b[:, None]
    return out


def signatures(batch: ShingleBatch, perms: Permutations, docs: np.ndarray | None = None) -> np.ndarray:
    """(len(docs), num_perm) MinHash values of the chosen documents (default all); empty documents stay at max."""
    docs = np.arange(len(batch)) if docs is None else np.asarray(docs, dtype=np.int64)
    out = np.full((len(docs), perms.num_perm), perms.empty_value, dtype=perms.dtype)
    counts = batch.offsets[docs + 1] - batch.offsets[docs]
    rows = np.flatnonzero(counts > 0)
    total = np.concatenate(([0], np.cumsum(counts[rows])))
    i = 0
    while i < len(rows):
        # a group of whole documents with at most _ROWS_PER_CHUNK shingles (or one larger document)
        j = max(i + 1, int(np.searchsorted(total, total[i] + _ROWS_PER_CHUNK, side="right")) - 1)
        group = rows[i:j]
        if len(group) == 1 and counts[group[0]] > _ROWS_PER_CHUNK:
            lo, hi = batch.offsets[docs[group[0]]], batch.offsets[docs[group[0]] + 1]
            acc = out[group[0]]
            for start in range(lo, hi, _ROWS_PER_CHUNK):
                np.minimum(
                    acc, _permute(batch.hashes[start : min(hi, start + _ROWS_PER_CHUNK)], perms).min(1), out=acc
                )
        else:
            pieces = [batch.hashes[batch.offsets[d] : batch.offsets[d + 1]] for d in docs[group]]
            starts = total[i:j] - total[i]
            out[group] = np.minimum.reduceat(_permute(np.concatenate(pieces), perms), starts, axis=1).T
        i = j
    return out


def band_keys(sigs: np.ndarray, bands: int, rows: int, seed: int = 0) -> np.ndarray:
    """(bands, docs) uint64 key of each band of each signature: equal keys <=> (almost surely) equal bands."""
    if bands * rows > sigs.shape[1]:
        raise ValueError(f"{bands} bands x {rows} rows need {bands * rows} permutations, have {sigs.shape[1]}")
    # all bands at once, one row of each band per step: (bands, docs) arrays
    blocks = sigs[:, : bands * rows].reshape(sigs.shape[0], bands, rows).transpose(1, 0, 2)
    start = [((band + 1) * 0x9E3779B97F4A7C15 + seed) & (2**64 - 1) for band in range(bands)]
    h = np.repeat(np.array(start, dtype=np.uint64)[:, None], sigs.shape[0], axis=1)
    for row in range(rows):
        h ^= blocks[:, :, row].astype(np.uint64)
        h *= np.uint64(0xFF51AFD7ED558CCD)
        h ^= h >> np.uint64(29)
    return h


@dataclass(frozen=True)
class LshParams:
    bands: int
    rows: int

    def recall(self, jaccard: float) -> float:
        return candidate_probability(jaccard, self.bands, self.rows)


def candidate_probability(jaccard: float, bands: int, rows: int) -> float:
    """Probability that a pair at this Jaccard shares at least one band: 1 - (1 - s^r)^b."""
    return 1.0 - (1.0 - jaccard**rows) ** bands


@functools.cache
def lsh_params(
    threshold: float,
    num_perm: int,
    false_positive_weight: float = 0.05,
    false_negative_weight: float = 0.95,
    bands: int = 0,
    rows: int = 0,
) -> LshParams:
    """Bands x rows for `threshold`, unless both are given: datasketch's optimiser (`datasketch.lsh._optimal_param`:
    the (b, r) with b * r <= num_perm minimising the weighted areas of false positives below the threshold and false
    negatives above it). The integrands are polynomials of degree b * r, so Gauss-Legendre quadrature with
    num_perm / 2 + 1 nodes integrates them exactly where datasketch calls scipy's `quad`; a test checks both pick
    the same parameters. Doing it here keeps scipy and datasketch out of the stage's imports."""
    if bands and rows:
        if bands * rows > num_perm:
            raise ValueError(f"bands x rows = {bands * rows} exceeds num_perm = {num_perm}")
        return LshParams(bands, rows)
    if bands or rows:
        raise ValueError("give both bands and rows, or neither (then they are optimised for the threshold)")
    if not 0.0 < threshold < 1.0:
        raise ValueError(f"threshold must be between 0 and 1, got {threshold}")
    nodes, weights = np.polynomial.legendre.leggauss(num_perm // 2 + 1)
    below, below_w = (nodes + 1) * threshold / 2, weights * threshold / 2
    above, above_w = threshold + (nodes + 1) * (1 - threshold) / 2, weights * (1 - threshold) / 2
    best, choice = np.inf, (1, 1)
    for b in range(1, num_perm + 1):
        r = np.arange(1, num_perm // b + 1)[:, None]
        false_positive = ((1 - (1 - below**r) ** b) * below_w).sum(axis=1)
        false_negative = (((1 - above**r) ** b) * above_w).sum(axis=1)
        error = false_positive * false_positive_weight + false_negative * false_negative_weight
        k = int(np.argmin(error))
        if error[k] < best:
            best, choice = float(error[k]), (b, k + 1)
    return LshParams(*choice)
