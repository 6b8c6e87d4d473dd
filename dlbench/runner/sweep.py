"""A batch-size sweep (`runners/run.py WORKLOAD --batch-sweep`): the points, then one result.

Which batches are tried, and the memory line, are dlbench.runner.sweep_search's; each point runs in a process
of its own (dlbench.runner.sweep_points, dlbench.runner.sweep_child), measured exactly as a plain run of
`runners/run.py --batch-size B` is, under the memory limit (dlbench.runner.memory_limit). This process imports
no framework: it holds no device memory the points could have used.

The result: the run record of the largest batch that fitted (its status, metrics and timings; the time span
and command of the whole sweep), with `batch_sweep` (every point, the largest fit, the smallest
out-of-memory batch, the resolution, the memory limit, the line fitted to the points' peak memory: device
memory on an accelerator, host RSS on a CPU) and `metrics.largest_fitting_batch` and
`metrics.memory_per_sample_bytes`. When nothing fitted, that of `start` (status oom); when a point failed
otherwise, that point's (status error, its message saying where the sweep stopped).
"""

from __future__ import annotations

import copy
import datetime as _dt
import sys
import tempfile
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Callable, TextIO

from . import memory_limit
from .memory_limit import format_bytes
from .scenarios.base import MESSAGE_LIMIT
from .sweep_points import PointRunner, SweepFailed, memory_evidence
from .sweep_search import Resolution, Search, fit_memory, search

__all__ = ["ISOLATION", "PointRunner", "SweepFailed", "SweepOptions", "build_record", "check_options",
           "measure_sweep", "memory_evidence", "summary"]

ISOLATION = "process"


@dataclass(frozen=True)
class SweepOptions:
    """What `--batch-sweep` was asked: the first batch, the largest allowed, the resolution, the memory limit
    as given (None: none; on a CPU under Linux the points are then bounded by the memory available at start)."""

    start: int = 1
    max_batch: int | None = None
    resolution: Resolution = Resolution(percent=5.0)
    memory_limit_bytes: int | None = None


def check_options(config: Any, sweep: SweepOptions) -> None:
    """Usage errors that need no framework: a CPU memory limit over the machine's memory or under the floor."""
    import psutil

    if sweep.memory_limit_bytes is not None and config.device.kind == "cpu":
        memory_limit.check_host_limit(sweep.memory_limit_bytes, config.framework,
                                      int(psutil.virtual_memory().total))


def sweep_fields(found: Search, sweep: SweepOptions, limit: int | None, device_kind: str | None) -> dict[str, Any]:
    """The result's `batch_sweep` object."""
    out: dict[str, Any] = {"start": sweep.start, "resolution": found.resolution}
    if sweep.max_batch is not None:
        out["max_batch"] = sweep.max_batch
    if limit is not None:
        out["memory_limit_bytes"] = limit
    out["isolation"] = ISOLATION
    out["points"] = [p.fields for p in found.points]
    if found.largest_fit is not None:
        out["largest_fit"] = found.largest_fit
    if found.smallest_oom is not None:
        out["smallest_oom"] = found.smallest_oom
    ok = [p.fields for p in found.points if p.status == "ok"]
    device = device_kind not in (None, "cpu") and ok and all("peak_device_bytes" in f for f in ok)
    key = "peak_device_bytes" if device else "peak_host_rss_bytes"
    line = fit_memory([(f["batch_size"], f[key]) for f in ok if key in f], "device" if device else "host")
    if line is not None:
        out["memory_fit"] = line
    return out


