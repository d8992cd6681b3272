"""Config of `deepmath decontam` (light imports only: the CLI builds it before anything heavy loads)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import ClassVar

from deepmath.ranges import CORPUS_RANGES, check_ranges
from deepmath.stage import CorpusStageConfig

__all__ = ["DecontamConfig"]


@dataclass
class DecontamConfig(CorpusStageConfig):
    """Documents in; documents without benchmark contamination out, plus `contamination.json` / `.md`."""

    RANGES: ClassVar[dict] = CORPUS_RANGES

    input: list[str] = field(
        default_factory=list, metadata={"help": "documents: stage folders, JSONL/Parquet files, globs"}
    )
    benchmarks: list[str] = field(
        default_factory=lambda: ["standard"],
        metadata={
            "help": "comma-separated names (gsm8k, math, ...), groups (deepseekmath, standard, all) or "
            "JSONL/Parquet paths, optionally PATH:field1+field2; names load from the Hub, else from "
            "$DEEPMATH_BENCHMARKS_DIR (default ../shared/data/benchmarks)"
        },
    )
    mode: str = field(default="drop", metadata={"help": "drop: remove the document; segment: remove the paragraph"})
    ngram: int = field(default=10, metadata={"help": "n-gram length of the rule", "range": (2, 64)})
    min_tokens: int = field(
        default=3, metadata={"help": "benchmark texts with fewer tokens are ignored", "range": (1, 255)}
    )
    whole_max: int = field(
        default=20, metadata={"help": "benchmark texts up to this many tokens also match whole", "range": (1, 255)}
    )
    precise: bool = field(
        default=True, metadata={"help": "generic n-grams are no evidence alone (--no-precise: literal)"}
    )
    common_items: int = field(
        default=4, metadata={"help": "an n-gram in more distinct benchmark items is generic", "range": (1, 10**9)}
    )
    min_run: int = field(
        default=3, metadata={"help": "consecutive generic n-grams of one item that count as a hit", "range": (1, 1000)}
    )
    common_docs: int = field(
        default=5,
        metadata={
            "help": "an n-gram that alone would flag this many documents of the input is a phrase of the corpus "
            "(a template, a textbook sentence) and counts only inside a longer overlap; 0: off",
            "range": (0, 10**9),
        },
    )
    cache_dir: str = field(
        default="", metadata={"help": "where the benchmark index is cached (default OUTPUT/_index)"}
    )
    benchmarks_source: str = field(default="auto", metadata={"help": "auto (Hub, else local files), hf or local"})
    text_key: str = field(default="text", metadata={"help": "text field of JSONL/Parquet inputs"})
    keep_removed: bool = field(default=True, metadata={"help": "write dropped documents to OUTPUT/removed/"})
    report_hits: int = field(
        default=50, metadata={"help": "hits listed per benchmark in contamination.md", "range": (0, 10**6)}
    )

    def __post_init__(self):
        super().__post_init__()
        if not self.input:
            raise ValueError("decontam needs at least one input (a stage folder, files or globs)")
        if not self.benchmarks:
            raise ValueError("decontam needs at least one benchmark (--benchmarks gsm8k,math)")
        if self.mode not in ("drop", "segment"):
            raise ValueError(f"mode must be drop or segment, not {self.mode!r}")
        if self.benchmarks_source not in ("auto", "hf", "local"):
            raise ValueError(f"benchmarks_source must be auto, hf or local, not {self.benchmarks_source!r}")
        if self.report_hits < 0:
            raise ValueError("report_hits must be >= 0")
        self.rule()  # validates ngram, min_tokens, whole_max, common_items, min_run
        check_ranges(self)  # after the specific checks: their messages win

    def rule(self):
        """The `MatchRule` these fields describe."""
        from deepmath.decontam.index import MatchRule

        return MatchRule(
            ngram=self.ngram,
            min_tokens=self.min_tokens,
            whole_max=self.whole_max,
            precise=self.precise,
            common_items=self.common_items,
            min_run=self.min_run,
        )
