"""`deepmath train grpo RECIPE.yaml --output DIR`: GRPO (DeepSeekMath 4.1) with TRL's GRPOTrainer and `rewards`.

    deepmath train grpo pipelines/grpo_tiny.yaml --output runs/grpo_tiny          # CPU, offline, < 15 minutes
    deepmath train grpo pipelines/grpo_deepseekmath.yaml --output runs/grpo       # the paper's settings (GPU)

Steps, each resumable: (1) optional short SFT (`sft:` in the recipe, run as its own stage into `OUT/sft`; its
model becomes the policy); (2) prompts and gold answers from `dataset`, decontaminated against `decontaminate` and
the evaluation set; (3) evaluation of the starting policy on the held-out set (`eval_before`); (4) GRPO, rewards
graded by name in a bounded process pool (`reward_timeout` per batch; late samples get 0.0, counted); (5) the final
model in `OUT/model`, evaluated again (`eval_after`).

Writes `metrics.json` (`eval_before`, `eval_after`, each with pass@1 / pass@k / maj@k, their deltas and the last
training metrics), `reward_curve.png` and `eval_curve.png`, `train_log.jsonl` / `log_history.json` (reward,
reward_std, frac_reward_zero_std, kl, entropy, clip ratios, completion lengths, ...), `README.md` (run card),
`config.yaml`, `stats.json`, checkpoints (a re-run resumes from the last) and `_SUCCESS`.

The objective is whatever the recipe sets: TRL's defaults are not DeepSeekMath's (see grpo_deepseekmath.yaml).
"""

from __future__ import annotations

from pathlib import Path

from deepmath.train.config import TINY, GRPORecipe, SFTRecipe

__all__ = ["build_trainer", "run_grpo"]


# GRPO fields the SFT stage inherits from the GRPO recipe unless `sft:` sets them
_INHERITED = (
    "model",
    "dataset",
    "question_field",
    "answer_field",
    "max_samples",
    "prompt_template",
    "system_prompt",
    "decontaminate",
    "decontam_ngram",
    "eval_data",
    "eval_max_problems",
    "eval_temperature",
    "eval_top_p",
    "eval_max_new_tokens",
    "eval_batch_problems",
    "eval_max_batch_tokens",
    "tiny_problems",
    "tiny_test_problems",
    "tiny_seed",
    "tiny_hidden_size",
    "tiny_layers",
    "tiny_heads",
    "tiny_vocab_size",
    "seed",
    "use_cpu",
    "torch_threads",
)


def run_grpo(cfg: GRPORecipe) -> dict:
    """Train `cfg.model` (or the SFT stage's model) with GRPO into `cfg.output`; returns the stage stats."""
    from deepmath.stage import run_stage

    return run_stage("train-grpo", cfg, lambda run: _train(cfg, run.output))


def sft_config(cfg: GRPORecipe, out: Path) -> SFTRecipe:
    """The SFT stage of a GRPO recipe: its `sft:` mapping over the fields it shares with the GRPO recipe."""
    from deepmath.config import from_dict

    fields = {name: getattr(cfg, name) for name in _INHERITED}
    fields.update({"eval_k": 0, "overwrite": False})
    fields.update(cfg.sft or {})
    fields["output"] = str(out / "sft")
    return from_dict(SFTRecipe, fields, where="sft")


def _policy(cfg: GRPORecipe, out: Path, train: list[dict]) -> str:
    from deepmath.train.prepare import tiny_policy

    if cfg.sft is not None:
        from deepmath.train.sft import run_sft

        sft_cfg = sft_config(cfg, out)
        run_sft(sft_cfg)
        return str(Path(sft_cfg.output) / "model")
    if not cfg.model:
        raise ValueError("train grpo: no model given (model: a folder, a hub id, or 'tiny')")
    if cfg.model == TINY:
        return tiny_policy(cfg, out, train)
    return cfg.model


