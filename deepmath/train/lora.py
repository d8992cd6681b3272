"""LoRA (peft) for the SFT and GRPO stages: a `peft:` mapping in the recipe, passed to TRL as `peft_config`.

    peft:                      # any field of peft.LoraConfig
      r: 16
      lora_alpha: 32
      lora_dropout: 0.05
      target_modules: all-linear
    load_in_4bit: false        # QLoRA: the base model in 4-bit NF4 (needs bitsandbytes and a CUDA GPU)

TRL wraps the policy with `get_peft_model`; with `beta > 0` the reference model is the policy with its adapter
disabled, so no second copy of the weights is loaded. At the end of training the adapter goes to `OUT/adapter/`
and a merged full model (base weights + adapter, reloaded unquantised) to `OUT/model/`, so `deepmath eval`,
`AutoModelForCausalLM` and vLLM read the result like any other model.
"""

from __future__ import annotations

import logging
from pathlib import Path

from deepmath.config import ConfigError
from deepmath.distributed import barrier, is_main_process

__all__ = ["check_peft_mapping", "lora_config", "quantization_kwargs", "save_adapter_and_merged"]

logger = logging.getLogger(__name__)

_FIXED = {"task_type", "peft_type", "base_model_name_or_path", "revision", "inference_mode"}


def check_peft_mapping(mapping: dict | None) -> None:
    """A clear error for a `peft:` block that is not a mapping of LoraConfig fields (or peft is missing)."""
    if mapping is None:
        return
    if not isinstance(mapping, dict):
        raise ConfigError("peft must be a mapping of peft.LoraConfig fields (r, lora_alpha, target_modules, ...)")
    try:
        import dataclasses

        from peft import LoraConfig
    except ImportError:
        raise ConfigError("peft: the peft package is not installed (pip install peft, or deepmath[train])") from None
    known = {f.name for f in dataclasses.fields(LoraConfig)} - _FIXED
    for key in mapping:
        if key not in known:
            from deepmath.config import close_matches

            raise ConfigError(f"peft: unknown LoraConfig field {key!r}{close_matches(key, sorted(known))}")


def lora_config(mapping: dict):
    """peft.LoraConfig for a causal LM from the recipe's mapping (values checked by peft itself)."""
    from peft import LoraConfig

    check_peft_mapping(mapping)
    try:
        return LoraConfig(task_type="CAUSAL_LM", **mapping)
    except (TypeError, ValueError) as err:
        raise ConfigError(f"peft: {err}") from None


def quantization_kwargs(load_in_4bit: bool) -> dict:
    """`model_init_kwargs` for QLoRA (4-bit NF4 base weights, bf16 compute); {} when not asked for."""
    if not load_in_4bit:
        return {}
    try:
        import bitsandbytes  # noqa: F401
        import torch
        from transformers import BitsAndBytesConfig
    except ImportError:
        raise ConfigError("load_in_4bit needs bitsandbytes (pip install bitsandbytes) and a CUDA GPU") from None
    if not torch.cuda.is_available():
        raise ConfigError("load_in_4bit needs a CUDA GPU (bitsandbytes 4-bit kernels); set load_in_4bit: false")
    config = BitsAndBytesConfig(
        load_in_4bit=True,
        bnb_4bit_quant_type="nf4",
        bnb_4bit_compute_dtype=torch.bfloat16,
        bnb_4bit_use_double_quant=True,
    )
    return {"quantization_config": config}


def is_peft_model(model) -> bool:
    return bool(getattr(model, "peft_config", None)) and hasattr(model, "get_base_model")


def _base_path(model) -> str:
    base = model.peft_config["default"].base_model_name_or_path
    if not base:
        raise ValueError("the adapter does not record its base model; cannot export a merged model")
    return base


def merge_adapter(base: str, adapter: str | Path, tokenizer, path: Path) -> Path:
    """Load `base` unquantised, apply the adapter, merge it into the weights and save a full model at `path`."""
    import shutil

    from peft import PeftModel
    from transformers import AutoModelForCausalLM

    model = AutoModelForCausalLM.from_pretrained(base, dtype="auto")
    merged = PeftModel.from_pretrained(model, str(adapter)).merge_and_unload()
    tmp = path.with_name(path.name + ".tmp")
    if tmp.exists():
        shutil.rmtree(tmp)
    merged.save_pretrained(str(tmp))
    tokenizer.save_pretrained(str(tmp))
    if path.exists():
        shutil.rmtree(path)
    tmp.rename(path)
    return path


def save_adapter_and_merged(trainer, tokenizer, final: Path) -> Path:
    """The adapter into `final/../adapter`, a merged full model into `final` (the main process writes both)."""
    import shutil

    adapter = final.parent / "adapter"
    tmp = adapter.with_name("adapter.tmp")
    if is_main_process() and tmp.exists():
        shutil.rmtree(tmp)
    barrier()
    trainer.save_model(str(tmp))  # a PeftModel saves its adapter only
    if is_main_process():
        tokenizer.save_pretrained(str(tmp))
        if adapter.exists():
            shutil.rmtree(adapter)
        tmp.rename(adapter)
        merge_adapter(_base_path(trainer.model), adapter, tokenizer, final)
        logger.info("LoRA: adapter -> %s, merged model -> %s", adapter, final)
    barrier()
    return final
