"""Checks on a run that a JSON Schema cannot express.

Check codes (stable): `id-mismatch`, `future-time`, `time-order`, `phases-exceed-total`, `epoch-count`; of
`stats` (spread over repeats) `repeat-count`, `stat-order`, `stat-median`, `stat-orphan`; of `iteration_stats`
(spread over timed iterations):

- `iteration-order`: min <= median <= max, and median <= p95 <= max where p95 is given;
- `iteration-count`: count = steps x repeats, where the result records both;
- `iteration-median`: with one repeat, the median equals the figure `metrics` records from the same iterations
  (`latency_ms`: median = latency_p50_ms, p95 = latency_p95_ms); with several, it lies between the repeats'
  smallest and largest figure (`stats.<metric>.min` and `.max`).
"""

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
    _check_iterations(result, path, add)


# The figures of `metrics` that summarize a per-iteration timing, by the timing and the summary field.
ITERATION_METRICS = {"forward_ms": {"median": "forward_ms"}, "backward_ms": {"median": "backward_ms"},
                     "optimizer_ms": {"median": "optimizer_ms"}, "step_ms": {"median": "step_ms"},
                     "latency_ms": {"median": "latency_p50_ms", "p95": "latency_p95_ms"}}


def _check_iterations(result: dict[str, Any], path: tuple, add) -> None:
    """`iteration_stats`: each summary ordered, counting steps x repeats, and agreeing with `metrics`."""
    m, stats = result.get("metrics", {}), result.get("stats", {})
    repeats, steps = result.get("repeats"), result.get("steps")
    for name, it in result.get("iteration_stats", {}).items():
        ipath = path + ("iteration_stats", name)
        p95 = it.get("p95")
        if not it["min"] <= it["median"] <= it["max"] or (p95 is not None and not it["median"] <= p95 <= it["max"]):
            shown = ", ".join(f"{k} = {it[k]}" for k in ("min", "median", "p95", "max") if k in it)
            add(ipath, f"{shown}: min <= median <= p95 <= max must hold; the summary was edited by hand or computed "
                "wrongly — regenerate the fragment with runners/run.py", "iteration-order")
        if repeats is not None and steps is not None and it["count"] != steps * repeats:
            add(ipath + ("count",), f"{it['count']} iterations, but steps = {steps} x repeats = {repeats} makes "
                f"{steps * repeats}: iteration_stats pools every timed iteration of every repeat; regenerate the "
                "fragment", "iteration-count")
        for key, metric in ITERATION_METRICS.get(name, {}).items():
            if key not in it or metric not in m:
                continue
            if (repeats or 1) == 1 and it[key] != m[metric]:
                add(ipath + (key,), f"{it[key]} differs from metrics.{metric} = {m[metric]}: with one repeat both "
                    "are computed from the same iterations and rounded alike; regenerate the fragment",
                    "iteration-median")
            elif key == "median" and (repeats or 1) > 1 and metric in stats and \
                    not stats[metric]["min"] <= it[key] <= stats[metric]["max"]:
                add(ipath + (key,), f"{it[key]} lies outside the repeats' figures of metrics.{metric} "
                    f"({stats[metric]['min']} to {stats[metric]['max']}, stats.{metric}): the median of the pooled "
                    "iterations lies between the smallest and largest repeat's median; regenerate the fragment",
                    "iteration-median")
