"""Arrays of `.npy` / `.npz` files that numpy wrote, read in one go: `read_npy(path)`, `read_npz(path)`.

`np.load` of an `.npz` opens the zip member of every array asked for and parses each array's header with
`ast.literal_eval`: ~0.15 ms an array. dedup's single-task steps read a few hundred arrays of `_work/` (~18 ms of a
20k-page run in the main process, ~4.5 ms in each of two filter workers). Here a file is read once, numpy's own header
format (a dict literal in a fixed layout) is matched by one regular expression, and every array is a read-only view of
the file's bytes. Whatever this does not recognise (a compressed member, Fortran order, a structured or object dtype,
zip64) goes through `np.load` instead, so the result is always what `np.load` gives, apart from being read-only.
"""

from __future__ import annotations

import os
import re
import struct

import numpy as np

__all__ = ["read_npy", "read_npz"]

# numpy.lib.format writes `{'descr': '<u8', 'fortran_order': False, 'shape': (3, 2), }` padded with spaces
_HEADER = re.compile(
    rb"\{'descr': '([<>|=]?[a-zA-Z]\d*)', 'fortran_order': False, 'shape': \(((?:\d+, ?)*\d*)\), \} *\n"
)
_MAGIC = b"\x93NUMPY"


def _array(member: memoryview) -> np.ndarray | None:
    """The array of one `.npy` file's bytes, or None when its header is not the plain kind matched here."""
    if bytes(member[:6]) != _MAGIC or member[6] not in (1, 2, 3):
        return None
    size_format, start = ("<H", 10) if member[6] == 1 else ("<I", 12)
    (length,) = struct.unpack_from(size_format, member, 8)
    found = _HEADER.fullmatch(bytes(member[start : start + length]))
    if found is None:
        return None
    dtype = np.dtype(found.group(1).decode())
    if dtype.hasobject or dtype.fields is not None:
        return None
    shape = tuple(int(n) for n in found.group(2).split(b",") if n.strip())
    count = int(np.prod(shape, dtype=np.int64))
    if start + length + count * dtype.itemsize > len(member):
        return None
    return np.frombuffer(member, dtype=dtype, count=count, offset=start + length).reshape(shape)


def read_npy(path: str | os.PathLike) -> np.ndarray:
    """`np.load(path)` of an `.npy` file, read-only."""
    with open(path, "rb") as handle:
        data = handle.read()
    array = _array(memoryview(data))
    return array if array is not None else np.load(path)


def read_npz(path: str | os.PathLike) -> dict[str, np.ndarray]:
    """Every array of an `.npz` file (`np.savez`: stored, not compressed), by name, read-only."""
    with open(path, "rb") as handle:
        data = handle.read()
    arrays = _members(memoryview(data))
    if arrays is None:
        with np.load(path) as npz:
            return {name: npz[name] for name in npz.files}
    return arrays


def _members(view: memoryview) -> dict[str, np.ndarray] | None:
    data = view.obj
    end = data.rfind(b"PK\x05\x06")  # the end of the central directory (np.savez writes no archive comment)
    if end < 0 or len(data) - end != 22:
        return None
    count, _, directory = struct.unpack_from("<HII", data, end + 10)
    arrays, at = {}, directory
    for _ in range(count):
        if data[at : at + 4] != b"PK\x01\x02":
            return None
        (method,) = struct.unpack_from("<H", data, at + 10)
        stored, size, name_length, extra_length, comment_length = struct.unpack_from("<IIHHH", data, at + 20)
        (local,) = struct.unpack_from("<I", data, at + 42)
        name = data[at + 46 : at + 46 + name_length].decode("utf-8", "replace")
        at += 46 + name_length + extra_length + comment_length
        if method != 0 or stored != size or 0xFFFFFFFF in (stored, local) or data[local : local + 4] != b"PK\x03\x04":
            return None  # compressed, or zip64: np.load reads it
        local_name, local_extra = struct.unpack_from("<HH", data, local + 26)
        start = local + 30 + local_name + local_extra
        array = _array(view[start : start + stored])
        if array is None or not name.endswith(".npy"):
            return None
        arrays[name[: -len(".npy")]] = array
    return arrays
