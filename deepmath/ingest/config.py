"""Config of `deepmath ingest` (light imports only: the CLI builds it before anything heavy loads)."""

from __future__ import annotations

from dataclasses import dataclass, field

from deepmath.stage import CorpusStageConfig

__all__ = ["IngestConfig"]


@dataclass
class IngestConfig(CorpusStageConfig):
    """WARC/WET/JSONL/Parquet in, documents with math kept as LaTeX out."""

    input: list[str] = field(
        default_factory=list, metadata={"help": "WARC/WET/JSONL/Parquet files, globs, folders or URLs"}
    )
    limit: int = field(
        default=-1, metadata={"help": "at most this many records in all (split evenly over tasks); -1: all"}
    )
    max_page_bytes: int = field(default=5_000_000, metadata={"help": "HTML payloads larger than this are skipped"})
    min_chars: int = field(default=1, metadata={"help": "documents with fewer extracted characters are dropped"})
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
