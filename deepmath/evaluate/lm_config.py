"""`deepmath eval-lm` options (light imports only: this module is read by the CLI before anything heavy loads)."""

from __future__ import annotations

from dataclasses import dataclass, field

__all__ = ["EvalLMConfig"]


@dataclass
class EvalLMConfig:
    """Bits per byte of a causal LM on held-out benchmark texts (problem + solution of each test item)."""

    model: str = field(metadata={"help": "model folder (e.g. a pretraining run's OUT/model) or hub id"})
    benchmarks: list[str] = field(
        default_factory=lambda: ["gsm8k", "math"],
        metadata={"help": "benchmark names (gsm8k, math, ...) or files (PATH[:field1+field2])"},
    )
    output: str = field(default="", metadata={"help": "output folder (default: MODEL/eval-lm)"})
    overwrite: bool = False
    max_items: int = field(default=0, metadata={"help": "score at most this many items per benchmark (0: all)"})
    seed: int = field(default=0, metadata={"help": "seed of the item sample when max_items is set"})
    max_length: int = field(default=1024, metadata={"help": "window length (capped by the model's positions)"})
    batch_size: int = field(default=16, metadata={"help": "windows per forward pass"})
    torch_threads: int = field(default=0, metadata={"help": "CPU threads for torch (0: torch's default)"})

    def __post_init__(self):
        if not self.benchmarks:
            raise ValueError("benchmarks is empty: name at least one (e.g. gsm8k,math)")
        if self.max_items < 0 or self.torch_threads < 0:
            raise ValueError("max_items and torch_threads must be >= 0")
        if self.max_length < 2 or self.batch_size < 1:
            raise ValueError("max_length must be >= 2 and batch_size >= 1")
