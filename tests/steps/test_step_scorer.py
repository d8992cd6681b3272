"""Step scorers for GRPO+PS: a PRM folder or `module:factory` (the tiny task's oracle PRM), bad values one line."""

import random
from types import SimpleNamespace

import pytest

from deepmath.config import ConfigError
from deepmath.tasks.multistep import corrupt_solution, make_multistep_problems, split_steps
from deepmath.train.process import load_step_scorer


def test_the_oracle_prm_scores_the_ground_truth_of_every_step():
    cfg = SimpleNamespace(prm="deepmath.steps.simulated:oracle_prm", tiny_problems=20, tiny_seed=3)
    score = load_step_scorer(cfg)
    problem = make_multistep_problems(20, 3)[5]
    wrong = corrupt_solution(problem, 1, random.Random(0))  # step 2 (0-based 1) is wrong, the rest carried on
    scores = score(
        [problem["question"], problem["question"], "not a task question"],
        [split_steps(problem["solution"]), split_steps(wrong), ["1 + 1 = 2."]],
    )
    steps = len(split_steps(problem["solution"]))
    assert scores[0] == [1.0] * steps
    assert scores[1] == [1.0] + [0.0] * (steps - 1)
    assert scores[2] == [0.0]


@pytest.mark.parametrize(
    "prm, message", [("no.such.module:f", "cannot be imported"), ("/nonexistent/prm", "neither a PRM model folder")]
)
def test_a_bad_prm_is_a_one_line_config_error(prm, message):
    with pytest.raises(ConfigError, match=message):
        load_step_scorer(SimpleNamespace(prm=prm))
