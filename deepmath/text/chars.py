"""Characters: the fold every text goes through and the classes that make words, as per-code-point tables.

Fold: each character becomes its NFKC compatibility form, case-folded (`"ß"` -> `"ss"`, `"ﬁ"` -> `"fi"`,
full-width `"２"` -> `"2"`). It is applied character by character, so one table lookup folds a whole batch; the
departure from normalising the whole string is that a base letter followed by a combining mark is not composed
(`"e" + U+0301` stays two characters and does not equal `"é"`; web pages and benchmarks are almost always NFC).

Classes: word characters are letters, digits and the combining marks Mn/Mc (which join the letters around them);
every other character breaks words. CJK ideographs and kana are words of one character each (Chinese and Japanese
are written without spaces); Hangul is written with spaces and is not in the ranges.

`fold_table()` gives, per code point, the fold if it is one word character (with `CJK_BIT` on top for CJK), else a
space; `SLOW_BIT` marks folds of several characters with a word character among them and, until first seen, code
points outside the BMP (both resolved in Python, per distinct character). One gather classifies and folds a batch.
"""

from __future__ import annotations

import functools
import itertools
import unicodedata
from pathlib import Path

import numpy as np

__all__ = [
    "CJK",
    "CJK_BIT",
    "CJK_RANGES",
    "DIGIT",
    "SLOW_BIT",
    "SPACE",
    "WORD",
    "bmp_expansions",
    "bmp_tables",
    "char_class",
    "class_array",
    "code_entry",
    "fold",
    "fold_code",
    "fold_table",
    "normalize_words",
]

SPACE = 32
WORD, CJK, DIGIT = 1, 2, 4  # character classes (bit flags)
SLOW_BIT, CJK_BIT = np.uint32(1 << 30), np.uint32(1 << 31)  # flags on top of code points (which are < 2^21)
CODE_MASK = np.uint32((1 << 21) - 1)
# Scripts written without spaces: every ideograph / kana is its own word. Hangul is written with spaces: not here.
CJK_RANGES = ((0x3040, 0x30FF), (0x3400, 0x4DBF), (0x4E00, 0x9FFF), (0xF900, 0xFAFF), (0x20000, 0x3FFFF))


def fold(ch: str) -> str:
    """One character's normal form: its NFKC compatibility mapping, case-folded (0, 1 or more characters)."""
    return unicodedata.normalize("NFKC", ch).casefold()


def char_class(ch: str) -> int:
    """`WORD` for letters, digits and combining marks Mn/Mc; plus `CJK` for ideographs and kana, `DIGIT` for
    decimal digits; 0 for everything else."""
    category = unicodedata.category(ch)
    if category[0] not in "LN" and category not in ("Mn", "Mc"):
        return 0
    code = ord(ch)
    cjk = CJK if any(lo <= code <= hi for lo, hi in CJK_RANGES) else 0
    return WORD | cjk | (DIGIT if category == "Nd" else 0)


def code_entry(ch: str) -> int:
    """The table entry of an already folded character: itself (flagged if CJK) when a word character, else a space."""
    kind = char_class(ch)
    return (ord(ch) | (int(CJK_BIT) if kind & CJK else 0)) if kind & WORD else SPACE


def fold_code(ch: str) -> int:
    """The table entry of one input character. A fold of several characters none of which is a word character
    (e.g. "…" -> "...") is a word break like any other, so only folds with word characters take the slow path."""
    folded = fold(ch)
    if len(folded) == 1:
        return code_entry(folded)
    return int(SPACE | SLOW_BIT) if any(char_class(c) & WORD for c in folded) else SPACE


def fold_table() -> np.ndarray:
    """Per code point: `fold_code`, with code points outside the BMP marked slow (filled in when first seen).
    Built once per process (~15 ms, see `bmp_tables`; 4.4 MB); callers may write resolved entries back into it."""
    return bmp_tables()[0]


@functools.cache
def bmp_tables() -> tuple[np.ndarray, np.ndarray]:
    """`fold_table()` and, per BMP code point, its one-character fold or itself (the tokenizer's normalised text
    keeps characters whose fold has several characters and no word character, e.g. "…").

    Every corpus command pays this once: read from `unicode_tables.npz` (~4 ms) when it was made for this Python's
    Unicode version, else computed (~25 ms) without a Python object per code point (one `fold_code` call each took
    ~100 ms, a list of 63k folded strings ~60 ms): see `_bmp_folds`. `tests/text` checks both against `fold_code`
    for every code point."""
    shipped = _shipped_tables()
    bmp, pieces = (shipped["table"], shipped["pieces"]) if shipped else _computed_bmp_tables()
    table = np.full(0x110000, SPACE | SLOW_BIT, dtype=np.uint32)  # outside the BMP: resolved when first seen
    table[: len(bmp)] = bmp
    return table, pieces.copy()


def _computed_bmp_tables() -> tuple[np.ndarray, np.ndarray]:
    """The BMP part of `fold_table()` and the pieces, from this Python's `unicodedata`."""
    codes, starts, ends, chars, classes = _bmp_folds()
    table = np.full(0x10000, SPACE | SLOW_BIT, dtype=np.uint32)  # surrogates keep the slow flag
    table[0] = SPACE
    pieces = np.arange(0x10000, dtype=np.uint32)
    single = ends - starts == 1
    # one-character folds: the character's own entry
    table[codes[single]] = _entries(chars, classes)[starts[single]]
    pieces[codes[single]] = chars[starts[single]]
    # several characters: a word break unless a word character is among them (then resolved per character)
    several = ~single
    table[codes[several]] = np.where(_word_count(starts, ends, classes)[several] > 0, SPACE | SLOW_BIT, SPACE)
    return table, pieces


