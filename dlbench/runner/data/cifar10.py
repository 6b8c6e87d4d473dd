"""CIFAR-10 for the runners, from its binary version: found on disk or downloaded once, always verified.

Where `load` looks, in `<data_dir>/cifar-10/` (`data_dir` defaults to `datasets.default_cache_dir()`):

1. the extracted folder `cifar-10-batches-bin/` holding `data_batch_1.bin` ... `data_batch_5.bin` and
   `test_batch.bin`: used when every file has its exact size (10,000 records of 3,073 bytes =
   30,730,000 bytes) and every label is 0..9;
2. the archive `cifar-10-binary.tar.gz` (170,052,171 bytes, SHA-256
   c4a38c50a1bc5f3a1c5537f2155ab9d68f9f25eb1ed8d9ddda3db29a59bca1dd), placed there by the user or
   downloaded from the mirrors (https://www.cs.toronto.edu/~kriz/ by default) with
   `dlbench.runner.data.download.fetch`: accepted only with exactly that size and SHA-256 (a placed
   archive that fails is removed and downloaded again), then extracted into `cifar-10-batches-bin/`.
   The archive is kept, so a damaged folder is re-extracted without downloading.

Extraction is safe and atomic: every member of the archive is checked before anything is trusted (an
absolute path, a `..` component, a symbolic or hard link, a device or other special file refuses the
whole archive; `tarfile.data_filter` is applied as a second check where Python has it); only the six
expected `.bin` members are written, each checked for its exact size, into a temporary folder
`.cifar-10-batches-bin.<random>.part/` that is renamed to `cifar-10-batches-bin/` once complete, so an
interrupted extraction never leaves a folder under the final name.

A record is 1 label byte then 3,072 pixel bytes: the red, green and blue planes, each 32x32 row-major.
`load` returns `datasets.Arrays` with images uint8 (N, 32, 32, 3) (height, width, channel: converted
from the planar record, so `x[n, h, w, c]` is byte `1 + c*1024 + h*32 + w` of record n) and labels
int64 (N,) in 0..9: 50,000 training images (the five data batches in order) and 10,000 test images.

The dataset checksum (`Arrays.sha256`, recorded as a result's `dataset_sha256`) identifies the data
independently of the archive's compression: the SHA-256 of the ASCII string made of the lowercase hex
SHA-256 digests of the six `.bin` files, sorted by file name (data_batch_1.bin ... data_batch_5.bin,
test_batch.bin) and concatenated without separators (`datasets.combined_sha256`).
"""

from __future__ import annotations

import gzip
import hashlib
import os
import shutil
import tarfile
import tempfile
import time
import zlib
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Sequence

import numpy as np

from dlbench.contract.atomic import fsync_dir
from dlbench.runner.data.datasets import Arrays, DatasetError, combined_sha256, default_cache_dir
from dlbench.runner.data.download import CHUNK, STALE_PART_S, DownloadError, fetch, file_sha256

SIDE = 32
PIXELS = 3 * SIDE * SIDE   # bytes of one image
RECORD = 1 + PIXELS        # label byte + image
CLASSES = 10


@dataclass(frozen=True)
class CifarSpec:
    """Where CIFAR-10 comes from and how to recognise it (tests build small ones)."""

    name: str = "cifar-10"
    archive: str = "cifar-10-binary.tar.gz"
    archive_size: int = 170_052_171
    archive_sha256: str = "c4a38c50a1bc5f3a1c5537f2155ab9d68f9f25eb1ed8d9ddda3db29a59bca1dd"
    mirrors: tuple[str, ...] = ("https://www.cs.toronto.edu/~kriz/cifar-10-binary.tar.gz",)
    folder: str = "cifar-10-batches-bin"   # the folder inside the archive, and the extracted one
    train_files: tuple[str, ...] = tuple(f"data_batch_{i}.bin" for i in range(1, 6))
    test_files: tuple[str, ...] = ("test_batch.bin",)
    records_per_file: int = 10_000
    dataset_sha256: str | None = None      # when known, extracted files must give this checksum

    @property
    def files(self) -> tuple[str, ...]:
        return self.train_files + self.test_files

    @property
    def file_size(self) -> int:
        return self.records_per_file * RECORD


SPEC = CifarSpec()


class _Rejected(Exception):
    """Files on disk are unusable; the message says which and why."""


