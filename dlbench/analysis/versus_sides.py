"""What one device can do that the other cannot, capacity and the datasheet, for `versus.compare_devices`.

Kept in step with `site/versus.js` (see the `versus` module docstring, rules 6 and the datasheet).
"""

from __future__ import annotations

from typing import Any

from .versus_rules import DATASHEET, DEVICE_PRECISIONS, PEAK_KEY, PEAK_ORDER, Cell, evidence, median, setting_key, setting_text


def _without_batch(setting: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in setting.items() if k != "batch_size"}


def _alike(cells: dict[str, Cell], setting: dict[str, Any]) -> list[Cell]:
    """The cells of the same setting but for the batch size (cells without a batch size are of none)."""
    rest = _without_batch(setting)
    return [c for c in cells.values() if "batch_size" in c.setting and _without_batch(c.setting) == rest]


def _measured_fits(cell: Cell) -> list[int]:
    """The batches a cell's ok results were measured to fit: their own, and the largest batch a batch-size sweep
    found (`batch_sweep.largest_fit`, or `metrics.largest_fitting_batch` where a result states only that)."""
    fits = [cell.setting["batch_size"]] if cell.ok else []
    for _, row in cell.ok:
        found = (row.get("batch_sweep") or {}).get("largest_fit", row.get("metrics", {}).get("largest_fitting_batch"))
        if isinstance(found, int) and not isinstance(found, bool):
            fits.append(found)
    return fits


def largest_fit(cells: dict[str, Cell], setting: dict[str, Any]) -> int | None:
    """The largest batch measured to fit among the cells of the same setting but for the batch size: an ok
    result's batch, or the largest batch a sweep found."""
    fits = [b for c in _alike(cells, setting) for b in _measured_fits(c)]
    return max(fits) if fits else None


def sweep_bounds(cells: dict[str, Cell], setting: dict[str, Any]) -> dict[str, Any] | None:
    """What the batch-size sweeps among the cells of the same setting but for the batch size found: the largest
    batch that fitted (max), the smallest that ran out of memory (min) and the finest resolution; None without one."""
    fits, ooms, steps = [], [], []
    for cell in _alike(cells, setting):
        for row in [r for _, r in cell.ok] + cell.failed:
            sweep = row.get("batch_sweep")
            if not sweep:
                continue
            steps.append(sweep["resolution"])
            if sweep.get("largest_fit") is not None:
                fits.append(sweep["largest_fit"])
            if sweep.get("smallest_oom") is not None:
                ooms.append(sweep["smallest_oom"])
    if not steps:
        return None
    return {"largest_fit": max(fits) if fits else None, "smallest_oom": min(ooms) if ooms else None,
            "resolution": min(steps)}


def cannot(workload: str, metric: str, unit: str, mine: Cell, theirs: dict[str, Cell], key: str,
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
    swept = sweep_bounds(theirs, mine.setting) if "batch_size" in mine.setting else None
    swept_oom = swept["smallest_oom"] if swept else None
    if ooms:
        fit = largest_fit(theirs, mine.setting)
        item.update(reason="oom", largest_fit=fit,
                    detail=f"{other['label']} ran out of memory at batch {mine.setting.get('batch_size', '?')}; "
                           + (f"the largest batch measured to fit is {fit}" if fit is not None
                              else "no batch of this setting was measured to fit"))
    elif not failed and swept_oom is not None and swept_oom <= mine.setting["batch_size"]:
        fit = largest_fit(theirs, mine.setting)
        item.update(reason="oom", largest_fit=fit,
                    detail=f"{other['label']} ran out of memory at batch {swept_oom} in a batch-size sweep, "
                           f"below this batch of {mine.setting['batch_size']}; "
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


def device_precisions(mine: dict[str, Any] | None, theirs: dict[str, Any] | None, other_label: str) -> list[dict]:
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


def datasheet(ea: dict[str, Any] | None, eb: dict[str, Any] | None) -> list[dict[str, Any]]:
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


def capacity(workload: str, cells: dict[str, dict[str, Cell]]) -> list[dict[str, Any]]:
    """Per setting but for the batch size: the largest batch each device was measured to fit (an ok result's
    batch, or the largest a batch-size sweep found) and the smallest that did not (a result that ran out of
    memory, or a sweep's smallest out-of-memory batch), with what the sweeps found (`a_sweep`, `b_sweep`:
    `sweep_bounds`), where either ran out of memory, the two fitted different batches, or either swept."""
    groups: dict[str, dict[str, Any]] = {}
    for side in ("a", "b"):
        for cell in cells[side].values():
            if "batch_size" not in cell.setting:
                continue
            rest = _without_batch(cell.setting)
            g = groups.setdefault(setting_key(rest), {"workload": workload, "setting": rest,
                                                      "setting_text": setting_text(rest), "a_fit": None,
                                                      "a_oom": None, "b_fit": None, "b_oom": None,
                                                      "a_sweep": None, "b_sweep": None})
            bs = cell.setting["batch_size"]
            for fit in _measured_fits(cell):
                g[f"{side}_fit"] = max(g[f"{side}_fit"] or 0, fit)
            if any(r["status"] == "oom" for r in cell.failed):
                g[f"{side}_oom"] = bs if g[f"{side}_oom"] is None else min(g[f"{side}_oom"], bs)
            if g[f"{side}_sweep"] is None:
                g[f"{side}_sweep"] = sweep_bounds(cells[side], cell.setting)
    for g in groups.values():
        for side in ("a", "b"):
            swept = g[f"{side}_sweep"]
            if swept and swept["smallest_oom"] is not None:
                oom = g[f"{side}_oom"]
                g[f"{side}_oom"] = swept["smallest_oom"] if oom is None else min(oom, swept["smallest_oom"])
    return [g for _, g in sorted(groups.items())
            if g["a_oom"] is not None or g["b_oom"] is not None or g["a_sweep"] or g["b_sweep"]
            or (g["a_fit"] is not None and g["b_fit"] is not None and g["a_fit"] != g["b_fit"])]
