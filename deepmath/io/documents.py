"""Documents in and out: a sharded reader step for JSONL/Parquet/HF inputs and the standard writer.

Documents are datatrove `Document`s: `id`, `text`, `metadata` (url, domain, scores, ...). The id a document enters
with is the id it leaves with, through every stage. Rows without text are skipped and counted, never silently lost.
"""

from __future__ import annotations

import json
import logging
import time
import zlib
from collections.abc import Iterator
from pathlib import Path

from datatrove.data import Document, DocumentsPipeline
from datatrove.pipeline.base import PipelineStep
from datatrove.utils.stats import MetricStats

from deepmath.io.inputs import InputSource, resolve_inputs
from deepmath.io.limits import NotRegularFile, shorten
from deepmath.io.rows import iter_rows

__all__ = [
    "JSONL_SHARD_NAME",
    "DocumentLines",
    "DocumentReader",
    "document_writer",
    "iter_documents",
    "iter_raw_rows",
    "row_to_document",
]

logger = logging.getLogger(__name__)

JSONL_SHARD_NAME = "${rank}.jsonl.gz"  # the standard writer's JSONL files, one per task


def row_to_document(
    row: dict, fallback_id: str, text_key: str = "text", id_key: str = "id", owned: bool = False
) -> Document | None:
    """A raw row as a Document; other top-level keys join `metadata` (rows without text give None). With `owned`
    (a row just parsed, used for nothing else) the row itself is taken apart instead of a copy."""
    if not owned:
        row = dict(row)
    text = row.pop(text_key, None)
    if not isinstance(text, str):
        return None
    doc_id = row.pop(id_key, None)
    metadata = row.pop("metadata", None) or {}
    if isinstance(metadata, str):
        try:
            metadata = json.loads(metadata)
        except json.JSONDecodeError:
            metadata = {"metadata": metadata}
    if not isinstance(metadata, dict):  # a number, a list, a string holding one: kept, under its own name
        metadata = {"metadata": metadata}
    row.pop("media", None)
    if row or not owned:
        metadata = {**row, **metadata}
    return Document(text=text, id=str(doc_id) if doc_id is not None else fallback_id, metadata=metadata)


def iter_raw_rows(path: str, on_skip=None, strict: bool = False, lines: bool = False) -> Iterator[tuple]:
    """(row number, row dict) of a JSONL, JSON array or Parquet file; a bad row calls `on_skip(reason)` and
    reading goes on with the next row (see `deepmath.io.rows`). With `lines`, (number, row, JSONL line or None)."""
    yield from iter_rows(path, on_skip=on_skip, strict=strict, lines=lines)


class DocumentLines(list):
    """A list of documents with `lines`: for each, its input line when that line already is the document's JSON
    with `metadata` last (`plain_line`), else None. What `DocumentReader(batch_size=..., lines=True)` yields."""

    __slots__ = ("lines",)

    def __init__(self, docs=(), lines=()):
        super().__init__(docs)
        self.lines = list(lines)


def plain_line(row: dict, line: bytes | None) -> bytes | None:
    """`line` (the JSONL line `row` was parsed from) when it already is the JSON of the Document the row becomes,
    under the standard keys: `text` and `id` (non-empty strings) and at most a `metadata` object as its last key,
    so that fields can be added to the metadata in the bytes (as dedup's filter does) without writing the row
    again; a row without metadata gets an empty one (`,"metadata":{}` before the closing brace). None otherwise
    (other keys, a numeric id, metadata elsewhere or not an object, whitespace between the closing braces)."""
    if line is None or len(row) > 3:
        return None
    text, doc_id = row.get("text"), row.get("id")
    if type(text) is not str or type(doc_id) is not str or not text or not doc_id:
        return None
    line = line.rstrip()
    if len(row) == 2:
        return line[:-1] + b',"metadata":{}}' if line.endswith(b"}") else None
    metadata = row.get("metadata")
    if type(metadata) is not dict or next(reversed(row)) != "metadata":
        return None
    return line if line.endswith(b"}}" if metadata else b"{}}") else None


