"""End to end, offline: the train workloads on MNIST, CIFAR-10 and Imagenet32 run on the CPU in both frameworks.

These datasets cannot be had on this machine (no internet; Imagenet32 is never downloaded), so each run trains on
small files made here in the real formats: MNIST's gzipped IDX files and CIFAR-10's binary tar.gz, served by a
real loopback HTTP server and downloaded, verified (SHA-256) and extracted by the runner; Imagenet32's npz zip
and extracted npz folder, placed in the data folder and read from there. The runner runs in a subprocess through
tests/dataset_runner.py, which replaces only the published specs' constants (checksums, sizes, counts, mirrors),
then calls the real runner entry point. Each run trains 1 epoch on the first 256 training samples
(`--train-samples`) and evaluates on the first 128 test samples (`--test-samples`), and its fragment must
validate with tools/validate.py.
"""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from conftest import REPO, run_tool, snapshot
from dlbench.contract.tomlio import read_toml
from test_datasets import NAMES, Fake, Server
from test_datasets_cifar_imagenet32 import ARCHIVE, BIN_NAMES, FakeCifar, FakeImagenet32, checksum, sha

WRAPPER = REPO / "tests" / "dataset_runner.py"
FRAMEWORKS = ("torch", "tensorflow")
DATASETS = {"mnist-lenet5": "mnist", "cifar10-cnn": "cifar-10", "imagenet32-cnn": "imagenet32"}
PARAMETERS = {"mnist-lenet5": 61_706, "cifar10-cnn": 1_068_298, "imagenet32-cnn": 1_259_368}  # runners/run.py --list
TRAIN_SAMPLES, TEST_SAMPLES, BATCH = 256, 128, 64
TRAINING = ("--epochs", "1", "--train-samples", str(TRAIN_SAMPLES), "--test-samples", str(TEST_SAMPLES),
            "--batch-size", str(BATCH), "--device", "cpu")


# ---------------------------------------------------------------- the fakes: the suite's, larger

class Mnist(Fake):
    """MNIST in its published form (gzipped IDX files): 1,000 train and 200 test images of 28x28."""

    def __init__(self):
        super().__init__("mnist", train=1000, test=200, seed=10)

    def specs(self, mirror: str) -> dict:
        """The wrapper's replacement spec: the published file names, these files' checksums, the loopback mirror."""
        return {"mnist": {"files": [[f.role, f.filename, f.sha256, f.raw_sha256] for f in self.spec().files],
                          "mirrors": [mirror]}}

    def dataset_sha256(self) -> str:
        """As datasets.py documents it: over the decompressed IDX files' digests, by file name."""
        return checksum({NAMES[role][:-3]: sha(raw) for role, raw in self.raw.items()})


class Cifar(FakeCifar):
    """CIFAR-10's binary version: six files of 160 records (800 train, 160 test images) and the tar.gz of them."""

    RECORDS = 160

    def __init__(self):
        super().__init__(self.RECORDS, seed=11, compresslevel=1)

    def specs(self, mirror: str) -> dict:
        return {"cifar-10": {"archive_size": len(self.tar), "archive_sha256": sha(self.tar), "mirrors": [mirror],
                             "records_per_file": self.RECORDS}}

    def dataset_sha256(self) -> str:
        """As cifar10.py documents it: over the six .bin files' digests, by file name."""
        return checksum({name: sha(data) for name, data in self.bins.items()})


