"""Readers that lose nothing: a bad row is a counted skip and reading goes on; bounded memory per row."""

from __future__ import annotations

import gzip
import json
import subprocess
import sys
from pathlib import Path

import pytest

from deepmath.io.documents import DocumentReader
from deepmath.io.rows import RowSkipped, iter_rows

REPO = Path(__file__).resolve().parents[2]


def _rows(n: int, bad: dict[int, bytes]) -> bytes:
    lines = [bad.get(i, json.dumps({"id": f"r{i}", "text": f"row {i}"}).encode()) for i in range(n)]
    return b"\n".join(lines) + b"\n"


BAD_ROWS = {
    3: b'{"id": "s", "text": "a lone surrogate \\ud800 here"}',  # json.loads reads it; encoding fails later
    10: b"{not json",
    11: b'["a", "list"]',
    12: b'"just a string"',
    13: b'{"id": "u", "text": "invalid utf-8 \xff\xfe"}',
}


@pytest.mark.parametrize("suffix", [".jsonl", ".jsonl.gz"])
def test_bad_rows_are_counted_and_every_other_row_is_kept(tmp_path, suffix):
    data = _rows(1000, BAD_ROWS)
    path = tmp_path / f"rows{suffix}"
    path.write_bytes(gzip.compress(data) if suffix.endswith(".gz") else data)
    skipped: list[str] = []
    ids = [row["id"] for _, row in iter_rows(str(path), skipped.append)]
    assert ids == [f"r{i}" for i in range(1000) if i not in BAD_ROWS]
    assert sorted(skipped) == ["invalid_json", "invalid_json", "invalid_json", "not_object", "not_object"]
    with pytest.raises(RowSkipped):
        list(iter_rows(str(path), strict=True))


def test_document_reader_counts_bad_rows_not_the_file(tmp_path):
    (tmp_path / "a.jsonl").write_bytes(_rows(1000, BAD_ROWS))
    reader = DocumentReader(str(tmp_path / "a.jsonl"))
    docs = list(reader.run(None, 0, 1))
    assert len(docs) == 995
    counters = reader.stats.stats
    assert counters["skipped_invalid_json"].total == 3 and counters["skipped_not_object"].total == 2
    assert "skipped_file_unreadable" not in counters


@pytest.mark.parametrize("limit", [-1, 600])
def test_document_reader_in_batches_reads_and_counts_what_it_reads_one_by_one(tmp_path, limit):
    """`batch_size` changes the shape (lists) and how often counts are taken, not the documents or the counts."""
    lines = _rows(1000, BAD_ROWS).splitlines()
    lines[20] = json.dumps({"id": "no-text", "title": "a row without text"}).encode()
    lines[30] = json.dumps({"id": "t", "text": "with tokens", "token_count": 7}).encode()
    (tmp_path / "a.jsonl").write_bytes(b"\n".join(lines[:500]) + b"\n")
    (tmp_path / "b.jsonl").write_bytes(b"\n".join(lines[500:]) + b"\n")
    one = DocumentReader(str(tmp_path), limit=limit)
    docs = list(one.run(None, 0, 1))
    batched = DocumentReader(str(tmp_path), limit=limit, batch_size=64)
    batches = list(batched.run(None, 0, 1))
    assert all(isinstance(b, list) and 0 < len(b) <= 64 for b in batches)
    assert [(d.id, d.text, d.metadata) for b in batches for d in b] == [(d.id, d.text, d.metadata) for d in docs]
    expected, got = one.stats.stats, batched.stats.stats
    assert set(expected) == set(got)
    assert got["documents"].total == expected["documents"].total == len(docs)  # added per list, not per document
    for key, stat in expected.items():
        if key == "documents":
            continue
        assert (got[key].n, got[key].total, got[key].min, got[key].max) == (stat.n, stat.total, stat.min, stat.max), (
            key
        )
        assert got[key].mean == pytest.approx(stat.mean) and got[key].variance == pytest.approx(stat.variance), key
    assert expected["skipped_no_text"].total == 1 and expected["doc_len_tokens"].total == 7


