"""Recipes: every pipelines/ training YAML parses into its TRL config subclass; CLI overrides and --output work."""

from pathlib import Path

import pytest

from deepmath.config import ConfigError, config_hash, config_to_dict, from_dict, load_yaml

PIPELINES = Path(__file__).resolve().parents[2] / "pipelines"
GRPO_RECIPES = ["grpo_tiny.yaml", "grpo_deepseekmath.yaml", "grpo_dapo.yaml", "grpo_dr_grpo.yaml"]


@pytest.mark.parametrize("name", GRPO_RECIPES)
def test_grpo_recipes_parse(name, tmp_path):
    from deepmath.train.config import GRPORecipe

    cfg = from_dict(GRPORecipe, {**load_yaml(PIPELINES / name), "output": str(tmp_path)})
    assert cfg.output_dir == str(tmp_path)
    assert cfg.generation_batch_size % cfg.num_generations == 0
    assert cfg.reward_weights is None or len(cfg.reward_weights) == len(cfg.reward_funcs)


def test_variants_set_their_objectives(tmp_path):
    from deepmath.train.config import GRPORecipe

    def load(name):
        return from_dict(GRPORecipe, {**load_yaml(PIPELINES / name), "output": str(tmp_path)})

    dapo, dr = load("grpo_dapo.yaml"), load("grpo_dr_grpo.yaml")
    assert (dapo.loss_type, dapo.beta, dapo.epsilon_high, dapo.mask_truncated_completions) == ("dapo", 0.0, 0.28, True)
    assert (dr.loss_type, dr.scale_rewards, dr.beta) == ("dr_grpo", "none", 0.0)


def test_sft_recipe_parses_and_matches_the_sft_inside_grpo_tiny(tmp_path):
    from deepmath.train.config import GRPORecipe, SFTRecipe
    from deepmath.train.grpo import sft_config

    sft = from_dict(SFTRecipe, {**load_yaml(PIPELINES / "sft_tiny.yaml"), "output": str(tmp_path)})
    grpo = from_dict(GRPORecipe, {**load_yaml(PIPELINES / "grpo_tiny.yaml"), "output": str(tmp_path / "g")})
    inner = sft_config(grpo, tmp_path / "g")
    assert inner.output == str(tmp_path / "g" / "sft")
    # the standalone SFT recipe and the SFT step of the tiny GRPO recipe train the same thing
    ignore = {"output", "output_dir", "eval_k", "logging_dir"}
    a, b = config_to_dict(sft), config_to_dict(inner)
    assert {k: v for k, v in a.items() if k not in ignore} == {k: v for k, v in b.items() if k not in ignore}


def test_cli_output_and_overrides(tmp_path):
    from deepmath.cli import build_stage_config
    from deepmath.registry import get_stage

    spec = get_stage("train-grpo")
    recipe = str(PIPELINES / "grpo_deepseekmath.yaml")
    cfg = build_stage_config("train grpo", spec, [recipe, "--output", str(tmp_path), "--learning-rate", "1e-5"])
    assert (cfg.output, cfg.output_dir, cfg.learning_rate) == (str(tmp_path), str(tmp_path), 1e-5)
    cfg = build_stage_config(
        "train grpo",
        spec,
        [recipe, "--output", str(tmp_path), "--learning_rate", "2e-6", "--no-use-bias-correction-kl"],
    )
    assert cfg.learning_rate == 2e-6 and cfg.use_bias_correction_kl is False
    argv = [recipe, "--output", "o", "--reward-funcs", "math_accuracy", "--reward-weights", "1"]
    cfg = build_stage_config("train grpo", spec, argv)
    assert (cfg.reward_funcs, cfg.reward_weights) == (["math_accuracy"], [1.0])
    assert build_stage_config("train sft", get_stage("train-sft"), [str(PIPELINES / "sft_tiny.yaml")]).model == "tiny"


def test_bad_recipes_fail_before_training(tmp_path):
    from deepmath.train.config import GRPORecipe, SFTRecipe

    base = {"output": str(tmp_path)}
    with pytest.raises(ConfigError, match="did you mean: loss_type"):
        from_dict(GRPORecipe, {**base, "loss_typ": "grpo"})
    with pytest.raises(ConfigError, match="did you mean: math_accuracy"):
        from_dict(GRPORecipe, {**base, "reward_funcs": ["math_acuracy"]})
    with pytest.raises(ConfigError, match="reward_weights has 1 values for 2"):
        from_dict(GRPORecipe, {**base, "reward_weights": [1.0]})
    with pytest.raises(ConfigError, match="must contain"):
        from_dict(SFTRecipe, {**base, "prompt_template": "no placeholder"})
    with pytest.raises(ConfigError, match="sft: expected a mapping"):
        from_dict(GRPORecipe, {**base, "sft": "pipelines/sft_tiny.yaml"})
    with pytest.raises(ConfigError, match="divisible by num_generations"):
        from_dict(GRPORecipe, {**base, "num_generations": 3, "per_device_train_batch_size": 8})


def test_config_hash_is_stable_so_a_rerun_resumes(tmp_path):
    from deepmath.train.config import GRPORecipe

    data = {**load_yaml(PIPELINES / "grpo_tiny.yaml"), "output": str(tmp_path)}
    assert config_hash(from_dict(GRPORecipe, data), ["output"]) == config_hash(from_dict(GRPORecipe, data), ["output"])


def test_recipe_with_a_train_stage_validates(tmp_path):
    from deepmath.recipes import load_recipe

    recipe = tmp_path / "r.yaml"
    recipe.write_text(f"name: r\nstages:\n  - stage: train-grpo\n    config: {PIPELINES / 'grpo_tiny.yaml'}\n")
    loaded = load_recipe(recipe, tmp_path / "out")
    assert loaded.stages[0].cfg.output_dir == str(tmp_path / "out" / "train-grpo")