@functools.cache
def bmp_expansions() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The BMP characters whose fold is several characters with a word character among them (their `fold_table`
    entry is the slow flag), as sorted code points, and the table entries (`code_entry`) of their folds' characters
    in CSR form (starts, values): what a kernel splices in for each of them."""
    shipped = _shipped_tables()
    if shipped:
        return shipped["keys"].copy(), shipped["starts"].copy(), shipped["values"].copy()
    return _computed_expansions()


def _computed_expansions() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    codes, starts, ends, chars, classes = _bmp_folds()
    slow = (ends - starts != 1) & (_word_count(starts, ends, classes) > 0)
    lengths = (ends - starts)[slow]
    offsets = np.zeros(len(lengths) + 1, dtype=np.int64)
    np.cumsum(lengths, out=offsets[1:])
    picked = np.repeat(starts[slow] - offsets[:-1], lengths) + np.arange(offsets[-1])
    return codes[slow].astype(np.uint32), offsets, _entries(chars, classes)[picked]


SHIPPED_TABLES = Path(__file__).with_name("unicode_tables.npz")


@functools.cache
def _shipped_tables() -> dict | None:
    """What `_computed_bmp_tables` and `_computed_expansions` give, stored for one Unicode version (the one of the
    Python that wrote them, with `write_shipped_tables()`); None for another version or an unreadable file."""
    try:
        with np.load(SHIPPED_TABLES) as npz:
            if str(npz["unicode"]) != unicodedata.unidata_version:
                return None
            return {key: npz[key] for key in ("table", "pieces", "keys", "starts", "values")}
    except (OSError, KeyError, ValueError):
        return None


def write_shipped_tables(path: Path = SHIPPED_TABLES) -> Path:
    """Store this Python's tables (compressed, ~170 KB) where `bmp_tables` looks for them."""
    table, pieces = _computed_bmp_tables()
    keys, starts, values = _computed_expansions()
    with open(path, "wb") as handle:
        np.savez_compressed(
            handle,
            unicode=np.array(unicodedata.unidata_version),
            table=table,
            pieces=pieces,
            keys=keys,
            starts=starts,
            values=values,
        )
    return path


@functools.cache
def _bmp_folds() -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Every BMP character's fold at once: (code points, start and end of each one's fold in `chars`, `chars`
    (uint32 code points of all folds, NUL-separated), `char_class` of each of `chars`).

    The characters joined by NUL are normalised and case-folded in two whole-string calls (NUL is a starter that
    composes with nothing, so each character folds exactly as it does alone) and read back as UTF-32."""
    codes = np.concatenate((np.arange(1, 0xD800), np.arange(0xE000, 0x10000))).astype(np.uint32)  # no surrogates
    joined = np.zeros((len(codes), 2), dtype=np.uint32)
    joined[:, 0] = codes
    folded = unicodedata.normalize("NFKC", joined.tobytes()[:-4].decode("utf-32-le")).casefold()
    chars = np.frombuffer(folded.encode("utf-32-le"), dtype=np.uint32)
    breaks = np.flatnonzero(chars == 0)
    if len(breaks) != len(codes) - 1:  # pragma: no cover - would mean a fold produced NUL
        raise RuntimeError("a character's NFKC case fold contains NUL; the joined fold cannot be split")
    starts = np.concatenate(([0], breaks + 1))
    ends = np.concatenate((breaks, [len(chars)]))
    classes = _bmp_classes()[np.minimum(chars, 0xFFFF)]
    for i in np.flatnonzero(chars > 0xFFFF).tolist():  # a BMP character folding outside the BMP (a handful)
        classes[i] = char_class(chr(chars[i]))
    return codes, starts, ends, chars, classes


def _entries(chars: np.ndarray, classes: np.ndarray) -> np.ndarray:
    """`code_entry` of each of `chars` (already folded characters) from their classes."""
    cjk = np.where(classes & CJK != 0, CJK_BIT, np.uint32(0))
    return np.where(classes & WORD != 0, chars | cjk, np.uint32(SPACE)).astype(np.uint32)


def _word_count(starts: np.ndarray, ends: np.ndarray, classes: np.ndarray) -> np.ndarray:
    """How many word characters each fold [start, end) holds."""
    running = np.concatenate(([0], np.cumsum(classes & WORD != 0)))
    return running[ends] - running[starts]


def _bmp_classes() -> np.ndarray:
    return class_array(0x10000)


def class_array(size: int) -> np.ndarray:
    """uint8 `char_class` of the code points below `size`: one category lookup each, CJK ranges as slices."""
    word = {cat: WORD for cat in ("Lu", "Ll", "Lt", "Lm", "Lo", "Mn", "Mc", "Nl", "No")} | {"Nd": WORD | DIGIT}
    categories = map(unicodedata.category, map(chr, range(size)))
    classes = np.fromiter(map(word.get, categories, itertools.repeat(0)), dtype=np.uint8, count=size)
    for lo, hi in CJK_RANGES:
        if lo < size:
            span = classes[lo : min(hi, size - 1) + 1]
            span[span & WORD != 0] |= CJK
    return classes


def normalize_words(text: str) -> list[str]:
    """The words of `text` after folding (pure Python: the reference every vectorised path must match)."""
    words: list[str] = []
    current: list[str] = []
    for ch in text:
        for out in fold(ch):
            kind = char_class(out)
            if not kind & WORD or kind & CJK:
                if current:
                    words.append("".join(current))
                    current = []
                if kind & CJK:
                    words.append(out)
            else:
                current.append(out)
    if current:
        words.append("".join(current))
    return words
