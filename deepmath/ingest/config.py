"""Config of `deepmath ingest` (light imports only: the CLI builds it before anything heavy loads)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import ClassVar

from deepmath.ranges import CORPUS_RANGES, check_ranges
from deepmath.stage import CorpusStageConfig

__all__ = ["IngestConfig"]


@dataclass
class IngestConfig(CorpusStageConfig):
    """WARC/WET/JSONL/Parquet in, documents with math kept as LaTeX out."""

    RANGES: ClassVar[dict] = CORPUS_RANGES

    input: list[str] = field(
        default_factory=list, metadata={"help": "WARC/WET/JSONL/Parquet files, globs, folders or URLs"}
    )
    limit: int = field(
        default=-1,
        metadata={"help": "at most this many records in all (split evenly over tasks); -1: all", "range": (-1, None)},
    )
    max_page_bytes: int = field(
        default=5_000_000, metadata={"help": "HTML payloads larger than this are skipped", "range": (1, 2**31)}
    )
    max_record_bytes: int = field(
        default=2**30,
        metadata={
            "help": "a record of a compressed WARC that inflates past this many bytes (a gzip bomb) is skipped "
            "with the rest of its file",
            "range": (1, 2**40),
        },
    )
    min_chars: int = field(
        default=1, metadata={"help": "documents with fewer extracted characters are dropped", "range": (0, 10**9)}
    )
    url_dedup: bool = field(default=True, metadata={"help": "drop later records of an already seen normalised URL"})
    strict: bool = field(default=False, metadata={"help": "fail on the first broken file instead of counting it"})
    text_key: str = field(default="text", metadata={"help": "text field of JSONL/Parquet inputs"})
    languages: list[str] = field(
        default_factory=list,
        metadata={"help": "keep only pages identified as these languages (ISO 639-1, e.g. en zh); empty: all"},
    )

    def __post_init__(self):
        super().__post_init__()
        if not self.input:
            raise ValueError("ingest needs at least one input (files, globs, folders or URLs)")
        check_ranges(self)  # after the specific checks: their messages win
