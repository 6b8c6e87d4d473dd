"""Order statistics shared by the runner, which computes a result's figures with them, and the checks, which
rely on their properties: one quantile definition for the whole project.

`percentile` interpolates linearly between order statistics (numpy's default, `statistics.quantiles(...,
method="inclusive")`); the median is its 50th percentile. `spread` is a result's `iteration_stats` entry: the
summary of one per-iteration timing, without the samples themselves (a fragment stays small whatever the
iteration count).
"""

from __future__ import annotations

import math
from typing import Any, Sequence

# The fields of an `iteration_stats` entry (schema: $defs/iteration_stat), in the order they are written.
SPREAD_FIELDS = ("median", "min", "max", "iqr", "p95", "count")


def percentile(samples: Sequence[float], q: float) -> float:
    """The q-th percentile (0..100) by linear interpolation between order statistics (numpy's default);
    NaN for no samples."""
    ordered = sorted(samples)
    if not ordered:
        return math.nan
    pos = (len(ordered) - 1) * q / 100.0
    low = math.floor(pos)
    high = min(low + 1, len(ordered) - 1)
    value = ordered[low] + (ordered[high] - ordered[low]) * (pos - low)
    return min(max(value, ordered[low]), ordered[high])  # no rounding step past the neighbours: monotone in q


def median(samples: Sequence[float]) -> float:
    """The median: the 50th percentile (the mean of the two middle samples for an even count)."""
    return percentile(samples, 50)


def iqr(samples: Sequence[float]) -> float:
    """The interquartile range Q3 - Q1 (0 for a single sample)."""
    return max(percentile(samples, 75) - percentile(samples, 25), 0.0)


def spread(samples: Sequence[float], digits: int) -> dict[str, Any]:
    """Median, min, max, IQR, 95th percentile (each rounded to `digits` decimals) and count of `samples`.

    Rounding is monotone, so min <= median <= p95 <= max still holds once rounded; a figure that `metrics`
    records from the same samples with `median` (rounded the same way) equals the entry's median.
    """
    if not samples:
        raise ValueError("spread of no samples")
    return {"median": round(median(samples), digits), "min": round(min(samples), digits),
            "max": round(max(samples), digits), "iqr": round(iqr(samples), digits),
            "p95": round(percentile(samples, 95), digits), "count": len(samples)}
