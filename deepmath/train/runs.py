"""Run bookkeeping shared by the SFT and GRPO stages: logs, checkpoints, cached evaluations.

- `OUT/train_log.jsonl`: one JSON line per TRL log (written live; rewritten from log_history at the end);
- `OUT/log_history.json`: TRL's full log history;
- `OUT/checkpoint-N/`: TRL checkpoints; a re-run resumes from the last one;
- `OUT/eval_<phase>.json`: cached evaluations (a re-run does not evaluate twice);
- `OUT/eval_steps.jsonl`: held-out evaluations every `eval_every` training steps (`PeriodicEvalCallback`);
- `OUT/model/`: the final model and tokenizer (`deepmath eval --model OUT/model`).
"""

from __future__ import annotations

import json
import logging
import os
from pathlib import Path

from transformers import TrainerCallback
from transformers.trainer_callback import PrinterCallback, ProgressCallback

from deepmath.distributed import barrier, is_main_process, share

__all__ = [
    "JsonlLogCallback",
    "PeriodicEvalCallback",
    "cached_evaluation",
    "eval_curve",
    "last_checkpoint",
    "save_final",
    "set_torch_threads",
    "write_logs",
]

logger = logging.getLogger(__name__)


def set_torch_threads(threads: int) -> None:
    """Pin torch's intra-op threads (0: leave torch's default). On a shared CPU, spinning OpenMP threads of a
    tiny model cost more than they gain: one thread was ~8x faster per step than two under load."""
    if threads > 0:
        import torch

        torch.set_num_threads(threads)


class JsonlLogCallback(TrainerCallback):
    """Append every log (reward, KL, entropy, clip ratio, lengths, ...) to a JSONL file as training goes."""

    def __init__(self, path: str | Path):
        self.path = Path(path)

    def on_log(self, args, state, control, logs=None, **kwargs):
        if logs and state.is_world_process_zero:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            with self.path.open("a", encoding="utf-8") as handle:
                handle.write(json.dumps({"step": state.global_step, **logs}, default=float) + "\n")


def last_checkpoint(output_dir: str | Path) -> str | None:
    """The newest complete `checkpoint-N` folder in `output_dir` (None when there is none)."""
    from transformers.trainer_utils import get_last_checkpoint

    output_dir = Path(output_dir)
    if not output_dir.is_dir():
        return None
    return get_last_checkpoint(str(output_dir))


def write_logs(out: Path, history: list[dict]) -> None:
    from deepmath.io.atomic import atomic_write_json, atomic_write_text

    atomic_write_json(out / "log_history.json", history)
    atomic_write_text(out / "train_log.jsonl", "".join(json.dumps(h, default=float) + "\n" for h in history))


def read_logs(out: Path) -> list[dict]:
    """The trainer's log history that `write_logs` saved ([] before the first finished run)."""
    path = out / "log_history.json"
    return json.loads(path.read_text()) if path.exists() else []


class QuietProgressCallback(ProgressCallback):
    """transformers' progress bar (steps, elapsed, ETA) without the raw log dict it prints at every logging step
    (hundreds of 900-character lines per run); the logs go to `train_log.jsonl` instead. `deepmath -v` keeps them."""

    _SHOWN = ("loss", "reward", "kl", "learning_rate")

    def on_log(self, args, state, control, logs=None, **kwargs):
        if state.is_world_process_zero and self.training_bar is not None and logs:
            shown = {k: f"{v:.4g}" for k, v in logs.items() if k in self._SHOWN and isinstance(v, int | float)}
            if shown:
                self.training_bar.set_postfix(shown, refresh=False)


def quiet_progress(trainer) -> None:
    """Swap the trainer's progress printer for `QuietProgressCallback` unless the user asked for verbose output."""
    if os.environ.get("DEEPMATH_VERBOSE", "0") not in ("", "0"):
        return
    if trainer.pop_callback(ProgressCallback) is not None or trainer.pop_callback(PrinterCallback) is not None:
        trainer.add_callback(QuietProgressCallback)


