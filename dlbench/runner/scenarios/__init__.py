"""The scenarios: how a workload is measured. A workload names its scenario (`Workload.scenario`); each lives in
one module, registered here:

- `train` (train.py): epochs over a real dataset, evaluated after each, then the saved model reloaded and run
  over the test set (load / compute / eval / inference seconds, accuracy, throughput);
- `step` (step.py): training steps on synthetic input of the model's native shape, after untimed warm-up
  steps: forward, backward and optimizer milliseconds, throughput, achieved FLOP/s;
- `infer` (infer.py): the saved model loaded from disk, batch-1 latency percentiles from PNG files, and
  throughput at the batch size;
- `peak` (peak.py): the device's ceiling, dense matmul FLOP/s per precision and on-device copy bandwidth, as
  several results of one run.

Each module documents exactly what its metrics time. `make` builds the one a workload names.
"""

from __future__ import annotations

from typing import Any, Callable

from .base import Measurement, Part, Scenario, classify, failure_message
from .infer import InferenceScenario
from .peak import PeakScenario
from .step import StepScenario
from .train import TrainingScenario

SCENARIOS: dict[str, type[Scenario]] = {
    "train": TrainingScenario,
    "step": StepScenario,
    "infer": InferenceScenario,
    "peak": PeakScenario,
}

# What each scenario takes from the command line: the options a scenario does not use are usage errors.
USES: dict[str, frozenset[str]] = {
    "train": frozenset({"epochs", "batch_size", "train_samples", "test_samples"}),
    "step": frozenset({"warmup", "iterations", "batch_size"}),
    "infer": frozenset({"warmup", "iterations", "batch_size"}),
    "peak": frozenset({"warmup", "iterations"}),
}


def make(workload: Any, backend: Any, *, epochs: int, batch_size: int, warmup: int, iterations: int,
         load_dataset: Callable[[str], Any], progress: Any = None, train_samples: int | None = None,
         test_samples: int | None = None) -> Scenario:
    """The scenario `workload` names, set up with these counts (`train_samples`, `test_samples`: train only)."""
    kind = workload.scenario
    if kind == "train":
        return TrainingScenario(backend, workload, epochs, batch_size, load_dataset, progress,
                                train_samples=train_samples, test_samples=test_samples)
    if kind == "step":
        return StepScenario(backend, workload, batch_size, warmup, iterations, progress)
    if kind == "infer":
        return InferenceScenario(backend, workload, batch_size, warmup, iterations, load_dataset, progress)
    if kind == "peak":
        return PeakScenario(backend, workload, warmup, iterations, progress)
    raise KeyError(kind)


__all__ = ["SCENARIOS", "USES", "InferenceScenario", "Measurement", "Part", "PeakScenario", "Scenario",
           "StepScenario", "TrainingScenario", "classify", "failure_message", "make"]
