"""Several devices: `runners/run.py WORKLOAD --devices N` (or `--devices 1,2,4`) for the step and train scenarios.

Data parallelism through the frameworks' own launchers and strategies, one device count after the other, all
results in one fragment:

- **1 device**: measured in the runner's own process exactly as without `--devices` (`launcher = "process"`,
  `strategy = "single"`, `device_count = 1`, no `global_batch_size`): the baseline of the scaling efficiency;
- **N > 1, PyTorch**: `python -m torch.distributed.run --standalone --nproc_per_node N --module
  dlbench.runner.distributed_worker SPEC OUT`, one process per device with DistributedDataParallel, NCCL on
  NVIDIA / AMD GPUs (cuda:0 to cuda:N-1), gloo on the CPU (backends/torch_ddp.py); `launcher = "torchrun"`;
- **N > 1, TensorFlow**: `python -m dlbench.runner.distributed_worker SPEC OUT` in a fresh process (the logical
  devices must be set before TensorFlow's first operation), tf.distribute.MirroredStrategy over the first N
  GPUs or N logical CPU devices (backends/tf_mirrored.py); `launcher = "tf-distribute"`.

Every N > 1 result has `strategy = "data-parallel"`, `device_count = N`, `batch_size` = the batch on each device
(`--batch-size`) and `global_batch_size` = N x batch_size. Its throughput is the whole system's: step = global
batch x timed steps / the wall time of the timed loop, train = training samples x epochs / compute_s, where each
clock read follows a device synchronization and, with torchrun, a barrier of all processes, so the time is the
slowest process's. The other figures (forward/backward/optimizer and step milliseconds, memory peaks) are those
of rank 0 (PyTorch) or of the process driving every replica (TensorFlow), per device. When the counts include 1
and another count, every ok result gets `metrics.scaling_efficiency` = throughput(N) / (N x throughput(1)),
rounded to 4 decimals (1.0 on the one-device result).

What "a device" is on a CPU: N data-parallel workers that share the machine's cores: N processes each given
cores / N threads (OMP_NUM_THREADS, unless the environment sets it) with PyTorch; N logical CPU devices
sharing TensorFlow's thread pool. So at most as many as the logical CPUs this process may run on
(`os.sched_getaffinity`); on GPUs, at most the GPUs the framework sees. More is a usage error naming the count.
"""

from __future__ import annotations

import dataclasses
import datetime as _dt
import json
import math
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from ..contract.fragment import with_run_id
from ..contract.schema import SCHEMA_VERSION
from ..contract.tomlio import format_datetime
from ..contract.validate import validate_run
from . import launcher, scenarios
from .backends.base import Backend, UsageError
from .data import datasets
from .progress import for_stream
from .report import result_records
from .run import InvalidRecord, RunConfig, device_name, fetch_dataset, run_provenance
from .scenarios.base import MESSAGE_LIMIT, Measurement, Part
from .system import probe

SCENARIOS = ("step", "train")
LAUNCHERS = {"torch": "torchrun", "tensorflow": "tf-distribute"}
STRATEGY = "data-parallel"
MAX_DEVICES = 1024
GRACE_S = 60.0          # once a process has reported, how long the others may take to end before being stopped
EFFICIENCY_DIGITS = 4
WORKER = "dlbench.runner.distributed_worker"
PACKAGE_ROOT = Path(__file__).resolve().parent.parent.parent


def parse_counts(text: str) -> list[int]:
    """`--devices N` or `N,M,...`: the device counts, increasing, each once (ValueError saying what is wrong)."""
    counts = []
    for item in text.split(","):
        item = item.strip()
        if not item.isdigit() or not 1 <= int(item) <= MAX_DEVICES:
            raise ValueError(f"{text!r}: give a device count from 1 to {MAX_DEVICES}, or several separated by "
                             "commas (such as 1,2,4)")
        counts.append(int(item))
    return sorted(set(counts))