def test_a_long_line_is_skipped_without_holding_it(tmp_path):
    path = tmp_path / "long.jsonl"
    with open(path, "wb") as handle:
        handle.write(b'{"id": "a", "text": "x"}\n{"id": "big", "text": "')
        handle.write(b"y" * 5_000_000)
        handle.write(b'"}\n{"id": "b", "text": "z"}\n')
    skipped: list[str] = []
    ids = [row["id"] for _, row in iter_rows(str(path), skipped.append, max_line_bytes=100_000)]
    assert ids == ["a", "b"] and skipped == ["line_too_long"]


def test_line_cap_bounds_memory_of_a_newline_free_gzip_bomb(tmp_path):
    """A 1 GB JSONL "line" (gzip of zeros) under a 1.5 GB address-space limit: counted, not loaded."""
    path = tmp_path / "bomb.jsonl.gz"
    import zlib

    compressor = zlib.compressobj(1, zlib.DEFLATED, 31)
    with open(path, "wb") as handle:
        handle.write(compressor.compress(b'{"id": "a", "text": "x"}\n'))
        zeros = bytes(1 << 22)
        for _ in range(256):
            handle.write(compressor.compress(zeros))
        handle.write(compressor.compress(b'\n{"id": "b", "text": "y"}\n'))
        handle.write(compressor.flush())
    code = (
        "import resource, sys; resource.setrlimit(resource.RLIMIT_AS, (1500 * 2**20, 1500 * 2**20));"
        "from deepmath.io.rows import iter_rows; s = [];"
        f"ids = [r['id'] for _, r in iter_rows({str(path)!r}, s.append)]; print(ids, s)"
    )
    result = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=REPO,
        env={"PYTHONPATH": str(REPO)},
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.strip() == "['a', 'b'] ['line_too_long']"


@pytest.mark.parametrize("block", [1, 3, 7, 64, 1 << 20])
def test_lines_across_block_boundaries_match_a_plain_split(monkeypatch, block):
    """Lines are read in blocks: any block size gives the lines a plain split gives, and over-cap lines as None."""
    import io
    import random

    from deepmath.io import rows

    monkeypatch.setattr(rows, "_BLOCK", block)
    rng = random.Random(block)
    pieces = [bytes(rng.choice(b"ab {}") for _ in range(rng.choice([0, 1, 5, 9, 10, 11, 30]))) for _ in range(300)]
    for data in (b"\n".join(pieces) + b"\n", b"\n".join(pieces), b"", b"\n\n", b"x" * 25):
        expected = data.split(b"\n")
        if expected and expected[-1] == b"":
            expected.pop()
        expected = [None if len(line) > 10 else line for line in expected]
        assert list(rows._lines(io.BytesIO(data), max_line_bytes=10)) == expected


@pytest.mark.parametrize(
    "row",
    [
        {"text": "a", "id": 3, "source": "web", "metadata": {"x": 1}},
        {"text": "a", "metadata": '{"y": 2}'},
        {"text": "a", "metadata": "[1, 2]"},  # JSON that is not an object: kept under its own name
        {"text": "a", "metadata": 5},
        {"text": "a", "metadata": "not json"},
        {"id": "no text"},
    ],
)
def test_a_row_taken_apart_in_place_gives_the_document_a_copy_gives(row):
    from deepmath.io.documents import row_to_document

    original = json.loads(json.dumps(row))
    copied = row_to_document(row, "file/0")
    assert row == original, "without `owned` the caller's row is left as it was"
    owned = row_to_document(json.loads(json.dumps(row)), "file/0", owned=True)
    assert (owned is None) == (copied is None) == ("text" not in row)
    if copied is not None:
        assert (owned.id, owned.text, owned.metadata) == (copied.id, copied.text, copied.metadata)
        assert isinstance(copied.metadata, dict)


