"""The step, infer and peak scenarios' measurement logic, driven by scripted backends on a scripted clock (no
framework): which parts are timed, how the medians, throughput and FLOP/s follow from the marks, that a failed
peak part is a failed result beside the others, and that the records validate."""

from __future__ import annotations

from typing import Any

import pytest

from dlbench.contract.fragment import with_run_id
from dlbench.contract.validate import validate_run
from dlbench.runner import launcher, workloads
from dlbench.runner.backends.base import Backend, Device, StepProgram
from dlbench.runner.report import result_records, summary
from dlbench.runner.scenarios import PeakScenario, StepScenario
from dlbench.runner.scenarios.base import percentile
from dlbench.runner.system.probe import probe_system, provenance
from dlbench.runner.timing import Marks

FORWARD_S, BACKWARD_S, OPTIMIZE_S, FUSED_S = 0.010, 0.020, 0.005, 0.030


class ScriptedBackend(Backend):
    """A device whose work takes scripted time on a scripted clock; `fused` makes its step program TensorFlow's."""

    name, version = "torch", "1.0"

    def __init__(self, fused: bool = False, fail: str | None = None):
        self.device = Device("cpu", "cpu")
        self.now = 10.0
        self.fused = fused
        self.fail = fail
        self.events: list[str] = []

    def clock(self) -> float:
        return self.now

    def synchronize(self) -> None:
        self.events.append("sync")

    def marks(self, iterations: int, points: int) -> Marks:
        return Marks(iterations, points, self.synchronize, self.clock)

    def _work(self, seconds: float, what: str) -> Any:
        self.events.append(what)
        self.now += seconds
        return what

    def step_program(self, model, input, batch_size, seed, optimizer="sgd", learning_rate=0.01, momentum=0.9):
        if self.fused:
            return StepProgram(fused=True, step=lambda: self._work(FUSED_S, "step"),
                               forward=lambda: self._work(FORWARD_S, "forward"),
                               backward=lambda: self._work(FORWARD_S + BACKWARD_S, "forward+backward"),
                               optimize=lambda grads: self._work(OPTIMIZE_S, "optimize"), samples=batch_size)
        return StepProgram(fused=False, forward=lambda: self._work(FORWARD_S, "forward"),
                           backward=lambda loss: self._work(BACKWARD_S, "backward"),
                           optimize=lambda: self._work(OPTIMIZE_S, "optimize"), samples=batch_size,
                           tokens_per_sample=input.shape[0] if input.tokens else None)

    def peak_precisions(self):
        return ("fp32", "bf16")

    def peak_sizes(self):
        return 128, 2**20

    def matmul(self, precision, n, seed):
        if precision == self.fail:
            raise RuntimeError("no bf16 kernel here\nsecond line")
        return lambda: self._work(0.5, f"matmul {precision}")

    def copy(self, nbytes):
        return (lambda: self._work(0.25, "copy")), 2 * nbytes, "copy"

    # unused by these scenarios
    def select_device(self, request): return self.device
    def seed(self, seed): pass
    def to_device(self, arrays, plan=None): raise NotImplementedError
    def build(self, *a, **k): raise NotImplementedError
    def train_epoch(self, *a): raise NotImplementedError
    def scalar(self, value): return float(value)
    def evaluate(self, *a): raise NotImplementedError
    def model_of(self, state): return state
    def save(self, *a): raise NotImplementedError
    def load(self, *a): raise NotImplementedError
    def predict(self, *a): raise NotImplementedError
    def reset_peak_memory(self): pass
    def peak_memory(self): return {}
    def is_oom(self, exc): return isinstance(exc, MemoryError)


def _validated(backend: ScriptedBackend, workload, outcome, scenario, batch: int) -> list[dict]:
    results = result_records(workload, backend, "Scripted CPU", batch, 1, outcome,
                             scenario.counts(outcome.measurements), scenario=workload.scenario)
    run = with_run_id({"schema_version": 1, "started_at": "2025-01-01T00:00:00Z",
                       "finished_at": "2025-01-01T00:01:00Z", "provenance": provenance(["runners/run.py"], 0),
                       "system": probe_system("cpu"), "results": results})
    assert validate_run(run) == []
    return results


