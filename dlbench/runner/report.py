"""The run record a runner writes, and the summary it prints."""

from __future__ import annotations

import math
from typing import Any

from ..contract import stats as order_stats
from .energy import notes as energy_notes
from .energy import summary as energy_summary
from .launcher import LAUNCHER, STRATEGY, Outcome
from .scenarios.base import MS_DIGITS, SECONDS_DIGITS, Measurement
from .workloads.base import Workload

# Metrics measured once per repeat: `metrics` holds their median, `stats` their spread (with 2+ repeats).
REPEATED = ("total_s", "load_s", "compute_s", "eval_s", "inference_load_s", "inference_predict_s",
            "throughput_samples_per_s", "throughput_tokens_per_s", "accuracy", "loss",
            "forward_ms", "backward_ms", "optimizer_ms", "step_ms", "achieved_flops_per_s", "bandwidth_bytes_per_s",
            "latency_p50_ms", "latency_p95_ms", "latency_p99_ms",
            "energy_j", "average_power_w", "samples_per_joule")
# Memory high-water marks: the highest over the repeats.
PEAKS = ("peak_host_rss_bytes", "peak_device_allocated_bytes", "peak_device_reserved_bytes", "peak_device_used_bytes")
PER_EPOCH = ("epoch_s", "epoch_accuracy")
# Scenarios whose results have no batch (a peak result times one matrix product or copy per iteration).
NO_BATCH = ("peak",)


def _round(name: str, value: float) -> float:
    if name.startswith("throughput_"):
        return round(value, 2)
    if name.endswith("_ms"):
        return round(value, MS_DIGITS)
    if name in ("achieved_flops_per_s", "bandwidth_bytes_per_s"):
        return float(round(value))
    return round(value, SECONDS_DIGITS)


def stat(name: str, samples: list[float]) -> dict[str, Any]:
    """Median, min, max, IQR (from 2 samples on; quartiles by linear interpolation) and the samples."""
    out: dict[str, Any] = {"median": _round(name, order_stats.median(samples)), "min": min(samples),
                           "max": max(samples)}
    if len(samples) >= 2:
        out["iqr"] = _round(name, order_stats.iqr(samples))
    out["samples"] = list(samples)
    return out


def iteration_stats(repeats: list[dict[str, list[float]]]) -> dict[str, Any]:
    """`iteration_stats`: per timing, the summary of the per-iteration milliseconds of every repeat pooled
    (count = iterations x repeats), rounded as `metrics` rounds milliseconds. A timing that some repeat lacks
    is left out (its count would not be iterations x repeats)."""
    names = list(dict.fromkeys(k for r in repeats for k in r))
    return {name: order_stats.spread([x for r in repeats for x in r[name]], MS_DIGITS)
            for name in names if repeats and all(r.get(name) for r in repeats)}


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
            metrics[name] = [_round(name, order_stats.median(column)) for column in zip(*lists)]
    return metrics, stats


def _finite(value: Any) -> bool:
    return isinstance(value, (int, float)) and math.isfinite(value)


def _kept(metrics: dict[str, Any]) -> dict[str, Any]:
    """The metrics of a failed repeat that are worth keeping: finite numbers and lists of them."""
    return {k: v for k, v in metrics.items() if _finite(v) or (isinstance(v, list) and all(_finite(x) for x in v))}


def _cost(model: str | None) -> Any:
    if not model:
        return None
    try:
        from .models import model_cost

        return model_cost(model)
    except Exception:  # a model the catalogue does not (yet) describe: no parameters or FLOPs recorded
        return None


def _base(workload: Workload, backend: Any, device_name: str, batch_size: int, repeats: int,
          counts: dict[str, int], done: list[Measurement], scenario: str | None) -> dict[str, Any]:
    cost = _cost(workload.model)
    result: dict[str, Any] = {"benchmark": workload.name, "benchmark_version": workload.version}
    if scenario:
        result["scenario"] = scenario
    result.update({"framework": backend.name, "framework_version": backend.version, "model": workload.model or "-"})
    if cost is not None:
        result.update({"parameters": cost.parameters, "flops_per_sample": cost.flops})
    result["dataset"] = workload.dataset
    sha = next((m.dataset_sha256 for m in done if m.dataset_sha256), None)
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
    })
    if getattr(backend, "channels_last", False) is True:
        result["channels_last"] = True
    if scenario not in NO_BATCH:
        result["batch_size"] = batch_size
    for key in ("epochs", "steps", "train_samples", "test_samples", "warmup_steps"):
        if key in counts:
            result[key] = counts[key]
    result.update({"repeats": repeats})
    return result


