"""Rows of JSONL / JSON / Parquet files that lose nothing and cost bounded memory: the one row reader and writer.

    for number, row in iter_rows(path, on_skip=lambda reason: counter[reason] += 1):
        ...
    rows = list(read_rows(path))                 # strict: the first bad row is an error naming file:line
    write_rows(path, rows)                       # .jsonl, .jsonl.gz, .jsonl.zst or .parquet, atomically

A bad row is a counted skip and reading goes on with the next row: a line that is not JSON, a row that is not a JSON
object, a row with invalid UTF-8 or a lone surrogate (`"\\ud800"`: Python's `json` reads it, but writing the row
out fails later; orjson refuses it here), a line longer than `max_line_bytes` (read past in bounded chunks, never
held). Reasons: `invalid_json`, `not_object`, `line_too_long`. Files are read as bytes, so one bad byte costs one
row, not the file. A `.json` file (one array) is parsed whole, so it is refused above `MAX_JSON_FILE_BYTES`.
Non-regular files (named pipes, devices) raise `NotRegularFile` before anything opens them.
"""

from __future__ import annotations

import io
import json
import logging
import os
from collections.abc import Callable, Iterable, Iterator

from deepmath.io.atomic import atomic_open, atomic_path
from deepmath.io.limits import MAX_JSON_FILE_BYTES, MAX_LINE_BYTES, check_regular_file, shorten

__all__ = ["ROW_SKIP_REASONS", "RowSkipped", "iter_rows", "loads_row", "open_binary", "read_rows", "write_rows"]

logger = logging.getLogger(__name__)

ROW_SKIP_REASONS = ("invalid_json", "not_object", "line_too_long")
_BLOCK = 1 << 20
_WARN_PER_FILE = 3

try:  # orjson rejects lone surrogates and invalid UTF-8, which json.loads lets through
    from orjson import loads as _orjson_loads
except ImportError:  # pragma: no cover - orjson comes with datatrove
    _orjson_loads = None


class RowSkipped(ValueError):
    """One row that cannot be used; `reason` is one of ROW_SKIP_REASONS."""

    def __init__(self, reason: str, message: str):
        super().__init__(message)
        self.reason = reason


def loads_row(line: bytes | str):
    """Parse one JSON value; raises ValueError for invalid JSON, invalid UTF-8 and lone surrogates."""
    if _orjson_loads is not None:
        return _orjson_loads(line)
    value = json.loads(line)
    json.dumps(value, ensure_ascii=False).encode("utf-8")  # raises UnicodeEncodeError (a ValueError) on surrogates
    return value


def open_binary(path: str):
    """A binary file object with a bounded `readline(size)`, decompressing .gz/.zst (local or fsspec URL)."""
    check_regular_file(path)
    if "://" in path and not path.startswith("file://"):
        import fsspec

        return io.BufferedReader(fsspec.open(path, "rb", compression="infer").open())
    local = path.removeprefix("file://")
    if local.endswith(".gz"):
        try:
            from isal import igzip as gzip_module
        except ImportError:  # pragma: no cover - isal is in the corpus extra
            import gzip as gzip_module
        return gzip_module.open(local, "rb")
    if local.endswith(".zst"):
        import fsspec

        return io.BufferedReader(fsspec.open(local, "rb", compression="zstd").open())
    return open(local, "rb")


def _lines(handle, max_line_bytes: int) -> Iterator[bytes | None]:
    """Lines of a binary stream, without their newline; None for a line longer than the cap (its bytes are read
    past, never kept). Read in blocks of `_BLOCK` bytes and split there: `readline` on a gzip stream costs ~8 us a
    line, a third of reading a JSONL.gz file. Memory: one block plus the unfinished line (at most the cap)."""
    pending: list[bytes] = []  # the start of a line that goes on in the next block(s)
    pending_bytes = 0
    skipping = False  # inside a line over the cap: its bytes are dropped up to its newline
    while True:
        block = handle.read(_BLOCK)
        if not block:
            if skipping:
                yield None
            elif pending_bytes:
                yield b"".join(pending)
            return
        lines = block.split(b"\n")
        rest = lines.pop()  # after the last newline: unfinished (b"" when the block ends with one)
        if lines:
            if skipping:
                skipping = False
                lines[0] = None
            elif pending:
                pending.append(lines[0])
                lines[0] = b"".join(pending)
                pending, pending_bytes = [], 0
            for line in lines:
                yield None if line is not None and len(line) > max_line_bytes else line
        if skipping or not rest:
            continue
        if pending_bytes + len(rest) > max_line_bytes:
            pending, pending_bytes, skipping = [], 0, True
        else:
            pending.append(rest)
            pending_bytes += len(rest)


def _check_row(row, where: str) -> dict:
    if not isinstance(row, dict):
        raise RowSkipped("not_object", f"{where}: expected a JSON object, got {type(row).__name__}")
    return row