def build_trainer(cfg: GRPORecipe, policy: str, train_dataset, bridge, callbacks=()):
    """A GRPOTrainer for `policy` (a saved model: with beta > 0 TRL loads the reference model from the same path)."""
    from transformers import AutoTokenizer
    from trl import GRPOTrainer

    from deepmath.train.lora import lora_config, quantization_kwargs

    tokenizer = AutoTokenizer.from_pretrained(policy, padding_side="left")
    extra = {}
    reward_funcs = bridge.functions()
    supervision = getattr(cfg, "supervision", "outcome")
    if supervision == "process":  # DeepSeekMath 4.1.3: deepmath/train/process.py
        from deepmath.train.process import ProcessGRPOTrainer as GRPOTrainer
        from deepmath.train.process import load_step_scorer

        extra = {"step_scorer": load_step_scorer(cfg), "step_marker": cfg.step_marker}
    elif supervision == "outcome_prm":  # outcome supervision by the reward model (weights: config.py)
        from deepmath.train.process import load_step_scorer, prm_outcome_reward

        reward_funcs = [prm_outcome_reward(load_step_scorer(cfg), cfg.step_marker), *reward_funcs]
    if cfg.load_in_4bit:
        cfg.model_init_kwargs = {**(cfg.model_init_kwargs or {}), **quantization_kwargs(True)}
    trainer = GRPOTrainer(
        model=policy,
        reward_funcs=reward_funcs,
        args=cfg,
        train_dataset=train_dataset,
        processing_class=tokenizer,
        callbacks=list(callbacks),
        **extra,
        peft_config=lora_config(cfg.peft) if cfg.peft is not None else None,
    )
    return trainer, tokenizer


def _train(cfg: GRPORecipe, out: Path):
    from deepmath.distributed import is_main_process
    from deepmath.grading import RewardBridge
    from deepmath.io.atomic import atomic_write_json, atomic_write_text
    from deepmath.problems import grpo_dataset
    from deepmath.stage import StageResult, StageStats
    from deepmath.train.methods import grpo_policy_samples
    from deepmath.train.plots import plot_grpo_curves
    from deepmath.train.prepare import training_problems
    from deepmath.train.runs import (
        JsonlLogCallback,
        PeriodicEvalCallback,
        cached_evaluation,
        eval_curve,
        eval_summary,
        read_logs,
        set_torch_threads,
        train_to_final,
    )

    set_torch_threads(cfg.torch_threads)

    train, held_out, data = training_problems(cfg, out)
    policy = _policy(cfg, out, train)
    final = out / "model"
    resumed_from = None
    with RewardBridge(
        cfg.reward_funcs,
        batch_timeout=cfg.reward_timeout,
        workers=cfg.reward_workers,
        timeout_value=cfg.reward_timeout_value,
    ) as bridge:
        bridge.warmup()
        eval_before = cached_evaluation(cfg, policy, held_out, out, "before", bridge)
        if not (final / "config.json").exists():
            dataset = grpo_dataset(train, cfg.prompt_template, cfg.system_prompt)
            callbacks = [JsonlLogCallback(out / "train_log.jsonl"), PeriodicEvalCallback(cfg, held_out, out, bridge)]
            trainer, tokenizer = build_trainer(cfg, policy, dataset, bridge, callbacks=callbacks)
            resumed_from = train_to_final(trainer, tokenizer, out, final, cfg.resume_from_checkpoint, "train grpo")
        eval_after = cached_evaluation(cfg, str(final), held_out, out, "after", bridge)
        rewards_stats = bridge.stats.as_dict()
    history = read_logs(out)
    main = is_main_process()  # under accelerate launch, one process writes the run files
    if main:
        plot_grpo_curves(history, out / "reward_curve.png", title=f"GRPO ({cfg.loss_type}, beta={cfg.beta})")
    plots = ["reward_curve.png"]
    if eval_before and eval_after:
        from deepmath.evaluate.run import plot_eval

        if main:
            plot_eval(
                {"before": eval_before, "after": eval_after}, out / "eval_curve.png", "held-out: before vs after"
            )
        plots.append("eval_curve.png")
    train_summary = _train_summary(history)
    metrics = {
        "method": "grpo",
        "eval_before": eval_before,
        "eval_after": eval_after,
        "delta": _delta(eval_before, eval_after),
        "eval_curve": eval_curve(out, eval_before, eval_after, train_summary["steps"]),
        "policy_samples": grpo_policy_samples(cfg, train_summary["steps"]),
        "train": train_summary,
        "rewards": rewards_stats,
        "data": data,
        "policy": policy,
    }
    if main:
        atomic_write_json(out / "metrics.json", metrics)
        atomic_write_text(out / "README.md", _card(cfg, policy, metrics))
    stats = {
        "rows_in": data["rows_in"],
        "rows_out": data["rows_out"],
        "unit": "prompts",
        "dropped": data["dropped"],
        "model": str(final),
        "policy": policy,
        "adapter": str(out / "adapter") if cfg.peft is not None else None,
        "resumed_from": resumed_from,
        "reward_timeouts": sum(rewards_stats["timeouts"].values()),
        "plots": plots,
    }
    for phase, result in (("eval_before", eval_before), ("eval_after", eval_after)):
        if result:
            stats[phase] = eval_summary(result)
    return StageResult(stats=StageStats.from_dict(stats), card=None)


