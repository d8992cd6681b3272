"""`deepmath train iterative-rl` options (light imports only: `deepmath validate` reads it without torch).

The nested `grpo`, `prm` and `label` mappings are the fields of the GRPO recipe, the PRM recipe and `label-steps`;
they are checked here against those stages' schemas (unknown keys, wrong kinds) and built in full when a round runs.
The fields each round sets itself (model / policy, output folders, labels, supervision) may not appear in them.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from deepmath.ranges import check_ranges

__all__ = ["ROUND_SET_FIELDS", "IterativeRLRecipe"]

# fields every round sets itself, per nested mapping
ROUND_SET_FIELDS = {
    "grpo": ("model", "output", "output_dir", "supervision", "prm", "sft", "overwrite"),
    "prm": ("labels", "output", "output_dir", "overwrite"),
    "label": ("input", "completer", "output", "overwrite"),
}


@dataclass
class IterativeRLRecipe:
    """Iterative RL (DeepSeekMath Algorithm 1) with a process reward model: `rounds` rounds, each its own folder.

    Round r: sample from the current policy (`samples`), Math-Shepherd labels with the policy as completer
    (`labels`), a replay share of the earlier rounds' labels (`replay`, from round 2), the PRM trained on both,
    continuing from the previous round's PRM (`prm`), and GRPO+PS from the current policy, which is also its
    reference model (`grpo`)."""

    output: str = field(default="", metadata={"help": "output folder (one round-N folder per round)"})
    overwrite: bool = False
    policy: str = field(default="", metadata={"help": "starting policy: a model folder (e.g. the SFT model)"})
    rounds: int = field(default=2, metadata={"help": "rounds of iterative RL", "range": (1, 1000)})
    replay_fraction: float = field(
        default=0.1,
        metadata={"help": "share of all earlier rounds' labels replayed into each PRM update", "range": (0.0, 1.0)},
    )
    initial_prm: str = field(
        default="", metadata={"help": "a PRM model folder round 1 continues from ('': round 1 trains prm.model)"}
    )
    initial_labels: list[str] = field(
        default_factory=list, metadata={"help": "label-steps folders counted as history before round 1 (replayed)"}
    )
    sample_questions: int = field(
        default=200, metadata={"help": "training questions sampled from the policy per round", "range": (1, 10**9)}
    )
    sample_k: int = field(default=1, metadata={"help": "solutions per sampled question", "range": (1, 4096)})
    sample_temperature: float = field(default=1.0, metadata={"range": (0.0, 100.0)})
    sample_top_p: float = 1.0
    sample_max_new_tokens: int = field(default=64, metadata={"range": (1, 10**7)})
    sample_batch_problems: int = field(default=50, metadata={"range": (1, 10**7)})
    seed: int = 0
    torch_threads: int = field(default=1, metadata={"help": "torch intra-op threads (0: torch default)"})
    grpo: dict = field(default_factory=dict, metadata={"help": "GRPO recipe fields (deepmath train grpo)"})
    prm: dict = field(default_factory=dict, metadata={"help": "PRM recipe fields (deepmath train prm)"})
    label: dict = field(default_factory=dict, metadata={"help": "label-steps fields (rollouts, temperature, ...)"})

    def __post_init__(self):
        check_ranges(self)
        if not self.policy:
            raise ValueError("policy is required: the starting policy model folder")
        if isinstance(self.initial_labels, str):
            self.initial_labels = [self.initial_labels]
        if not self.grpo.get("dataset"):
            raise ValueError("grpo.dataset is required: the training problems the policy is sampled on")
        for name, fields in (("grpo", self.grpo), ("prm", self.prm), ("label", self.label)):
            taken = [key for key in fields if key in ROUND_SET_FIELDS[name]]
            if taken:
                raise ValueError(f"{name}: {', '.join(taken)} are set by each round; remove them")
        self._check_nested()

    def _check_nested(self) -> None:
        from deepmath.config import from_dict
        from deepmath.schema import check_fields, schema_of
        from deepmath.steps.config import LabelStepsConfig

        for name, stage in (("grpo", "train-grpo"), ("prm", "train-prm")):
            schema = schema_of(stage)
            if schema is not None:
                check_fields(stage, getattr(self, name), schema, name)
        from_dict(LabelStepsConfig, {**self.label, "input": "check", "completer": "check"}, where="label")
