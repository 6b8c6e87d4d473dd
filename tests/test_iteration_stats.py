"""`iteration_stats`, the spread over a result's timed iterations: what the runner's report makes of per-iteration
timings (pooled over repeats), the contract checks on it played through tools/validate.py as a contributor meets
them (a re-hashed fragment rejected with its check code), peak results without a batch, and the existing data
still valid under the extended schema."""

from __future__ import annotations

import copy

import pytest
from hypothesis import given, settings, strategies as st

from conftest import REPO, run_tool, write_fragment
from dlbench.contract.checks import check_run
from dlbench.contract.fragment import with_run_id
from dlbench.contract.stats import percentile, spread
from dlbench.runner.report import iteration_stats, summarize
from dlbench.runner.scenarios.base import ms_figure
from dlbench.store.synthetic import synthetic_run

CPU_RUN = 4  # the synthetic CPU run


def step_run(repeats: int = 1) -> dict:
    """A valid measured `step` run on the CPU (50 timed steps per repeat) with its iteration_stats; no run_id.
    `repeats` 1 or 3 (3: with the repeats' stats); other counts are for callers that set `stats` themselves."""
    run = copy.deepcopy(synthetic_run(CPU_RUN))
    run.pop("run_id")
    run["finished_at"] = run["started_at"].replace("T00:", "T01:")  # an hour: room for every repeat
    result = run["results"][0]
    for key in ("epochs", "dataset_sha256"):
        result.pop(key, None)
    result.update(benchmark="fwdbwd-lenet5", scenario="step", dataset="synthetic", batch_size=64, steps=50,
                  warmup_steps=10, repeats=repeats)
    result["metrics"] = {"total_s": 5.0, "forward_ms": 10.0, "backward_ms": 20.0, "optimizer_ms": 5.0,
                         "step_ms": 35.0, "throughput_samples_per_s": 1828.57, "peak_host_rss_bytes": 400 * 2**20}
    result["iteration_stats"] = {
        name: {"median": m, "min": m - 1, "max": m + 4, "iqr": 0.5, "p95": m + 3, "count": 50 * repeats}
        for name, m in (("forward_ms", 10.0), ("backward_ms", 20.0), ("optimizer_ms", 5.0), ("step_ms", 35.0))}
    if repeats == 3:  # the repeats' figures: 0.5 ms either side of the median
        result["stats"] = {name: {"median": m, "min": m - 0.5, "max": m + 0.5, "iqr": 0.5,
                                  "samples": [m - 0.5, m, m + 0.5]}
                           for name, m in result["metrics"].items() if name.endswith("_ms")}
    return run


def infer_run() -> dict:
    """A valid measured `infer` run (100 inputs) whose latency summary matches its percentiles; no run_id."""
    run = step_run()
    result = run["results"][0]
    result.update(benchmark="infer-fashion-mnist-lenet5", scenario="infer", steps=100)
    result["metrics"] = {"total_s": 5.0, "inference_load_s": 0.01, "latency_p50_ms": 1.5, "latency_p95_ms": 2.5,
                         "latency_p99_ms": 3.0, "throughput_samples_per_s": 9000.0}
    result["iteration_stats"] = {"latency_ms": {"median": 1.5, "min": 1.0, "max": 3.2, "iqr": 0.4, "p95": 2.5,
                                                "count": 100},
                                 "batch_ms": {"median": 7.1, "min": 7.0, "max": 7.9, "iqr": 0.1, "count": 100}}
    return run


def peak_run() -> dict:
    """A valid measured `peak-matmul` result on the CPU, without a batch_size; no run_id."""
    run = step_run()
    result = run["results"][0]
    for key in ("batch_size", "parameters", "flops_per_sample"):
        result.pop(key)
    result.update(benchmark="peak-matmul", scenario="peak", model="matmul-2048", steps=20, warmup_steps=5)
    result["metrics"] = {"total_s": 12.0, "achieved_flops_per_s": 34e9}
    result["iteration_stats"] = {"operation_ms": {"median": 505.9, "min": 503.4, "max": 508.4, "iqr": 2.5,
                                                  "p95": 508.1, "count": 20}}
    return run


def its(run: dict, name: str = "step_ms") -> dict:
    return run["results"][0]["iteration_stats"][name]


def validate(repo, run: dict):
    path = write_fragment(repo, run)
    return run_tool("validate", "--github", str(path.relative_to(repo)), cwd=repo)


@pytest.mark.parametrize("make", [step_run, lambda: step_run(3), infer_run, peak_run],
                         ids=["step", "step-3-repeats", "infer", "peak-no-batch"])
def test_consistent_iteration_stats_validate(repo, make):
    res = validate(repo, make())
    assert res.returncode == 0, res.stdout + res.stderr


def _edit(make, edit):
    def build():
        run = make()
        edit(run)
        return run
    return build


