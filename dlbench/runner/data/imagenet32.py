"""Downsampled ImageNet 32x32 (Chrabaszcz, Loshchilov & Hutter 2017) for the runners, from a copy the user places.

It is never downloaded: image-net.org distributes it only to account holders who accept the ImageNet
terms of access (https://image-net.org/download-images, "Downsampled ImageNet 32x32" among the
downsampled images). `load` reads it from `<data_dir>/imagenet32/` (`--data-dir DIR`; `data_dir`
defaults to `datasets.default_cache_dir()`), each split (train, val) from either

- the extracted folder named after its zip, `Imagenet32_train_npz/` or `Imagenet32_val_npz/` (as made by
  `unzip Imagenet32_train_npz.zip -d Imagenet32_train_npz`): every `*.npz` file below it, in any
  subfolder, accepted on structure (extracted files have no published checksum); used when it holds at
  least one `.npz` file; else
- the zip itself, `Imagenet32_train_npz.zip` (3,580,435,279 bytes, SHA-256
  94226337ecc1b0309d9fcd0167127aaadc931587035fbcb53925235edbaec4fc) or `Imagenet32_val_npz.zip`
  (139,697,668 bytes, SHA-256 013990e6dec1237dcd1f9beadbab81ead6604cc119af5cacbfb59ae28148377a),
  accepted only with exactly that size and SHA-256 (checked on every load), read without extracting:
  every member whose name ends in `.npz`, whatever its folder (the member names are unconfirmed).

The `.npz` files of a split are read in the order of their file names (the name without its folders;
two with the same name in one split are refused), member by member into one preallocated array (the
training set is 1,281,167 x 3,072 bytes = 3.9 GB; one member at a time is held besides it). Each holds
`data` (N x 3072 uint8: the red, green and blue planes of a 32x32 image, row-major, like CIFAR) and
`labels` (N integers 1..1000, in the authors' class order; any other value is refused); other arrays
(the training `mean`) are ignored. They are read with NumPy's `allow_pickle=False`: an array of Python
objects is refused, never unpickled. The split must hold exactly 1,281,167 (train) or 50,000 (val) images.

`load` returns `datasets.Arrays` with images uint8 (N, 32, 32, 3) (height, width, channel: `x[n, h, w, c]`
is `data[n, c*1024 + h*32 + w]`), labels int64 (N,) in 0..999 (the file's label minus 1); the test
split is the validation set.

The dataset checksum (`Arrays.sha256`, recorded as a result's `dataset_sha256`) identifies the data
independently of how it was packed: the SHA-256 of the ASCII string made of the lowercase hex SHA-256
digests of every `.npz` file (the bytes of the extracted file, equal to the zip member's decompressed
bytes), each keyed `train/<file name>` or `val/<file name>`, sorted by key and concatenated without
separators (`datasets.combined_sha256`).
"""

from __future__ import annotations

import hashlib
import io
import zipfile
import zlib
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Callable, Sequence

import numpy as np

from dlbench.runner.data.cifar10 import planar_to_hwc
from dlbench.runner.data.datasets import Arrays, DatasetError, combined_sha256, default_cache_dir
from dlbench.runner.data.download import file_sha256

SIDE = 32
PIXELS = 3 * SIDE * SIDE
CLASSES = 1000
WHERE_TO_GET = ("https://image-net.org/download-images (log in with an image-net.org account, accept the "
                "ImageNet terms of access, then download \"Downsampled ImageNet 32x32\": the train and val "
                "npz zips)")


@dataclass(frozen=True)
class SplitSpec:
    """One published zip of the dataset and the split it holds."""

    split: str      # "train" or "val"
    filename: str   # e.g. "Imagenet32_train_npz.zip"
    size: int       # bytes of the zip
    sha256: str     # SHA-256 of the zip
    count: int      # images in the split

    @property
    def folder(self) -> str:
        """The folder its extracted .npz files go in: the zip's name without `.zip`."""
        return self.filename[:-4] if self.filename.endswith(".zip") else self.filename + ".d"


@dataclass(frozen=True)
class Imagenet32Spec:
    """Where Imagenet32 is read from and how to recognise it (tests build small ones)."""

    name: str = "imagenet32"
    train: SplitSpec = SplitSpec("train", "Imagenet32_train_npz.zip", 3_580_435_279,
                                 "94226337ecc1b0309d9fcd0167127aaadc931587035fbcb53925235edbaec4fc", 1_281_167)
    val: SplitSpec = SplitSpec("val", "Imagenet32_val_npz.zip", 139_697_668,
                               "013990e6dec1237dcd1f9beadbab81ead6604cc119af5cacbfb59ae28148377a", 50_000)


