"""`deepmath train pretrain RECIPE.yaml --output DIR`: continued pretraining of a causal LM on a corpus mixture.

    deepmath train pretrain pipelines/pretrain_tiny.yaml --output runs/pretrain          # CPU, offline, minutes
    deepmath train pretrain pipelines/pretrain_deepseekmath.yaml --output runs/pt        # the paper's mixture (GPU)

DeepSeekMath 2.2 further pretrained DeepSeek-Coder-Base-v1.5 7B on 500B tokens of a weighted mixture; here the
mixture is `sources` with token-fraction weights and the budget is `max_tokens`. Steps: (1) `model: tiny` builds
the tiny Llama with a BPE tokenizer learned from the corpus itself (plus `tokenizer_data`, e.g. the SFT mix that
fine-tunes it next, so chat text tokenizes well too); any other value is a Hugging Face causal LM; (2) the mixture
is streamed, framed with eos and packed into `max_length` rows on disk (`deepmath.train.packing`); a source that
cannot fill its share stops the run here, saying how many epochs it would need; (3) transformers' `Trainer` trains
on the rows (seeded shuffle; bf16, gradient checkpointing and accelerate's multi-process launch are the Trainer's),
counting the tokens it consumes per source in a checkpointed callback; (4) the model and tokenizer go to
`OUT/model` (AutoModelForCausalLM / AutoTokenizer), the loss curve to `pretrain_curve.png`.

A killed run resumes from its newest `checkpoint-N`: the Trainer restores the sampler position, RNG and the
per-source counter, so it ends with the tokens an uninterrupted run sees (tests/train/test_pretrain.py).

Where we depart from the paper: no document-boundary attention masking (packed rows attend across documents, as
most pretraining code does); the paper's 500B tokens and 10M-token batches are a recipe setting
(`pipelines/pretrain_deepseekmath.yaml`), never run here. Only the CPU path has run; the GPU path is the same
Trainer code with `bf16` and `gradient_checkpointing` switched on.
"""

from __future__ import annotations

import copy
import json
import logging
import time
from pathlib import Path

from transformers import Trainer, TrainerCallback
from transformers.trainer_callback import ExportableState

from deepmath.train.config import TINY
from deepmath.train.pretrain_config import PretrainRecipe

__all__ = ["PretrainTrainer", "SourceTokenCounter", "run_pretrain"]

logger = logging.getLogger(__name__)

CURVE = "pretrain_curve.png"
TOKENS_SEEN = "tokens_seen.json"


class SourceTokenCounter(TrainerCallback, ExportableState):
    """Tokens the trainer consumed from each source; saved in every checkpoint and restored on resume."""

    def __init__(self, names: list[str]):
        self.names = list(names)
        self.counts = [0] * len(self.names)

    def state(self) -> dict:
        return {"args": {"names": self.names}, "attributes": {"counts": list(self.counts)}}


class PretrainTrainer(Trainer):
    """transformers' Trainer that reads (and drops) the `source_tokens` column of each packed batch."""

    def source_counter(self) -> SourceTokenCounter:
        # looked up each time: resuming replaces the callback object with one rebuilt from the checkpoint
        return next(cb for cb in self.callback_handler.callbacks if isinstance(cb, SourceTokenCounter))

    def compute_loss(self, model, inputs, return_outputs=False, num_items_in_batch=None):
        counts = inputs.pop("source_tokens", None)
        if counts is not None and model.training:
            total = counts.sum(dim=0)
            if self.accelerator.num_processes > 1:
                total = self.accelerator.reduce(total, reduction="sum")
            counter = self.source_counter()
            counter.counts = [a + int(b) for a, b in zip(counter.counts, total.tolist())]
        return super().compute_loss(
            model, inputs, return_outputs=return_outputs, num_items_in_batch=num_items_in_batch
        )


def run_pretrain(cfg: PretrainRecipe) -> dict:
    """Pretrain `cfg.model` on the `cfg.sources` mixture into `cfg.output`; returns the stage stats."""
    from deepmath.config import ConfigError
    from deepmath.stage import run_stage
    from deepmath.train.data import DataError

    try:
        return run_stage("train-pretrain", cfg, lambda run: train_pretrain(cfg, run.output))
    except DataError as err:  # a user's corpus problem: one line and exit code 2, not a traceback
        raise ConfigError(f"train pretrain: {err}") from err