def train_to_final(trainer, tokenizer, out: Path, final: Path, resume_from: str | None, stage: str) -> str | None:
    """Train (from `resume_from`, else the newest checkpoint in `out`), save the model to `final` and the logs to
    `out`; returns the checkpoint it resumed from."""
    quiet_progress(trainer)
    resumed_from = resume_from or last_checkpoint(out)
    if resumed_from:
        logger.info("%s: resuming from %s", stage, resumed_from)
    trainer.train(resume_from_checkpoint=resumed_from)
    save_final(trainer, tokenizer, final)
    if is_main_process():
        write_logs(out, trainer.state.log_history)
    barrier()
    return resumed_from


def eval_summary(result: dict) -> dict:
    """The headline numbers of one evaluation, for stats.json."""
    return {key: result[key] for key in ("pass@1", "pass@k", "maj@k", "k")}


def save_final(trainer, tokenizer, path: Path) -> Path:
    """Save model + tokenizer to `path` via a temporary folder, so a half-written model never looks final.

    Every rank calls `trainer.save_model` (DeepSpeed/FSDP gather the weights collectively; only the main process
    writes); the main process renames, the others wait for it. A LoRA policy saves its adapter to `OUT/adapter` and
    a merged full model to `path`."""
    import shutil

    from deepmath.train.lora import is_peft_model, save_adapter_and_merged

    if is_peft_model(trainer.model):  # LoRA: OUT/adapter + a merged full model at `path`
        return save_adapter_and_merged(trainer, tokenizer, path)
    tmp = path.with_name(path.name + ".tmp")
    if is_main_process() and tmp.exists():
        shutil.rmtree(tmp)
    barrier()
    trainer.save_model(str(tmp))
    if is_main_process():
        tokenizer.save_pretrained(str(tmp))
        if path.exists():
            shutil.rmtree(path)
        tmp.rename(path)
    barrier()
    return path


def cached_evaluation(cfg, model_path: str, problems: list[dict], out: Path, phase: str, bridge=None) -> dict | None:
    """Evaluate once into `OUT/eval_<phase>.json` (+ samples); a re-run reads the file. None when eval is off."""
    from deepmath.io.atomic import atomic_write_json
    from deepmath.problems import write_jsonl

    if not problems or cfg.eval_k <= 0:
        return None
    path = out / f"eval_{phase}.json"
    if share(path.exists()):  # the main process decides; every rank takes the same branch
        return json.loads(path.read_text())
    if not is_main_process():  # evaluation runs once, on the main process; the others wait for its file
        return wait_for_file(path)
    metrics, samples = _evaluate(cfg, model_path, problems, bridge)
    metrics["model"] = model_path
    write_jsonl(out / f"eval_{phase}_samples.jsonl.gz", samples)
    atomic_write_json(path, metrics)
    logger.info(
        "eval %s: pass@1 %.3f  pass@k %.3f  maj@k %.3f (k=%d, %d problems)",
        phase,
        metrics["pass@1"],
        metrics["pass@k"],
        metrics["maj@k"],
        metrics["k"],
        metrics["problems"],
    )
    return metrics


def wait_for_file(path: Path, poll: float = 2.0) -> dict:
    """The JSON the main process writes at `path`, once it exists. A file, not a collective barrier: an evaluation
    can outlast torch.distributed's timeout, and if the main process dies the launcher stops this one."""
    import time

    waited = 0.0
    while not path.exists():
        time.sleep(poll)
        waited += poll
        if waited % 300 < poll:
            logger.info("waiting for the main process to write %s (%.0f s)", path.name, waited)
    return json.loads(path.read_text())


def _evaluate(cfg, model_path: str, problems: list[dict], bridge=None) -> tuple[dict, list[dict]]:
    from deepmath.evaluate.run import evaluate_model

    max_new = cfg.eval_max_new_tokens or getattr(cfg, "max_completion_length", None) or 512
    return evaluate_model(
        model_path,
        problems,
        cfg.eval_k,
        cfg.eval_temperature,
        cfg.eval_top_p,
        max_new,
        cfg.eval_batch_problems,
        cfg.seed,
        cfg.prompt_template,
        cfg.system_prompt,
        bridge=bridge,
        max_batch_tokens=cfg.eval_max_batch_tokens,
    )


