"""A device-vs-device comparison (`versus.compare_devices`) as text, Markdown, CSV and JSON."""

from __future__ import annotations

import csv
import io
import json
from typing import Any, Callable

from .compare_output import fmt

LIMIT = 25      # items per list in the text forms unless told otherwise (JSON and CSV hold all)
REASONS = {"precision": "precision not available", "oom": "out of memory", "failed": "failed",
           "not_measured": "not measured"}


def times(value: float | None) -> str:
    return "-" if value is None else f"{value:.3g}x"


def pct(value: float | None) -> str:
    return "-" if value is None else f"{value * 100:.1f} %"


def _interval(pair: dict[str, Any]) -> str:
    return "single result" if pair["interval"] is None else f"{pair['interval'][0]:.3g}-{pair['interval'][1]:.3g}"


def summary_lines(v: dict[str, Any]) -> list[str]:
    s, a, b = v["summary"], v["a"], v["b"]
    lines = []
    for role, side in (("A", a), ("B", b)):
        line = f"{role}: {side['label']}" + (f" (catalogue: {side['catalogue_name']})" if side["catalogue_name"] else
                                            " (not in the device catalogue)")
        if side["other_matches"]:
            line += f"; {side['asked']!r} also matches {', '.join(side['other_matches'])}: name one in full to choose it"
        lines.append(line)
    if s["geomean"] is None:
        lines.append("No comparable results: the two devices share no workload setting"
                     + (f" ({s['nearest']} nearest-comparable pairs below)" if s["nearest"] else "") + ".")
        return lines
    lines.append(f"A is {times(s['geomean'])} B (geometric mean of A over B, measured results only) over "
                 f"{s['comparable']:,} comparable workload settings of {s['union']:,} either device ran "
                 f"({s['shared']:,} workloads both ran)")
    if s["interval"]:
        lines.append(f"  measurement interval (95 %): {s['interval'][0]:.4g}x to {s['interval'][1]:.4g}x "
                     f"({s['interval_basis']}; repeat noise {pct(s['noise_cv'])} per result)")
    else:
        lines.append(f"  measurement interval: {s['interval_basis']}")
    sp = s["spread"]
    lines.append(f"  spread across workloads (not an uncertainty): geometric SD {times(sp['gsd'])}, "
                 f"from {times(sp['min'])} to {times(sp['max'])}")
    lines.append(f"  wins / ties / losses of A: {s['wins']:,} / {s['ties']:,} / {s['losses']:,} "
                 "(a tie: within 5 %, or its interval holds 1, marked ~)")
    extra = []
    if s["per_watt"] is not None:
        extra.append(f"per watt of TDP (datasheet TDP, not measured power) {times(s['per_watt'])}")
    if s["per_dollar"] is not None:
        extra.append(f"per dollar of list price {times(s['per_dollar'])}")
    if extra:
        lines.append("  " + "; ".join(extra) + " (A over B)")
    fr = s["fraction_of_peak"]
    if fr["a"] is not None or fr["b"] is not None:
        lines.append(f"  median fraction of the catalogue peak over the compared results: A {pct(fr['a'])}, "
                     f"B {pct(fr['b'])}")
    if v["left_out"]["mlperf_workloads"]:
        lines.append(f"  left out: {v['left_out']['mlperf_workloads']} MLPerf workloads (MLPerf results are compared "
                     "only with each other: pass --family mlperf-inference-v4-1)")
    return lines


def _pair_row(p: dict[str, Any]) -> list[str]:
    near = p["nearest"]
    setting = p["setting_text"]
    if near:
        setting += "; B: " + ", ".join(f"{k} {y}" for k, (x, y) in near["differs"].items())
    return [p["workload"], setting, p["metric"], f"{fmt(p['a_value'])} {p['unit']}", f"{fmt(p['b_value'])} {p['unit']}",
            times(p["ratio"]) + (f" {p['mark']}" if p["mark"] == "~" else ""), _interval(p),
            f"{p['n_a']}/{p['n_b']}", p["outcome"] + (" (nearest comparable)" if near else "")]


