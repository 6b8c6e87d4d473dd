"""A whole runner invocation: choose the device, probe the system, measure, and build the validated record."""

from __future__ import annotations

import datetime as _dt
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..contract.device_names import normalize_name
from ..contract.fragment import with_run_id
from ..contract.problems import Problem
from ..contract.schema import SCHEMA_VERSION
from ..contract.tomlio import format_datetime
from ..contract.validate import validate_run
from . import allocator, backends, launcher, scenarios
from .backends.base import Backend, DeviceRequest, RunOptions, UsageError
from .data import datasets
from .progress import for_stream
from .report import result_records
from .system import probe
from .workloads.base import Workload


@dataclass(frozen=True)
class RunConfig:
    workload: Workload
    framework: str
    device: DeviceRequest
    epochs: int
    batch_size: int
    repeats: int = 1
    seed: int = 0
    data_dir: Path | None = None
    contributor: str | None = None
    notes: str | None = None
    options: RunOptions = field(default_factory=RunOptions)
    warmup: int | None = None      # None: the workload's default
    iterations: int | None = None
    train_samples: int | None = None   # train: the first N training samples only (None: all)
    test_samples: int | None = None    # train: the first M test samples only (None: all)

    @property
    def warmup_steps(self) -> int:
        return self.workload.warmup if self.warmup is None else self.warmup

    @property
    def timed_iterations(self) -> int:
        return self.workload.iterations if self.iterations is None else self.iterations


class InvalidRecord(Exception):
    """The record the runner built does not validate: a bug in the runner; nothing is written."""

    def __init__(self, problems: list[Problem]):
        super().__init__("; ".join(p.format() for p in problems))
        self.problems = problems


def prepare(config: RunConfig) -> Backend:
    """Fix the host allocator's thresholds, import the framework, claim the device and apply the options
    (UsageError when this framework or device cannot do them; backends.FrameworkMissing)."""
    workload = config.workload
    if workload.scenario == "infer" and workload.from_files:
        try:
            import PIL  # noqa: F401
        except ImportError:
            raise UsageError(f"{workload.name}: writing and decoding its PNG input files needs Pillow, which is "
                             "not installed: `pip install pillow`") from None
    allocator.fix_thresholds()  # before the framework allocates: see allocator.py
    backend = backends.load(config.framework)
    backend.select_device(config.device)
    backend.configure(config.options, workload)
    scenarios.make(workload, backend, epochs=config.epochs, batch_size=config.batch_size,
                   warmup=config.warmup_steps, iterations=config.timed_iterations,
                   load_dataset=lambda name: None, train_samples=config.train_samples,
                   test_samples=config.test_samples).check(backend)
    return backend


def device_name(backend: Backend, system: dict[str, Any]) -> str:
    """Normalized name of the device used: the accelerator's, or the CPU model (the probe normalizes it) for cpu
    and for Apple's MPS, whose GPU is part of the chip the CPU model names."""
    if backend.device.raw_name:
        return normalize_name(backend.device.raw_name)
    return system["cpu"]["model"]


def fetch_dataset(config: RunConfig, progress: Any) -> None:
    """Fetch the workload's dataset (download once, verify) before anything is timed, so that load_s never
    includes a download; UsageError when --train-samples / --test-samples ask for more than a split holds."""
    workload = config.workload
    if workload.synthetic:
        return
    arrays = datasets.load(workload.dataset, config.data_dir, progress=progress.every > 0)
    try:
        arrays.head(config.train_samples, config.test_samples)
    except datasets.PartTooLarge as exc:
        option = "--train-samples" if exc.split == "training" else "--test-samples"
        raise UsageError(f"{option}: {exc}; ask for at most that many") from None


def run_provenance(argv: list[str], config: RunConfig) -> dict[str, Any]:
    """The run's `provenance`: what the system probe records, with the contributor and notes given."""
    prov = probe.provenance(argv, config.seed)
    if config.contributor:
        prov["contributor"] = config.contributor
    if config.notes:
        prov["notes"] = config.notes
    return prov


def measure(config: RunConfig, backend: Backend, argv: list[str]) -> dict[str, Any]:
    """Run the workload and return the validated run record (JSON form, run_id set).

    Failures of the workload are results (status "oom" / "error"); datasets.DatasetError and KeyboardInterrupt
    propagate, and so do InvalidRecord and UsageError (more --train-samples / --test-samples than the dataset has).
    """
    workload = config.workload
    progress = for_stream(sys.stderr)
    fetch_dataset(config, progress)
    system = probe.probe_system(backend.device.kind, framework=config.framework)
    name = device_name(backend, system)

    def load_dataset(dataset: str) -> datasets.Arrays:
        return datasets.load(dataset, config.data_dir)

    scenario = scenarios.make(workload, backend, epochs=config.epochs, batch_size=config.batch_size,
                              warmup=config.warmup_steps, iterations=config.timed_iterations,
                              load_dataset=load_dataset, progress=progress, train_samples=config.train_samples,
                              test_samples=config.test_samples)
    started = _dt.datetime.now(_dt.timezone.utc)
    outcome = launcher.launch(scenario, config.repeats, config.seed, not_a_result=(datasets.DatasetError,))
    finished = _dt.datetime.now(_dt.timezone.utc)

    run = {
        "schema_version": SCHEMA_VERSION,
        "started_at": format_datetime(started),
        "finished_at": format_datetime(finished),
        "provenance": run_provenance(argv, config),
        "system": system,
        "results": result_records(workload, backend, name, config.batch_size, config.repeats, outcome,
                                  scenario.counts(outcome.measurements + ([outcome.failed] if outcome.failed else [])),
                                  scenario=workload.scenario),
    }
    run = with_run_id(run)
    problems = validate_run(run, "<new run>")
    if problems:
        raise InvalidRecord(problems)
    return run
