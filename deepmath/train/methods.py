"""What every method of the paradigm does around its trainer, so their outputs compare one to one.

    run_method("train-rft", "rft", cfg, train_fn)   # -> StageResult; called inside deepmath.stage.run_stage

The steps are the GRPO stage's: (1) training problems and the held-out set (`prepare.training_problems`: tiny task or
loaded data, decontaminated against the benchmarks and the evaluation set); (2) the starting policy (`model`, or the
`sft:` sub-stage in `OUT/sft`); (3) `eval_before`; (4) the method's training (`train_fn`), with `train_log.jsonl` and
an evaluation every `eval_every` steps; (5) `eval_after` of `OUT/model`. Every method writes the same files:
`metrics.json` (`method`, `eval_before`, `eval_after`, `delta`, `eval_curve` = held-out metrics against training
steps, `policy_samples` = completions drawn from a policy, `train`, `rewards`, `data`, `policy`), `train_curve.png`,
`eval_curve.png`, `log_history.json`, `README.md` and the stage files of `run_stage`.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

__all__ = ["grpo_policy_samples", "run_method", "train_summary"]

# the keys a method's first/last logged values are reported for, when it logs them
_SUMMARY_KEYS = (
    "loss",
    "reward",
    "reward_std",
    "kl",
    "entropy",
    "mean_token_accuracy",
    "rewards/accuracies",
    "rewards/margins",
    "completions/mean_length",
)
_PANELS = {
    "rft": [("loss", "SFT loss on kept samples"), ("mean_token_accuracy", "token accuracy")],
    "online-rft": [
        ("reward", "reward (mean) = fraction correct"),
        ("loss", "loss"),
        ("entropy", "entropy"),
        ("completions/mean_length", "completion length (tokens)"),
    ],
    "dpo": [
        ("loss", "DPO loss"),
        ("rewards/accuracies", "preference accuracy"),
        ("rewards/margins", "reward margin"),
        ("rewards/chosen", "chosen reward"),
    ],
}
_TITLES = {"rft": "RFT", "online-rft": "Online RFT", "dpo": "DPO", "grpo": "GRPO"}


def grpo_policy_samples(cfg, steps: int) -> int:
    """Completions GRPOTrainer draws in `steps` optimizer steps: one rollout of `generation_batch_size` every
    `steps_per_generation x num_iterations` micro-steps (`gradient_accumulation_steps` per optimizer step)."""
    micro_steps = steps * cfg.gradient_accumulation_steps
    per_rollout = cfg.steps_per_generation * cfg.num_iterations
    return -(-micro_steps // per_rollout) * cfg.generation_batch_size


def train_summary(history: list[dict]) -> dict:
    """Steps, runtime and the first/last logged value of each `_SUMMARY_KEYS` key."""
    logs = [h for h in history if any(key in h for key in _SUMMARY_KEYS) and "train_runtime" not in h]
    summary = next((h for h in reversed(history) if "train_runtime" in h), {})
    out = {"steps": history[-1].get("step", 0) if history else 0, "runtime_seconds": summary.get("train_runtime")}
    if logs:
        out["first"] = {key: logs[0][key] for key in _SUMMARY_KEYS if key in logs[0]}
        out["last"] = {key: logs[-1][key] for key in _SUMMARY_KEYS if key in logs[-1]}
    return out


def run_method(stage: str, method: str, cfg, out: Path, train_fn: Callable, reward_names=("math_accuracy",)):
    """Run one method into `out`: `train_fn(policy, train, bridge, callbacks, final) -> dict` trains into `final`
    (when it is not there yet) and returns `{"policy_samples": N, "resumed_from": ..., ...extra stats}`."""
    from deepmath.grading import RewardBridge
    from deepmath.stage import StageResult, StageStats
    from deepmath.train.grpo import _policy
    from deepmath.train.prepare import training_problems
    from deepmath.train.runs import (
        JsonlLogCallback,
        PeriodicEvalCallback,
        cached_evaluation,
        eval_summary,
        set_torch_threads,
    )

    set_torch_threads(cfg.torch_threads)
    train, held_out, data = training_problems(cfg, out)
    policy = _policy(cfg, out, train)
    final = out / "model"
    with RewardBridge(list(reward_names), batch_timeout=cfg.reward_timeout, workers=cfg.reward_workers) as bridge:
        bridge.warmup()
        eval_before = cached_evaluation(cfg, policy, held_out, out, "before", bridge)
        callbacks = [JsonlLogCallback(out / "train_log.jsonl"), PeriodicEvalCallback(cfg, held_out, out, bridge)]
        result = train_fn(policy, train, bridge, callbacks, final)
        eval_after = cached_evaluation(cfg, str(final), held_out, out, "after", bridge)
        rewards_stats = bridge.stats.as_dict()
    metrics, plots = finish_metrics(method, cfg, out, policy, data, eval_before, eval_after, result, rewards_stats)
    stats = {
        "rows_in": data["rows_in"],
        "rows_out": data["rows_out"],
        "unit": "questions",
        "dropped": data["dropped"],
        "model": str(final),
        "policy": policy,
        "method": method,
        "policy_samples": metrics["policy_samples"],
        "plots": plots,
        **{key: value for key, value in result.items() if key != "policy_samples"},
    }
    for phase, value in (("eval_before", eval_before), ("eval_after", eval_after)):
        if value:
            stats[phase] = eval_summary(value)
    return StageResult(stats=StageStats.from_dict(stats), card=None)


def finish_metrics(method, cfg, out, policy, data, eval_before, eval_after, result, rewards_stats):
    """Write metrics.json, the plots and the run card; returns (metrics, plot names)."""
    from deepmath.io.atomic import atomic_write_json, atomic_write_text
    from deepmath.train.plots import plot_grpo_curves
    from deepmath.train.runs import eval_curve, read_logs

    history = read_logs(out)
    train = train_summary(history)
    title = _TITLES.get(method, method)
    plot_grpo_curves(history, out / "train_curve.png", title=f"{title} training", panels=_PANELS.get(method))
    plots = ["train_curve.png"]
    if eval_before and eval_after:
        from deepmath.evaluate.run import plot_eval

        plot_eval({"before": eval_before, "after": eval_after}, out / "eval_curve.png", "held-out: before vs after")
        plots.append("eval_curve.png")
    metrics = {
        "method": method,
        "eval_before": eval_before,
        "eval_after": eval_after,
        "delta": _delta(eval_before, eval_after),
        "eval_curve": eval_curve(out, eval_before, eval_after, train["steps"]),
        "policy_samples": result.get("policy_samples"),
        "train": train,
        "rewards": rewards_stats,
        "data": data,
        "policy": policy,
        **{key: value for key, value in result.items() if key not in ("policy_samples", "resumed_from")},
    }
    from deepmath.distributed import is_main_process

    if is_main_process():  # under accelerate launch, one process writes the run files
        atomic_write_json(out / "metrics.json", metrics)
        atomic_write_text(out / "README.md", _card(method, cfg, policy, metrics))
    return metrics, plots


def _delta(before: dict | None, after: dict | None) -> dict | None:
    if not before or not after:
        return None
    return {key: round(after[key] - before[key], 4) for key in ("pass@1", "pass@k", "maj@k")}


def _card(method: str, cfg, policy: str, metrics: dict) -> str:
    import yaml

    from deepmath.train.runs import eval_card_lines

    title = _TITLES.get(method, method)
    front = {"library_name": "transformers", "tags": ["deepmath", method, "trl", "math"], "base_model": policy}
    data = metrics["data"]
    dropped = ", ".join(f"{count} {reason}" for reason, count in data["dropped"].items()) or "none"
    lines = [
        "---",
        yaml.safe_dump(front, sort_keys=False).strip(),
        "---",
        "",
        f"# {title} of {policy}",
        "",
        f"Trained with `deepmath train {method}` on {data['rows_out']} of {data['rows_in']} training questions from "
        f"{', '.join(cfg.dataset)} (dropped: {dropped}); {metrics['policy_samples']} completions drawn from a "
        f"policy. Policy: `{policy}`; final model: `model/`.",
        "",
    ]
    lines += eval_card_lines(metrics["eval_before"], metrics["eval_after"])
    if len(metrics["eval_curve"]) > 2:
        lines += [
            "## Held-out pass@1 against training steps",
            "",
            "| step | pass@1 | maj@k |",
            "| ---: | ---: | ---: |",
        ]
        lines += [f"| {p['step']} | {p['pass@1']:.3f} | {p['maj@k']:.3f} |" for p in metrics["eval_curve"]]
        lines.append("")
    train = metrics["train"]
    first, last = train.get("first", {}), train.get("last", {})
    changes = ", ".join(f"{key} {first[key]:.3g} -> {last[key]:.3g}" for key in first if key in last)
    lines += ["## Training", "", f"{train['steps']} steps; first/last logged values: {changes or 'none'}.", ""]
    for key in ("samples", "kept", "pairs"):
        if isinstance(metrics.get(key), dict):
            lines.append(f"- {key}: " + ", ".join(f"{k} {v}" for k, v in metrics[key].items() if k != "card"))
    lines += ["", "![training curves](train_curve.png)", "", "## Settings", "", "```yaml"]
    settings = {key: getattr(cfg, key) for key in _SETTINGS if hasattr(cfg, key)}
    lines += [yaml.safe_dump(json.loads(json.dumps(settings, default=str)), sort_keys=False).rstrip(), "```", ""]
    return "\n".join(lines)


_SETTINGS = (
    "loss_type",
    "beta",
    "num_generations",
    "correct_reward",
    "sample_k",
    "sample_questions",
    "sample_temperature",
    "rft_dedup",
    "dpo_pairs_per_question",
    "learning_rate",
    "per_device_train_batch_size",
    "gradient_accumulation_steps",
    "max_steps",
    "num_train_epochs",
    "num_iterations",
    "temperature",
    "seed",
)
