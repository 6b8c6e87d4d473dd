"""One device count of `runners/run.py --devices`: the process (or, under torchrun, each of the processes) that
measures the workload on N devices and hands the outcome back to the runner (dlbench.runner.distributed).

    python -m dlbench.runner.distributed_worker SPEC.json OUT_DIR

SPEC.json (written by the runner) names the workload, framework, device kind, device count and every option of
the run. PyTorch: started by torchrun once per device, with DistributedDataParallel (backends/torch_ddp.py);
TensorFlow: one process with a MirroredStrategy over the N devices (backends/tf_mirrored.py). The process that
measures for the record (rank 0) writes `OUT_DIR/rank0.json`, the outcome of its repeats; a process whose
workload fails writes `OUT_DIR/rank<R>.json` with the failure and exits 1, so that torchrun stops the others.
Nothing is written to standard output (the runner's summary goes there); failures' tracebacks go to stderr.
Exit status 0 when the workload completed, 1 when it failed, 2 for a usage error (the message on stderr).
"""

from __future__ import annotations

import dataclasses
import json
import os
import sys
from pathlib import Path
from typing import Any

from ..contract.atomic import write_text_atomic
from . import allocator, launcher, scenarios, workloads
from .backends.base import DeviceRequest, RunOptions, UsageError
from .data import datasets

PROG = "distributed_worker"


def read_spec(path: Path) -> dict[str, Any]:
    return json.loads(path.read_text(encoding="utf-8"))


def make_backend(spec: dict[str, Any]) -> Any:
    """The data-parallel backend of the spec's framework (imports the framework)."""
    if spec["framework"] == "torch":
        from .backends.torch_ddp import TorchDDPBackend

        return TorchDDPBackend()
    from .backends.tf_mirrored import MirroredBackend

    return MirroredBackend(spec["count"])


def outcome_json(outcome: launcher.Outcome) -> dict[str, Any]:
    """The outcome as JSON (every Measurement field, whatever the scenarios record in it)."""
    return {"status": outcome.status, "message": outcome.message,
            "measurements": [dataclasses.asdict(m) for m in outcome.measurements],
            "failed": dataclasses.asdict(outcome.failed) if outcome.failed is not None else None}


def measure(spec: dict[str, Any], out: Path) -> int:
    workload = workloads.get(spec["workload"])
    allocator.fix_thresholds()
    backend = make_backend(spec)
    rank = getattr(backend, "rank", 0)
    backend.select_device(DeviceRequest(spec["device_kind"]))
    backend.configure(RunOptions(**spec["options"]), workload)
    data_dir = Path(spec["data_dir"]) if spec.get("data_dir") else None
    scenario = scenarios.make(workload, backend, epochs=spec["epochs"], batch_size=spec["batch_size"],
                              warmup=spec["warmup"], iterations=spec["iterations"],
                              load_dataset=lambda name: datasets.load(name, data_dir),
                              train_samples=spec.get("train_samples"), test_samples=spec.get("test_samples"))
    outcome = launcher.launch(scenario, spec["repeats"], spec["seed"], not_a_result=(datasets.DatasetError,))
    if rank == 0 or outcome.status != "ok":
        write_text_atomic(out / f"rank{rank}.json", json.dumps(outcome_json(outcome), sort_keys=True))
    if outcome.status != "ok":
        return 1  # torchrun then stops the other processes, which may be waiting on this one
    backend.close()
    return 0


def main(argv: list[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    if len(args) != 2:
        print(f"{PROG}: usage: python -m dlbench.runner.distributed_worker SPEC.json OUT_DIR (started by "
              "runners/run.py --devices)", file=sys.stderr)
        return 2
    try:
        return measure(read_spec(Path(args[0])), Path(args[1]))
    except UsageError as exc:
        print(f"{PROG}: {exc}", file=sys.stderr)
        return 2
    except datasets.DatasetError as exc:
        print(f"{PROG}: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    sys.exit(main())