def _delta(before: dict | None, after: dict | None) -> dict | None:
    if not before or not after:
        return None
    return {key: round(after[key] - before[key], 4) for key in ("pass@1", "pass@k", "maj@k")}


_SUMMARY_KEYS = (
    "reward",
    "reward_std",
    "frac_reward_zero_std",
    "kl",
    "entropy",
    "clip_ratio/region_mean",
    "completions/mean_length",
    "step_time",
)


def _train_summary(history: list[dict]) -> dict:
    logs = [h for h in history if "reward" in h]
    summary = next((h for h in reversed(history) if "train_runtime" in h), {})
    out = {"steps": history[-1].get("step", 0) if history else 0, "runtime_seconds": summary.get("train_runtime")}
    if logs:
        out["first"] = {key: logs[0].get(key) for key in _SUMMARY_KEYS if key in logs[0]}
        out["last"] = {key: logs[-1].get(key) for key in _SUMMARY_KEYS if key in logs[-1]}
    return out


def _card(cfg: GRPORecipe, policy: str, metrics: dict) -> str:
    import yaml

    from deepmath.train.runs import eval_card_lines

    settings = {
        name: getattr(cfg, name)
        for name in (
            "loss_type",
            "beta",
            "use_bias_correction_kl",
            "scale_rewards",
            "num_generations",
            "learning_rate",
            "max_completion_length",
            "num_iterations",
            "epsilon",
            "epsilon_high",
            "temperature",
            "per_device_train_batch_size",
            "gradient_accumulation_steps",
            "max_steps",
            "reward_funcs",
            "reward_weights",
        )
    }
    front = {"library_name": "transformers", "tags": ["deepmath", "grpo", "trl", "math"], "base_model": policy}
    lines = ["---", yaml.safe_dump(front, sort_keys=False).strip(), "---", "", f"# GRPO of {policy}", ""]
    data = metrics["data"]
    dropped = ", ".join(f"{count} {reason}" for reason, count in data["dropped"].items()) or "none"
    by_benchmark = data["decontamination"].get("by_benchmark") or {}
    if by_benchmark:
        dropped += " (" + ", ".join(f"{name}: {count}" for name, count in by_benchmark.items()) + ")"
    lines += [
        f"Trained with `deepmath train grpo` (TRL GRPOTrainer) on {data['rows_out']} of {data['rows_in']} prompts "
        f"from {', '.join(cfg.dataset)} (dropped: {dropped}); rewards from `rewards`: "
        f"{', '.join(cfg.reward_funcs)}. Policy: `{policy}`; final model: `model/`.",
        "",
    ]
    lines += eval_card_lines(metrics["eval_before"], metrics["eval_after"])
    train = metrics["train"]
    lines += [
        "## Training",
        "",
        f"{train['steps']} steps; first/last logged values: "
        + ", ".join(
            f"{key} {train['first'].get(key, float('nan')):.3g} -> {train['last'].get(key, float('nan')):.3g}"
            for key in ("reward", "kl", "entropy")
            if "first" in train and key in train["first"]
        ),
        "",
        f"Reward grading: {sum(metrics['rewards']['samples'].values())} samples graded in worker processes, "
        f"{sum(metrics['rewards']['timeouts'].values())} timed out, {metrics['rewards']['restarts']} pool restarts.",
        "",
        "![reward curve](reward_curve.png)",
        "",
        "## Settings",
        "",
        "```yaml",
        yaml.safe_dump(_json_safe(settings), sort_keys=False).rstrip(),
        "```",
        "",
    ]
    return "\n".join(lines)


def _json_safe(data: dict) -> dict:
    import json

    return json.loads(json.dumps(data, default=str))
