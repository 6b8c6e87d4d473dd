"""Device A against device B over everything both ran: the dataset's answer, and what one can do that the other cannot.

Computed from the API's rows (`dlbench.store.api_rows`), the rows the page reads; `site/versus.js` is the same
computation in JavaScript, and a test holds the two equal. Plain Python, no pandas, so that the two read alike.
The rules (docs/versus.md says them for users):

1. **Pairs.** A workload is read on its headline metric (the index's `outlier_metric`; for the `peak-*`
   workloads, which have none, `achieved_flops_per_s` or `bandwidth_bytes_per_s`), oriented by the index's
   `metrics[m].higher_is_better`. Results are comparable in one *setting*: the same workload and SETTING
   (benchmark version, framework, precision, batch size, device count, compile mode, layout, part of the
   dataset, and the epochs for whole-run times). Per device and setting the `ok` results give n and their
   median; where both devices have one, the ratio r = A / B (B / A for lower-is-better metrics), so r > 1
   always means A is better.
2. **Interval of a pair.** With n >= 2 on both sides: log r +- t(0.975, min(n) - 1) x sqrt(cv_A^2/n_A + cv_B^2/n_B),
   cv the sample coefficient of variation. With a single result on a side: no interval ("single result").
3. **Tie.** |r - 1| under TIE (5 %) is a tie; past it with an interval that holds 1 is `~` (not significant),
   counted with the ties; otherwise a win (r > 1) or a loss.
4. **Summary.** The geometric mean of r over the compared pairs, with the coverage, two uncertainties stated
   apart: the *measurement interval* (95 %, from each pair's variance: its own where both sides have repeats,
   else the pooled noise of the two devices' repeated results, `noise_cv`, per single result), and the
   *spread across workloads* (the geometric standard deviation of r, and the smallest and largest r); and
   wins / ties / losses.
5. **Nearest comparable.** A workload both devices ran but in no common setting gets its closest pair of
   settings (fewest differing fields among NEAREST_MAY_DIFFER; a precision only where one side's is unknown),
   shown with what differs and kept out of the summary.
6. **Cannot.** Every setting where one device has an `ok` result and the other none is an item of
   `only_a` / `only_b`, with its reason and evidence: `oom` (the other ran out of memory in that setting; the
   largest batch measured to fit beside it), `failed` (error or timeout), `precision` (the other's catalogue
   entry lists no peak at that precision), else `not_measured` (with a prediction where one was made).
   A precision one device's catalogue entry has and the other's lacks is a device-level `precision` item.
   Nothing of these enters a mean.
7. **Rows never compared.** MLPerf rows are in a namespace of their own: they are left out unless the selection
   holds only MLPerf workloads (`--family mlperf-...`), and then they are compared only with each other.
"""

from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any, Callable, Iterable

from ..store.api_rows import label_of
from ..store.metrics import EPOCH_METRICS, HIGHER_IS_BETTER, unit_of

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


@dataclass
class Filters:
    families: list[str] = field(default_factory=list)     # family ids, e.g. timm-infer
    sources: list[str] = field(default_factory=list)      # a family's source, or part of a source's title/repository
    frameworks: list[str] = field(default_factory=list)
    precisions: list[str] = field(default_factory=list)
    scenarios: list[str] = field(default_factory=list)
    measured_only: bool = False


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


