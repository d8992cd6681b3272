"""RFT, Online RFT and DPO end to end on a micro setup: outputs, resume after an interruption, skip when finished,
periodic evaluation, bad input. The offline methods' sampler is scripted (`methods_micro.scripted_samples`); the
grading, the trainers and everything else are the real ones."""

import json

import pytest

from deepmath.config import ConfigError
from deepmath.demo.report import render_fragment
from deepmath.registry import get_stage
from tests.stage_folder import assert_stage_stats, stage_fragment
from tests.train.methods_micro import Interrupted, interrupt_after_first_save, micro_recipe, scripted_samples

MODULES = {"rft": "deepmath.train.rft", "online-rft": "deepmath.train.online_rft", "dpo": "deepmath.train.dpo"}


def _entry(method):
    from deepmath.registry import get_stage

    return get_stage(f"train-{method}").main_function()


@pytest.fixture
def sampler(monkeypatch):
    import deepmath.train.sampling as sampling

    calls = []

    def scripted(*args):
        calls.append(len(args[1]))
        return scripted_samples(*args)

    monkeypatch.setattr(sampling, "_generate", scripted)
    return calls


@pytest.mark.parametrize("method", ["rft", "online-rft", "dpo"])
def test_method_resumes_from_the_last_checkpoint_and_then_skips(method, tmp_path, monkeypatch, sampler):
    import importlib

    module = importlib.import_module(MODULES[method])
    out = tmp_path / "run"
    original = module.build_trainer
    interrupt_after_first_save(monkeypatch, module)
    with pytest.raises(Interrupted):
        _entry(method)(micro_recipe(method, out))
    assert (out / "checkpoint-1").is_dir() and not (out / "_SUCCESS").exists()
    assert (out / "eval_before.json").exists()
    samples_drawn = list(sampler)

    monkeypatch.setattr(module, "build_trainer", original)
    stats = _entry(method)(micro_recipe(method, out))
    assert stats["resumed_from"].endswith("checkpoint-1")
    assert sampler == samples_drawn, "the re-run reads OUT/samples instead of sampling again"
    assert json.loads((out / "checkpoint-2" / "trainer_state.json").read_text())["global_step"] == 2

    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["method"] == method
    for phase in ("eval_before", "eval_after"):
        assert {"pass@1", "pass@k", "maj@k"} <= set(metrics[phase])
    assert [p["step"] for p in metrics["eval_curve"]] == [0, 2]
    for name in ("train_curve.png", "eval_curve.png", "README.md", "config.yaml", "log_history.json"):
        assert (out / name).stat().st_size > 0, name
    assert (out / "model" / "config.json").exists() and (out / "_SUCCESS").exists()
    if method == "online-rft":
        assert metrics["policy_samples"] == 8  # 2 rollouts x 4 completions
        logged = {key for entry in json.loads((out / "log_history.json").read_text()) for key in entry}
        assert "online_rft/frac_correct" in logged
    else:
        assert metrics["policy_samples"] == 12 * 4 == metrics["samples"]["samples"]
        assert (out / "samples" / "README.md").exists() and (out / "samples" / "data" / "samples.jsonl.gz").exists()
        derived = "kept" if method == "rft" else "pairs"
        assert (out / derived / "README.md").exists() and (out / derived / "data" / f"{derived}.jsonl.gz").exists()
        if method == "rft":  # 2 right (one a repeat of the other), 2 wrong per question: 1 kept after dedup
            assert metrics["kept"] == {"correct": 24, "duplicates": 12, "kept": 12}
        else:  # distinct right {1} x distinct wrong {2}: max(1, 2) = 2 pairs per question
            assert metrics["pairs"]["pairs"] == 24 and metrics["pairs"]["questions_paired"] == 12

    again = _entry(method)(micro_recipe(method, out))
    assert again["seconds"] == stats["seconds"]  # _SUCCESS with the same config: nothing redone
    stage = {"rft": "train-rft", "online-rft": "train-online-rft", "dpo": "train-dpo"}[method]
    assert_stage_stats(out, stage, "questions")
    # the training and evaluation sections of the run report, from this folder
    markdown, missing = stage_fragment(f"train-{method}", out, tmp_path / "report")
    assert missing == [] and f"### {out.name} (train-{method})" in markdown
    markdown, missing = render_fragment(get_stage("eval").report, [out], tmp_path / "report")
    assert f"{out.name}: the policy before and after train-{method}" in markdown and "| pass@1 |" in markdown


def test_periodic_evaluation_gives_a_curve_against_steps(tmp_path):
    from deepmath.train.online_rft import run_online_rft

    out = tmp_path / "run"
    run_online_rft(micro_recipe("online-rft", out, max_steps=3, eval_every=1, save_strategy="no"))
    lines = [json.loads(line) for line in (out / "eval_steps.jsonl").read_text().splitlines()]
    assert [row["step"] for row in lines] == [1, 2]  # the last step is eval_after
    metrics = json.loads((out / "metrics.json").read_text())
    assert [p["step"] for p in metrics["eval_curve"]] == [0, 1, 2, 3]
    assert metrics["eval_curve"][-1]["pass@1"] == metrics["eval_after"]["pass@1"]
    assert not (out / "_eval_model").exists()


