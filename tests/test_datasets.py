"""Dataset loading: downloads from a real loopback HTTP server, verification, caching, system folders,
and the real Fashion-MNIST from Debian's package."""

from __future__ import annotations

import gzip
import hashlib
import socket
import struct
import subprocess
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import numpy as np
import pytest

from dlbench.runner.data import datasets
from dlbench.runner.data.datasets import DatasetError, DatasetSpec, FileSpec
from conftest import REPO

FAST = {"retries": 1, "backoff": 0.01, "timeout": 5.0}
NAMES = {"train_x": "train-images-idx3-ubyte.gz", "train_y": "train-labels-idx1-ubyte.gz",
         "test_x": "t10k-images-idx3-ubyte.gz", "test_y": "t10k-labels-idx1-ubyte.gz"}


def idx(array: np.ndarray) -> bytes:
    return bytes([0, 0, 0x08, array.ndim]) + struct.pack(f">{array.ndim}I", *array.shape) + array.tobytes()


class Fake:
    """A tiny MNIST-like dataset (`train` and `test` images of 28x28): its arrays, raw IDX bytes and .gz bytes."""

    def __init__(self, name: str = "fake", train: int = 20, test: int = 5, seed: int = 0):
        rng = np.random.default_rng(seed)
        self.arrays = {"train_x": rng.integers(0, 256, (train, 28, 28), dtype=np.uint8),
                       "train_y": rng.integers(0, 10, train, dtype=np.uint8),
                       "test_x": rng.integers(0, 256, (test, 28, 28), dtype=np.uint8),
                       "test_y": rng.integers(0, 10, test, dtype=np.uint8)}
        self.raw = {role: idx(a) for role, a in self.arrays.items()}
        self.gz = {role: gzip.compress(raw, mtime=0) for role, raw in self.raw.items()}
        self.name = name

    def spec(self, mirrors=(), system_dirs=(), raw_checksums=False) -> DatasetSpec:
        files = tuple(FileSpec(role, NAMES[role], hashlib.sha256(self.gz[role]).hexdigest(),
                               hashlib.sha256(self.raw[role]).hexdigest() if raw_checksums else None)
                      for role in NAMES)
        return DatasetSpec(self.name, files, tuple(mirrors), tuple(system_dirs))

    def place(self, folder: Path, raw: bool = False) -> Path:
        """Write the files into `folder` (created): the published .gz files, or with `raw` the decompressed ones."""
        folder.mkdir(parents=True)
        for role, name in NAMES.items():
            (folder / (name[:-3] if raw else name)).write_bytes(self.raw[role] if raw else self.gz[role])
        return folder

    def expected_sha256(self) -> str:
        digests = {NAMES[r][:-3]: hashlib.sha256(self.raw[r]).hexdigest() for r in NAMES}
        return hashlib.sha256("".join(digests[n] for n in sorted(digests)).encode()).hexdigest()

    def check(self, arrays: datasets.Arrays) -> None:
        for role, expected in self.arrays.items():
            got = getattr(arrays, role)
            assert np.array_equal(got, expected)
            assert got.dtype == (np.uint8 if role.endswith("_x") else np.int64)
        assert arrays.name == self.name
        assert arrays.sha256 == self.expected_sha256()