def test_torch_like_step_times_each_part_inside_the_step_and_the_loop_apart():
    backend = ScriptedBackend()
    workload = workloads.get("fwdbwd-lenet5")
    scenario = StepScenario(backend, workload, batch_size=8, warmup=2, iterations=3, clock=backend.clock)
    outcome = launcher.launch(scenario, repeats=1, seed=0)
    assert outcome.status == "ok", outcome.message
    work = [e for e in backend.events if e != "sync"]
    assert work == ["forward", "backward", "optimize"] * 5  # 2 warm-up, 3 timed steps
    (result,) = _validated(backend, workload, outcome, scenario, 8)
    m = result["metrics"]
    assert (m["forward_ms"], m["backward_ms"], m["optimizer_ms"]) == (10.0, 20.0, 5.0)
    assert m["step_ms"] == 35.0
    assert m["throughput_samples_per_s"] == round(8 * 3 / (3 * 0.035), 2)
    assert m["achieved_flops_per_s"] == pytest.approx(3 * 833040 * m["throughput_samples_per_s"], rel=1e-5)
    assert (result["scenario"], result["steps"], result["warmup_steps"], result["batch_size"]) == ("step", 3, 2, 8)
    assert "epochs" not in result and "throughput_tokens_per_s" not in m


def test_tensorflow_like_step_takes_throughput_from_the_fused_step_and_parts_from_separate_calls():
    backend = ScriptedBackend(fused=True)
    workload = workloads.get("fwdbwd-lenet5")
    scenario = StepScenario(backend, workload, batch_size=4, warmup=1, iterations=2, clock=backend.clock)
    outcome = launcher.launch(scenario, repeats=1, seed=0)
    work = [e for e in backend.events if e != "sync"]
    assert work == ["step"] * 3 + ["forward", "forward+backward", "optimize"] * 3
    (result,) = _validated(backend, workload, outcome, scenario, 4)
    m = result["metrics"]
    assert (m["forward_ms"], m["backward_ms"], m["optimizer_ms"], m["step_ms"]) == (10.0, 20.0, 5.0, 30.0)
    assert m["throughput_samples_per_s"] == round(4 * 2 / (2 * FUSED_S), 2)


def test_token_models_report_tokens_per_second():
    backend = ScriptedBackend()
    workload = workloads.get("fwdbwd-gpt2-small")
    scenario = StepScenario(backend, workload, batch_size=2, warmup=0, iterations=2, clock=backend.clock)
    outcome = launcher.launch(scenario, repeats=1, seed=0)
    m = outcome.measurements[0].metrics
    assert m["throughput_tokens_per_s"] == pytest.approx(m["throughput_samples_per_s"] * 1024, rel=1e-4)


def test_peak_writes_one_result_per_precision_and_the_bandwidth_and_keeps_a_failed_part(capsys):
    backend = ScriptedBackend(fail="bf16")
    workload = workloads.get("peak")
    scenario = PeakScenario(backend, workload, warmup=1, iterations=4, clock=backend.clock)
    outcome = launcher.launch(scenario, repeats=1, seed=0)
    assert outcome.status == "ok"
    results = _validated(backend, workload, outcome, scenario, 1)
    by = {(r["benchmark"], r["precision"]): r for r in results}
    assert set(by) == {("peak-matmul", "fp32"), ("peak-matmul", "bf16"), ("peak-bandwidth", "fp32")}
    fp32 = by["peak-matmul", "fp32"]
    assert fp32["status"] == "ok" and fp32["model"] == "matmul-128" and fp32["scenario"] == "peak"
    assert fp32["metrics"]["achieved_flops_per_s"] == round(2 * 128 ** 3 * 4 / (4 * 0.5))
    bf16 = by["peak-matmul", "bf16"]
    assert bf16["status"] == "error" and bf16["message"] == "RuntimeError: no bf16 kernel here"
    bandwidth = by["peak-bandwidth", "fp32"]
    assert bandwidth["model"] == "copy-1mib"
    assert bandwidth["metrics"]["bandwidth_bytes_per_s"] == round(2 * 2**20 * 4 / (4 * 0.25))
    assert "Traceback" in capsys.readouterr().err
    assert all("parameters" not in r and r["steps"] == 4 and r["warmup_steps"] == 1 for r in results)


