"""The merge lock: one merge at a time on a repository (the pull-request check's dry-run merge takes it too)."""

from __future__ import annotations

from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

import filelock

from .dataset import DatasetError


class Busy(Exception):
    """Another process holds the lock."""


@contextmanager
def exclusive(lock_path: Path, timeout: float) -> Iterator[None]:
    """Hold an exclusive lock on `lock_path` (waiting up to `timeout` seconds) for the block. A lock path that
    is a symbolic link is refused (DatasetError), never followed: a link could point the lock at any file."""
    if lock_path.is_symlink():
        raise DatasetError(f"{lock_path.name}: the merge lock is a symbolic link; remove it (a merge creates "
                           "its own)")
    lock = filelock.FileLock(str(lock_path))
    try:
        lock.acquire(timeout=timeout)
    except filelock.Timeout as exc:
        raise Busy(str(lock_path)) from exc
    try:
        yield
    finally:
        lock.release()
