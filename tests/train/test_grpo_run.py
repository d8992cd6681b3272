"""The GRPO stage end to end on a micro setup: outputs, resume after an interruption, skip when finished."""

import json

import pytest

from tests.stage_folder import assert_stage_stats, stage_fragment
from tests.train import methods_micro


def micro_recipe(output, **overrides):
    return methods_micro.micro_recipe("grpo", output, **overrides)


def test_grpo_stage_resumes_from_the_last_checkpoint_and_then_skips(tmp_path, monkeypatch):
    import deepmath.train.grpo as grpo

    out = tmp_path / "run"
    original = grpo.build_trainer
    methods_micro.interrupt_after_first_save(monkeypatch, grpo)
    with pytest.raises(methods_micro.Interrupted):
        grpo.run_grpo(micro_recipe(out))
    assert (out / "checkpoint-1").is_dir() and not (out / "_SUCCESS").exists()
    assert (out / "eval_before.json").exists()  # finished steps are kept for the re-run

    monkeypatch.setattr(grpo, "build_trainer", original)
    stats = grpo.run_grpo(micro_recipe(out))
    assert stats["resumed_from"].endswith("checkpoint-1")
    assert (out / "_SUCCESS").exists()
    state = json.loads((out / "checkpoint-2" / "trainer_state.json").read_text())
    assert state["global_step"] == 2

    metrics = json.loads((out / "metrics.json").read_text())
    for phase in ("eval_before", "eval_after"):
        assert {"pass@1", "pass@k", "maj@k"} <= set(metrics[phase])
    history = json.loads((out / "log_history.json").read_text())
    logged = {key for entry in history for key in entry}
    for key in ("reward", "reward_std", "frac_reward_zero_std", "kl", "entropy", "clip_ratio/region_mean"):
        assert key in logged, key
    assert "completions/mean_length" in logged and "rewards/math_accuracy/timeouts" in logged
    for name in ("reward_curve.png", "eval_curve.png", "README.md", "config.yaml", "train_log.jsonl"):
        assert (out / name).stat().st_size > 0, name
    assert (out / "model" / "config.json").exists() and (out / "model" / "tokenizer.json").exists()
    assert stats["plots"] == ["reward_curve.png", "eval_curve.png"] and stats["rows_out"] > 0
    assert_stage_stats(out, "train-grpo", "prompts")
    markdown, missing = stage_fragment("train-grpo", out, tmp_path / "report")
    assert missing == [] and f"### {out.name} (train-grpo)" in markdown and markdown.count("![") == 2

    # a third run with the same config finds _SUCCESS and does nothing
    again = grpo.run_grpo(micro_recipe(out))
    assert again["resumed_from"] == stats["resumed_from"] and again["seconds"] == stats["seconds"]


def test_different_config_in_the_same_folder_is_refused(tmp_path):
    from deepmath.config import ConfigError
    from deepmath.train.grpo import run_grpo

    out = tmp_path / "run"
    out.mkdir()
    (out / "config.yaml").write_text("{}\n")
    (out / "_config_hash.json").write_text('{"config_hash": "something-else"}')
    (out / "checkpoint-5").mkdir()  # work of that other config: resuming it with this one would mix them
    with pytest.raises(ConfigError, match="different config"):
        run_grpo(micro_recipe(out))


def test_missing_model_and_bad_data_fail_clearly(tmp_path):
    from deepmath.problems import DataError
    from deepmath.train.grpo import run_grpo

    with pytest.raises(ValueError, match="no model given"):
        run_grpo(micro_recipe(tmp_path / "a", model="", eval_k=0))
    with pytest.raises(DataError, match="not found"):
        run_grpo(micro_recipe(tmp_path / "b", dataset=[str(tmp_path / "missing.jsonl")]))
    with pytest.raises(DataError, match="cannot be mixed"):
        run_grpo(micro_recipe(tmp_path / "c", dataset=["tiny", str(tmp_path / "x.jsonl")]))
