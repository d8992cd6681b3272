"""`deepmath train {sft,grpo} RECIPE --dry-run`: batch arithmetic and memory estimate from the model config only."""

from pathlib import Path

import pytest

from deepmath.cli import main

PIPELINES = Path(__file__).resolve().parents[2] / "pipelines"


def _dry(capsys, *argv):
    code = main(["train", *argv, "--dry-run"])
    out = capsys.readouterr()
    return code, out.out, out.err


def test_the_paper_recipe_on_8_gpus_is_refused_for_its_evaluation_batch(capsys):
    code, out, err = _dry(
        capsys, "grpo", str(PIPELINES / "grpo_deepseekmath.yaml"), "--gpu-memory", "80", "--num-processes", "8"
    )
    assert code == 2
    assert "6.91B parameters" in out and "8 processes x 16 per device x 8 accumulation = 1024 completions" in out
    assert "= 16 prompts x G 64" in out
    assert "evaluation batch does not fit" in err and "eval_max_batch_tokens" in err
    assert "training needs ~131 GiB per GPU" in err and "--zero-stage 3" in err  # full state on every GPU
    # with ZeRO-3 the training state fits; the evaluation batch is then the only problem, and the named fix works
    code, out, err = _dry(
        capsys, "grpo", str(PIPELINES / "grpo_deepseekmath.yaml"), "--gpu-memory", "80", "--num-processes", "8",
        "--zero-stage", "3",
    )  # fmt: skip
    assert code == 2 and err.count("dry run:") == 1 and "set eval_max_batch_tokens to at most 39936" in err
    code, out, err = _dry(
        capsys, "grpo", str(PIPELINES / "grpo_deepseekmath.yaml"), "--gpu-memory", "80", "--num-processes", "8",
        "--zero-stage", "3", "--eval-max-batch-tokens", "24576",
    )  # fmt: skip
    assert code == 0 and "dry run: fits" in out and err == ""


@pytest.mark.parametrize("recipe", ["grpo_qwen2.5-math-1.5b.yaml", "grpo_qwen2.5-math-1.5b_lora.yaml"])
def test_the_one_gpu_recipes_fit_one_80gb_gpu(capsys, recipe):
    code, out, err = _dry(capsys, "grpo", str(PIPELINES / recipe), "--gpu-memory", "80")
    assert code == 0, err
    assert "1.54B parameters" in out and "= 16 prompts x G 8" in out and "vLLM colocate reserves 25%" in out
    if "lora" in recipe:
        assert "LoRA r=32" in out and "reference model 0.0" in out  # the adapter-disabled policy is the reference


def test_the_full_recipe_does_not_fit_a_small_gpu_and_says_what_to_change(capsys):
    code, _, err = _dry(capsys, "grpo", str(PIPELINES / "grpo_qwen2.5-math-1.5b.yaml"), "--gpu-memory", "24")
    assert code == 2 and "vllm_gpu_memory_utilization" in err and "training" in err


def test_a_batch_that_is_not_a_multiple_of_g_names_the_fields(capsys):
    code, _, err = _dry(
        capsys, "grpo", str(PIPELINES / "grpo_qwen2.5-math-1.5b.yaml"), "--gpu-memory", "80",
        "--per-device-train-batch-size", "4", "--gradient-accumulation-steps", "1", "--steps-per-generation", "2",
    )  # fmt: skip
    assert code == 2
    assert (
        "not a multiple of num_generations 8: change per_device_train_batch_size or gradient_accumulation_steps" in err
    )


def test_sft_and_local_model_folders_and_unknown_models(capsys, micro_model, tmp_path):
    code, out, _ = _dry(capsys, "sft", str(PIPELINES / "sft_tiny.yaml"), "--model", micro_model, "--gpu-memory", "8")
    assert code == 0 and "sequences per optimizer step" in out and "dry run: fits" in out
    code, out, _ = _dry(capsys, "grpo", str(PIPELINES / "grpo_tiny.yaml"))
    assert code == 0 and "no GPU visible" in out  # no --gpu-memory and no GPU: the estimate only
    code, _, err = _dry(capsys, "grpo", str(PIPELINES / "grpo_qwen2.5-math-1.5b.yaml"), "--model", "nobody/nothing")
    assert code == 2 and "no config for 'nobody/nothing' offline" in err
    assert main(["train", "grpo", str(PIPELINES / "grpo_tiny.yaml"), "--gpu-memory", "80"]) == 2
    assert "only with --dry-run" in capsys.readouterr().err
