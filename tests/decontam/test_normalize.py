import numpy as np
import pytest

from deepmath.decontam.normalize import (
    generic_token_mask,
    ngram_hashes,
    normalize_text,
    number_tokens,
    original_offsets,
    tokenize,
)


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("Janet’s ducks lay 16 eggs", "JANET'S DUCKS LAY 16 EGGS"),
        ("Janet’s ducks lay 16 eggs", "janet s\nducks   lay\r\n16\teggs"),
        ("“Find” the value", '"find" the VALUE'),
        ("ﬁnd x２ + y", "find x2 + y"),  # NFKC: ligature, full-width digit
        ("Straße", "STRASSE"),  # case folding, not lower()
        ("$\\frac{1}{2}$ of 10", "frac 1 2 of 10"),
        ("买了３盒", "买了3盒"),
        ("妈咪买了\n3盒茶叶", "妈咪买了3盒茶叶"),
    ],
)
def test_equivalent_texts_give_the_same_tokens(a, b):
    ta, tb = tokenize(a), tokenize(b)
    assert ta.words() == tb.words()
    assert np.array_equal(ta.hashes, tb.hashes)


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("Janet’s ducks", ["janet", "s", "ducks"]),
        ("x^2+3x-1=0", ["x", "2", "3x", "1", "0"]),
        ("妈咪买了3盒茶叶", ["妈", "咪", "买", "了", "3", "盒", "茶", "叶"]),
        ("ひらがなカタカナ", list("ひらがなカタカナ")),
        ("naïve café", ["naïve", "café"]),
        ("", []),
        ("  ,.;  ", []),
    ],
)
def test_tokens(text, words):
    assert tokenize(text).words() == words


def test_different_tokens_hash_differently():
    tokens = tokenize("ab ba abc a b c 12 21 一 二")
    assert len(np.unique(tokens.hashes)) == len(tokens)


def test_ngram_hashes_are_position_free_and_role_salted():
    tokens = tokenize("one two three four one two three")
    grams = ngram_hashes(tokens.hashes, [3], [3])
    ngram, whole = grams[(3, False)], grams[(3, True)]
    assert ngram[0] == ngram[4]  # "one two three" at positions 0 and 4
    assert ngram[0] != ngram[1]
    assert not set(ngram.tolist()) & set(whole.tolist())  # a whole-text key never equals an n-gram key
    assert ngram_hashes(tokens.hashes, [8]) == {}  # longer than the text


def test_generic_tokens():
    tokens = tokenize("Let $x$ be \\frac{17}{2xy} \\begin{array} triangle numbers 2019 and 3x")
    generic = dict(zip(tokens.words(), generic_token_mask(tokens).tolist()))
    assert generic["let"] and generic["x"] and generic["be"] and generic["frac"] and generic["17"]
    assert generic["2xy"] and generic["array"] and generic["2019"] and generic["3x"] and generic["numbers"]
    assert not generic["triangle"]
    loose = dict(zip(tokens.words(), generic_token_mask(tokens, stopwords=False).tolist()))
    assert not loose["be"] and not loose["and"] and loose["x"]  # words count as words; variables stay generic


def test_number_tokens():
    tokens = tokenize("x = 17 and 3 or 2019a 398")
    assert [w for w, n in zip(tokens.words(), number_tokens(tokens)) if n] == ["17", "398"]


@pytest.mark.parametrize("text", ["plain ascii text", "ﬁnd the ﬂow", "Straße und Maß", "e\u0301te\u0301", "x²+y²"])
def test_original_offsets_map_back(text):
    norm = normalize_text(text)
    offsets = original_offsets(text, norm)
    assert len(offsets) == len(norm) + 1
    assert offsets[0] == 0 and offsets[-1] == len(text)
    assert np.all(np.diff(offsets) >= 0)
    tokens = tokenize(text)
    for start, end, word in zip(tokens.starts, tokens.ends, tokens.words()):
        assert normalize_text(text[offsets[start] : offsets[end]]) == word
