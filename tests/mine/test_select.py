import numpy as np
import pytest

from deepmath.mine.select import count_tokens, select_top


def test_keep_tokens_takes_top_scores_until_the_budget_is_reached():
    scores = np.array([0.9, 0.1, 0.8, 0.7, 0.3])
    tokens = np.array([100, 100, 50, 300, 10])
    sel = select_top(scores, tokens, keep_tokens=150)
    assert sel.mask.tolist() == [True, False, True, False, False]
    assert (sel.documents, sel.tokens, sel.cutoff_score) == (2, 150, 0.8)
    # one token more and the next page (0.7, 300 tokens) is needed to reach the budget
    assert select_top(scores, tokens, keep_tokens=151).mask.tolist() == [True, False, True, True, False]


def test_selection_is_global_not_per_shard():
    # shard A is all math-like (high scores), shard B all low: a per-shard quantile would keep half of each
    shard_a = np.array([0.95, 0.9, 0.85, 0.8])
    shard_b = np.array([0.2, 0.15, 0.1, 0.05])
    scores = np.concatenate([shard_a, shard_b])
    tokens = np.full(8, 10)
    sel = select_top(scores, tokens, keep_fraction=0.5)
    assert sel.mask.tolist() == [True] * 4 + [False] * 4
    per_shard = np.concatenate([select_top(s, np.full(4, 10), keep_fraction=0.5).mask for s in (shard_a, shard_b)])
    assert per_shard.tolist() != sel.mask.tolist()


def test_quantile_is_weighted_by_tokens():
    # the best page is long: a 50% token budget is spent on it alone, unlike a 50% page count
    scores = np.array([0.9, 0.8, 0.7, 0.6])
    tokens = np.array([1000, 10, 10, 10])
    assert select_top(scores, tokens, keep_fraction=0.5).mask.tolist() == [True, False, False, False]


def test_ties_are_broken_by_position_deterministically():
    scores = np.array([0.5, 0.5, 0.5, 0.5])
    tokens = np.array([10, 10, 10, 10])
    assert select_top(scores, tokens, keep_tokens=20).mask.tolist() == [True, True, False, False]


def test_threshold_and_full_budget():
    scores = np.array([0.9, 0.49, 0.5])
    tokens = np.array([1, 0, 2])
    assert select_top(scores, tokens, threshold=0.5).mask.tolist() == [True, False, True]
    assert select_top(scores, tokens, keep_fraction=1.0).mask.all()
    empty = select_top(scores, tokens, threshold=0.95)
    assert empty.documents == 0 and empty.cutoff_score is None


@pytest.mark.parametrize(
    "kwargs", [{}, {"keep_tokens": 1, "threshold": 0.5}, {"keep_tokens": 1, "keep_fraction": 0.1, "threshold": 0.1}]
)
def test_exactly_one_rule(kwargs):
    with pytest.raises(ValueError, match="exactly one"):
        select_top(np.zeros(2), np.zeros(2), **kwargs)


def test_mismatched_arrays_are_refused():
    with pytest.raises(ValueError, match="one length"):
        select_top(np.zeros(2), np.zeros(3), threshold=0.5)


def test_token_unit_is_whitespace_words():
    assert count_tokens("a  b\n\tc $x^2$") == 4
    assert count_tokens("") == 0