# (line, plain?): a line is "plain" when it is already the JSON of the Document it becomes, metadata last
PLAIN_CASES = [
    (b'{"text": "t \\u00e9", "id": "a"}', True),  # no metadata: an empty one is added
    (b'{"id":"a","text":"t"}  \r', True),  # trailing whitespace, other key order
    (b'{"text":"t","id":"a","metadata":{"url":"u","n":{"x":[1,{}]}}}', True),
    (b'{"text":"t","id":"a","metadata":{}}', True),
    (b'{"text":"t","id":"a","metadata":{ }}', False),  # whitespace in an empty metadata
    (b'{"text":"t","id":"a","metadata":{"u":1} }', False),  # whitespace between the closing braces
    (b'{"metadata":{"u":1},"text":"t","id":"a"}', False),  # metadata not last
    (b'{"text":"t","id":"a","metadata":"{\\"u\\": 1}"}', False),  # metadata as a JSON string
    (b'{"text":"t","id":7}', False),  # a numeric id becomes "7"
    (b'{"text":"t","id":""}', False),
    (b'{"text":"","id":"a"}', False),
    (b'{"text":"t","id":"a","url":"u"}', False),  # another top-level key moves into metadata
    (b'{"text":"t","id":"a","media":[]}', False),
]


@pytest.mark.parametrize("line, plain", PLAIN_CASES)
def test_a_plain_line_is_the_json_of_its_document(line, plain):
    from deepmath.io.documents import plain_line, row_to_document

    row = json.loads(line)
    got = plain_line(row, line)
    assert (got is not None) == plain
    if got is not None:
        doc = row_to_document(row, "fallback")
        assert json.loads(got) == {"text": doc.text, "id": doc.id, "metadata": doc.metadata}
        assert got.endswith(b"}}")


def test_document_reader_lines_ride_along_with_their_documents(tmp_path):
    """With `lines`, each list carries one entry per document, the plain line or None; skipped rows (bad JSON, no
    text) are left out of both."""
    rows = [line for line, _ in PLAIN_CASES] + [b"{not json", b'{"id": "x", "title": "no text"}']
    (tmp_path / "a.jsonl").write_bytes(b"\n".join(rows * 3) + b"\n")
    batches = list(DocumentReader(str(tmp_path / "a.jsonl"), batch_size=4, lines=True).run(None, 0, 1))
    docs = [doc for batch in batches for doc in batch]
    lines = [line for batch in batches for line in batch.lines]
    assert all(len(batch.lines) == len(batch) for batch in batches)
    expected = [plain for _, plain in PLAIN_CASES] * 3
    assert [line is not None for line in lines] == expected
    for doc, line in zip(docs, lines):
        if line is not None:
            assert json.loads(line)["id"] == doc.id and json.loads(line)["text"] == doc.text
    # off unless asked for, and off under other key names (the line would keep them)
    assert not hasattr(next(DocumentReader(str(tmp_path), batch_size=4).run(None, 0, 1)), "lines")
    renamed = DocumentReader(str(tmp_path), batch_size=4, lines=True, id_key="title")
    assert not hasattr(next(renamed.run(None, 0, 1)), "lines")


@pytest.mark.parametrize("line", [line for line, _ in PLAIN_CASES] + [b'{"text":"t","id":"a","metadata":[1]}'])
def test_the_usual_rows_shortcut_gives_what_the_general_path_gives(line):
    """`DocumentReader` takes a row with only `text`, `id` and a last `metadata` object in one step: the same
    Document and plain line as `row_to_document` and `plain_line`, or None (then the general path runs)."""
    from deepmath.io.documents import _standard_document, plain_line, row_to_document

    for with_line in (line, None):
        found = _standard_document(json.loads(line), with_line)
        row = json.loads(line)
        plain = plain_line(row, with_line) if with_line is not None else None
        doc = row_to_document(row, "fallback", owned=True)
        if found is None:
            continue
        assert (found[0].text, found[0].id, found[0].metadata) == (doc.text, doc.id, doc.metadata)
        assert found[1] == plain


def test_the_usual_rows_shortcut_takes_the_common_shapes():
    from deepmath.io.documents import _standard_document

    taken = [_standard_document(json.loads(line), line) is not None for line, _ in PLAIN_CASES]
    assert taken[:4] == [True] * 4  # plain lines, with or without metadata
    assert not taken[7] and not taken[8] and not taken[11]  # metadata as a string, a numeric id, another key
