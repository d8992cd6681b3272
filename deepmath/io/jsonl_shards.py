"""A JSONL shard writer that writes the bytes datatrove's `JsonlWriter` writes, without importing datatrove's writers.

`import datatrove.pipeline.writers` runs the package's `__init__`, which imports its Hugging Face writers and with
them most of `huggingface_hub` (~0.1 s, the largest single import of a corpus command). The dedup stage writes
rows it serialised itself (`write_line`) and needs none of that, so its writer is this `PipelineStep`: the same
output folder handling (datatrove's `DataFolder` and its output file manager, so remote folders work as they do for
`JsonlWriter`), the same file names and gzip, the same JSON for a document (`document_line`; tests/io compare the
bytes with `JsonlWriter`'s). What it does not do, unlike `JsonlWriter`: media, `expand_metadata`, `max_file_size`
rotation and the Hugging Face Hub commit retries; `document_writer` gives the full writer.
"""

from __future__ import annotations

from pathlib import Path
from string import Template

import orjson
from datatrove.data import Document, DocumentsPipeline
from datatrove.io import get_datafolder
from datatrove.pipeline.base import PipelineStep

from deepmath.io.documents import JSONL_SHARD_NAME

__all__ = ["JSONL_SHARD_NAME", "JsonlShardWriter", "document_line", "json_default"]


def json_default(obj):
    """How datatrove's JsonlWriter serialises what orjson refuses (dates' subclasses, numpy scalars): its own
    function, imported on first need (a document with only JSON types never gets here)."""
    try:
        from datatrove.pipeline.writers.jsonl import _json_default
    except ImportError:  # pragma: no cover - older datatrove: orjson's own types only
        raise TypeError(f"Type is not JSON serializable: {type(obj).__name__}") from None
    return _json_default(obj)


def document_line(doc: Document) -> bytes:
    """`doc` as the JSON line `JsonlWriter` writes for a document without media: its non-empty text, id and
    metadata, in that order."""
    data = {key: value for key, value in (("text", doc.text), ("id", doc.id), ("metadata", doc.metadata)) if value}
    return orjson.dumps(data, option=orjson.OPT_APPEND_NEWLINE, default=json_default)


class JsonlShardWriter(PipelineStep):
    """Writes documents, or rows already serialised as JSON lines, to `folder/<rank>.jsonl.gz`, one file per task."""

    name = "🐿 Jsonl"
    type = "💽 - WRITER"

    def __init__(self, folder: str | Path, output_filename: str = JSONL_SHARD_NAME, compression: str = "gzip"):
        super().__init__()
        self.output_folder = get_datafolder(str(folder))
        self.output_filename = Template(output_filename)
        self.compression = compression
        self._files = None

    def _file(self, rank: int):
        if self._files is None:
            self._files = self.output_folder.get_output_file_manager(mode="wb", compression=self.compression)
        return self._files.get_file(self.output_filename.substitute({"rank": str(rank).zfill(5)}))

    def write_line(self, lines: bytes, rank: int) -> None:
        """Write one or more complete JSON lines (each ending in a newline) to this rank's file."""
        self._file(rank).write(lines)

    def write(self, doc: Document, rank: int = 0) -> None:
        if doc.media:
            raise ValueError("JsonlShardWriter writes documents without media; use document_writer")
        self.write_line(document_line(doc), rank)
        self.stat_update("total")

    def close(self) -> None:
        if self._files is not None:
            self._files.close()
            self._files = None

    def __enter__(self):
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        self.close()

    def run(self, data: DocumentsPipeline = None, rank: int = 0, world_size: int = 1) -> DocumentsPipeline:
        with self:
            for doc in data or []:
                with self.track_time():
                    self.write(doc, rank)
                yield doc
