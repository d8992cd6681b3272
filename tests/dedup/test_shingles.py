"""Normalisation and shingle hashing: the vectorised batch path must equal the pure-Python reference exactly."""

import json

import numpy as np
import pytest

from deepmath.dedup.shingles import normalize_words, shingle_batch, shingle_hash32, shingles_of
from tests.conftest import require_shared


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("Hello, World!", ["hello", "world"]),
        ("  spaced\t\nout  ", ["spaced", "out"]),
        ("x_1 + y_2 = $z^2$", ["x", "1", "y", "2", "z", "2"]),
        ("ＡＢＣ１２３ full-width", ["abc123", "full", "width"]),  # NFKC folds full-width forms
        ("ﬁnal ™ mark", ["final", "tm", "mark"]),  # multi-character folds with letters are spliced in
        ("wait… what", ["wait", "what"]),  # "…" folds to "..." : a word break like any other
        ("Café naïve İstanbul", ["café", "naïve", "i̇stanbul"]),
        ("中文数学题", ["中", "文", "数", "学", "题"]),  # every ideograph is a word
        ("求x的值", ["求", "x", "的", "值"]),
        ("ひらがなカタカナ", ["ひ", "ら", "が", "な", "カ", "タ", "カ", "ナ"]),
        ("한국어 텍스트", ["한국어", "텍스트"]),  # Hangul is written with spaces: words stay whole
        ("a😀b 𝒙𝒚", ["a", "b", "xy"]),  # emoji break words; math alphanumerics fold to letters
        ("𠀀𠀁abc", ["𠀀", "𠀁", "abc"]),  # CJK extension B (outside the BMP)
        ("", []),
        ("!!! ... ???", []),
    ],
)
def test_normalize_words(text, words):
    assert normalize_words(text) == words
    batch = shingle_batch([text], ngram=1)
    assert batch.n_words.tolist() == [len(words)]
    assert batch.doc(0).tolist() == [shingle_hash32(w.encode()) for w in words]


EDGE_TEXTS = [
    "",
    "one",
    "one two three four",
    "one two three four five",
    "one two three four five six seven",
    "中文数学题：求解方程 x^2=4。答案是２或－２",
    "Café ﬁne ™ 😀 𝒙𝒚 𠀀𠀁abc wait… ½ ´ № done",
    "\x00null\x00 and\ufeffbom",
    "a" * 5000,
]


def real_texts(n: int) -> list[str]:
    texts = []
    for path in sorted(require_shared("webtext", "stackmathqa100k").glob("*.jsonl"))[:6]:
        for line in path.open(encoding="utf-8"):
            row = json.loads(line)
            texts.append(f"{row['Q']}\n\n{row['A']}")
    return texts[:n]


@pytest.mark.parametrize("ngram", [1, 3, 5])
def test_batch_equals_reference(ngram):
    texts = EDGE_TEXTS + real_texts(40) + EDGE_TEXTS
    batch = shingle_batch(texts, ngram)
    assert len(batch) == len(texts)
    for i, text in enumerate(texts):
        expected = [shingle_hash32(s) for s in shingles_of(text, ngram)]
        assert batch.doc(i).tolist() == expected, (i, text[:60])
        assert batch.n_words[i] == len(normalize_words(text))


def test_batching_does_not_change_hashes():
    texts = EDGE_TEXTS + real_texts(30)
    whole = shingle_batch(texts)
    for i, text in enumerate(texts):
        alone = shingle_batch([text])
        assert np.array_equal(alone.doc(0), whole.doc(i))
        assert np.array_equal(alone.exact[0], whole.exact[i])


def test_exact_hash_is_of_the_normalised_text():
    batch = shingle_batch(["The cat, sat.", "the CAT sat!!", "the cat sat on", "", "..."])
    assert np.array_equal(batch.exact[0], batch.exact[1])
    assert not np.array_equal(batch.exact[0], batch.exact[2])
    assert np.array_equal(batch.exact[3], batch.exact[4])  # no words: the same (empty) text


def test_bad_inputs():
    with pytest.raises(ValueError, match="ngram"):
        shingle_batch(["a b c"], ngram=0)
    assert len(shingle_batch([])) == 0
    with pytest.raises(TypeError):
        shingle_batch([None])
