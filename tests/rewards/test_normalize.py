"""normalize_answer (canonical strings for storing and grouping) and answers_equal (for majority voting)."""

from collections import Counter

import pytest

import rewards
from rewards.numbers import numbers_equal, parse_number


@pytest.mark.parametrize(
    ("answer", "canonical"),
    [
        ("18", "18"),
        ("\\$18.00", "18"),
        ("10{,}000", "10000"),
        ("\\dfrac{2}{4}", "1/2"),
        ("-\\frac{3}{4}", "-3/4"),
        ("1\\frac{1}{10}", "11/10"),
        ("0.50", "0.5"),
        ("25\\%", "25%"),
        ("48^\\circ", "48"),
        ("x = 3", "3"),
        ("\\{3, 1, 2\\}", "\\{1,2,3\\}"),
        ("3, 1", "1,3"),
        ("(1, 2)", "(1,2)"),
        ("\\left( 1,2 \\right]", "(1,2]"),
        ("x > 2", "(2,\\infty)"),
        ("\\text{(C)}", "C"),
        ("\\text{Monday}", "monday"),
        ("\\frac{\\sqrt{3}}{2}", "\\frac{\\sqrt{3}}{2}"),
        ("x^{2} + 1", "x^2+1"),
        ("\\pm 3", "-3,3"),
    ],
)
def test_normalize_answer(answer, canonical):
    assert rewards.normalize_answer(answer) == canonical
    assert rewards.normalize_answer(canonical) == canonical  # canonical strings are fixed points


def test_majority_vote_grouping(warm_pool):
    samples = ["\\frac{1}{2}", "0.5", "1/2", "\\dfrac12", "\\frac{2}{4}", "2", "x = \\frac12", "\\frac{\\sqrt{4}}{4}"]
    votes = Counter(rewards.normalize_answer(s) for s in samples)
    top, count = votes.most_common(1)[0]
    assert (top, count) == ("1/2", 5)  # 0.5 is a decimal and keeps its own key; answers_equal joins them
    assert rewards.answers_equal(top, "0.5")
    assert rewards.answers_equal("\\frac{\\sqrt{4}}{4}", top)  # needs sympy
    assert not rewards.answers_equal(top, "2")
    assert not rewards.answers_equal(None, top)


@pytest.mark.parametrize(
    ("a", "b"),
    [("\\frac{1}{2}", "0.5"), ("(1,2]", "(1, 2]"), ("\\{1,2\\}", "\\{2,1\\}"), ("x^2-1", "(x-1)(x+1)")],
)
def test_answers_equal_is_symmetric_on_equal_pairs(warm_pool, a, b):
    assert rewards.answers_equal(a, b) and rewards.answers_equal(b, a)


@pytest.mark.parametrize(
    ("gold", "pred", "expected"),
    [
        ("1/3", "0.333", False),  # the default policy: 1e-6 relative for a decimal against an exact gold
        ("1/3", "0.3333333", True),
        ("1/3", "0.33", False),
        ("2/3", "0.6666667", True),
        ("2/3", "0.6666666", True),  # truncated
        ("2/3", "0.6666668", False),  # within 1e-6, but its last digit is wrong
        ("0.33", "1/3", False),  # a two-digit gold decimal is too coarse to accept an exact value against
        ("3.14", "3.1416", True),
        ("2.5", "2.54", False),
        ("25%", "0.25", True),
        ("25", "0.25", False),
        ("1.5e3", "1500", True),
        ("10000", "10001", False),
    ],
)
def test_numbers_equal(gold, pred, expected):
    assert numbers_equal(parse_number(gold), parse_number(pred)) is expected


LENIENT = rewards.NumericPolicy(rounded_digits=3)


@pytest.mark.parametrize(
    ("gold", "pred", "expected"),
    [
        ("1/3", "0.333", True),
        ("1/3", "0.33", False),
        ("2/3", "0.666", True),
        ("2/3", "0.667", True),
        ("2/3", "0.668", False),
        ("42", "41.99", False),  # integers stay exact
    ],
)
def test_numbers_equal_with_lenient_policy(gold, pred, expected):
    assert numbers_equal(parse_number(gold), parse_number(pred), LENIENT) is expected


@pytest.mark.parametrize("text", ["1" * 1001, "1e99999", "1/0", "abc", "", "12,34"])
def test_parse_number_rejects(text):
    assert parse_number(text) is None
