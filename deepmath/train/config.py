"""Training recipes: TRL's `SFTConfig` / `GRPOConfig` plus our fields (model, data, rewards, evaluation, tiny path).

    deepmath train grpo pipelines/grpo_deepseekmath.yaml --output runs/grpo --learning-rate 1e-6

A recipe YAML's keys are field names of these classes: every TRL/transformers training argument (`loss_type`,
`beta`, `num_generations`, `learning_rate`, ...) and the fields below. `--output DIR` sets TRL's `output_dir`.

Where we depart from TRL's defaults: `bf16` is only switched on where the hardware supports it (TRL turns it on
everywhere and then fails on CPU), activation checkpointing is off unless asked for, and `report_to` is `none`.
TRL's GRPO defaults are *not* DeepSeekMath's (`loss_type: dapo`, `beta: 0`, bias-corrected KL): the paper's settings
live in `pipelines/grpo_deepseekmath.yaml`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import ClassVar

from trl import GRPOConfig, SFTConfig

from deepmath.ranges import check_ranges

__all__ = ["TINY", "GRPORecipe", "SFTRecipe"]

# ranges of TRL/transformers fields we inherit (checked before any model is loaded)
_TRAINER_RANGES = {
    "max_steps": (-1, 10**9),
    "learning_rate": (0.0, 10.0),
    "num_train_epochs": (0.0, 1e6),
    "per_device_train_batch_size": (1, 10**6),
    "per_device_eval_batch_size": (1, 10**6),
    "gradient_accumulation_steps": (1, 10**6),
    "warmup_ratio": (0.0, 1.0),
    "weight_decay": (0.0, 1e3),
    "max_grad_norm": (0.0, 1e9),
}
_GRPO_RANGES = {
    **_TRAINER_RANGES,
    "num_generations": (1, 10**5),
    "beta": (0.0, 1e6),
    "max_completion_length": (1, 10**7),
    "temperature": (0.0, 100.0),
    "reward_timeout": (1e-3, 1e6),
    "reward_workers": (1, 1024),
}

TINY = "tiny"  # `model: tiny` builds the tiny CPU model; `dataset: tiny` generates the arithmetic task


def _bf16_supported() -> bool:
    try:
        import torch

        return bool(torch.cuda.is_available() and torch.cuda.is_bf16_supported())
    except Exception:
        return False


@dataclass
class _RecipeFields:
    """Fields shared by the SFT and GRPO recipes (ours, not TRL's)."""

    output: str = field(default="", metadata={"help": "output folder (sets TRL's output_dir)"})
    overwrite: bool = field(default=False, metadata={"help": "delete a previous run in the output folder first"})
    model: str = field(
        default="", metadata={"help": "policy: a local folder or hub id; 'tiny' builds the tiny CPU model"}
    )
    dataset: list[str] = field(
        default_factory=list,
        metadata={"help": "training data: SFT-mix folder, JSONL/Parquet, hf:owner/name:split; 'tiny' = the toy task"},
    )
    question_field: str = field(default="", metadata={"help": "question column (default: detected)"})
    answer_field: str = field(default="", metadata={"help": "gold answer column (default: detected)"})
    max_samples: int = field(
        default=0, metadata={"help": "use at most this many training rows (0: all)", "range": (0, 10**12)}
    )
    prompt_template: str = field(
        default="{question}", metadata={"help": "user message; {question} is replaced by the question"}
    )
    system_prompt: str = field(default="", metadata={"help": "optional system message"})
    decontaminate: list[str] = field(
        default_factory=list,
        metadata={"help": "benchmarks (names or files) whose n-grams remove training prompts; the eval set is added"},
    )
    decontam_ngram: int = field(
        default=10, metadata={"help": "n-gram length of the decontamination rule", "range": (2, 64)}
    )
    eval_data: str = field(
        default="", metadata={"help": "held-out problems evaluated before and after training (tiny: the test split)"}
    )
    eval_k: int = field(
        default=8, metadata={"help": "samples per evaluation problem (0: no evaluation)", "range": (0, 4096)}
    )
    eval_max_problems: int = field(
        default=0, metadata={"help": "evaluate at most this many problems (0: all)", "range": (0, 10**9)}
    )
    eval_temperature: float = field(
        default=0.7, metadata={"help": "sampling temperature of the evaluation", "range": (0.0, 100.0)}
    )
    eval_top_p: float = field(
        default=1.0, metadata={"help": "nucleus sampling of the evaluation", "range": (0.0, 1.0)}
    )
    eval_max_new_tokens: int = field(
        default=0,
        metadata={"help": "evaluation completion length (0: max_completion_length, else 512)", "range": (0, 10**7)},
    )
    eval_batch_problems: int = field(
        default=16, metadata={"help": "problems per generate() call in evaluation", "range": (1, 10**6)}
    )
    eval_max_batch_tokens: int = field(
        default=0,
        metadata={
            "help": "evaluation token budget per generate() call, (prompt + new tokens) x sequences; a problem's "
            "samples are split over calls to fit (0: eval_batch_problems x eval_k x (512 + new tokens))",
            "range": (0, 10**12),
        },
    )
    peft: dict | None = field(
        default=None,
        metadata={
            "help": "LoRA: a mapping of peft.LoraConfig fields (r, lora_alpha, target_modules, ...); adapter in "
            "OUT/adapter, merged model in OUT/model"
        },
    )
    load_in_4bit: bool = field(
        default=False, metadata={"help": "QLoRA: load the base model in 4-bit NF4 (needs bitsandbytes and a GPU)"}
    )
    eval_every: int = field(
        default=0,
        metadata={
            "help": "also evaluate every this many training steps (0: only before and after)",
            "range": (0, 10**9),
        },
    )
    torch_threads: int = field(
        default=0,
        metadata={
            "help": "CPU threads for torch (0: torch's default; 1 is fastest on a busy machine)",
            "range": (0, 4096),
        },
    )
    tiny_problems: int = field(
        default=3000, metadata={"help": "tiny task: problems generated (train + test)", "range": (2, 10**8)}
    )
    tiny_test_problems: int = field(
        default=200, metadata={"help": "tiny task: held-out test problems", "range": (0, 10**8)}
    )
    tiny_seed: int = field(default=0, metadata={"help": "tiny task and tiny model seed"})
    tiny_hidden_size: int = field(default=128, metadata={"help": "tiny model width", "range": (8, 65536)})
    tiny_layers: int = field(default=4, metadata={"help": "tiny model depth", "range": (1, 1024)})
    tiny_heads: int = field(default=4, metadata={"help": "tiny model attention heads", "range": (1, 1024)})
    tiny_vocab_size: int = field(
        default=512, metadata={"help": "tiny tokenizer: BPE vocabulary size (at most)", "range": (64, 10**7)}
    )

    def _check_ours(self) -> None:
        if "{question}" not in self.prompt_template:
            raise ValueError(f"prompt_template must contain {{question}}, got {self.prompt_template!r}")
        for name in (
            "eval_k",
            "eval_max_problems",
            "eval_every",
            "max_samples",
            "tiny_test_problems",
            "torch_threads",
            "eval_max_batch_tokens",
        ):
            if getattr(self, name) < 0:
                raise ValueError(f"{name} must be >= 0")
        if self.eval_batch_problems < 1:
            raise ValueError("eval_batch_problems must be >= 1")
        if self.tiny_test_problems >= self.tiny_problems:
            raise ValueError("tiny_test_problems must be smaller than tiny_problems")
        if self.peft is not None:
            from deepmath.train.lora import check_peft_mapping

            check_peft_mapping(self.peft)
        elif self.load_in_4bit:
            raise ValueError("load_in_4bit is QLoRA: it needs a peft: block (4-bit weights cannot be fully trained)")

    def _resolve_trl_defaults(self) -> None:
        if self.output:
            self.output_dir = self.output
        if self.bf16 is None and not self.fp16:
            self.bf16 = _bf16_supported()


def _number(value, name: str) -> float:
    """YAML 1.1 (PyYAML) reads `1e-6` as a string: accept it here, so `--learning-rate 1e-6` works too."""
    if isinstance(value, str):
        try:
            return float(value)
        except ValueError:
            raise ValueError(f"{name} must be a number, got {value!r}") from None
    return value


def _check_reward_names(names: list[str]) -> None:
    import rewards

    if not names:
        raise ValueError("reward_funcs is empty; name at least one reward (e.g. math_accuracy)")
    known = rewards.available()
    for name in names:
        if ":" not in name and name not in known:
            from deepmath.config import close_matches

            raise ValueError(f"unknown reward {name!r}{close_matches(name, known)}; known: {', '.join(known)}")


@dataclass
class SFTRecipe(_RecipeFields, SFTConfig):
    """`deepmath train sft`: TRL's SFTConfig plus model, data, evaluation and tiny-path fields."""

    bf16: bool | None = field(default=None, metadata={"help": "bf16 mixed precision (default: where supported)"})
    gradient_checkpointing: bool | None = field(default=None, metadata={"help": "alias of activation_checkpointing"})
    learning_rate: float | str = field(
        default=SFTConfig.__dataclass_fields__["learning_rate"].default, metadata={"help": "AdamW learning rate"}
    )

    RANGES: ClassVar[dict] = _TRAINER_RANGES

    def __post_init__(self):
        self.learning_rate = _number(self.learning_rate, "learning_rate")
        check_ranges(self)
        self._check_ours()
        self._resolve_trl_defaults()
        super().__post_init__()


@dataclass
class GRPORecipe(_RecipeFields, GRPOConfig):
    """`deepmath train grpo`: TRL's GRPOConfig plus model, data, rewards, evaluation and an optional SFT first."""

    bf16: bool | None = field(default=None, metadata={"help": "bf16 mixed precision (default: where supported)"})
    gradient_checkpointing: bool | None = field(default=None, metadata={"help": "alias of activation_checkpointing"})
    learning_rate: float | str = field(
        default=GRPOConfig.__dataclass_fields__["learning_rate"].default, metadata={"help": "AdamW learning rate"}
    )
    reward_funcs: list[str] = field(
        default_factory=lambda: ["math_accuracy", "boxed_format"],
        metadata={"help": "rewards by name (rewards.available()) or module:function; weights in reward_weights"},
    )
    reward_timeout: float = field(
        default=60.0,
        metadata={"help": "seconds one reward batch may take; samples not graded by then get reward_timeout_value"},
    )
    reward_timeout_value: float | None = field(
        default=None,
        metadata={"help": "reward of a sample not graded in time: null = masked by TRL (counted); 0.0 = the old rule"},
    )
    reward_workers: int = field(default=2, metadata={"help": "reward grading processes"})
    sft: dict | None = field(
        default=None,
        metadata={"help": "run a short SFT first (a mapping of SFTRecipe fields); its model becomes the policy"},
    )
    supervision: str = field(
        default="outcome",
        metadata={
            "help": "outcome (TRL's GRPO on reward_funcs), process (step rewards from `prm`, DeepSeekMath 4.1.3) "
            "or outcome_prm (the PRM's score of an output's last step is its reward; reward_funcs are logged)"
        },
    )
    prm: str = field(default="", metadata={"help": "supervision process/outcome_prm: a `deepmath train prm` folder"})
    step_marker: str = field(default="\n", metadata={"help": "supervision: process: step separator in outputs"})

    RANGES: ClassVar[dict] = _GRPO_RANGES

    def __post_init__(self):
        self.learning_rate = _number(self.learning_rate, "learning_rate")
        check_ranges(self)
        self._check_ours()
        _check_reward_names(self.reward_funcs)
        if self.reward_timeout <= 0:
            raise ValueError("reward_timeout must be > 0 seconds")
        if self.supervision == "outcome_prm" and self.reward_weights is None:
            # the PRM's outcome reward comes first and is the only one trained on; the rule rewards are logged
            self.reward_weights = [1.0] + [0.0] * len(self.reward_funcs)
        functions = len(self.reward_funcs) + (1 if self.supervision == "outcome_prm" else 0)
        if self.reward_weights is not None and len(self.reward_weights) != functions:
            raise ValueError(
                f"reward_weights has {len(self.reward_weights)} values for {functions} reward functions"
                + (" (the PRM's outcome reward first, then reward_funcs)" if self.supervision == "outcome_prm" else "")
            )
        if self.reward_workers < 1:
            raise ValueError("reward_workers must be >= 1")
        if self.sft is not None and not isinstance(self.sft, dict):
            raise ValueError("sft must be a mapping of SFT recipe fields")
        if self.supervision not in ("outcome", "process", "outcome_prm"):
            raise ValueError(f"supervision must be outcome, process or outcome_prm, not {self.supervision!r}")
        if self.supervision != "outcome" and not self.prm:
            raise ValueError(f"supervision: {self.supervision} needs prm: a `deepmath train prm` model folder")
        self._resolve_trl_defaults()
        super().__post_init__()
