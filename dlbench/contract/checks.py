"""Checks on a run that a JSON Schema cannot express."""

from __future__ import annotations

import datetime as _dt
from typing import Any, Callable

from .fragment import compute_run_id
from .problems import Problem
from .tomlio import parse_datetime

# Phases may exceed the total by this much (clock reads are not simultaneous).
PHASE_TOLERANCE_REL = 0.01
PHASE_TOLERANCE_ABS_S = 0.05
# Clocks of contributors' machines may run ahead by this much.
FUTURE_SKEW = _dt.timedelta(minutes=10)

Locate = Callable[[tuple], "int | None"]


def check_run(run: dict[str, Any], file: str, locate: Locate, prefix: tuple = (),
              now: _dt.datetime | None = None) -> list[Problem]:
    """Problems of a schema-valid run beyond what its schema says."""
    out: list[Problem] = []

    def add(path: tuple, msg: str, code: str) -> None:
        full = prefix + path
        from .tomlio import dotted
        out.append(Problem(file, locate(path), dotted(full), msg, code))

    expected = compute_run_id(run)
    if run.get("run_id") != expected:
        add(("run_id",), f"{run.get('run_id')!r} does not match the content (its hash is {expected!r}): "
            "the record was changed after it was written. Regenerate it with runners/run.py; for a deliberate "
            f"edit (such as adding `contributor`), set run_id = \"{expected}\" and name the file {expected}.toml",
            "id-mismatch")

    now = now or _dt.datetime.now(_dt.timezone.utc)
    times = {k: parse_datetime(run[k]) for k in ("started_at", "finished_at") if k in run}
    for key, when in times.items():
        if when > now + FUTURE_SKEW:
            add((key,), f"{run[key]} is in the future: check the machine's clock and regenerate the fragment",
                "future-time")
    if len(times) == 2 and times["finished_at"] < times["started_at"]:
        add(("finished_at",), f"{run['finished_at']} is before started_at {run['started_at']}: "
            "timestamps must come from the run itself", "time-order")

    for i, result in enumerate(run["results"]):
        _check_result(result, ("results", i), add)
    return out


def _check_result(result: dict[str, Any], path: tuple, add) -> None:
    m = result.get("metrics", {})
    total = m.get("total_s")
    phases = [k for k in ("load_s", "compute_s", "eval_s") if k in m]
    if total is not None and phases:
        parts = sum(m[k] for k in phases)
        if parts > total * (1 + PHASE_TOLERANCE_REL) + PHASE_TOLERANCE_ABS_S:
            add(path + ("metrics", "total_s"),
                f"{' + '.join(phases)} = {parts:.6g} s exceeds total_s = {total:.6g} s: "
                "the phases are parts of the total; check how they were timed", "phases-exceed-total")
    epochs = result.get("epochs")
    for key in ("epoch_s", "epoch_accuracy"):
        if key in m and epochs is not None and result.get("status") == "ok" and len(m[key]) != epochs:
            add(path + ("metrics", key), f"has {len(m[key])} values but epochs = {epochs}: give one value per epoch",
                "epoch-count")
    repeats = result.get("repeats")
    for name, stat in result.get("stats", {}).items():
        spath = path + ("stats", name)
        if repeats is not None and len(stat["samples"]) != repeats:
            add(spath + ("samples",), f"has {len(stat['samples'])} samples but repeats = {repeats}", "repeat-count")
        if not stat["min"] <= stat["median"] <= stat["max"]:
            add(spath, "min <= median <= max does not hold", "stat-order")
        if name in m and m[name] != stat["median"]:
            add(spath + ("median",), f"{stat['median']} differs from metrics.{name} = {m[name]}: "
                "metrics holds the median over repeats", "stat-median")
        elif name not in m:
            add(spath, f"has no matching metrics.{name}: add the median there", "stat-orphan")
