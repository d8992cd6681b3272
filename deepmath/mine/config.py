"""Config of `deepmath mine` (light imports only: the CLI builds it before anything heavy loads)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import ClassVar, Literal

from deepmath.ranges import CORPUS_RANGES, check_ranges
from deepmath.stage import CorpusStageConfig

__all__ = ["MineConfig"]


@dataclass
class MineConfig(CorpusStageConfig):
    """Seeds vs pool: train, score, select by a global token budget, discover math domains, repeat."""

    RANGES: ClassVar[dict] = CORPUS_RANGES

    pool: list[str] = field(
        default_factory=list, metadata={"help": "documents to mine: `deepmath ingest` folders, JSONL/Parquet, hf: ids"}
    )
    seeds: list[str] = field(
        default_factory=list, metadata={"help": "math positives, e.g. open-web-math/open-web-math (streamed)"}
    )
    negatives: list[str] = field(
        default_factory=list,
        metadata={"help": "non-math negatives; default: sampled from the pool minus collected pages"},
    )
    text_key: str = field(default="text", metadata={"help": "text field of JSONL/Parquet/HF inputs"})
    iterations: int = field(
        default=4, metadata={"help": "at most this many iterations (the paper ran 4)", "range": (1, 1000)}
    )
    keep_tokens: int | None = field(
        default=None, metadata={"help": "keep the top-scored pages up to this many tokens"}
    )
    keep_fraction: float | None = field(
        default=None, metadata={"help": "keep the top-scored pages up to this fraction of the pool's tokens"}
    )
    threshold: float | None = field(default=None, metadata={"help": "keep pages with math score >= this"})
    token_unit: Literal["tokenizer", "words"] = field(
        default="tokenizer", metadata={"help": "budget unit: tokenizer (model tokens) or words (whitespace words)"}
    )
    tokenizer: str = field(
        default="deepseek",
        metadata={"help": "deepseek (bundled, offline), a tokenizer.json path, a model folder or a Hub id"},
    )
    languages: list[str] = field(
        default_factory=list,
        metadata={"help": "only pool pages identified as these languages can be selected (e.g. en,zh); empty: all"},
    )
    language_quotas: list[str] = field(
        default_factory=list,
        metadata={
            "help": "at most this share of the kept tokens per language: LANG=SHARE, e.g. zh=0.3 (budgets only)"
        },
    )
    max_seeds: int = field(
        default=500_000,
        metadata={"help": "at most this many seed documents (the paper: 500K); -1: all", "range": (-1, 10**10)},
    )
    negatives_ratio: float = field(
        default=1.0, metadata={"help": "negatives per positive in the training set", "range": (1e-9, 1e6)}
    )
    holdout_fraction: float = field(
        default=0.1, metadata={"help": "share of positives and negatives held out for precision/recall/AUC"}
    )
    seed: int = field(default=0, metadata={"help": "random seed of sampling, splits and fastText"})
    dim: int = field(default=256, metadata={"help": "fastText vector size", "range": (1, 4096)})
    lr: float = field(default=0.1, metadata={"help": "fastText learning rate", "range": (1e-9, 100.0)})
    word_ngrams: int = field(default=3, metadata={"help": "fastText word n-gram length", "range": (1, 20)})
    min_count: int = field(default=3, metadata={"help": "fastText minimal word count", "range": (1, 10**9)})
    epoch: int = field(default=3, metadata={"help": "fastText epochs", "range": (1, 10**4)})
    bucket: int = field(
        default=2_000_000,
        metadata={"help": "fastText n-gram hash buckets (model size ~ bucket*dim*4 B)", "range": (1, 10**9)},
    )
    threads: int = field(
        default=0,
        metadata={"help": "fastText training threads; 0: all cores; at least 11 are used", "range": (0, 4096)},
    )
    small_train_size: int = field(
        default=10_000,
        metadata={
            "help": "below this many training examples: epoch>=25, min_count 1, bucket<=100K; 0: never",
            "range": (0, 10**10),
        },
    )
    batch_size: int = field(default=512, metadata={"help": "pages per fastText batch prediction", "range": (1, 10**7)})
    domain_fraction: float = field(
        default=0.10, metadata={"help": "domains with more than this share of pages collected are reviewed"}
    )
    domain_min_pages: int = field(
        default=10, metadata={"help": "domains with fewer pool pages are not reviewed", "range": (0, 10**10)}
    )
    domain_key: Literal["host", "registered"] = field(
        default="host", metadata={"help": "host: URL host without www.; registered: metadata.domain (ingest)"}
    )
    path_depth: int = field(
        default=2, metadata={"help": "URL path prefixes up to this many segments are listed", "range": (1, 64)}
    )
    max_paths: int = field(
        default=20, metadata={"help": "at most this many paths per domain in domains.yaml", "range": (1, 10**6)}
    )
    review: Literal["auto", "manual"] = field(
        default="auto", metadata={"help": "auto: accept paths by the rule; manual: stop so you edit domains.yaml"}
    )
    auto_accept_fraction: float = field(
        default=0.5, metadata={"help": "auto review: accept a path when this share of its pages was collected"}
    )
    auto_min_pages: int = field(
        default=10, metadata={"help": "auto review: ... and it has at least this many pages", "range": (0, 10**10)}
    )
    stop_overlap: float = field(
        default=0.98, metadata={"help": "stop when this share of a new selection was already selected before"}
    )

    def __post_init__(self):
        super().__post_init__()
        if not self.pool:
            raise ValueError("mine needs --pool (documents to mine)")
        if not self.seeds:
            raise ValueError("mine needs --seeds (math documents, e.g. open-web-math/open-web-math)")
        chosen = [name for name in ("keep_tokens", "keep_fraction", "threshold") if getattr(self, name) is not None]
        if len(chosen) != 1:
            raise ValueError(
                "give exactly one of keep_tokens, keep_fraction, threshold"
                + (f" (got {', '.join(chosen)})" if chosen else "")
            )
        if self.keep_tokens is not None and self.keep_tokens <= 0:
            raise ValueError("keep_tokens must be positive")
        if self.keep_fraction is not None and not 0 < self.keep_fraction <= 1:
            raise ValueError("keep_fraction must be in (0, 1]")
        if self.threshold is not None and not 0 <= self.threshold <= 1:
            raise ValueError("threshold must be in [0, 1]")
        for name in ("domain_fraction", "auto_accept_fraction", "stop_overlap"):
            if not 0 < getattr(self, name) <= 1:
                raise ValueError(f"{name} must be in (0, 1]")
        for language, share in self.quotas.items():
            if not 0 <= share <= 1:
                raise ValueError(f"language_quotas: the share of {language!r} must be in [0, 1]")
        if self.language_quotas and self.threshold is not None:
            raise ValueError("language_quotas need a token budget (keep_tokens or keep_fraction), not threshold")
        if not 0 <= self.holdout_fraction < 1:
            raise ValueError("holdout_fraction must be in [0, 1)")
        if self.negatives_ratio <= 0:
            raise ValueError("negatives_ratio must be positive")
        for name in ("iterations", "dim", "word_ngrams", "min_count", "epoch", "bucket", "batch_size", "path_depth"):
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be at least 1")
        if self.lr <= 0:
            raise ValueError("lr must be positive")
        if self.max_seeds == 0 or self.max_seeds < -1:
            raise ValueError("max_seeds must be positive or -1 (all)")
        check_ranges(self)  # after the specific checks: their messages win

    @property
    def quotas(self) -> dict[str, float]:
        """`language_quotas` as {language: share}; a malformed entry is a ValueError naming it."""
        quotas = {}
        for entry in self.language_quotas:
            language, sep, share = str(entry).partition("=")
            try:
                quotas[language.strip()] = float(share)
            except ValueError:
                sep = ""
            if not sep or not language.strip():
                raise ValueError(f"language_quotas: {entry!r} is not LANG=SHARE (e.g. zh=0.3)")
        return quotas
