"""Metrics derived from the recorded ones, and the headline metric a workload is read on by default.

Shared by the comparison (`tools/compare.py` compares on the default metric unless told otherwise) and by
the outliers and corroboration of every result (`corroboration.py`), so that both read a workload on the
same figure.

- `forward_backward_ms` = `forward_ms` + `backward_ms`, when a result states both: the figure the
  convnet-benchmarks tables rank by. It is not `step_ms`, which also times the optimizer update.
- The default (headline) metric of a selection of results: the first of DEFAULT_METRICS that every `ok`
  result has, else the first that any result has (`default_metric`). So a selection of measured step
  results (throughput, step_ms, forward_ms, backward_ms) and imported ones (forward_ms and backward_ms
  only) is read on forward_backward_ms, which all of them have.
"""

from __future__ import annotations

from typing import Any, Callable, Iterable

DEFAULT_METRICS = ("throughput_samples_per_s", "throughput_tokens_per_s", "throughput_queries_per_s", "compute_s",
                   "total_s", "forward_backward_ms", "forward_ms", "latency_ms")
DERIVED_METRICS = ("forward_backward_ms",)
EPOCH_METRICS = frozenset({"total_s", "compute_s", "eval_s"})   # whole-run durations: they grow with epochs
_DERIVED_DEFAULTS = frozenset(DEFAULT_METRICS).intersection(DERIVED_METRICS)
_RECORDED_DEFAULTS = frozenset(DEFAULT_METRICS) - _DERIVED_DEFAULTS


def derived(metrics: dict[str, Any]) -> dict[str, float]:
    """The DERIVED_METRICS a result's `metrics` table gives (absent when a part is missing)."""
    forward, backward = metrics.get("forward_ms"), metrics.get("backward_ms")
    if forward is None or backward is None:
        return {}
    return {"forward_backward_ms": forward + backward}


def value(metrics: dict[str, Any], name: str) -> float | None:
    """A recorded or derived metric of a result's `metrics` table, or None when it has none."""
    if name in DERIVED_METRICS:
        return derived(metrics).get(name)
    found = metrics.get(name)
    return found if isinstance(found, (int, float)) and not isinstance(found, bool) else None


def defaults_present(metrics: dict[str, Any]) -> frozenset[str]:
    """The DEFAULT_METRICS a result's `metrics` table has, recorded or derived (a fast test)."""
    found = _RECORDED_DEFAULTS.intersection(metrics)
    if "forward_ms" in metrics and "backward_ms" in metrics:
        found = found | _DERIVED_DEFAULTS
    return found


def default_metric(every_ok_has: Callable[[str], bool], any_has: Callable[[str], bool]) -> str | None:
    """The first of DEFAULT_METRICS that every ok result of a selection has, else the first any has, else None.

    The two predicates say, for a metric name, whether the selection's ok results all have it (False when
    there is no ok result) and whether any of its results has it: a DataFrame answers them in one column
    operation, a list of results by counting.
    """
    for metric in DEFAULT_METRICS:
        if every_ok_has(metric):
            return metric
    for metric in DEFAULT_METRICS:
        if any_has(metric):
            return metric
    return None


# How a metric is read: its unit and its direction (shared by compare, the results frame and the API index).
#
# Capacity, several devices and energy (schema CHANGELOG, 2026-12):
# - `largest_fitting_batch` (samples, higher is better: more fits) and `memory_per_sample_bytes` (lower is better)
#   are what a batch-size sweep measures about the device; the result's batch size is their outcome, not a setting
#   (CAPACITY_METRICS: compared across batch sizes).
# - `scaling_efficiency` is a plain fraction (1.0 = linear scaling from 1 to N devices), higher is better.
# - `energy_j` (J) and `average_power_w` (W) are lower-is-better figures of what the result's `energy.covers`
#   names (a GPU board, CPU packages, ...), not necessarily one device nor the whole machine, so they are never
#   divided by the device count; `energy_j` grows with the work timed (AMOUNT_METRICS: compared only at equal
#   epochs and steps). A lower power is better only at equal work: read it beside the throughput, or compare on
#   `samples_per_joule`, the efficiency.
# - `samples_per_joule` (samples/J, higher is better) is the system's samples over the energy of what the sensor
#   covers: a ratio of two totals, the same per device as for the system, so it is not one of RATES either.
HIGHER_IS_BETTER = frozenset({"throughput_samples_per_s", "throughput_tokens_per_s", "throughput_queries_per_s",
                              "accuracy", "achieved_flops_per_s", "bandwidth_bytes_per_s", "samples_per_joule",
                              "scaling_efficiency", "largest_fitting_batch"})
_RATE_UNITS = {"throughput_samples_per_s": "samples/s", "throughput_tokens_per_s": "tokens/s",
               "throughput_queries_per_s": "queries/s", "achieved_flops_per_s": "FLOP/s", "bandwidth_bytes_per_s": "B/s"}
_UNITS = {"energy_j": "J", "average_power_w": "W", "samples_per_joule": "samples/J", "scaling_efficiency": "",
          "largest_fitting_batch": "samples", "memory_per_sample_bytes": "bytes"}
# Rates of the whole system: a result of N devices states their total, and only these divide by N (per device).
RATES = frozenset(_RATE_UNITS)
# Amounts that grow with the work timed: compared only between results of the same epochs and steps.
AMOUNT_METRICS = frozenset({"energy_j"})
# What a batch-size sweep measures: the batch size is their outcome, so they are compared across batch sizes.
CAPACITY_METRICS = frozenset({"largest_fitting_batch", "memory_per_sample_bytes"})


def unit_of(metric: str) -> str:
    """The unit of a metric by its name (a source may state a more specific one: `results[].units`)."""
    if metric in _RATE_UNITS:
        return _RATE_UNITS[metric]
    if metric in _UNITS:
        return _UNITS[metric]
    for suffix, unit in (("_ms", "ms"), ("_s", "s"), ("_bytes", "bytes")):
        if metric.endswith(suffix):
            return unit
    return ""


def reading(names: Iterable[str]) -> dict[str, dict[str, Any]]:
    """{metric: {"unit", "higher_is_better"}} for these metric names (the API index's `metrics`)."""
    return {m: {"unit": unit_of(m), "higher_is_better": m in HIGHER_IS_BETTER} for m in names}
