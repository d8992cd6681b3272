"""Atomic file writes: write to a temporary name in the same folder, then rename.

A killed process leaves either the old file or the new one, never half of one; that is what lets every stage
resume by simply re-running. Every write of a finished file in deepmath goes through here:

    with atomic_open(path, "w") as out: ...        # a stream (".gz" in the name: gzip, reproducible header)
    with atomic_path(path) as tmp: lib.save(tmp)   # for libraries that write by file name (fastText, pyarrow)
    atomic_write_json(path, data)                  # and bytes / text / PNG in one call
"""

from __future__ import annotations

import contextlib
import gzip
import io
import json
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path

__all__ = [
    "atomic_open",
    "atomic_path",
    "atomic_write_bytes",
    "atomic_write_json",
    "atomic_write_png",
    "atomic_write_text",
]


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


_MODE = 0o666 & ~_umask()  # what open() would give; mkstemp's 0600 would hide cards from other users


@contextlib.contextmanager
def atomic_path(path: str | Path) -> Iterator[Path]:
    """A fresh temporary sibling of `path` (same folder, so the rename is atomic) to write by name; it replaces
    `path` only when the block finishes, and is removed when the block fails or the process is interrupted."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    os.close(fd)
    os.chmod(tmp, _MODE)
    try:
        yield Path(tmp)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


@contextlib.contextmanager
def atomic_open(path: str | Path, mode: str = "wb", encoding: str = "utf-8", gzipped: bool | None = None) -> Iterator:
    """An open file ("w"/"wt" text, "wb" binary) that becomes `path` only if the block finishes (flushed and
    fsynced first). Gzip-compressed when `gzipped`, by default when the name ends in ".gz", with a zero header
    time so that equal contents give equal files across runs."""
    if mode not in ("w", "wt", "wb"):
        raise ValueError(f"atomic_open writes a new file: mode must be 'w', 'wt' or 'wb', not {mode!r}")
    with atomic_path(path) as tmp, open(tmp, "wb") as raw:
        compress = gzipped or (gzipped is None and str(path).endswith(".gz"))
        stream = gzip.GzipFile(fileobj=raw, mode="wb", mtime=0, filename="") if compress else raw
        try:
            if mode == "wb":
                yield stream
            else:
                text = io.TextIOWrapper(stream, encoding=encoding, newline="")
                yield text
                text.flush()
                text.detach()
        finally:
            if stream is not raw:
                stream.close()  # writes the gzip trailer (leaves `raw` open)
        raw.flush()
        os.fsync(raw.fileno())


def atomic_write_bytes(path: str | Path, data: bytes) -> None:
    """`data` as the whole of `path`, as given (already compressed bytes stay as they are)."""
    with atomic_open(path, "wb", gzipped=False) as handle:
        handle.write(data)


def atomic_write_text(path: str | Path, text: str) -> None:
    atomic_write_bytes(path, text.encode("utf-8"))


def atomic_write_json(path: str | Path, data) -> None:
    atomic_write_text(path, json.dumps(data, indent=2, ensure_ascii=False, default=str) + "\n")


def atomic_write_png(path: str | Path, fig, **savefig_kwargs) -> Path:
    """A matplotlib figure as a PNG at `path`: rendered in memory, then written like any other file here."""
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", **savefig_kwargs)
    atomic_write_bytes(path, buffer.getvalue())
    return Path(path)
