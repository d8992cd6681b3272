"""One table per notation rule (rewards.notations and the structure rules it lists), each with cases that must
stay apart next to those that must match."""

import pytest

import rewards
from rewards.notations import decimal_comma, named_set, ordinal_suffix


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("12^{th}", "12"),
        ("12^{ th }", "12"),
        ("12^th", "12"),
        ("21st", "21"),
        ("2nd", "2"),
        ("3rd place", "3 place"),
        ("width", "width"),  # no digit before: a word
        ("5 months", "5 months"),
        ("4th root", "4 root"),
    ],
)
def test_ordinal_suffix(text, expected):
    assert ordinal_suffix(text) == expected


@pytest.mark.parametrize(
    ("decimal", "other", "expected"),
    [
        ("3.5", "3,5", "3.5"),
        ("-0.25", "-0,25", "-0.25"),
        ("2.125", "2,125", "2,125"),  # three digits after the comma: a thousands separator, left alone
        ("3.5", "3, 5", "3, 5"),  # a space after the comma: a list
        ("35", "3,5", "3,5"),  # the other side is no decimal: nothing to read as one
        ("3.5", "1,2,3", "1,2,3"),
        ("12.75", "12,75", "12.75"),
        ("0.5", "0,5000", "0.5000"),
    ],
)
def test_decimal_comma(decimal, other, expected):
    assert decimal_comma(decimal, other) == expected


@pytest.mark.parametrize(
    ("gold", "prediction", "expected"),
    [
        ("32349", "32,\\!349", True),
        ("32349", "32\\,349", True),
        ("32349", "32{,}349", True),
        ("1000000", "1\\ 000\\ 000", True),
        ("1000", "1 000", True),
        ("1000", "1\u202f000", True),
        ("1000", "10 00", False),
        ("42", "4 2", False),
        ("1,000", "1000", True),
        ("1.5", "1,5", True),
        ("1.5", "1,500", False),
    ],
)
def test_number_separators(warm_pool, gold, prediction, expected):
    assert rewards.verify(gold, prediction) is expected


@pytest.mark.parametrize(
    ("gold", "prediction", "expected"),
    [
        ("12", "12^{th}", True),
        ("12", "12^{\\text{th}} \\text{ grade}", True),
        ("12", "$12^{th}$ grade", True),
        ("3", "3rd", True),
        ("3", "4th", False),
        ("100", "100th", True),
        ("2", "2nd place", True),
        ("22", "2nd", False),
    ],
)
def test_ordinals(warm_pool, gold, prediction, expected):
    assert rewards.verify(gold, prediction) is expected


@pytest.mark.parametrize(
    ("gold", "prediction", "expected"),
    [
        ("[-2, 7]", "-2 \\le x \\le 7", True),
        ("(-2, 7]", "-2 < x \\le 7", True),
        ("[-2, 7]", "-2 < x < 7", False),
        ("(0, 1)", "0 < f(x) < 1", True),
        ("(0, 1)", "1 > y > 0", True),
        ("[3, \\infty)", "x \\ge 3", True),
        ("(3, \\infty)", "x \\ge 3", False),
        ("(-\\infty, 1) \\cup (2, \\infty)", "x < 1 \\text{ or } x > 2", True),
        ("x \\in [0, 5)", "[0, 5)", True),
    ],
)
def test_inequality_chains_and_intervals(warm_pool, gold, prediction, expected):
    assert rewards.verify(gold, prediction) is expected


@pytest.mark.parametrize(
    ("gold", "prediction", "expected"),
    [
        ("\\pm 3", "-3, 3", True),
        ("\\pm 3", "\\{3, -3\\}", True),
        ("x = \\pm 3", "x = 3 \\text{ or } x = -3", True),
        ("1 \\pm \\sqrt{5}", "1 + \\sqrt{5}, 1 - \\sqrt{5}", True),
        ("\\pm 3", "3", False),
        ("\\pm 3", "-3, 3, 0", False),
        ("\\{-2, 2\\}", "\\pm 2", True),
        ("1 \\pm \\sqrt{5}", "1 \\pm \\sqrt{6}", False),
    ],
)
def test_plus_minus_and_two_element_sets(warm_pool, gold, prediction, expected):
    assert rewards.verify(gold, prediction) is expected


