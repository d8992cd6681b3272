"""One table per cause of a wrong verdict on plain (gold, prediction) pairs (see categories.py)."""

import pytest

import rewards
from tests.rewards.categories import CATEGORIES

ROWS = [(name, gold, pred, expected) for name, rows in CATEGORIES.items() for gold, pred, expected in rows]


@pytest.mark.parametrize(
    ("category", "gold", "prediction", "expected"), ROWS, ids=[f"{c}-{i}" for i, (c, *_) in enumerate(ROWS)]
)
def test_category(warm_pool, category, gold, prediction, expected):
    verdict = rewards.grade(gold, prediction)
    assert verdict.correct is expected, verdict
    assert verdict.reason != "timeout"


def test_every_category_has_enough_cases_both_ways():
    assert len(CATEGORIES) == 9
    for name, rows in CATEGORIES.items():
        assert len(rows) >= 8, name
        assert {expected for *_, expected in rows} == {True, False}, name


def test_batch_and_reward_function_agree_with_grade(warm_pool):
    golds, preds = [r[1] for r in ROWS], [r[2] for r in ROWS]
    expected = [r[3] for r in ROWS]
    assert [v.correct for v in rewards.grade_batch(golds, preds)] == expected
    assert rewards.get("math_accuracy")(preds, answer=golds) == [float(e) for e in expected]
