"""`deepmath train {sft,grpo} RECIPE --dry-run [--gpu-memory GB] [--num-processes N] [--zero-stage S]`.

Resolves the recipe (YAML + overrides, exactly as a run would) without loading weights: only the model's config is
read (a local folder, the Hugging Face cache, or `deepmath/train/model_configs/` for the models our recipes name;
offline). Prints the batch arithmetic and a per-GPU memory estimate, and exits 2 when the batch is not divisible
or a phase cannot fit, naming the field to change.

The estimate is deliberately simple (an upper-bound style sum, in GiB, per GPU):
- training: weights (fp32 unless `model_init_kwargs.dtype` says otherwise; TRL loads float32 by default), gradients
  and AdamW state of the trainable parameters (all, or LoRA's), split over the processes by ZeRO stage 2/3;
  the reference model when `beta > 0` without LoRA; activations (one checkpoint per layer with activation
  checkpointing, ~34 bytes x hidden per token and layer without) and the fp32 logits of one micro-batch;
- generation (GRPO): vLLM colocate reserves `vllm_gpu_memory_utilization` of the GPU; without vLLM, the KV cache of
  one generation batch (per-device batch x steps_per_generation sequences of prompt + completion tokens);
- evaluation (main process, before and after training): a bf16 copy of the model and the KV cache of one
  `generate` call of the generation layer (eval_batch_problems x eval_k sequences), on top of the training state
  still resident for `eval_after`.
Prompt length is taken as `dry_run_prompt_tokens` (512). Real use differs (fragmentation, CUDA context ~1 GiB, NCCL
buffers): treat a phase above ~90% of the GPU as not fitting.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from pathlib import Path

from deepmath.config import ConfigError

__all__ = ["ModelShape", "PreflightReport", "dry_run", "model_shape", "preflight"]

logger = logging.getLogger(__name__)

CONFIGS = Path(__file__).with_name("model_configs")
GIB = 1024**3
PROMPT_TOKENS = 512  # assumed prompt length (the recipes do not cap prompts)
HEADROOM = 0.9  # a phase must fit in this fraction of the GPU


@dataclass
class ModelShape:
    """The architecture numbers the estimate needs."""

    name: str
    hidden: int
    intermediate: int
    layers: int
    heads: int
    kv_heads: int
    vocab: int
    tied: bool
    max_positions: int = 0

    @property
    def params(self) -> int:
        head_dim = self.hidden // self.heads
        attention = 2 * self.hidden * self.hidden + 2 * self.hidden * self.kv_heads * head_dim
        per_layer = attention + 3 * self.hidden * self.intermediate + 2 * self.hidden
        embeddings = self.vocab * self.hidden * (1 if self.tied else 2)
        return self.layers * per_layer + embeddings + self.hidden

    def kv_bytes_per_token(self, dtype_bytes: int = 2) -> int:
        return 2 * self.layers * self.kv_heads * (self.hidden // self.heads) * dtype_bytes

    def lora_params(self, r: int) -> int:
        """LoRA on every linear layer of every block (peft's all-linear): r x (in + out) per matrix."""
        head_dim = self.hidden // self.heads
        kv = self.kv_heads * head_dim
        shapes = [(self.hidden, self.hidden), (self.hidden, kv), (self.hidden, kv), (self.hidden, self.hidden)]
        shapes += [(self.hidden, self.intermediate)] * 2 + [(self.intermediate, self.hidden)]
        return self.layers * sum(r * (a + b) for a, b in shapes)


def _shape(name: str, config: dict) -> ModelShape:
    config = config.get("text_config", config)
    try:
        hidden, heads = int(config["hidden_size"]), int(config["num_attention_heads"])
        return ModelShape(
            name=name,
            hidden=hidden,
            intermediate=int(config.get("intermediate_size") or 4 * hidden),
            layers=int(config["num_hidden_layers"]),
            heads=heads,
            kv_heads=int(config.get("num_key_value_heads") or heads),
            vocab=int(config["vocab_size"]),
            tied=bool(config.get("tie_word_embeddings", False)),
            max_positions=int(config.get("max_position_embeddings") or 0),
        )
    except (KeyError, TypeError, ValueError) as err:
        raise ConfigError(f"dry run: the config of {name} lacks {err} (a decoder-only causal LM config)") from None


def model_shape(cfg) -> ModelShape:
    """The policy's architecture from its config only: tiny fields, a local folder, the HF cache, or ours."""
    from deepmath.train.config import TINY

    model = cfg.model
    if isinstance(getattr(cfg, "sft", None), dict) and cfg.sft.get("model"):
        model = cfg.sft["model"]
    if not model:
        raise ConfigError("dry run: the recipe names no model (model: a folder, a hub id, or 'tiny')")
    if model == TINY:
        return ModelShape(TINY, cfg.tiny_hidden_size, 4 * cfg.tiny_hidden_size, cfg.tiny_layers, cfg.tiny_heads,
                          cfg.tiny_heads, cfg.tiny_vocab_size, True)  # fmt: skip
    local = Path(model).expanduser() / "config.json"
    if local.is_file():
        return _shape(model, json.loads(local.read_text()))
    shipped = CONFIGS / (model.replace("/", "--") + ".json")
    if shipped.is_file():
        return _shape(model, json.loads(shipped.read_text()))
    try:
        from transformers import AutoConfig

        return _shape(model, AutoConfig.from_pretrained(model, local_files_only=True).to_dict())
    except (OSError, ValueError):
        raise ConfigError(
            f"dry run: no config for {model!r} offline (not a local folder, not in the Hugging Face cache, not in "
            f"{CONFIGS}); pass --model LOCAL_FOLDER or add its config.json there"
        ) from None


@dataclass
class PreflightReport:
    lines: list[str]
    problems: list[str]

    @property
    def ok(self) -> bool:
        return not self.problems


def _weight_bytes(cfg) -> int:
    dtype = str((getattr(cfg, "model_init_kwargs", None) or {}).get("dtype", "float32"))
    return 2 if dtype in ("bfloat16", "float16", "auto") else 4


def preflight(cfg, kind: str, gpu_gib: float | None, processes: int = 1, zero_stage: int = 0) -> PreflightReport:
    """Batch arithmetic and memory estimate of `cfg` (an SFTRecipe or GRPORecipe) on `processes` GPUs."""
    shape = model_shape(cfg)
    lines, problems = [], []
    n, per_device = processes, cfg.per_device_train_batch_size
    accumulation = cfg.gradient_accumulation_steps
    lines.append(f"model {shape.name}: {shape.params / 1e9:.2f}B parameters (from its config; no weights loaded)")
    lines.append(
        f"batch: {n} processes x {per_device} per device x {accumulation} accumulation = "
        f"{n * per_device * accumulation} {'completions' if kind == 'grpo' else 'sequences'} per optimizer step"
    )
    completion = getattr(cfg, "max_completion_length", None) or 0
    if kind == "grpo":
        g = cfg.num_generations
        total = n * per_device * accumulation
        if total % g:
            problems.append(
                f"per_device_train_batch_size x processes x gradient_accumulation_steps = {total} is not a multiple of "
                f"num_generations {g}: change per_device_train_batch_size or gradient_accumulation_steps"
            )
        steps_per_generation = cfg.steps_per_generation or accumulation
        generation = n * per_device * steps_per_generation
        if generation % g:
            problems.append(
                f"generation batch {generation} (processes x per_device_train_batch_size x steps_per_generation) is "
                f"not a multiple of num_generations {g}: change steps_per_generation or per_device_train_batch_size"
            )
        lines.append(
            f"  = {total / g:g} prompts x G {g}; one generation batch of {generation} completions "
            f"({generation / g:g} prompts) every {steps_per_generation} micro-steps, reused num_iterations "
            f"{cfg.num_iterations}x: {accumulation / (steps_per_generation * cfg.num_iterations):g} generation "
            "batches per optimizer step"
        )
    seq = PROMPT_TOKENS + completion if kind == "grpo" else (getattr(cfg, "max_length", None) or 1024)

    # training state per GPU
    lora_r = int((cfg.peft or {}).get("r", 8)) if cfg.peft is not None else 0
    weight_bytes = 0.5 if cfg.load_in_4bit else _weight_bytes(cfg)
    trainable = shape.lora_params(lora_r) if lora_r else shape.params
    shard = n if zero_stage >= 3 else 1
    state_shard = n if zero_stage >= 2 else 1
    weights = shape.params * weight_bytes / shard
    optimizer = trainable * (4 + 8) / state_shard  # fp32 gradients + AdamW moments
    reference = shape.params * weight_bytes / shard if (kind == "grpo" and cfg.beta > 0 and not lora_r) else 0
    checkpointing = bool(cfg.gradient_checkpointing or getattr(cfg, "activation_checkpointing", False))
    tokens = per_device * seq
    if checkpointing:
        activations = tokens * shape.hidden * (2 * shape.layers + 34)
    else:
        activations = tokens * shape.hidden * 34 * shape.layers
    logits = tokens * shape.vocab * 4 * 2  # fp32 logits and their gradient
    training = weights + optimizer + reference + activations + logits
    phases = {"training": training}
    lines.append(
        f"memory per GPU (GiB): weights {weights / GIB:.1f}, gradients+AdamW {optimizer / GIB:.1f}"
        f"{f' (LoRA r={lora_r}: {trainable / 1e6:.1f}M trainable)' if lora_r else ''}, reference model "
        f"{reference / GIB:.1f}, activations {activations / GIB:.1f} (checkpointing {'on' if checkpointing else 'off'},"
        f" {per_device} x {seq} tokens), logits {logits / GIB:.1f} -> training {training / GIB:.1f}"
        f"{f' (ZeRO-{zero_stage} over {n})' if zero_stage else ''}"
    )
    if kind == "grpo":
        if cfg.use_vllm and cfg.vllm_mode == "colocate":
            if gpu_gib:
                generation_bytes = cfg.vllm_gpu_memory_utilization * gpu_gib * GIB
                note = f"vLLM colocate reserves {cfg.vllm_gpu_memory_utilization:.0%} of the GPU"
            else:
                generation_bytes, note = 0, "vLLM colocate: a fraction of the GPU (give --gpu-memory)"
        elif cfg.use_vllm:
            generation_bytes, note = 0, "vLLM server: generation on other GPUs"
        else:
            sequences = per_device * (cfg.steps_per_generation or accumulation)
            generation_bytes = sequences * seq * shape.kv_bytes_per_token(int(_weight_bytes(cfg)))
            note = f"HF generate KV cache of {sequences} sequences x {seq} tokens"
        phases["training + generation"] = training + generation_bytes
        lines.append(f"generation: {note}: {generation_bytes / GIB:.1f} -> {(training + generation_bytes) / GIB:.1f}")
    if cfg.eval_k > 0 and (cfg.eval_data or list(cfg.dataset) == ["tiny"]):
        new_tokens = cfg.eval_max_new_tokens or completion or 512
        per_sequence = PROMPT_TOKENS + new_tokens
        budget_tokens = cfg.eval_max_batch_tokens or cfg.eval_batch_problems * cfg.eval_k * per_sequence
        sequences = max(1, min(cfg.eval_batch_problems * cfg.eval_k, budget_tokens // per_sequence))
        kv = sequences * per_sequence * shape.kv_bytes_per_token()
        evaluation = training + shape.params * 2 + kv
        phases["evaluation"] = evaluation
        source = (
            f"eval_max_batch_tokens {cfg.eval_max_batch_tokens}"
            if cfg.eval_max_batch_tokens
            else f"eval_batch_problems {cfg.eval_batch_problems} x eval_k {cfg.eval_k}"
        )
        lines.append(
            f"evaluation (main process, transformers generate): {source} -> {sequences} sequences x "
            f"{per_sequence} tokens per call: KV cache {kv / GIB:.1f} + bf16 model {shape.params * 2 / GIB:.1f} + "
            f"training state {training / GIB:.1f} -> {evaluation / GIB:.1f}"
        )
    if gpu_gib:
        budget = gpu_gib * GIB * HEADROOM
        lines.append(f"GPU: {gpu_gib:g} GiB ({HEADROOM:.0%} usable: {budget / GIB:.1f})")
        if phases["training"] > budget:
            problems.append(
                f"training needs ~{phases['training'] / GIB:.0f} GiB per GPU: lower per_device_train_batch_size "
                "(raise gradient_accumulation_steps), set gradient_checkpointing: true, add a peft: block, or launch "
                "with DeepSpeed ZeRO-3 (--zero-stage 3)"
            )
        if "training + generation" in phases and phases["training + generation"] > budget:
            problems.append(
                f"training + generation needs ~{phases['training + generation'] / GIB:.0f} GiB per GPU: lower "
                "vllm_gpu_memory_utilization (vLLM colocate) or steps_per_generation / per_device_train_batch_size"
            )
        if "evaluation" in phases and phases["evaluation"] > budget:
            room = budget - training - shape.params * 2
            fits = int(room // (per_sequence * shape.kv_bytes_per_token())) if room > 0 else 0
            hint = (
                f"set eval_max_batch_tokens to at most {fits * per_sequence} ({fits} sequences per call)"
                if fits >= 1
                else "the training state leaves no room for any eval_max_batch_tokens: lower it first (above), or set "
                "eval_k: 0 and run deepmath eval --backend vllm afterwards"
            )
            problems.append(
                f"evaluation batch does not fit: {source} = {sequences} sequences of {per_sequence} tokens in one "
                f"generate call need ~{phases['evaluation'] / GIB:.0f} GiB on the main process: {hint}"
            )
    else:
        lines.append("GPU memory unknown (no GPU visible): pass --gpu-memory GB to check the fit")
    return PreflightReport(lines, problems)


def _visible_gpu_gib() -> float | None:
    try:
        import torch

        if torch.cuda.is_available():
            return torch.cuda.get_device_properties(0).total_memory / GIB
    except Exception:  # no usable CUDA runtime: the user gives --gpu-memory
        return None
    return None


def dry_run(kind: str, cfg, gpu_gib: float | None = None, processes: int = 1, zero_stage: int = 0) -> int:
    """Print the report; 0 when it fits, 2 (with the fields to change) when it does not."""
    import sys

    if processes < 1:
        raise ConfigError("--num-processes must be >= 1")
    if zero_stage not in (0, 1, 2, 3):
        raise ConfigError("--zero-stage must be 0, 1, 2 or 3")
    report = preflight(cfg, kind, gpu_gib if gpu_gib else _visible_gpu_gib(), processes, zero_stage)
    print("\n".join(report.lines))
    for problem in report.problems:
        print(f"deepmath train {kind}: dry run: {problem}", file=sys.stderr)
    print("dry run: fits" if report.ok else f"dry run: {len(report.problems)} problem(s); nothing was started")
    return 0 if report.ok else 2
