"""The data that predictions are made from: usable results, tasks, cells, and each device's catalogue features.

A *task* is a workload in one setting: precision, framework and its major.minor version, scenario, compile
mode, channels-last, device count and partial-dataset size. A *cell* is one device's median over its results
of a task (repeats, hosts, names of one device model). The quantity is the workload's rate metric of `ok`
results (`throughput_samples_per_s`, `_tokens_per_s` or `_queries_per_s`: the one its ok results carry), as
the result states it (for `device_count` N > 1 the system's total). A device's features come from its catalogue
entry (`devices.json`): log peak TFLOP/s at the task's precision, log FP32 peak, log memory bandwidth and log
TDP. `predict.py` fits the methods on these cells, `predict_eval.py` scores them (docs/predict.md).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Iterable

from ..contract.device_catalogue import PRECISION_KEYS
from ..contract.families import family_of
from ..store.labels import device_label

RATE_METRICS = ("throughput_samples_per_s", "throughput_tokens_per_s", "throughput_queries_per_s")
RATE_UNITS = {"throughput_samples_per_s": "samples/s", "throughput_tokens_per_s": "tokens/s",
              "throughput_queries_per_s": "queries/s"}
PEAK_KEYS = {**PRECISION_KEYS, "fp8": "fp8", "int8": "int8", "int4": "int4"}
GPU_KINDS = ("cuda", "rocm", "mps", "xpu")
COMPUTE_BOUND = 0.05          # a task whose median fraction of peak (other devices) is at least this
SETTING = ("precision", "framework", "framework_version", "scenario", "compile", "channels_last",
           "device_count", "train_samples")
BOARDS = ("gpu-compute", "gpu-overhead", "gpu-no-flops", "cpu", "other")
# A cell's device features: log peak TFLOP/s at the task's precision, log FP32 peak, log bandwidth GB/s, log TDP W
FEATURE_COLUMNS = ("lp", "lf", "lb", "lt")


def _version(value: Any) -> str:
    return ".".join(str(value).split(".")[:2]) if value not in (None, "") else ""


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def workload_metrics(rows: Iterable[dict[str, Any]]) -> dict[str, str]:
    """Each workload's rate metric: of RATE_METRICS, the one most of its ok results carry (ties: that order)."""
    counts: dict[str, dict[str, int]] = {}
    for row in rows:
        if row.get("status") == "ok":
            seen = counts.setdefault(row["benchmark"], {})
            for m in RATE_METRICS:
                if m in (row.get("metrics") or {}):
                    seen[m] = seen.get(m, 0) + 1
    return {w: max(RATE_METRICS, key=lambda m: (c.get(m, 0), -RATE_METRICS.index(m)))
            for w, c in counts.items() if c}


def observations(rows: list[dict[str, Any]]):
    """One line per usable result: ok, not flagged an outlier, with its workload's rate metric above 0."""
    import pandas as pd

    metrics = workload_metrics(rows)
    cols = ("workload", "device", "kind", *SETTING, "metric", "unit", "value", "pfc", "run_id", "result_index")
    out: dict[str, list] = {k: [] for k in cols}
    text_keys = ("precision", "framework", "scenario", "compile", "channels_last", "train_samples")
    for row in rows:
        metric = metrics.get(row.get("benchmark"))
        value = (row.get("metrics") or {}).get(metric) if metric else None
        if row.get("status") != "ok" or row.get("outlier") is True or type(value) not in (int, float) \
                or not 0 < value < math.inf:
            continue
        out["workload"].append(row["benchmark"])
        out["device"].append(row["device"])
        out["kind"].append(row.get("device_kind") or "other")
        for key in text_keys:
            out[key].append(_text(row.get(key)))
        out["framework_version"].append(_version(row.get("framework_version")))
        out["device_count"].append(int(row.get("device_count") or 1))
        out["metric"].append(metric)
        out["unit"].append((row.get("units") or {}).get(metric) or RATE_UNITS[metric])
        out["value"].append(float(value))
        pfc = row.get("peak_fraction_catalogue")
        out["pfc"].append(float(pfc) if type(pfc) in (int, float) else math.nan)
        out["run_id"].append(row.get("run_id", ""))
        out["result_index"].append(row.get("result_index", 0))
    obs = pd.DataFrame(out)
    families = {w: family_of(w).id for w in set(out["workload"])}
    obs["family"] = obs["workload"].map(families)
    labels = {(d, k): device_label(d, k) for d, k in set(zip(out["device"], out["kind"]))}
    obs["label"] = [labels[p] for p in zip(out["device"], out["kind"])]
    return obs


