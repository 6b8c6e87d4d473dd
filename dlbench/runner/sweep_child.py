"""One point of a batch-size sweep, in a process of its own: `python -m dlbench.runner.sweep_child SPEC OUT`.

Started by dlbench.runner.sweep (never by hand). SPEC is a JSON file: the run's configuration (`config_json`),
the batch to measure, the memory limit and the command to record. The process bounds itself by the limit
first (on a CPU: RLIMIT_AS, before the framework is imported, when the device asked for is the CPU; once the
device is chosen otherwise), then does what a plain `runners/run.py` run does at that batch
(dlbench.runner.run.prepare and measure), and writes into the folder OUT:

- `skeleton.json`, once the framework is set up and before anything is measured: the run record as it would
  be had the measurement failed at once (system, provenance, the result's fields without metrics), so that
  the sweep can still write a result when this process is killed (TensorFlow may abort on an allocation
  failure instead of raising);
- `record.json`: the run record the measurement gave (status ok, oom or error), as `measure` returns it;
- `usage.json` ({"message": ...}) and exit status 2: something the options cannot do here (a precision the
  device lacks, a memory limit over the device's memory);
- `setup.json` ({"message": ...}) and exit status 1: the framework could not be set up at all (under a memory
  limit too small to import it, typically); `dataset.json` likewise for a dataset that cannot be had.

Each file is written whole (a temporary name, then renamed).
"""

from __future__ import annotations

import json
import sys
from dataclasses import asdict, fields, replace
from pathlib import Path
from typing import Any

from ..contract.atomic import write_text_atomic
from . import memory_limit, workloads
from .backends.base import DeviceRequest, RunOptions, UsageError


def config_json(config: Any) -> dict[str, Any]:
    """A RunConfig as JSON (the workload by name)."""
    out = {f.name: getattr(config, f.name) for f in fields(config)
           if f.name not in ("workload", "device", "options", "data_dir")}
    out.update(workload=config.workload.name, device=[config.device.kind, config.device.index],
               options=asdict(config.options), data_dir=str(config.data_dir) if config.data_dir else None)
    return out


def config_from_json(data: dict[str, Any]) -> Any:
    from .run import RunConfig

    given = dict(data)
    given.update(workload=workloads.get(data["workload"]), device=DeviceRequest(*data["device"]),
                 options=RunOptions(**data["options"]), data_dir=Path(data["data_dir"]) if data["data_dir"] else None)
    return RunConfig(**given)


def _write(out: Path, name: str, data: Any) -> None:
    write_text_atomic(out / name, json.dumps(data))


def skeleton(config: Any, backend: Any, argv: list[str]) -> dict[str, Any]:
    """The run record of a measurement that failed before measuring anything (status "error"; the sweep sets
    the status, message and metrics of the point it stands for)."""
    import datetime as _dt

    from ..contract.schema import SCHEMA_VERSION
    from ..contract.tomlio import format_datetime
    from . import scenarios
    from .launcher import Outcome
    from .report import result_records
    from .run import device_name, run_provenance
    from .scenarios.base import Measurement
    from .system import probe

    system = probe.probe_system(backend.device.kind, framework=config.framework)
    scenario = scenarios.make(config.workload, backend, epochs=config.epochs, batch_size=config.batch_size,
                              warmup=config.warmup_steps, iterations=config.timed_iterations,
                              load_dataset=lambda name: None)
    failed = Measurement(seed=config.seed)
    outcome = Outcome(status="error", message="not measured", failed=failed)
    now = format_datetime(_dt.datetime.now(_dt.timezone.utc))
    return {"schema_version": SCHEMA_VERSION, "started_at": now, "finished_at": now,
            "provenance": run_provenance(argv, config),
            "system": system,
            "results": result_records(config.workload, backend, device_name(backend, system), config.batch_size,
                                      config.repeats, outcome, scenario.counts([failed]),
                                      scenario=config.workload.scenario)}


def run_point(spec: dict[str, Any], out: Path) -> int:
    """Measure the point SPEC describes, writing into OUT; the exit status."""
    given = spec.get("memory_limit_bytes")
    limit = given or spec.get("default_host_limit")  # the default bounds CPU points only
    config = replace(config_from_json(spec["config"]), batch_size=spec["batch_size"])
    applied: int | None = None
    if limit and config.device.kind == "cpu":
        memory_limit.limit_address_space(limit)  # before the framework is imported: it all counts
        applied = limit
    from .backends import FrameworkMissing
    from .data.datasets import DatasetError
    from .run import measure, prepare

    try:
        backend = prepare(config)
        if backend.device.kind == "cpu" and limit and applied is None:  # --device auto chose the CPU
            if given:
                import psutil

                memory_limit.check_host_limit(given, config.framework, int(psutil.virtual_memory().total))
            memory_limit.limit_address_space(limit)
            applied = limit
        elif backend.device.kind != "cpu" and given:
            memory_limit.cap_accelerator(backend, given)
            applied = given
        started = {"record": skeleton(config, backend, spec["argv"]), "memory_limit_bytes": applied,
                   "device_kind": backend.device.kind}
        _write(out, "skeleton.json", started)
    except (UsageError, FrameworkMissing) as exc:
        _write(out, "usage.json", {"message": str(exc)})
        return 2
    except Exception as exc:  # noqa: BLE001 - a framework that cannot start under the limit fails in many ways
        from .scenarios.base import failure_message

        _write(out, "setup.json", {"message": failure_message(exc)})
        raise
    try:
        record = measure(config, backend, spec["argv"])
    except DatasetError as exc:
        _write(out, "dataset.json", {"message": str(exc)})
        return 1
    except UsageError as exc:
        _write(out, "usage.json", {"message": str(exc)})
        return 2
    _write(out, "record.json", record)
    return 0


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 2:
        print("usage: python -m dlbench.runner.sweep_child SPEC.json OUT_DIR (started by runners/run.py "
              "--batch-sweep)", file=sys.stderr)
        return 2
    spec = json.loads(Path(args[0]).read_text(encoding="utf-8"))
    try:
        return run_point(spec, Path(args[1]))
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
