"""The run record a runner writes, and the summary it prints."""

from __future__ import annotations

import math
import statistics
from typing import Any

from .launcher import LAUNCHER, STRATEGY, Outcome
from .models import model_cost
from .scenario import SECONDS_DIGITS
from .workloads.base import Workload

# Metrics measured once per repeat: `metrics` holds their median, `stats` their spread (with 2+ repeats).
REPEATED = ("total_s", "load_s", "compute_s", "eval_s", "inference_load_s", "inference_predict_s",
            "throughput_samples_per_s", "accuracy", "loss")
# Memory high-water marks: the highest over the repeats.
PEAKS = ("peak_host_rss_bytes", "peak_device_allocated_bytes", "peak_device_reserved_bytes", "peak_device_used_bytes")
PER_EPOCH = ("epoch_s", "epoch_accuracy")


def _round(name: str, value: float) -> float:
    return round(value, 2 if name == "throughput_samples_per_s" else SECONDS_DIGITS)


def stat(name: str, samples: list[float]) -> dict[str, Any]:
    """Median, min, max, IQR (from 2 samples on; quartiles by linear interpolation) and the samples."""
    out: dict[str, Any] = {"median": _round(name, statistics.median(samples)), "min": min(samples),
                           "max": max(samples)}
    if len(samples) >= 2:
        q1, _, q3 = statistics.quantiles(samples, n=4, method="inclusive")
        out["iqr"] = _round(name, max(q3 - q1, 0.0))
    out["samples"] = list(samples)
    return out


def summarize(measured: list[dict[str, Any]]) -> tuple[dict[str, Any], dict[str, Any]]:
    """`metrics` (medians; peaks as maxima; per-epoch lists as element-wise medians) and `stats` of repeats."""
    metrics: dict[str, Any] = {}
    stats: dict[str, Any] = {}
    for name in REPEATED:
        samples = [m[name] for m in measured if _finite(m.get(name))]
        if len(samples) != len(measured) or not samples:
            continue
        s = stat(name, samples)
        metrics[name] = s["median"]
        if len(measured) > 1:
            stats[name] = s
    for name in PEAKS:
        values = [m[name] for m in measured if name in m]
        if values:
            metrics[name] = max(values)
    for name in PER_EPOCH:
        lists = [m[name] for m in measured if name in m]
        if len(lists) == len(measured) and lists:
            metrics[name] = [_round(name, statistics.median(column)) for column in zip(*lists)]
    return metrics, stats


def _finite(value: Any) -> bool:
    return isinstance(value, (int, float)) and math.isfinite(value)


def result_record(workload: Workload, backend: Any, device_name: str, epochs: int, batch_size: int, repeats: int,
                  outcome: Outcome) -> dict[str, Any]:
    """The result entry of the run record for `outcome`."""
    cost = model_cost(workload.model)
    done = outcome.measurements + ([outcome.failed] if outcome.failed else [])
    sha = next((m.dataset_sha256 for m in done if m.dataset_sha256), None)
    samples = next((m.train_samples for m in done if m.train_samples), None)
    result: dict[str, Any] = {
        "benchmark": workload.name,
        "benchmark_version": workload.version,
        "framework": backend.name,
        "framework_version": backend.version,
        "model": workload.model,
        "parameters": cost.parameters,
        "flops_per_sample": cost.flops,
        "dataset": workload.dataset,
    }
    if sha:
        result["dataset_sha256"] = sha
    result.update({
        "device_kind": backend.device.kind,
        "device_name": device_name,
        "device_count": backend.device.count,
        "strategy": STRATEGY,
        "launcher": LAUNCHER,
        "precision": backend.precision(),
        "compile": backend.compile,
        "batch_size": batch_size,
        "epochs": epochs,
    })
    if samples:
        result["steps"] = math.ceil(samples / batch_size) * epochs
    result.update({"warmup_steps": 0, "repeats": repeats, "status": outcome.status})
    if outcome.status == "ok":
        metrics, stats = summarize([m.metrics for m in outcome.measurements])
    else:
        result["message"] = outcome.message or outcome.status
        metrics = {k: v for k, v in outcome.failed.metrics.items()
                   if _finite(v) or (isinstance(v, list) and all(_finite(x) for x in v))}
        stats = {}
    result["metrics"] = metrics
    if stats:
        result["stats"] = stats
    return result


COLUMNS = (("Workload", None), ("Framework", None), ("Device", None), ("Epoch / Batch", None),
           ("Total s", "total_s"), ("Load s", "load_s"), ("Calc s", "compute_s"), ("Eval s", "eval_s"),
           ("Acc", "accuracy"), ("Samples/s", "throughput_samples_per_s"), ("Peak RSS", "peak_host_rss_bytes"),
           ("Peak device", "peak_device_allocated_bytes"), ("Status", None))


def _bytes(n: int) -> str:
    for unit in ("B", "KiB", "MiB", "GiB"):
        if n < 1024 or unit == "GiB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024
    return str(n)


def _cell(key: str, value: Any) -> str:
    if value is None:
        return "-"
    if key.endswith("_bytes"):
        return _bytes(value)
    if key == "accuracy":
        return f"{value:.4f}"
    if key == "throughput_samples_per_s":
        return f"{value:,.0f}"
    return f"{value:.2f}"


def summary_table(result: dict[str, Any]) -> str:
    """The result as a Markdown table with the seeds' columns (total, load, compute, accuracy) and more."""
    m = result["metrics"]
    fixed = {"Workload": result["benchmark"], "Framework": f"{result['framework']} {result['framework_version']}",
             "Device": f"{result['device_name']} ({result['device_kind']})",
             "Epoch / Batch": f"{result['epochs']} / {result['batch_size']}", "Status": result["status"]}
    cells = [fixed[title] if key is None else _cell(key, m.get(key)) for title, key in COLUMNS]
    titles = [title for title, _ in COLUMNS]
    widths = [max(len(t), len(c)) for t, c in zip(titles, cells)]
    row = lambda values: "| " + " | ".join(v.ljust(w) for v, w in zip(values, widths)) + " |"  # noqa: E731
    lines = [row(titles), "|" + "|".join("-" * (w + 2) for w in widths) + "|", row(cells)]
    if result.get("repeats", 1) > 1 and result["status"] == "ok":
        lines.append(f"(medians of {result['repeats']} repeats; spread in the fragment's stats)")
    if result["status"] != "ok":
        lines.append(f"{result['status']}: {result.get('message', '')}")
    return "\n".join(lines)
