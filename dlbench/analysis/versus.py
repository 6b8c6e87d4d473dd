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
   `only_a` / `only_b`, with its reason and evidence: `oom` (the other ran out of memory in that setting, or
   a batch-size sweep of the other in the setting but for the batch ran out of memory at that batch or below;
   the largest batch measured to fit beside it), `failed` (error or timeout), `precision` (the other's catalogue
   entry lists no peak at that precision), else `not_measured` (with a prediction where one was made).
   A precision one device's catalogue entry has and the other's lacks is a device-level `precision` item.
   Nothing of these enters a mean. *Capacity*, per setting but for the batch size: the largest batch each
   device was measured to fit (an ok result's batch, or the largest a batch-size sweep found: its
   `batch_sweep.largest_fit`, or `metrics.largest_fitting_batch`) and the smallest that ran out of memory (a
   result's, or a sweep's `smallest_oom`), with what the sweeps found (`a_sweep`, `b_sweep`).
7. **Rows never compared.** MLPerf rows are in a namespace of their own: they are left out unless the selection
   holds only MLPerf workloads (`--family mlperf-...`), and then they are compared only with each other.
"""

from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any, Callable, Iterable

from ..store.api_rows import label_of
from ..store.metrics import HIGHER_IS_BETTER, unit_of
from .versus_rules import (NEAREST_MAY_DIFFER, SETTING, TIE, UNKNOWN_PRECISIONS, Z95, Cell, VersusError,  # noqa: F401
                           catalogue_entry, cv_squared, device_labels, median, metric_of, resolve, setting_key,
                           setting_of, setting_text, t95, value_of)
from .versus_sides import REASON_ORDER, cannot, datasheet, device_precisions
from .versus_sides import capacity as capacity_of


@dataclass
class Filters:
    families: list[str] = field(default_factory=list)     # family ids, e.g. timm-infer
    sources: list[str] = field(default_factory=list)      # a family's source, or part of a source's title/repository
    frameworks: list[str] = field(default_factory=list)
    precisions: list[str] = field(default_factory=list)
    scenarios: list[str] = field(default_factory=list)
    measured_only: bool = False


# ------------------------------------------------------------------------------------------------- selection

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
    measured: dict[str, set] = {"a": set(), "b": set()}     # (workload, precision) each device has an ok result of
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
                only[side].append(cannot(name, metric, unit, cells[side][key], cells[other], key, other_side,
                                          other_entry))
        capacity.extend(capacity_of(name, cells))
        for side in ("a", "b"):
            measured[side].update((name, c.setting.get("precision")) for c in cells[side].values() if c.ok)
    noise_cv2 = median(repeat_cv2) if repeat_cv2 else None
    predicted = []
    if predictor is not None:
        predicted = _predict(predictor, only, side_a, side_b, measured)
    only["a"] = device_precisions(ea, eb, b_label) + only["a"]
    only["b"] = device_precisions(eb, ea, a_label) + only["b"]
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
        "datasheet": datasheet(ea, eb),
        "left_out": {"mlperf_workloads": len(left_out_mlperf), "no_metric": no_metric},
        "attribution": catalogue.get("attribution"),
    }


def _median_or_none(values: list[float | None]) -> float | None:
    found = [v for v in values if v is not None]
    return median(found) if found else None


def _predict(predictor: Any, only: dict[str, list[dict[str, Any]]], side_a: dict, side_b: dict,
             measured: dict[str, set]) -> list[dict]:
    """Predictions for the workloads the other device did not measure at that precision in any setting (where
    it did, its measured setting is the answer: the nearest comparable pair); never in the summary."""
    predicted = []
    for side, other, missing_on in (("a", "b", side_b), ("b", "a", side_a)):
        items = [i for i in only[side] if i["reason"] == "not_measured"
                 and (i["workload"], i["setting"].get("precision")) not in measured[other]]
        asks = [(i["workload"], i["setting"].get("precision")) for i in items]
        answers = predictor.predict_many(missing_on["label"], asks) if asks else []
        for item, answer in zip(items, answers):
            # A prediction for another device count answers another question (a system total): none then.
            if not answer or ((answer.get("predicted_setting") or {}).get("device_count") or 1) \
                    != (item["setting"].get("device_count") or 1):
                continue
            answer = _answer(answer)
            entry = {"device": "b" if side == "a" else "a", "label": missing_on["label"], "workload": item["workload"],
                     "setting": item["setting"], "setting_text": item["setting_text"], **answer}
            item["prediction"] = answer
            predicted.append(entry)
    return predicted


ERROR_KEYS = ("scoreboard", "mape", "median_ape", "within_15", "within_25", "devices")


def _answer(answer: dict[str, Any]) -> dict[str, Any]:
    """A predictor's answer in the shape the page's prediction files give (dlbench.analysis.site_predictions):
    the value, its metric and unit, the method, its measured error, and the device count it was predicted for."""
    error = answer.get("error")
    return {"value": answer["value"], "metric": answer["metric"], "unit": answer["unit"], "method": answer["method"],
            "error": {k: error[k] for k in ERROR_KEYS if k in error} if error else None,
            "predicted_setting": {"device_count": (answer.get("predicted_setting") or {}).get("device_count") or 1}}