def build_record(found: Search, sweep: SweepOptions, limit: int | None, device_kind: str | None,
                 started: _dt.datetime, finished: _dt.datetime) -> dict[str, Any]:
    """The sweep's run record (see the module's docstring), validated; InvalidRecord when it does not."""
    from ..contract.fragment import with_run_id
    from ..contract.tomlio import format_datetime
    from ..contract.validate import validate_run
    from .run import InvalidRecord

    if found.error is not None:
        chosen = found.error
    elif found.largest_fit is not None:
        chosen = next(p for p in found.points if p.batch_size == found.largest_fit and p.status == "ok")
    else:
        chosen = found.points[0]
    base = chosen.record or chosen.skeleton or next((p.skeleton for p in found.points if p.skeleton), None)
    if base is None:
        raise SweepFailed("no point got far enough to describe the run; nothing to write")
    run = copy.deepcopy(base)
    result = run["results"][0]
    if chosen.record is None:  # its process died: the point's status and what it recorded
        result["batch_size"] = chosen.batch_size
        result["status"] = chosen.status
        result["message"] = chosen.fields["message"]
        result["metrics"] = ({"peak_host_rss_bytes": chosen.fields["peak_host_rss_bytes"]}
                             if "peak_host_rss_bytes" in chosen.fields else {})
        for key in ("stats", "iteration_stats"):
            result.pop(key, None)
    if found.error is not None:
        result["message"] = (f"the batch sweep stopped at batch {chosen.batch_size}: "
                             f"{result.get('message', 'error')}")[:MESSAGE_LIMIT]
    result["batch_sweep"] = sweep_fields(found, sweep, limit, device_kind)
    if result["status"] == "ok":
        result["metrics"]["largest_fitting_batch"] = found.largest_fit
        line = result["batch_sweep"].get("memory_fit")
        if line is not None and line["per_sample_bytes"] >= 0:
            result["metrics"]["memory_per_sample_bytes"] = line["per_sample_bytes"]
    run["started_at"] = format_datetime(started)
    run["finished_at"] = format_datetime(finished)
    run = with_run_id(run)
    problems = validate_run(run, "<new run>")
    if problems:
        raise InvalidRecord(problems)
    return run


def measure_sweep(config: Any, sweep: SweepOptions, argv: list[str], log: TextIO | None = sys.stderr,
                  runner: Callable[..., PointRunner] = PointRunner) -> dict[str, Any]:
    """Run the sweep and return its validated run record. UsageError (the options cannot be run here),
    dlbench.runner.data.datasets.DatasetError, SweepFailed, InvalidRecord and KeyboardInterrupt propagate."""
    check_options(config, sweep)
    started = _dt.datetime.now(_dt.timezone.utc)
    with tempfile.TemporaryDirectory(prefix="dlbench-sweep-") as tmp:
        points = runner(replace(config, batch_size=sweep.start), sweep.memory_limit_bytes, argv, Path(tmp), log)
        found = search(sweep.start, sweep.max_batch, sweep.resolution, points)
    finished = _dt.datetime.now(_dt.timezone.utc)
    return build_record(found, sweep, points.limit_applied, points.device_kind, started, finished)


def summary(result: dict[str, Any]) -> str:
    """The curve of a sweep result as a Markdown table, with the largest batch and the memory line below."""
    sweep = result["batch_sweep"]
    titles = ("Batch", "Status", "Samples/s", "Step ms", "Peak device", "Peak host RSS")
    rows = []
    for f in sorted(sweep["points"], key=lambda f: f["batch_size"]):
        rows.append((str(f["batch_size"]), f["status"],
                     f"{f['throughput_samples_per_s']:,.1f}" if "throughput_samples_per_s" in f else "-",
                     f"{f['step_ms']:.3f}" if "step_ms" in f else "-",
                     format_bytes(f["peak_device_bytes"]) if "peak_device_bytes" in f else "-",
                     format_bytes(f["peak_host_rss_bytes"]) if "peak_host_rss_bytes" in f else "-"))
    widths = [max(len(t), *(len(r[i]) for r in rows)) for i, t in enumerate(titles)]
    line = lambda values: "| " + " | ".join(v.ljust(w) for v, w in zip(values, widths)) + " |"  # noqa: E731
    out = [line(titles), "|" + "|".join("-" * (w + 2) for w in widths) + "|", *(line(r) for r in rows)]
    found = sweep.get("largest_fit")
    bound = f"; smallest out of memory {sweep['smallest_oom']}" if "smallest_oom" in sweep else ""
    limit = (f", memory limit {format_bytes(sweep['memory_limit_bytes'])}" if "memory_limit_bytes" in sweep else "")
    out.append(f"largest batch that fits: {found if found is not None else 'none'}{bound} "
               f"(resolution {sweep['resolution']}{limit}, each point in its own process)")
    fit = sweep.get("memory_fit")
    if fit:
        out.append(f"peak {fit['memory']} memory ~ {format_bytes(fit['fixed_bytes'])} + "
                   f"{format_bytes(fit['per_sample_bytes'])} x batch (least squares over {fit['points']} points, "
                   f"RMS residual {format_bytes(fit['residual_bytes'])})")
    return "\n".join(out)
