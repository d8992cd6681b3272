"""`deepmath eval` options (light imports only: this module is read by the CLI before anything heavy loads)."""

from __future__ import annotations

from dataclasses import dataclass, field

from deepmath.ranges import check_ranges

__all__ = ["EvalConfig"]


@dataclass
class EvalConfig:
    """Sample `k` completions per problem from `model`, grade them with `rewards`, report pass@1/pass@k/maj@k.

    Three forms: `--model M --data PATH` (one problem file), `--model M --benchmarks a,b` (registry benchmarks with
    greedy and sampled runs, paper-style prompts) and `--completions FILE` (regrade outputs made elsewhere).
    """

    model: str = field(default="", metadata={"help": "model folder (e.g. a training run's OUT/model) or hub id"})
    data: str = field(
        default="", metadata={"help": "problems: JSONL/Parquet/folder with question + answer, or hf:owner/name:split"}
    )
    benchmarks: str = field(
        default="", metadata={"help": "registry benchmarks or groups, comma-separated (gsm8k,math500,cmath,mgsm_zh)"}
    )
    mode: str = field(default="chat", metadata={"help": "--benchmarks prompt mode: chat, fewshot, pot or tir"})
    shots: int = field(default=-1, metadata={"help": "few-shot exemplars (-1: the benchmark's default)"})
    fewshot_file: str = field(default="", metadata={"help": "exemplars file (question, answer/solution[, program])"})
    max_tool_calls: int = field(default=4, metadata={"help": "tir: programs run per completion at most"})
    sandbox_timeout: float = field(default=10.0, metadata={"help": "pot/tir: seconds per program"})
    max_batch_tokens: int = field(
        default=16384, metadata={"help": "transformers backend: (prompt + new tokens) x sequences per generate call"}
    )
    completions: str = field(
        default="", metadata={"help": "score these saved completions (JSONL/Parquet) instead of generating"}
    )
    completion_field: str = field(
        default="", metadata={"help": "--completions: field(s) holding the completions (comma: one per field)"}
    )
    label_field: str = field(
        default="", metadata={"help": "--completions: field(s) with another grader's verdicts, to compare"}
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
        if self.completions:
            if self.model or self.data:
                raise ValueError("--completions scores saved outputs: give it without --model/--data")
        elif not self.model:
            raise ValueError("--model is required (or --completions FILE to score saved outputs)")
        elif bool(self.data) == bool(self.benchmarks):
            raise ValueError("give --data PATH or --benchmarks NAMES with --model (one of them)")
        if self.mode not in ("chat", "fewshot", "pot", "tir"):
            raise ValueError(f"mode must be chat, fewshot, pot or tir, not {self.mode!r}")
        if self.mode != "chat" and not self.benchmarks:
            raise ValueError("--mode fewshot/pot/tir works with --benchmarks")
        if self.max_tool_calls < 0 or self.sandbox_timeout <= 0 or self.max_batch_tokens < 1:
            raise ValueError("max_tool_calls must be >= 0, sandbox_timeout > 0 and max_batch_tokens >= 1")
        if self.k < 1:
            raise ValueError(f"k must be >= 1, got {self.k}")
        if self.temperature < 0:
            raise ValueError("temperature must be >= 0")
        if self.temperature == 0 and self.k > 1 and not self.benchmarks:
            raise ValueError("temperature 0 is greedy decoding: all k samples would be equal; use k=1 or sample")
        if self.backend not in ("transformers", "vllm"):
            raise ValueError(f"backend must be transformers or vllm, not {self.backend!r}")
        if "{question}" not in self.prompt_template:
            raise ValueError("prompt_template must contain {question}")
        if self.batch_problems < 1 or self.max_new_tokens < 1 or self.grading_workers < 1:
            raise ValueError("batch_problems, max_new_tokens and grading_workers must be >= 1")
        check_ranges(self)  # after the specific checks: their messages win