SPEC = Imagenet32Spec()


class _Rejected(Exception):
    """Files on disk are unusable; the message says which and why."""


class _Absent(Exception):
    """A split has neither its extracted folder nor its zip."""


def load(data_dir: Path | None = None, *, spec: Imagenet32Spec | None = None, mirrors: Sequence[str] | None = None,
         progress: bool = False, retries: int = 3, backoff: float = 1.0, timeout: float = 30.0) -> Arrays:
    """Load Imagenet32 from `<data_dir>/<spec.name>/`; never downloads.

    `spec` defaults to the published dataset (`SPEC`). `mirrors`, `progress`, `retries`, `backoff` and
    `timeout` are accepted for the signature all datasets share and ignored. Raises datasets.DatasetError,
    saying where to get the files and where to put them when they are missing.
    """
    spec = spec if spec is not None else SPEC
    folder = Path(data_dir if data_dir is not None else default_cache_dir()) / spec.name
    notes: list[str] = []
    sources = {}
    for split in (spec.train, spec.val):
        try:
            sources[split.split] = _sources(folder, split)
        except (_Absent, _Rejected) as exc:
            notes.append(str(exc))
    if notes:
        raise DatasetError(_missing_message(spec, folder, notes))
    digests: dict[str, str] = {}
    loaded = []
    for split in (spec.train, spec.val):
        try:
            loaded.append(_read_split(split, sources[split.split], digests))
        except _Rejected as exc:
            raise DatasetError(f"{spec.name}: {exc}") from None
    (train_x, train_y), (test_x, test_y) = loaded
    return Arrays(train_x=train_x, train_y=train_y, test_x=test_x, test_y=test_y, name=spec.name,
                  sha256=combined_sha256(digests), source=str(folder))


Source = tuple[str, str, Callable[[], bytes]]  # (file name, where, for messages; read its bytes)


def _sources(folder: Path, split: SplitSpec) -> list[Source]:
    """The .npz files of one split, sorted by file name: from its extracted folder, else from its verified zip."""
    extracted = folder / split.folder
    if extracted.is_dir():
        paths = sorted(p for p in extracted.rglob("*.npz") if p.is_file())
        if paths:
            return _unique(extracted, [(p.name, str(p), p.read_bytes) for p in paths])
    archive = folder / split.filename
    if not archive.is_file():
        held = f" ({extracted}/ holds no .npz file)" if extracted.is_dir() else ""
        raise _Absent(f"{split.split}: neither {archive} nor {extracted}/ found{held}")
    size = archive.stat().st_size
    if size != split.size:
        raise _Rejected(f"{archive}: {size} bytes, expected {split.size}; an incomplete or other copy")
    digest = file_sha256(archive)
    if digest != split.sha256:
        raise _Rejected(f"{archive}: checksum mismatch (got sha256 {digest}, expected {split.sha256})")
    try:
        with zipfile.ZipFile(archive) as zf:
            members = [m for m in zf.infolist() if not m.is_dir() and m.filename.endswith(".npz")]
    except (zipfile.BadZipFile, OSError) as exc:
        raise _Rejected(f"{archive}: not a readable zip ({exc})") from None
    if not members:
        raise _Rejected(f"{archive}: holds no .npz member")
    entries = [(PurePosixPath(m.filename).name, f"{archive}:{m.filename}", _member_reader(archive, m.filename))
               for m in members]
    return _unique(archive, sorted(entries, key=lambda e: e[0]))


def _member_reader(archive: Path, member: str) -> Callable[[], bytes]:
    def read() -> bytes:
        with zipfile.ZipFile(archive) as zf:
            return zf.read(member)  # checks the member's CRC-32
    return read


def _unique(where: Path, entries: list[Source]) -> list[Source]:
    names = [name for name, _, _ in entries]
    twice = sorted({n for n in names if names.count(n) > 1})
    if twice:
        raise _Rejected(f"{where}: more than one .npz file named {', '.join(twice)}; keep one of each")
    return entries


