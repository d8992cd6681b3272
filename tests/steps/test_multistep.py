"""The multi-step tiny task: deterministic, checkable steps, corruptions found at the right step."""

import random

import pytest

from deepmath.tasks.multistep import (
    check_steps,
    corrupt_solution,
    make_multistep_problems,
    prefix_correct,
    split_steps,
)


def test_same_seed_same_problems_and_unique_questions():
    a = make_multistep_problems(300, seed=1)
    assert a == make_multistep_problems(300, seed=1)
    assert len({p["question"] for p in a}) == 300
    assert {len(p["plan"]) for p in a} == {2, 3}


def test_gold_solution_is_right_at_every_step():
    for problem in make_multistep_problems(200, seed=2):
        steps = split_steps(problem["solution"])
        assert len(steps) == len(problem["plan"]) + 1
        assert check_steps(problem, problem["solution"]) == [True] * len(steps)
        assert steps[-1].endswith(f"\\boxed{{{problem['answer']}}}.")


def test_corruption_is_found_at_its_step_and_later_prefixes_are_off_track():
    rng = random.Random(0)
    for problem in make_multistep_problems(100, seed=3):
        k = rng.randrange(len(problem["plan"]))
        bad = corrupt_solution(problem, k, rng)
        verdicts = check_steps(problem, bad)
        assert verdicts[:k] == [True] * k and verdicts[k] is False
        assert verdicts[-1] is False  # the wrong value reaches the answer
        assert prefix_correct(verdicts) == [True] * k + [False] * (len(verdicts) - k)


def test_extra_or_malformed_lines_are_wrong():
    problem = make_multistep_problems(1, seed=4)[0]
    assert check_steps(problem, "hello\n" + problem["solution"])[0] is False
    assert check_steps(problem, problem["solution"] + "\nmore")[-1] is False


def test_bad_arguments():
    with pytest.raises(ValueError, match="n must be"):
        make_multistep_problems(-1, seed=0)
    problem = make_multistep_problems(1, seed=0)[0]
    with pytest.raises(ValueError, match="step must be"):
        corrupt_solution(problem, 9, random.Random(0))
