"""`deepmath train grpo` with `supervision: process` end to end on CPU: labels -> PRM -> GRPO+PS (2 steps)."""

import json

from deepmath.steps.config import LabelStepsConfig
from deepmath.steps.labels import run_label_steps
from tests.steps.micro import MULTISTEP_GRPO, TINY


def test_grpo_with_a_trained_prm_runs_and_logs_step_rewards(tmp_path):
    from deepmath.config import from_dict
    from deepmath.train.config import GRPORecipe
    from deepmath.train.grpo import run_grpo
    from deepmath.train.prm import run_prm
    from deepmath.train.prm_config import PRMRecipe

    labels = tmp_path / "labels"
    run_label_steps(
        LabelStepsConfig(
            input="tiny",
            completer="deepmath.steps.simulated:noisy_completer",
            output=str(labels),
            rollouts=2,
            tiny_problems=40,
        )
    )
    run_prm(
        PRMRecipe(
            labels=[str(labels)],
            output=str(tmp_path / "prm"),
            max_steps=2,
            per_device_train_batch_size=8,
            tiny_hidden_size=32,
            tiny_layers=1,
            tiny_heads=2,
            save_strategy="no",
            use_cpu=True,
        )
    )
    cfg = from_dict(
        GRPORecipe,
        {
            **MULTISTEP_GRPO,
            **TINY,
            "model": "tiny",
            "output": str(tmp_path / "grpo"),
            "supervision": "process",
            "prm": str(tmp_path / "prm" / "model"),
        },
    )
    stats = run_grpo(cfg)
    assert (tmp_path / "grpo" / "model" / "config.json").exists() and stats["model"].endswith("model")
    logs = [json.loads(line) for line in (tmp_path / "grpo" / "train_log.jsonl").read_text().splitlines()]
    step_logs = [entry for entry in logs if "process/steps_per_completion" in entry]
    assert step_logs  # the process-supervision hook ran inside TRL's training loop
    assert all(0.0 <= entry.get("process/step_reward_mean", 0.5) <= 1.0 for entry in step_logs)
