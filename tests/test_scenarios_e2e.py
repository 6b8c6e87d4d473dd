"""End to end: `runners/run.py` runs the step, infer and peak scenarios on the CPU in each framework, tiny (batch
2 to 4, one warm-up and two or three timed iterations), and writes one fragment that tools/validate.py accepts,
with the scenario's fields and metrics. Nothing here depends on how fast the machine is: the metrics are checked
for presence and for their arithmetic relations, not against times.

Six runs in all: step (torch fp32 with two repeats; TensorFlow bf16 with XLA), infer (torch bf16 channels-last
on LeNet-5; TensorFlow fp32), peak (both)."""

from __future__ import annotations

from pathlib import Path

import pytest

from conftest import run_tool
from dlbench.contract.tomlio import read_toml

FASHION_MNIST_SHA256 = "bd7794149301a1b0e306f972a49fdeaa6d8b48e2b83645b6abdd1f6511c61ab9"
LENET5_FLOPS = 833040

RUNS = {
    ("step", "torch"): ["fwdbwd-lenet5", "--batch-size", "2", "--warmup", "1", "--iterations", "2", "--repeats", "2"],
    ("step", "tensorflow"): ["fwdbwd-lenet5", "--batch-size", "2", "--warmup", "1", "--iterations", "2",
                             "--precision", "bf16", "--compile"],
    ("infer", "torch"): ["infer-fashion-mnist-lenet5", "--batch-size", "4", "--warmup", "1", "--iterations", "3",
                         "--precision", "bf16", "--channels-last"],
    ("infer", "tensorflow"): ["infer-fashion-mnist-lenet5", "--batch-size", "4", "--warmup", "1", "--iterations", "3"],
    ("peak", "torch"): ["peak", "--warmup", "1", "--iterations", "2"],
    ("peak", "tensorflow"): ["peak", "--warmup", "1", "--iterations", "2"],
}


_DONE: dict[tuple[str, str], tuple] = {}


def _run(key: tuple[str, str], tmp_path_factory) -> tuple:
    """(scenario, framework, process result, fragment path, run record) of the run `key`, made once."""
    if key not in _DONE:  # a failed run is kept too: the tests of that run fail without running it again
        scenario, framework = key
        out = tmp_path_factory.mktemp(f"{scenario}-{framework}")
        done = run_tool("run", *RUNS[key], "--framework", framework, "--device", "cpu", "--out", str(out),
                        timeout=600)
        fragments = list(Path(out).iterdir())
        record = read_toml(fragments[0], "fragment").data if done.returncode == 0 and len(fragments) == 1 else None
        _DONE[key] = (scenario, framework, done, fragments[0] if fragments else None, record)
    scenario, framework, done, fragment, record = _DONE[key]
    assert done.returncode == 0 and record is not None, done.stdout + done.stderr
    return _DONE[key]


FRAMEWORKS = ("torch", "tensorflow")


def _iteration_stats(r: dict, names: tuple[str, ...]) -> dict:
    """The result's iteration_stats, checked for its arithmetic: exactly `names`, one entry per timed iteration
    of every repeat, ordered, and agreeing with `metrics` (one repeat) or lying within the repeats' figures."""
    its = r["iteration_stats"]
    assert tuple(its) == names
    for name, entry in its.items():
        assert list(entry) == ["median", "min", "max", "iqr", "p95", "count"]
        assert entry["count"] == r["steps"] * r["repeats"]
        # TensorFlow's backward_ms is (forward + gradients) - forward per iteration, clamped at 0: on a loaded
        # machine one iteration's difference can be 0, its median cannot.
        assert 0 <= entry["min"] <= entry["median"] <= entry["p95"] <= entry["max"] and entry["iqr"] >= 0
        assert entry["median"] > 0
        metric = "latency_p50_ms" if name == "latency_ms" else name
        if metric in r["metrics"] and r["repeats"] == 1:
            assert entry["median"] == r["metrics"][metric]
        elif metric in r["metrics"]:
            assert r["stats"][metric]["min"] <= entry["median"] <= r["stats"][metric]["max"]
    return its


@pytest.mark.parametrize("key", list(RUNS), ids=lambda key: "-".join(key))
def test_fragment_validates_and_the_summary_is_printed(key, tmp_path_factory):
    scenario, framework, done, fragment, record = _run(key, tmp_path_factory)
    checked = run_tool("validate", str(fragment))
    assert checked.returncode == 0, checked.stdout + checked.stderr
    lines = done.stdout.splitlines()
    assert lines[0] == f"wrote {fragment}"
    assert all(r["status"] == "ok" and r["scenario"] == scenario and r["framework"] == framework
               for r in record["results"])
    for r in record["results"]:
        assert r["benchmark"] in done.stdout and "| ok" in done.stdout
        assert "epochs" not in r and r["device_kind"] == "cpu"


