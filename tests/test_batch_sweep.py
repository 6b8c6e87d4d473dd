"""Batch-size sweeps (`runners/run.py --batch-sweep`): a real sweep on the CPU under a memory limit runs out of
memory, records its ok points, the failed points and the bisected largest batch within the resolution, and
writes a fragment that validates, in PyTorch and in TensorFlow; the search, the memory line, the size syntax
and the allocator caps' arithmetic; and the usage errors."""

from __future__ import annotations

import math
import os
import re
import subprocess
import sys

import pytest

from conftest import REPO, run_tool
from dlbench.contract.tomlio import read_toml
from dlbench.contract.validate import validate_fragment
from dlbench.runner.backends.base import UsageError
from dlbench.runner.memory_limit import (GiB, MiB, check_device_limit, nvml_total, parse_bytes, tf_memory_limit_mib,
                                         torch_fraction)
from dlbench.runner.sweep_points import memory_evidence
from dlbench.runner.sweep_search import Point, Resolution, fit_memory, parse_resolution, search

linux_only = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="RLIMIT_AS and /proc are Linux's")


# ---------------------------------------------------------------- the search, the line, the sizes


def capacity(largest: int, tried: list[int], fail_at: int | None = None):
    """A point function for a device on which batches up to `largest` fit (an error at `fail_at`)."""
    def run(batch: int) -> Point:
        tried.append(batch)
        status = "error" if batch == fail_at else "ok" if batch <= largest else "oom"
        return Point(batch, status, {"batch_size": batch, "status": status})
    return run


def test_doubling_then_bisection_to_the_exact_largest_batch():
    tried: list[int] = []
    found = search(1, None, Resolution(samples=1), capacity(100, tried))
    assert tried[:8] == [1, 2, 4, 8, 16, 32, 64, 128]  # doubling until the first out-of-memory batch
    assert tried[8:] == [96, 112, 104, 100, 102, 101]  # bisection between 64 and 128
    assert (found.largest_fit, found.smallest_oom, found.resolution) == (100, 101, 1)


def test_a_percentage_resolution_is_of_the_last_fit_of_the_doubling():
    tried: list[int] = []
    found = search(8, None, parse_resolution("10%"), capacity(700, tried))
    assert found.resolution == 51  # 10 % of 512, rounded down
    assert found.smallest_oom - found.largest_fit <= 51 and found.largest_fit <= 700 < found.smallest_oom
    assert tried[:8] == [8, 16, 32, 64, 128, 256, 512, 1024]


def test_max_batch_cuts_the_doubling_and_ends_a_sweep_that_fits():
    tried: list[int] = []
    found = search(3, 20, Resolution(samples=1), capacity(1000, tried))
    assert tried == [3, 6, 12, 20] and found.largest_fit == 20 and found.smallest_oom is None
    tried = []
    found = search(3, 20, Resolution(samples=2), capacity(15, tried))
    assert tried == [3, 6, 12, 20, 16, 14] and (found.largest_fit, found.smallest_oom) == (14, 16)


def test_nothing_fitting_and_an_error_end_the_sweep():
    tried: list[int] = []
    found = search(4, None, Resolution(samples=1), capacity(2, tried))
    assert tried == [4] and found.largest_fit is None and found.smallest_oom == 4
    tried = []
    found = search(1, None, Resolution(samples=1), capacity(100, tried, fail_at=8))
    assert tried == [1, 2, 4, 8] and found.error.batch_size == 8 and found.largest_fit == 4


def test_memory_line_least_squares_and_rms_residual():
    line = fit_memory([(1, 1100), (2, 1200), (4, 1400)], "host")
    assert line == {"memory": "host", "per_sample_bytes": 100.0, "fixed_bytes": 1000.0, "residual_bytes": 0.0,
                    "points": 3}
    line = fit_memory([(0, 0), (1, 2), (2, 0), (3, 2)], "device")  # y = 0.4 x + 0.4, residuals -0.4, 1.2, -1.2, 0.4
    assert line["per_sample_bytes"] == 0.4 and line["fixed_bytes"] == 0.0
    assert line["residual_bytes"] == round(math.sqrt((0.16 + 1.44 + 1.44 + 0.16) / 4))
    assert fit_memory([(8, 100), (8, 120)], "host") is None  # one batch: no line


@pytest.mark.parametrize("text,expected", [("6GiB", 6 * GiB), ("512MiB", 512 * MiB), ("2G", 2 * 10**9),
                                           ("1.5GB", 1_500_000_000), ("1073741824", GiB), ("64 kib", 65536)])
def test_sizes(text, expected):
    assert parse_bytes(text) == expected


@pytest.mark.parametrize("text", ["6GiBs", "-1G", "G", "0", "1e9", "6 GiB 2"])
def test_sizes_refused(text):
    with pytest.raises(ValueError):
        parse_bytes(text)


