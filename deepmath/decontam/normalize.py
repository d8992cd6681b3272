"""Tokens and n-gram hashes for contamination matching, on the shared text kernel (`deepmath.text`).

    from deepmath.decontam.normalize import normalize_text, tokenize, ngram_hashes
    tokens = tokenize("Janet’s ducks lay 16 eggs")   # tokens.words() -> ['janet', 's', 'ducks', 'lay', '16', 'eggs']

Tokens are dedup's words (`deepmath.text.normalize_words`): each character folded (NFKC, case folding), every
character that is not a letter, a number or a combining mark a separator (punctuation, LaTeX delimiters, all
whitespace), each CJK ideograph or kana a token of its own. `Janet’s`, `JANET'S` and `janet s` give the same tokens.
The tokenizer and token hashes live in `deepmath.text.tokens`; this module adds what matching needs on top: n-gram
hashes of every length from n - 1 shifted multiply-adds over the token hashes (no Python loop per n-gram), and the
masks of tokens that are no evidence alone. Hashes are deterministic across processes and machines (no salted
`hash()`), so an index built once can be cached on disk and shared by workers.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np

from deepmath.text.chars import CJK as _CJK
from deepmath.text.chars import DIGIT as _DIGIT
from deepmath.text.tokens import TokenizedText, class_table, normalize_text, original_offsets, splitmix64, tokenize

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

_BACKSLASH = ord("\\")
_OPEN_BRACE = ord("{")

_U64 = np.uint64
_MASK64 = (1 << 64) - 1
_NGRAM_BASE = _U64(0x9E3779B97F4A7C15)
_LENGTH_SALT = 0xD6E8FEB86659FD93
_class_table = class_table
_splitmix64 = splitmix64


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