class Imagenet32(FakeImagenet32):
    """Downsampled ImageNet 32x32: a train zip of two npz batches (300 images), a val npz of 150; labels 1..1000."""

    TRAIN = {"Imagenet32_train_npz/train_data_batch_1.npz": 180, "Imagenet32_train_npz/train_data_batch_2.npz": 120}
    VAL = {"val_data.npz": 150}

    def place(self, data_dir: Path) -> None:
        """The train split as its zip, the val split extracted (`unzip Imagenet32_val_npz.zip -d ...`)."""
        folder = data_dir / "imagenet32"
        folder.mkdir(parents=True)
        train_zip, _ = self.zips()
        (folder / "Imagenet32_train_npz.zip").write_bytes(train_zip)
        (folder / "Imagenet32_val_npz").mkdir()
        (folder / "Imagenet32_val_npz" / "val_data.npz").write_bytes(self.npz["val_data.npz"])

    def specs(self) -> dict:
        spec = self.spec(counts=(sum(self.TRAIN.values()), sum(self.VAL.values())))
        return {"imagenet32": {split: {"filename": s.filename, "size": s.size, "sha256": s.sha256, "count": s.count}
                               for split, s in (("train", spec.train), ("val", spec.val))}}

    def dataset_sha256(self) -> str:
        """As imagenet32.py documents it: over every npz file's digest, keyed by split and file name."""
        keys = {f"train/{Path(name).name}": sha(self.npz[name]) for name in self.TRAIN}
        keys.update({f"val/{name}": sha(self.npz[name]) for name in self.VAL})
        return checksum(keys)


# ---------------------------------------------------------------- running the wrapper

def run_with_specs(specs: dict, where: Path, *runner_args: str) -> subprocess.CompletedProcess:
    """`python tests/dataset_runner.py SPECS.json -- RUNNER_ARGS` from the repository root, as conftest.run_tool."""
    path = where / "specs.json"
    path.write_text(json.dumps(specs), encoding="utf-8")
    env = dict(os.environ)
    env.pop("GITHUB_ACTIONS", None)
    return subprocess.run([sys.executable, str(WRAPPER), str(path), "--", *runner_args], cwd=REPO, env=env,
                          capture_output=True, text=True, timeout=600)


@dataclass
class Trained:
    workload: str
    framework: str
    done: subprocess.CompletedProcess
    fragments: list[Path]
    data_dir: Path
    fake: object
    requests: list[str] = field(default_factory=list)   # paths the loopback server was asked for
    placed: dict[str, bytes] = field(default_factory=dict)  # Imagenet32: the data folder before the run

    @property
    def result(self) -> dict:
        (result,) = read_toml(self.fragments[0], "fragment").data["results"]
        return result


@pytest.fixture(scope="module", params=[(w, f) for w in DATASETS for f in FRAMEWORKS],
                ids=[f"{w}-{f}" for w in DATASETS for f in FRAMEWORKS])
def trained(request, tmp_path_factory) -> Trained:
    """One run of a workload in a framework, into fresh data and output folders."""
    workload, framework = request.param
    base = tmp_path_factory.mktemp(f"{workload}-{framework}")
    data_dir, out = base / "data", base / "out"
    args = (workload, "--framework", framework, *TRAINING, "--data-dir", str(data_dir), "--out", str(out))
    if workload == "imagenet32-cnn":  # never downloaded: no server at all
        fake = Imagenet32()
        fake.place(data_dir)
        placed = snapshot(data_dir)
        done = run_with_specs(fake.specs(), base, *args)
        return Trained(workload, framework, done, sorted(out.glob("*")), data_dir, fake, placed=placed)
    server = Server()
    try:
        if workload == "mnist-lenet5":
            fake = Mnist()
            specs = fake.specs(server.serve("/mnist", fake))
        else:
            fake = Cifar()
            server.files[f"/cifar/{ARCHIVE}"] = fake.tar
            specs = fake.specs(f"{server.url}/cifar/{ARCHIVE}")
        done = run_with_specs(specs, base, *args)
    finally:
        server.close()
    return Trained(workload, framework, done, sorted(out.glob("*")), data_dir, fake, requests=list(server.requests))


# ---------------------------------------------------------------- the runs

def test_run_succeeds_and_writes_one_fragment(trained):
    assert trained.done.returncode == 0, trained.done.stderr[-4000:]
    assert len(trained.fragments) == 1 and trained.fragments[0].suffix == ".toml"
    assert trained.done.stdout.splitlines()[0] == f"wrote {trained.fragments[0]}"
    assert "Traceback" not in trained.done.stderr