def _keeper(index: dict[str, Any], filters: Filters) -> tuple[Callable[[dict[str, Any]], bool], bool]:
    """A row filter for `filters`, and whether the selection is MLPerf's namespace (else MLPerf is left out)."""
    families = {f["id"]: f for f in index.get("families", [])}
    family_of = {w["name"]: w.get("family") for w in index.get("workloads", [])}
    unknown = [f for f in filters.families if f not in families]
    if unknown:
        raise VersusError(f"--family {unknown[0]!r}: no such workload family; known: {', '.join(sorted(families))}")
    spaces = {families[f].get("namespace", "open") for f in filters.families}
    if len(spaces) > 1:
        raise VersusError("the --family values mix MLPerf and other families: MLPerf results may not be compared "
                          "with non-MLPerf results, so compare each apart")
    mlperf = spaces == {"mlperf"}
    sources = [s.lower() for s in filters.sources]

    def source_matches(row: dict[str, Any], family: dict[str, Any]) -> bool:
        prov = row.get("provenance", {})
        said = prov.get("source") or {}
        texts = [str(family.get("source", "")).lower(), str(said.get("title", "")).lower(),
                 str(said.get("repository", "")).lower(), "measured" if prov.get("kind") == "measured" else ""]
        return any(s == texts[0] or any(s in t for t in texts[1:] if t) for s in sources)

    def keep(row: dict[str, Any]) -> bool:
        fid = family_of.get(row["benchmark"], "dlbench")
        family = families.get(fid, {})
        if (family.get("namespace", "open") == "mlperf") != mlperf:
            return False
        if filters.families and fid not in filters.families:
            return False
        if sources and not source_matches(row, family):
            return False
        if filters.frameworks and row.get("framework") not in filters.frameworks:
            return False
        if filters.precisions and row.get("precision") not in filters.precisions:
            return False
        if filters.scenarios and row.get("scenario") not in filters.scenarios:
            return False
        return True

    return keep, mlperf


# -------------------------------------------------------------------------------------------------- the pairs

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


def _cells(rows: list[dict[str, Any]], metric: str, side_of: dict[str, str]) -> dict[str, dict[str, Cell]]:
    """{"a"|"b": {setting key: Cell}} of one workload's rows."""
    cells: dict[str, dict[str, Cell]] = {"a": {}, "b": {}}
    for row in rows:
        side = side_of[label_of(row)]
        setting = setting_of(row, metric)
        cell = cells[side].setdefault(setting_key(setting), Cell(setting))
        if row["status"] == "ok":
            value = value_of(row, metric)
            if value is not None and value > 0:
                cell.ok.append((value, row))
        else:
            cell.failed.append(row)
    return cells


def _ratio(a: float, b: float, higher: bool) -> float:
    return a / b if higher else b / a


def _pair(workload: str, family: str | None, metric: str, unit: str, higher: bool, ca: Cell, cb: Cell,
          nearest: dict[str, Any] | None) -> dict[str, Any]:
    va, vb = ca.values, cb.values
    a_value, b_value = median(va), median(vb)
    ratio = _ratio(a_value, b_value, higher)
    cva, cvb = cv_squared(va), cv_squared(vb)
    interval = None
    own_var = None
    if cva is not None and cvb is not None:
        own_var = cva / len(va) + cvb / len(vb)
        half = t95(min(len(va), len(vb)) - 1) * math.sqrt(own_var)
        interval = [ratio * math.exp(-half), ratio * math.exp(half)]
    off = max(ratio, 1 / ratio) - 1 < TIE
    holds_one = interval is not None and interval[0] <= 1 <= interval[1]
    mark = "=" if off else ("~" if holds_one else "")
    outcome = "tie" if mark else ("win" if ratio > 1 else "loss")
    units = {(r.get("units") or {}).get(metric) for _, r in ca.ok + cb.ok}
    return {
        "workload": workload, "family": family, "setting": ca.setting, "setting_text": setting_text(ca.setting),
        "metric": metric, "unit": units.pop() if len(units) == 1 and None not in units else unit,
        "higher_is_better": higher, "a_value": a_value, "b_value": b_value, "ratio": ratio,
        "interval": interval, "n_a": len(va), "n_b": len(vb), "single": interval is None,
        "tie": bool(mark), "mark": mark, "outcome": outcome,
        "a_fraction": ca.fraction(), "b_fraction": cb.fraction(),
        "a_evidence": ca.evidence(), "b_evidence": cb.evidence(), "nearest": nearest,
        "_var": (own_var, cva, cvb),
    }