PAIR_HEADERS = ("workload", "setting", "metric", "A", "B", "A over B", "interval", "n A/B", "")


def _only_row(item: dict[str, Any]) -> list[str]:
    value = "" if item["value"] is None else f"{fmt(item['value'])} {item['unit']}"
    pred = item.get("prediction")
    predicted = ""
    if pred:
        err = pred.get("error") or {}
        typical = f", typical error {err['mape']:.0f} %" if err.get("mape") is not None else ""   # mape in percent
        predicted = f"predicted {fmt(pred['value'])} {pred.get('unit', '')} ({pred['method']}{typical})"
    evidence = "; ".join(item["evidence"]["can"][:1] + item["evidence"]["cannot"][:1])
    return [item["workload"] or "(device)", item["setting_text"], REASONS[item["reason"]], value,
            item["detail"] + (f"; {predicted}" if predicted else ""), evidence]


ONLY_HEADERS = ("workload", "setting", "reason", "value", "why", "evidence")


def _limited(items: list, limit: int) -> tuple[list, int]:
    return (items, 0) if not limit or len(items) <= limit else (items[:limit], len(items) - limit)


def _sections(v: dict[str, Any], limit: int) -> list[tuple[str, tuple, list[list[str]], int]]:
    """(title, headers, rows, how many more were left out) of each table."""
    compared = [p for p in v["workloads"] if not p["nearest"]]
    nearest = [p for p in v["workloads"] if p["nearest"]]
    out = []
    shown, more = _limited(compared, limit)
    out.append(("Per workload and setting (A over B > 1: A better; largest differences first)", PAIR_HEADERS,
                [_pair_row(p) for p in shown], more))
    if nearest:
        shown, more = _limited(nearest, limit)
        out.append(("Nearest comparable (settings differ as said; not in the summary)", PAIR_HEADERS,
                    [_pair_row(p) for p in shown], more))
    for key, title in (("only_a", f"What A ({v['a']['label']}) can do that B cannot"),
                       ("only_b", f"What B ({v['b']['label']}) can do that A cannot")):
        items = v[key]
        rows, more = [], 0
        for reason in REASONS:
            group = [i for i in items if i["reason"] == reason]
            shown, left = _limited(group, limit)
            rows += [_only_row(i) for i in shown]
            more += left
        out.append((f"{title} ({len(items):,})", ONLY_HEADERS, rows, more))
    cap = v["capacity"]
    mem = cap["memory_gb"]
    cap_rows = [["memory", "", f"{mem['a']} GB" if mem["a"] is not None else "-",
                 f"{mem['b']} GB" if mem["b"] is not None else "-"]]
    shown, more = _limited(cap["workloads"], limit)
    for c in shown:
        cap_rows.append([c["workload"], c["setting_text"], _fit(c["a_fit"], c["a_oom"], c.get("a_sweep")),
                         _fit(c["b_fit"], c["b_oom"], c.get("b_sweep"))])
    out.append(("Capacity: memory, and the largest batch measured to fit", ("workload", "setting", "A", "B"),
                cap_rows, more))
    sheet = [[d["field"], d["unit"], _cell(d["a"]), _cell(d["b"]), times(d["ratio"]) if d["ratio"] else "",
              "differs" if d["differs"] else ""] for d in v["datasheet"]]
    out.append(("Datasheet (device catalogue)", ("field", "unit", "A", "B", "A over B", ""), sheet, 0))
    return out


def _fit(fit: int | None, oom: int | None, sweep: dict[str, Any] | None = None) -> str:
    parts = [f"fits {fit}" if fit is not None else "no fit measured"]
    if oom is not None:
        parts.append(f"out of memory at {oom}")
    return ", ".join(parts) + (f" (batch-size sweep, resolution {sweep['resolution']})" if sweep else "")


def _cell(value: Any) -> str:
    return "-" if value is None else (f"{value:g}" if isinstance(value, float) else str(value))


