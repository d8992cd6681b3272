"""The filter's JSONL writer (deepmath.io.jsonl_shards, without datatrove's writers package) must write the bytes
datatrove's JsonlWriter writes."""

from __future__ import annotations

import datetime
import gzip

import numpy as np
import pytest
from datatrove.data import Document
from datatrove.pipeline.writers import JsonlWriter

from deepmath.dedup.steps import kept_writer


class _Day(datetime.date):
    """A date subclass (as pandas' Timestamp is a datetime one): orjson refuses it."""


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
        # what orjson refuses goes through datatrove's own default in both (loaded on first need)
        Document(
            text="scores", id="d", metadata={"score": np.float32(0.25), "n": np.int64(3), "day": _Day(2024, 1, 2)}
        ),
    ]
    ours = _written(kept_writer(tmp_path / "ours"), docs, tmp_path / "ours" / "data")
    reference = JsonlWriter(str(tmp_path / "ref"), output_filename="${rank}.jsonl.gz", compression="gzip")
    assert ours == _written(reference, docs, tmp_path / "ref")
    assert ours.count(b"\n") == 4 and b'"media"' not in ours
    assert b'"score":0.25' in ours and b'"day":"2024-01-02"' in ours


def test_kept_writer_keeps_parquet(tmp_path):
    assert type(kept_writer(tmp_path, "parquet")).__name__ == "ParquetWriter"


def test_spliced_rows_are_what_the_writer_writes(tmp_path):
    """The filter adds the dedup fields to the rows the signature pass serialised; the bytes must equal what the
    writer makes of the annotated document (kept and removed), for any metadata."""
    from deepmath.dedup.steps import row_line, splice_fields

    docs = [
        Document(text="é ∑ text\n", id="a", metadata={"url": "u", "nested": {"x": [1, 2.5, None]}}),
        Document(text="no metadata", id="b"),
        Document(text="", id="c", metadata={"empty_text": True}),
        Document(text="deduplicated before", id="d", metadata={"dedup_cluster_id": "old", "dedup_reason": "near"}),
    ]
    fields = b'"dedup_cluster_id":"k\\"1","dedup_cluster_size":3,"duplicate_of":"k\\"1","dedup_reason":"near"'
    spliced = b"".join(splice_fields(row_line(doc), fields) for doc in docs)
    for doc in docs:
        for key in ("dedup_cluster_id", "dedup_reason"):
            doc.metadata.pop(key, None)  # an earlier run's fields are replaced, not kept
        doc.metadata.update(dedup_cluster_id='k"1', dedup_cluster_size=3, duplicate_of='k"1', dedup_reason="near")
    assert spliced == _written(kept_writer(tmp_path), docs, tmp_path / "data")


def test_input_lines_reused_as_rows_splice_to_the_same_json():
    """The signature pass keeps a plain input line (`plain_line`) instead of serialising the document again; spliced,
    it must give the same JSON as the serialised row, and a row with an earlier run's dedup fields is serialised
    (those fields are dropped, not kept)."""
    import json

    from deepmath.dedup.steps import row_block, row_line, row_lines, splice_fields
    from deepmath.io.documents import plain_line, row_to_document

    lines = [
        b'{"id": "a", "text": "t \\u00e9 \\"q\\""}',
        b'{"text":"t","id":"b","metadata":{"url":"u","n":{"x":[]}}}',
        b'{"text":"t","id":"c","metadata":{}}',
        b'{"text":"t","id":"d","metadata":{"dedup_cluster_id":"old","keep":1}}',
        b'{"text":"t","id":7}',
    ]
    rows = [json.loads(line) for line in lines]
    plain = [plain_line(row, line) for row, line in zip(rows, lines)]
    docs = [row_to_document(row, "fallback") for row in rows]
    got = row_lines(docs, plain)
    fields = b'"dedup_cluster_id":"k","dedup_cluster_size":2'
    for doc, line in zip(docs, got):
        assert json.loads(splice_fields(line, fields)) == json.loads(splice_fields(row_line(doc), fields))
    assert got[:3] == [line + b"\n" for line in plain[:3]]  # the input's own bytes
    assert got[3] == row_line(docs[3]) and b'"old"' not in got[3] and plain[4] is None
    # joined for the rows file, with each row's length (all plain lines: joined directly; else row by row)
    for count in (0, 1, 3, 5):
        block, sizes = row_block(docs[:count], plain[:count])
        assert block == b"".join(got[:count]) and sizes == [len(line) for line in got[:count]]
    assert row_block(docs[:2], None) == (b"".join(map(row_line, docs[:2])), [len(row_line(d)) for d in docs[:2]])


