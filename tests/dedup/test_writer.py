"""The filter's JSONL writer skips datatrove's deep-copying adapter: it must write the same bytes."""

from __future__ import annotations

import gzip

from datatrove.data import Document
from datatrove.pipeline.writers import JsonlWriter

from deepmath.dedup.steps import kept_writer


def _written(writer, docs: list[Document], folder) -> bytes:
    with writer:
        for doc in docs:
            writer.write(doc, 0)
    return gzip.decompress((folder / "00000.jsonl.gz").read_bytes())


def test_kept_writer_writes_what_datatrove_writes(tmp_path):
    docs = [
        Document(text="é ∑ text\n", id="a", metadata={"url": "u", "nested": {"x": [1, 2.5, None]}, "n": 3}),
        Document(text="no metadata", id="b"),
        Document(text="", id="c", metadata={"empty_text": True}),  # falsy fields are left out by both
    ]
    ours = _written(kept_writer(tmp_path / "ours"), docs, tmp_path / "ours" / "data")
    reference = JsonlWriter(str(tmp_path / "ref"), output_filename="${rank}.jsonl.gz", compression="gzip")
    assert ours == _written(reference, docs, tmp_path / "ref")
    assert ours.count(b"\n") == 3 and b'"media"' not in ours


def test_kept_writer_keeps_parquet(tmp_path):
    assert type(kept_writer(tmp_path, "parquet")).__name__ == "ParquetWriter"