def _render(v: dict[str, Any], limit: int, fmt_name: str) -> str:
    from tabulate import tabulate  # only here: slow to import

    title = f"{v['a']['label']} vs {v['b']['label']}"
    lines = [f"# {title}" if fmt_name == "github" else title, ""]
    lines += [("- " + line.strip()) if fmt_name == "github" else line for line in summary_lines(v)]
    for heading, headers, rows, more in _sections(v, limit):
        lines += ["", f"## {heading}" if fmt_name == "github" else heading]
        if rows:
            if fmt_name == "github":
                rows = [[str(c).replace("|", "\\|") for c in r] for r in rows]
            lines.append(tabulate(rows, headers=list(headers), tablefmt=fmt_name, disable_numparse=True))
        else:
            lines.append("(none)")
        if more:
            lines.append(f"... and {more:,} more (--limit 0 shows all; --format json or csv holds all)")
    if v.get("attribution"):
        lines += ["", str(v["attribution"])]
    return "\n".join(lines) + "\n"


def as_table(v: dict[str, Any], limit: int = LIMIT) -> str:
    return _render(v, limit, "simple")


def as_markdown(v: dict[str, Any], limit: int = LIMIT) -> str:
    return _render(v, limit, "github")


def as_json(v: dict[str, Any], limit: int = LIMIT) -> str:
    # Compact (one line): the C encoder, several times faster than an indented dump of thousands of items.
    return json.dumps(v, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False) + "\n"


CSV_COLUMNS = ("section", "workload", "setting", "metric", "unit", "higher_is_better", "a_value", "b_value", "ratio",
               "interval_low", "interval_high", "n_a", "n_b", "mark", "outcome", "reason", "detail", "largest_fit",
               "predicted_value", "predicted_method", "evidence_a", "evidence_b")


def as_csv(v: dict[str, Any], limit: int = LIMIT) -> str:
    buf = io.StringIO()
    w = csv.DictWriter(buf, fieldnames=CSV_COLUMNS, lineterminator="\n")
    w.writeheader()
    for p in v["workloads"]:
        lo, hi = p["interval"] or (None, None)
        w.writerow({"section": "nearest" if p["nearest"] else "compared", "workload": p["workload"],
                    "setting": p["setting_text"], "metric": p["metric"], "unit": p["unit"],
                    "higher_is_better": p["higher_is_better"], "a_value": p["a_value"], "b_value": p["b_value"],
                    "ratio": p["ratio"], "interval_low": lo, "interval_high": hi, "n_a": p["n_a"], "n_b": p["n_b"],
                    "mark": p["mark"], "outcome": p["outcome"],
                    "detail": "; ".join(f"{k}: {x} vs {y}" for k, (x, y) in p["nearest"]["differs"].items())
                    if p["nearest"] else "",
                    "evidence_a": " | ".join(p["a_evidence"]), "evidence_b": " | ".join(p["b_evidence"])})
    for key, section in (("only_a", "only_a"), ("only_b", "only_b")):
        for i in v[key]:
            pred = i.get("prediction") or {}
            w.writerow({"section": section, "workload": i["workload"] or "", "setting": i["setting_text"],
                        "metric": i["metric"] or "", "unit": i["unit"] or "", "a_value" if key == "only_a" else "b_value":
                        i["value"], "reason": i["reason"], "detail": i["detail"], "largest_fit": i["largest_fit"],
                        "predicted_value": pred.get("value"), "predicted_method": pred.get("method"),
                        "evidence_a" if key == "only_a" else "evidence_b": " | ".join(i["evidence"]["can"]),
                        "evidence_b" if key == "only_a" else "evidence_a": " | ".join(i["evidence"]["cannot"])})
    for d in v["datasheet"]:
        w.writerow({"section": "datasheet", "metric": d["field"], "unit": d["unit"], "a_value": d["a"],
                    "b_value": d["b"], "ratio": d["ratio"], "detail": "differs" if d["differs"] else ""})
    return buf.getvalue()


FORMATS: dict[str, Callable[..., str]] = {"table": as_table, "markdown": as_markdown, "json": as_json, "csv": as_csv}