def _standard_document(row: dict, line: bytes | None) -> tuple[Document, bytes | None] | None:
    """`row_to_document(row, ..., owned=True)` and `plain_line(row, line)` in one step for the usual row: `text` and
    `id` non-empty strings, at most a `metadata` object as its last key (~1 us a row less than the two calls);
    None for any other row, which then takes the general path."""
    size = len(row)
    if size == 2:
        text, doc_id = row.get("text"), row.get("id")
        if type(text) is not str or type(doc_id) is not str or not text or not doc_id:
            return None
        if line is not None:
            line = line.rstrip()
            line = line[:-1] + b',"metadata":{}}' if line.endswith(b"}") else None
        return Document(text=text, id=doc_id, metadata={}), line
    if size != 3:
        return None
    text, doc_id, metadata = row.get("text"), row.get("id"), row.get("metadata")
    if type(text) is not str or type(doc_id) is not str or type(metadata) is not dict or not text or not doc_id:
        return None
    if line is not None:
        line = line.rstrip()
        if next(reversed(row)) != "metadata" or not line.endswith(b"}}" if metadata else b"{}}"):
            line = None
    return Document(text=text, id=doc_id, metadata=metadata), line


def _iter_hf(source: InputSource, rank: int, world_size: int) -> Iterator[tuple[str, dict]]:
    import datasets

    dataset = datasets.load_dataset(source.hf_id, source.hf_config, split=source.hf_split, streaming=True)
    if world_size > 1:
        if getattr(dataset, "n_shards", 1) >= world_size:
            dataset = dataset.shard(num_shards=world_size, index=rank)
            for i, row in enumerate(dataset):
                yield f"{source.hf_id}/{rank}/{i}", row
            return
        for i, row in enumerate(dataset):
            if i % world_size == rank:
                yield f"{source.hf_id}/{i}", row
        return
    for i, row in enumerate(dataset):
        yield f"{source.hf_id}/{i}", row


