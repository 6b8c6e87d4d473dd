"""The batch-size sweeps of the selected results (`tools/compare.py --curve`): every batch each sweep tried.

A result of `runners/run.py --batch-sweep` records its whole curve (`results[].batch_sweep`, schema
`batch_sweep`): each batch tried with its status (ok, oom, error), throughput, step time and peak device and
host memory, the largest batch that ran, the smallest that ran out of memory, and the least-squares line
memory = fixed + per sample x batch fitted through the points that ran. One curve per result, grouped by the
setting a sweep shares with others (the comparison's setting but for the batch size, which the sweep varies),
then by device and source; points in batch order, each with the position it was tried in (`tried`: the
doubling, then the bisection). As text, Markdown, CSV (one line per point), JSON, and a chart (throughput and
peak memory against the batch size, one line per result).
"""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path
from typing import Any

from ..store.labels import format_value
from .compare import CompareError

# The setting a sweep shares with the others it is drawn beside: the comparison's, without the batch size.
SWEEP_SETTING = ("benchmark", "benchmark_version", "framework", "precision", "device_count", "compile",
                 "channels_last", "train_samples", "test_samples")
POINT_FIELDS = ("batch_size", "tried", "status", "throughput_samples_per_s", "step_ms", "peak_device_bytes",
                "peak_host_rss_bytes", "message")
CURVE_FIELDS = ("device_label", "source", "run_id", "result_index", "status", "start", "resolution", "max_batch",
                "memory_limit_bytes", "isolation", "largest_fit", "smallest_oom")


def _plain(value: Any) -> Any:
    import pandas as pd

    if value is None or (not isinstance(value, (str, bool)) and pd.isna(value)):
        return None
    return value.item() if hasattr(value, "item") else value


def curves(df, sweeps: dict[tuple[str, int], dict[str, Any]]) -> list[dict[str, Any]]:
    """One curve per selected result that is a sweep: its setting, device, source, run and the sweep, points in
    batch order; sorted by setting, device, source and run. CompareError when none of them is a sweep."""
    out = []
    for _, row in df.iterrows():
        key = (row["run_id"], int(row["result_index"]))
        sweep = sweeps.get(key)
        if sweep is None:
            continue
        points = [dict(p, tried=i + 1) for i, p in enumerate(sweep.get("points", ()))]
        points.sort(key=lambda p: (p["batch_size"], p["tried"]))
        setting = {k: _plain(row[k]) for k in SWEEP_SETTING}
        if row["kind"] == "measured" and setting["channels_last"] is None:
            setting["channels_last"] = False       # as the comparison reads it: the runner records only True
        curve = {"setting": setting, "device_label": row["device_label"],
                 "device": row["device"], "device_kind": row["device_kind"], "source": row["source"],
                 "kind": row["kind"], "run_id": key[0], "result_index": key[1], "status": row["status"],
                 **{k: sweep.get(k) for k in CURVE_FIELDS[5:]}, "memory_fit": sweep.get("memory_fit"),
                 "points": [{k: p.get(k) for k in POINT_FIELDS} for p in points]}
        out.append(curve)
    if not out:
        raise CompareError("none of the selected results is a batch-size sweep (runners/run.py --batch-sweep): "
                           "choose a workload that has some, or leave out --curve")
    out.sort(key=lambda c: (_setting_text(c["setting"]), c["device_label"], c["source"], c["run_id"], c["result_index"]))
    return out


def _setting_text(setting: dict[str, Any]) -> str:
    text = f"{setting['benchmark']} (benchmark version {'-' if setting['benchmark_version'] is None else setting['benchmark_version']})"
    for key, word in (("framework", "framework"), ("precision", "precision")):
        if setting.get(key) is not None:
            text += f", {word} {setting[key]}"
    if (setting.get("device_count") or 1) > 1:
        text += f", {setting['device_count']} devices (batch per device)"
    if setting.get("compile") is not None:
        text += f", {setting['compile']}"
    if setting.get("channels_last") is not None:
        text += f", {'channels-last (NHWC)' if setting['channels_last'] else 'NCHW'}"
    for key, split in (("train_samples", "training"), ("test_samples", "test")):
        if setting.get(key) is not None:
            text += f", on the first {setting[key]:,} {split} samples"
    return text


def _bytes(value: float | None) -> str:
    if value is not None and 0 < abs(value) < 2**20:     # memory per sample of a small model
        return f"{value / 2**10:.0f} KiB"
    return "-" if value is None else format_value(value, "bytes")


def curve_title(c: dict[str, Any]) -> str:
    """A curve's device, source and run, then what it found: the largest batch that fits and the memory line."""
    source = c["source"] if c["kind"] == "measured" else f"imported: {c['source']}"
    found = (f"largest batch that fits {c['largest_fit']}" if c["largest_fit"] is not None
             else "no batch fitted")
    if c["smallest_oom"] is not None:
        found += f", out of memory at {c['smallest_oom']}"
    elif c["max_batch"] is not None:
        found += f", stopped at --max-batch {c['max_batch']}"
    found += f" (resolution {c['resolution']}"
    if c["memory_limit_bytes"] is not None:
        found += f", memory limit {_bytes(c['memory_limit_bytes'])}"
    found += ")"
    fit = c["memory_fit"]
    if fit:
        found += (f"; {fit['memory']} memory = {_bytes(fit['fixed_bytes'])} + {_bytes(fit['per_sample_bytes'])} "
                  f"per sample (least squares over {fit['points']} points, residual {_bytes(fit['residual_bytes'])})")
    return f"{c['device_label']}, {source}, run {c['run_id']}: {found}"


HEADERS = ("batch", "tried", "status", "samples/s", "step ms", "peak device", "peak host", "message")


