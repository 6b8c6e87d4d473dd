"""Several devices (`runners/run.py --devices`): DistributedDataParallel in two processes started by torchrun (gloo
on the CPU) and tf.distribute.MirroredStrategy over two logical CPU devices each write a fragment that validates,
with device_count 2, the per-device and global batch, and the scaling efficiency against the one-device run of
the same invocation; the train scenario on a shard per device; the usage errors (too many devices, a scenario
or device that cannot) and how the runner reads what the worker processes report."""

from __future__ import annotations

import json
import math
import tomllib
from pathlib import Path

import pytest

from conftest import run_tool
from dlbench.contract.validate import validate_fragment
from dlbench.runner import distributed

FASHION_MNIST = Path("/usr/share/datasets/fashion-mnist")
STEP = ("fwdbwd-lenet5", "--device", "cpu", "--batch-size", "16", "--warmup", "1", "--iterations", "3")
LAUNCHER = {"torch": "torchrun", "tensorflow": "tf-distribute"}
# One intra-op thread per process: on a small machine shared with other work, two OpenMP threads per process can
# stall a step of a 3-step loop for far longer than the step itself, and the result then fails the step-throughput
# plausibility rule (a property of the machine's load, not of the code under test).
ENV = {"OMP_NUM_THREADS": "1"}


def _run(tmp_path: Path, *args: str) -> tuple[object, dict]:
    out = tmp_path / "out"
    done = run_tool("run", *args, "--out", str(out), env=ENV, timeout=600)
    assert done.returncode == 0, done.stderr[-4000:]
    fragments = list(out.glob("*.toml"))
    assert len(fragments) == 1
    checked = validate_fragment(fragments[0])
    assert checked.problems == [], [p.format() for p in checked.problems]
    return done, tomllib.loads(fragments[0].read_text(encoding="utf-8"))


@pytest.mark.parametrize("framework", ["torch", "tensorflow"])
def test_step_on_one_and_two_devices_records_the_scaling_efficiency(tmp_path, framework):
    done, run = _run(tmp_path, *STEP, "--framework", framework, "--devices", "2,1")
    one, two = run["results"]
    assert (one["device_count"], one["strategy"], one["launcher"]) == (1, "single", "process")
    assert "global_batch_size" not in one and one["batch_size"] == 16
    assert (two["device_count"], two["strategy"], two["launcher"]) == (2, "data-parallel", LAUNCHER[framework])
    assert (two["batch_size"], two["global_batch_size"]) == (16, 32)
    assert one["status"] == two["status"] == "ok" and two["steps"] == 3 and two["warmup_steps"] == 1
    t1, t2 = one["metrics"]["throughput_samples_per_s"], two["metrics"]["throughput_samples_per_s"]
    assert one["metrics"]["scaling_efficiency"] == 1.0
    assert two["metrics"]["scaling_efficiency"] == round(t2 / (2 * t1), 4)
    # The whole system's throughput: the global batch over the timed loop, which holds 3 whole steps.
    assert t2 <= 32 / (two["iteration_stats"]["step_ms"]["min"] / 1000) * 1.01
    assert run["provenance"]["command"][-4:-2] == ["--devices", "2,1"]
    assert done.stdout.count("| fwdbwd-lenet5 ") == 2


@pytest.mark.parametrize("framework", ["torch", "tensorflow"])
def test_train_on_two_devices_takes_a_shard_each(tmp_path, framework):
    assert (FASHION_MNIST / "train-images-idx3-ubyte.gz").is_file(), \
        f"Fashion-MNIST is not in {FASHION_MNIST}/: run `bash tools/setup.sh` (apt package dataset-fashion-mnist)"
    _, run = _run(tmp_path, "fashion-mnist-lenet5", "--framework", framework, "--device", "cpu", "--devices", "2",
                  "--epochs", "1", "--train-samples", "255", "--test-samples", "64", "--batch-size", "32")
    [result] = run["results"]
    assert (result["device_count"], result["strategy"], result["launcher"]) == (2, "data-parallel",
                                                                                LAUNCHER[framework])
    assert (result["batch_size"], result["global_batch_size"], result["train_samples"]) == (32, 64, 255)
    # 255 samples padded to 256, 128 per device: 4 steps of 32 on each.
    assert result["steps"] == math.ceil(255 / 64) == 4
    m = result["metrics"]
    assert m["throughput_samples_per_s"] == pytest.approx(255 / m["compute_s"], rel=0.01)
    assert 0 <= m["accuracy"] <= 1 and "scaling_efficiency" not in m  # no one-device run to compare with


