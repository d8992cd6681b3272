"""One text kernel: dedup's words and decontamination's tokens are the same words for every text, and the shared
span hash equals its definition."""

from __future__ import annotations

import random

import numpy as np
import pytest

from deepmath.dedup.shingles import shingle_batch, shingle_hash32
from deepmath.io.rows import read_rows
from deepmath.text import normalize_text, normalize_words, poly_span_hashes, tokenize
from deepmath.text.tokens import original_offsets
from tests.conftest import require_shared
from tests.dedup.test_shingles import EDGE_TEXTS

TRICKY = [
    *EDGE_TEXTS,
    "Straße STRASSE ẞ",  # case folding: ß -> ss
    "ﬁnd x２ + y",  # ligature and full-width digit
    "$\\frac{1}{2}$ of 10 \\begin{align} x \\end{align}",
    "妈咪买了\n3盒茶叶，每盒12元。",
    "e\u0301te\u0301 vs été",  # combining marks join the letters (not composed: see deepmath.text.chars)
    "x²+y² = r² ⅓ ①②",
    "ǅungla İstanbul ΣΊΣΥΦΟΣ",
]


def _real_texts() -> list[str]:
    texts = []
    for path in sorted(require_shared("webtext", "stackmathqa100k").glob("*.jsonl"))[:2]:
        texts += [f"{row['Q']}\n\n{row['A']}" for row in read_rows(path)]
    texts += [row["text"] for row in read_rows(next(require_shared("webtext", "dolma_cc_2019_30").glob("*.gz")))]
    for name in ("cmath", "gaokao2023en"):
        texts += [row.get("question") or "" for row in read_rows(require_shared("benchmarks", name, "test.jsonl"))]
    random.Random(0).shuffle(texts)
    return texts[:1500]


@pytest.mark.parametrize("text", TRICKY)
def test_decontam_tokens_are_dedup_words(text):
    assert tokenize(text).words() == normalize_words(text)


def test_decontam_tokens_are_dedup_words_on_real_multilingual_pages():
    texts = _real_texts()
    assert sum(any("\u4e00" <= ch <= "\u9fff" for ch in t) for t in texts) > 50  # Chinese pages are in the sample
    mismatched = [t[:80] for t in texts if tokenize(t).words() != normalize_words(t)]
    assert not mismatched


def test_a_dedup_shingle_hashes_the_decontam_tokens_joined():
    """Dedup's 1-gram shingles are the hashes of decontamination's token strings: one meaning of a word."""
    text = TRICKY[-1] + " " + TRICKY[-5]
    words = tokenize(text).words()
    assert shingle_batch([text], ngram=1).doc(0).tolist() == [shingle_hash32(w.encode()) for w in words]


def test_poly_span_hashes_equal_their_definition():
    rng = np.random.default_rng(0)
    values = rng.integers(0, 1 << 21, size=300).astype(np.uint64)
    starts = rng.integers(0, 300, size=50)
    ends = np.minimum(starts + rng.integers(0, 40, size=50), 300)
    base = 0x9E3779B97F4A7C15
    got = poly_span_hashes(values, starts, ends, base)
    for s, e, h in zip(starts.tolist(), ends.tolist(), got.tolist()):
        expected = sum(int(values[t]) * pow(base, t - s, 1 << 64) for t in range(s, e)) % (1 << 64)
        assert h == expected


@pytest.mark.parametrize(
    ("text", "norm", "offsets"),
    [
        ("ﬁx", "fix", [0, 0, 1, 2]),  # one input character became two
        ("Maß!", "mass!", [0, 1, 2, 2, 3, 4]),
        ("AB", "ab", [0, 1, 2]),
    ],
)
def test_offsets_into_the_input_are_exact(text, norm, offsets):
    assert normalize_text(text) == norm
    assert original_offsets(text).tolist() == offsets


def test_the_vectorised_tables_equal_the_per_character_definitions():
    """The tables are built from whole-string calls (fast start-up); every entry must be what the one-character
    definitions say: `fold_code` for every BMP code point, `char_class` for the BMP and a sample beyond it."""
    from deepmath.text.chars import bmp_tables, char_class, fold, fold_code
    from deepmath.text.tokens import class_table

    table, pieces = bmp_tables()
    codes = [c for c in range(0x10000) if not 0xD800 <= c < 0xE000]
    assert [c for c in codes if table[c] != fold_code(chr(c))] == []
    assert [c for c in codes if len(fold(chr(c))) == 1 and pieces[c] != ord(fold(chr(c)))] == []
    classes = class_table()
    sample = codes + random.Random(0).sample(range(0x10000, 0x110000), 20000)
    assert [c for c in sample if classes[c] != char_class(chr(c))] == []


def test_the_expansions_equal_the_per_character_folds():
    """`bmp_expansions` (vectorised) lists exactly the BMP code points whose table entry is slow, each with the
    `code_entry` of every character of its fold: what the compiled kernel splices in for them."""
    from deepmath.text.chars import SLOW_BIT, bmp_expansions, code_entry, fold, fold_table

    keys, starts, values = bmp_expansions()
    table = fold_table()
    slow = [c for c in range(0x10000) if not 0xD800 <= c < 0xE000 and table[c] & SLOW_BIT]
    assert keys.tolist() == slow
    assert len(slow) > 100  # "ﬁ", "½", "™"... a real list, not an empty one
    got = [values[starts[i] : starts[i + 1]].tolist() for i in range(len(keys))]
    assert got == [[code_entry(ch) for ch in fold(chr(code))] for code in slow]


def test_the_shipped_tables_are_the_computed_ones():
    """`unicode_tables.npz` (read at start-up instead of computing) holds exactly what this Python's unicodedata
    gives, when it was written for this Unicode version; for another version it is not used."""
    import unicodedata

    import numpy as np

    from deepmath.text import chars

    shipped = chars._shipped_tables()
    with np.load(chars.SHIPPED_TABLES) as npz:
        written_for = str(npz["unicode"])
    if written_for != unicodedata.unidata_version:
        assert shipped is None
        return
    table, pieces = chars._computed_bmp_tables()
    keys, starts, values = chars._computed_expansions()
    for name, computed in (
        ("table", table),
        ("pieces", pieces),
        ("keys", keys),
        ("starts", starts),
        ("values", values),
    ):
        assert shipped[name].dtype == computed.dtype and np.array_equal(shipped[name], computed), name
    full, _ = chars.bmp_tables.__wrapped__()  # built afresh: the cached one has non-BMP entries resolved by use
    assert len(full) == 0x110000 and np.array_equal(full[:0x10000], table)
    assert (full[0x10000:] == chars.SPACE | chars.SLOW_BIT).all()


def test_tables_for_another_unicode_version_are_computed_instead(tmp_path, monkeypatch):
    import numpy as np

    from deepmath.text import chars

    other = tmp_path / "tables.npz"
    chars.write_shipped_tables(other)
    with np.load(other) as npz:
        arrays = {key: npz[key] for key in npz.files}
    arrays["unicode"] = np.array("1.0.0")
    np.savez(other, **arrays)
    monkeypatch.setattr(chars, "SHIPPED_TABLES", other)
    chars._shipped_tables.cache_clear()
    try:
        assert chars._shipped_tables() is None
        monkeypatch.setattr(chars, "SHIPPED_TABLES", tmp_path / "missing.npz")
        chars._shipped_tables.cache_clear()
        assert chars._shipped_tables() is None
    finally:
        chars._shipped_tables.cache_clear()
