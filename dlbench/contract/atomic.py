"""Crash-safe file writes: write beside, flush, rename over; and the clean-up of what a kill leaves behind.

The merge lock that used to live here is `dlbench.store.lock`.
"""

from __future__ import annotations

import os
import re
import tempfile
from pathlib import Path


def write_bytes_atomic(path: Path, data: bytes) -> None:
    """Write `data` to a temporary file beside `path`, flush it to disk, then rename it over `path`.

    A kill at any moment leaves either the old file or the new one, never a torn one.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        raise
    fsync_dir(path.parent)


def write_text_atomic(path: Path, text: str) -> None:
    write_bytes_atomic(path, text.encode("utf-8"))


# The temporary file of `write_bytes_atomic`: ".<name>.<8 random characters>.tmp" (tempfile.mkstemp).
_LEFTOVER = re.compile(r"^\..+\.[A-Za-z0-9_]{8}\.tmp$")


def remove_leftovers(directory: Path) -> None:
    """Delete the temporary files that `write_bytes_atomic` left in `directory` when killed before its rename."""
    if directory.is_dir():
        for path in directory.iterdir():
            if _LEFTOVER.match(path.name) and path.is_file():
                path.unlink()


def fsync_dir(directory: Path) -> None:
    """Make a rename in `directory` durable (best effort: not every file system allows it)."""
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)
