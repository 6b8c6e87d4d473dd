"""The IDX reader on small IDX files written by the test: plain and gzip, good and broken."""

from __future__ import annotations

import gzip
import struct
from pathlib import Path

import numpy as np
import pytest

from dlbench.runner.data.idx import IdxError, parse_idx, read_idx

CODES = {np.dtype("u1"): 0x08, np.dtype("i1"): 0x09, np.dtype(">i2"): 0x0B, np.dtype(">i4"): 0x0C,
         np.dtype(">f4"): 0x0D, np.dtype(">f8"): 0x0E}


def idx_bytes(array: np.ndarray, dtype: str) -> bytes:
    big = array.astype(np.dtype(dtype))
    header = bytes([0, 0, CODES[big.dtype], big.ndim]) + struct.pack(f">{big.ndim}I", *big.shape)
    return header + big.tobytes()


def write(path: Path, data: bytes, gz: bool) -> Path:
    path.write_bytes(gzip.compress(data, mtime=0) if gz else data)
    return path


@pytest.fixture
def images() -> np.ndarray:
    return np.arange(3 * 28 * 28, dtype=np.int64).reshape(3, 28, 28).astype(np.uint8)


@pytest.mark.parametrize("gz", [False, True])
def test_reads_uint8_images_plain_and_gz(tmp_path, images, gz):
    path = write(tmp_path / ("img.gz" if gz else "img"), idx_bytes(images, "u1"), gz)
    got = read_idx(path)
    assert got.dtype == np.uint8 and got.shape == (3, 28, 28)
    assert np.array_equal(got, images)
    assert got.flags.writeable


@pytest.mark.parametrize("gz", [False, True])
def test_reads_labels(tmp_path, gz):
    labels = np.array([7, 2, 1, 0, 4, 9], dtype=np.uint8)
    got = read_idx(write(tmp_path / "labels", idx_bytes(labels, "u1"), gz))
    assert got.shape == (6,) and got.tolist() == [7, 2, 1, 0, 4, 9]


@pytest.mark.parametrize("dtype", [">i2", ">i4", ">f4", ">f8", "i1"])
def test_wider_types_are_big_endian_on_disk_and_native_in_memory(tmp_path, dtype):
    values = np.array([[-3, 258], [70000 if dtype in (">i4", ">f8") else 300, 1]], dtype=np.float64)
    if dtype == "i1":
        values = np.array([[-3, 100], [5, 1]], dtype=np.float64)
    got = read_idx(write(tmp_path / "x", idx_bytes(values, dtype), False))
    assert got.dtype.isnative
    assert got.tolist() == values.tolist()


def test_multi_member_gzip(tmp_path, images):
    data = idx_bytes(images, "u1")
    path = tmp_path / "img.gz"
    path.write_bytes(gzip.compress(data[:1000], mtime=0) + gzip.compress(data[1000:], mtime=0))
    assert np.array_equal(read_idx(path), images)


@pytest.mark.parametrize("gz", [False, True])
def test_truncated_file_names_the_file(tmp_path, images, gz):
    data = idx_bytes(images, "u1")
    path = tmp_path / ("short.gz" if gz else "short")
    if gz:
        path.write_bytes(gzip.compress(data, mtime=0)[:-40])
    else:
        path.write_bytes(data[:-5])
    with pytest.raises(IdxError, match="truncated") as info:
        read_idx(path)
    assert str(path) in str(info.value)
    assert isinstance(info.value, ValueError)


def test_truncated_header(tmp_path):
    path = write(tmp_path / "h", bytes([0, 0, 8, 3, 0, 0]), False)
    with pytest.raises(IdxError, match=r"header needs 16 bytes, file has 6"):
        read_idx(path)


def test_trailing_bytes_rejected(tmp_path, images):
    path = write(tmp_path / "long", idx_bytes(images, "u1") + b"\0", False)
    with pytest.raises(IdxError, match="trailing bytes"):
        read_idx(path)


def test_bad_magic(tmp_path):
    path = write(tmp_path / "notidx.txt", b"hello world, not idx", False)
    with pytest.raises(IdxError, match="not an IDX file") as info:
        read_idx(path)
    assert "notidx.txt" in str(info.value)


def test_missing_file(tmp_path):
    with pytest.raises(IdxError, match="cannot read") as info:
        read_idx(tmp_path / "absent")
    assert "absent" in str(info.value)


def test_parse_idx_in_memory(images):
    assert np.array_equal(parse_idx(idx_bytes(images, "u1")), images)
    with pytest.raises(IdxError, match="buffer-name"):
        parse_idx(b"\0\0", "buffer-name")