def _filter_work(tmp_path, with_row_ends: bool):
    """A `_work` folder as the signature pass leaves it for one shard of four rows."""
    from deepmath.dedup.steps import row_line

    docs = [Document(text=f"page {i}", id=f"d{i}", metadata={"i": i}) for i in range(4)]
    lines = [row_line(doc) for doc in docs]
    work = tmp_path / "_work"
    for folder in ("rows", "ids", "docs"):
        (work / folder).mkdir(parents=True)
    (work / "rows" / "00000.jsonl").write_bytes(b"".join(lines))
    (work / "ids" / "00000.jsonl").write_bytes(b"".join(b'"%s"\n' % doc.id.encode() for doc in docs))
    arrays = {"length": np.array([len(doc.text) for doc in docs])}
    if with_row_ends:
        arrays["row_ends"] = np.cumsum([0] + [len(line) for line in lines])
    np.savez(work / "docs" / "00000.npz", **arrays)
    return work


@pytest.mark.parametrize("with_row_ends", [True, False])
def test_the_filter_reads_only_the_rows_it_keeps_and_writes_them_in_order(tmp_path, with_row_ends):
    """Kept rows (singletons and cluster winners) get their dedup fields, removed ones go to the exclusion writer,
    both in input order; rows written before `row_ends` existed are found by reading the file once."""
    import json

    from deepmath.dedup.steps import EXACT, KEPT, NEAR, MinhashFilter

    work = _filter_work(tmp_path, with_row_ends)
    fate = {0: (3, KEPT, "d0"), 2: (3, NEAR, "d0"), 3: (3, EXACT, "d0")}  # document 1 is in no cluster
    step = MinhashFilter(str(work), kept_writer(tmp_path, subfolder="removed"), writer=kept_writer(tmp_path))
    step._write_rows(0, fate, 4)
    kept = [
        json.loads(line) for line in gzip.decompress((tmp_path / "data" / "00000.jsonl.gz").read_bytes()).splitlines()
    ]
    removed = [
        json.loads(line)
        for line in gzip.decompress((tmp_path / "removed" / "00000.jsonl.gz").read_bytes()).splitlines()
    ]
    assert [(r["id"], r["metadata"]["dedup_cluster_id"], r["metadata"]["dedup_cluster_size"]) for r in kept] == [
        ("d0", "d0", 3),
        ("d1", "d1", 1),
    ]
    assert [(r["id"], r["metadata"]["dedup_reason"], r["metadata"]["i"]) for r in removed] == [
        ("d2", "near", 2),
        ("d3", "exact", 3),
    ]
    assert step.stats["kept"].total == 2 and step.stats["dropped_near_duplicate"].total == 1


def test_the_filter_refuses_rows_that_do_not_match_their_documents(tmp_path):
    from deepmath.dedup.steps import MinhashFilter

    work = _filter_work(tmp_path, with_row_ends=True)
    with open(work / "rows" / "00000.jsonl", "ab") as handle:
        handle.write(b'{"text":"appended"}\n')
    step = MinhashFilter(str(work), None, writer=kept_writer(tmp_path))
    with pytest.raises(RuntimeError, match="re-run with --overwrite"):
        step._write_rows(0, {}, 4)
