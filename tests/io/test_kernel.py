"""The one row writer and atomic writes: every format round-trips, a failed write leaves the old file and no
temporary, gzip output is reproducible, and trusted files fail on their first bad row with file:line."""

from __future__ import annotations

import gzip
import os

import pytest

from deepmath.io.atomic import atomic_open, atomic_path, atomic_write_bytes
from deepmath.io.rows import RowSkipped, iter_rows, read_rows, write_rows

ROWS = [{"id": i, "text": f"row {i} ∑ 中文", "tags": ["a", "b"][: i % 3]} for i in range(25)]


@pytest.mark.parametrize("suffix", [".jsonl", ".jsonl.gz", ".jsonl.zst", ".parquet"])
def test_write_rows_round_trips_every_format(tmp_path, suffix):
    path = tmp_path / f"rows{suffix}"
    assert write_rows(path, iter(ROWS)) == len(ROWS)
    assert list(read_rows(path)) == ROWS
    assert [p.name for p in tmp_path.iterdir()] == [path.name]  # no temporary left beside it


def test_gzip_output_is_byte_identical_across_writes(tmp_path):
    write_rows(tmp_path / "a.jsonl.gz", ROWS)
    write_rows(tmp_path / "b.jsonl.gz", ROWS)
    data = (tmp_path / "a.jsonl.gz").read_bytes()
    assert data == (tmp_path / "b.jsonl.gz").read_bytes()
    assert gzip.decompress(data).count(b"\n") == len(ROWS)


def test_write_rows_refuses_an_unknown_format(tmp_path):
    with pytest.raises(ValueError, match=r"rows\.csv: write_rows writes"):
        write_rows(tmp_path / "rows.csv", ROWS)
    assert not list(tmp_path.iterdir())


@pytest.mark.parametrize("mode", ["w", "wb"])
def test_a_failed_write_keeps_the_old_file_and_leaves_no_temporary(tmp_path, mode):
    path = tmp_path / "out.txt.gz"
    write_rows(tmp_path / "keep.jsonl", ROWS[:1])
    atomic_write_bytes(path, b"old")
    with pytest.raises(RuntimeError), atomic_open(path, mode) as out:
        out.write("new" if mode == "w" else b"new")
        raise RuntimeError("killed mid-way")
    assert path.read_bytes() == b"old"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["keep.jsonl", "out.txt.gz"]


def test_atomic_open_text_gzip_and_permissions(tmp_path):
    path = tmp_path / "sub" / "ids.txt.gz"
    with atomic_open(path, "w") as out:
        out.write("a\nb\n")
    assert gzip.decompress(path.read_bytes()) == b"a\nb\n"
    mask = os.umask(0)
    os.umask(mask)
    assert path.stat().st_mode & 0o777 == 0o666 & ~mask  # readable like open() makes it, not mkstemp's 0600
    with pytest.raises(ValueError, match="mode must be"), atomic_open(path, "a"):
        pass


def test_atomic_path_is_for_writers_that_take_a_name(tmp_path):
    path = tmp_path / "model.bin"
    with atomic_path(path) as tmp:
        assert tmp.parent == tmp_path and tmp != path
        tmp.write_bytes(b"model")
        assert not path.exists()  # only the finished block makes it appear
    assert path.read_bytes() == b"model"


def test_read_rows_strict_names_file_and_line_and_lenient_counts(tmp_path):
    path = tmp_path / "rows.jsonl"
    path.write_bytes(b'{"a": 1}\n{"a": 2}\n{broken\n{"a": 4}\n')
    with pytest.raises(RowSkipped, match=r"rows\.jsonl:3: not valid JSON"):
        list(read_rows(path))
    skipped: list[str] = []
    assert [r["a"] for r in read_rows(path, on_skip=skipped.append)] == [1, 2, 4]
    assert skipped == ["invalid_json"]


def test_quiet_reading_logs_nothing_for_a_cut_line(tmp_path, caplog):
    path = tmp_path / "cache.jsonl"
    path.write_bytes(b'{"a": 1}\n{"a": 2, "cut sh')
    rows = [row for _, row in iter_rows(str(path), on_skip=lambda reason: None, warn=False)]
    assert rows == [{"a": 1}]
    assert not [r for r in caplog.records if "bad row" in r.getMessage()]


@pytest.mark.parametrize(
    ("content", "name", "pattern"),
    [
        (b'[{"a": 1},\n {"a": \n', "bad.json", r"bad\.json:3: not valid JSON"),
        (b"not parquet", "bad.parquet", r"bad\.parquet: not a readable Parquet file"),
    ],
)
def test_a_broken_file_is_one_clear_error(tmp_path, content, name, pattern):
    path = tmp_path / name
    path.write_bytes(content)
    with pytest.raises(ValueError, match=pattern):
        list(read_rows(path))