def _read_split(split: SplitSpec, sources: list[Source], digests: dict[str, str]) -> tuple[np.ndarray, np.ndarray]:
    """Images (count, 32, 32, 3) and labels 0..999 of one split, read one .npz at a time; adds its digests."""
    images = np.empty((split.count, SIDE, SIDE, 3), dtype=np.uint8)
    labels = np.empty(split.count, dtype=np.int64)
    filled = 0
    for name, where, read in sources:
        try:
            data = read()
        except (OSError, zipfile.BadZipFile, zlib.error, EOFError, NotImplementedError, RuntimeError) as exc:
            raise _Rejected(f"{where}: cannot read ({type(exc).__name__}: {exc})") from None
        digests[f"{split.split}/{name}"] = hashlib.sha256(data).hexdigest()
        x, y = _decode(data, where)
        del data
        n = len(x)
        if filled + n > split.count:
            raise _Rejected(f"{where}: the {split.split} files hold more than the {split.count} images of the "
                            f"{split.split} split")
        planar_to_hwc(x, images[filled:filled + n])
        labels[filled:filled + n] = y
        labels[filled:filled + n] -= 1
        filled += n
        del x, y
    if filled != split.count:
        raise _Rejected(f"{split.split}: the .npz files hold {filled} images, expected {split.count}; an incomplete "
                        f"or other copy")
    return images, labels


def _decode(data: bytes, where: str) -> tuple[np.ndarray, np.ndarray]:
    """`data` (N, 3072) uint8 and `labels` (N,) of one .npz file's bytes, checked, or _Rejected."""
    opened = False
    try:
        npz = np.load(io.BytesIO(data), allow_pickle=False)
        opened = True
        if not hasattr(npz, "files"):  # a plain array: an .npy, not an .npz
            raise _Rejected(f"{where}: not an .npz archive (a single .npy array)")
        with npz:
            missing = [key for key in ("data", "labels") if key not in npz.files]
            if missing:
                raise _Rejected(f"{where}: no {' or '.join(repr(m) for m in missing)} array (holds "
                                f"{', '.join(npz.files) or 'nothing'})")
            x, y = npz["data"], npz["labels"]
    except _Rejected:
        raise
    except ValueError as exc:
        if "pickle" in str(exc).lower() or "object" in str(exc).lower():
            if opened:
                raise _Rejected(f"{where}: holds an array of Python objects, which is never loaded (that would "
                                f"unpickle it; allow_pickle=False); expected uint8 'data' and integer "
                                f"'labels'") from None
            raise _Rejected(f"{where}: not an .npz archive (a pickle or an unknown format, never unpickled)") from None
        raise _Rejected(f"{where}: not a readable .npz archive ({exc})") from None
    except (OSError, EOFError, zipfile.BadZipFile, zlib.error, NotImplementedError, RuntimeError) as exc:
        raise _Rejected(f"{where}: not a readable .npz archive ({type(exc).__name__}: {exc})") from None
    if x.dtype != np.uint8 or x.ndim != 2 or x.shape[1] != PIXELS:
        raise _Rejected(f"{where}: 'data' is {x.dtype} {x.shape}, expected uint8 (N, {PIXELS})")
    if y.ndim != 1 or len(y) != len(x) or not np.issubdtype(y.dtype, np.integer):
        raise _Rejected(f"{where}: 'labels' is {y.dtype} {y.shape}, expected {len(x)} integers")
    bad = np.flatnonzero((y < 1) | (y > CLASSES))
    if bad.size:
        raise _Rejected(f"{where}: label {y[bad[0]]} at index {bad[0]} is out of range; Imagenet32 labels are "
                        f"1..{CLASSES}")
    return x, y


def _missing_message(spec: Imagenet32Spec, folder: Path, notes: list[str]) -> str:
    lines = [f"{spec.name}: Downsampled ImageNet 32x32 is not usable in {folder}/:"]
    lines += [f"  {note}" for note in notes]
    lines += [
        "It is never downloaded automatically: image-net.org gives it only to account holders who accept the "
        "ImageNet terms.",
        f"Get it from {WHERE_TO_GET},",
        f"and put these files in {folder}/ (or pass --data-dir DIR holding an {spec.name}/ folder):",
    ]
    lines += [f"  {s.filename}  ({s.size} bytes, sha256 {s.sha256})" for s in (spec.train, spec.val)]
    lines.append(f"or their extracted .npz files in {folder / spec.train.folder}/ and {folder / spec.val.folder}/ "
                 f"(e.g. unzip {spec.train.filename} -d {folder / spec.train.folder}).")
    return "\n".join(lines)
