"""Which batch sizes a sweep tries: doubling until out of memory, then bisection; and the memory line fitted.

The search (`search`) knows nothing of frameworks: it calls `run(batch)` for each batch and reads the point's
status. From `start` the batch doubles (start, 2 start, 4 start, ...; the last step is cut to `max_batch`)
until a batch runs out of memory or `max_batch` has fitted. Then, between the last batch that fitted and the
first that did not, it bisects (the midpoint, rounded down) until the two are at most the resolution apart.
A point that fails otherwise ("error") ends the search where it is. Nothing fitting at `start` ends it too.

The resolution (`--sweep-resolution`) is a number of samples, or a percentage of the last batch that fitted
when the doubling stopped (default 5 %: at most about five bisection points, as the doubling brackets the
largest batch within a factor of two), never below 1 (1: the exact largest batch).
"""

from __future__ import annotations

import math
import re
import statistics
from dataclasses import dataclass, field
from typing import Any, Callable

DEFAULT_RESOLUTION = "5%"
_PERCENT = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*%\s*$")


@dataclass(frozen=True)
class Resolution:
    """A resolution as given: `samples` (absolute) or `percent` (of the last batch that fitted)."""

    samples: int | None = None
    percent: float | None = None

    def resolve(self, fitted: int) -> int:
        """The resolution in samples, for `fitted` the last batch that fitted when the doubling stopped."""
        if self.samples is not None:
            return self.samples
        return max(1, math.floor(fitted * (self.percent or 0.0) / 100.0))

    def __str__(self) -> str:
        return str(self.samples) if self.samples is not None else f"{self.percent:g}%"


def parse_resolution(text: str) -> Resolution:
    """`R` (a whole number of samples, at least 1) or `P%` (0 < P < 100); ValueError saying so otherwise."""
    m = _PERCENT.match(text)
    if m:
        percent = float(m.group(1))
        if not 0 < percent < 100:
            raise ValueError(f"{text!r}: a percentage must be above 0 and below 100")
        return Resolution(percent=percent)
    try:
        samples = int(text.strip())
    except ValueError:
        raise ValueError(f"{text!r} is neither a whole number of samples (such as 1 or 16) nor a percentage "
                         "(such as 5%)") from None
    if samples < 1:
        raise ValueError(f"{text!r}: the resolution must be at least 1 sample")
    return Resolution(samples=samples)


@dataclass
class Point:
    """One batch tried: its status ("ok", "oom", "error") and what the sweep records of it (schema
    batch_sweep_point), plus the run record of its process when it wrote one."""

    batch_size: int
    status: str
    fields: dict[str, Any] = field(default_factory=dict)
    record: dict[str, Any] | None = None
    skeleton: dict[str, Any] | None = None


@dataclass
class Search:
    points: list[Point]
    resolution: int
    largest_fit: int | None = None
    smallest_oom: int | None = None
    error: Point | None = None


def doubling(start: int, max_batch: int | None) -> Callable[[int], int | None]:
    """The next batch of the doubling phase after `batch` (None: `max_batch` reached)."""
    def step(batch: int) -> int | None:
        if max_batch is not None and batch >= max_batch:
            return None
        return batch * 2 if max_batch is None else min(batch * 2, max_batch)
    return step


def search(start: int, max_batch: int | None, resolution: Resolution, run: Callable[[int], Point],
           limit: int = 200) -> Search:
    """Run the sweep: `run(batch)` measures one batch; at most `limit` points (the schema's bound)."""
    points: list[Point] = []
    fit: int | None = None
    oom: int | None = None

    def attempt(batch: int) -> Point:
        point = run(batch)
        points.append(point)
        return point

    batch: int | None = start
    next_batch = doubling(start, max_batch)
    while batch is not None and len(points) < limit:
        point = attempt(batch)
        if point.status == "error":
            return Search(points, resolution.resolve(fit or start), fit, oom, point)
        if point.status == "oom":
            oom = batch
            break
        fit = batch
        batch = next_batch(batch)
    res = resolution.resolve(fit or start)
    while fit is not None and oom is not None and oom - fit > res and len(points) < limit:
        mid = (fit + oom) // 2
        point = attempt(mid)
        if point.status == "error":
            return Search(points, res, fit, oom, point)
        if point.status == "ok":
            fit = mid
        else:
            oom = mid
    return Search(points, res, fit, oom)


def fit_memory(points: list[tuple[int, int]], memory: str) -> dict[str, Any] | None:
    """The least-squares line memory = fixed + per_sample x batch through (batch, peak bytes) points, with the
    root-mean-square residual (schema batch_sweep_fit); None with fewer than two distinct batches."""
    if len({b for b, _ in points}) < 2:
        return None
    xs = [float(b) for b, _ in points]
    ys = [float(y) for _, y in points]
    slope, intercept = statistics.linear_regression(xs, ys)
    residual = math.sqrt(sum((y - (intercept + slope * x)) ** 2 for x, y in zip(xs, ys)) / len(xs))
    return {"memory": memory, "per_sample_bytes": round(slope, 1), "fixed_bytes": float(round(intercept)),
            "residual_bytes": float(round(residual)), "points": len(points)}
