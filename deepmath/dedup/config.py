"""Config of `deepmath dedup` (light imports only: the CLI builds it before anything heavy loads)."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import ClassVar

from deepmath.ranges import CORPUS_RANGES, check_ranges
from deepmath.stage import CorpusStageConfig

__all__ = ["DedupConfig", "available_cores"]

_KEEP = ("first", "longest", "score")
_VERIFY = ("exact", "estimate", "none")
_SCHEMES = ("affine32", "legacy")


@dataclass
class DedupConfig(CorpusStageConfig):
    """Exact + MinHash near-duplicate removal; every LSH candidate pair is verified before anything is removed."""

    RANGES: ClassVar[dict] = CORPUS_RANGES

    input: list[str] = field(
        default_factory=list, metadata={"help": "documents: stage folders, JSONL/Parquet files, globs"}
    )
    threshold: float = field(
        default=0.8, metadata={"help": "Jaccard of word n-gram sets at or above which pages are duplicates"}
    )
    ngram: int = field(default=5, metadata={"help": "words per shingle", "range": (1, 1000)})
    num_perm: int = field(default=128, metadata={"help": "MinHash permutations", "range": (16, 4096)})
    seed: int = field(default=1, metadata={"help": "permutation seed (datasketch's `seed`)", "range": (0, 2**32 - 1)})
    scheme: str = field(
        default="affine32", metadata={"help": "datasketch permutation scheme: affine32 (2.x default) or legacy"}
    )
    bands: int = field(
        default=0, metadata={"help": "LSH bands (0: chosen with datasketch's optimiser)", "range": (0, 4096)}
    )
    rows: int = field(default=0, metadata={"help": "rows per band (0: chosen with the bands)", "range": (0, 4096)})
    false_positive_weight: float = field(
        default=0.05, metadata={"help": "optimiser weight of false candidate pairs", "range": (0.0, 1e6)}
    )
    false_negative_weight: float = field(
        default=0.95, metadata={"help": "optimiser weight of missed pairs", "range": (0.0, 1e6)}
    )
    verify: str = field(
        default="exact", metadata={"help": "candidate check: exact Jaccard, estimate (signatures) or none"}
    )
    exact: bool = field(default=True, metadata={"help": "remove exact duplicates of the normalised text first"})
    keep: str = field(default="first", metadata={"help": "which page a cluster keeps: first | longest | score"})
    score_field: str = field(default="math_score", metadata={"help": "metadata field used by --keep score"})
    write_removed: bool = field(
        default=False, metadata={"help": "also write removed pages to OUTPUT/removed (with duplicate_of)"}
    )
    splits: int = field(
        default=1,
        metadata={"help": "split the global steps by hash into this many tasks (memory per task)", "range": (1, 1024)},
    )
    text_key: str = field(default="text", metadata={"help": "text field of JSONL/Parquet inputs"})
    id_key: str = field(default="id", metadata={"help": "id field of JSONL/Parquet inputs"})
    workers: int = field(
        default=0,
        metadata={"help": "parallel tasks (0: the cores available with the local executor, as datatrove; else 1)"},
    )

    def __post_init__(self):
        if self.workers == 0:
            # every dedup task holds only its own shard (or split), so one per core is safe on one machine; on Slurm
            # and Ray `workers` caps the cluster's concurrency, where the cores of this machine mean nothing
            self.workers = available_cores() if self.executor == "local" else 1
        super().__post_init__()
        if not self.input:
            raise ValueError("dedup needs at least one input (a stage folder, files or globs)")
        if not 0.0 < self.threshold < 1.0:
            raise ValueError(f"threshold must be between 0 and 1 (exclusive), got {self.threshold}")
        if self.ngram < 1 or self.num_perm < 1 or self.splits < 1:
            raise ValueError("ngram, num_perm and splits must be at least 1")
        if (self.bands > 0) != (self.rows > 0):
            raise ValueError("give both bands and rows, or neither (then they are optimised for the threshold)")
        if self.bands * self.rows > self.num_perm:
            raise ValueError(f"bands x rows = {self.bands * self.rows} exceeds num_perm = {self.num_perm}")
        if self.keep not in _KEEP:
            raise ValueError(f"keep must be one of {list(_KEEP)}, not {self.keep!r}")
        if self.verify not in _VERIFY:
            raise ValueError(f"verify must be one of {list(_VERIFY)}, not {self.verify!r}")
        if self.scheme not in _SCHEMES:
            raise ValueError(f"scheme must be one of {list(_SCHEMES)}, not {self.scheme!r}")
        if self.keep == "score" and not self.score_field:
            raise ValueError("keep: score needs a score_field (a metadata key)")
        if self.false_positive_weight < 0 or self.false_negative_weight < 0:
            raise ValueError("LSH weights must not be negative")
        check_ranges(self)  # after the specific checks: their messages win


def available_cores() -> int:
    """The cores this process may run on (its CPU affinity, e.g. a container's or `taskset`'s share)."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # macOS and Windows have no affinity call
        return max(1, os.cpu_count() or 1)
