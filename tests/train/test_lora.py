"""LoRA (peft) in the SFT and GRPO stages: adapter saved, merged full model exported, both give the same answers."""

import json

import pytest

from deepmath.config import ConfigError, from_dict
from tests.stage_folder import assert_stage_stats, stage_fragment
from tests.train.methods_micro import TINY_RUN
from tests.train.test_grpo_run import micro_recipe

LORA = {"r": 8, "lora_alpha": 16, "lora_dropout": 0.0, "target_modules": "all-linear"}


def _greedy(model, tokenizer, questions: list[str]) -> list[str]:
    import torch

    from deepmath.problems import build_messages

    texts = []
    for question in questions:
        prompt = tokenizer.apply_chat_template(build_messages(question), tokenize=False, add_generation_prompt=True)
        ids = tokenizer(prompt, return_tensors="pt", add_special_tokens=False)
        with torch.no_grad():
            out = model.generate(**ids, do_sample=False, max_new_tokens=8, pad_token_id=tokenizer.pad_token_id)
        texts.append(tokenizer.decode(out[0, ids["input_ids"].shape[1] :], skip_special_tokens=True))
    return texts


def _check_adapter_matches_merged(out):
    from peft import PeftModel
    from transformers import AutoModelForCausalLM, AutoTokenizer

    from deepmath.problems import read_jsonl

    adapter_config = json.loads((out / "adapter" / "adapter_config.json").read_text())
    assert adapter_config["peft_type"] == "LORA" and adapter_config["r"] == 8
    merged = AutoModelForCausalLM.from_pretrained(out / "model")  # a full model, no peft needed to read it
    assert not any("lora" in name for name, _ in merged.named_parameters())
    base = AutoModelForCausalLM.from_pretrained(adapter_config["base_model_name_or_path"])
    reloaded = PeftModel.from_pretrained(base, out / "adapter")
    tokenizer = AutoTokenizer.from_pretrained(out / "model")
    questions = [row["question"] for row in read_jsonl(out / "data" / "test.jsonl")]
    assert _greedy(reloaded, tokenizer, questions) == _greedy(merged, tokenizer, questions)


def test_lora_grpo_saves_the_adapter_and_a_merged_model_with_the_same_answers(tmp_path):
    from deepmath.train.grpo import run_grpo

    out = tmp_path / "run"
    stats = run_grpo(micro_recipe(out, peft=LORA))
    assert stats["adapter"] == str(out / "adapter") and (out / "_SUCCESS").exists()
    assert stats["eval_after"]["k"] == 2
    _check_adapter_matches_merged(out)


def test_lora_sft_saves_the_adapter_and_a_merged_model(tmp_path):
    from deepmath.train.config import SFTRecipe
    from deepmath.train.sft import run_sft

    out = tmp_path / "sft"
    fields = {**TINY_RUN, "output": str(out), "per_device_train_batch_size": 4, "eval_k": 0, "peft": LORA}
    stats = run_sft(from_dict(SFTRecipe, fields))
    assert stats["adapter"] == str(out / "adapter")
    written = assert_stage_stats(out, "train-sft", "examples")
    assert written["rows_in"] == 48 - 6  # the tiny problems less the held-out test problems
    assert written["rows_out"] == written["rows_in"] - sum(written["dropped"].values()) > 0
    markdown, missing = stage_fragment("train-sft", out, tmp_path / "report")
    assert missing == [] and "### sft (train-sft)" in markdown and f"| rows_out | {written['rows_out']} |" in markdown
    _check_adapter_matches_merged(out)


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"peft": {"rank": 8}}, "unknown LoraConfig field 'rank'"),
        ({"peft": [8]}, "peft: expected a mapping"),
        ({"load_in_4bit": True}, "load_in_4bit is QLoRA"),
    ],
)
def test_bad_peft_blocks_fail_with_one_clear_error(tmp_path, overrides, message):
    with pytest.raises((ConfigError, ValueError), match=message):
        micro_recipe(tmp_path / "x", **overrides)


def test_4bit_without_bitsandbytes_or_gpu_is_a_config_error():
    from deepmath.train.lora import quantization_kwargs

    assert quantization_kwargs(False) == {}
    with pytest.raises(ConfigError, match="load_in_4bit needs"):
        quantization_kwargs(True)  # this machine has neither bitsandbytes nor a CUDA GPU
