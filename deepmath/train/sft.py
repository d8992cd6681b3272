"""`deepmath train sft RECIPE.yaml --output DIR`: supervised fine-tuning with TRL's SFTTrainer.

    deepmath train sft pipelines/sft_tiny.yaml --output runs/sft_tiny      # CPU, offline, ~2 minutes

Data: an SFT-mix folder (its `messages` column as is), any JSONL/Parquet/hf: source with `messages` or question +
solution, or `dataset: tiny` (the arithmetic task; `model: tiny` then builds the tiny model and tokenizer). Prompts
that overlap `decontaminate` benchmarks or the evaluation set are dropped first. Loss is on assistant tokens only
when `assistant_only_loss: true` (the tiny chat template marks them).

Writes `OUT/model/` (model + tokenizer), `OUT/checkpoint-N/` (a re-run resumes from the last), `train_log.jsonl`,
`log_history.json`, `sft_curve.png`, `metrics.json` (with `eval_after` when `eval_k > 0` and an eval set exists),
`config.yaml`, `stats.json`, `README.md` and `_SUCCESS` (a finished run with the same config is skipped).
"""

from __future__ import annotations

from pathlib import Path

from deepmath.train.config import TINY, SFTRecipe

__all__ = ["run_sft"]


def run_sft(cfg: SFTRecipe) -> dict:
    """Fine-tune `cfg.model` on `cfg.dataset` into `cfg.output`; returns the stage stats."""
    from deepmath.stage import run_stage

    return run_stage("train-sft", cfg, lambda run: _train(cfg, run.output))


def _sft_rows(cfg: SFTRecipe, out: Path) -> tuple[list[dict], list[dict], dict]:
    """Rows with messages (or question + solution), the held-out problems, and the data report."""
    from deepmath.problems import DataError, decontaminate, load_rows
    from deepmath.train.prepare import is_tiny_data, training_problems

    if is_tiny_data(cfg):
        return training_problems(cfg, out)
    rows: list[dict] = []
    for spec in cfg.dataset:
        for row in load_rows(spec):
            if row.get("messages") or ((row.get("question") or row.get("problem")) and row.get("solution")):
                question = row.get("question") or row.get("problem")
                if not question and isinstance(row.get("messages"), list):
                    question = next((m.get("content") for m in row["messages"] if m.get("role") == "user"), "")
                rows.append({**row, "question": question or ""})
            if cfg.max_samples and len(rows) >= cfg.max_samples:
                break
    if not rows:
        raise DataError(f"no SFT rows (messages, or question + solution) in {', '.join(cfg.dataset)}")
    held_out: list[dict] = []
    benchmarks = list(cfg.decontaminate)
    if cfg.eval_data:
        from deepmath.problems import load_problems

        held_out, _ = load_problems(cfg.eval_data)
        if cfg.eval_max_problems:
            held_out = held_out[: cfg.eval_max_problems]
        if Path(cfg.eval_data).is_file():
            benchmarks.append(f"eval_set={cfg.eval_data}:question")
    kept, report = decontaminate(rows, benchmarks, ngram=cfg.decontam_ngram)
    dropped = {"contaminated": report["dropped"]} if report["dropped"] else {}
    return kept, held_out, {"rows_in": len(rows), "rows_out": len(kept), "dropped": dropped, "decontamination": report}