class Server:
    """A loopback HTTP server serving `files` (URL path -> bytes) and recording the paths requested.

    `truncate[path] = n` sends the full Content-Length but only half the body, then closes the
    connection, for the next n requests of that path.
    """

    def __init__(self):
        self.files: dict[str, bytes] = {}
        self.truncate: dict[str, int] = {}
        self.stall: set[str] = set()  # paths answered with half the body, then nothing until close()
        self.release = threading.Event()
        self.requests: list[str] = []
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):
                outer.requests.append(self.path)
                body = outer.files.get(self.path)
                if body is None:
                    self.send_error(404)
                    return
                self.send_response(200)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                if self.path in outer.stall:
                    self.wfile.write(body[: len(body) // 2])
                    self.wfile.flush()
                    outer.release.wait(30)
                    return
                if outer.truncate.get(self.path, 0) > 0:
                    outer.truncate[self.path] -= 1
                    self.wfile.write(body[: len(body) // 2])
                    self.wfile.flush()
                    self.close_connection = True
                    return
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, args=(0.05,), daemon=True)
        self.thread.start()

    def serve(self, prefix: str, fake: Fake, corrupt: str | None = None) -> str:
        for role, body in fake.gz.items():
            self.files[f"{prefix}/{NAMES[role]}"] = body[:-9] + b"corrupted" if role == corrupt else body
        return f"{self.url}{prefix}/"

    def close(self):
        self.release.set()
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def server():
    s = Server()
    yield s
    s.close()


def closed_port_url() -> str:
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    sock.close()
    return f"http://127.0.0.1:{port}/data/"


def leftovers(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.rglob("*")) if folder.exists() else []


def test_download_verifies_and_caches(tmp_path, server):
    fake = Fake()
    mirror = server.serve("/m", fake)
    arrays = datasets.load(fake.spec(), tmp_path, mirrors=[mirror], **FAST)
    fake.check(arrays)
    assert arrays.source == str(tmp_path / "fake")
    assert leftovers(tmp_path / "fake") == sorted(NAMES.values())
    assert sorted(server.requests) == sorted(f"/m/{n}" for n in NAMES.values())

    again = datasets.load(fake.spec(), tmp_path, mirrors=[mirror], **FAST)
    fake.check(again)
    assert len(server.requests) == 4  # the second load made no request


def test_spec_mirrors_used_and_registered_spec_loads_by_name(tmp_path, server):
    fake = Fake("fake-registered")
    datasets.register(fake.spec(mirrors=[server.serve("/r", fake)]))
    try:
        fake.check(datasets.load("fake-registered", tmp_path, **FAST))
    finally:
        del datasets.SPECS["fake-registered"]
    assert len(server.requests) == 4


def test_checksum_mismatch_names_file_and_location_and_leaves_nothing(tmp_path, server):
    fake = Fake()
    mirror = server.serve("/bad", fake, corrupt="train_x")
    with pytest.raises(DatasetError) as info:
        datasets.load(fake.spec(), tmp_path, mirrors=[mirror], **FAST)
    message = str(info.value)
    assert "train-images-idx3-ubyte.gz" in message
    assert "checksum mismatch" in message
    assert f"put them in {tmp_path / 'fake'}/" in message
    for name in NAMES.values():
        assert name in message  # every file to place is listed
    assert leftovers(tmp_path / "fake") == []
    assert server.requests == ["/bad/train-images-idx3-ubyte.gz"]  # a mismatch is not retried


def test_unreachable_mirror_fails_after_retries(tmp_path):
    fake = Fake()
    dead = closed_port_url()
    with pytest.raises(DatasetError) as info:
        datasets.load(fake.spec(), tmp_path, mirrors=[dead], retries=2, backoff=0.01, timeout=5.0)
    message = str(info.value)
    assert f"{dead}train-images-idx3-ubyte.gz: unreachable" in message
    assert "(3 tries)" in message
    assert str(tmp_path / "fake") in message
    assert leftovers(tmp_path / "fake") == []


def test_falls_back_to_second_mirror(tmp_path, server):
    fake = Fake()
    arrays = datasets.load(fake.spec(), tmp_path, mirrors=[closed_port_url(), server.serve("/ok", fake)], **FAST)
    fake.check(arrays)
    assert len(server.requests) == 4


def test_missing_file_on_first_mirror_falls_back(tmp_path, server):
    fake = Fake()
    first = server.serve("/one", fake)
    del server.files["/one/t10k-labels-idx1-ubyte.gz"]
    fake.check(datasets.load(fake.spec(), tmp_path, mirrors=[first, server.serve("/two", fake)], **FAST))
    assert "/two/t10k-labels-idx1-ubyte.gz" in server.requests
    assert server.requests.count("/one/t10k-labels-idx1-ubyte.gz") == 1  # a 404 is not retried


def test_interrupted_download_leaves_no_partial_file(tmp_path, server):
    fake = Fake()
    mirror = server.serve("/cut", fake)
    server.truncate["/cut/train-images-idx3-ubyte.gz"] = 100
    size = len(fake.gz["train_x"])
    with pytest.raises(DatasetError, match=f"connection closed after {size // 2} of {size} bytes"):
        datasets.load(fake.spec(), tmp_path, mirrors=[mirror], **FAST)
    assert leftovers(tmp_path / "fake") == []
    assert server.requests.count("/cut/train-images-idx3-ubyte.gz") == 2  # first try + one retry


def test_interrupted_download_is_retried(tmp_path, server):
    fake = Fake()
    mirror = server.serve("/flaky", fake)
    server.truncate["/flaky/t10k-images-idx3-ubyte.gz"] = 1
    fake.check(datasets.load(fake.spec(), tmp_path, mirrors=[mirror], **FAST))
    assert len(server.requests) == 5
    assert leftovers(tmp_path / "fake") == sorted(NAMES.values())


def test_killed_download_leaves_no_file_under_the_final_name(tmp_path, server):
    fake = Fake()
    mirror = server.serve("/slow", fake)
    server.stall.add("/slow/train-images-idx3-ubyte.gz")
    code = ("import sys; from pathlib import Path; sys.path.insert(0, sys.argv[1]); from dlbench.runner.data import datasets; "
            "from dlbench.runner.data.datasets import DatasetSpec, FileSpec; "
            f"datasets.load({fake.spec()!r}, Path(sys.argv[2]), mirrors=[sys.argv[3]])")
    child = subprocess.Popen([sys.executable, "-c", code, str(REPO), str(tmp_path), mirror])
    try:
        folder = tmp_path / "fake"
        deadline = time.monotonic() + 60
        while not any(p.stat().st_size > 0 for p in folder.glob(".*.part")) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert any(folder.glob(".train-images-idx3-ubyte.gz.*.part")), "the child never started writing"
    finally:
        child.kill()
        child.wait()
    assert not (folder / "train-images-idx3-ubyte.gz").exists()
    server.stall.clear()
    fake.check(datasets.load(fake.spec(), tmp_path, mirrors=[mirror], **FAST))


def test_corrupt_cached_file_is_replaced(tmp_path, server):
    fake = Fake()
    folder = fake.place(tmp_path / "fake")
    (folder / NAMES["test_y"]).write_bytes(b"garbage")
    fake.check(datasets.load(fake.spec(), tmp_path, mirrors=[server.serve("/fix", fake)], **FAST))
    assert server.requests == ["/fix/t10k-labels-idx1-ubyte.gz"]
    assert (folder / NAMES["test_y"]).read_bytes() == fake.gz["test_y"]


def test_no_mirror_error_says_what_to_put_where(tmp_path):
    fake = Fake()
    with pytest.raises(DatasetError) as info:
        datasets.load(fake.spec(), tmp_path, mirrors=[])
    message = str(info.value)
    assert f"put them in {tmp_path / 'fake'}/" in message
    for role, name in NAMES.items():
        assert f"{name}  (sha256 {hashlib.sha256(fake.gz[role]).hexdigest()})" in message


def test_system_dir_first_accepts_recompressed_and_plain_files(tmp_path):
    fake = Fake()
    system = tmp_path / "system"
    system.mkdir()
    for role, name in NAMES.items():
        if role == "train_x":  # decompressed file
            (system / name[:-3]).write_bytes(fake.raw[role])
        else:  # recompressed: other .gz bytes, same content
            (system / name).write_bytes(gzip.compress(fake.raw[role], compresslevel=1, mtime=12345))
    arrays = datasets.load(fake.spec(system_dirs=[system], raw_checksums=True), tmp_path / "cache", mirrors=[])
    fake.check(arrays)
    assert arrays.source == str(system)
    assert not (tmp_path / "cache").exists()


def test_bad_system_dir_is_skipped_for_the_cache(tmp_path, server):
    fake = Fake()
    system = fake.place(tmp_path / "system")
    other = idx(np.zeros(20, dtype=np.uint8))
    (system / NAMES["train_y"]).write_bytes(gzip.compress(other, mtime=0))
    spec = fake.spec(system_dirs=[system], raw_checksums=True)
    arrays = datasets.load(spec, tmp_path / "cache", mirrors=[server.serve("/c", fake)], **FAST)
    fake.check(arrays)
    assert arrays.source == str(tmp_path / "cache" / "fake")
    assert (system / NAMES["train_y"]).read_bytes() == gzip.compress(other, mtime=0)  # system files are never touched


def test_unverifiable_plain_file_without_raw_checksum_is_refused(tmp_path):
    fake = Fake()
    fake.place(tmp_path / "fake", raw=True)
    with pytest.raises(DatasetError, match="no published checksum for the uncompressed file"):
        datasets.load(fake.spec(), tmp_path, mirrors=[])


def test_unknown_dataset():
    with pytest.raises(DatasetError, match="unknown dataset 'nope'; known datasets: fashion-mnist, mnist"):
        datasets.load("nope")


def test_default_cache_dir():
    path = datasets.default_cache_dir()
    assert path.parts[-2:] == ("dlbench", "datasets")
    assert path.is_absolute()


# SHA-256 of the decompressed Fashion-MNIST files, from /work/shared/reference/datasets.md.
FASHION_RAW_SHA256 = {
    "train-images-idx3-ubyte": "c59f468a2f672dc815687fe0f83887768d799fd8a3f3276145d20f83aa44d888",
    "train-labels-idx1-ubyte": "bad3541b69d912435c50bb6ba87bec294ff4f6a2e1246121d8633921760443d9",
    "t10k-images-idx3-ubyte": "5b4141f0afbad91edebe8549f8fcffe087ea10ca49f1dbef5c9a5cd8815ce37b",
    "t10k-labels-idx1-ubyte": "0402a96d92fd2663957122ceb108a494c5af83dab82d92729df917d7dec38c34",
}


def test_real_fashion_mnist_from_debian_package(tmp_path):
    """Needs Debian's dataset-fashion-mnist (tools/setup.sh installs it): a missing dataset fails."""
    arrays = datasets.load("fashion-mnist", tmp_path, mirrors=[])
    assert arrays.source == "/usr/share/datasets/fashion-mnist"
    assert arrays.train_x.shape == (60000, 28, 28) and arrays.train_x.dtype == np.uint8
    assert arrays.test_x.shape == (10000, 28, 28)
    assert arrays.train_y.dtype == np.int64 and arrays.train_y.shape == (60000,)
    assert np.bincount(arrays.train_y).tolist() == [6000] * 10
    assert np.bincount(arrays.test_y).tolist() == [1000] * 10
    joined = "".join(FASHION_RAW_SHA256[name] for name in sorted(FASHION_RAW_SHA256))
    assert arrays.sha256 == hashlib.sha256(joined.encode()).hexdigest()
    assert not (tmp_path / "fashion-mnist").exists()  # nothing downloaded or copied