def _nearest(ca_cells: dict[str, Cell], cb_cells: dict[str, Cell]) -> tuple[Cell, Cell, dict[str, list]] | None:
    """The closest pair of settings of one workload that share none: fewest differing fields, all of them
    in NEAREST_MAY_DIFFER (or a precision one side does not know), then the nearest batch sizes."""
    best = None
    for ka in sorted(ca_cells):
        ca = ca_cells[ka]
        if not ca.ok:
            continue
        for kb in sorted(cb_cells):
            cb = cb_cells[kb]
            if not cb.ok:
                continue
            differs = {}
            for key in SETTING:
                x, y = ca.setting.get(key), cb.setting.get(key)
                if x == y:
                    continue
                if key in NEAREST_MAY_DIFFER or (key == "precision" and (x in UNKNOWN_PRECISIONS or y in UNKNOWN_PRECISIONS)):
                    differs[key] = [x, y]
                else:
                    differs = None
                    break
            if not differs:
                continue
            bs_a, bs_b = ca.setting.get("batch_size"), cb.setting.get("batch_size")
            gap = abs(math.log(bs_a / bs_b)) if bs_a and bs_b else 99.0
            rank = (len(differs), gap, ka, kb)
            if best is None or rank < best[0]:
                best = (rank, ca, cb, differs)
    return None if best is None else (best[1], best[2], best[3])


# ----------------------------------------------------------------------------------------------- the whole view

def _side(label: str, index: dict[str, Any], catalogue: dict[str, Any], wanted: str, others: list[str]) -> dict:
    device, kind = label.rsplit(" (", 1)
    kind = kind[:-1]
    entry = catalogue_entry(catalogue, device, kind)
    return {"label": label, "device": device, "kind": kind, "asked": wanted, "other_matches": others,
            "catalogue_name": entry["name"] if entry else None}


def _largest_fit(cells: dict[str, Cell], setting: dict[str, Any]) -> int | None:
    """The largest batch with an ok result among the cells of the same setting but for the batch size."""
    rest = {k: v for k, v in setting.items() if k != "batch_size"}
    fits = [c.setting["batch_size"] for c in cells.values() if c.ok and "batch_size" in c.setting
            and {k: v for k, v in c.setting.items() if k != "batch_size"} == rest]
    return max(fits) if fits else None


def _cannot(workload: str, metric: str, unit: str, mine: Cell, theirs: dict[str, Cell], key: str,
            other: dict[str, Any], other_entry: dict[str, Any] | None) -> dict[str, Any]:
    """Why the other device has no ok result in a setting where this one has (see the module docstring, 6)."""
    cell = theirs.get(key)
    failed = cell.failed if cell is not None else []
    units = {(r.get("units") or {}).get(metric) for _, r in mine.ok}
    item = {"workload": workload, "setting": mine.setting, "setting_text": setting_text(mine.setting),
            "metric": metric, "unit": units.pop() if len(units) == 1 and None not in units else unit, "value": median(mine.values), "n": len(mine.ok),
            "evidence": {"can": mine.evidence(), "cannot": sorted({evidence(r) for r in failed})},
            "largest_fit": None, "prediction": None}
    ooms = [r for r in failed if r["status"] == "oom"]
    peak = PEAK_KEY.get(mine.setting.get("precision") or "")
    if ooms:
        fit = _largest_fit(theirs, mine.setting)
        item.update(reason="oom", largest_fit=fit,
                    detail=f"{other['label']} ran out of memory at batch {mine.setting.get('batch_size', '?')}; "
                           + (f"the largest batch measured to fit is {fit}" if fit is not None
                              else "no batch of this setting was measured to fit"))
    elif failed:
        first = failed[0]
        item.update(reason="failed", detail=f"{other['label']} failed ({first['status']}): "
                                            f"{first.get('message') or 'no message'}")
    elif peak and other_entry is not None and peak not in other_entry.get("peak_tflops", {}):
        item.update(reason="precision",
                    detail=f"the catalogue lists no {peak} peak for {other_entry['name']} (the device lacks it, "
                           "or its datasheet does not state it)")
        item["evidence"]["cannot"] = [f"catalogue: {other_entry['name']}"]
    else:
        elsewhere = sorted(setting_text(c.setting) for c in theirs.values() if c.ok)
        item.update(reason="not_measured",
                    detail=f"{other['label']} has no result in this setting"
                           + (f" (measured in: {'; '.join(elsewhere[:3])}{'; ...' if len(elsewhere) > 3 else ''})"
                              if elsewhere else ""))
    return item


