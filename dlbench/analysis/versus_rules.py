"""The rules a device-vs-device comparison is made by (`versus.py`): devices, settings, values, statistics.

Kept in step with `site/versus.js`, which ports them to the page (see the `versus` module docstring).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ..store.metrics import EPOCH_METRICS

SETTING = ("benchmark_version", "framework", "precision", "batch_size", "device_count", "compile", "channels_last",
           "epochs", "train_samples", "test_samples")
NEAREST_MAY_DIFFER = ("batch_size", "benchmark_version", "compile", "channels_last", "epochs")
UNKNOWN_PRECISIONS = (None, "unknown")
TIE = 0.05                      # |r - 1| below this is a tie
Z95 = 1.959963984540054
# Student's t, two-sided 95 %, by degrees of freedom (1..30); beyond, the normal quantile.
T95 = (12.706204736, 4.302652730, 3.182446305, 2.776445105, 2.570581836, 2.446911851, 2.364624252, 2.306004135,
       2.262157163, 2.228138852, 2.200985160, 2.178812830, 2.160368656, 2.144786688, 2.131449546, 2.119905299,
       2.109815578, 2.100922040, 2.093024054, 2.085963447, 2.079613845, 2.073873068, 2.068657610, 2.063898562,
       2.059538553, 2.055529439, 2.051830516, 2.048407142, 2.045229642, 2.042272456)
PEAK_METRICS = ("achieved_flops_per_s", "bandwidth_bytes_per_s")
# A result's precision -> the catalogue's peak key (as dlbench.contract.device_catalogue, plus the narrow types).
PEAK_KEY = {"fp32": "fp32", "tf32": "tf32", "fp16": "fp16", "mixed-fp16": "fp16", "bf16": "bf16",
            "mixed-bf16": "bf16", "fp8": "fp8", "int8": "int8", "fp4": "fp4", "int4": "int4", "fp64": "fp64"}
PEAK_ORDER = ("fp64", "fp32", "tf32", "fp16_plain", "fp16", "bf16", "fp8", "int8", "fp4", "int4")
DEVICE_PRECISIONS = ("fp64", "tf32", "fp16", "bf16", "fp8", "int8", "fp4", "int4")   # device-level "cannot"
DATASHEET = (("release_date", ""), ("price_usd", "USD"), ("tdp_w", "W"), ("memory_gb", "GB"),
             ("bandwidth_gb_s", "GB/s"))


class VersusError(Exception):
    """The comparison cannot be made; `status` is the exit status (1 nothing to read, 2 a usage error)."""

    def __init__(self, message: str, status: int = 2):
        super().__init__(message)
        self.status = status


# ---------------------------------------------------------------------------------------------------- devices

def resolve(labels: dict[str, int], wanted: str, role: str) -> tuple[str, list[str]]:
    """The device label `wanted` names, and the other candidates when the name was ambiguous.

    `labels`: {label: result count}. Exact (label, device name or catalogue name, any case) first; else the
    labels holding `wanted`; of several, the one with the most results, when strictly more than any other
    (the others are returned to be listed); a tie or no match is a usage error listing the candidates.
    """
    low = wanted.strip().lower()
    exact = [lab for lab in labels if lab.lower() == low or lab.lower().rsplit(" (", 1)[0] == low]
    matches = exact or [lab for lab in labels if low in lab.lower()]
    if not matches:
        known = "; ".join(sorted(labels))
        raise VersusError(f"{role} {wanted!r} is not a device of the dataset; known devices: {known}")
    ranked = sorted(matches, key=lambda lab: (-labels[lab], lab))
    if len(ranked) > 1 and labels[ranked[0]] == labels[ranked[1]]:
        listing = "; ".join(f"{lab} ({labels[lab]} results)" for lab in ranked)
        raise VersusError(f"{role} {wanted!r} is ambiguous: it matches {listing}: give one of them in full")
    return ranked[0], ranked[1:]


def catalogue_entry(catalogue: dict[str, Any], device: str, kind: str) -> dict[str, Any] | None:
    """The catalogue entry of a device (its name among the entry's `matches`, and the entry's kind)."""
    for entry in catalogue.get("devices", []):
        if entry.get("kind") == kind and device in entry.get("matches", ()):
            return entry
    return None


# ------------------------------------------------------------------------------------------------ rows, values

def metric_of(workload: dict[str, Any] | None, rows: list[dict[str, Any]]) -> str | None:
    """The metric a workload is compared on: its headline metric, else a peak metric its ok rows have."""
    if workload and workload.get("outlier_metric"):
        return workload["outlier_metric"]
    for name in PEAK_METRICS:
        if any(r["status"] == "ok" and name in r.get("metrics", {}) for r in rows):
            return name
    return None


def value_of(row: dict[str, Any], metric: str) -> float | None:
    metrics = row.get("metrics", {})
    if metric == "forward_backward_ms":
        f, b = metrics.get("forward_ms"), metrics.get("backward_ms")
        return f + b if f is not None and b is not None else None
    found = metrics.get(metric)
    return float(found) if isinstance(found, (int, float)) and not isinstance(found, bool) else None


def setting_of(row: dict[str, Any], metric: str) -> dict[str, Any]:
    """The row's setting for `metric` (absent fields left out; a measured row's missing layout is NCHW)."""
    setting = {}
    for key in SETTING:
        if key == "epochs" and metric not in EPOCH_METRICS:
            continue
        value = row.get(key)
        if key == "channels_last" and value is None and row.get("provenance", {}).get("kind") == "measured":
            value = False
        if value is not None:
            setting[key] = value
    return setting


def setting_key(setting: dict[str, Any]) -> str:
    return "|".join(f"{k}={_text(setting[k])}" for k in SETTING if k in setting)


def setting_text(setting: dict[str, Any]) -> str:
    """A setting for people: `torch mixed-bf16, batch 256, NHWC, compiled (inductor)`."""
    parts = []
    if "framework" in setting:
        parts.append(str(setting["framework"]))
    if "precision" in setting:
        parts.append(str(setting["precision"]))
    if "batch_size" in setting:
        parts.append(f"batch {setting['batch_size']}")
    if setting.get("device_count", 1) != 1:
        parts.append(f"{setting['device_count']} devices")
    if setting.get("channels_last") is True:
        parts.append("NHWC")
    if setting.get("compile") not in (None, "eager"):
        parts.append(f"compiled ({setting['compile']})")
    if "epochs" in setting:
        parts.append(f"{setting['epochs']} epochs")
    if "train_samples" in setting or "test_samples" in setting:
        parts.append(f"{setting.get('train_samples', '?')}/{setting.get('test_samples', '?')} samples")
    if "benchmark_version" in setting:
        parts.append(f"v{setting['benchmark_version']}")
    return " ".join(parts[:2]) + (", " + ", ".join(parts[2:]) if len(parts) > 2 else "")


def _text(value: Any) -> str:
    return ("true" if value else "false") if isinstance(value, bool) else str(value)


def median(values: list[float]) -> float:
    s = sorted(values)
    mid = len(s) // 2
    return s[mid] if len(s) % 2 else (s[mid - 1] + s[mid]) / 2


def cv_squared(values: list[float]) -> float | None:
    """The squared sample coefficient of variation (None below 2 values or at a mean of 0)."""
    n = len(values)
    if n < 2:
        return None
    mean = sum(values) / n
    if mean == 0:
        return None
    var = sum((v - mean) ** 2 for v in values) / (n - 1)
    return var / (mean * mean)


def t95(df: int) -> float:
    return T95[df - 1] if 1 <= df <= len(T95) else Z95


def evidence(row: dict[str, Any]) -> str:
    """Where a result comes from, for a person to check: its run, or its source file and row."""
    source = row.get("provenance", {}).get("source") or {}
    if source.get("repository"):
        where = f"{source['repository']}@{str(source.get('commit', ''))[:8]}:{source.get('path', '')}"
        return f"{where} ({source['row']})" if source.get("row") else where
    if source.get("title"):
        return f"run {row['run_id']} ({source['title']})"
    return f"run {row['run_id']}"


# ------------------------------------------------------------------------------------------------- selection

def device_labels(index: dict[str, Any]) -> dict[str, int]:
    """{label: result count} of the index's devices (a device of several kinds gets each kind's label)."""
    labels = {}
    for device in index.get("devices", []):
        for kind in device.get("kinds") or ["other"]:
            labels[f"{device['name']} ({kind})"] = device.get("result_count", 0)
    return labels




@dataclass
class Cell:
    """One device's results of one workload in one setting."""

    setting: dict[str, Any]
    ok: list[tuple[float, dict[str, Any]]] = field(default_factory=list)
    failed: list[dict[str, Any]] = field(default_factory=list)

    @property
    def values(self) -> list[float]:
        return [v for v, _ in self.ok]

    def evidence(self) -> list[str]:
        return sorted({evidence(r) for _, r in self.ok})

    def fraction(self) -> float | None:
        found = [r["peak_fraction_catalogue"] for _, r in self.ok if r.get("peak_fraction_catalogue") is not None]
        return median(found) if found else None
