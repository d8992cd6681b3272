"""`io.npz` reads what numpy wrote as `np.load` does (read-only), and hands what it does not parse to `np.load`."""

import zipfile

import numpy as np
import pytest

from deepmath.io.npz import read_npy, read_npz

ARRAYS = {
    "u64_2d": np.arange(24, dtype=np.uint64).reshape(12, 2),
    "f64_nan": np.array([1.5, np.nan, -2.0]),
    "i8_empty": np.zeros(0, np.int8),
    "u32_3d": np.arange(60, dtype=np.uint32).reshape(3, 4, 5),
    "scalar": np.array("v14.0"),  # a 0-d string array, as the shipped Unicode tables' version
    "big_endian": np.arange(5, dtype=">i4"),
    "bools": np.array([True, False, True]),
}


def _same(got: np.ndarray, want: np.ndarray) -> None:
    assert got.dtype == want.dtype and got.shape == want.shape
    assert np.array_equal(got, want, equal_nan=want.dtype.kind == "f")


def test_npz_equals_np_load(tmp_path):
    path = tmp_path / "a.npz"
    np.savez(path, **ARRAYS)
    got = read_npz(path)
    assert set(got) == set(ARRAYS)
    for name, want in ARRAYS.items():
        _same(got[name], want)
        assert not got[name].flags.writeable  # views of the file's bytes


@pytest.mark.parametrize(
    "arrays",
    [
        {"fortran": np.asfortranarray(np.arange(12.0).reshape(3, 4))},
        {"objects": np.array([{"a": 1}, None], dtype=object)},
        {"record": np.zeros(3, dtype=[("x", "<i4"), ("y", "<f8")])},
    ],
    ids=["fortran", "objects", "record"],
)
def test_what_is_not_parsed_goes_through_np_load(tmp_path, arrays):
    path = tmp_path / "b.npz"
    np.savez(path, **arrays)
    name, want = next(iter(arrays.items()))
    if want.dtype.hasobject:
        with pytest.raises(ValueError, match="allow_pickle"):  # as np.load: no pickles
            read_npz(path)
        return
    _same(read_npz(path)[name], want)
    np.save(tmp_path / "b.npy", want)
    _same(read_npy(tmp_path / "b.npy"), want)


def test_compressed_npz_and_npy(tmp_path):
    np.savez_compressed(tmp_path / "c.npz", **ARRAYS)
    got = read_npz(tmp_path / "c.npz")
    for name, want in ARRAYS.items():
        _same(got[name], want)
    for name, want in ARRAYS.items():
        np.save(tmp_path / f"{name}.npy", want)
        _same(read_npy(tmp_path / f"{name}.npy"), want)


def test_truncated_file_is_an_error(tmp_path):
    path = tmp_path / "d.npy"
    np.save(path, np.arange(1000, dtype=np.int64))
    path.write_bytes(path.read_bytes()[:-8])
    with pytest.raises(ValueError):
        read_npy(path)
    npz = tmp_path / "d.npz"
    np.savez(npz, a=np.arange(10))
    npz.write_bytes(npz.read_bytes()[:-30])
    with pytest.raises((ValueError, OSError, EOFError, zipfile.BadZipFile)):  # what np.load raises for it
        read_npz(npz)
