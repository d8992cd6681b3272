"""Tokens with offsets and span hashes, vectorised: decontamination's tokenizer and the hash both stages share.

`tokenize(text)` folds the text (`chars.fold`, character by character: word characters become their fold, other
characters their one-character fold or themselves, so LaTeX's backslashes and braces stay visible), splits it into
the words of `chars.normalize_words` and hashes each token. It returns the normalised text, its code points, token
starts/ends in it and uint64 token hashes; `original_offsets` maps positions back into the input.

`poly_span_hashes(values, starts, ends, base)`: sum(values[t] * base^(t - start)) mod 2^64 for each span, from one
prefix sum and a table of inverse powers, with no Python loop per span. Dedup hashes its shingles with it (base
0x9E3779B97F4A7C15 over code points, then fmix64; `deepmath.dedup.shingles`), decontamination its tokens (base
0x100000001B3 over code point + 1, then a length-salted splitmix64): explicit options, one implementation.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import numpy as np

from deepmath.text.chars import CJK, SLOW_BIT, WORD, bmp_tables, char_class, class_array, fold, fold_table

__all__ = ["TokenizedText", "class_table", "normalize_text", "original_offsets", "poly_span_hashes", "tokenize"]

_U64 = np.uint64
_MASK64 = (1 << 64) - 1
_TOKEN_BASE = 0x100000001B3  # odd, so it is invertible mod 2^64
_LENGTH_SALT = 0xD6E8FEB86659FD93


@functools.cache
def _powers(base: int, n: int) -> tuple[np.ndarray, np.ndarray]:
    """base^i and base^-i mod 2^64 for i < n (n a power of two, so the cache stays small)."""
    fwd = np.full(n, base, dtype=_U64)
    fwd[0] = 1
    inv = np.full(n, pow(base, -1, 1 << 64), dtype=_U64)
    inv[0] = 1
    with np.errstate(over="ignore"):
        return np.cumprod(fwd), np.cumprod(inv)  # uint64 products wrap: exactly mod 2^64


def poly_span_hashes(values: np.ndarray, starts: np.ndarray, ends: np.ndarray, base: int) -> np.ndarray:
    """sum(values[t] * base^(t - s)) mod 2^64 over t in [s, e) for every span (s, e); `base` must be odd."""
    n = len(values)
    size = 1 << max(12, int(n + 1).bit_length())
    fwd, inv = _powers(base, size)
    prefix = np.empty(n + 1, dtype=_U64)
    prefix[0] = 0
    with np.errstate(over="ignore"):
        np.multiply(values, fwd[:n], out=prefix[1:], casting="unsafe")
        np.cumsum(prefix[1:], out=prefix[1:])
        return (prefix[ends] - prefix[starts]) * inv[starts]


def splitmix64(x: np.ndarray) -> np.ndarray:
    with np.errstate(over="ignore"):
        z = x + _U64(0x9E3779B97F4A7C15)
        z = (z ^ (z >> _U64(30))) * _U64(0xBF58476D1CE4E5B9)
        z = (z ^ (z >> _U64(27))) * _U64(0x94D049BB133111EB)
        return z ^ (z >> _U64(31))


@functools.cache
def class_table() -> np.ndarray:
    """uint8 `chars.char_class` of every code point (built once per process, ~0.1 s)."""
    return class_array(0x110000)


def _piece_table() -> np.ndarray:
    """Per BMP code point: its one-character fold, or itself when its fold has several characters (those with a word
    character are slow in `fold_table` and expanded in Python)."""
    return bmp_tables()[1]


def _piece(ch: str) -> str:
    """What one input character becomes in the normalised text (the definition `_piece_table` vectorises)."""
    folded = fold(ch)
    if len(folded) == 1 or any(char_class(c) & WORD for c in folded):
        return folded
    return ch


def _fold_pieces(text: str) -> tuple[str, np.ndarray, bool]:
    """The normalised text, its code points, and whether every character became exactly one character."""
    cps = np.frombuffer(text.encode("utf-32-le"), dtype=np.uint32)
    if not len(cps):
        return text, cps, True
    if int(cps.max()) < 0x10000 and not (fold_table()[cps] & SLOW_BIT).any():
        norm_cps = _piece_table()[cps]
        return norm_cps.tobytes().decode("utf-32-le"), norm_cps, True
    norm = "".join(map(_piece, text))
    return norm, np.frombuffer(norm.encode("utf-32-le"), dtype=np.uint32), len(norm) == len(text)


def normalize_text(text: str) -> str:
    """`text` folded character by character (see the module docstring); word boundaries are the tokenizer's."""
    return _fold_pieces(text)[0]


@dataclass
class TokenizedText:
    """Tokens of one text: positions in the normalised text and uint64 hashes."""

    norm: str
    codepoints: np.ndarray  # uint32 code points of `norm`
    starts: np.ndarray  # int64 token starts (offsets in `norm`)
    ends: np.ndarray  # int64 token ends (exclusive)
    hashes: np.ndarray  # uint64 token hashes

    def __len__(self) -> int:
        return len(self.hashes)

    def words(self) -> list[str]:
        """The tokens as strings (for tests and reports; not used on the hot path)."""
        return [self.norm[s:e] for s, e in zip(self.starts.tolist(), self.ends.tolist())]


def tokenize(text: str, normalized: bool = False) -> TokenizedText:
    """Normalise `text` (unless already `normalized`) and split it into hashed tokens: the words of
    `normalize_words(text)`, each CJK ideograph or kana a token of its own."""
    if normalized:
        norm, cps = text, np.frombuffer(text.encode("utf-32-le"), dtype=np.uint32)
    else:
        norm, cps, _ = _fold_pieces(text)
    n = len(cps)
    empty = np.zeros(0, dtype=np.int64)
    if n == 0:
        return TokenizedText(norm, cps, empty, empty, np.zeros(0, dtype=_U64))
    cls = class_table()[cps]
    cjk = (cls & CJK).astype(bool)
    word = (cls & WORD).astype(bool) & ~cjk  # characters that join into runs
    prev_word = np.concatenate(([False], word[:-1]))
    next_word = np.concatenate((word[1:], [False]))
    starts = np.flatnonzero(cjk | (word & ~prev_word))
    ends = np.flatnonzero(cjk | (word & ~next_word)) + 1
    if len(starts) == 0:
        return TokenizedText(norm, cps, starts, ends, np.zeros(0, dtype=_U64))
    raw = poly_span_hashes(cps.astype(_U64) + _U64(1), starts, ends, _TOKEN_BASE)
    with np.errstate(over="ignore"):
        hashes = splitmix64(raw + (ends - starts).astype(_U64) * _U64(_LENGTH_SALT))
    return TokenizedText(norm, cps, starts, ends, hashes)


def original_offsets(text: str, norm: str | None = None) -> np.ndarray:
    """Map from offsets in `normalize_text(text)` to offsets in `text` (length len(norm) + 1), exact: each input
    character becomes one character, or (a multi-character fold such as "ﬁ" -> "fi") several that all map to it."""
    norm, _, same_length = _fold_pieces(text) if norm is None else (norm, None, len(norm) == len(text))
    if same_length:
        return np.arange(len(text) + 1, dtype=np.int64)
    lengths = np.fromiter((len(_piece(ch)) for ch in text), dtype=np.int64, count=len(text))
    offsets = np.repeat(np.arange(len(text), dtype=np.int64), lengths)
    return np.append(offsets, len(text))