@pytest.mark.parametrize("framework", FRAMEWORKS)
def test_step_records_its_parts_throughput_and_options(framework, tmp_path_factory):
    _, _, done, _, record = _run(("step", framework), tmp_path_factory)
    (r,) = record["results"]
    assert (r["benchmark"], r["dataset"], r["model"], r["batch_size"], r["steps"], r["warmup_steps"]) == \
        ("fwdbwd-lenet5", "synthetic", "lenet5", 2, 2, 1)
    m = r["metrics"]
    for key in ("forward_ms", "backward_ms", "optimizer_ms", "step_ms", "throughput_samples_per_s",
                "achieved_flops_per_s", "total_s", "peak_host_rss_bytes"):
        assert key in m, key
    assert m["step_ms"] > 0 and m["forward_ms"] > 0 and m["throughput_samples_per_s"] > 0
    # throughput is recorded to 0.01 samples/s (a few samples/s here), the FLOP/s from the unrounded figure
    assert m["achieved_flops_per_s"] == pytest.approx(3 * LENET5_FLOPS * m["throughput_samples_per_s"], rel=1e-2)
    assert "throughput_tokens_per_s" not in m and "dataset_sha256" not in r
    if framework == "torch":
        assert (r["precision"], r["compile"], r["repeats"]) == ("fp32", "eager", 2)
        assert "channels_last" not in r
        assert r["stats"]["step_ms"]["median"] == m["step_ms"] and len(r["stats"]["step_ms"]["samples"]) == 2
        assert "Forward ms" in done.stdout and "medians of 2 repeats" in done.stdout
    else:
        assert (r["precision"], r["compile"], r["repeats"]) == ("mixed-bf16", "xla", 1)
        assert "stats" not in r
    # 2 timed steps x the repeats, pooled
    its = _iteration_stats(r, ("forward_ms", "backward_ms", "optimizer_ms", "step_ms"))
    assert its["step_ms"]["count"] == (4 if framework == "torch" else 2)
    assert f"{m['step_ms']:.3f} ({its['step_ms']['iqr']:.3f})" in done.stdout


@pytest.mark.parametrize("framework", FRAMEWORKS)
def test_infer_records_load_latency_percentiles_and_throughput(framework, tmp_path_factory):
    _, _, done, _, record = _run(("infer", framework), tmp_path_factory)
    (r,) = record["results"]
    assert (r["benchmark"], r["dataset"], r["batch_size"], r["steps"], r["warmup_steps"]) == \
        ("infer-fashion-mnist-lenet5", "fashion-mnist", 4, 3, 1)
    assert r["dataset_sha256"] == FASHION_MNIST_SHA256
    m = r["metrics"]
    assert m["inference_load_s"] > 0
    assert 0 < m["latency_p50_ms"] <= m["latency_p95_ms"] <= m["latency_p99_ms"]
    # on the CPU each batched pass is timed too (no synchronization to add); 3 inputs, 3 passes, one repeat
    its = _iteration_stats(r, ("latency_ms", "batch_ms"))
    assert its["latency_ms"]["p95"] == m["latency_p95_ms"] and its["batch_ms"]["count"] == 3
    assert m["throughput_samples_per_s"] > 0
    assert m["achieved_flops_per_s"] == pytest.approx(LENET5_FLOPS * m["throughput_samples_per_s"], rel=1e-2)
    if framework == "torch":
        assert (r["precision"], r["channels_last"], r["compile"]) == ("mixed-bf16", True, "eager")
    else:
        assert (r["precision"], r["compile"]) == ("fp32", "tf.function") and "channels_last" not in r
    assert "p99 ms" in done.stdout


@pytest.mark.parametrize("framework", FRAMEWORKS)
def test_peak_writes_matmul_per_precision_and_bandwidth_in_one_fragment(framework, tmp_path_factory):
    _, _, done, _, record = _run(("peak", framework), tmp_path_factory)
    results = record["results"]
    matmuls = [r for r in results if r["benchmark"] == "peak-matmul"]
    (bandwidth,) = [r for r in results if r["benchmark"] == "peak-bandwidth"]
    assert len(results) == len(matmuls) + 1
    assert "fp32" in [r["precision"] for r in matmuls]
    for r in matmuls:
        assert r["model"] == "matmul-2048" and r["metrics"]["achieved_flops_per_s"] > 0
        assert (r["steps"], r["warmup_steps"], r["dataset"]) == (2, 1, "synthetic")
        assert "parameters" not in r and "flops_per_sample" not in r
    for r in results:  # a matrix product or a copy has no batch; each of the 2 operations is timed
        assert "batch_size" not in r
        assert _iteration_stats(r, ("operation_ms",))["operation_ms"]["count"] == 2
    assert bandwidth["model"] == ("copy-256mib" if framework == "torch" else "add-256mib")
    assert bandwidth["metrics"]["bandwidth_bytes_per_s"] > 0
    assert "TFLOP/s" in done.stdout and "GB/s" in done.stdout