def load(data_dir: Path | None = None, *, spec: CifarSpec | None = None, mirrors: Sequence[str] | None = None,
         progress: bool = False, retries: int = 3, backoff: float = 1.0, timeout: float = 30.0) -> Arrays:
    """Load CIFAR-10 from `<data_dir>/<spec.name>/`, downloading the archive once when needed.

    `spec` defaults to the published dataset (`SPEC`); `mirrors` replaces its download mirrors (an empty
    list forbids downloading); `progress`, `retries`, `backoff` and `timeout` tune the download (see
    `dlbench.runner.data.download.fetch`). Raises datasets.DatasetError.
    """
    spec = spec if spec is not None else SPEC
    cache = Path(data_dir if data_dir is not None else default_cache_dir()) / spec.name
    folder = cache / spec.folder
    notes: list[str] = []
    if folder.is_dir():
        try:
            return _read_folder(spec, folder)
        except _Rejected as exc:
            notes.append(str(exc))
    archive = cache / spec.archive
    try:
        if not _archive_ok(spec, archive, notes):
            try:
                fetch(list(spec.mirrors if mirrors is None else mirrors), archive, spec.archive_sha256,
                      progress=progress, retries=retries, backoff=backoff, timeout=timeout)
            except DownloadError as exc:
                raise DatasetError(_missing_message(spec, cache, exc, notes)) from None
            if archive.stat().st_size != spec.archive_size:  # the checksum matched: the spec is wrong
                raise DatasetError(f"{spec.name}: {archive}: {archive.stat().st_size} bytes, expected "
                                   f"{spec.archive_size}")
        _extract(spec, archive, folder)
    except _Rejected as exc:
        raise DatasetError(f"{spec.name}: {exc}") from None
    except OSError as exc:
        raise DatasetError(f"{spec.name}: cannot write to the cache folder {cache}/ ({exc.strerror or exc}); "
                           f"pass a writable data directory") from None
    try:
        return _read_folder(spec, folder)
    except _Rejected as exc:  # freshly extracted from the verified archive: the spec itself is wrong
        raise DatasetError(f"{spec.name}: {exc}") from None


def _archive_ok(spec: CifarSpec, archive: Path, notes: list[str]) -> bool:
    """Whether `archive` is on disk with the published size and SHA-256; a bad one is removed (noted)."""
    if not archive.is_file():
        return False
    size = archive.stat().st_size
    if size != spec.archive_size:
        problem = f"{size} bytes, expected {spec.archive_size}"
    else:
        try:
            digest = file_sha256(archive)
        except OSError as exc:
            notes.append(f"{archive}: cannot read ({exc.strerror or exc})")
            return False
        if digest == spec.archive_sha256:
            return True
        problem = f"checksum mismatch (got sha256 {digest}, expected {spec.archive_sha256})"
    notes.append(f"{archive}: {problem}; removed it")
    archive.unlink(missing_ok=True)
    return False


def _read_folder(spec: CifarSpec, folder: Path) -> Arrays:
    """The dataset in the extracted `folder`, or _Rejected naming the file that is missing or wrong."""
    missing = [name for name in spec.files if not (folder / name).is_file()]
    if missing:
        raise _Rejected(f"{folder}/: missing {', '.join(missing)}")
    digests: dict[str, str] = {}
    splits = []
    for names in (spec.train_files, spec.test_files):
        n = spec.records_per_file
        images = np.empty((n * len(names), SIDE, SIDE, 3), dtype=np.uint8)
        labels = np.empty(n * len(names), dtype=np.int64)
        for i, name in enumerate(names):
            path = folder / name
            try:
                data = path.read_bytes()
            except OSError as exc:
                raise _Rejected(f"{path}: cannot read ({exc.strerror or exc})") from None
            if len(data) != spec.file_size:
                raise _Rejected(f"{path}: {len(data)} bytes, expected {spec.file_size} ({n} records of {RECORD} "
                                f"bytes)")
            records = np.frombuffer(data, dtype=np.uint8).reshape(n, RECORD)
            bad = np.flatnonzero(records[:, 0] >= CLASSES)
            if bad.size:
                raise _Rejected(f"{path}: record {bad[0]} has label {records[bad[0], 0]}; CIFAR-10 labels are "
                                f"0..{CLASSES - 1}")
            labels[i * n:(i + 1) * n] = records[:, 0]
            planar_to_hwc(records[:, 1:], images[i * n:(i + 1) * n])
            digests[name] = hashlib.sha256(data).hexdigest()
        splits.append((images, labels))
    sha256 = combined_sha256(digests)
    if spec.dataset_sha256 is not None and sha256 != spec.dataset_sha256:
        raise _Rejected(f"{folder}/: checksum mismatch (the six .bin files give dataset sha256 {sha256}, "
                        f"expected {spec.dataset_sha256})")
    (train_x, train_y), (test_x, test_y) = splits
    return Arrays(train_x=train_x, train_y=train_y, test_x=test_x, test_y=test_y, name=spec.name, sha256=sha256,
                  source=str(folder))


def planar_to_hwc(planar: np.ndarray, out: np.ndarray, block: int = 256) -> None:
    """Copy images (N, 3072) made of the R, G and B planes, each 32x32 row-major, into `out` (N, 32, 32, 3).

    One plane at a time, `block` images at a time (they stay in the CPU cache): several times faster than
    assigning the transposed (N, 3, 32, 32) view.
    """
    plane = SIDE * SIDE
    pixels = out.reshape(len(planar), plane, 3)  # a view: `out` is C-contiguous
    for start in range(0, len(planar), block):
        src, dst = planar[start:start + block], pixels[start:start + block]
        for c in range(3):
            dst[:, :, c] = src[:, c * plane:(c + 1) * plane]


