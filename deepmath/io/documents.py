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


def iter_raw_rows(path: str, on_skip=None, strict: bool = False) -> Iterator[tuple[int, dict]]:
    """(row number, row dict) of a JSONL, JSON array or Parquet file; a bad row calls `on_skip(reason)` and
    reading goes on with the next row (see `deepmath.io.rows`)."""
    yield from iter_rows(path, on_skip=on_skip, strict=strict)


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
    ):
        super().__init__()
        self.sources = resolve_inputs(inputs)
        self.text_key = text_key
        self.id_key = id_key
        self.limit = limit
        self.strict = strict
        self.batch_size = batch_size

    def _rows(self, rank: int, world_size: int) -> Iterator[tuple[str, dict]]:
        files = [f for s in self.sources if not s.is_hf for f in s.files]
        for path in files[rank::world_size]:
            name = Path(path).name
            try:
                for number, row in iter_raw_rows(path, self._row_skipped, self.strict):
                    yield f"{name}/{number}", row
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
                    yield fallback_id, dict(row)

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
        for doc in self._documents(rank, world_size):
            with self.track_time():
                self.stat_update("documents")
                self.update_doc_stats(doc)
            yield doc

    def _documents(self, rank: int, world_size: int) -> Iterator[Document]:
        """This task's documents, up to `limit`; rows without text counted as `skipped_no_text`."""
        count = 0
        for fallback_id, row in self._rows(rank, world_size):
            if 0 <= self.limit <= count:
                return
            doc = row_to_document(row, fallback_id, self.text_key, self.id_key, owned=True)
            if doc is None:
                self.stat_update("skipped_no_text")
                continue
            count += 1
            yield doc

    def _batches(self, rank: int, world_size: int) -> Iterator[list[Document]]:
        batch: list[Document] = []
        started = time.perf_counter()
        for doc in self._documents(rank, world_size):
            batch.append(doc)
            if len(batch) >= self.batch_size:
                self._count_batch(batch, started)
                yield batch
                batch = []
                started = time.perf_counter()
        if batch:
            self._count_batch(batch, started)
            yield batch

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