def _finish(result: dict[str, Any], status: str, message: str | None, metrics: dict[str, Any],
            stats: dict[str, Any], iterations: dict[str, Any] | None = None,
            energies: list[dict[str, Any] | None] | None = None) -> dict[str, Any]:
    result["status"] = status
    if status != "ok":
        result["message"] = message or status
    energy = energy_summary(energies or [], metrics, stats)  # drops energy figures no reading explains
    result["metrics"] = metrics
    if energy:
        result["energy"] = energy
    if stats:
        result["stats"] = stats
    if iterations:
        result["iteration_stats"] = iterations
    return result


def result_records(workload: Workload, backend: Any, device_name: str, batch_size: int, repeats: int,
                   outcome: Outcome, counts: dict[str, int], scenario: str | None = None) -> list[dict[str, Any]]:
    """The result entries of the run record for `outcome`: one, or one per part (the peak scenario's)."""
    done = outcome.measurements + ([outcome.failed] if outcome.failed else [])
    base = _base(workload, backend, device_name, batch_size, repeats, counts, done, scenario)
    keys = list(dict.fromkeys(k for m in done for k in m.parts))
    if not keys:
        if outcome.status == "ok":
            metrics, stats = summarize([m.metrics for m in outcome.measurements])
            return [_finish(base, "ok", None, metrics, stats,
                            iteration_stats([m.iterations for m in outcome.measurements]),
                            [m.energy for m in outcome.measurements])]
        return [_finish(base, outcome.status, outcome.message, _kept(outcome.failed.metrics), {},
                        energies=[outcome.failed.energy])]
    results = []
    for key in keys:
        parts = [m.parts[key] for m in done if key in m.parts]
        result = {k: v for k, v in base.items() if k not in ("parameters", "flops_per_sample")}
        result.update({k: v for k, v in parts[0].fields.items() if k in ("benchmark", "model", "precision")})
        result = {k: result[k] for k in base if k in result}  # keep the usual field order
        failed = next((p for p in parts if p.status != "ok"), None)
        if failed is not None:
            results.append(_finish(result, failed.status, failed.message, {}, {}, energies=[failed.energy]))
        elif outcome.status != "ok" or len(parts) != len(outcome.measurements):
            results.append(_finish(result, outcome.status if outcome.status != "ok" else "error",
                                   outcome.message, _kept(parts[-1].metrics), {}, energies=[parts[-1].energy]))
        else:
            metrics, stats = summarize([p.metrics for p in parts])
            results.append(_finish(result, "ok", None, metrics, stats, iteration_stats([p.iterations for p in parts]),
                                   [p.energy for p in parts]))
    return results


def result_record(workload: Workload, backend: Any, device_name: str, epochs: int, batch_size: int, repeats: int,
                  outcome: Outcome) -> dict[str, Any]:
    """The result entry of a `train` run (epochs of `batch_size`) for `outcome`."""
    done = outcome.measurements + ([outcome.failed] if outcome.failed else [])
    samples = next((m.train_samples for m in done if m.train_samples), None)
    counts = {"epochs": epochs, "warmup_steps": 0}
    if samples:
        counts["steps"] = math.ceil(samples / batch_size) * epochs
    return result_records(workload, backend, device_name, batch_size, repeats, outcome, counts,
                          scenario=workload.scenario)[0]


COLUMNS = (("Workload", None), ("Framework", None), ("Device", None), ("Epoch / Batch", None),
           ("Total s", "total_s"), ("Load s", "load_s"), ("Calc s", "compute_s"), ("Eval s", "eval_s"),
           ("Acc", "accuracy"), ("Samples/s", "throughput_samples_per_s"), ("Peak RSS", "peak_host_rss_bytes"),
           ("Peak device", "peak_device_allocated_bytes"), ("Status", None))
