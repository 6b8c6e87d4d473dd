"""Predictions and their evaluation as text, JSON and CSV (`tools/predict.py`); deterministic output."""

from __future__ import annotations

import json
from typing import Any

from ..store.labels import format_value
from .predict import METHODS, SETTING

BOARD_TITLES = {
    "gpu-compute": "GPU, compute-bound: tasks at >= 5 % of datasheet peak (median over the other devices)",
    "gpu-overhead": "GPU, overhead-bound: tasks under 5 % of datasheet peak (small models, small batches)",
    "gpu-no-flops": "GPU, fraction of peak unknown: the source states no FLOPs (Lambda, MLPerf)",
    "cpu": "CPUs",
    "other": "other accelerators (TPU, NPU, ...)",
}
METHOD_TITLES = {
    "roofline": "roofline: the workload's median efficiency (of datasheet peak) x the device's peak / FLOPs",
    "flops_ratio": "FLOPS ratio: the nearest measured device x the ratio of peaks at the precision",
    "bandwidth_ratio": "bandwidth ratio: the nearest measured device x the ratio of memory bandwidths",
    "sqrt_rule": "square-root rule: the nearest measured device x sqrt(peak ratio x bandwidth ratio)",
    "loglinear": "log-linear fit: log y = a(task) + b1 log peak + b2 log bandwidth, slopes per family",
    "dlbench": ("dlbench model: shrunk slopes on log effective peak (the datasheet peak capped at k x TDP, k fitted "
                "on the other devices of its kind), log FP32 peak, log bandwidth; anchored on the nearest devices"),
}
COMPARABLE = ("Comparable with: the other methods of the same scoreboard (same held-out rows and devices). "
              "Not comparable with: other scoreboards (other devices and tasks), nor the published anchors "
              "(NeuSight about 8 %, Habitat 11.8 %, Li et al. 15.2 %, ...): they predict unseen GPUs AND unseen "
              "models from kernel profiles or model graphs; leaving one device out predicts an unseen device on "
              "tasks that other devices measured, an easier task.")


def _pct(v: Any, digits: int = 1) -> str:
    return "-" if v is None else f"{v:.{digits}f}"


def _interval(iv: list[float] | None) -> str:
    return f"[{iv[0]:.1f}, {iv[1]:.1f}]" if iv else "[-]"


def setting_text(setting: dict[str, Any]) -> str:
    framework = f"{setting.get('framework') or '?'} {setting.get('framework_version') or ''}".strip()
    parts = [setting.get("precision") or "?", framework, setting.get("scenario") or "", setting.get("compile") or ""]
    if setting.get("channels_last") == "true":
        parts.append("channels-last")
    parts.append(f"{setting.get('device_count')} device(s)")
    if setting.get("train_samples"):
        parts.append(f"{setting['train_samples']} training samples")
    return ", ".join(p for p in parts if p)


def prediction_text(label: str, workload: str, answer: dict[str, Any], measured: dict[str, Any] | None,
                    stale: str | None) -> str:
    err = answer.get("error")
    lines = [f"{label} on {workload} ({setting_text(answer['predicted_setting'])})",
             f"predicted {answer['metric']}: {format_value(answer['value'])} {answer['unit']}"
             + (" (system total)" if answer["predicted_setting"].get("device_count", 1) != 1 else ""),
             f"method: {answer['method']}: {METHOD_TITLES[answer['method']]}",
             f"from {answer['fit_devices']} other device(s) measured in this setting, and the catalogue entry",
             f"scoreboard: {answer['scoreboard']} ({BOARD_TITLES[answer['scoreboard']]})"]
    if err:
        lines.append(f"measured error of {answer['method']} on {err['scoreboard']} rows, leaving one device out "
                     f"({err.get('devices')} devices): mean {_pct(err['mape'])} %, median {_pct(err['median_ape'])} %, "
                     f"{_pct(err['within_25'], 0)} % within +-25 %")
        lines.append("  (leaving one device out is easier than predicting an unseen device AND an unseen model, "
                     "the published predictors' task)")
        if stale:
            lines.append(f"  note: {stale}")
    else:
        lines.append("measured error: none stored for this method and scoreboard (run tools/predict.py --evaluate "
                     "--write-errors)")
    if measured:
        lines.append(f"measured on this device in this setting: median {format_value(measured['median'])} "
                     f"{answer['unit']} over {measured['n']} result(s) (the prediction does not use them)")
    return "\n".join(lines) + "\n"


