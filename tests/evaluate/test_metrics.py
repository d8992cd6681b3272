"""pass@k and maj@k on constructed samples (numbers worked out by hand in the comments)."""

import itertools
import random
from math import comb

import pytest

from deepmath.evaluate.metrics import GradedProblem, maj_at_k, majority_answer, pass_at_k, summarize


@pytest.mark.parametrize(
    ("n", "c", "k", "expected"),
    [
        (8, 0, 1, 0.0),
        (8, 8, 1, 1.0),
        (8, 3, 1, 3 / 8),  # pass@1 is the fraction correct
        (4, 1, 2, 1 - comb(3, 2) / comb(4, 2)),  # 1 - 3/6 = 0.5
        (5, 2, 5, 1.0),  # k = n: any correct sample counts
        (10, 1, 9, 0.9),  # only the subsets missing the single correct sample fail: C(9,9)/C(10,9) = 1/10
        (3, 1, 3, 1.0),
    ],
)
def test_pass_at_k_closed_form(n, c, k, expected):
    assert pass_at_k(n, c, k) == pytest.approx(expected)


def test_pass_at_k_equals_the_average_over_all_subsets():
    """The unbiased estimator is the mean, over every k-subset of the n samples, of 'some sample is correct'."""
    samples = [True, False, False, True, False, False]
    for k in range(1, len(samples) + 1):
        subsets = list(itertools.combinations(samples, k))
        brute = sum(any(s) for s in subsets) / len(subsets)
        assert pass_at_k(len(samples), sum(samples), k) == pytest.approx(brute)


@pytest.mark.parametrize(("n", "c", "k"), [(4, 5, 1), (4, -1, 1), (4, 2, 0), (4, 2, 5)])
def test_pass_at_k_rejects_impossible_counts(n, c, k):
    with pytest.raises(ValueError):
        pass_at_k(n, c, k)


def test_majority_groups_equivalent_answers():
    # "1/2" and "0.5" are one answer under the equivalence: 3 votes beat "7" with 2
    same = {frozenset({"1/2", "0.5"})}

    def equal(a, b):
        return a == b or frozenset({a, b}) in same

    answers = ["7", "1/2", "0.5", "7", None, "0.5"]
    index, votes = majority_answer(answers, equal)
    assert (index, votes) == (1, 3)
    assert majority_answer(answers) == (0, 2)  # string equality: "7" (2 votes, seen first) wins the tie with "0.5"


def test_majority_ignores_missing_answers_and_breaks_ties_by_first_seen():
    assert majority_answer([None, None]) == (None, 0)
    assert majority_answer(["3", "4", "4", "3"]) == (0, 2)
    assert majority_answer([None, "9", "8"]) == (1, 1)


def test_maj_at_k_uses_the_first_k_samples():
    problem = GradedProblem(answers=["5", "6", "6", "5", "5"], correct=[True, False, False, True, True])
    assert maj_at_k(problem, 3) == 0.0  # "6" wins among the first three
    assert maj_at_k(problem, 5) == 1.0  # "5" wins with all five
    assert maj_at_k(GradedProblem(answers=[None, None], correct=[False, False]), 2) == 0.0


def test_precomputed_majority_is_used_only_for_all_samples():
    problem = GradedProblem(answers=["a", "b", "b"], correct=[True, False, False], majority=0, voted=True)
    assert maj_at_k(problem, 3) == 1.0  # the grader's vote (e.g. with a symbolic equality) is trusted
    assert maj_at_k(problem, 1) == 1.0  # first sample only: "a"
    assert maj_at_k(problem, 2) == 1.0  # tie: first seen "a"


def test_summarize_on_constructed_problems():
    problems = [
        GradedProblem(["4", "4", "5", "4"], [True, True, False, True]),  # 3/4 right, majority right
        GradedProblem(["1", "2", "2", "1"], [True, False, False, False]),  # tie -> "1" (first seen) right
        GradedProblem(["9", "8", "8", None], [False, False, False, False]),  # all wrong
        GradedProblem(["0", "3", "7", "7"], [False, True, False, False]),  # right answer present, majority wrong
    ]
    result = summarize(problems, k=4)
    assert result["pass@1"] == pytest.approx((3 / 4 + 1 / 4 + 0 + 1 / 4) / 4)
    assert result["pass@k"] == pytest.approx(3 / 4)  # k = n: problems with any correct sample
    assert result["maj@k"] == pytest.approx(2 / 4)
    assert result["pass_curve"]["1"] == pytest.approx(result["pass@1"])
    assert result["pass_curve"]["2"] == pytest.approx(sum(pass_at_k(4, c, 2) for c in (3, 1, 0, 1)) / 4)
    assert result["answered"] == pytest.approx(15 / 16)


def test_summarize_random_problems_bounds():
    rng = random.Random(0)
    problems = []
    for _ in range(50):
        correct = [rng.random() < 0.4 for _ in range(8)]
        answers = ["g" if ok else str(rng.randint(0, 3)) for ok in correct]
        problems.append(GradedProblem(answers, correct))
    result = summarize(problems, k=8)
    assert 0 <= result["pass@1"] <= result["pass_curve"]["2"] <= result["pass_curve"]["4"] <= result["pass@k"] <= 1
    assert result["maj@k"] <= result["pass@k"]


def test_summarize_bad_inputs():
    with pytest.raises(ValueError, match="no graded problems"):
        summarize([], k=1)
    with pytest.raises(ValueError, match="needs at least k samples"):
        summarize([GradedProblem(["1"], [True])], k=2)
