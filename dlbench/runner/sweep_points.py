"""The points of a batch-size sweep: each batch measured in a fresh process, and how that process ended.

Each point is a `python -m dlbench.runner.sweep_child` process (`isolation = "process"`: an out-of-memory error
can leave a framework unusable, and a process's peak memory is its own) that measures the batch exactly as a
plain `runners/run.py --batch-size B` run does, under the memory limit (dlbench.runner.memory_limit). Its
output is kept apart (shown only when the sweep cannot go on); its peak resident memory comes from `wait4`.

How a point ended: the run record it wrote says ok, oom or error. A process that died without one (killed by
a signal, a native abort) ran out of memory only with evidence:
- in what it printed: std::bad_alloc, TensorFlow's RESOURCE_EXHAUSTED / "OOM when allocating", MemoryError,
  "Cannot allocate memory", a library that could not be mapped (OOM_EVIDENCE); or
- by experiment, for a process bounded by RLIMIT_AS that died of a signal without a word (oneDNN aborts with
  "could not create a primitive" when its JIT code cannot be mapped): the same batch is run once more, with
  twice the address space (at most the memory available) and one timed step; if it then runs, or runs out of
  memory in words, the first process ran out of memory. This run is not a point of the curve.
Otherwise the point is an error, which ends the sweep. A usage error of a point (an option the device cannot
do, a memory limit over the device's memory) stops the sweep as a usage error.
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any, TextIO

import dlbench
from . import memory_limit
from .backends.base import UsageError
from .memory_limit import format_bytes
from .sweep_child import config_json
from .sweep_search import Point

TEXT_LIMIT = 500  # the schema's `text` (a point's message)
OOM_EVIDENCE = (re.compile(r"RESOURCE_EXHAUSTED:.*"), re.compile(r"OOM when allocating.*"),
                re.compile(r"std::bad_alloc"), re.compile(r"\bMemoryError\b.*"),
                re.compile(r"(?i)(?:can't|cannot) allocate memory.*"), re.compile(r"(?i)\bout of memory\b.*"),
                re.compile(r"failed to map segment from shared object.*"))  # a library loaded past RLIMIT_AS


class SweepFailed(Exception):
    """The sweep could not produce a result at all (the first point's process failed before measuring)."""


def default_host_limit() -> int | None:
    """The address-space bound of CPU points without --memory-limit: the memory available now (whole MiB), so
    that a sweep ends in the out-of-memory error it looks for rather than in swapping or the kernel's OOM
    killer; None where RLIMIT_AS is not enforced."""
    if not memory_limit.address_space_limit_supported():
        return None
    import psutil

    return int(psutil.virtual_memory().available) // memory_limit.MiB * memory_limit.MiB


def memory_evidence(output: str) -> str | None:
    """The out-of-memory words in a point's output (the first kind found, from the match on), or None."""
    for pattern in OOM_EVIDENCE:
        found = pattern.search(output)
        if found:
            return found.group(0).strip()
    return None


def short(text: str, limit: int = TEXT_LIMIT) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[:limit - 3] + "..."


def ended(returncode: int) -> str:
    if returncode < 0:
        try:
            return f"died of {signal.Signals(-returncode).name}"
        except ValueError:
            return f"died of signal {-returncode}"
    return f"exited with status {returncode}"


def _read(path: Path) -> Any:
    return json.loads(path.read_text(encoding="utf-8")) if path.is_file() else None


def _last_line(output: str) -> str:
    lines = [line.strip() for line in output.splitlines() if line.strip()]
    return lines[-1] if lines else "(nothing)"


def _tail(output: str, lines: int = 20) -> str:
    return "\n".join(output.rstrip().splitlines()[-lines:])


class PointRunner:
    """Measures one point per call, each in a fresh process; remembers the limit the points ran under and the
    kind of device they chose."""

    def __init__(self, config: Any, memory_limit_bytes: int | None, argv: list[str], workdir: Path,
                 log: TextIO | None = None):
        self.config = config
        self.workdir = workdir
        self.log = log
        self.count = 0
        self.limit_applied: int | None = None
        self.device_kind: str | None = None
        self.spec = {"config": config_json(config), "argv": argv, "memory_limit_bytes": memory_limit_bytes,
                     "default_host_limit": default_host_limit() if memory_limit_bytes is None else None}
        root = str(Path(dlbench.__file__).resolve().parent.parent)
        self.env = dict(os.environ, PYTHONPATH=os.pathsep.join(p for p in (root, os.environ.get("PYTHONPATH"))
                                                               if p))
        # TensorFlow's warnings on (its output is kept apart): its "OOM when allocating" line is the evidence when
        # it then aborts.
        if self.env.get("TF_CPP_MIN_LOG_LEVEL") != "0":
            self.env["TF_CPP_MIN_LOG_LEVEL"] = "1"

    def __call__(self, batch: int) -> Point:
        self.count += 1
        if self.log:
            print(f"batch {batch}: running ...", file=self.log, flush=True)
        folder = self.workdir / f"point-{self.count:03d}"
        returncode, rss, output = self.spawn(folder, dict(self.spec, batch_size=batch))
        point = self.point(batch, folder, returncode, rss, output)
        if self.log:
            print(describe(point), file=self.log, flush=True)
        return point

    def spawn(self, folder: Path, spec: dict[str, Any]) -> tuple[int, int | None, str]:
        """Run one child on `spec` in `folder`: (exit status, peak RSS, what it printed)."""
        (folder / "tmp").mkdir(parents=True)
        spec_path = folder / "spec.json"
        spec_path.write_text(json.dumps(spec), encoding="utf-8")
        output = folder / "output.txt"
        with open(output, "wb") as out:
            proc = subprocess.Popen([sys.executable, "-m", "dlbench.runner.sweep_child", str(spec_path), str(folder)],
                                    stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT,
                                    env=dict(self.env, TMPDIR=str(folder / "tmp")))
            rss = wait(proc)
        return proc.returncode, rss, output.read_text(encoding="utf-8", errors="replace")

    def point(self, batch: int, folder: Path, returncode: int, rss: int | None, output: str) -> Point:
        usage = _read(folder / "usage.json")
        if usage:
            raise UsageError(usage["message"])
        dataset = _read(folder / "dataset.json")
        if dataset:
            from .data.datasets import DatasetError

            raise DatasetError(dataset["message"])
        started = _read(folder / "skeleton.json")
        record = _read(folder / "record.json")
        if started:
            self.limit_applied = started["memory_limit_bytes"]
            self.device_kind = started["device_kind"]
        if record is not None:
            return record_point(batch, record, rss, started and started["record"])
        evidence = memory_evidence(output)
        how = ended(returncode)
        if started is None:  # died while importing the framework or claiming the device
            return self._not_started(batch, folder, how, evidence, output)
        fields: dict[str, Any] = {"batch_size": batch}
        if evidence:
            fields.update(status="oom", message=short(f"{evidence} (the process then {how})"))
        else:
            said = _last_line(output)
            confirmed = self.confirm(batch, folder) if returncode < 0 else None
            if confirmed:
                fields.update(status="oom", message=short(f"{said} (the process then {how}); {confirmed}"))
            else:
                fields.update(status="error", message=short(f"the process measuring this batch {how}, saying no "
                                                            f"more than: {said}"))
        if rss:
            fields["peak_host_rss_bytes"] = rss
        return Point(batch, fields["status"], fields, None, started["record"])

    def _not_started(self, batch: int, folder: Path, how: str, evidence: str | None, output: str) -> Point:
        setup = _read(folder / "setup.json")
        said = setup["message"] if setup else (evidence or _last_line(output))
        limit = self.spec["memory_limit_bytes"]
        if self.count == 1 and evidence and limit:
            raise UsageError(f"--memory-limit {format_bytes(limit)} ({limit} bytes) is too small for "
                             f"{self.config.framework} to start on this machine ({said}); give more")
        if self.count == 1:
            raise SweepFailed(f"the process measuring batch {batch} {how} before measuring: {short(said)}; its "
                              f"output:\n{_tail(output)}")
        return Point(batch, "error", {"batch_size": batch, "status": "error",
                                      "message": short(f"the process {how} while starting: {said}")})

    def confirm(self, batch: int, folder: Path) -> str | None:
        """For a CPU point that died of a signal without a word: run the batch once more with twice the address
        space (at most what is available now) and one timed step. The words to add to its message when that
        shows it ran out of memory, else None."""
        limit = self.limit_applied
        if self.device_kind != "cpu" or not limit:
            return None
        import psutil

        room = int(psutil.virtual_memory().available) // memory_limit.MiB * memory_limit.MiB
        bigger = min(2 * limit, room)
        if bigger <= limit:
            return None
        config = dict(self.spec["config"], warmup=0, iterations=1)
        spec = dict(self.spec, config=config, batch_size=batch, memory_limit_bytes=bigger, default_host_limit=None)
        again = folder / "confirm"
        try:
            returncode, _, output = self.spawn(again, spec)
        except OSError:
            return None
        record = _read(again / "record.json")
        status = record["results"][0]["status"] if record else ("oom" if memory_evidence(output) else None)
        if status == "ok":
            return f"with {format_bytes(bigger)} of address space instead of {format_bytes(limit)} the same batch ran"
        if status == "oom":
            return f"with {format_bytes(bigger)} of address space the same batch ran out of memory too"
        return None


def record_point(batch: int, record: dict[str, Any], rss: int | None, skeleton: dict[str, Any] | None) -> Point:
    """The point a run record of one batch stands for (schema batch_sweep_point)."""
    result = record["results"][0]
    metrics = result.get("metrics", {})
    status = result["status"]
    fields: dict[str, Any] = {"batch_size": batch, "status": status}
    if status == "ok":
        if "throughput_samples_per_s" in metrics:
            fields["throughput_samples_per_s"] = metrics["throughput_samples_per_s"]
        step = metrics.get("step_ms")
        if step is None:  # infer: one batch of the throughput loop, where it was timed per batch
            step = result.get("iteration_stats", {}).get("batch_ms", {}).get("median")
        if step is not None:
            fields["step_ms"] = step
    if "peak_device_allocated_bytes" in metrics:
        fields["peak_device_bytes"] = metrics["peak_device_allocated_bytes"]
    host = metrics.get("peak_host_rss_bytes", rss)
    if host:
        fields["peak_host_rss_bytes"] = host
    if status != "ok":
        fields["message"] = short(result.get("message", status))
    return Point(batch, status, fields, record, skeleton)


def wait(proc: subprocess.Popen) -> int | None:
    """Wait for `proc`; its peak resident memory in bytes (from wait4), or None where the OS does not say. The
    process is killed if the wait is interrupted (Ctrl-C), so that no point outlives the sweep."""
    try:
        if not hasattr(os, "wait4"):
            proc.wait()
            return None
        _, status, usage = os.wait4(proc.pid, 0)
        proc.returncode = os.waitstatus_to_exitcode(status)
        return int(usage.ru_maxrss * (1 if sys.platform == "darwin" else 1024))
    except BaseException:
        if proc.returncode is None:
            proc.kill()
            proc.wait()
        raise


def describe(point: Point) -> str:
    """One line of progress for a finished point."""
    f = point.fields
    words = [f"batch {point.batch_size}: {point.status}"]
    if "throughput_samples_per_s" in f:
        words.append(f"{f['throughput_samples_per_s']:,.1f} samples/s")
    if "step_ms" in f:
        words.append(f"{f['step_ms']:.1f} ms")
    if "peak_device_bytes" in f:
        words.append(f"peak device {format_bytes(f['peak_device_bytes'])}")
    if "peak_host_rss_bytes" in f:
        words.append(f"peak host RSS {format_bytes(f['peak_host_rss_bytes'])}")
    line = ", ".join(words)
    return line + (f" ({f['message']})" if "message" in f else "")
