"""Bounds every input path shares: line and record size caps, regular-file checks, short values in messages.

A hostile or broken input must cost bounded memory and end as a counted skip or a one-line error. These helpers
are the common pieces: `shorten` keeps a huge value (a 2 GB "first line", a YAML alias bomb) out of messages,
`check_regular_file` refuses named pipes and devices before `open` blocks on them, and the default caps live here
so every reader uses the same ones.
"""

from __future__ import annotations

import os
import stat

__all__ = [
    "MAX_JSON_FILE_BYTES",
    "MAX_LINE_BYTES",
    "NotRegularFile",
    "check_regular_file",
    "shorten",
]

MAX_LINE_BYTES = 64 * 2**20  # one JSONL row; longer lines are a counted skip (`line_too_long`)
MAX_JSON_FILE_BYTES = 512 * 2**20  # a whole `.json` array file is parsed at once; larger files are refused


class NotRegularFile(OSError):
    """An input path that is a named pipe, a device, a socket or a folder (opening it could block forever)."""


def shorten(value, limit: int = 200) -> str:
    """`value` as text of at most `limit` characters (`...` and the full length mark a cut); for error messages."""
    if isinstance(value, bytes | bytearray):
        text = repr(bytes(value[:limit]))[2:-1]  # control bytes (a bomb's zeros) as escapes
        total = len(value)
    else:
        text = value if isinstance(value, str) else repr(value)
        total = len(text)
    if total <= limit and len(text) <= limit:
        return text
    return f"{text[:limit]}... ({total:,} {'bytes' if isinstance(value, bytes | bytearray) else 'characters'})"


def check_regular_file(path: str) -> None:
    """Raise NotRegularFile unless the local `path` is a regular file (symlinks followed); URLs pass unchecked."""
    if "://" in path and not path.startswith("file://"):
        return
    local = path.removeprefix("file://")
    try:
        mode = os.stat(local).st_mode
    except OSError as err:  # a dangling or looping symlink: ELOOP, ENOENT
        raise NotRegularFile(f"{shorten(local)}: cannot stat ({err.strerror})") from err
    if not stat.S_ISREG(mode):
        kind = (
            "a named pipe"
            if stat.S_ISFIFO(mode)
            else "a folder"
            if stat.S_ISDIR(mode)
            else "a device"
            if stat.S_ISCHR(mode) or stat.S_ISBLK(mode)
            else "a socket"
            if stat.S_ISSOCK(mode)
            else "not a regular file"
        )
        raise NotRegularFile(f"{shorten(local)} is {kind}, not a regular file")