def test_peak_precision_option_measures_one_and_refuses_what_the_device_lacks():
    from dlbench.runner.backends.base import RunOptions, UsageError

    backend = ScriptedBackend()
    backend.options = RunOptions(precision="bf16")
    scenario = PeakScenario(backend, workloads.get("peak"), warmup=0, iterations=1, clock=backend.clock)
    scenario.check(backend)
    assert scenario.precisions() == ("bf16",)
    backend.options = RunOptions(precision="tf32")
    with pytest.raises(UsageError, match=r"--precision tf32: the peak scenario on this device \(cpu\) measures "
                                         r"fp32, bf16 only"):
        scenario.check(backend)


def test_percentiles_interpolate_linearly():
    samples = [float(i) for i in range(1, 101)]
    assert percentile(samples, 50) == 50.5
    assert percentile(samples, 99) == pytest.approx(99.01)
    assert percentile([3.0], 95) == 3.0


def test_step_records_each_timed_iteration_and_pools_the_repeats():
    backend = ScriptedBackend()
    workload = workloads.get("fwdbwd-lenet5")
    scenario = StepScenario(backend, workload, batch_size=8, warmup=1, iterations=3, clock=backend.clock)
    outcome = launcher.launch(scenario, repeats=2, seed=0)
    assert [len(m.iterations["step_ms"]) for m in outcome.measurements] == [3, 3]
    results = result_records(workload, backend, "Scripted CPU", 8, 2, outcome, scenario.counts(outcome.measurements),
                             scenario="step")
    (result,) = results
    its = result["iteration_stats"]
    assert list(its) == ["forward_ms", "backward_ms", "optimizer_ms", "step_ms"]
    assert its["step_ms"] == {"median": 35.0, "min": 35.0, "max": 35.0, "iqr": 0.0, "p95": 35.0, "count": 6}
    assert all(its[name]["median"] == result["metrics"][name] for name in its)
    assert "| 35.000 (0.000)" in summary(results) and "Step ms (IQR)" in summary(results)


def test_peak_times_each_operation_where_it_adds_no_synchronization_and_has_no_batch():
    backend = ScriptedBackend()
    scenario = PeakScenario(backend, workloads.get("peak"), warmup=1, iterations=4, clock=backend.clock)
    outcome = launcher.launch(scenario, repeats=1, seed=0)
    results = _validated(backend, workloads.get("peak"), outcome, scenario, 1)
    assert all("batch_size" not in r for r in results)
    by = {(r["benchmark"], r["precision"]): r["iteration_stats"]["operation_ms"] for r in results}
    assert by["peak-matmul", "fp32"] == {"median": 500.0, "min": 500.0, "max": 500.0, "iqr": 0.0, "p95": 500.0,
                                         "count": 4}
    assert by["peak-bandwidth", "fp32"]["median"] == 250.0
    assert "| matmul-128 " in summary(results)  # the table needs no batch

    # A device where every mark would synchronize it (MPS, TensorFlow on a GPU): the loop is timed as a whole only.
    backend = ScriptedBackend()
    backend.device = Device("mps", "mps")
    scenario = PeakScenario(backend, workloads.get("peak"), warmup=0, iterations=2, clock=backend.clock)
    outcome = launcher.launch(scenario, repeats=1, seed=0)
    # 3 parts x 4 timer reads (part start, loop start, loop end, part end): none per operation
    assert backend.events.count("sync") == 3 * 4
    results = result_records(workloads.get("peak"), backend, "Apple M1", 1, 1, outcome, scenario.counts([]),
                             scenario="peak")
    assert all("iteration_stats" not in r and r["metrics"]["achieved_flops_per_s" if r["benchmark"] ==
               "peak-matmul" else "bandwidth_bytes_per_s"] > 0 for r in results)
