"""`deepmath train prm` recipe: transformers' TrainingArguments plus labels, backbone and held-out fields."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import ClassVar

from transformers import TrainingArguments

from deepmath.ranges import check_ranges

__all__ = ["PRMRecipe"]

_RANGES = {
    "max_steps": (-1, 10**9),
    "learning_rate": (0.0, 10.0),
    "num_train_epochs": (0.0, 1e6),
    "per_device_train_batch_size": (1, 10**6),
    "gradient_accumulation_steps": (1, 10**6),
}


@dataclass
class PRMRecipe(TrainingArguments):
    """A process reward model: a causal LM backbone with a scalar head read at every step separator."""

    output: str = field(default="", metadata={"help": "output folder (sets output_dir)"})
    overwrite: bool = field(default=False, metadata={"help": "delete a previous run in the output folder first"})
    labels: list[str] = field(
        default_factory=list, metadata={"help": "label-steps output folders (their data/labels-*.jsonl)"}
    )
    model: str = field(default="tiny", metadata={"help": "backbone: a causal LM folder or hub id; 'tiny' builds one"})
    label_type: str = field(default="hard", metadata={"help": "train on hard (any correct) or soft (fraction) labels"})
    marker: str = field(default="\n", metadata={"help": "step separator appended after every step"})
    held_out: float = field(
        default=0.2,
        metadata={"help": "share of labelled solutions held out for step accuracy/F1", "range": (0.0, 0.9)},
    )
    max_length: int = field(default=256, metadata={"help": "tokens per example (longer: cut)", "range": (8, 10**6)})
    prompt_template: str = field(default="{question}", metadata={"help": "user message; {question} is replaced"})
    system_prompt: str = ""
    torch_threads: int = field(default=1, metadata={"help": "torch intra-op threads (0: torch default)"})
    tiny_hidden_size: int = field(default=64, metadata={"help": "tiny backbone width", "range": (8, 65536)})
    tiny_layers: int = field(default=2, metadata={"help": "tiny backbone depth", "range": (1, 1024)})
    tiny_heads: int = field(default=2, metadata={"help": "tiny backbone heads", "range": (1, 1024)})
    tiny_vocab_size: int = field(default=400, metadata={"help": "tiny tokenizer vocabulary", "range": (64, 10**7)})
    tiny_seed: int = 0
    learning_rate: float | str = field(default=1e-3, metadata={"help": "AdamW learning rate"})
    report_to: str | list[str] | None = field(default="none", metadata={"help": "logging integrations"})
    use_cpu: bool = field(default=False, metadata={"help": "train on CPU even where a GPU exists"})

    RANGES: ClassVar[dict] = _RANGES

    def __post_init__(self):
        if isinstance(self.learning_rate, str):
            try:
                self.learning_rate = float(self.learning_rate)
            except ValueError:
                raise ValueError(f"learning_rate must be a number, got {self.learning_rate!r}") from None
        check_ranges(self)
        if self.label_type not in ("hard", "soft"):
            raise ValueError(f"label_type must be hard or soft, not {self.label_type!r}")
        if not self.labels:
            raise ValueError("labels is required: one or more label-steps output folders")
        if isinstance(self.labels, str):
            self.labels = [self.labels]
        if not self.marker:
            raise ValueError("marker must not be empty")
        if self.output:
            self.output_dir = self.output
        self.remove_unused_columns = False
        super().__post_init__()