def cpu_devices() -> int:
    """The logical CPUs this process may run on: the most "CPU devices" a run may ask for."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        return os.cpu_count() or 1


def available(backend: Backend) -> tuple[int, str]:
    """(how many devices of the backend's kind this machine has, what they are in words)."""
    kind = backend.device.kind
    if kind == "cpu":
        count = cpu_devices()
        return count, f"logical CPU{'s' * (count != 1)} (a CPU run uses at most one device per logical CPU)"
    if backend.name == "torch":
        import torch

        count = torch.cuda.device_count()
    else:
        import tensorflow as tf

        count = len(tf.config.list_physical_devices("GPU"))
    return count, f"{kind.upper() if kind == 'rocm' else 'CUDA'} GPU{'s' * (count != 1)}"


def check_counts(backend: Backend, counts: list[int]) -> None:
    """UsageError when this device kind cannot run data-parallel or the machine has fewer devices than asked."""
    if backend.device.kind == "mps":
        raise UsageError("--devices: Apple's MPS is a single device; use --device cpu to run on several CPU devices")
    have, what = available(backend)
    if max(counts) > have:
        raise UsageError(f"--devices {','.join(map(str, counts))}: this machine has {have} {what}; ask for at most "
                         f"{have}")


class _Devices:
    """What the report reads of a backend, for N devices of the backend's kind."""

    def __init__(self, backend: Backend, count: int):
        self.name, self.version = backend.name, backend.version
        self.device = dataclasses.replace(backend.device, count=count)
        self.precision = backend.precision
        self.compile = backend.compile
        self.channels_last = backend.channels_last


def spec_of(config: RunConfig, backend: Backend, count: int) -> dict[str, Any]:
    """Everything a worker needs to measure `config` on `count` devices (JSON)."""
    return {"workload": config.workload.name, "framework": config.framework, "count": count,
            "device_kind": "cpu" if backend.device.kind == "cpu" else "cuda",
            "epochs": config.epochs, "batch_size": config.batch_size, "repeats": config.repeats, "seed": config.seed,
            "warmup": config.warmup_steps, "iterations": config.timed_iterations,
            "train_samples": config.train_samples, "test_samples": config.test_samples,
            "data_dir": str(config.data_dir) if config.data_dir else None,
            "options": dataclasses.asdict(config.options)}


def command(framework: str, count: int, spec: Path, out: Path) -> list[str]:
    """The launch command of a worker for `count` devices."""
    if framework == "torch":
        return [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node", str(count),
                "--max_restarts", "0", "--module", WORKER, str(spec), str(out)]
    return [sys.executable, "-m", WORKER, str(spec), str(out)]


def child_env(framework: str, kind: str, count: int) -> dict[str, str]:
    """This environment, the package importable; on the CPU with PyTorch, each process cores / N threads."""
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(PACKAGE_ROOT), env.get("PYTHONPATH")) if p)
    env.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    if framework == "torch" and kind == "cpu" and "OMP_NUM_THREADS" not in os.environ:
        env["OMP_NUM_THREADS"] = str(max(1, cpu_devices() // count))
    return env


def _measurement(data: dict[str, Any]) -> Measurement:
    known = {f.name for f in dataclasses.fields(Measurement)}
    fields = {k: v for k, v in data.items() if k in known}
    fields["parts"] = {k: Part(**p) for k, p in (fields.get("parts") or {}).items()}
    return Measurement(**fields)


def read_outcome(out: Path, returncode: int | None, what: str) -> launcher.Outcome:
    """The outcome the workers reported in `out`: a failing process's (lowest rank first), else rank 0's; an
    `error` outcome saying so when none reported."""
    reports = sorted(out.glob("rank*.json"), key=lambda p: int(p.stem[4:]) if p.stem[4:].isdigit() else 0)
    loaded = [(int(p.stem[4:]), json.loads(p.read_text(encoding="utf-8"))) for p in reports if p.stem[4:].isdigit()]
    failed = [(rank, r) for rank, r in loaded if r["status"] != "ok"]
    chosen = failed[0] if failed else next(((rank, r) for rank, r in loaded if rank == 0), None)
    if chosen is None:
        return launcher.Outcome(status="error", failed=Measurement(seed=0),
                                message=f"{what} ended with exit status {returncode} before reporting a result (its "
                                        "messages are above)"[:MESSAGE_LIMIT])
    rank, data = chosen
    message = data.get("message")
    if message and rank:
        message = f"rank {rank}: {message}"[:MESSAGE_LIMIT]
    return launcher.Outcome(measurements=[_measurement(m) for m in data["measurements"]], status=data["status"],
                            message=message, failed=_measurement(data["failed"]) if data.get("failed") else None)


def run_count(config: RunConfig, backend: Backend, count: int) -> launcher.Outcome:
    """Measure `config` on `count` devices in worker processes; their outcome."""
    what = f"the {count}-device run ({LAUNCHERS[config.framework]})"
    with tempfile.TemporaryDirectory(prefix="dlbench-devices-") as tmp:
        spec, out = Path(tmp) / "spec.json", Path(tmp) / "out"
        out.mkdir()
        spec.write_text(json.dumps(spec_of(config, backend, count)), encoding="utf-8")
        try:
            stdout: Any = sys.stderr.fileno()  # the workers' output is diagnostics: stdout holds the summary
        except (AttributeError, OSError, ValueError):
            stdout = subprocess.DEVNULL
        proc = subprocess.Popen(command(config.framework, count, spec, out), stdout=stdout,
                                env=child_env(config.framework, backend.device.kind, count))
        try:
            returncode = _wait(proc, out)
        except BaseException:
            _stop(proc)
            raise
        return read_outcome(out, returncode, what)


def _wait(proc: subprocess.Popen, out: Path) -> int:
    """Wait for the workers; once one has reported, stop them if they have not ended GRACE_S later (a process
    left waiting for one that failed)."""
    reported_at = None
    while True:
        try:
            return proc.wait(timeout=1.0)
        except subprocess.TimeoutExpired:
            pass
        if reported_at is None and any(out.glob("rank*.json")):
            reported_at = time.monotonic()
        if reported_at is not None and time.monotonic() - reported_at > GRACE_S:
            _stop(proc)
            return proc.returncode


def _stop(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def data_parallel(result: dict[str, Any], framework: str, count: int) -> dict[str, Any]:
    """A result of `count` devices: strategy, launcher, and the global batch after the per-device batch."""
    out: dict[str, Any] = {}
    for key, value in result.items():
        out[key] = {"strategy": STRATEGY, "launcher": LAUNCHERS[framework]}.get(key, value)
        if key == "batch_size":
            out["global_batch_size"] = value * count
    return out


def add_scaling_efficiency(by_count: dict[int, list[dict[str, Any]]]) -> None:
    """metrics.scaling_efficiency on every ok result, when the counts include 1 and another and the one-device
    result is ok with a throughput."""
    if 1 not in by_count or len(by_count) < 2:
        return
    one = by_count[1][0]
    base = one.get("metrics", {}).get("throughput_samples_per_s") if one["status"] == "ok" else None
    if not base:
        return
    for count, results in by_count.items():
        for result in results:
            tput = result.get("metrics", {}).get("throughput_samples_per_s")
            if result["status"] == "ok" and tput is not None:
                result["metrics"]["scaling_efficiency"] = round(tput / (count * base), EFFICIENCY_DIGITS)


def measure_devices(config: RunConfig, backend: Backend, argv: list[str], counts: list[int]) -> dict[str, Any]:
    """Measure the workload on each of `counts` devices; the validated run record holding every result.

    UsageError (before anything is measured) when the machine has fewer devices; otherwise as run.measure.
    """
    workload = config.workload
    if workload.scenario not in SCENARIOS:
        raise UsageError(f"--devices: the {workload.scenario} scenario runs on one device (several devices: the "
                         f"{' and '.join(SCENARIOS)} scenarios)")
    check_counts(backend, counts)
    progress = for_stream(sys.stderr)
    fetch_dataset(config, progress)
    system = probe.probe_system(backend.device.kind, framework=config.framework)
    name = device_name(backend, system)

    def scenario(progress: Any = None) -> Any:
        return scenarios.make(workload, backend, epochs=config.epochs, batch_size=config.batch_size,
                              warmup=config.warmup_steps, iterations=config.timed_iterations,
                              load_dataset=lambda dataset: datasets.load(dataset, config.data_dir), progress=progress,
                              train_samples=config.train_samples, test_samples=config.test_samples)

    started = _dt.datetime.now(_dt.timezone.utc)
    by_count: dict[int, list[dict[str, Any]]] = {}
    for count in counts:
        if count == 1:
            measuring = scenario(progress)
            outcome = launcher.launch(measuring, config.repeats, config.seed, not_a_result=(datasets.DatasetError,))
            backend.release()  # the cached device memory back before the workers start
            view: Any = backend
        else:
            print(f"run.py: {count} devices: starting {LAUNCHERS[config.framework]}", file=sys.stderr, flush=True)
            outcome = run_count(config, backend, count)
            view = _Devices(backend, count)
        done = outcome.measurements + ([outcome.failed] if outcome.failed else [])
        counted = scenario().counts(done)
        if count > 1 and workload.scenario == "train" and "steps" in counted:
            samples = next((m.train_samples for m in done if m.train_samples), None)
            if samples:  # each process steps through its shard
                counted["steps"] = math.ceil(samples / (config.batch_size * count)) * config.epochs
        results = result_records(workload, view, name, config.batch_size, config.repeats, outcome, counted,
                                 scenario=workload.scenario)
        by_count[count] = [data_parallel(r, config.framework, count) if count > 1 else r for r in results]
    add_scaling_efficiency(by_count)
    finished = _dt.datetime.now(_dt.timezone.utc)

    run = with_run_id({"schema_version": SCHEMA_VERSION, "started_at": format_datetime(started),
                       "finished_at": format_datetime(finished), "provenance": run_provenance(argv, config),
                       "system": system,
                       "results": [r for count in counts for r in by_count[count]]})
    problems = validate_run(run, "<new run>")
    if problems:
        raise InvalidRecord(problems)
    return run