@pytest.mark.parametrize(
    ("gold", "prediction", "expected"),
    [
        ("\\{1, 3\\}", "{1, 3}", True),
        ("\\{1, 3\\}", "{3,1}", True),
        ("1, 3", "{1,3}", True),
        ("\\{1, 3\\}", "{1,2}", False),
        ("(1, 3)", "{1,3}", True),  # grouping braces print nothing: the bare list keeps the order
        ("(1, 3)", "\\{1,3\\}", False),  # a set is not a point
        ("13", "{13}", True),
        ("\\frac{1}{3}", "{\\frac{1}{3}}", True),
    ],
)
def test_grouping_braces_vs_sets(warm_pool, gold, prediction, expected):
    assert rewards.verify(gold, prediction) is expected


@pytest.mark.parametrize(
    ("gold", "prediction", "expected"),
    [
        ("AB = 4, CD = 5", "4, 5", True),
        ("AB = 4, CD = 5", "CD = 5, AB = 4", True),  # both labelled: by name
        ("AB = 4, CD = 5", "5, 4", False),  # one side labelled: written order
        ("m\\angle B = 30", "30", True),
        ("V_1:V_2 = 11:21", "11:21", True),
        ("(p, q) = (3, 2)", "(3, 2)", True),
        ("(11, 7) \\text{ or } (7, 11)", "(7, 11)", True),
        ("(11, 7) \\text{ or } (7, 11)", "(11, 7) \\text{ or } (7, 11)", True),
        ("(11, 7) \\text{ or } (7, 11)", "(11, 11)", False),
        ("x = 1 \\text{ or } x = 2", "1", False),  # alternatives are tuples only; roots must all be given
    ],
)
def test_labels_and_alternatives(warm_pool, gold, prediction, expected):
    assert rewards.verify(gold, prediction) is expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("all real numbers", "(-\\infty,\\infty)"),
        ("\\mathbb{R}", "(-\\infty,\\infty)"),
        ("(-\\infty, \\infty)", "(-\\infty,\\infty)"),
        ("x \\in \\mathbb{R}", "(-\\infty,\\infty)"),
        ("no solution", "\\emptyset"),
        ("No real solutions", "\\emptyset"),
        ("(0, \\infty)", "(0, \\infty)"),
        ("none of these", "none of these"),
    ],
)
def test_named_sets(text, expected):
    assert named_set(text) == expected


@pytest.mark.parametrize(
    ("gold", "prediction", "expected"),
    [
        ("\\mathbb{R}", "all real numbers", True),
        ("(-\\infty, \\infty)", "\\mathbb{R}", True),
        ("\\mathbb{R}", "(0, \\infty)", False),
        ("\\emptyset", "no solution", True),
        ("\\emptyset", "\\{\\}", True),
        ("0", "\\emptyset", False),
        ("\\emptyset", "\\{0\\}", False),
        ("\\text{no solution}", "\\varnothing", True),
    ],
)
def test_named_sets_graded(warm_pool, gold, prediction, expected):
    assert rewards.verify(gold, prediction) is expected


@pytest.mark.parametrize(
    ("gold", "prediction", "expected"),
    [
        ("\\frac{2}{3}", "0.\\overline{6}", True),
        ("\\frac{1}{3}", "0.\\overline{3}", True),
        ("\\frac{1}{3}", "0.\\overline{6}", False),
        ("\\frac{17}{15}", "1.1\\overline{3}", True),
        ("\\frac{1}{7}", "0.\\overline{142857}", True),
        ("\\frac{1}{7}", "0.\\overline{142856}", False),
        ("1", "0.\\overline{9}", True),
        ("-\\frac{5}{9}", "-0.\\overline{5}", True),
    ],
)
def test_repeating_decimals(warm_pool, gold, prediction, expected):
    assert rewards.verify(gold, prediction) is expected
