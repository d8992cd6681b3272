"""`deepmath eval` options (light imports only: this module is read by the CLI before anything heavy loads)."""

from __future__ import annotations

from dataclasses import dataclass, field

from deepmath.ranges import check_ranges

__all__ = ["EvalConfig"]


@dataclass
class EvalConfig:
    """Sample `k` completions per problem from `model`, grade them with `rewards`, report pass@1/pass@k/maj@k."""

    model: str = field(metadata={"help": "model folder (e.g. a training run's OUT/model) or hub id"})
    data: str = field(
        metadata={"help": "problems: JSONL/Parquet/folder with question + answer, or hf:owner/name:split"}
    )
    k: int = field(
        default=8, metadata={"help": "samples per problem (pass@k and maj@k use all k)", "range": (1, 4096)}
    )
    output: str = field(default="", metadata={"help": "output folder (default: MODEL/eval/<data name>)"})
    overwrite: bool = False
    max_problems: int = field(
        default=0, metadata={"help": "evaluate at most this many problems (0: all)", "range": (0, 10**9)}
    )
    temperature: float = field(
        default=0.7, metadata={"help": "sampling temperature (0: greedy, needs k=1)", "range": (0.0, 100.0)}
    )
    top_p: float = 1.0
    max_new_tokens: int = field(default=512, metadata={"help": "completion length limit", "range": (1, 10**7)})
    batch_problems: int = field(default=16, metadata={"help": "problems per generate() call", "range": (1, 10**6)})
    seed: int = 0
    prompt_template: str = field(default="{question}", metadata={"help": "user message; {question} is replaced"})
    system_prompt: str = ""
    question_field: str = ""
    answer_field: str = ""
    backend: str = field(default="transformers", metadata={"help": "transformers or vllm (GPU)"})
    grading_timeout: float = field(
        default=300.0, metadata={"help": "seconds for grading one batch of problems", "range": (1e-3, 86400.0 * 7)}
    )
    grading_workers: int = field(default=2, metadata={"help": "grading processes", "range": (1, 1024)})

    def __post_init__(self):
        if self.k < 1:
            raise ValueError(f"k must be >= 1, got {self.k}")
        if self.temperature < 0:
            raise ValueError("temperature must be >= 0")
        if self.temperature == 0 and self.k > 1:
            raise ValueError("temperature 0 is greedy decoding: all k samples would be equal; use k=1 or sample")
        if self.backend not in ("transformers", "vllm"):
            raise ValueError(f"backend must be transformers or vllm, not {self.backend!r}")
        if "{question}" not in self.prompt_template:
            raise ValueError("prompt_template must contain {question}")
        if self.batch_problems < 1 or self.max_new_tokens < 1 or self.grading_workers < 1:
            raise ValueError("batch_problems, max_new_tokens and grading_workers must be >= 1")
        check_ranges(self)  # after the specific checks: their messages win
