"""Text -> word n-gram shingle hashes, vectorised over a whole batch of documents with numpy.

Normalisation is the shared text kernel's (`deepmath.text.chars`, the same words decontamination tokenises):
every character is replaced by its NFKC compatibility form, case-folded (character by character: no canonical
composition across characters, so it vectorises as one table lookup), every character that is not a letter, digit
or combining mark becomes a word break, and each CJK ideograph or kana is a word of its own (Chinese and Japanese
are written without spaces). The normalised text of a document is its words joined by single spaces; a shingle is `ngram` consecutive words joined the same way (a
document with fewer words has one shingle: all of them).

Hashing needs no per-shingle (or per-word) Python work: the normalised batch is one array of code points, a
polynomial hash mod 2^64 of every prefix is one `cumsum`, and the hash of any span is a difference of two prefixes
times an inverse power (`deepmath.text.tokens.poly_span_hashes`, which decontamination's token hashes use too). The 32-bit shingle hash is the top half of MurmurHash3's fmix64 of that polynomial hash.
`shingle_hash32(bytes)` computes the same value for one shingle in pure Python: it is the `hashfunc=` to give
datasketch's `MinHash` to get our signatures bit for bit (see signatures.py).

Departure from datatrove/datasketch: their shingle hash is sha1/xxhash of each shingle string, computed per shingle
in Python; ours is a different (non-cryptographic) base hash chosen so the whole batch hashes in a few numpy passes.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

import numpy as np
from xxhash import xxh3_128_digest

from deepmath.text.chars import (
    CJK_BIT,
    SLOW_BIT,
    SPACE,
    code_entry,
    fold,
    fold_code,
    fold_table,
    normalize_words,
)
from deepmath.text.tokens import poly_span_hashes

__all__ = ["ShingleBatch", "normalize_words", "shingle_batch", "shingle_hash32", "shingles_of"]

_MASK64 = (1 << 64) - 1
_POLY = 0x9E3779B97F4A7C15  # odd, so it is invertible mod 2^64


def _fmix64(h: np.ndarray) -> np.ndarray:
    h = h ^ (h >> np.uint64(33))
    h = h * np.uint64(0xFF51AFD7ED558CCD)
    h = h ^ (h >> np.uint64(33))
    h = h * np.uint64(0xC4CEB9FE1A85EC53)
    return h ^ (h >> np.uint64(33))


def _fmix64_int(h: int) -> int:
    h ^= h >> 33
    h = (h * 0xFF51AFD7ED558CCD) & _MASK64
    h ^= h >> 33
    h = (h * 0xC4CEB9FE1A85EC53) & _MASK64
    return h ^ (h >> 33)


def shingle_hash32(data: bytes) -> int:
    """Our 32-bit hash of one shingle's UTF-8 bytes: pass as `hashfunc=` to datasketch's MinHash."""
    h = 0
    for code in reversed(data.decode("utf-8")):  # sum(code_i * P^i), by Horner's rule from the end
        h = (h * _POLY + ord(code)) & _MASK64
    return _fmix64_int(h) >> 32


def shingles_of(text: str, ngram: int = 5) -> list[bytes]:
    """The shingles of one text as UTF-8 bytes, in order with repeats (reference path; what datasketch is fed)."""
    words = normalize_words(text)
    if not words:
        return []
    if len(words) < ngram:
        return [" ".join(words).encode("utf-8")]
    return [" ".join(words[i : i + ngram]).encode("utf-8") for i in range(len(words) - ngram + 1)]


@dataclass
class ShingleBatch:
    """Shingle hashes of a batch: doc i owns `hashes[offsets[i]:offsets[i + 1]]` (in text order, with repeats)."""

    hashes: np.ndarray  # uint32
    offsets: np.ndarray  # int64, len = docs + 1
    exact: np.ndarray  # (docs, 2) uint64: 128-bit hash of the normalised text
    n_words: np.ndarray  # int64

    def __len__(self) -> int:
        return len(self.offsets) - 1

    def doc(self, i: int) -> np.ndarray:
        return self.hashes[self.offsets[i] : self.offsets[i + 1]]

    @staticmethod
    def concat(batches: list[ShingleBatch]) -> ShingleBatch:
        if len(batches) == 1:
            return batches[0]
        ends = np.cumsum([0] + [b.offsets[-1] for b in batches])
        offsets = np.concatenate([[0]] + [b.offsets[1:] + end for b, end in zip(batches, ends)])
        return ShingleBatch(
            hashes=np.concatenate([b.hashes for b in batches]),
            offsets=offsets.astype(np.int64),
            exact=np.concatenate([b.exact for b in batches]),
            n_words=np.concatenate([b.n_words for b in batches]),
        )


def _expand_slow(stream: np.ndarray, cps: np.ndarray, where: np.ndarray, doc_start: np.ndarray):
    """Resolve the characters at `where`: outside the BMP (their table entries are then filled in for next time),
    or folding to several characters with word characters among them (those are spliced in)."""
    table = fold_table()
    values, inverse = np.unique(cps[where], return_inverse=True)
    for value in values[values > 0xFFFF].tolist():
        table[value] = fold_code(chr(value))
    entries = table[values]
    stream[where] = entries[inverse] & ~SLOW_BIT
    long = np.flatnonzero(entries[inverse] & SLOW_BIT)
    if not len(long):
        return stream, doc_start
    positions = where[long]  # sorted
    folds = [[code_entry(ch) for ch in fold(chr(values[k]))] for k in inverse[long].tolist()]
    stream[positions] = [f[0] for f in folds]
    extra = np.array([len(f) - 1 for f in folds], dtype=np.int64)
    stream = np.insert(stream, np.repeat(positions + 1, extra), [e for f in folds for e in f[1:]])
    shift = np.concatenate(([0], np.cumsum(extra)))
    return stream, doc_start + shift[np.searchsorted(positions, doc_start)]


def _split_cjk(stream: np.ndarray, doc_start: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Adjacent word characters where either is CJK are two words: insert a space between them."""
    is_cjk = stream >= CJK_BIT
    is_word = stream != SPACE
    split = np.flatnonzero((is_cjk[:-1] | is_cjk[1:]) & is_word[:-1] & is_word[1:])
    stream[is_cjk] &= ~CJK_BIT
    if not len(split):
        return stream, doc_start
    # documents start after a space, so no split is at a document's last position
    return np.insert(stream, split + 1, SPACE), doc_start + np.searchsorted(split, doc_start)