REASON_ORDER = {"precision": 0, "oom": 1, "failed": 2, "not_measured": 3}


def _device_precisions(mine: dict[str, Any] | None, theirs: dict[str, Any] | None, other_label: str) -> list[dict]:
    if mine is None or theirs is None:
        return []
    items = []
    for p in DEVICE_PRECISIONS:
        if p in mine.get("peak_tflops", {}) and p not in theirs.get("peak_tflops", {}):
            items.append({"workload": None, "setting": {}, "setting_text": "", "reason": "precision",
                          "detail": f"{mine['name']} has a {p} peak of {mine['peak_tflops'][p]:g} TFLOP/s; the "
                                    f"catalogue lists none for {theirs['name']} ({other_label})",
                          "evidence": {"can": [f"catalogue: {mine['name']}"], "cannot": [f"catalogue: {theirs['name']}"]},
                          "metric": None, "unit": None, "value": None, "n": 0, "largest_fit": None,
                          "prediction": None})
    return items


def _summary(pairs: list[dict[str, Any]], noise_cv2: float | None, union: int, shared: int,
             entries: tuple[dict | None, dict | None]) -> dict[str, Any]:
    k = len(pairs)
    summary: dict[str, Any] = {
        "comparable": k, "shared": shared, "union": union,
        "wins": sum(p["outcome"] == "win" for p in pairs), "ties": sum(p["outcome"] == "tie" for p in pairs),
        "losses": sum(p["outcome"] == "loss" for p in pairs), "noise_cv": math.sqrt(noise_cv2) if noise_cv2 else None,
        "geomean": None, "interval": None, "interval_basis": None, "spread": None, "per_watt": None,
        "per_dollar": None}
    if not k:
        return summary
    logs = [math.log(p["ratio"]) for p in pairs]
    mean = sum(logs) / k
    summary["geomean"] = math.exp(mean)
    variances, own = [], 0
    for p in pairs:
        own_var, cva, cvb = p["_var"]
        if own_var is not None:
            variances.append(own_var)
            own += 1
        elif noise_cv2 is not None:
            variances.append((cva if cva is not None else noise_cv2) / p["n_a"]
                             + (cvb if cvb is not None else noise_cv2) / p["n_b"])
    if len(variances) == k:
        half = Z95 * math.sqrt(sum(variances)) / k
        summary["interval"] = [math.exp(mean - half), math.exp(mean + half)]
        summary["interval_basis"] = (f"{own} of {k} pairs from their own repeated results, the others from the two "
                                     "devices' pooled repeat noise" if own < k else "every pair's repeated results")
    else:
        summary["interval_basis"] = "unknown: single results, and no repeated result to estimate the noise from"
    sd = math.sqrt(sum((x - mean) ** 2 for x in logs) / (k - 1)) if k > 1 else 0.0
    summary["spread"] = {"gsd": math.exp(sd), "min": min(p["ratio"] for p in pairs),
                         "max": max(p["ratio"] for p in pairs)}
    ea, eb = entries
    if ea and eb and ea.get("tdp_w") and eb.get("tdp_w"):
        summary["per_watt"] = summary["geomean"] * eb["tdp_w"] / ea["tdp_w"]
    if ea and eb and ea.get("price_usd") and eb.get("price_usd"):
        summary["per_dollar"] = summary["geomean"] * eb["price_usd"] / ea["price_usd"]
    return summary


def _datasheet(ea: dict[str, Any] | None, eb: dict[str, Any] | None) -> list[dict[str, Any]]:
    rows = []
    fields = [(k, unit, (ea or {}).get(k), (eb or {}).get(k)) for k, unit in DATASHEET]
    peaks_a, peaks_b = (ea or {}).get("peak_tflops", {}), (eb or {}).get("peak_tflops", {})
    fields += [(f"peak_tflops.{p}", "TFLOP/s", peaks_a.get(p), peaks_b.get(p)) for p in PEAK_ORDER
               if p in peaks_a or p in peaks_b]
    for name, unit, a, b in fields:
        if a is None and b is None:
            continue
        numeric = isinstance(a, (int, float)) and isinstance(b, (int, float)) and b
        rows.append({"field": name, "unit": unit, "a": a, "b": b, "ratio": a / b if numeric else None,
                     "differs": a != b})
    return rows