@pytest.mark.parametrize("method", ["rft", "online-rft", "dpo"])
def test_missing_model_and_bad_data_fail_clearly(method, tmp_path):
    from deepmath.problems import DataError

    entry = _entry(method)
    with pytest.raises(ValueError, match="no model given"):
        entry(micro_recipe(method, tmp_path / "a", model="", eval_k=0))
    with pytest.raises(DataError, match="not found"):
        entry(micro_recipe(method, tmp_path / "b", dataset=[str(tmp_path / "missing.jsonl")]))


def test_offline_methods_without_usable_samples_fail_clearly(tmp_path, monkeypatch):
    import deepmath.train.sampling as sampling
    from deepmath.problems import DataError
    from deepmath.train.dpo import run_dpo
    from deepmath.train.rft import run_rft

    monkeypatch.setattr(sampling, "_generate", lambda model, prompts, k, *a: [["no idea"] * k for _ in prompts])
    with pytest.raises(DataError, match="no correct completion"):
        run_rft(micro_recipe("rft", tmp_path / "rft", eval_k=0))
    assert not (tmp_path / "rft" / "_SUCCESS").exists()
    monkeypatch.setattr(sampling, "_generate", lambda model, prompts, k, *a: [["\\boxed{x}"] * k for _ in prompts])
    with pytest.raises(DataError, match="no question has both"):
        run_dpo(micro_recipe("dpo", tmp_path / "dpo", eval_k=0))


@pytest.mark.parametrize("method", ["rft", "online-rft", "dpo"])
def test_different_config_in_the_same_folder_is_refused(method, tmp_path):
    out = tmp_path / "run"
    out.mkdir()
    (out / "config.yaml").write_text("{}\n")
    (out / "_config_hash.json").write_text('{"config_hash": "something-else"}')
    (out / "checkpoint-5").mkdir()  # work of that other config: resuming it with this one would mix them
    with pytest.raises(ConfigError, match="different config"):
        _entry(method)(micro_recipe(method, out))


@pytest.mark.parametrize(
    "method, overrides, message",
    [
        ("rft", {"sample_k": 0}, "sample_k must be >= 1"),
        ("rft", {"sample_temperature": 0}, "sample_temperature must be > 0"),
        ("dpo", {"dpo_pairs_per_question": 0}, "dpo_pairs_per_question"),
        ("dpo", {"sft": "pipelines/sft_tiny.yaml"}, "expected a mapping"),
        ("online-rft", {"correct_reward": "boxed_format"}, "not in reward_funcs"),
        ("online-rft", {"reward_funcs": ["math_acuracy"], "correct_reward": "math_acuracy"}, "did you mean"),
        ("rft", {"eval_every": -1}, "eval_every must be >= 0"),
        ("rft", {"sample_kk": 3}, "did you mean: sample_k"),
    ],
)
def test_bad_recipes_fail_before_training(method, overrides, message, tmp_path):
    with pytest.raises(ConfigError, match=message):
        micro_recipe(method, tmp_path, **overrides)


def test_cli_train_accepts_every_registered_method(tmp_path, capsys):
    from deepmath.cli import main

    assert main(["train", "nonsense"]) == 2
    assert "unknown train command 'nonsense'" in capsys.readouterr().err
    assert main(["train", "--help"]) == 0
    usage = capsys.readouterr().out
    for method in ("sft", "grpo", "rft", "online-rft", "dpo"):
        assert method in usage
    assert main(["train", "rft", str(tmp_path / "missing.yaml")]) == 2
    assert "config file not found" in capsys.readouterr().err
    recipe = tmp_path / "r.yaml"
    recipe.write_text("model: tiny\ndataset: tiny\nsample_k: -2\n")
    assert main(["train", "dpo", str(recipe), "--output", str(tmp_path / "o")]) == 2
    assert "sample_k must be >= 1" in capsys.readouterr().err
    assert not (tmp_path / "o").exists()


def test_cli_reports_unusable_samples_in_one_line(tmp_path, monkeypatch, capsys):
    import yaml

    import deepmath.train.sampling as sampling
    from deepmath.cli import main
    from tests.train.methods_micro import COMMON, SAMPLED

    monkeypatch.setattr(sampling, "_generate", lambda model, prompts, k, *a: [["no idea"] * k for _ in prompts])
    recipe = tmp_path / "r.yaml"
    recipe.write_text(yaml.safe_dump({**COMMON, **SAMPLED, "eval_k": 0}))
    assert main(["train", "rft", str(recipe), "--output", str(tmp_path / "o")]) == 2
    err = capsys.readouterr().err
    assert "no correct completion" in err and "Traceback" not in err
    assert not (tmp_path / "o" / "_SUCCESS").exists()