@pytest.mark.parametrize("framework", ["torch"])
def test_more_devices_than_the_machine_has_is_a_usage_error(tmp_path, framework):
    have = distributed.cpu_devices()
    done = run_tool("run", *STEP, "--framework", framework, "--devices", f"1,{have + 1}", "--out", str(tmp_path))
    assert done.returncode == 2
    assert f"this machine has {have} logical CPU" in done.stderr and f"at most {have}" in done.stderr
    assert "Traceback" not in done.stderr and list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("args, words", [
    (("infer-fashion-mnist-lenet5", "--devices", "2"), "runs on one device"),
    (("peak", "--devices", "2"), "runs on one device"),
    (("fwdbwd-lenet5", "--device", "cuda:1", "--devices", "2"), "not cuda:1"),
    (("fwdbwd-lenet5", "--devices", "0"), "device count from 1"),
    (("fwdbwd-lenet5", "--devices", "1,two"), "device count from 1"),
])
def test_options_the_scenario_or_device_cannot_take_are_usage_errors(tmp_path, args, words):
    done = run_tool("run", *args, "--framework", "torch", "--out", str(tmp_path))
    assert done.returncode == 2 and words in done.stderr and "Traceback" not in done.stderr


def test_parse_counts_sorts_and_drops_repeats():
    assert distributed.parse_counts("4, 1,2,2") == [1, 2, 4]
    for bad in ("", "1,,2", "-1", "1.5", str(distributed.MAX_DEVICES + 1)):
        with pytest.raises(ValueError):
            distributed.parse_counts(bad)


def _report(out: Path, rank: int, status: str, message: str | None = None) -> None:
    measurement = {"seed": 0, "metrics": {"total_s": 1.5}, "iterations": {}, "parts": {}}
    (out / f"rank{rank}.json").write_text(json.dumps({
        "status": status, "message": message, "measurements": [measurement] if status == "ok" else [],
        "failed": None if status == "ok" else measurement}))


def test_the_outcome_is_a_failing_process_first_else_rank_0(tmp_path):
    _report(tmp_path, 0, "ok")
    outcome = distributed.read_outcome(tmp_path, 0, "the 2-device run")
    assert outcome.status == "ok" and outcome.measurements[0].metrics == {"total_s": 1.5}
    _report(tmp_path, 3, "oom", "OutOfMemoryError: CUDA out of memory")
    outcome = distributed.read_outcome(tmp_path, 1, "the 4-device run")
    assert (outcome.status, outcome.message) == ("oom", "rank 3: OutOfMemoryError: CUDA out of memory")
    assert outcome.failed.metrics == {"total_s": 1.5}


def test_workers_that_report_nothing_are_an_error_result(tmp_path):
    outcome = distributed.read_outcome(tmp_path, -9, "the 2-device run (torchrun)")
    assert outcome.status == "error" and "exit status -9 before reporting" in outcome.message
    assert outcome.measurements == [] and outcome.failed.metrics == {}


def test_cpu_device_count_is_bounded_by_logical_cores():
    from dlbench.contract import plausibility

    run = {"provenance": {"kind": "measured"}, "system": {"cpu": {"model": "X", "sockets": 1, "logical_cores": 2}},
           "results": [{"device_kind": "cpu", "device_name": "X", "device_count": 2, "status": "ok", "metrics": {}}]}
    codes = lambda r: [p.code for p in plausibility.check(r, "f", lambda path: None)[0]]  # noqa: E731
    assert codes(run) == []
    run["results"][0]["device_count"] = 3
    assert codes(run) == ["device-count-exceeds-system"]
