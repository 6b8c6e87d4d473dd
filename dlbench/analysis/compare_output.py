"""A `Comparison` as text, Markdown, CSV, JSON and a bar chart (matplotlib, no display needed)."""

from __future__ import annotations

import csv
import io
import json
import re
from pathlib import Path
from typing import Any

from ..contract.families import MLPERF, namespace_of
from ..store import corroboration as judging
from ..store.labels import format_value
from ..store.readme_table import escape as md_escape
from ..store.metrics import CAPACITY_METRICS, unit_of
from .compare import ROW_FIELDS, Comparison, setting_of

TABLE_COLUMNS = ("device", "source", "n", "median", "min", "max", "IQR", "speedup", "note")
FRACTION_HEADERS = {"peak_fraction_catalogue": "of peak (catalogue)", "peak_fraction_measured": "of peak (measured)",
                    "bandwidth_fraction_catalogue": "of peak bandwidth"}
CONTEXT_HEADERS = {"largest_fitting_batch": "largest batch that fits", "scaling_efficiency": "scaling efficiency",
                   "samples_per_joule": "samples/J", "average_power_w": "average power (W)"}
PLOT_SUFFIXES = (".png", ".svg")
_SI = ((1e15, "P"), (1e12, "T"), (1e9, "G"), (1e6, "M"), (1e3, "k"))
SI_UNITS = ("FLOP/s", "B/s", "tokens/s")


def fmt(value: float | None, unit: str = "") -> str:
    """A figure for people (`store.labels.format_value`; FLOP/s and B/s with an SI prefix), or '-' when none."""
    if value is None:
        return "-"
    if unit == "bytes" and 0 < abs(value) < 2**20:    # memory per sample of a small model
        return f"{value / 2**10:.0f} KiB"
    if unit in SI_UNITS:
        for scale, prefix in _SI:
            if abs(value) >= scale:
                return f"{value / scale:.4g} {prefix}"
    return format_value(value, unit)


def percent(value: float | None) -> str:
    """A fraction of peak as a percentage, or '-' when there is none."""
    return "-" if value is None else f"{value * 100:.1f}%"


PER_DEVICE_HEADER = "per device (derived)"


def per_device_header(c: Comparison) -> str:
    """The per-device column's header: derived, and for MLPerf rows not an official MLPerf result."""
    mlperf = any(namespace_of(r["benchmark"]) == MLPERF for r in c.rows if r.get("benchmark"))
    return "per device (derived, not an official MLPerf result)" if mlperf else PER_DEVICE_HEADER


def headers(c: Comparison) -> tuple[str, ...]:
    """The table's columns: TABLE_COLUMNS, with the per-device figure after the IQR when a row is of several
    devices, and the comparison's fraction and context columns (largest batch, scaling, energy) before the note."""
    main = TABLE_COLUMNS[:-2] + ((per_device_header(c),) if c.per_device else ()) + TABLE_COLUMNS[-2:-1]
    return (main + tuple(FRACTION_HEADERS[f] for f in c.fraction_columns)
            + tuple(CONTEXT_HEADERS[m] for m in c.context_columns) + TABLE_COLUMNS[-1:])


def setting_title(c: Comparison, setting: tuple) -> str:
    """The setting a block of rows shares, in words; fields compared across are named as such."""
    values = dict(zip(c.setting_keys, setting))
    dash = lambda v: "-" if v is None else v  # noqa: E731
    title = f"{values['benchmark']} (benchmark version {dash(values['benchmark_version'])})"
    for key, word in (("framework", "framework"), ("precision", "precision"), ("batch_size", "batch"),
                      ("epochs", "epochs"), ("steps", "steps")):
        if key in values and (values[key] is not None or key not in ("epochs", "steps")):   # a count the result has
            title += f", {word} {dash(values[key])}"
    if (values.get("device_count") or 1) > 1:
        title += f", {values['device_count']} devices (figures are the system's totals)"
    for key, split in (("train_samples", "training"), ("test_samples", "test")):
        if values.get(key) is not None:
            title += f", on the first {values[key]:,} {split} samples"
    if values.get("compile") is not None:
        title += f", {values['compile']}"
    if values.get("channels_last") is not None:
        title += f", {'channels-last (NHWC)' if values['channels_last'] else 'NCHW'}"
    if c.across:
        title += f"; compared across {', '.join(k.replace('_', ' ') for k in c.across)}"
    return title


