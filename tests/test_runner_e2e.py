"""End to end: runners/run.py trains LeNet-5 on the real Fashion-MNIST for one epoch in each framework, writes one
valid fragment, and the fragment merges. The dataset is the copy Debian's dataset-fashion-mnist package installs
(tools/setup.sh installs it): a missing dataset fails these tests, it does not skip them."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from conftest import run_tool
from dlbench.contract.tomlio import read_toml
from dlbench.runner import allocator

FASHION_MNIST = Path("/usr/share/datasets/fashion-mnist")
# SHA-256 over the decompressed files' digests (dlbench.runner.data.datasets): the same for every copy of Fashion-MNIST.
FASHION_MNIST_SHA256 = "bd7794149301a1b0e306f972a49fdeaa6d8b48e2b83645b6abdd1f6511c61ab9"


@pytest.fixture(scope="module", params=["torch", "tensorflow"])
def one_epoch(request, tmp_path_factory):
    """(framework, process result, fragment path) of a one-epoch run into a fresh folder."""
    assert (FASHION_MNIST / "train-images-idx3-ubyte.gz").is_file(), \
        f"Fashion-MNIST is not in {FASHION_MNIST}/: run `bash tools/setup.sh` (apt package dataset-fashion-mnist)"
    out = tmp_path_factory.mktemp(f"out-{request.param}")
    cache = tmp_path_factory.mktemp("cache")  # proves the system copy is read: nothing may be downloaded here
    done = run_tool("run", "fashion-mnist-lenet5", "--framework", request.param, "--epochs", "1", "--device", "cpu",
                    "--data-dir", str(cache), "--out", str(out), timeout=900)
    fragments = list(out.iterdir())
    assert list(cache.rglob("*.gz")) == []
    return request.param, done, fragments


def test_run_writes_one_fragment_and_prints_a_summary(one_epoch):
    framework, done, fragments = one_epoch
    assert done.returncode == 0, done.stderr
    assert len(fragments) == 1 and fragments[0].suffix == ".toml"
    lines = done.stdout.splitlines()
    assert lines[0] == f"wrote {fragments[0]}"
    header = lines[1]
    for column in ("Total s", "Load s", "Calc s", "Acc", "Samples/s", "Peak RSS"):
        assert column in header
    assert "fashion-mnist-lenet5" in lines[3] and framework in lines[3] and "| ok" in lines[3]


def test_fragment_records_the_measurement(one_epoch):
    framework, done, fragments = one_epoch
    run = read_toml(fragments[0], "fragment").data
    assert fragments[0].name == f"{run['run_id']}.toml"
    assert run["provenance"]["kind"] == "measured" and run["provenance"]["seed"] == 0
    assert run["provenance"]["command"][:4] == ["runners/run.py", "fashion-mnist-lenet5", "--framework", framework]
    if allocator.is_glibc():  # the allocator settings the run trained with (dlbench.runner.allocator)
        env = run["provenance"]["environment"]
        assert (env["MALLOC_MMAP_THRESHOLD_"], env["MALLOC_TRIM_THRESHOLD_"]) == ("33554432", "1073741824")
    (result,) = run["results"]
    assert result["status"] == "ok" and result["framework"] == framework
    assert result["parameters"] == 61706 and result["flops_per_sample"] == 833040
    assert result["dataset"] == "fashion-mnist" and result["dataset_sha256"] == FASHION_MNIST_SHA256
    assert result["device_kind"] == "cpu" and result["device_name"] == run["system"]["cpu"]["model"]
    assert (result["epochs"], result["batch_size"], result["steps"], result["repeats"]) == (1, 512, 118, 1)
    m = result["metrics"]
    assert m["accuracy"] > 0.6  # chance is 0.1
    assert m["epoch_accuracy"] == [m["accuracy"]] and m["epoch_s"] == [m["compute_s"]]
    assert m["load_s"] + m["compute_s"] + m["eval_s"] + m["inference_load_s"] + m["inference_predict_s"] <= m["total_s"]
    assert m["throughput_samples_per_s"] == pytest.approx(60000 / m["compute_s"], rel=1e-3)
    assert m["peak_host_rss_bytes"] > 100 * 2**20
    assert 0 < m["loss"] < 2.31  # below the loss of guessing among 10 classes
    assert framework in run["system"]["software"]["packages"] or "tensorflow-cpu" in run["system"]["software"]["packages"]


def test_fragment_validates_and_merges(one_epoch, repo):
    _, done, fragments = one_epoch
    checked = run_tool("validate", str(fragments[0]))
    assert checked.returncode == 0, checked.stderr
    shutil.copy(fragments[0], repo / "data" / "fragments")
    merged = run_tool("merge", "--root", str(repo))
    assert merged.returncode == 0, merged.stderr
    assert fragments[0].stem in (repo / "data" / "benchmark.toml").read_text()
    assert list((repo / "data" / "fragments").glob("*.toml")) == []
