"""Config of `deepmath sft-mix RECIPE.yaml --output DIR` (light imports only: the CLI builds it before work starts).

A recipe lists sources (each a file, folder, glob or `hf:owner/name:split`, in one of three formats) and the
benchmarks to decontaminate against:

    data_root: ../shared/data            # optional: relative source/benchmark paths are taken from here
    system_prompt: ""                    # optional system turn added to every conversation
    benchmarks: [benchmarks/gsm8k/test.jsonl, math]
    sources:
      - name: gsm8k_train
        path: benchmarks/gsm8k/train.jsonl
        format: cot                      # cot | pot | tir
        fields: {question: question, solution: answer}
        weight: 1.0                      # or max_samples: N
      - name: pot_gsm8k
        path: pot/program_of_thoughts/gsm8K_s0_e-1_11_17_10_20.jsonl
        format: pot
        fields: {question: question, program: generated.0, answer: answer}

`fields` maps a role to a dotted path into the row (list indices allowed, negative ones too: `messages.-1.content`).
Roles: question, solution, program, messages, answer, id. Which roles a format needs is checked here, so a broken
recipe fails before any row is read, with the key named.
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass, field
from typing import Literal

from deepmath.ranges import check_ranges

__all__ = ["FIELD_ROLES", "FORMATS", "SftMixConfig", "SourceConfig"]

FORMATS = ("cot", "pot", "tir")
FIELD_ROLES = ("question", "solution", "program", "messages", "answer", "id")
_NAME = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.-]*$")  # used in file names of checkpoints


def _did_you_mean(name: str, options) -> str:
    matches = difflib.get_close_matches(name, list(options), n=3, cutoff=0.6)
    return f" (did you mean: {', '.join(matches)}?)" if matches else ""


@dataclass
class SourceConfig:
    """One input of the mix: where it is, which format it is in and which row fields play which role."""

    name: str
    path: str
    format: Literal["cot", "pot", "tir"]
    fields: dict[str, str] = field(default_factory=dict)
    weight: float = 1.0  # multiplier on the rows that pass the filters: 0.5 keeps half, 2.0 repeats each row twice
    max_samples: int = -1  # cap on this source's rows after weighting; -1: no cap
    limit: int = -1  # read only the first N rows (quick trials); -1: all
    language: str = ""  # "" detects zh/en per row from the share of CJK characters

    def __post_init__(self):
        if not _NAME.match(self.name):
            raise ValueError(f"name: {self.name!r} must be letters, digits, '_', '-' or '.' (not first)")
        if not self.path:
            raise ValueError(f"source '{self.name}': path is empty")
        for role, path in self.fields.items():
            if role not in FIELD_ROLES:
                raise ValueError(
                    f"source '{self.name}': fields: unknown role '{role}'{_did_you_mean(role, FIELD_ROLES)};"
                    f" roles: {', '.join(FIELD_ROLES)}"
                )
            if (
                not isinstance(path, str)
                or not path.strip()
                or ".." in path
                or path.startswith(".")
                or path.endswith(".")
            ):
                raise ValueError(
                    f"source '{self.name}': fields.{role}: {path!r} is not a dotted path like 'generated.0'"
                )
        roles = set(self.fields)
        if "question" not in roles and "messages" not in roles:
            raise ValueError(f"source '{self.name}': fields needs 'question' (or 'messages' with a user turn)")
        if self.format == "pot" and "program" not in roles:
            raise ValueError(f"source '{self.name}': fields.program is required for format pot")
        if self.format == "pot" and not roles & {"answer", "solution"}:
            raise ValueError(f"source '{self.name}': format pot needs fields.answer (the gold) to check programs")
        if self.format in ("cot", "tir") and not roles & {"solution", "messages"}:
            raise ValueError(f"source '{self.name}': fields needs 'solution' or 'messages' for format {self.format}")
        if self.weight < 0:
            raise ValueError(f"source '{self.name}': weight must be >= 0, not {self.weight}")
        if self.max_samples < -1:
            raise ValueError(f"source '{self.name}': max_samples must be -1 (no cap) or >= 0")
        if self.language not in ("", "en", "zh"):
            raise ValueError(f"source '{self.name}': language must be '', 'en' or 'zh', not {self.language!r}")


@dataclass
class SftMixConfig:
    """Verified, decontaminated, deduplicated and weighted chat data from CoT, PoT and tool-integrated sources."""

    output: str = field(default="", metadata={"help": "output folder (data/, hf/, stats.json, README.md)"})
    overwrite: bool = field(default=False, metadata={"help": "delete and rebuild an existing output"})
    sources: list[SourceConfig] = field(
        default_factory=list, metadata={"help": "the sources of the mix (set them in the recipe YAML)"}
    )
    benchmarks: list[str] = field(
        default_factory=list, metadata={"help": "benchmark names or files to decontaminate against"}
    )
    data_root: str = field(default="", metadata={"help": "folder that relative source and benchmark paths start from"})
    system_prompt: str = field(default="", metadata={"help": "system turn added to every conversation ('' : none)"})
    seed: int = field(
        default=0, metadata={"help": "seed for weighting/sampling and the output order", "range": (0, 2**32 - 1)}
    )
    decontam_ngram: int = field(
        default=10, metadata={"help": "n-gram length of the contamination rule", "range": (2, 64)}
    )
    dedup: bool = field(default=True, metadata={"help": "drop exact and near duplicate conversations"})
    dedup_threshold: float = field(
        default=0.8, metadata={"help": "Jaccard threshold of near-duplicate conversations", "range": (0.0, 1.0)}
    )
    workers: int = field(
        default=2, metadata={"help": "programs run in parallel (one process each)", "range": (1, 1024)}
    )
    program_timeout: float = field(
        default=10.0, metadata={"help": "wall-clock seconds per program", "range": (1e-3, 86400.0)}
    )
    program_cpu_seconds: int = field(default=5, metadata={"help": "CPU seconds per program", "range": (1, 86400)})
    program_memory_mb: int = field(
        default=1024, metadata={"help": "address-space limit per program (MB)", "range": (64, 2**20)}
    )
    program_require_isolation: bool = field(
        default=False,
        metadata={"help": "refuse to run programs without the bubblewrap sandbox (also DEEPMATH_SANDBOX_REQUIRE=1)"},
    )
    rows_per_shard: int = field(
        default=100_000, metadata={"help": "rows per Parquet shard of data/", "range": (1, 10**8)}
    )

    def __post_init__(self):
        if not self.sources:
            raise ValueError("sources: at least one source is required")
        names = [s.name for s in self.sources]
        repeated = sorted({n for n in names if names.count(n) > 1})
        if repeated:
            raise ValueError(f"sources: names must be unique; repeated: {', '.join(repeated)}")
        if not 0.0 < self.dedup_threshold <= 1.0:
            raise ValueError(f"dedup_threshold must be in (0, 1], not {self.dedup_threshold}")
        if self.decontam_ngram < 1:
            raise ValueError("decontam_ngram must be at least 1")
        if self.workers < 1:
            raise ValueError("workers must be at least 1")
        if self.program_timeout <= 0 or self.program_cpu_seconds < 1 or self.program_memory_mb < 64:
            raise ValueError("program limits: timeout > 0, cpu_seconds >= 1 and memory_mb >= 64 are required")
        if self.rows_per_shard < 1:
            raise ValueError("rows_per_shard must be at least 1")
        check_ranges(self)  # after the specific checks: their messages win
