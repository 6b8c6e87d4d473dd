"""Reading IDX files, the format MNIST and Fashion-MNIST are distributed in.

An IDX file is: two zero bytes, one byte naming the element type, one byte giving the number of
dimensions, then each dimension as a big-endian 32-bit unsigned integer, then the elements in
row-major order, big-endian. The files usually come gzip-compressed; `read_idx` takes either
(decompressed with zlib-ng when installed, else zlib).
"""

from __future__ import annotations

import struct
import zlib
from pathlib import Path

import numpy as np

try:  # zlib-ng inflates about 1.7x faster than zlib; same API and results
    from zlib_ng import zlib_ng as _inflate
except ImportError:  # pragma: no cover - the runner extras install it
    _inflate = zlib

# Element type codes of the IDX format -> big-endian NumPy dtype.
DTYPES: dict[int, str] = {
    0x08: "u1",   # unsigned byte
    0x09: "i1",   # signed byte
    0x0B: ">i2",  # short
    0x0C: ">i4",  # int
    0x0D: ">f4",  # float
    0x0E: ">f8",  # double
}
GZIP_MAGIC = b"\x1f\x8b"


class IdxError(ValueError):
    """A file is not a well-formed IDX file; the message names the file and what is wrong."""


def read_bytes(path: Path) -> bytes:
    """The IDX bytes of `path`, decompressed when the file is gzip-compressed (detected by content)."""
    path = Path(path)
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise IdxError(f"{path}: cannot read: {exc.strerror or exc}") from exc
    return gunzip(data, str(path)) if data[:2] == GZIP_MAGIC else data


def gunzip(data: bytes, name: str = "<bytes>") -> bytes:
    """Decompress gzip data (every member of it); IdxError naming `name` when it is corrupt or truncated."""
    parts = []
    try:
        while data:
            inflater = _inflate.decompressobj(wbits=31)
            parts.append(inflater.decompress(data))
            if not inflater.eof:
                raise EOFError("compressed data ended before the end-of-stream marker")
            data = inflater.unused_data
    except (EOFError, zlib.error, _inflate.error) as exc:
        raise IdxError(f"{name}: corrupt or truncated gzip data ({exc}); delete the file and fetch it again") from exc
    return parts[0] if len(parts) == 1 else b"".join(parts)


def parse_idx(data: bytes, name: str = "<bytes>") -> np.ndarray:
    """Decode IDX bytes into an array with native byte order; `name` is used in error messages."""
    if len(data) < 4:
        raise IdxError(f"{name}: truncated IDX file: {len(data)} bytes, shorter than the 4-byte header")
    zero, code, ndim = data[0:2], data[2], data[3]
    if zero != b"\x00\x00" or code not in DTYPES:
        raise IdxError(f"{name}: not an IDX file (magic bytes {data[:4].hex()}, expected 0000 then a type code "
                       f"in {sorted(DTYPES)} and the number of dimensions)")
    header = 4 + 4 * ndim
    if len(data) < header:
        raise IdxError(f"{name}: truncated IDX file: header needs {header} bytes, file has {len(data)}")
    dims = struct.unpack(f">{ndim}I", data[4:header])
    dtype = np.dtype(DTYPES[code])
    count = 1
    for d in dims:
        count *= d
    expected = header + count * dtype.itemsize
    if len(data) != expected:
        what = "truncated" if len(data) < expected else "has trailing bytes"
        raise IdxError(f"{name}: {what}: shape {tuple(dims)} of {dtype.name} needs {expected} bytes, "
                       f"file has {len(data)}; delete the file and fetch it again")
    array = np.frombuffer(data, dtype=dtype, count=count, offset=header).reshape(dims)
    # A writable array in native byte order (frameworks refuse or warn on read-only buffers).
    return array.astype(dtype.newbyteorder("="), copy=True)


def read_idx(path: Path) -> np.ndarray:
    """Read an IDX file (plain or gzip-compressed) into a NumPy array.

    Raises IdxError, naming the file, when it is unreadable, not IDX, or truncated.
    """
    path = Path(path)
    return parse_idx(read_bytes(path), str(path))