def _log(v: Any) -> float:
    return math.log(v) if isinstance(v, (int, float)) and not isinstance(v, bool) and v > 0 else math.nan


@dataclass
class Devices:
    """The catalogue read for prediction: a device (name, kind) -> its entry, and an entry's features."""

    entries: list[dict[str, Any]]
    by_match: dict[tuple[str, str], dict[str, Any]] = field(default_factory=dict)

    @classmethod
    def of(cls, catalogue: dict[str, Any] | None) -> "Devices":
        entries = list((catalogue or {}).get("devices") or [])
        by_match: dict[tuple[str, str], dict[str, Any]] = {}
        for e in entries:      # the names results carry (as the API joins them), then the entries' own names
            for name in e.get("matches") or []:
                by_match.setdefault((name, e.get("kind")), e)
        for e in entries:
            by_match.setdefault((e["name"], e.get("kind")), e)
        return cls(entries, by_match)

    def entry(self, device: str, kind: str) -> dict[str, Any] | None:
        return self.by_match.get((device, kind))

    def group(self, device: str, kind: str) -> str:
        """What is held out together: the catalogue entry (all its names), else the device label itself."""
        e = self.entry(device, kind)
        return f"{e['name']} ({e.get('kind')})" if e else device_label(device, kind)

    @staticmethod
    def features(entry: dict[str, Any] | None, precision: str) -> tuple[float, float, float, float]:
        """(log peak TFLOP/s at the precision, log FP32 peak, log bandwidth GB/s, log TDP W); NaN where the entry
        lacks one."""
        if entry is None:
            return (math.nan,) * 4
        key = PEAK_KEYS.get(precision)
        peaks = entry.get("peak_tflops") or {}
        return (_log(peaks.get(key) if key else None), _log(peaks.get("fp32")), _log(entry.get("bandwidth_gb_s")),
                _log(entry.get("tdp_w")))


def cells_of(obs, devices: Devices):
    """The median result per task and device label, with the device's features at the task's precision."""
    import numpy as np

    keys = ["workload", *SETTING]
    obs = obs.copy()
    obs["task"] = obs.groupby(keys, sort=True, observed=True).ngroup()
    cells = (obs.groupby(["task", "label"], sort=True, observed=True)
             .agg(value=("value", "median"), n=("value", "size"), pfc=("pfc", "median"), device=("device", "first"),
                  kind=("kind", "first"), family=("family", "first"), workload=("workload", "first"),
                  precision=("precision", "first"))
             .reset_index())
    cells["ly"] = np.log(cells["value"])
    add_features(cells, devices)
    tasks = obs.drop_duplicates("task").set_index("task")[[*keys, "family", "metric", "unit"]].sort_index()
    return obs, cells, tasks


def add_features(frame, devices: Devices) -> None:
    """Add group and the FEATURE_COLUMNS to a frame with device, kind and precision columns."""
    import pandas as pd

    keys = ["device", "kind", "precision"]
    cols = ("group", *FEATURE_COLUMNS)
    if frame.empty:
        for col in cols:
            frame[col] = pd.Series([], dtype=object if col == "group" else float)
        return
    uniq = frame[keys].drop_duplicates()
    table = [(d, k, p, devices.group(d, k), *devices.features(devices.entry(d, k), p))
             for d, k, p in zip(uniq["device"].tolist(), uniq["kind"].tolist(), uniq["precision"].tolist())]
    feats = pd.DataFrame(table, columns=[*keys, *cols])
    joined = frame[keys].merge(feats, on=keys, how="left")
    for col in cols:
        frame[col] = joined[col].to_numpy()


def board_of(kind: str, fraction: float) -> str:
    """The scoreboard of a task on a device kind: by the task's median fraction of peak on the other devices."""
    if kind == "cpu":
        return "cpu"
    if kind not in GPU_KINDS:
        return "other"
    if fraction != fraction:
        return "gpu-no-flops"
    return "gpu-compute" if fraction >= COMPUTE_BOUND else "gpu-overhead"


def task_fractions(fit):
    """Each task's median fraction of catalogue peak over the fit devices' cells (NaN where none has one)."""
    return fit.groupby("task")["pfc"].median()


def split_label(label: str) -> tuple[str, str]:
    """(device name, kind) of a label `name (kind)`."""
    name, _, kind = label.rpartition(" (")
    return (name, kind[:-1]) if name and kind.endswith(")") else (label, "other")
