"""A PRM as the outcome reward of GRPO (`supervision: outcome_prm`): the reward is the last step's score, the rule
rewards are logged with weight 0, and a GRPO run trains on the PRM's rewards inside TRL's loop."""

import json

import pytest

from deepmath.tasks.multistep import make_multistep_problems
from deepmath.train.process import prm_outcome_reward
from tests.steps.micro import MULTISTEP_GRPO, TINY


def _scripted_scorer(calls):
    def score(questions, steps):
        calls.append((questions, steps))
        return [[0.1 * (i + 1) for i in range(len(row))] for row in steps]

    return score


def test_the_reward_is_the_prm_score_of_the_last_step():
    calls = []
    reward = prm_outcome_reward(_scripted_scorer(calls), "\n")
    prompts = [[{"role": "user", "content": "q1"}], [{"role": "user", "content": "q2"}], "q3"]
    completions = ["a\nb\n\nc", [{"role": "assistant", "content": "only one"}], "   \n  "]
    assert reward(prompts=prompts, completions=completions) == pytest.approx([0.3, 0.1, 0.0])
    assert calls == [(["q1", "q2"], [["a", "b", "c"], ["only one"]])]  # the empty output is not sent to the PRM
    assert reward.__name__ == "prm_outcome"  # TRL logs it as rewards/prm_outcome


def test_outcome_prm_weights_the_prm_first_and_logs_the_rule_rewards():
    from deepmath.config import from_dict
    from deepmath.train.config import GRPORecipe

    base = {"model": "tiny", "output": "x", "prm": "some/prm", "reward_funcs": ["math_accuracy", "boxed_format"]}
    cfg = from_dict(GRPORecipe, {**base, "supervision": "outcome_prm"})
    assert cfg.reward_weights == [1.0, 0.0, 0.0]
    with pytest.raises(ValueError, match=r"2 values for 3 reward functions \(the PRM's outcome reward first"):
        from_dict(GRPORecipe, {**base, "supervision": "outcome_prm", "reward_weights": [1.0, 1.0]})
    with pytest.raises(ValueError, match="supervision: outcome_prm needs prm"):
        from_dict(GRPORecipe, {**base, "supervision": "outcome_prm", "prm": ""})


def test_grpo_trains_on_the_prm_outcome_reward(tmp_path):
    """The tiny task's oracle PRM as outcome reward: TRL logs it beside the rule reward, which has weight 0."""
    from deepmath.config import from_dict
    from deepmath.train.config import GRPORecipe
    from deepmath.train.grpo import run_grpo

    assert make_multistep_problems(4, 0)  # the oracle knows the task's questions
    cfg = from_dict(
        GRPORecipe,
        {
            **MULTISTEP_GRPO,
            **TINY,
            "model": "tiny",
            "output": str(tmp_path / "grpo"),
            "supervision": "outcome_prm",
            "prm": "deepmath.steps.simulated:oracle_prm",
            "max_completion_length": 16,
        },
    )
    run_grpo(cfg)
    logs = [json.loads(line) for line in (tmp_path / "grpo" / "train_log.jsonl").read_text().splitlines()]
    steps = [entry for entry in logs if "rewards/prm_outcome/mean" in entry]
    assert len(steps) == 2 and all("rewards/math_accuracy/mean" in entry for entry in steps)
    # the trained-on reward is the PRM's alone: weight 1 on prm_outcome, 0 on math_accuracy
    assert all(entry["reward"] == pytest.approx(entry["rewards/prm_outcome/mean"]) for entry in steps)
    from deepmath.grading import RewardBridge
    from deepmath.problems import grpo_dataset
    from deepmath.train.grpo import build_trainer

    with RewardBridge(["math_accuracy"], workers=1) as bridge:
        dataset = grpo_dataset(make_multistep_problems(8, 0), cfg.prompt_template, cfg.system_prompt)
        trainer, _ = build_trainer(cfg, str(tmp_path / "grpo" / "model"), dataset, bridge)
    assert trainer.reward_func_names == ["prm_outcome", "math_accuracy"]
    assert trainer.reward_weights.tolist() == [1.0, 0.0]
