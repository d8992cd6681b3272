"""`find_duplicates` on a planted corpus of real text with known Jaccard, plus keep policies and bad inputs."""

import pytest

from deepmath.dedup.api import find_duplicates
from deepmath.dedup.planted import score
from tests.dedup.planted import planted as planted_corpus


@pytest.fixture(scope="module")
def planted():
    return planted_corpus(max_bases=250, pages=1800, seed=0)


def test_planted_corpus_recall_and_false_removals(planted):
    assert len(planted.truth.groups) >= 100 and len(planted.truth.unique) >= 200, "the planted corpus is too small"
    removed = find_duplicates(planted.texts, planted.ids)
    result = score(removed, planted.truth)
    assert result["recall"] >= 0.98, result
    assert result["false_removals"] <= 0.005, result
    assert result["families_lost"] == 0, result
    assert all(kept not in removed for kept in removed.values())  # every removed page points at a kept page


def test_removed_pages_really_are_near_duplicates(planted):
    removed = find_duplicates(planted.texts, planted.ids)
    for dup, kept in list(removed.items())[:200]:
        assert planted.truth.base[dup] == planted.truth.base[kept]
        j = planted.truth.jaccard(dup, kept)
        assert j >= 0.6, (dup, kept, j)  # a cluster may chain through pages, but never through unrelated ones


def test_keep_policies():
    base = "the quick brown fox jumps over the lazy dog near the river bank today " * 4
    texts = [base, base + "and again", base.upper(), "something else entirely with other words in it ok"]
    assert find_duplicates(texts) == {"1": "0", "2": "0"}
    assert find_duplicates(texts, keep="longest") == {"0": "1", "2": "1"}
    assert find_duplicates(texts, keep="score", scores=[0.1, 0.2, 0.9, 0.0]) == {"0": "2", "1": "2"}
    assert find_duplicates(texts, ["a", "b", "c", "d"]) == {"b": "a", "c": "a"}
    assert find_duplicates([]) == {}


def test_chinese_near_duplicates():
    question = "珍妮特的鸭子每天下十六颗蛋。她每天早上早餐时吃三颗，每天用四颗为自己的朋友做松饼。剩下的鸭蛋她每天拿去农贸市场卖。"
    texts = [
        question,
        question.replace("三颗", "两颗"),
        "制作一件袍子需要两匹蓝色纤维布料和这个数量一半的白色纤维布料。",
    ]
    assert find_duplicates(texts, threshold=0.7) == {"1": "0"}


@pytest.mark.parametrize(
    ("kwargs", "error", "message"),
    [
        ({"texts": ["a"], "ids": ["x", "y"]}, ValueError, "ids"),
        ({"texts": ["a", "b"], "ids": ["x", "x"]}, ValueError, "distinct"),
        ({"texts": ["a"], "keep": "shortest"}, ValueError, "keep"),
        ({"texts": ["a"], "keep": "score"}, ValueError, "scores"),
        ({"texts": ["a"], "scores": [1.0, 2.0]}, ValueError, "scores"),
        ({"texts": ["a", None]}, TypeError, "texts"),
        ({"texts": "just one string"}, TypeError, "list"),
        ({"texts": ["a"], "threshold": 1.2}, ValueError, "threshold"),
    ],
)
def test_bad_inputs(kwargs, error, message):
    with pytest.raises(error, match=message):
        find_duplicates(**kwargs)