def _canonical(texts: list[str]) -> tuple[np.ndarray, np.ndarray]:
    """The normalised batch as one code-point array: each document's words joined by single spaces, plus a trailing
    space; and where each document starts in it."""
    lengths = np.fromiter((len(t) + 1 for t in texts), dtype=np.int64, count=len(texts))
    doc_start = np.concatenate(([0], np.cumsum(lengths)[:-1]))
    cps = np.frombuffer(" ".join([*texts, ""]).encode("utf-32-le"), dtype=np.uint32)  # a space after every text
    stream = fold_table()[cps]
    top = int(stream.max())
    if top >= SLOW_BIT:
        # every slow entry is exactly SPACE | SLOW_BIT (see fold_table); a CJK entry has CJK_BIT and no SLOW_BIT
        slow = np.flatnonzero(stream == (SPACE | SLOW_BIT))
        if len(slow):
            stream, doc_start = _expand_slow(stream, cps, slow, doc_start)
            top = int(stream.max())
    word = stream != SPACE
    # keep word characters and the first non-word character after a word (it becomes the single space); every
    # text ends with a space, so no word runs into the next document and no document starts with a space
    keep = word.copy()
    keep[1:] |= word[:-1]
    # where each document starts among the kept characters: the kept counts of the documents before it (starts are
    # strictly increasing: every text brings at least its trailing space); count_nonzero per document is several
    # times faster than add.reduceat over the whole mask
    bounds = np.append(doc_start, len(keep)).tolist()
    per_doc = np.fromiter(
        (np.count_nonzero(keep[lo:hi]) for lo, hi in itertools.pairwise(bounds)), dtype=np.int64, count=len(texts)
    )
    doc_start = np.concatenate(([0], np.cumsum(per_doc)[:-1]))
    stream = stream[keep]
    if top >= CJK_BIT:
        stream, doc_start = _split_cjk(stream, doc_start)
    return stream, doc_start


def shingle_batch(texts: list[str], ngram: int = 5) -> ShingleBatch:
    """Shingle hashes and exact-text hashes of every text in one vectorised pass."""
    if ngram < 1:
        raise ValueError(f"ngram must be at least 1, got {ngram}")
    n_docs = len(texts)
    if not n_docs:
        empty = np.zeros(0, dtype=np.int64)
        return ShingleBatch(np.zeros(0, np.uint32), np.zeros(1, np.int64), np.zeros((0, 2), np.uint64), empty)
    stream, doc_start = _canonical(texts)
    size = len(stream)
    # the canonical stream is word, space, word, space, ...: every space ends a word and the next word starts after it
    word_ends = np.flatnonzero(stream == SPACE)  # one past each word
    word_starts = np.empty_like(word_ends)
    if len(word_ends):
        word_starts[0] = 0
        np.add(word_ends[:-1], 1, out=word_starts[1:])
    first_word = np.searchsorted(word_starts, np.append(doc_start, size))
    n_words = np.diff(first_word)
    # shingle k covers words k .. k+ngram-1 of one document; short documents get one shingle of all their words
    n_shingles = np.where(n_words >= ngram, n_words - ngram + 1, (n_words > 0).astype(np.int64))
    offsets = np.zeros(n_docs + 1, dtype=np.int64)
    np.cumsum(n_shingles, out=offsets[1:])
    shingle_doc = np.repeat(np.arange(n_docs, dtype=np.int64), n_shingles)
    first = np.arange(offsets[-1], dtype=np.int64) + (first_word[:-1] - offsets[:-1])[shingle_doc]
    last = np.minimum(first + (ngram - 1), first_word[1:][shingle_doc] - 1)
    span_start, span_end = word_starts[first], word_ends[last]
    # polynomial hash of every span from prefix sums (the text kernel's): sum(c_t * P^(t - s)) over [s, e)
    poly = poly_span_hashes(stream, span_start, span_end, _POLY)
    hashes = (_fmix64(poly) >> np.uint64(32)).astype(np.uint32)
    exact = _exact_hashes(stream, np.append(doc_start, size))
    return ShingleBatch(hashes=hashes, offsets=offsets, exact=exact, n_words=n_words.astype(np.int64))


def _exact_hashes(stream: np.ndarray, bounds: np.ndarray) -> np.ndarray:
    """XXH3-128 of each document's normalised text (its words and single spaces, as UTF-32): a collision would
    remove a page as an exact copy, so 128 bits; XXH3 hashes the 4 bytes per character ~10x faster than SHA-1."""
    raw = memoryview(np.ascontiguousarray(stream, dtype=np.uint32)).cast("B")
    ends = (np.asarray(bounds, dtype=np.int64) * 4).tolist()  # byte offsets, as Python ints once
    digests = b"".join([xxh3_128_digest(raw[lo:hi]) for lo, hi in itertools.pairwise(ends)])
    return np.frombuffer(digests, dtype="<u8").reshape(len(bounds) - 1, 2).copy()