class PeriodicEvalCallback(TrainerCallback):
    """Evaluate the policy on the held-out problems every `cfg.eval_every` optimizer steps.

    One JSON line per step in `OUT/eval_steps.jsonl` (pass@1, pass@k, maj@k), so a curve against training steps
    exists beside the before/after numbers; a resumed run skips the steps it already has. The policy is saved to
    `OUT/_eval_model` and sampled by the evaluation's own sampler (the same code as `eval_before`/`eval_after`),
    inside `torch.random.fork_rng`, so evaluating does not change the training run's random stream. Rank 0 only.
    """

    def __init__(self, cfg, problems: list[dict], out: Path, bridge=None):
        self.cfg, self.problems, self.out, self.bridge = cfg, problems, Path(out), bridge
        self.path = self.out / "eval_steps.jsonl"

    def _done(self) -> set[int]:
        return {row["step"] for row in _eval_rows(self.path)}

    def on_step_end(self, args, state, control, model=None, processing_class=None, **kwargs):
        every = self.cfg.eval_every
        step = state.global_step
        if not every or step % every or not self.problems or self.cfg.eval_k <= 0 or not state.is_world_process_zero:
            return
        if step >= state.max_steps or step in self._done():
            return  # the final model is evaluated as `eval_after`
        import shutil

        import torch

        tmp = self.out / "_eval_model"
        if tmp.exists():
            shutil.rmtree(tmp)
        model.save_pretrained(str(tmp))
        processing_class.save_pretrained(str(tmp))
        was_training = model.training
        with torch.random.fork_rng(devices=[]):
            metrics, _ = _evaluate(self.cfg, str(tmp), self.problems, self.bridge)
        model.train(was_training)
        shutil.rmtree(tmp)
        row = {"step": step, **{key: metrics[key] for key in ("pass@1", "pass@k", "maj@k", "k", "problems")}}
        with self.path.open("a", encoding="utf-8") as handle:
            handle.write(json.dumps(row) + "\n")
        logger.info("eval at step %d: pass@1 %.3f  maj@k %.3f", step, metrics["pass@1"], metrics["maj@k"])


def _eval_rows(path: Path) -> list[dict]:
    """The lines of an append-only `eval_steps.jsonl`; a line a kill cut short is left out (that step is simply
    evaluated again on resume)."""
    from deepmath.io.rows import iter_rows

    if not path.exists():
        return []
    rows = iter_rows(str(path), on_skip=lambda reason: None, warn=False)
    return [row for _, row in rows if isinstance(row.get("step"), int)]


def eval_curve(out: Path, before: dict | None, after: dict | None, final_step: int) -> list[dict]:
    """Held-out metrics against training steps: `before` at step 0, every `eval_steps.jsonl` line, `after` last."""
    keys = ("pass@1", "pass@k", "maj@k", "k", "problems")
    points = []
    if before:
        points.append({"step": 0, **{key: before[key] for key in keys}})
    path = out / "eval_steps.jsonl"
    rows = {row["step"]: row for row in _eval_rows(path)}
    points += [rows[step] for step in sorted(rows) if 0 < step < final_step]
    if after:
        points.append({"step": final_step, **{key: after[key] for key in keys}})
    return points


def eval_card_lines(before: dict | None, after: dict | None) -> list[str]:
    """The card's before/after table of the held-out evaluation (no lines when either is missing)."""
    if not (before and after):
        return []
    lines = [
        f"## Held-out evaluation ({after['problems']} problems, k={after['k']}, temperature {after['temperature']})",
        "",
        "| metric | before | after | change |",
        "| --- | ---: | ---: | ---: |",
    ]
    for key in ("pass@1", "pass@k", "maj@k"):
        lines.append(f"| {key} | {before[key]:.3f} | {after[key]:.3f} | {after[key] - before[key]:+.3f} |")
    return [*lines, "", "![before vs after](eval_curve.png)", ""]


def policy_trainer(trainer_class, cfg, policy: str, dataset, callbacks=()):
    """A TRL trainer of `trainer_class` on `policy` (its tokenizer, our callbacks, LoRA when the recipe has a `peft`
    block); returns (trainer, tokenizer)."""
    from transformers import AutoTokenizer

    from deepmath.train.lora import lora_config

    tokenizer = AutoTokenizer.from_pretrained(policy)
    trainer = trainer_class(
        model=policy,
        args=cfg,
        train_dataset=dataset,
        processing_class=tokenizer,
        callbacks=list(callbacks),
        peft_config=lora_config(cfg.peft) if getattr(cfg, "peft", None) is not None else None,
    )
    return trainer, tokenizer