def base_model(cfg: PretrainRecipe, out: Path) -> str:
    """The model to start from: `cfg.model`, or the tiny model built once into `OUT/base_model`."""
    if cfg.model != TINY:
        return cfg.model
    from itertools import chain

    from deepmath.train.data import load_rows
    from deepmath.train.packing import iter_source_texts
    from deepmath.train.prepare import tokenizer_text
    from deepmath.train.tiny import build_tiny_model_for

    path = out / "base_model"
    if (path / "config.json").exists() and (path / "tokenizer.json").exists():
        return str(path)
    corpus = (t for s in cfg.sources for t in iter_source_texts(s, cfg.tiny_tokenizer_documents))
    extra = (tokenizer_text(row) for spec in cfg.tokenizer_data for row in load_rows(spec))
    build_tiny_model_for(cfg, path, chain(corpus, extra))
    return str(path)


def _training_args(cfg: PretrainRecipe) -> tuple[PretrainRecipe, int]:
    """A copy of the recipe with `max_steps` set from the budget (the recipe itself stays as the user wrote it)."""
    from deepmath.config import ConfigError

    steps = cfg.max_tokens // cfg.tokens_per_step
    if steps < 1:
        raise ConfigError(
            f"train pretrain: max_tokens {cfg.max_tokens:,} is less than one optimizer step "
            f"({cfg.tokens_per_step:,} tokens = {cfg.rows_per_step} rows x {cfg.max_length})"
        )
    args = copy.copy(cfg)
    args.max_steps = steps
    return args, steps


def complete_checkpoint(out: Path) -> str | None:
    """The newest `checkpoint-N` whose `trainer_state.json` exists: the Trainer writes that file last, so a run
    killed while saving leaves a partial folder that must not be resumed from."""
    folders = [p for p in out.glob("checkpoint-*") if p.is_dir() and p.name.rsplit("-", 1)[-1].isdigit()]
    done = [p for p in folders if (p / "trainer_state.json").exists()]
    if len(done) < len(folders):
        logger.warning("train pretrain: ignoring incomplete checkpoint(s) %s", sorted(set(folders) - set(done)))
    return str(max(done, key=lambda p: int(p.name.rsplit("-", 1)[-1]))) if done else None


def _dtype(name: str):
    import torch

    return "auto" if name == "auto" else getattr(torch, name)


def train_pretrain(cfg: PretrainRecipe, out: Path, callbacks: tuple = ()):
    """The stage body (callable on its own, e.g. by tests that add a callback)."""
    from transformers import AutoModelForCausalLM, AutoTokenizer, default_data_collator

    from deepmath.io.atomic import atomic_write_json
    from deepmath.stage import StageResult, StageStats
    from deepmath.train.packing import PackedDataset, pack_mixture
    from deepmath.train.runs import JsonlLogCallback, read_logs, set_torch_threads, train_to_final

    set_torch_threads(cfg.torch_threads)
    args, steps = _training_args(cfg)
    with args.main_process_first(local=False, desc="tiny model and packing"):
        model_path = base_model(cfg, out)
        tokenizer = AutoTokenizer.from_pretrained(model_path)
        manifest = pack_mixture(
            cfg.sources,
            tokenizer,
            out / "data",
            rows=steps * cfg.rows_per_step,
            max_length=cfg.max_length,
            seed=cfg.seed,
            shuffle_buffer=cfg.shuffle_buffer,
            tokenize_batch=cfg.tokenize_batch,
            max_epochs=cfg.max_epochs,
        )
    names = [s["name"] for s in cfg.sources]
    final = out / "model"
    resumed_from = None
    if not (final / "config.json").exists():
        model = AutoModelForCausalLM.from_pretrained(model_path, dtype=_dtype(cfg.model_dtype))
        trainer = PretrainTrainer(
            model=model,
            args=args,
            train_dataset=PackedDataset(out / "data"),
            processing_class=tokenizer,
            data_collator=default_data_collator,
            callbacks=[JsonlLogCallback(out / "train_log.jsonl"), SourceTokenCounter(names), *callbacks],
        )
        started = time.time()
        resume = cfg.resume_from_checkpoint or complete_checkpoint(out)
        resumed_from = train_to_final(trainer, tokenizer, out, final, resume, "train pretrain")
        start_step = int(Path(resumed_from).name.rsplit("-", 1)[-1]) if resumed_from else 0
        runtime = next((h["train_runtime"] for h in reversed(trainer.state.log_history) if "train_runtime" in h), None)
        session_tokens = (trainer.state.global_step - start_step) * cfg.tokens_per_step
        seen = {
            "by_source": dict(zip(names, trainer.source_counter().counts)),
            "total": int(trainer.state.num_input_tokens_seen),
            "steps": trainer.state.global_step,
            "session_tokens": session_tokens,
            "session_seconds": round(time.time() - started, 2),
            "train_runtime": runtime,
            "tokens_per_second": round(session_tokens / runtime, 1) if runtime else None,
        }
        atomic_write_json(out / TOKENS_SEEN, seen)
    seen = json.loads((out / TOKENS_SEEN).read_text())
    history = read_logs(out)
    plot_pretrain_curve(history, cfg.tokens_per_step, out / CURVE, title=f"pretraining of {Path(model_path).name}")
    total_seen = sum(seen["by_source"].values()) or 1
    losses = [h["loss"] for h in history if "loss" in h]
    stats = {
        "rows_in": manifest["rows"],  # packed training sequences of max_length tokens, all trained on
        "rows_out": manifest["rows"],
        "unit": "sequences",
        "documents_read": sum(s["documents_read"] for s in manifest["sources"]),
        "tokens_seen": seen["total"],
        "tokens_seen_by_source": seen["by_source"],
        "mixture_target": {s["name"]: round(s["weight"], 4) for s in cfg.sources},
        "mixture_seen": {k: round(v / total_seen, 4) for k, v in seen["by_source"].items()},
        "epochs_by_source": {s["name"]: s["epochs"] for s in manifest["sources"]},
        "steps": seen["steps"],
        "tokens_per_step": cfg.tokens_per_step,
        "tokens_per_second": seen["tokens_per_second"],
        "final_loss": losses[-1] if losses else None,
        "model": str(final),
        "base_model": model_path,
        "resumed_from": resumed_from,
        "plots": [CURVE],
    }
    return StageResult(stats=StageStats.from_dict(stats), card=_card(cfg, model_path, manifest, stats))