def _capacity(workload: str, cells: dict[str, dict[str, Cell]]) -> list[dict[str, Any]]:
    """Per setting but for the batch size: the largest batch each device fitted and the smallest that did not,
    where either ran out of memory or the two fitted different batches."""
    groups: dict[str, dict[str, Any]] = {}
    for side in ("a", "b"):
        for cell in cells[side].values():
            if "batch_size" not in cell.setting:
                continue
            rest = {k: v for k, v in cell.setting.items() if k != "batch_size"}
            g = groups.setdefault(setting_key(rest), {"workload": workload, "setting": rest,
                                                      "setting_text": setting_text(rest), "a_fit": None,
                                                      "a_oom": None, "b_fit": None, "b_oom": None})
            bs = cell.setting["batch_size"]
            if cell.ok:
                g[f"{side}_fit"] = max(g[f"{side}_fit"] or 0, bs)
            if any(r["status"] == "oom" for r in cell.failed):
                g[f"{side}_oom"] = bs if g[f"{side}_oom"] is None else min(g[f"{side}_oom"], bs)
    return [g for _, g in sorted(groups.items())
            if g["a_oom"] is not None or g["b_oom"] is not None
            or (g["a_fit"] is not None and g["b_fit"] is not None and g["a_fit"] != g["b_fit"])]


