"""Recipes of the paradigm's other methods (DeepSeekMath 5.2.1): RFT, Online RFT and DPO beside GRPO.

    deepmath train rft        pipelines/rft_tiny.yaml        --output runs/rft         # RFTRecipe (SFTConfig)
    deepmath train online-rft pipelines/online_rft_tiny.yaml --output runs/online_rft  # OnlineRFTRecipe (GRPOConfig)
    deepmath train dpo        pipelines/dpo_tiny.yaml        --output runs/dpo         # DPORecipe (DPOConfig)

Each recipe is the TRL config of the trainer it runs plus the fields the GRPO recipe has (model, data,
decontamination, evaluation before/after and every `eval_every` steps, the reward pool, the tiny path, an optional
`sft:` first), so that one YAML block changes only the method. The offline methods (RFT, DPO) add how their samples
are drawn from the starting policy: `sample_k` completions for each of `sample_questions` training questions, the
same count of policy samples a GRPO run of `max_steps / num_iterations` rollouts x `generation_batch_size` draws.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from trl import DPOConfig, SFTConfig

from deepmath.train.config import GRPORecipe, _number, _RecipeFields

__all__ = ["DPORecipe", "OnlineRFTRecipe", "RFTRecipe"]


@dataclass
class _SampledFields:
    """What the offline methods share with GRPO's stage (reward pool, `sft:`) and how they sample the policy."""

    reward_timeout: float = field(
        default=60.0, metadata={"help": "seconds one grading batch may take; samples not graded by then are dropped"}
    )
    reward_workers: int = field(default=2, metadata={"help": "grading processes"})
    sft: dict | None = field(
        default=None,
        metadata={"help": "run a short SFT first (a mapping of SFTRecipe fields); its model becomes the policy"},
    )
    sample_k: int = field(default=8, metadata={"help": "completions sampled per training question"})
    sample_questions: int = field(default=0, metadata={"help": "training questions sampled (0: all)"})
    sample_temperature: float = field(default=1.0, metadata={"help": "sampling temperature of the policy samples"})
    sample_top_p: float = field(default=1.0, metadata={"help": "nucleus sampling of the policy samples"})
    sample_max_new_tokens: int = field(default=512, metadata={"help": "completion length of the policy samples"})
    sample_batch_problems: int = field(default=16, metadata={"help": "questions per generate() call"})

    def _check_sampling(self) -> None:
        if self.sample_k < 1:
            raise ValueError("sample_k must be >= 1")
        if self.sample_questions < 0:
            raise ValueError("sample_questions must be >= 0")
        if self.sample_temperature <= 0:
            raise ValueError("sample_temperature must be > 0 (the samples must differ)")
        if self.sample_max_new_tokens < 1 or self.sample_batch_problems < 1:
            raise ValueError("sample_max_new_tokens and sample_batch_problems must be >= 1")
        if self.reward_timeout <= 0:
            raise ValueError("reward_timeout must be > 0 seconds")
        if self.reward_workers < 1:
            raise ValueError("reward_workers must be >= 1")
        if self.sft is not None and not isinstance(self.sft, dict):
            raise ValueError("sft must be a mapping of SFT recipe fields")


@dataclass
class RFTRecipe(_RecipeFields, _SampledFields, SFTConfig):
    """`deepmath train rft`: sample the SFT model, keep its correct and distinct answers, fine-tune on them."""

    bf16: bool | None = field(default=None, metadata={"help": "bf16 mixed precision (default: where supported)"})
    gradient_checkpointing: bool | None = field(default=None, metadata={"help": "alias of activation_checkpointing"})
    learning_rate: float | str = field(
        default=SFTConfig.__dataclass_fields__["learning_rate"].default, metadata={"help": "AdamW learning rate"}
    )
    rft_dedup: bool = field(
        default=True, metadata={"help": "keep one copy of identical correct completions of a question"}
    )

    def __post_init__(self):
        self.learning_rate = _number(self.learning_rate, "learning_rate")
        self._check_ours()
        self._check_sampling()
        self._resolve_trl_defaults()
        super().__post_init__()


@dataclass
class OnlineRFTRecipe(GRPORecipe):
    """`deepmath train online-rft`: GRPOTrainer's sampling and loss with gradient coefficient I(o) (1 or 0).

    The paper's Online RFT has no KL term (5.2.1), so `beta` defaults to 0; the loss normaliser is TRL's
    `loss_type: grpo` (1/|o| per completion, mean over the batch), under which a correct sample's gradient is
    SFT's on that sample divided by the number of completions in the batch."""

    beta: float = field(default=0.0, metadata={"help": "KL coefficient (the paper's Online RFT: 0)"})
    loss_type: str = field(default="grpo", metadata={"help": "TRL loss normaliser (grpo: 1/|o| per completion)"})
    reward_funcs: list[str] = field(
        default_factory=lambda: ["math_accuracy"],
        metadata={"help": "rewards by name; `correct_reward` among them decides I(o)"},
    )
    correct_reward: str = field(
        default="math_accuracy", metadata={"help": "the reward whose value >= 0.5 marks a completion correct"}
    )

    def __post_init__(self):
        if self.correct_reward not in self.reward_funcs:
            raise ValueError(f"correct_reward {self.correct_reward!r} is not in reward_funcs {self.reward_funcs}")
        super().__post_init__()


@dataclass
class DPORecipe(_RecipeFields, _SampledFields, DPOConfig):
    """`deepmath train dpo`: (correct, wrong) pairs from the policy's own samples, trained with TRL's DPOTrainer."""

    bf16: bool | None = field(default=None, metadata={"help": "bf16 mixed precision (default: where supported)"})
    gradient_checkpointing: bool | None = field(default=None, metadata={"help": "alias of activation_checkpointing"})
    learning_rate: float | str = field(
        default=DPOConfig.__dataclass_fields__["learning_rate"].default, metadata={"help": "AdamW learning rate"}
    )
    dpo_pairs_per_question: int = field(
        default=4, metadata={"help": "at most this many (correct, wrong) pairs per question"}
    )

    def __post_init__(self):
        self.learning_rate = _number(self.learning_rate, "learning_rate")
        self._check_ours()
        self._check_sampling()
        if self.dpo_pairs_per_question < 1:
            raise ValueError("dpo_pairs_per_question must be >= 1")
        self._resolve_trl_defaults()
        super().__post_init__()
