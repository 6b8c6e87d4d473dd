"""The datasets the runners train on, by name: found on disk or downloaded once; downloads always verified.

MNIST-style datasets (IDX files: "mnist", "fashion-mnist", and any spec `register`ed) are handled here,
as described below. Datasets of colour images that come as archives have their own module, which
`load` dispatches to by name: "cifar-10" (`cifar10.py`, downloaded once) and "imagenet32"
(`imagenet32.py`, read from a copy the user places, never downloaded); each module's documentation
says where it looks and how its checksum is defined.

Where `load(name)` looks, in order:

1. the dataset's system folders (Debian's `dataset-fashion-mnist` package installs Fashion-MNIST in
   `/usr/share/datasets/fashion-mnist/`): used when they hold all four files and every one verifies;
2. the cache folder `<data_dir>/<name>/` (`data_dir` defaults to `default_cache_dir()`); files that
   are missing there, or fail verification, are downloaded from the mirrors into it.

Each file may be the published `.gz` or its decompressed IDX file (the name without `.gz`). A file is
accepted when its decompressed bytes have the SHA-256 listed in the spec, or, where the spec lists
none, when the `.gz` has the published SHA-256 (downloads are always checked against the latter).

The dataset checksum (`Arrays.sha256`, recorded as a result's `dataset_sha256`) identifies the data
independently of compression and mirror: the SHA-256 of the ASCII string made of the lowercase hex
SHA-256 digests of the four decompressed IDX files, sorted by their file names (t10k-images,
t10k-labels, train-images, train-labels) and concatenated without separators.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Sequence

import numpy as np
import platformdirs

from dlbench.runner.data.download import DownloadError, fetch
from dlbench.runner.data.idx import GZIP_MAGIC, IdxError, gunzip, parse_idx

ROLES = ("train_x", "train_y", "test_x", "test_y")


class DatasetError(Exception):
    """A dataset could not be loaded; the message says what failed and which files to put where."""


class PartTooLarge(ValueError):
    """More samples were asked of a split (`split`: "training" or "test") than it holds."""

    def __init__(self, split: str, message: str):
        super().__init__(message)
        self.split = split


@dataclass(frozen=True)
class FileSpec:
    """One published file of a dataset."""

    role: str                      # train_x, train_y, test_x or test_y
    filename: str                  # name as published, e.g. "train-images-idx3-ubyte.gz"
    sha256: str                    # SHA-256 of the published .gz bytes
    raw_sha256: str | None = None  # SHA-256 of the decompressed IDX bytes, when known

    @property
    def raw_filename(self) -> str:
        return self.filename[:-3] if self.filename.endswith(".gz") else self.filename


@dataclass(frozen=True)
class DatasetSpec:
    """Where a dataset comes from and how to recognise it."""

    name: str
    files: tuple[FileSpec, ...]
    mirrors: tuple[str, ...]
    system_dirs: tuple[Path, ...] = ()
    hint: str = ""                 # extra advice for error messages (e.g. a package to install)

    def file(self, role: str) -> FileSpec:
        return next(f for f in self.files if f.role == role)


@dataclass(frozen=True)
class Arrays:
    """A loaded dataset: images uint8, (N, H, W) grayscale or (N, H, W, 3) colour (RGB); labels int64 (N,)."""

    train_x: np.ndarray = field(repr=False)
    train_y: np.ndarray = field(repr=False)
    test_x: np.ndarray = field(repr=False)
    test_y: np.ndarray = field(repr=False)
    name: str
    sha256: str   # see the module documentation for how it is computed
    source: str   # the folder the files came from

    def head(self, train: int | None = None, test: int | None = None) -> "Arrays":
        """The first `train` training and first `test` test samples, in the dataset's own order (None: all of a
        split); views, not copies. `sha256` and `source` still name the whole dataset. PartTooLarge when a split
        holds fewer samples than asked for."""
        for what, n, have in (("training", train, len(self.train_y)), ("test", test, len(self.test_y))):
            if n is not None and n > have:
                raise PartTooLarge(what, f"{n:,} {what} samples asked for, but the {what} split of {self.name} "
                                         f"holds {have:,}")
        return replace(self, train_x=self.train_x[:train], train_y=self.train_y[:train],
                       test_x=self.test_x[:test], test_y=self.test_y[:test])


def _files(specs: list[tuple[str, str, str, str | None]]) -> tuple[FileSpec, ...]:
    return tuple(FileSpec(role, name, sha, raw) for role, name, sha, raw in specs)


SPECS: dict[str, DatasetSpec] = {
    "mnist": DatasetSpec(
        name="mnist",
        files=_files([
            ("train_x", "train-images-idx3-ubyte.gz",
             "440fcabf73cc546fa21475e81ea370265605f56be210a4024d2ca8f203523609", None),
            ("train_y", "train-labels-idx1-ubyte.gz",
             "3552534a0a558bbed6aed32b30c495cca23d567ec52cac8be1a0730e8010255c", None),
            ("test_x", "t10k-images-idx3-ubyte.gz",
             "8d422c7b0a1c1c79245a5bcf07fe86e33eeafee792b84584aec276f5a2dbc4e6", None),
            ("test_y", "t10k-labels-idx1-ubyte.gz",
             "f7ae60f92e00ec6debd23a6088c31dbd2371eca3ffa0defaefb259924204aec6", None),
        ]),
        mirrors=(  # HTTPS mirrors first: yann.lecun.com often refuses or stalls
            "https://ossci-datasets.s3.amazonaws.com/mnist/",
            "https://storage.googleapis.com/cvdf-datasets/mnist/",
            "http://yann.lecun.com/exdb/mnist/",
        ),
    ),
    "fashion-mnist": DatasetSpec(
        name="fashion-mnist",
        files=_files([
            ("train_x", "train-images-idx3-ubyte.gz",
             "3aede38d61863908ad78613f6a32ed271626dd12800ba2636569512369268a84",
             "c59f468a2f672dc815687fe0f83887768d799fd8a3f3276145d20f83aa44d888"),
            ("train_y", "train-labels-idx1-ubyte.gz",
             "a04f17134ac03560a47e3764e11b92fc97de4d1bfaf8ba1a3aa29af54cc90845",
             "bad3541b69d912435c50bb6ba87bec294ff4f6a2e1246121d8633921760443d9"),
            ("test_x", "t10k-images-idx3-ubyte.gz",
             "346e55b948d973a97e58d2351dde16a484bd415d4595297633bb08f03db6a073",
             "5b4141f0afbad91edebe8549f8fcffe087ea10ca49f1dbef5c9a5cd8815ce37b"),
            ("test_y", "t10k-labels-idx1-ubyte.gz",
             "67da17c76eaffca5446c3361aaab5c3cd6d1c2608764d35dfb1850b086bf8dd5",
             "0402a96d92fd2663957122ceb108a494c5af83dab82d92729df917d7dec38c34"),
        ]),
        mirrors=(
            "https://storage.googleapis.com/tensorflow/tf-keras-datasets/",
            "http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/",
        ),
        system_dirs=(Path("/usr/share/datasets/fashion-mnist"),),
        hint="On Debian or Ubuntu, `apt-get install dataset-fashion-mnist` provides the files.",
    ),
}


def register(spec: DatasetSpec) -> None:
    """Make `spec` loadable by name (replacing a spec of the same name)."""
    SPECS[spec.name] = spec


def default_cache_dir() -> Path:
    """The per-user cache folder datasets are downloaded into: `<user cache dir>/dlbench/datasets`."""
    return Path(platformdirs.user_cache_dir("dlbench")) / "datasets"


def combined_sha256(raw_digests: dict[str, str]) -> str:
    """The dataset checksum from {decompressed file name: hex SHA-256} (see the module documentation)."""
    joined = "".join(raw_digests[name].lower() for name in sorted(raw_digests))
    return hashlib.sha256(joined.encode("ascii")).hexdigest()


class _Rejected(Exception):
    """A file on disk is unusable; the message says why."""


# Datasets loaded by their own module (archives of colour images), by name.
MODULE_DATASETS = ("cifar-10", "imagenet32")


def load(name: str | DatasetSpec, data_dir: Path | None = None, *, mirrors: Sequence[str] | None = None,
         progress: bool = False, retries: int = 3, backoff: float = 1.0, timeout: float = 30.0) -> Arrays:
    """Load a dataset by name (a key of SPECS or of MODULE_DATASETS) or from an explicit DatasetSpec.

    `data_dir` replaces the default cache folder (files live in `<data_dir>/<name>/`); `mirrors`
    replaces the spec's download mirrors (an empty list forbids downloading); `retries`, `backoff`
    and `timeout` tune downloads (see `dlbench.runner.data.download.fetch`); `progress` shows download progress
    bars when stderr is a terminal. Raises DatasetError.
    """
    if isinstance(name, str) and name not in SPECS and name in MODULE_DATASETS:
        return _module_loader(name)(data_dir, mirrors=mirrors, progress=progress, retries=retries,
                                    backoff=backoff, timeout=timeout)
    spec = _spec(name)
    cache = Path(data_dir if data_dir is not None else default_cache_dir()) / spec.name
    notes: list[str] = []
    for folder in spec.system_dirs:
        if not all(_on_disk(folder, f) for f in spec.files):
            continue
        try:
            return _assemble(spec, folder, {f.role: _read_verified(_on_disk(folder, f), f) for f in spec.files})
        except _Rejected as exc:
            notes.append(str(exc))
    loaded = {}
    for f in spec.files:
        loaded[f.role] = _from_cache(spec, f, cache, list(spec.mirrors if mirrors is None else mirrors), notes,
                                     progress=progress, retries=retries, backoff=backoff, timeout=timeout)
    return _assemble(spec, cache, loaded)


def _module_loader(name: str):
    """The `load` function of the module of a dataset named in MODULE_DATASETS (imported on first use)."""
    if name == "cifar-10":
        from dlbench.runner.data import cifar10 as module
    else:
        from dlbench.runner.data import imagenet32 as module
    return module.load


def _spec(name: str | DatasetSpec) -> DatasetSpec:
    if isinstance(name, DatasetSpec):
        return name
    try:
        return SPECS[name]
    except KeyError:
        known = [*sorted(SPECS), *(n for n in MODULE_DATASETS if n not in SPECS)]
        raise DatasetError(f"unknown dataset {name!r}; known datasets: {', '.join(known)}") from None


def _on_disk(folder: Path, f: FileSpec) -> Path | None:
    for candidate in (folder / f.filename, folder / f.raw_filename):
        if candidate.is_file():
            return candidate
    return None


def _from_cache(spec: DatasetSpec, f: FileSpec, cache: Path, mirrors: list[str], notes: list[str],
                **download) -> tuple[np.ndarray, str]:
    path = _on_disk(cache, f)
    if path is not None:
        try:
            return _read_verified(path, f)
        except _Rejected as exc:
            notes.append(f"{exc}; removed it")
            path.unlink(missing_ok=True)
    try:
        path = fetch(mirrors, cache / f.filename, f.sha256, **download)
    except DownloadError as exc:
        raise DatasetError(_missing_message(spec, cache, exc, notes)) from None
    except OSError as exc:
        raise DatasetError(f"{spec.name}: cannot write to the cache folder {cache}/ ({exc.strerror or exc}); "
                           f"pass a writable data directory") from None
    try:
        return _read_verified(path, f)
    except _Rejected as exc:  # verified bytes that are not IDX: the spec itself is wrong
        path.unlink(missing_ok=True)
        raise DatasetError(f"{spec.name}: {exc}") from None


def _read_verified(path: Path, f: FileSpec) -> tuple[np.ndarray, str]:
    """The array in `path` and the SHA-256 of its decompressed bytes, or _Rejected."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise _Rejected(f"{path}: cannot read ({exc.strerror or exc})") from None
    compressed = data[:2] == GZIP_MAGIC
    if compressed:
        if f.raw_sha256 is None and hashlib.sha256(data).hexdigest() != f.sha256:
            raise _Rejected(f"{path}: checksum mismatch (expected sha256 {f.sha256} for {f.filename})")
        try:
            data = gunzip(data, str(path))
        except IdxError as exc:
            raise _Rejected(str(exc)) from None
    elif f.raw_sha256 is None:
        raise _Rejected(f"{path}: no published checksum for the uncompressed file; use {f.filename} instead")
    raw_sha = hashlib.sha256(data).hexdigest()
    if f.raw_sha256 is not None and raw_sha != f.raw_sha256:
        raise _Rejected(f"{path}: checksum mismatch (expected sha256 {f.raw_sha256} of the decompressed "
                        f"{f.raw_filename})")
    try:
        return parse_idx(data, str(path)), raw_sha
    except IdxError as exc:
        raise _Rejected(str(exc)) from None


