"""The (gold, completion, expected) table: every answer category, false-positive traps included."""

import pytest

import rewards
from tests.rewards.cases import ALL, LENIENT, ROWS


@pytest.mark.parametrize(
    ("category", "gold", "completion", "expected"),
    ROWS,
    ids=[f"{category}-{i}" for i, (category, *_) in enumerate(ROWS)],
)
def test_grade(warm_pool, category, gold, completion, expected):
    verdict = rewards.grade(gold, completion)
    assert verdict.correct is expected, verdict
    assert verdict.reason != "timeout"  # a table row that times out tells us nothing about correctness
    assert rewards.verify(gold, completion) is expected


def test_table_covers_every_category_with_both_outcomes():
    assert len(ROWS) >= 300
    for category, rows in ALL.items():
        outcomes = {expected for _, _, expected in rows}
        assert outcomes == {True, False}, f"{category} needs positive and negative rows"
    assert len(ALL["traps"]) >= 20


def test_verdict_fields(warm_pool):
    verdict = rewards.grade("\\frac{1}{2}", "Thus $\\boxed{0.5}$.")
    assert (verdict.correct, verdict.predicted, verdict.source) == (True, "0.5", "boxed")
    assert verdict.reason.startswith("equal:")
    wrong = rewards.grade("18", "The answer is 19.")
    assert (wrong.correct, wrong.predicted, wrong.source) == (False, "19", "answer_is")
    assert wrong.reason.startswith("different:")
    assert rewards.grade("18", "no digits here").reason == "no_answer"
    assert rewards.grade("", "\\boxed{18}").reason == "gold_unparseable"
    assert rewards.grade("   ", "\\boxed{18}").reason == "gold_unparseable"


def test_plain_numbers_never_reach_sympy():
    # the fast path decides these in-process; "symbolic" in the reason would mean a worker round trip
    for gold, completion in [
        ("18", "A: 18"),
        ("1,000", "\\boxed{1000}"),
        ("\\frac{1}{2}", "\\boxed{0.5}"),
        ("5", "500"),
    ]:
        assert "symbolic" not in rewards.grade(gold, completion).reason


@pytest.mark.parametrize(("gold", "completion", "expected"), LENIENT)
def test_lenient_numeric_policy(warm_pool, gold, completion, expected):
    policy = rewards.NumericPolicy(rounded_digits=3)
    assert rewards.verify(gold, completion, policy) is expected
    assert rewards.grade(gold, completion, config=policy).correct is expected
