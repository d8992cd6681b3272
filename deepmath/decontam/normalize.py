"""Text normalisation, tokenisation and n-gram hashing for contamination matching, all in numpy.

    from deepmath.decontam.normalize import normalize_text, tokenize, ngram_hashes
    tokens = tokenize("Janet’s ducks lay 16 eggs")   # tokens.words() -> ['janet', 's', 'ducks', 'lay', '16', 'eggs']

Normalisation: Unicode NFKC, then case folding. Every character that is not a letter, a number or a combining mark
is a separator, so punctuation, LaTeX delimiters and all whitespace (line breaks included) collapse; a token is a
run of word characters, except that each CJK ideograph or kana is a token of its own (Chinese and Japanese are not
space-delimited). `Janet’s`, `JANET'S` and `janet s` therefore give the same tokens.

How it is fast: the normalised text becomes a uint32 code-point array; a lookup table gives each code point its
class; token boundaries come from class changes; token hashes are polynomial hashes mod 2^64 taken from one prefix
sum over the code points (`(S[end] - S[start]) * B^-start`), finished with a splitmix64 mixer; n-gram hashes of
every length 1..n come from n - 1 shifted multiply-adds over the token hashes. No Python loop runs per token or per
n-gram. Hashes are deterministic across processes and machines (no salted `hash()`), so an index built once can be
cached on disk and shared by workers.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from functools import lru_cache

import numpy as np

__all__ = [
    "TokenizedText",
    "generic_token_mask",
    "ngram_hashes",
    "ngram_hashes_flat",
    "normalize_text",
    "number_tokens",
    "original_offsets",
    "tokenize",
]

# character classes (bit flags) of the lookup table
_WORD = 1  # letter / number / combining mark that joins the characters around it into one token
_CJK = 2  # ideograph or kana: a token by itself
_DIGIT = 4  # decimal digit (also _WORD)
_BACKSLASH = ord("\\")
_OPEN_BRACE = ord("{")

_U64 = np.uint64
_MASK64 = (1 << 64) - 1
_CHAR_BASE = 0x100000001B3  # odd, so it is invertible mod 2^64
_CHAR_BASE_INV = pow(_CHAR_BASE, -1, 1 << 64)
_NGRAM_BASE = _U64(0x9E3779B97F4A7C15)
_LENGTH_SALT = 0xD6E8FEB86659FD93


def _is_cjk(cp: int) -> bool:
    return (
        0x3040 <= cp <= 0x30FF  # hiragana, katakana
        or 0x3400 <= cp <= 0x4DBF  # CJK extension A
        or 0x4E00 <= cp <= 0x9FFF  # CJK unified ideographs
        or 0xF900 <= cp <= 0xFAFF  # compatibility ideographs
        or 0x20000 <= cp <= 0x3FFFF  # extensions B..H
        or 0x31F0 <= cp <= 0x31FF  # katakana phonetic extensions
        or cp == 0x3007  # 〇 (ideographic zero)
    )


@lru_cache(maxsize=1)
def _class_table() -> np.ndarray:
    """uint8 class flags for every code point (built once per process, ~0.3 s)."""
    table = np.zeros(0x110000, dtype=np.uint8)
    category = unicodedata.category
    for cp in range(0x110000):
        cat = category(chr(cp))
        first = cat[0]
        if first in "LNM":
            if _is_cjk(cp) and first == "L":
                table[cp] = _CJK
            elif cat == "Nd":
                table[cp] = _WORD | _DIGIT
            else:
                table[cp] = _WORD
    return table


def normalize_text(text: str) -> str:
    """NFKC + case folding (separators are handled by the tokenizer, which keeps offsets)."""
    return unicodedata.normalize("NFKC", text).casefold()


def _splitmix64(x: np.ndarray) -> np.ndarray:
    z = x + _U64(0x9E3779B97F4A7C15)
    z = (z ^ (z >> _U64(30))) * _U64(0xBF58476D1CE4E5B9)
    z = (z ^ (z >> _U64(27))) * _U64(0x94D049BB133111EB)
    return z ^ (z >> _U64(31))


class _Powers:
    """B^i and B^-i mod 2^64, grown on demand (shared by all calls in a process)."""

    def __init__(self) -> None:
        self.pow = np.ones(1, dtype=_U64)
        self.inv = np.ones(1, dtype=_U64)

    def get(self, n: int) -> tuple[np.ndarray, np.ndarray]:
        if n > len(self.pow):
            size = max(n, 2 * len(self.pow), 4096)
            with np.errstate(over="ignore"):
                self.pow = np.cumprod(np.full(size, _CHAR_BASE, dtype=_U64)) * _U64(_CHAR_BASE_INV)
                self.inv = np.cumprod(np.full(size, _CHAR_BASE_INV, dtype=_U64)) * _U64(_CHAR_BASE)
        return self.pow[:n], self.inv[:n]


_POWERS = _Powers()


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
    """Normalise `text` (unless already `normalized`) and split it into hashed tokens."""
    norm = text if normalized else normalize_text(text)
    cps = np.frombuffer(norm.encode("utf-32-le"), dtype=np.uint32)
    n = len(cps)
    if n == 0:
        empty = np.zeros(0, dtype=np.int64)
        return TokenizedText(norm, cps, empty, empty, np.zeros(0, dtype=_U64))
    cls = _class_table()[cps]
    word = (cls & _WORD).astype(bool)
    cjk = (cls & _CJK).astype(bool)
    prev_word = np.concatenate(([False], word[:-1]))
    next_word = np.concatenate((word[1:], [False]))
    starts = np.flatnonzero(cjk | (word & ~prev_word))
    ends = np.flatnonzero(cjk | (word & ~next_word)) + 1
    if len(starts) == 0:
        return TokenizedText(norm, cps, starts, ends, np.zeros(0, dtype=_U64))
    powers, inverse = _POWERS.get(n + 1)
    with np.errstate(over="ignore"):
        prefix = np.zeros(n + 1, dtype=_U64)
        np.cumsum((cps.astype(_U64) + _U64(1)) * powers[:n], out=prefix[1:])
        raw = (prefix[ends] - prefix[starts]) * inverse[starts]
        hashes = _splitmix64(raw + (ends - starts).astype(_U64) * _U64(_LENGTH_SALT))
    return TokenizedText(norm, cps, starts, ends, hashes)


def token_hash(word: str) -> int:
    """Hash of one already-normalised token (for building lookup sets such as stopwords)."""
    tokens = tokenize(word, normalized=True)
    if len(tokens) != 1:
        raise ValueError(f"not a single token: {word!r}")
    return int(tokens.hashes[0])


def ngram_hashes(
    token_hashes: np.ndarray, lengths: list[int] | tuple[int, ...] = (), whole: list[int] | tuple[int, ...] = ()
) -> dict[tuple[int, bool], np.ndarray]:
    """Hashes of every run of L consecutive tokens (position i = tokens i..i+L-1), keyed by (L, is_whole).

    `lengths` are n-gram lengths, `whole` lengths of whole benchmark texts: the same tokens get a different hash in
    each role (the mixer is salted with L and the role), so a 10-token item matched whole and a 10-gram inside a
    longer item never collide. One pass builds all lengths: h_L[i] = h_{L-1}[i] * C + t[i + L - 1].
    """
    flat, blocks = ngram_hashes_flat(token_hashes, lengths, whole)
    return {key: flat[start:stop] for key, start, stop in blocks}


def ngram_hashes_flat(
    token_hashes: np.ndarray, lengths: list[int] | tuple[int, ...] = (), whole: list[int] | tuple[int, ...] = ()
) -> tuple[np.ndarray, list[tuple[tuple[int, bool], int, int]]]:
    """`ngram_hashes` as one array plus ((L, is_whole), start, stop) blocks (one mixer call for all lengths)."""
    wanted = {(L, False) for L in lengths} | {(L, True) for L in whole}
    m = len(token_hashes)
    wanted = {(length, w) for length, w in wanted if length <= m}
    if not wanted:
        return np.zeros(0, dtype=_U64), []
    top = max(L for L, _ in wanted)
    pieces, blocks, offset = [], [], 0
    acc = token_hashes.astype(_U64, copy=True)
    with np.errstate(over="ignore"):
        for length in range(1, top + 1):
            if length > 1:
                acc = acc[:-1] * _NGRAM_BASE + token_hashes[length - 1 :]
            for is_whole in (False, True):
                if (length, is_whole) in wanted:
                    salt = (length * _LENGTH_SALT + (0x5BD1E995 if is_whole else 0)) & _MASK64
                    pieces.append(acc ^ _U64(salt))
                    blocks.append(((length, is_whole), offset, offset + len(acc)))
                    offset += len(acc)
        flat = _splitmix64(np.concatenate(pieces))
    return flat, blocks


# Tokens that carry no evidence on their own: English function words and the handful of words every math problem
# uses. Kept small on purpose: frequency across benchmark items does the rest.
_STOPWORDS = """a an the of to in on at by for with from into onto over under about and or nor not no is are was were be been
    being am it its this that these those there their then than as if let such so we you he she they i me my our your
    his her them us which what when where who whom whose how why all any each every some both either neither can will
    would should could may might must do does did has have had but also only just very more most less same other
    s t th nd rd st
    real number numbers integer integers positive negative equal equals value values sum product square squares
    where given find compute"""
STOPWORDS = frozenset(_STOPWORDS.split())

# LaTeX command and environment names that are not English words (a token right after a backslash counts too).
_LATEX_WORDS = """frac dfrac tfrac cfrac sqrt cdot cdots ldots vdots ddots pm mp le leq ge geq neq ne approx equiv simeq cong
    propto lt gt pmatrix bmatrix vmatrix textbf textit mathrm mathbf mathit mathbb mathcal operatorname boxed
    displaystyle qquad hline limsup liminf gcd lcm ln lg sin cos tan cot sec csc arcsin arccos arctan sinh cosh tanh
    infty nabla alpha beta gamma delta epsilon varepsilon zeta eta theta vartheta iota kappa lambda mu nu xi pi varpi
    rho sigma tau upsilon phi varphi chi psi omega subseteq supseteq notin emptyset varnothing rightarrow leftarrow
    leftrightarrow overline underline widehat binom dbinom tbinom bmod pmod overrightarrow stackrel nonumber mbox
    hbox vspace hspace bigl bigr biggl biggr lvert rvert langle rangle lfloor rfloor lceil rceil oplus otimes"""
LATEX_WORDS = frozenset(_LATEX_WORDS.split())


@lru_cache(maxsize=1)
def _latex_hashes() -> np.ndarray:
    return np.unique(tokenize(" ".join(sorted(LATEX_WORDS)), normalized=True).hashes)


@lru_cache(maxsize=1)
def _stopword_hashes() -> np.ndarray:
    return np.unique(tokenize(" ".join(sorted(STOPWORDS)), normalized=True).hashes)


def _member(values: np.ndarray, sorted_set: np.ndarray) -> np.ndarray:
    """`np.isin` for a small sorted set (without re-sorting the set on every call)."""
    where = np.minimum(np.searchsorted(sorted_set, values), len(sorted_set) - 1)
    return sorted_set[where] == values


@lru_cache(maxsize=1)
def _begin_end_hashes() -> np.ndarray:
    return np.unique(tokenize("begin end", normalized=True).hashes)


def generic_token_mask(tokens: TokenizedText, stopwords: bool = True) -> np.ndarray:
    """True for tokens that are no evidence alone: numbers, tokens of one or two non-CJK characters (variables like
    `x`, `xy`), short tokens with a digit (`2x`, `a1`), LaTeX command and environment names (`\\frac`,
    `\\begin{array}`), and (unless `stopwords=False`) stopwords.
    """
    n = len(tokens)
    if n == 0:
        return np.zeros(0, dtype=bool)
    cls = _class_table()[tokens.codepoints]
    lengths = tokens.ends - tokens.starts
    is_cjk = (cls[tokens.starts] & _CJK).astype(bool)
    short = (lengths <= 2) & ~is_cjk
    non_digit = np.concatenate(([0], np.cumsum(~(cls & _DIGIT).astype(bool), dtype=np.int64)))
    non_digits = non_digit[tokens.ends] - non_digit[tokens.starts]
    digits = (non_digits == 0) | ((non_digits < lengths) & (lengths <= 4))
    before = tokens.starts - 1
    previous_char = tokens.codepoints[np.maximum(before, 0)]
    after_backslash = (before >= 0) & (previous_char == _BACKSLASH)
    # environment name: `{name}` right after `\\begin` / `\\end`
    begin_end = _member(tokens.hashes, _begin_end_hashes()) & after_backslash
    environment = np.zeros(n, dtype=bool)
    environment[1:] = (previous_char[1:] == _OPEN_BRACE) & begin_end[:-1] & (tokens.starts[1:] == tokens.ends[:-1] + 1)
    generic = short | digits | after_backslash | environment | _member(tokens.hashes, _latex_hashes())
    stop = _member(tokens.hashes, _stopword_hashes())
    if stopwords:
        return generic | stop
    return generic & ~(stop & (lengths >= 2))  # `is`, `of`, `so` are words here; `a`, `i` stay variables


def number_tokens(tokens: TokenizedText, min_digits: int = 2) -> np.ndarray:
    """True for tokens that are numbers of at least `min_digits` digits (specific constants like `17`, `398`)."""
    if len(tokens) == 0:
        return np.zeros(0, dtype=bool)
    cls = _class_table()[tokens.codepoints]
    non_digit = np.concatenate(([0], np.cumsum(~(cls & _DIGIT).astype(bool), dtype=np.int64)))
    lengths = tokens.ends - tokens.starts
    return ((non_digit[tokens.ends] - non_digit[tokens.starts]) == 0) & (lengths >= min_digits)


def original_offsets(text: str, norm: str | None = None) -> np.ndarray:
    """Map from offsets in `normalize_text(text)` to offsets in `text` (length len(norm) + 1).

    Exact when normalisation keeps the length (the usual case) or changes it character by character (ligatures,
    `ß` -> `ss`, full-width forms); otherwise characters with their combining marks are normalised as groups, and
    as a last resort offsets are scaled proportionally. Only called for confirmed hits.
    """
    norm = normalize_text(text) if norm is None else norm
    if len(norm) == len(text):
        return np.arange(len(text) + 1, dtype=np.int64)
    offsets: list[int] = []
    pieces: list[str] = []
    i = 0
    while i < len(text):
        j = i + 1
        while j < len(text) and unicodedata.combining(text[j]):
            j += 1
        piece = normalize_text(text[i:j])
        pieces.append(piece)
        offsets.extend([i] * len(piece))
        i = j
    if "".join(pieces) == norm:
        offsets.append(len(text))
        return np.asarray(offsets, dtype=np.int64)
    scale = len(text) / max(1, len(norm))
    return np.minimum(np.round(np.arange(len(norm) + 1) * scale).astype(np.int64), len(text))