def _member_problem(member: tarfile.TarInfo, dest: Path) -> str | None:
    """Why extracting `member` would be unsafe, or None."""
    name = member.name
    path = PurePosixPath(name)
    if path.is_absolute() or name.startswith("\\") or (len(name) > 1 and name[1] == ":"):
        return "an absolute path"
    if ".." in path.parts or ".." in PurePosixPath(name.replace("\\", "/")).parts:
        return "a '..' component (a path leaving the destination)"
    if member.issym() or member.islnk():
        return f"a {'symbolic' if member.issym() else 'hard'} link (to {member.linkname!r})"
    if member.isdev():
        return "a device or FIFO"
    if not (member.isfile() or member.isdir()):
        return "not a regular file or folder"
    data_filter = getattr(tarfile, "data_filter", None)  # Python 3.10.12+, 3.11.4+
    if data_filter is not None:
        try:
            data_filter(member, str(dest))
        except tarfile.FilterError as exc:
            return f"refused by tarfile's data filter ({exc})"
    return None


def _extract(spec: CifarSpec, archive: Path, folder: Path) -> None:
    """Extract the six .bin members of `archive` into `folder` (replaced), or _Rejected saying why."""
    _remove_stale_parts(folder)
    expected = {f"{spec.folder}/{name}": name for name in spec.files}
    tmp = Path(tempfile.mkdtemp(prefix=f".{folder.name}.", suffix=".part", dir=folder.parent))
    try:
        written: set[str] = set()
        try:
            with tarfile.open(archive, mode="r|gz") as tar:
                for member in tar:
                    problem = _member_problem(member, folder.parent)
                    if problem is not None:
                        raise _Rejected(f"{archive}: refused to extract: member {member.name!r} is {problem}; "
                                        f"nothing was extracted. Delete the file and download the official "
                                        f"{spec.archive} again")
                    target = expected.get("/".join(p for p in PurePosixPath(member.name).parts if p != "."))
                    if target is None or not member.isfile():
                        continue  # batches.meta.txt, readme.html, folders
                    if target in written:
                        raise _Rejected(f"{archive}: member {member.name!r} appears twice")
                    if member.size != spec.file_size:
                        raise _Rejected(f"{archive}: member {member.name!r} has {member.size} bytes, expected "
                                        f"{spec.file_size} ({spec.records_per_file} records of {RECORD} bytes)")
                    _write_member(tar, member, tmp / target)
                    written.add(target)
        except (tarfile.TarError, EOFError, zlib.error, gzip.BadGzipFile) as exc:
            raise _Rejected(f"{archive}: corrupt archive ({type(exc).__name__}: {exc}); delete it and download "
                            f"{spec.archive} again") from None
        missing = [name for name in spec.files if name not in written]
        if missing:
            raise _Rejected(f"{archive}: the archive lacks {', '.join(f'{spec.folder}/{m}' for m in missing)}")
        fsync_dir(tmp)
        if folder.is_symlink() or folder.is_file():  # rejected earlier: replace it
            folder.unlink()
        elif folder.exists():
            shutil.rmtree(folder)
        try:
            os.replace(tmp, folder)
        except OSError:
            if not folder.is_dir():  # else another process extracted it meanwhile
                raise
        fsync_dir(folder.parent)
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)


def _write_member(tar: tarfile.TarFile, member: tarfile.TarInfo, target: Path) -> None:
    source = tar.extractfile(member)
    if source is None:
        raise _Rejected(f"member {member.name!r} cannot be read")
    with source, open(target, "wb") as out:
        shutil.copyfileobj(source, out, CHUNK)
        size = out.tell()
        out.flush()
        os.fsync(out.fileno())
    if size != member.size:
        raise _Rejected(f"member {member.name!r}: read {size} of {member.size} bytes")


def _remove_stale_parts(folder: Path) -> None:
    """Remove temporary folders a killed extraction left behind (never a live one: they are old)."""
    now = time.time()
    for part in folder.parent.glob(f".{folder.name}.*.part"):
        try:
            if now - part.stat().st_mtime > STALE_PART_S:
                shutil.rmtree(part)
        except OSError:
            pass


def _missing_message(spec: CifarSpec, cache: Path, exc: DownloadError, notes: list[str]) -> str:
    lines = [f"{spec.name}: could not download {exc.filename}:"]
    lines += [f"  {attempt}" for attempt in exc.attempts]
    lines += [f"  {note}" for note in notes]
    lines += [
        f"Download the CIFAR-10 binary version yourself and put it in {cache}/ (or pass another data directory "
        f"holding a {spec.name}/ folder):",
        f"  {spec.archive}  ({spec.archive_size} bytes, sha256 {spec.archive_sha256})",
        f"  from {spec.mirrors[0] if spec.mirrors else 'https://www.cs.toronto.edu/~kriz/cifar.html'}",
        f"or extract it there, so that {cache / spec.folder}/ holds {', '.join(spec.files)} "
        f"({spec.file_size} bytes each).",
    ]
    return "\n".join(lines)