def prediction_json(label: str, workload: str, answer: dict[str, Any], measured: dict[str, Any] | None) -> str:
    return json.dumps({"device": label, "workload": workload, **answer, "measured": measured},
                      sort_keys=True, indent=1, allow_nan=False) + "\n"


def evaluation_json(summary: dict[str, Any]) -> str:
    return json.dumps(_rounded(summary), sort_keys=True, indent=1, allow_nan=False) + "\n"


def _rounded(obj: Any) -> Any:
    if isinstance(obj, float):
        return round(obj, 3) if obj == obj else None
    if isinstance(obj, dict):
        return {k: _rounded(v) for k, v in obj.items()}
    if isinstance(obj, list):
        return [_rounded(v) for v in obj]
    return obj


def errors_json(summary: dict[str, Any]) -> str:
    """The per-board, per-method figures `Predictor` reports beside a prediction (predict_errors.json)."""
    boards = {}
    for board, b in summary["boards"].items():
        methods = {m: {k: b["methods"][m].get(k) for k in ("mape", "median_ape", "within_15", "within_25")}
                   for m in METHODS if b["methods"].get(m, {}).get("mape") is not None}
        boards[board] = {"rows": b["rows"], "devices": b["devices"], "methods": methods}
    doc = {"about": "Leave-one-device-out errors of each prediction method per scoreboard, written by "
                    "`python tools/predict.py --evaluate --write-errors` (docs/predict.md); percentages.",
           "evaluated_on": summary.get("dataset", {}), "boards": boards}
    return json.dumps(_rounded(doc), sort_keys=True, indent=1, allow_nan=False) + "\n"


def rows_csv(rows) -> str:
    """Every held-out result with its measured value and each method's prediction (CSV, deterministic)."""
    cols = ["board", "label", "group", "workload", "family", *SETTING, "run_id", "result_index", "metric", "unit",
            "value", "fit_devices", *METHODS]
    out = rows[cols].rename(columns={"label": "device", "group": "catalogue_device", "value": "measured"})
    return out.to_csv(index=False, float_format="%.10g", lineterminator="\n")


def evaluation_text(summary: dict[str, Any], top: int = 10) -> str:
    lines = ["Leave-one-device-out evaluation: each device (with every other name and host of its catalogue entry) "
             "is held out, every method is fitted on the other devices and predicts the held-out device's results.",
             f"{summary['results_used']} usable results in {summary['tasks']} tasks; {summary['held_out_groups']} "
             "devices held out in turn. Errors are absolute percentage errors, averaged per device, then over devices.",
             COMPARABLE, ""]
    for board, b in summary["boards"].items():
        lines += _board_text(board, b, summary["target"], top)
    return "\n".join(lines) + "\n"


