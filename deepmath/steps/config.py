"""`deepmath label-steps` options (light imports only: read by the CLI before anything heavy loads)."""

from __future__ import annotations

from dataclasses import dataclass, field

from deepmath.ranges import check_ranges

__all__ = ["LabelStepsConfig"]


@dataclass
class LabelStepsConfig:
    """Math-Shepherd labels: roll out `rollouts` completions from every step prefix of each solution and grade them.

    `input` is a JSONL/Parquet file of solutions (question, answer, solution; optional `gold_steps` with the true
    per-step verdicts), or `tiny` to generate the multi-step tiny task with a share of corrupted solutions.
    `completer` is a model folder (transformers generation) or `module:function` returning a generator object.
    """

    input: str = field(default="", metadata={"help": "solutions file (question, answer, solution) or 'tiny'"})
    completer: str = field(default="", metadata={"help": "completer model folder, or module:factory(cfg)"})
    output: str = field(default="", metadata={"help": "output folder"})
    overwrite: bool = False
    rollouts: int = field(default=8, metadata={"help": "completions per step prefix (N)", "range": (1, 4096)})
    marker: str = field(default="\n", metadata={"help": "step separator in solutions ('\\n': one step per line)"})
    temperature: float = field(default=0.7, metadata={"help": "completer sampling temperature", "range": (0.0, 100.0)})
    top_p: float = 1.0
    max_new_tokens: int = field(default=64, metadata={"help": "rollout length limit", "range": (1, 10**7)})
    batch_solutions: int = field(
        default=32, metadata={"help": "solutions per shard (a re-run skips finished shards)", "range": (1, 10**7)}
    )
    max_batch_tokens: int = field(default=16384, metadata={"help": "transformers: tokens per generate call"})
    reward: str = field(default="math_accuracy", metadata={"help": "reward (rewards registry name) grading rollouts"})
    prompt_template: str = field(default="{question}", metadata={"help": "user message; {question} is replaced"})
    system_prompt: str = ""
    max_solutions: int = field(default=0, metadata={"help": "label at most this many (0: all)", "range": (0, 10**9)})
    seed: int = 0
    tiny_problems: int = field(default=200, metadata={"help": "input: tiny: problems", "range": (1, 10**7)})
    tiny_corrupt: float = field(
        default=0.5, metadata={"help": "input: tiny: share of solutions with one wrong step", "range": (0.0, 1.0)}
    )
    tiny_seed: int = 0
    torch_threads: int = field(default=1, metadata={"help": "torch intra-op threads (0: torch default)"})

    def __post_init__(self):
        check_ranges(self)
        if not self.input:
            raise ValueError("input is required: a solutions file or 'tiny'")
        if not self.completer:
            raise ValueError("completer is required: a model folder or module:factory")
        if not self.marker:
            raise ValueError("marker must not be empty")
        if "{question}" not in self.prompt_template:
            raise ValueError("prompt_template must contain {question}")