def row_label(c: Comparison, row: dict[str, Any]) -> str:
    """The device of a row, with the values of the fields compared across (e.g. its precision).

    The setting fields it leaves unknown and is compared across are marked `?` (e.g. `[precision ?, batch ?]`).
    """
    extra = [f"{'batch ' if k == 'batch_size' else ''}{row[k] if row[k] is not None else '-'}" for k in c.across]
    extra += [f"{_WORDS.get(k, k)} ?" for k in row.get("unknown") or () if k != "benchmark_version"]
    return row["device_label"] + (f" [{', '.join(map(str, extra))}]" if extra else "")


_WORDS = {"batch_size": "batch", "benchmark_version": "benchmark version", "channels_last": "layout"}


def metric_line(c: Comparison) -> str:
    unit = f" in {c.unit}" if c.unit else ""
    if c.source_unit and c.source_unit != c.unit:
        unit += f" ({c.source_unit}, as the source states it)"
    better = "higher" if c.higher_is_better else "lower"
    line = f"{c.metric}{unit}, {better} is better; median, min and max over the results of each device"
    if c.metric in CAPACITY_METRICS:
        line += " (measured by batch-size sweeps: compared across batch sizes)"
    if c.baseline:
        word = "faster" if c.unit in ("s", "ms", "samples/s", "tokens/s") else "better"
        line += f"; speedup = how many times {word} than {c.baseline} in the same setting"
    if c.per_device:
        line += (f"; {per_device_header(c)} = a system total divided by its device count, not a measured "
                 "figure")
    return line


def judgement_line(c: Comparison) -> str:
    """What the notes' outliers and corroborated results are, with the rule's constants."""
    on = " / ".join(c.outlier_metrics) or "the workload's headline metric"
    line = (f"notes: an outlier is more than {judging.K:g} x {judging.MAD_SCALE:g} MAD from the median of its "
            f"group (same workload, device and setting, on {on}; groups of fewer than {judging.MIN_GROUP} ok "
            f"results are not judged); a result is corroborated when an independent run (another commit or "
            f"contributor, or another source) agrees with it within {judging.MARGIN * 100:g} %")
    return line + ("; outliers are left out (--no-outliers)" if c.no_outliers else "")


def _cells(c: Comparison, row: dict[str, Any], escape) -> list[str]:
    unit = c.unit
    source = row["source"] if row["kind"] == "measured" else f"imported: {row['source']}"
    speedup = f"{row['speedup']:.2f}x" if row["speedup"] is not None else "-"
    per_device = [fmt(row["per_device"], unit)] if c.per_device else []
    return ([escape(row_label(c, row)), escape(source), str(row["n"]), fmt(row["median"], unit),
             fmt(row["min"], unit), fmt(row["max"], unit), fmt(row["iqr"], unit)] + per_device + [speedup]
            + [percent(row[f]) for f in c.fraction_columns]
            + [fmt(row[m], unit_of(m)) for m in c.context_columns] + [escape(row["note"] or "")])


def _blocks(c: Comparison) -> list[tuple[tuple, list[dict[str, Any]]]]:
    return [(s, [r for r in c.rows if setting_of(c, r) == s]) for s in c.settings()]


def _block_title(c: Comparison, setting: tuple, rows: list[dict[str, Any]]) -> str:
    title = setting_title(c, setting)
    if c.baseline and not any(r["is_baseline"] for r in rows):
        title += f" (no {c.baseline} result in this setting: no speedups)"
    unknown = sorted({k for r in rows for k in r["unknown"] or ()}, key=lambda k: c.setting_keys.index(k))
    if unknown:
        title += (f"; compared across unknown settings (? marks an imported row whose source does not state "
                  f"its {', '.join(_WORDS.get(k, k) for k in unknown)})")
    return title


def to_text(c: Comparison) -> str:
    from tabulate import tabulate
    out = [metric_line(c), judgement_line(c), ""]
    for setting, rows in _blocks(c):
        out.append(_block_title(c, setting, rows))
        table = [_cells(c, r, lambda s: s) for r in rows]
        out.append(tabulate(table, headers=headers(c), tablefmt="simple", disable_numparse=True,
                            colalign=("left", "left") + ("right",) * (6 + c.per_device + len(c.fraction_columns)
                                                                      + len(c.context_columns)) + ("left",)))
        out.append("")
    return "\n".join(out)


def to_markdown(c: Comparison) -> str:
    out = [md_escape(metric_line(c)), "", md_escape(judgement_line(c)), ""]
    for setting, rows in _blocks(c):
        out += [f"**{md_escape(_block_title(c, setting, rows))}**", ""]
        out.append("| " + " | ".join(headers(c)) + " |")
        out.append("| " + " | ".join("---" if h in ("device", "source", "note") else "---:"
                                     for h in headers(c)) + " |")
        out += ["| " + " | ".join(_cells(c, r, md_escape)) + " |" for r in rows]
        out.append("")
    return "\n".join(out)


