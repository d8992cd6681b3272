"""LoRA on the tiny task (minutes on 2 CPU cores): LoRA SFT and LoRA GRPO raise held-out pass@1; the merged model
is what gets evaluated, and the adapter reloaded over its base gives the same greedy answers (test_lora.py)."""

import json
from pathlib import Path

import pytest
import yaml

from deepmath.config import from_dict

PIPELINES = Path(__file__).resolve().parents[2] / "pipelines"
LORA = {"r": 32, "lora_alpha": 64, "lora_dropout": 0.0, "target_modules": "all-linear"}


@pytest.mark.slow
def test_lora_sft_raises_held_out_pass_at_1_over_the_base_model(tmp_path):
    from deepmath.evaluate.run import evaluate_model
    from deepmath.problems import read_jsonl
    from deepmath.train.config import SFTRecipe
    from deepmath.train.sft import run_sft

    fields = yaml.safe_load((PIPELINES / "sft_tiny.yaml").read_text())
    # the tiny model starts random, so its embeddings and output layer train fully (peft's modules_to_save)
    fields.update(output=str(tmp_path / "sft"), learning_rate=3.0e-3)
    fields["peft"] = {**LORA, "modules_to_save": ["embed_tokens", "lm_head"]}
    cfg = from_dict(SFTRecipe, fields)
    stats = run_sft(cfg)
    out = Path(cfg.output)
    test = read_jsonl(out / "data" / "test.jsonl")
    before, _ = evaluate_model(
        str(out / "base_model"), test, cfg.eval_k, cfg.eval_temperature, max_new_tokens=cfg.eval_max_new_tokens
    )
    after = json.loads((out / "eval_after.json").read_text())
    print(f"LoRA SFT: pass@1 {before['pass@1']:.3f} (base) -> {after['pass@1']:.3f}")
    assert after["pass@1"] - before["pass@1"] >= 0.10
    assert stats["adapter"] and (out / "adapter" / "adapter_config.json").exists()


@pytest.mark.slow
def test_lora_grpo_raises_held_out_pass_at_1(tmp_path):
    from deepmath.train.config import GRPORecipe
    from deepmath.train.grpo import run_grpo

    fields = yaml.safe_load((PIPELINES / "grpo_tiny.yaml").read_text())
    fields.update(output=str(tmp_path / "grpo"), learning_rate=6.0e-4, peft=LORA)  # LoRA on GRPO; SFT stays full
    run_grpo(from_dict(GRPORecipe, fields))
    metrics = json.loads((tmp_path / "grpo" / "metrics.json").read_text())
    before, after = metrics["eval_before"], metrics["eval_after"]
    print(f"LoRA GRPO: pass@1 {before['pass@1']:.3f} -> {after['pass@1']:.3f}")
    assert after["pass@1"] - before["pass@1"] >= 0.10
    assert (tmp_path / "grpo" / "adapter" / "adapter_config.json").exists()