REJECTED = {
    # the summary out of order
    "min-above-median": (_edit(step_run, lambda r: its(r).update(min=36.0)), "iteration-order",
                         "min = 36.0, median = 35.0"),
    "p95-above-max": (_edit(step_run, lambda r: its(r).update(p95=40.0)), "iteration-order", "p95 = 40.0"),
    # 50 steps x 3 repeats = 150 iterations, not 50
    "count-of-one-repeat": (_edit(lambda: step_run(3), lambda r: its(r).update(count=50)), "iteration-count",
                            "steps = 50 x repeats = 3 makes 150"),
    # one repeat: the summary and metrics come from the same iterations
    "median-not-metric": (_edit(step_run, lambda r: its(r, "forward_ms").update(median=10.5)), "iteration-median",
                          "differs from metrics.forward_ms = 10.0"),
    "latency-p95-not-metric": (_edit(infer_run, lambda r: its(r, "latency_ms").update(p95=2.6)),
                               "iteration-median", "differs from metrics.latency_p95_ms = 2.5"),
    # several repeats: the pooled median lies between the repeats' medians (34.5 to 35.5 here)
    "pooled-median-outside-repeats": (_edit(lambda: step_run(3), lambda r: its(r).update(median=36.0)),
                                      "iteration-median", "outside the repeats' figures of metrics.step_ms"),
}


@pytest.mark.parametrize("case", list(REJECTED))
def test_inconsistent_iteration_stats_are_rejected_with_their_code(repo, case):
    make, code, words = REJECTED[case]
    res = validate(repo, make())
    assert res.returncode == 1, res.stdout + res.stderr
    assert "Traceback" not in res.stderr
    assert f"title={code}::" in res.stderr and words in res.stderr, res.stderr
    assert "iteration_stats" in res.stderr and "regenerate the fragment" in res.stderr


SCHEMA_REJECTED = {
    "negative-iqr": (_edit(step_run, lambda r: its(r).update(iqr=-0.1)), "must be >= 0"),
    "no-iterations": (_edit(step_run, lambda r: its(r).update(count=0)), "must be >= 1"),
    "samples-kept": (_edit(step_run, lambda r: its(r).update(samples=[35.0])), "unknown field 'samples'"),
    "unknown-timing": (_edit(step_run, lambda r: r["results"][0]["iteration_stats"].update(
        epoch_ms=dict(its(r)))), 'got "epoch_ms"'),
    "missing-count": (_edit(step_run, lambda r: its(r).pop("count")), "missing required field 'count'"),
    "step-without-batch": (_edit(step_run, lambda r: r["results"][0].pop("batch_size")),
                           "missing required field 'batch_size'"),
}


@pytest.mark.parametrize("case", list(SCHEMA_REJECTED))
def test_the_schema_bounds_the_summary_and_keeps_batch_size_required_outside_peak(repo, case):
    make, words = SCHEMA_REJECTED[case]
    res = validate(repo, make())
    assert res.returncode == 1 and words in res.stderr, res.stdout + res.stderr


def test_the_dataset_and_the_schema_examples_still_validate():
    res = run_tool("validate", "data/benchmark.toml", cwd=REPO)
    assert res.returncode == 0 and "1 file valid" in res.stdout, res.stdout + res.stderr
    examples = sorted(str(p) for p in (REPO / "schema" / "examples").glob("*.toml"))
    res = run_tool("validate", *examples, "--root", str(REPO / "schema" / "examples"))
    assert res.returncode == 0, res.stdout + res.stderr


def test_the_report_pools_the_repeats_iterations():
    pooled = iteration_stats([{"step_ms": [1.0, 2.0, 3.0], "latency_ms": [9.0]}, {"step_ms": [4.0, 5.0, 6.0]}])
    # linear interpolation over 1..6: Q1 = 2.25, Q3 = 4.75, p95 = 5.75; latency_ms is missing from a repeat
    assert pooled == {"step_ms": {"median": 3.5, "min": 1.0, "max": 6.0, "iqr": 2.5, "p95": 5.75, "count": 6}}
    assert list(pooled["step_ms"]) == ["median", "min", "max", "iqr", "p95", "count"]
    assert spread([2.0], 4) == {"median": 2.0, "min": 2.0, "max": 2.0, "iqr": 0.0, "p95": 2.0, "count": 1}
    assert iteration_stats([]) == {}


@settings(max_examples=200, deadline=None)
@given(st.integers(1, 4).flatmap(lambda repeats: st.lists(
    st.lists(st.floats(0.0, 1e4, allow_nan=False), min_size=1, max_size=9), min_size=repeats, max_size=repeats)))
def test_what_the_runner_records_always_passes_the_checks(per_repeat):
    """Per repeat, metrics take the median of its iterations (as the step scenario does); the report takes the
    median of those and pools the iterations: whatever the timings, the checks accept the result."""
    iterations = len(per_repeat[0])
    per_repeat = [(samples * iterations)[:iterations] for samples in per_repeat]  # same count in every repeat
    metrics, stats = summarize([{"step_ms": ms_figure(samples)} for samples in per_repeat])
    run = step_run(len(per_repeat))
    result = run["results"][0]
    result.update(steps=iterations, metrics={"total_s": 5.0, **metrics})
    result["iteration_stats"] = iteration_stats([{"step_ms": samples} for samples in per_repeat])
    if stats:
        result["stats"] = stats
    else:
        result.pop("stats", None)
    assert check_run(with_run_id(run), "<run>", lambda path: None) == []
    pooled = [x for samples in per_repeat for x in samples]
    assert result["iteration_stats"]["step_ms"]["median"] == round(percentile(pooled, 50), 4)