def iter_rows(
    path: str,
    on_skip: Callable[[str], None] | None = None,
    max_line_bytes: int = MAX_LINE_BYTES,
    strict: bool = False,
    warn: bool = True,
    lines: bool = False,
) -> Iterator[tuple]:
    """(0-based row number, row) of a JSONL(.gz/.zst), JSON array or Parquet file; with `lines`, (number, row,
    line): a JSONL row's line as read (bytes, no newline), None for the rows of other formats.

    Bad rows call `on_skip(reason)` and are left out (a warning names the first few per file); `strict=True` raises
    RowSkipped instead; `warn=False` keeps them off the log (a cache whose last line a kill cut short). Errors of
    the file itself (unreadable, truncated gzip) propagate as OSError/EOFError.
    """
    warned = 0

    def skipped(err: RowSkipped) -> None:
        nonlocal warned
        if strict:
            raise err
        if on_skip is not None:
            on_skip(err.reason)
        if not warn:
            return
        if warned < _WARN_PER_FILE:
            logger.warning("skipping a bad row: %s", shorten(str(err), 300))
        elif warned == _WARN_PER_FILE:
            logger.warning("%s: more bad rows skipped (counted, not logged)", shorten(path))
        warned += 1

    if path.endswith(".parquet"):
        check_regular_file(path)
        import pyarrow.parquet as pq

        index = 0
        try:
            batches = pq.ParquetFile(path).iter_batches(batch_size=1024)
            for batch in batches:
                for row in batch.to_pylist():
                    yield (index, row, None) if lines else (index, row)
                    index += 1
        except (OSError, ValueError) as err:  # pyarrow's ArrowInvalid is a ValueError
            raise ValueError(f"{shorten(path)}: not a readable Parquet file: {shorten(str(err))}") from err
        return
    with open_binary(path) as handle:
        if path.endswith((".json", ".json.gz")):
            data = handle.read(MAX_JSON_FILE_BYTES + 1)
            if len(data) > MAX_JSON_FILE_BYTES:
                raise ValueError(
                    f"{shorten(path)}: a .json file over {MAX_JSON_FILE_BYTES:,} bytes; use JSON Lines (.jsonl)"
                )
            try:
                value = loads_row(data)
            except ValueError as err:
                where = f"{shorten(path)}:{err.lineno}" if getattr(err, "lineno", None) else shorten(path)
                raise ValueError(f"{where}: not valid JSON: {shorten(getattr(err, 'msg', str(err)))}") from err
            del data
            for number, row in enumerate(value if isinstance(value, list) else [value]):
                try:
                    _check_row(row, f"{shorten(path)}: element {number + 1}")
                except RowSkipped as err:
                    skipped(err)
                    continue
                yield (number, row, None) if lines else (number, row)
            return
        for number, line in enumerate(_lines(handle, max_line_bytes)):
            if line is None:
                where = f"{shorten(path)}:{number + 1}"
                skipped(RowSkipped("line_too_long", f"{where}: line longer than {max_line_bytes:,} bytes"))
                continue
            try:
                row = loads_row(line)
            except ValueError as err:  # orjson.JSONDecodeError, json.JSONDecodeError, UnicodeError
                if not line.strip():
                    continue
                where = f"{shorten(path)}:{number + 1}"
                skipped(RowSkipped("invalid_json", f"{where}: not valid JSON: {shorten(str(err))}"))
                continue
            if type(row) is not dict:
                try:
                    _check_row(row, f"{shorten(path)}:{number + 1}")
                except RowSkipped as err:
                    skipped(err)
                    continue
            yield (number, row, line) if lines else (number, row)


def read_rows(path: str | os.PathLike, on_skip: Callable[[str], None] | None = None) -> Iterator[dict]:
    """The rows of one file. Without `on_skip` the first bad row raises RowSkipped naming file:line (files that
    deepmath wrote itself); with it, bad rows are counted there and skipped (files that users give)."""
    for _, row in iter_rows(os.fspath(path), on_skip=on_skip, strict=on_skip is None):
        yield row


def write_rows(path: str | os.PathLike, rows: Iterable[dict], sort_keys: bool = False) -> int:
    """Rows as one file, atomically; the name says the format: .jsonl, .jsonl.gz (reproducible bytes), .jsonl.zst
    or .parquet (one table: for row counts that fit in memory). Returns the number of rows written."""
    path = os.fspath(path)
    if path.endswith(".parquet"):
        import pyarrow as pa
        import pyarrow.parquet as pq

        table = pa.Table.from_pylist(list(rows))
        with atomic_path(path) as tmp:
            pq.write_table(table, tmp)
        return table.num_rows
    if not path.endswith((".jsonl", ".jsonl.gz", ".jsonl.zst")):
        raise ValueError(f"{shorten(path)}: write_rows writes .jsonl, .jsonl.gz, .jsonl.zst or .parquet")
    count = 0
    with atomic_open(path, "wb") as out:
        sink = out
        if path.endswith(".zst"):
            import zstandard

            sink = zstandard.ZstdCompressor().stream_writer(out, closefd=False)
        for row in rows:
            sink.write(json.dumps(row, ensure_ascii=False, sort_keys=sort_keys).encode("utf-8") + b"\n")
            count += 1
        if sink is not out:
            sink.close()
    return count