def compare_devices(rows: Iterable[dict[str, Any]], index: dict[str, Any], catalogue: dict[str, Any], a: str, b: str,
                    filters: Filters | None = None, predictor: Any = None) -> dict[str, Any]:
    """The comparison of device A with device B (see the module docstring) as a JSON-ready dict.

    `rows`: API rows tagged with `benchmark` (all of them, or at least every row of the two devices);
    `predictor`: an object with `predict_many(label, [(workload, precision), ...])` (dlbench.analysis.predict),
    asked for the settings one device has not measured, or None.
    """
    filters = filters or Filters()
    labels = device_labels(index)
    a_label, a_others = resolve(labels, a, "A")
    b_label, b_others = resolve(labels, b, "B")
    if a_label == b_label:
        raise VersusError(f"A and B are the same device ({a_label}): name two different devices")
    side_a = _side(a_label, index, catalogue, a, a_others)
    side_b = _side(b_label, index, catalogue, b, b_others)
    ea = catalogue_entry(catalogue, side_a["device"], side_a["kind"])
    eb = catalogue_entry(catalogue, side_b["device"], side_b["kind"])
    keep, mlperf = _keeper(index, filters)
    side_of = {a_label: "a", b_label: "b"}
    by_workload: dict[str, list[dict[str, Any]]] = defaultdict(list)
    left_out_mlperf: set[str] = set()
    for row in rows:
        if label_of(row) not in side_of:
            continue
        if keep(row):
            by_workload[row["benchmark"]].append(row)
        elif not mlperf and row["benchmark"].startswith("mlperf-") and not filters.families:
            left_out_mlperf.add(row["benchmark"])
    workloads = {w["name"]: w for w in index.get("workloads", [])}
    readings = index.get("metrics", {})
    pairs, nearest, capacity = [], [], []
    only: dict[str, list[dict[str, Any]]] = {"a": [], "b": []}
    repeat_cv2: list[float] = []
    union = shared = 0
    no_metric = []
    for name in sorted(by_workload):
        wrows = by_workload[name]
        metric = metric_of(workloads.get(name), wrows)
        if metric is None:
            no_metric.append(name)
            continue
        higher = readings.get(metric, {}).get("higher_is_better", metric in HIGHER_IS_BETTER)
        unit = readings.get(metric, {}).get("unit", unit_of(metric))
        family = workloads.get(name, {}).get("family")
        cells = _cells(wrows, metric, side_of)
        for side in ("a", "b"):
            repeat_cv2.extend(c for c in (cv_squared(cell.values) for cell in cells[side].values()) if c is not None)
        ok_a = {k for k, c in cells["a"].items() if c.ok}
        ok_b = {k for k, c in cells["b"].items() if c.ok}
        union += len(ok_a | ok_b)
        shared += bool(ok_a and ok_b)
        common = sorted(ok_a & ok_b)
        for key in common:
            pairs.append(_pair(name, family, metric, unit, higher, cells["a"][key], cells["b"][key], None))
        if not common and ok_a and ok_b:
            found = _nearest(cells["a"], cells["b"])
            if found:
                ca, cb, differs = found
                near = _pair(name, family, metric, unit, higher, ca, cb, {"differs": differs, "b_setting": cb.setting})
                nearest.append(near)
        for side, other, mine_keys, their_keys, other_side, other_entry in (
                ("a", "b", ok_a, ok_b, side_b, eb), ("b", "a", ok_b, ok_a, side_a, ea)):
            for key in sorted(mine_keys - their_keys):
                only[side].append(_cannot(name, metric, unit, cells[side][key], cells[other], key, other_side,
                                          other_entry))
        capacity.extend(_capacity(name, cells))
    noise_cv2 = median(repeat_cv2) if repeat_cv2 else None
    predicted = []
    if predictor is not None:
        predicted = _predict(predictor, only, side_a, side_b)
    only["a"] = _device_precisions(ea, eb, b_label) + only["a"]
    only["b"] = _device_precisions(eb, ea, a_label) + only["b"]
    for side in ("a", "b"):
        only[side].sort(key=lambda i: (REASON_ORDER[i["reason"]], i["workload"] or "", i["setting_text"]))
    summary = _summary(pairs, noise_cv2, union, shared, (ea, eb))
    summary["nearest"] = len(nearest)
    summary["fraction_of_peak"] = {
        "a": _median_or_none([p["a_fraction"] for p in pairs]), "b": _median_or_none([p["b_fraction"] for p in pairs])}
    ordered = sorted(pairs, key=lambda p: (-abs(math.log(p["ratio"])), p["workload"], p["setting_text"]))
    ordered += sorted(nearest, key=lambda p: (-abs(math.log(p["ratio"])), p["workload"], p["setting_text"]))
    for p in ordered:
        del p["_var"]
    return {
        "versus_version": 1, "a": side_a, "b": side_b,
        "filters": {k: v for k, v in vars(filters).items() if v},
        "summary": summary, "workloads": ordered, "only_a": only["a"], "only_b": only["b"],
        "predicted": predicted, "capacity": {"memory_gb": {"a": (ea or {}).get("memory_gb"), "b": (eb or {}).get("memory_gb")},
                                             "workloads": capacity},
        "datasheet": _datasheet(ea, eb),
        "left_out": {"mlperf_workloads": len(left_out_mlperf), "no_metric": no_metric},
        "attribution": catalogue.get("attribution"),
    }


def _median_or_none(values: list[float | None]) -> float | None:
    found = [v for v in values if v is not None]
    return median(found) if found else None


def _predict(predictor: Any, only: dict[str, list[dict[str, Any]]], side_a: dict, side_b: dict) -> list[dict]:
    """Predictions for the settings the other device did not measure (never in the summary)."""
    predicted = []
    for side, missing_on in (("a", side_b), ("b", side_a)):
        items = [i for i in only[side] if i["reason"] == "not_measured"]
        asks = [(i["workload"], i["setting"].get("precision")) for i in items]
        answers = predictor.predict_many(missing_on["label"], asks) if asks else []
        for item, answer in zip(items, answers):
            if not answer:
                continue
            entry = {"device": "b" if side == "a" else "a", "label": missing_on["label"], "workload": item["workload"],
                     "setting": item["setting"], "setting_text": item["setting_text"], **answer}
            item["prediction"] = answer
            predicted.append(entry)
    return predicted
