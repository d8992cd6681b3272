import numpy as np
import pytest

from deepmath.mine.select import language_counts, select_top


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


def test_language_quota_caps_a_language_and_frees_its_share():
    # scores rank zh pages first; zh may take at most 30% of a 50-token budget: 15 tokens, overshot by < 1 page
    scores = np.array([0.99, 0.98, 0.97, 0.96, 0.9, 0.8, 0.7, 0.6, 0.5, 0.4])
    tokens = np.full(10, 10)
    languages = np.array(["zh"] * 5 + ["en"] * 5, dtype=object)
    plain = select_top(scores, tokens, keep_tokens=50)
    assert plain.mask[:5].all() and not plain.mask[5:].any()
    capped = select_top(scores, tokens, keep_tokens=50, languages=languages, quotas={"zh": 0.3})
    assert capped.mask.tolist() == [True] * 2 + [False] * 3 + [True] * 3 + [False] * 2
    assert capped.tokens == 50
    counts = language_counts(languages, tokens, capped.mask)
    assert counts == {"en": {"documents": 3, "tokens": 30}, "zh": {"documents": 2, "tokens": 20}}


def test_quota_zero_and_allowed_mask_exclude_pages():
    scores = np.array([0.9, 0.8, 0.7, 0.6])
    tokens = np.array([5, 5, 5, 5])
    languages = np.array(["zh", "en", "fr", "en"], dtype=object)
    none_zh = select_top(scores, tokens, keep_tokens=100, languages=languages, quotas={"zh": 0.0})
    assert none_zh.mask.tolist() == [False, True, True, True]
    allowed = np.isin(languages, ["en"])
    only_en = select_top(scores, tokens, threshold=0.0, allowed=allowed)
    assert only_en.mask.tolist() == [False, True, False, True]
    with pytest.raises(ValueError, match="quotas need a token budget"):
        select_top(scores, tokens, threshold=0.5, languages=languages, quotas={"zh": 0.5})