def plot_pretrain_curve(history: list[dict], tokens_per_step: int, path: Path, title: str) -> Path:
    """Training loss over tokens seen."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from deepmath.io.atomic import atomic_write_png

    points = [(h["step"] * tokens_per_step, h["loss"]) for h in history if "loss" in h and "step" in h]
    fig, ax = plt.subplots(figsize=(5.5, 3.2))
    ax.plot([p[0] for p in points], [p[1] for p in points], marker="." if len(points) < 40 else None)
    ax.set_xlabel("tokens seen")
    ax.set_ylabel("loss (nats/token)")
    ax.grid(alpha=0.3)
    ax.set_title(title)
    fig.tight_layout()
    atomic_write_png(path, fig, dpi=100)
    plt.close(fig)
    return path


def _card(cfg: PretrainRecipe, model: str, manifest: dict, stats: dict):
    from deepmath.cards import Card

    rows = [
        f"| {s['name']} | `{s['path']}` | {s['weight']:.1%} | {stats['tokens_seen_by_source'].get(s['name'], 0):,} "
        f"| {stats['mixture_seen'].get(s['name'], 0):.1%} | {s['epochs']} |"
        for s in manifest["sources"]
    ]
    mixture = "\n".join(
        [
            "| source | path | target share | tokens seen | share seen | epochs |",
            "| --- | --- | ---: | ---: | ---: | ---: |",
            *rows,
        ]
    )
    return Card(
        title=f"Continued pretraining of {model}",
        stage="train-pretrain",
        summary=(
            f"`deepmath train pretrain` (transformers Trainer) trained `{model}` on {stats['tokens_seen']:,} tokens "
            f"({manifest['rows']:,} packed rows of {manifest['max_length']} tokens) of the mixture below. The model "
            "and its tokenizer are in `model/` (AutoModelForCausalLM / AutoTokenizer); `data/` holds the packed "
            "token rows and their manifest."
        ),
        n_rows=manifest["rows"],
        fields={
            "model/": "the trained model and tokenizer",
            "data/tokens.bin": f"packed token ids ({manifest['dtype']}, rows x {manifest['max_length']})",
            "data/source_tokens.bin": "tokens of each source per row (int32)",
            "data/manifest.json": "the packing: budget, per-source targets, tokens packed, epochs",
            "tokens_seen.json": "tokens the trainer consumed, per source, and throughput",
            CURVE: "training loss over tokens seen",
        },
        counts={
            "tokens seen": stats["tokens_seen"],
            "optimizer steps": stats["steps"],
            "tokens per step": stats["tokens_per_step"],
            "tokens per second": stats["tokens_per_second"] or 0,
        },
        parameters={
            "model": cfg.model,
            "max_tokens": cfg.max_tokens,
            "max_length": cfg.max_length,
            "learning_rate": cfg.learning_rate,
            "per_device_train_batch_size": cfg.per_device_train_batch_size,
            "gradient_accumulation_steps": cfg.gradient_accumulation_steps,
            "seed": cfg.seed,
        },
        lineage=[s["path"] for s in cfg.sources] + list(cfg.tokenizer_data),
        data_files="data/*",
        tags=["pretraining", "transformers"],
        sections={"Mixture": mixture},
        images=[CURVE],
    )