def _assemble(spec: DatasetSpec, folder: Path, loaded: dict[str, tuple[np.ndarray, str]]) -> Arrays:
    arrays = {role: array for role, (array, _) in loaded.items()}
    for split in ("train", "test"):
        x, y = arrays[f"{split}_x"], arrays[f"{split}_y"]
        if x.ndim != 3 or x.dtype != np.uint8 or y.ndim != 1 or len(x) != len(y):
            raise DatasetError(f"{spec.name}: {folder}/: {split} files do not match: images {x.shape} {x.dtype}, "
                               f"labels {y.shape}; expected uint8 images (N, H, W) and N labels")
    digests = {spec.file(role).raw_filename: sha for role, (_, sha) in loaded.items()}
    return Arrays(train_x=arrays["train_x"], train_y=arrays["train_y"].astype(np.int64),
                  test_x=arrays["test_x"], test_y=arrays["test_y"].astype(np.int64),
                  name=spec.name, sha256=combined_sha256(digests), source=str(folder))


def _missing_message(spec: DatasetSpec, cache: Path, exc: DownloadError, notes: list[str]) -> str:
    lines = [f"{spec.name}: could not download {exc.filename}:"]
    lines += [f"  {attempt}" for attempt in exc.attempts]
    lines += [f"  {note}" for note in notes]
    lines.append(f"Download the files yourself and put them in {cache}/ (or pass another data directory "
                 f"holding a {spec.name}/ folder):")
    lines += [f"  {f.filename}  (sha256 {f.sha256})" for f in spec.files]
    if spec.system_dirs:
        lines.append("Also searched: " + ", ".join(f"{d}/" for d in spec.system_dirs))
    if spec.hint:
        lines.append(spec.hint)
    return "\n".join(lines)