class DocumentReader(PipelineStep):
    """Reads JSONL(.gz)/Parquet/HF inputs, sharded by file across tasks; unreadable files are counted and skipped.

    With `batch_size`, `run` yields lists of up to that many documents instead of documents, and counts them once
    per list (documents, `doc_len`): for a step that works on batches (dedup's signatures), datatrove's two
    per-document stat updates (~3 us each) were a tenth of its time. Same documents, skips and counts either way."""

    name = "📖 documents"
    type = "📖 - READER"

    def __init__(
        self,
        inputs: str | list[str],
        text_key: str = "text",
        id_key: str = "id",
        limit: int = -1,
        strict: bool = False,
        batch_size: int = 0,
        lines: bool = False,
    ):
        super().__init__()
        self.sources = resolve_inputs(inputs)
        self.text_key = text_key
        self.id_key = id_key
        self.limit = limit
        self.strict = strict
        self.batch_size = batch_size
        # the input lines ride along only under the standard keys (`plain_line`)
        self.lines = lines and batch_size > 0 and text_key == "text" and id_key == "id"

    def _rows(self, rank: int, world_size: int) -> Iterator[tuple[str, dict, bytes | None]]:
        files = [f for s in self.sources if not s.is_hf for f in s.files]
        for path in files[rank::world_size]:
            name = Path(path).name
            try:
                for number, row, line in iter_raw_rows(path, self._row_skipped, self.strict, lines=True):
                    yield f"{name}/{number}", row, line
            except NotRegularFile as err:
                if self.strict:
                    raise
                logger.warning("skipping input %s", err)
                self.stat_update("skipped_not_regular_file")
            except (OSError, EOFError, ValueError, zlib.error) as err:
                if self.strict:
                    raise
                logger.warning("skipping the rest of unreadable input file %s: %s", shorten(path), shorten(str(err)))
                self.stat_update("skipped_file_unreadable")
        for source in self.sources:
            if source.is_hf:  # a copy: the rows are taken apart in place (`owned`), and these are the library's
                for fallback_id, row in _iter_hf(source, rank, world_size):
                    yield fallback_id, dict(row), None

    def _row_skipped(self, reason: str) -> None:
        self.stat_update(f"skipped_{reason}")

    def run(self, data: DocumentsPipeline = None, rank: int = 0, world_size: int = 1) -> DocumentsPipeline:
        if data:
            yield from data
        if rank == 0:  # what input resolution left out (symlinked folders), counted once
            for source in self.sources:
                for reason, n in source.skipped.items():
                    self.stat_update(f"skipped_{reason}", value=n)
        if self.batch_size > 0:
            yield from self._batches(rank, world_size)
            return
        for doc, _ in self._documents(rank, world_size):
            with self.track_time():
                self.stat_update("documents")
                self.update_doc_stats(doc)
            yield doc

    def _documents(self, rank: int, world_size: int) -> Iterator[tuple[Document, bytes | None]]:
        """This task's documents, up to `limit`, each with its `plain_line` (with `lines`; else None); rows without
        text counted as `skipped_no_text`."""
        count = 0
        lines = self.lines
        standard = self.text_key == "text" and self.id_key == "id"
        for fallback_id, row, line in self._rows(rank, world_size):
            if 0 <= self.limit <= count:
                return
            if standard and (found := _standard_document(row, line if lines else None)) is not None:
                count += 1
                yield found
                continue
            plain = plain_line(row, line) if lines else None  # before the row is taken apart
            doc = row_to_document(row, fallback_id, self.text_key, self.id_key, owned=True)
            if doc is None:
                self.stat_update("skipped_no_text")
                continue
            count += 1
            yield doc, plain

    def _batches(self, rank: int, world_size: int) -> Iterator[list[Document]]:
        batch: list[Document] = []
        lines: list[bytes | None] = []
        started = time.perf_counter()
        for doc, line in self._documents(rank, world_size):
            batch.append(doc)
            lines.append(line)
            if len(batch) >= self.batch_size:
                yield self._batch(batch, lines, started)
                batch, lines = [], []
                started = time.perf_counter()
        if batch:
            yield self._batch(batch, lines, started)

    def _batch(self, docs: list[Document], lines: list, started: float) -> list[Document]:
        self._count_batch(docs, started)
        return DocumentLines(docs, lines) if self.lines else docs

    def _count_batch(self, docs: list[Document], started: float) -> None:
        """What `run` counts per document (`documents`, `update_doc_stats`), for a whole list at once."""
        self.stat_update("documents", value=len(docs))
        lengths = [len(doc.text) for doc in docs]
        mean = sum(lengths) / len(lengths)
        self.stats["doc_len"] += MetricStats(
            total=sum(lengths),
            n=len(lengths),
            mean=mean,
            min=min(lengths),
            max=max(lengths),
            _running_variance=sum((x - mean) ** 2 for x in lengths),
            unit="doc",
        )
        for doc in docs:
            if token_count := doc.metadata.get("token_count"):
                self.stat_update("doc_len_tokens", value=token_count, unit="doc")
        # reading and parsing this list, not what ran downstream between lists
        self.stats.time_stats.update(time.perf_counter() - started, unit="batch")


def iter_documents(inputs: str | list[str], text_key: str = "text", id_key: str = "id", limit: int = -1):
    """All documents of `inputs` in one process, in a stable order (for stages that need a global view)."""
    reader = DocumentReader(inputs, text_key=text_key, id_key=id_key, limit=limit)
    yield from reader.run(None, 0, 1)


def document_writer(output_dir: str | Path, output_format: str = "jsonl", subfolder: str = "data") -> PipelineStep:
    """The standard shard writer: `OUTPUT/data/<rank>.jsonl.gz` (or `.parquet`), one file per task."""
    folder = str(Path(output_dir) / subfolder)
    if output_format == "parquet":
        from datatrove.pipeline.writers import ParquetWriter

        return ParquetWriter(folder, output_filename="${rank}.parquet")
    from datatrove.pipeline.writers import JsonlWriter

    return JsonlWriter(folder, output_filename=JSONL_SHARD_NAME, compression="gzip")
