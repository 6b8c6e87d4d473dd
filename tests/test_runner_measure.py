"""The runner's measurement logic, driven by a scripted backend (a real object, no mock library): the device is
synchronized before every clock read, evaluation is kept out of compute time, repeats give medians and spread,
and failures become results."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest

from dlbench.contract.fragment import with_run_id
from dlbench.contract.validate import validate_run
from dlbench.runner import launcher, workloads
from dlbench.runner.backends.base import Backend, Device, DeviceData
from dlbench.runner.report import result_record, stat, summarize
from dlbench.runner.scenarios import Measurement, TrainingScenario
from dlbench.runner.system.probe import probe_system, provenance
from dlbench.runner.timing import PhaseTimer

TRAIN_S, EVAL_S, LOAD_S, PREDICT_S = 2.0, 0.5, 0.25, 0.125


class ScriptedBackend(Backend):
    """A device whose work takes scripted time on a scripted clock, logging every call."""

    name, version, compile = "scripted", "1.0", "eager"

    def __init__(self, fail_at_epoch: int | None = None, exc: BaseException | None = None):
        self.events: list[str] = []
        self.now = 100.0
        self.fail_at_epoch, self.exc = fail_at_epoch, exc
        self.device = Device("cpu", "cpu")
        self.released = False

    def clock(self) -> float:
        self.events.append("clock")
        return self.now

    def synchronize(self) -> None:
        self.events.append("sync")

    def select_device(self, request):
        return self.device

    def seed(self, seed):
        self.events.append(f"seed {seed}")

    def to_device(self, arrays):
        self.now += LOAD_S
        return DeviceData(np.zeros((60, 1)), np.zeros(60), np.zeros((10, 1)), np.zeros(10))

    def build(self, model, learning_rate, seed):
        return {"model": "m"}

    def model_of(self, state):
        return state["model"]

    def train_epoch(self, state, data, batch_size, epoch, progress):
        self.events.append(f"train {epoch}")
        if epoch == self.fail_at_epoch:
            raise self.exc
        self.now += TRAIN_S
        return 1.0 / (epoch + 1)

    def scalar(self, value):
        return float(value)

    def evaluate(self, model, data, batch_size):
        self.events.append("evaluate")
        self.now += EVAL_S
        return 0.9

    def save(self, model, directory: Path) -> Path:
        path = directory / "model.txt"
        path.write_text(model)
        return path

    def load(self, path, model):
        return path.read_text()

    def predict(self, model, data, batch_size):
        self.now += PREDICT_S
        return [0] * 10

    def reset_peak_memory(self):
        self.events.append("reset-peak")

    def peak_memory(self):
        return {"peak_device_allocated_bytes": 4096}

    def is_oom(self, exc):
        return isinstance(exc, MemoryError)

    def release(self):
        self.released = True


def arrays(name: str):
    return SimpleNamespace(sha256="ab" * 32, train_x=None)


def scenario(backend: ScriptedBackend, epochs: int = 3) -> TrainingScenario:
    return TrainingScenario(backend, workloads.get("fashion-mnist-lenet5"), epochs, 16, arrays, clock=backend.clock)


def test_phase_timer_synchronizes_before_every_clock_read():
    backend = ScriptedBackend()
    timer = PhaseTimer(backend.synchronize, backend.clock)
    with timer.phase("compute"):
        backend.now += 3.0
    with timer.phase("compute"):
        backend.now += 1.5
    timer.read()
    assert backend.events == ["sync", "clock"] * 5
    assert timer.laps["compute"] == [3.0, 1.5]
    assert timer.total("compute") == 4.5


def test_phase_that_raises_records_nothing():
    backend = ScriptedBackend()
    timer = PhaseTimer(backend.synchronize, backend.clock)
    with pytest.raises(ValueError):
        with timer.phase("compute"):
            raise ValueError("boom")
    assert timer.total("compute") == 0
    assert backend.events == ["sync", "clock"]


def test_scenario_times_phases_apart_and_syncs_before_each_clock_read():
    backend = ScriptedBackend()
    m = scenario(backend).run(7, Measurement(seed=7))
    clock_reads = [i for i, e in enumerate(backend.events) if e == "clock"]
    assert clock_reads and all(backend.events[i - 1] == "sync" for i in clock_reads)
    metrics = m.metrics
    # Compute is training only: the per-epoch evaluations are outside it.
    assert metrics["epoch_s"] == [TRAIN_S] * 3
    assert metrics["compute_s"] == 3 * TRAIN_S
    assert metrics["eval_s"] == EVAL_S
    assert metrics["load_s"] == LOAD_S
    assert metrics["inference_predict_s"] == PREDICT_S
    assert metrics["total_s"] == LOAD_S + 3 * (TRAIN_S + EVAL_S) + PREDICT_S
    assert metrics["epoch_accuracy"] == [0.9] * 3 and metrics["accuracy"] == 0.9
    assert metrics["loss"] == pytest.approx(1 / 3, abs=1e-6)
    assert metrics["throughput_samples_per_s"] == round(60 * 3 / (3 * TRAIN_S), 2)
    assert metrics["peak_device_allocated_bytes"] == 4096 and metrics["peak_host_rss_bytes"] > 0
    assert backend.events.index("seed 7") < backend.events.index("train 0")
    assert m.dataset_sha256 == "ab" * 32 and m.train_samples == 60


def test_stat_median_spread_and_samples():
    s = stat("compute_s", [3.0, 1.0, 2.0, 10.0])
    # Quartiles by linear interpolation, as numpy.percentile's default: 1.75 and 4.75.
    assert s == {"median": 2.5, "min": 1.0, "max": 10.0, "iqr": 3.0, "samples": [3.0, 1.0, 2.0, 10.0]}
    q1, q3 = np.percentile([3.0, 1.0, 2.0, 10.0], [25, 75])
    assert s["iqr"] == q3 - q1
    assert "iqr" not in stat("compute_s", [4.0])


def test_summarize_repeats():
    runs = [{"compute_s": 3.0, "accuracy": 0.8, "peak_host_rss_bytes": 10, "epoch_s": [1.0, 2.0]},
            {"compute_s": 1.0, "accuracy": 0.9, "peak_host_rss_bytes": 30, "epoch_s": [0.5, 0.5]},
            {"compute_s": 2.0, "accuracy": 0.7, "peak_host_rss_bytes": 20, "epoch_s": [0.7, 1.3]}]
    metrics, stats = summarize(runs)
    assert metrics == {"compute_s": 2.0, "accuracy": 0.8, "peak_host_rss_bytes": 30, "epoch_s": [0.7, 1.3]}
    assert stats["compute_s"]["samples"] == [3.0, 1.0, 2.0] and stats["compute_s"]["iqr"] == 1.0
    assert set(stats) == {"compute_s", "accuracy"}


def test_repeats_use_successive_seeds_and_fresh_models():
    backend = ScriptedBackend()
    outcome = launcher.launch(scenario(backend, epochs=1), repeats=3, seed=5)
    assert outcome.status == "ok" and len(outcome.measurements) == 3
    assert [m.seed for m in outcome.measurements] == [5, 6, 7]
    assert [e for e in backend.events if e.startswith("seed")] == ["seed 5", "seed 6", "seed 7"]


def _record(backend: ScriptedBackend, outcome: launcher.Outcome) -> dict:
    """A complete run record around the result, as the runner builds it, validated by the schema."""
    result = result_record(workloads.get("fashion-mnist-lenet5"), backend, "Scripted CPU", 3, 16, 1, outcome)
    result["framework"] = "torch"
    run = with_run_id({"schema_version": 1, "started_at": "2025-01-01T00:00:00Z",
                       "finished_at": "2025-01-01T00:01:00Z", "provenance": provenance(["runners/run.py"], 0),
                       "system": probe_system("cpu"), "results": [result]})
    assert validate_run(run) == []
    return result


@pytest.mark.parametrize("exc, status", [(MemoryError("cannot allocate 8 GiB"), "oom"),
                                         (ValueError("shapes (3,) and (4,) do not match\nmore detail"), "error")])
def test_failure_becomes_a_valid_result(exc, status, capsys):
    backend = ScriptedBackend(fail_at_epoch=1, exc=exc)
    outcome = launcher.launch(scenario(backend), repeats=2, seed=0)
    assert outcome.status == status and outcome.measurements == [] and backend.released
    first_line = str(exc).splitlines()[0]
    assert outcome.message == f"{type(exc).__name__}: {first_line}"
    assert "Traceback" in capsys.readouterr().err
    result = _record(backend, outcome)
    assert result["status"] == status and result["message"] == outcome.message
    # What was measured before the failure is kept: the load and the first epoch.
    assert result["metrics"]["load_s"] == LOAD_S and result["metrics"]["epoch_s"] == [TRAIN_S]
    assert "stats" not in result


def test_ok_result_is_valid_and_records_the_model():
    backend = ScriptedBackend()
    result = _record(backend, launcher.launch(scenario(backend), repeats=1, seed=0))
    assert result["status"] == "ok" and "message" not in result
    assert result["parameters"] == 61706 and result["flops_per_sample"] == 833040
    assert (result["strategy"], result["launcher"], result["device_count"]) == ("single", "process", 1)
    assert result["steps"] == 4 * 3  # ceil(60 / 16) steps per epoch


def test_keyboard_interrupt_is_not_a_result():
    backend = ScriptedBackend(fail_at_epoch=0, exc=KeyboardInterrupt())
    with pytest.raises(KeyboardInterrupt):
        launcher.launch(scenario(backend), repeats=1, seed=0)


def test_message_is_bounded():
    assert len(launcher.failure_message(RuntimeError("x" * 5000))) == launcher.MESSAGE_LIMIT