def _cells(p: dict[str, Any]) -> list[str]:
    def num(v: float | None) -> str:
        return "-" if v is None else format_value(v)
    return [str(p["batch_size"]), str(p["tried"]), p["status"], num(p["throughput_samples_per_s"]), num(p["step_ms"]),
            _bytes(p["peak_device_bytes"]), _bytes(p["peak_host_rss_bytes"]), p["message"] or ""]


def _blocks(cs: list[dict[str, Any]]) -> list[tuple[str, list[dict[str, Any]]]]:
    titles = list(dict.fromkeys(_setting_text(c["setting"]) for c in cs))
    return [(t, [c for c in cs if _setting_text(c["setting"]) == t]) for t in titles]


LEAD = ("batch-size sweeps: every batch tried (tried = the order: doubling, then bisection between the last that "
        "fitted and the first that did not); peak device memory on accelerators, peak host memory of the process")


def to_text(cs: list[dict[str, Any]]) -> str:
    from tabulate import tabulate

    out = [LEAD, ""]
    for title, group in _blocks(cs):
        out.append(title)
        for c in group:
            out.append("  " + curve_title(c))
            table = tabulate([_cells(p) for p in c["points"]], headers=HEADERS, tablefmt="simple",
                             disable_numparse=True, colalign=("right",) * 2 + ("left",) + ("right",) * 4 + ("left",))
            out += ["    " + line for line in table.splitlines()]
        out.append("")
    return "\n".join(out)


def to_markdown(cs: list[dict[str, Any]]) -> str:
    from ..store.readme_table import escape

    out = [escape(LEAD), ""]
    for title, group in _blocks(cs):
        out += [f"**{escape(title)}**", ""]
        for c in group:
            out += [escape(curve_title(c)), "", "| " + " | ".join(HEADERS) + " |",
                    "| " + " | ".join("---" if h in ("status", "message") else "---:" for h in HEADERS) + " |"]
            out += ["| " + " | ".join(escape(x) for x in _cells(p)) + " |" for p in c["points"]]
            out.append("")
    return "\n".join(out)


def to_csv(cs: list[dict[str, Any]]) -> str:
    """One line per point, with its curve's setting, device, run and findings."""
    buf = io.StringIO()
    heads = ["result_status" if k == "status" else k for k in CURVE_FIELDS]   # `status` is the point's
    fields = list(SWEEP_SETTING) + heads + ["per_sample_bytes", "fixed_bytes", "residual_bytes"] + list(POINT_FIELDS)
    writer = csv.DictWriter(buf, fieldnames=fields, lineterminator="\n")
    writer.writeheader()
    for c in cs:
        fit = c["memory_fit"] or {}
        head = {**c["setting"], **{h: c[k] for h, k in zip(heads, CURVE_FIELDS)},
                **{k: fit.get(k) for k in ("per_sample_bytes", "fixed_bytes", "residual_bytes")}}
        for p in c["points"]:
            writer.writerow({k: ("" if v is None else v) for k, v in {**head, **p}.items()})
    return buf.getvalue()


def to_json(cs: list[dict[str, Any]]) -> str:
    return json.dumps({"curves": cs}, indent=2, ensure_ascii=False, allow_nan=False) + "\n"


FORMATS = {"table": to_text, "markdown": to_markdown, "csv": to_csv, "json": to_json}


def plot(cs: list[dict[str, Any]], path: Path) -> None:
    """Throughput and peak memory against the batch size (log2 axis), one line per curve, one row of panels per
    setting; a cross marks each batch that failed, a dotted line the smallest that ran out of memory. PNG or SVG
    by the suffix; the same curves give the same bytes."""
    import matplotlib
    matplotlib.use("Agg")
    from matplotlib.figure import Figure

    from .compare_output import save_figure

    blocks = _blocks(cs)
    fig = Figure(figsize=(12, 4.2 * len(blocks)), layout="constrained")
    axes = fig.subplots(len(blocks), 2, squeeze=False)
    for (title, group), (speed, memory) in zip(blocks, axes):
        for c in group:
            ok = [p for p in c["points"] if p["status"] == "ok"]
            label = c["device_label"] + ("" if len(group) == len({g["device_label"] for g in group})
                                         else f" [{c['run_id'][:8]}]")
            xs = [p["batch_size"] for p in ok if p["throughput_samples_per_s"] is not None]
            line, = speed.plot(xs, [p["throughput_samples_per_s"] for p in ok if p["throughput_samples_per_s"] is not None],
                               marker="o", label=label)
            mem = [(p["batch_size"], p["peak_device_bytes"] if p["peak_device_bytes"] is not None
                    else p["peak_host_rss_bytes"]) for p in ok]
            mem = [(x, y / 2**30) for x, y in mem if y is not None]
            memory.plot([x for x, _ in mem], [y for _, y in mem], marker="o", color=line.get_color(), label=label)
            failed = [p["batch_size"] for p in c["points"] if p["status"] != "ok"]
            for ax in (speed, memory):
                if failed:
                    ax.plot(failed, [0] * len(failed), linestyle="none", marker="x", color=line.get_color(),
                            clip_on=False)
                if c["smallest_oom"] is not None:
                    ax.axvline(c["smallest_oom"], color=line.get_color(), linestyle=":", linewidth=1)
        for ax, what in ((speed, "throughput (samples/s), higher is better"),
                         (memory, "peak memory (GiB; device, else host)")):
            ax.set_xscale("log", base=2)
            ax.set_xlabel("batch size (per device)")
            ax.set_ylabel(what)
            ax.set_ylim(bottom=0)
            ax.grid(True, alpha=0.3)
        speed.set_title(title, fontsize=9, loc="left")
        speed.legend(fontsize=8)
    save_figure(fig, path)