def _train(cfg: SFTRecipe, out: Path):
    from transformers import AutoTokenizer
    from trl import SFTTrainer

    from deepmath.distributed import is_main_process
    from deepmath.io.atomic import atomic_write_json, atomic_write_text
    from deepmath.problems import sft_dataset
    from deepmath.stage import StageResult, StageStats
    from deepmath.train.lora import lora_config, quantization_kwargs
    from deepmath.train.plots import plot_sft_curve
    from deepmath.train.prepare import tiny_policy
    from deepmath.train.runs import (
        JsonlLogCallback,
        cached_evaluation,
        eval_summary,
        read_logs,
        set_torch_threads,
        train_to_final,
    )

    set_torch_threads(cfg.torch_threads)

    rows, held_out, data = _sft_rows(cfg, out)
    if not cfg.model:
        raise ValueError("train sft: no model given (model: a folder, a hub id, or 'tiny')")
    model = tiny_policy(cfg, out, rows) if cfg.model == TINY else cfg.model
    dataset = sft_dataset(rows, cfg.prompt_template, cfg.system_prompt)
    tokenizer = AutoTokenizer.from_pretrained(model)
    final = out / "model"
    resumed_from = None
    if not (final / "config.json").exists():
        if cfg.load_in_4bit:
            cfg.model_init_kwargs = {**(cfg.model_init_kwargs or {}), **quantization_kwargs(True)}
        trainer = SFTTrainer(
            model=model,
            args=cfg,
            train_dataset=dataset,
            processing_class=tokenizer,
            callbacks=[JsonlLogCallback(out / "train_log.jsonl")],
            peft_config=lora_config(cfg.peft) if cfg.peft is not None else None,
        )
        resumed_from = train_to_final(trainer, tokenizer, out, final, cfg.resume_from_checkpoint, "train sft")
    history = read_logs(out)
    main = is_main_process()  # under accelerate launch, one process writes the run files
    if main:
        plot_sft_curve(history, out / "sft_curve.png", title=f"SFT of {Path(model).name}")
    eval_after = cached_evaluation(cfg, str(final), held_out, out, "after")
    metrics = {"eval_after": eval_after, "train": _last_train_metrics(history), "data": data}
    if main:
        atomic_write_json(out / "metrics.json", metrics)
        atomic_write_text(out / "README.md", _card(cfg, model, metrics))
    stats = {
        "rows_in": data["rows_in"],
        "rows_out": data["rows_out"],
        "unit": "examples",
        "dropped": data["dropped"],
        "model": str(final),
        "base_model": model,
        "adapter": str(out / "adapter") if cfg.peft is not None else None,
        "resumed_from": resumed_from,
        "plots": ["sft_curve.png"],
    }
    if eval_after:
        stats["eval_after"] = eval_summary(eval_after)
    return StageResult(stats=StageStats.from_dict(stats), card=None)


def _last_train_metrics(history: list[dict]) -> dict:
    losses = [h for h in history if "loss" in h]
    summary = next((h for h in reversed(history) if "train_runtime" in h), {})
    return {
        "final_loss": losses[-1]["loss"] if losses else None,
        "steps": history[-1].get("step", 0) if history else 0,
        "runtime_seconds": summary.get("train_runtime"),
    }


def _card(cfg: SFTRecipe, model: str, metrics: dict) -> str:
    import yaml

    train = metrics["train"]
    lines = [
        "---",
        yaml.safe_dump(
            {"library_name": "transformers", "tags": ["deepmath", "sft", "trl"], "base_model": model}
        ).strip(),
        "---",
        "",
        f"# SFT of {model}",
        "",
        f"Fine-tuned with `deepmath train sft` (TRL SFTTrainer) on {', '.join(cfg.dataset)}: "
        f"{metrics['data']['rows_out']} examples, {train['steps']} steps, learning rate {cfg.learning_rate}.",
        "",
        f"Final training loss: {train['final_loss']}. Model: `model/`; logs: `train_log.jsonl`.",
        "",
        "![SFT loss](sft_curve.png)",
        "",
    ]
    if metrics.get("eval_after"):
        e = metrics["eval_after"]
        lines += [
            f"Held-out evaluation ({e['problems']} problems, k={e['k']}, temperature {e['temperature']}): "
            f"pass@1 {e['pass@1']:.3f}, pass@k {e['pass@k']:.3f}, maj@k {e['maj@k']:.3f}.",
            "",
        ]
    return "\n".join(lines)