def _board_text(board: str, b: dict[str, Any], target: dict[str, float], top: int) -> list[str]:
    lines = [f"== {board}: {BOARD_TITLES[board]} =="]
    if not b["rows"]:
        why = (" (no CPU has a catalogue entry: every method needs the device's datasheet)" if board == "cpu"
               else "")
        lines += [f"{b['held_out_rows']} held-out results, none that every method predicts{why}.", ""]
        return lines
    lines.append(f"{b['rows']} held-out results (of {b['held_out_rows']}) on {b['devices']} devices, {b['tasks']} "
                 f"tasks, {b['workloads']} workloads; every method scored on these same rows")
    head = (f"{'method':<16} {'mean APE [95% CI]':>22} {'median':>7} {'factor':>7} {'±10%':>6} {'±15%':>6} "
            f"{'±25%':>6} {'order':>6} {'pairs':>7} {'cover':>6}")
    lines += [head, "-" * len(head)]
    for m in METHODS:
        r = b["methods"][m]
        lines.append(f"{m:<16} {_pct(r['mape']):>6} {_interval(r['interval'].get('mape')):>15} "
                     f"{_pct(r['median_ape']):>7} {r['error_factor']:>7.3f} {_pct(r['within_10'], 0):>6} "
                     f"{_pct(r['within_15'], 0):>6} {_pct(r['within_25'], 0):>6} {_pct(r['order_accuracy'], 0):>6} "
                     f"{r['pairs']:>7} {_pct(r['coverage'], 0):>6}")
    lines.append("(APE: absolute percentage error; factor: exp(mean |ln(pred/measured)|); ±N%: share of results "
                 "within; order: % of pairs of held-out devices more than 1.1x apart on a task put in the right order; "
                 "cover: % of the board's held-out results the method predicts; CI: bootstrap over devices)")
    vs = b.get("dlbench_vs_loglinear") or {}
    lines.append(f"dlbench vs loglinear: mean error of loglinear minus dlbench {_pct(vs.get('points'))} points, "
                 f"interval {_interval(vs.get('interval'))} (bootstrap over devices; above 0: dlbench better)")
    lines += _noise_lines(b["noise_floor"])
    lim = b.get("limits")
    if lim:
        bias = ", ".join(f"{k.rsplit(' (', 1)[0]} {v:+.0f} %" for k, v in lim["device_bias"].items())
        lines.append(f"what limits dlbench (a diagnostic using the held-out values): each device's median error "
                     f"({bias}); with that one number per device removed, mean {lim['debiased_mape']:.1f} %, "
                     f"median {lim['debiased_median_ape']:.1f} % would remain (the per-workload spread)")
    cap = b.get("power_cap") or {}
    if cap.get("min") is not None:
        span = (f"{cap['min']:.2f}" if cap["min"] == cap["max"] else f"{cap['min']:.2f} to {cap['max']:.2f}")
        none = f" (no cap for {cap['uncapped']} device(s))" if cap["uncapped"] else ""
        lines.append(f"dlbench's power cap, fitted on the other devices of the kind when each is held out: k = {span} "
                     f"TFLOP/s per W of TDP{none}")
    elif cap:
        lines.append("dlbench's power cap: none (too few other devices of the kind, or they fit best without one)")
    if board == "gpu-compute":
        lines += _target_lines(b, target)
    width = max(len(d["device"]) for d in b["per_device"])
    lines.append("per device, mean APE %:")
    lines.append(f"  {'device':<{width}} {'rows':>6} " + " ".join(f"{m[:9]:>9}" for m in METHODS))
    for d in b["per_device"]:
        lines.append(f"  {d['device']:<{width}} {d['rows']:>6} " + " ".join(f"{_pct(d[m]):>9}" for m in METHODS))
    worst = sorted(b["per_workload"], key=lambda w: (-w["dlbench"], w["workload"]))[:top]
    if worst:
        lines.append(f"the {len(worst)} workloads with the largest dlbench error (of {len(b['per_workload'])}; "
                     "all of them in --format json):")
        width = max(len(w["workload"]) for w in worst)
        lines.append(f"  {'workload':<{width}} {'devices':>7} " + " ".join(f"{m[:9]:>9}" for m in METHODS))
        for w in worst:
            lines.append(f"  {w['workload']:<{width}} {w['devices']:>7} "
                         + " ".join(f"{_pct(w[m]):>9}" for m in METHODS))
    lines.append("")
    return lines


def _noise_lines(noise: dict[str, Any]) -> list[str]:
    names = {"repeats_and_hosts": "one result vs the other results of its device and setting",
             "catalogue_names": "one name of a catalogue entry vs its other names",
             "framework_versions": "one framework version vs the others (same device and setting)"}
    lines = ["noise floor of the dataset (a difference below it is no evidence):"]
    for key, title in names.items():
        n = noise[key]
        text = (f"mean {_pct(n['mape'])} %, median {_pct(n.get('median_ape'))} % ({n['rows']} values, "
                f"{n['devices']} devices)" if n["mape"] is not None else "not measurable here (no such pairs)")
        lines.append(f"  {title}: {text}")
    return lines


def _target_lines(b: dict[str, Any], target: dict[str, float]) -> list[str]:
    m = b["methods"]["dlbench"]
    vs = (b.get("dlbench_vs_loglinear") or {}).get("points")
    checks = [("mean APE <= {:g} %".format(target["mape"]), m["mape"], m["mape"] <= target["mape"]),
              ("median APE <= {:g} %".format(target["median_ape"]), m["median_ape"],
               m["median_ape"] <= target["median_ape"]),
              (">= {:g} % of results within ±15 %".format(target["within_15"]), m["within_15"],
               m["within_15"] >= target["within_15"]),
              ("order accuracy >= {:g} %".format(target["order_accuracy"]), m["order_accuracy"],
               m["order_accuracy"] is not None and m["order_accuracy"] >= target["order_accuracy"]),
              ("beats loglinear by >= {:g} points".format(target["beat_loglinear"]), vs,
               vs is not None and vs >= target["beat_loglinear"])]
    return ["target of issue 15 for the dlbench model on this board:"] + [
        f"  {name}: {_pct(value)} {'met' if ok else 'MISSED'}" for name, value, ok in checks]
