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

import numpy as np

__all__ = [
    "CJK",
    "CJK_BIT",
    "CJK_RANGES",
    "DIGIT",
    "SLOW_BIT",
    "SPACE",
    "WORD",
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
    Built once per process (~30 ms, see `bmp_tables`; 4.4 MB); callers may write resolved entries back into it."""
    return bmp_tables()[0]


@functools.cache
def bmp_tables() -> tuple[np.ndarray, np.ndarray]:
    """`fold_table()` and, per BMP code point, its one-character fold or itself (the tokenizer's normalised text
    keeps characters whose fold has several characters and no word character, e.g. "…").

    Built from two whole-string calls instead of 2 x 65k per-character ones (~30 ms instead of ~100 ms: every
    corpus command pays it once): the BMP characters joined by NUL are normalised and case-folded at once (NUL is
    a starter that composes with nothing, so each character folds exactly as it does alone), and classes come from
    one category lookup per code point. `tests/text` checks the result against `fold_code` for every code point."""
    # NUL separates; surrogates never occur. The joined string is made from its UTF-32 bytes (code, 0, code, 0...)
    code_array = np.concatenate((np.arange(1, 0xD800), np.arange(0xE000, 0x10000)))
    joined = np.zeros((len(code_array), 2), dtype=np.uint32)
    joined[:, 0] = code_array
    folds = unicodedata.normalize("NFKC", joined.tobytes()[:-4].decode("utf-32-le")).casefold().split("\0")
    if len(folds) != len(code_array):  # pragma: no cover - would mean a fold produced NUL; fall back to one by one
        folds = [fold(chr(c)) for c in code_array.tolist()]
    classes = _bmp_classes()
    table = np.full(0x110000, SPACE | SLOW_BIT, dtype=np.uint32)
    table[0] = SPACE
    pieces = np.arange(0x10000, dtype=np.uint32)
    single = np.fromiter(map(len, folds), dtype=np.int64, count=len(folds)) == 1
    # one-character folds, all at once: their code points, classes and table entries
    points = np.frombuffer("".join(itertools.compress(folds, single.tolist())).encode("utf-32-le"), np.uint32)
    kinds = classes[np.minimum(points, 0xFFFF)]
    for i in np.flatnonzero(points > 0xFFFF).tolist():  # a BMP character folding outside the BMP (a handful)
        kinds[i] = char_class(chr(points[i]))
    entries = np.where(kinds & WORD != 0, points | np.where(kinds & CJK != 0, CJK_BIT, np.uint32(0)), SPACE)
    table[code_array[single]] = entries
    pieces[code_array[single]] = points
    # several characters: a word break unless a word character is among them (then resolved per character)
    for code, folded in zip(code_array[~single].tolist(), itertools.compress(folds, (~single).tolist())):
        table[code] = SPACE | SLOW_BIT if any(char_class(c) & WORD for c in folded) else SPACE
    return table, pieces


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