def test_fragment_validates(trained):
    assert len(trained.fragments) == 1, trained.done.stderr[-4000:]
    checked = run_tool("validate", str(trained.fragments[0]), cwd=REPO)
    assert checked.returncode == 0, checked.stdout + checked.stderr


def test_result_records_the_dataset_and_the_part_trained_on(trained):
    assert len(trained.fragments) == 1, trained.done.stderr[-4000:]
    result = trained.result
    assert result["benchmark"] == trained.workload and result["framework"] == trained.framework
    assert result["status"] == "ok"
    assert result["dataset"] == DATASETS[trained.workload]
    assert result["dataset_sha256"] == trained.fake.dataset_sha256()
    assert result["train_samples"] == TRAIN_SAMPLES and result["test_samples"] == TEST_SAMPLES
    assert result["batch_size"] == BATCH and result["epochs"] == 1
    assert result["steps"] == math.ceil(TRAIN_SAMPLES / BATCH) == 4
    assert result["parameters"] == PARAMETERS[trained.workload]
    assert result["device_kind"] == "cpu"
    m = result["metrics"]
    assert 0 <= m["accuracy"] <= 1
    assert m["compute_s"] > 0
    assert m["throughput_samples_per_s"] == pytest.approx(TRAIN_SAMPLES / m["compute_s"], rel=0.05)
    command = read_toml(trained.fragments[0], "fragment").data["provenance"]["command"]
    assert command[:4] == ["runners/run.py", trained.workload, "--framework", trained.framework]


def test_data_was_downloaded_verified_and_cached_or_read_where_placed(trained):
    assert trained.done.returncode == 0, trained.done.stderr[-4000:]
    fake = trained.fake
    if trained.workload == "mnist-lenet5":
        # each file asked for once (the runner's second load reads the cache), kept as downloaded
        assert sorted(trained.requests) == sorted(f"/mnist/{name}" for name in NAMES.values())
        cache = trained.data_dir / "mnist"
        assert sorted(p.name for p in cache.iterdir()) == sorted(NAMES.values())
        for role, name in NAMES.items():
            assert (cache / name).read_bytes() == fake.gz[role]
    elif trained.workload == "cifar10-cnn":
        assert trained.requests == [f"/cifar/{ARCHIVE}"]
        cache = trained.data_dir / "cifar-10"
        assert sorted(p.name for p in cache.iterdir()) == sorted([ARCHIVE, "cifar-10-batches-bin"])
        assert (cache / ARCHIVE).read_bytes() == fake.tar
        extracted = cache / "cifar-10-batches-bin"
        assert sorted(p.name for p in extracted.iterdir()) == sorted(BIN_NAMES)  # only the six .bin files
        for name, data in fake.bins.items():
            assert (extracted / name).read_bytes() == data
    else:
        assert trained.requests == []
        assert snapshot(trained.data_dir) == trained.placed  # read where placed: nothing added, changed or removed


# ---------------------------------------------------------------- a download that fails verification

def test_mnist_checksum_mismatch_fails_naming_the_file_and_the_mirror(tmp_path):
    fake = Mnist()
    server = Server()
    try:
        mirror = server.serve("/bad", fake, corrupt="train_x")
        out, data_dir = tmp_path / "out", tmp_path / "data"
        done = run_with_specs(fake.specs(mirror), tmp_path, "mnist-lenet5", "--framework", "torch", *TRAINING,
                              "--data-dir", str(data_dir), "--out", str(out))
    finally:
        server.close()
    assert done.returncode == 1, done.stdout + done.stderr
    assert f"{mirror}train-images-idx3-ubyte.gz: checksum mismatch" in done.stderr
    assert "mnist: could not download train-images-idx3-ubyte.gz" in done.stderr
    assert "nothing was written" in done.stderr
    assert "Traceback" not in done.stderr
    assert server.requests == ["/bad/train-images-idx3-ubyte.gz"]  # a mismatch is not retried
    assert not out.exists() or list(out.iterdir()) == []
    assert not (data_dir / "mnist").exists() or list((data_dir / "mnist").iterdir()) == []  # no bad bytes kept