# The columns of the other scenarios (the train scenario's are COLUMNS). A column titled "(IQR)" shows the
# median and, in brackets, the interquartile range over the timed iterations (iteration_stats) where recorded.
SCENARIO_COLUMNS = {
    "step": (("Workload", None), ("Framework", None), ("Device", None), ("Precision", None), ("Batch", None),
             ("Forward ms", "forward_ms"), ("Backward ms", "backward_ms"), ("Optimizer ms", "optimizer_ms"),
             ("Step ms (IQR)", "step_ms"), ("Samples/s", "throughput_samples_per_s"),
             ("TFLOP/s", "achieved_flops_per_s"), ("Peak device", "peak_device_allocated_bytes"),
             ("Status", None)),
    "infer": (("Workload", None), ("Framework", None), ("Device", None), ("Precision", None), ("Batch", None),
              ("Load s", "inference_load_s"), ("p50 ms", "latency_p50_ms"), ("p95 ms", "latency_p95_ms"),
              ("p99 ms", "latency_p99_ms"), ("Samples/s", "throughput_samples_per_s"),
              ("TFLOP/s", "achieved_flops_per_s"), ("Status", None)),
    "peak": (("Benchmark", None), ("Framework", None), ("Device", None), ("Precision", None), ("Size", None),
             ("TFLOP/s", "achieved_flops_per_s"), ("GB/s", "bandwidth_bytes_per_s"), ("Status", None)),
}


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
    if key == "achieved_flops_per_s":
        return f"{value / 1e12:.4g}"
    if key == "bandwidth_bytes_per_s":
        return f"{value / 1e9:.4g}"
    if key.endswith("_ms"):
        return f"{value:.3f}"
    return f"{value:.2f}"


def _fixed(result: dict[str, Any]) -> dict[str, str]:
    return {"Workload": result["benchmark"], "Benchmark": result["benchmark"],
            "Framework": f"{result['framework']} {result['framework_version']}",
            "Device": (f"{result['device_count']} x " if (result.get("device_count") or 1) > 1 else "")
            + f"{result['device_name']} ({result['device_kind']})",
            "Epoch / Batch": f"{result.get('epochs', '-')} / {result.get('batch_size', '-')}",
            "Precision": result["precision"] + (" channels-last" if result.get("channels_last") else "")
            + ("" if result.get("compile") in ("eager", "tf.function", None) else f" {result['compile']}"),
            "Batch": str(result.get("batch_size", "-")), "Size": result["model"], "Status": result["status"]}


def _metric_cell(title: str, key: str, result: dict[str, Any]) -> str:
    """A metric's cell; in an "(IQR)" column followed by the IQR over the timed iterations, when recorded."""
    value, spread = result["metrics"].get(key), result.get("iteration_stats", {}).get(key)
    if title.endswith("(IQR)") and value is not None and spread is not None:
        return f"{_cell(key, value)} ({_cell(key, spread['iqr'])})"
    return _cell(key, value)


def summary(results: list[dict[str, Any]]) -> str:
    """The results of one run as one Markdown table (the columns of their scenario), notes below it."""
    columns = SCENARIO_COLUMNS.get(results[0].get("scenario", "train"), COLUMNS)
    titles = [title for title, _ in columns]
    rows = []
    for result in results:
        fixed = _fixed(result)
        rows.append([fixed[title] if key is None else _metric_cell(title, key, result) for title, key in columns])
    widths = [max(len(t), *(len(r[i]) for r in rows)) for i, t in enumerate(titles)]
    row = lambda values: "| " + " | ".join(v.ljust(w) for v, w in zip(values, widths)) + " |"  # noqa: E731
    lines = [row(titles), "|" + "|".join("-" * (w + 2) for w in widths) + "|", *(row(r) for r in rows)]
    first = results[0]
    if first.get("repeats", 1) > 1 and any(r["status"] == "ok" for r in results):
        lines.append(f"(medians of {first['repeats']} repeats; spread in the fragment's stats and iteration_stats)")
    if "train_samples" in first or "test_samples" in first:
        part = lambda key, split: (f"the first {first[key]:,} {split} samples" if key in first  # noqa: E731
                                   else f"all {split} samples")
        lines.append(f"(on part of the dataset: {part('train_samples', 'training')} and "
                     f"{part('test_samples', 'test')}; compared only with results on the same part)")
    lines.extend(energy_notes(results))
    for result in results:  # runs of --devices
        if "global_batch_size" in result or "scaling_efficiency" in result.get("metrics", {}):
            lines.append(f"({result.get('device_count', 1)} device(s), {result['strategy']}, global batch "
                         f"{result.get('global_batch_size', result.get('batch_size', '-'))}: scaling efficiency "
                         f"{result['metrics'].get('scaling_efficiency', '-')})")
    for result in results:
        if result["status"] != "ok":
            lines.append(f"{result['status']}: {result.get('message', '')}")
    return "\n".join(lines)


def summary_table(result: dict[str, Any]) -> str:
    """One result as a Markdown table (the train scenario: the seeds' columns, total, load, compute, accuracy,
    and more)."""
    return summary([result])