def test_resolution_syntax():
    assert parse_resolution("16") == Resolution(samples=16) and parse_resolution("5%") == Resolution(percent=5.0)
    assert Resolution(percent=5.0).resolve(10) == 1 and Resolution(percent=5.0).resolve(1024) == 51
    for bad in ("0", "100%", "0%", "x", "1.5"):
        with pytest.raises(ValueError):
            parse_resolution(bad)


def test_accelerator_caps_never_exceed_the_limit():
    total = 80 * 10**9 + 12345  # an odd device size
    for limit in (1, 6 * GiB, 40 * 10**9, total - 1, total):
        fraction = torch_fraction(limit, total)
        assert 0 <= fraction <= 1 and fraction * total <= limit and limit - fraction * total <= total * 1e-9 + 1
    assert torch_fraction(total, total) == 1.0
    assert tf_memory_limit_mib(6 * GiB) == 6144 and tf_memory_limit_mib(6 * GiB + MiB - 1) == 6144
    assert tf_memory_limit_mib(1) == 1
    with pytest.raises(UsageError, match=r"--memory-limit 200 GiB .*cuda:0 \(H100\) has 80 GiB"):
        check_device_limit(200 * GiB, 80 * GiB, "cuda:0 (H100)")
    check_device_limit(200 * GiB, None, "cuda:0")  # unknown size: no check


def test_nvml_index_follows_cuda_visible_devices():
    devices = [{"memory_bytes": 10}, {"memory_bytes": 20}, {"memory_bytes": 30}]
    assert nvml_total(devices, 0, None) == 10 and nvml_total(devices, 1, "") == 20
    assert nvml_total(devices, 0, "2,0") == 30 and nvml_total(devices, 1, "2,0") == 10
    assert nvml_total(devices, 0, "GPU-1234") is None and nvml_total(devices, 2, "2,0") is None


def test_out_of_memory_evidence_in_a_dead_points_output():
    tf = ("W0000 00:00:1796315924.064628   12670 op_kernel.cc:1858] OP_REQUIRES failed at mkl_util.h:848 : "
          "RESOURCE_EXHAUSTED: OOM when allocating tensor with shape[16384,28,28,6] and type float")
    assert memory_evidence("noise\n" + tf + "\nFatal Python error: Segmentation fault").startswith(
        "RESOURCE_EXHAUSTED: OOM when allocating tensor with shape[16384,28,28,6]")
    assert memory_evidence("terminate called after throwing an instance of 'std::bad_alloc'") == "std::bad_alloc"
    assert memory_evidence("Fatal Python error: Segmentation fault") is None


# ---------------------------------------------------------------- real sweeps on the CPU

# The address space a framework's process maps for a LeNet-5 step at a small batch: the memory limits below are
# this plus some room, so that the sweeps run out of memory at a small batch on any machine.
BASELINE = """
import sys
sys.path.insert(0, sys.argv[1])
from dlbench.runner import allocator, backends, workloads
from dlbench.runner.system import probe
allocator.fix_thresholds()
backend = backends.load(sys.argv[2])
backend.select_device(backends.parse_device("cpu"))
backend.configure(backends.base.RunOptions())
probe.probe_system("cpu", framework=sys.argv[2])
w = workloads.get("fwdbwd-lenet5")
p = backend.step_program(w.model, w.input, 64, 0, w.optimizer, w.learning_rate, w.momentum)
for _ in range(2):
    if p.fused:
        p.step()
    else:
        p.backward(p.forward())
        p.optimize()
print(next(int(l.split()[1]) * 1024 for l in open("/proc/self/status") if l.startswith("VmPeak")))
"""