def _records(c: Comparison) -> list[dict[str, Any]]:
    return [dict(r, metric=c.metric, unit=c.unit, higher_is_better=c.higher_is_better, baseline=c.baseline)
            for r in c.rows]


def to_csv(c: Comparison) -> str:
    buf = io.StringIO()
    fields = list(ROW_FIELDS) + ["metric", "unit", "higher_is_better", "baseline"]
    writer = csv.DictWriter(buf, fieldnames=fields, lineterminator="\n")
    writer.writeheader()
    for rec in _records(c):
        rec["setting"] = "; ".join(f"{k}={'' if v is None else v}" for k, v in rec["setting"].items())
        rec["unknown"] = ", ".join(rec["unknown"] or ())
        writer.writerow({k: ("" if v is None else v) for k, v in rec.items()})
    return buf.getvalue()


def to_json(c: Comparison) -> str:
    rule = dict(judging.RULE, judged_on=list(c.outlier_metrics), left_out=c.no_outliers)
    doc = {"metric": c.metric, "unit": c.unit, "source_unit": c.source_unit, "higher_is_better": c.higher_is_better,
           "baseline": c.baseline,
           "min_results": c.min_results, "outliers": rule, "rows": c.rows}
    return json.dumps(doc, indent=2, ensure_ascii=False, allow_nan=False) + "\n"


def _stable_ids(svg: str) -> str:
    """Matplotlib names some clip paths after object addresses: renumber every such id in order of use."""
    names: dict[str, str] = {}
    return re.sub(r"\bp[0-9a-f]{10}\b", lambda m: names.setdefault(m.group(0), f"clip{len(names)}"), svg)


FORMATS = {"table": to_text, "markdown": to_markdown, "csv": to_csv, "json": to_json}


def plot(c: Comparison, path: Path) -> None:
    """The comparison as horizontal bars (median) with min-max error bars, one panel per setting.

    Written as PNG or SVG by the file's suffix; the same comparison gives the same bytes.
    """
    import matplotlib
    matplotlib.use("Agg")
    from matplotlib.figure import Figure

    blocks = _blocks(c)
    heights = [max(1, len(rows)) * 0.45 + 1.1 for _, rows in blocks]
    fig = Figure(figsize=(10, sum(heights)), layout="constrained")
    axes = fig.subplots(len(blocks), 1, squeeze=False, gridspec_kw={"height_ratios": heights})[:, 0]
    unit = f" ({c.unit})" if c.unit else ""
    for ax, (setting, rows) in zip(axes, blocks):
        shown = [r for r in rows if r["median"] is not None]
        labels = [row_label(c, r) + ("" if r["kind"] == "measured" else " [imported]") for r in shown]
        medians = [r["median"] for r in shown]
        err = [[r["median"] - r["min"] for r in shown], [r["max"] - r["median"] for r in shown]]
        colors = ["tab:orange" if r["is_baseline"] else ("tab:blue" if r["kind"] == "measured" else "tab:gray")
                  for r in shown]
        ys = list(range(len(shown)))
        ax.barh(ys, medians, xerr=err, color=colors, capsize=3)
        ax.set_yticks(ys, labels)
        ax.invert_yaxis()
        for y, r in zip(ys, shown):
            text = f"n={r['n']}" + (f", {r['speedup']:.2f}x" if r["speedup"] is not None else "")
            if r["few_results"]:
                text += " (few results)"
            if r["outliers"]:
                text += f", {r['outliers']} outlier(s)" + (" left out" if c.no_outliers else "")
            ax.annotate(text, (r["max"], y), xytext=(4, 0), textcoords="offset points", va="center", fontsize=8)
        ax.set_title(_block_title(c, setting, rows), fontsize=9, loc="left")
        ax.set_xlabel(f"{c.metric}{unit}, {'higher' if c.higher_is_better else 'lower'} is better")
        ax.margins(x=0.25)
    save_figure(fig, path)


def save_figure(fig, path: Path) -> None:
    """A matplotlib figure as PNG or SVG by the file's suffix, with no date or random ids: the same bytes each time."""
    import matplotlib

    suffix = Path(path).suffix.lower()
    if suffix == ".svg":
        buf = io.StringIO()
        with matplotlib.rc_context({"svg.hashsalt": "dlbench", "svg.fonttype": "none"}):
            fig.savefig(buf, format="svg", metadata={"Date": None})
        Path(path).write_text(_stable_ids(buf.getvalue()), encoding="utf-8")
    else:
        fig.savefig(path, format="png", dpi=100, metadata={"Software": None})