def baseline(framework: str) -> int:
    done = subprocess.run([sys.executable, "-c", BASELINE, str(REPO), framework], capture_output=True, text=True,
                          timeout=300, env=dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2"))
    assert done.returncode == 0, done.stderr
    return int(done.stdout.strip().splitlines()[-1])


def sweep(tmp_path, framework: str, limit: int, *options: str):
    done = run_tool("run", "fwdbwd-lenet5", "--framework", framework, "--device", "cpu", "--batch-sweep",
                    "--memory-limit", str(limit), "--warmup", "1", "--iterations", "1", *options,
                    "--out", str(tmp_path), timeout=600)
    fragments = list(tmp_path.glob("*.toml"))
    assert len(fragments) == 1, done.stdout + done.stderr
    return done, fragments[0], read_toml(fragments[0], "fragment").data["results"]


def check_curve(result: dict, start: int, limit: int, oom: str) -> dict:
    """What every sweep that ran out of memory records."""
    curve = result["batch_sweep"]
    points = curve["points"]
    assert (curve["start"], curve["memory_limit_bytes"], curve["isolation"]) == (start, limit, "process")
    assert points[0]["batch_size"] == start
    ok = [p["batch_size"] for p in points if p["status"] == "ok"]
    failed = [p for p in points if p["status"] == "oom"]
    assert ok and failed and all(p["status"] in ("ok", "oom") for p in points), points
    assert max(ok) < min(p["batch_size"] for p in failed)  # everything that fitted is below what did not
    assert curve["largest_fit"] == max(ok) and curve["smallest_oom"] == min(p["batch_size"] for p in failed)
    assert 0 < curve["smallest_oom"] - curve["largest_fit"] <= curve["resolution"]
    first_oom = next(i for i, p in enumerate(points) if p["status"] == "oom")
    assert [p["batch_size"] for p in points[:first_oom + 1]] == [start * 2**i for i in range(first_oom + 1)]
    for p in failed:
        assert re.search(oom, p["message"]), p["message"]
        assert "throughput_samples_per_s" not in p
    for p in points:
        if p["status"] == "ok":
            assert p["throughput_samples_per_s"] > 0 and p["step_ms"] > 0 and p["peak_host_rss_bytes"] > 0
    # The result is the largest batch that fitted, measured as a plain run at that batch.
    assert result["status"] == "ok" and result["batch_size"] == curve["largest_fit"]
    assert result["metrics"]["largest_fitting_batch"] == curve["largest_fit"]
    line = curve["memory_fit"]
    assert line["memory"] == "host" and line["points"] == len(ok) >= 2 and line["residual_bytes"] >= 0
    assert result["metrics"]["memory_per_sample_bytes"] == line["per_sample_bytes"] > 0
    return curve


@linux_only
def test_torch_sweep_on_the_cpu_runs_out_of_memory_and_bisects(tmp_path):
    pytest.importorskip("torch")
    limit = baseline("torch") + 128 * MiB  # here LeNet-5 at batch 512 needs under 64 MiB more, 1,536 over 160
    done, fragment, (result,) = sweep(tmp_path, "torch", limit, "--batch-start", "256", "--sweep-resolution", "50%")
    assert done.returncode == 0, done.stderr
    curve = check_curve(result, 256, limit, r"(RuntimeError|MemoryError): .*(can't|cannot) allocate memory")
    points = curve["points"]
    first_oom = next(i for i, p in enumerate(points) if p["status"] == "oom")
    assert curve["resolution"] == points[first_oom - 1]["batch_size"] // 2  # 50 % of the doubling's last fit
    assert len(points) > first_oom + 1  # bisected
    assert "largest batch that fits: " in done.stdout and re.search(r"batch \d+: oom", done.stderr)
    checked = validate_fragment(fragment)
    assert not checked.problems, [p.format() for p in checked.problems]


@linux_only
def test_tensorflow_sweep_on_the_cpu_runs_out_of_memory(tmp_path):
    pytest.importorskip("tensorflow")
    limit = baseline("tensorflow") + 256 * MiB  # batch 2,048 fits in that here, 4,096 does not
    done, fragment, (result,) = sweep(tmp_path, "tensorflow", limit, "--batch-start", "1024",
                                      "--sweep-resolution", "50%")
    assert done.returncode == 0, done.stderr
    # TensorFlow may abort after logging the failed allocation, or without a word (then the batch is run again
    # with more memory): the sweep reads either as out of memory.
    check_curve(result, 1024, limit,
                r"RESOURCE_EXHAUSTED|OOM when allocating|std::bad_alloc|MemoryError|the same batch ran")
    checked = validate_fragment(fragment)
    assert not checked.problems, [p.format() for p in checked.problems]


@linux_only
def test_a_point_that_died_without_a_word_is_run_again_with_more_memory(tmp_path):
    """oneDNN (TensorFlow) aborts with "could not create a primitive" when its code cannot be mapped: out of
    memory only if the same batch then runs, or runs out of memory in words, with twice the address space."""
    pytest.importorskip("torch")
    from dlbench.runner import workloads
    from dlbench.runner.backends.base import DeviceRequest
    from dlbench.runner.run import RunConfig
    from dlbench.runner.sweep_points import PointRunner

    config = RunConfig(workload=workloads.get("fwdbwd-lenet5"), framework="torch", device=DeviceRequest("cpu"),
                       epochs=1, batch_size=16, warmup=1, iterations=1)
    limit = 1536 * MiB
    runner = PointRunner(config, limit, ["runners/run.py"], tmp_path)
    folder = tmp_path / "point-001"
    folder.mkdir()
    (folder / "skeleton.json").write_text('{"record": {}, "memory_limit_bytes": %d, "device_kind": "cpu"}' % limit)
    said = "terminate called after throwing an instance of 'dnnl::error'\n  what():  could not create a primitive\n"
    point = runner.point(16, folder, -6, 300 * MiB, said)
    assert point.status == "oom", point.fields
    assert re.fullmatch(r"what\(\): could not create a primitive \(the process then died of SIGABRT\); with 3 GiB "
                        r"of address space instead of 1.5 GiB the same batch ran", point.fields["message"])
    assert point.fields["peak_host_rss_bytes"] == 300 * MiB and "throughput_samples_per_s" not in point.fields
    # Exiting (not killed) without a record and without a word is an error, and nothing is run again.
    (folder / "confirm").rename(tmp_path / "first-confirm")
    point = runner.point(16, folder, 1, None, said)
    assert point.status == "error" and not (folder / "confirm").exists()
    assert point.fields["message"] == ("the process measuring this batch exited with status 1, saying no more than: "
                                       "what(): could not create a primitive")


@linux_only
def test_nothing_fitting_at_the_start_is_an_oom_result(tmp_path):
    pytest.importorskip("torch")
    # 65,536 LeNet-5 inputs: the first convolution's output alone is 1.15 GiB, over what the limit leaves.
    done, fragment, (result,) = sweep(tmp_path, "torch", 1536 * MiB, "--batch-start", "65536")
    assert done.returncode == 1, done.stderr
    assert result["status"] == "oom" and result["batch_size"] == 65536 and "can't allocate memory" in result["message"]
    curve = result["batch_sweep"]
    assert [p["status"] for p in curve["points"]] == ["oom"] and curve["smallest_oom"] == 65536
    assert "largest_fit" not in curve and "memory_fit" not in curve
    assert "largest_fitting_batch" not in result["metrics"] and curve["resolution"] == 3276  # 5 % of the start
    assert "largest batch that fits: none; smallest out of memory 65536" in done.stdout
    checked = validate_fragment(fragment)
    assert not checked.problems, [p.format() for p in checked.problems]


def test_a_points_configuration_goes_to_its_process_whole():
    from pathlib import Path

    from dlbench.runner import workloads
    from dlbench.runner.backends.base import DeviceRequest, RunOptions
    from dlbench.runner.run import RunConfig
    from dlbench.runner.sweep_child import config_from_json, config_json

    config = RunConfig(workload=workloads.get("infer-resnet50"), framework="torch", device=DeviceRequest("cuda", 1),
                       epochs=1, batch_size=3, repeats=2, seed=7, data_dir=Path("/data"), contributor="me",
                       notes="n", options=RunOptions("bf16", True, True), warmup=0, iterations=5)
    import json

    assert config_from_json(json.loads(json.dumps(config_json(config)))) == config


# ---------------------------------------------------------------- usage errors


@pytest.mark.parametrize("options,message", [
    (["fashion-mnist-lenet5", "--batch-sweep"], "the train scenario of fashion-mnist-lenet5 has no batch-size sweep"),
    (["peak", "--batch-sweep"], "the peak scenario of peak has no batch-size sweep"),
    (["fwdbwd-lenet5", "--batch-sweep", "--batch-size", "8"], "give its first batch with --batch-start"),
    (["fwdbwd-lenet5", "--max-batch", "8"], "--max-batch: only with --batch-sweep"),
    (["fwdbwd-lenet5", "--batch-sweep", "--batch-start", "9", "--max-batch", "8"], "--batch-start 9 is above"),
    (["fwdbwd-lenet5", "--batch-sweep", "--memory-limit", "6GiBs"], "'6GiBs' is not a size"),
    (["fwdbwd-lenet5", "--batch-sweep", "--sweep-resolution", "0"], "at least 1 sample"),
    (["fwdbwd-lenet5", "--batch-sweep", "--memory-limit", "100TiB"], r"this machine has [\d.]+ GiB \(\d+ bytes\)"),
    (["fwdbwd-lenet5", "--batch-sweep", "--memory-limit", "64MiB"], "too small for torch to start"),
])
def test_usage_errors(tmp_path, options, message):
    done = run_tool("run", *options, "--framework", "torch", "--device", "cpu", "--out", str(tmp_path), timeout=120)
    assert done.returncode == 2, done.stdout + done.stderr
    assert re.search(message, done.stderr), done.stderr
    assert "Traceback" not in done.stderr and not list(tmp_path.iterdir())


@linux_only
def test_a_limit_the_framework_cannot_start_in_is_a_usage_error(tmp_path):
    pytest.importorskip("torch")
    # Above the static floor (512 MiB), below what importing PyTorch maps (about 630 MiB): found by the first point.
    done = run_tool("run", "fwdbwd-lenet5", "--framework", "torch", "--device", "cpu", "--batch-sweep",
                    "--memory-limit", "520MiB", "--out", str(tmp_path), timeout=120)
    assert done.returncode == 2, done.stdout + done.stderr
    assert re.search(r"--memory-limit 520 MiB \(545259520 bytes\) is too small for torch to start on this machine",
                     done.stderr), done.stderr
    assert not list(tmp_path.iterdir())
