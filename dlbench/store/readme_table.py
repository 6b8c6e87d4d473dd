"""The results summary in README.md: Markdown tables regenerated between two marker comments.

`tools/merge.py` rewrites the block between START and END from the dataset, and `merge.py --check`
reports README.md as out of date when the block differs (for instance after a hand edit). The rest of
README.md is left as it is. When README.md is missing, or does not hold exactly one START followed by one
END marker, no README output is produced (a dataset repository need not have the table).

Two tables: training workloads (total, load and compute seconds, accuracy) and forward/backward timing
workloads (forward and backward ms per batch, peak device memory). A row pools only results that agree
in every column shown (workload and its benchmark version, device, framework and version, precision,
batch size, epochs, source); its cells are medians over its n results, failed results are counted apart.
Rows are sorted by workload, then device, framework and source, so the same dataset gives the same bytes.
"""

from __future__ import annotations

import statistics
from collections import Counter
from typing import Any, Iterable

from ..contract.families import OWN, family_of
from .labels import device_label, format_value, source_label
from .shards import device_of

START = "<!-- dlbench:results-table:start -->"
END = "<!-- dlbench:results-table:end -->"
README = "README.md"
MAX_ROWS = 300   # per table; the rest is counted, not shown (the site and benchmark.json have everything)

TRAINING = {"key": ("benchmark", "benchmark_version", "device_label", "framework", "framework_version", "precision",
                    "batch_size", "epochs", "source", "source_url"),
            "headers": ("workload", "device", "framework", "precision", "batch", "epochs", "n", "total s", "load s",
                        "compute s", "accuracy", "source"),
            "metrics": ("total_s", "load_s", "compute_s", "accuracy")}
FWDBWD = {"key": ("benchmark", "benchmark_version", "device_label", "framework", "framework_version", "cudnn",
                  "precision", "batch_size", "source", "source_url"),
          "headers": ("workload", "device", "framework", "cuDNN", "precision", "batch", "n", "forward ms",
                      "backward ms", "peak memory", "source"),
          "metrics": ("forward_ms", "backward_ms", "peak_device_used_bytes")}


def escape(text: Any) -> str:
    """A value safe inside a Markdown table cell: no column breaks, no HTML, no emphasis or links."""
    out = str(text).replace("\\", "\\\\").replace("|", "\\|").replace("\r", " ").replace("\n", " ")
    out = out.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    for ch in "*_`[]":
        out = out.replace(ch, "\\" + ch)
    return out


def _num(value: float | None, unit: str = "") -> str:
    return "" if value is None else format_value(value, unit)


def _sort_key(values: Iterable[Any]) -> tuple:
    return tuple((v is None, f"{v:015.4f}" if isinstance(v, (int, float)) else str(v)) for v in values)


def _group(rows: list[dict[str, Any]], key: tuple[str, ...]) -> list[tuple[tuple, list[dict[str, Any]]]]:
    groups: dict[tuple, list[dict[str, Any]]] = {}
    for row in rows:
        groups.setdefault(tuple(row.get(k) for k in key), []).append(row)
    return sorted(groups.items(), key=lambda kv: _sort_key(kv[0]))


def _median(rows: list[dict[str, Any]], metric: str) -> float | None:
    values = [r[metric] for r in rows if r.get("status") == "ok" and r.get(metric) is not None]
    return statistics.median(values) if values else None


def _count(rows: list[dict[str, Any]]) -> str:
    statuses = Counter(r.get("status", "error") for r in rows)
    ok = statuses.pop("ok", 0)
    return f"{ok}" + "".join(f" (+{n} {s})" for s, n in sorted(statuses.items()))


def _source_cell(title: str, url: str | None) -> str:
    if title == "measured" or not url:
        return escape(title)
    safe = "".join(f"%{ord(c):02X}" if c in "()<>|[] " else c for c in url)
    return f"[{escape(title)}]({safe})"


def _workload(bench: str, version: int | None) -> str:
    return escape(bench) + (f" (v{version})" if version is not None else "")


def _framework(name: str, version: str | None) -> str:
    return escape(name) + (f" {escape(version)}" if version else "")


def _table(spec: dict[str, Any], rows: list[dict[str, Any]]) -> list[str]:
    lines = ["| " + " | ".join(spec["headers"]) + " |",
             "| " + " | ".join("---:" if h in ("batch", "epochs", "n") or h.endswith((" s", " ms")) or h in
                               ("accuracy", "peak memory") else "---" for h in spec["headers"]) + " |"]
    groups = _group(rows, spec["key"])
    for key, members in groups[:MAX_ROWS]:
        k = dict(zip(spec["key"], key))
        cells = [_workload(k["benchmark"], k["benchmark_version"]), escape(k["device_label"]),
                 _framework(k["framework"], k["framework_version"])]
        if "cudnn" in k:
            cells.append(escape(k["cudnn"] or ""))
        cells += [escape(k["precision"]), str(k["batch_size"] or "")]
        if "epochs" in k:
            cells.append("" if k["epochs"] is None else str(k["epochs"]))
        cells.append(_count(members))
        cells += [_num(_median(members, m), "bytes" if m.endswith("_bytes") else "") for m in spec["metrics"]]
        cells.append(_source_cell(k["source"], k["source_url"]))
        lines.append("| " + " | ".join(cells) + " |")
    if len(groups) > MAX_ROWS:
        lines += ["", f"… and {len(groups) - MAX_ROWS} more rows: see `data/benchmark.json` or the results page."]
    return lines


def _rows(runs: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Each result with only what the tables show (lighter than analysis.frame.result_rows: merge runs this)."""
    rows = []
    for run in runs:
        prov = run.get("provenance", {})
        source = source_label(run)
        url = prov.get("source", {}).get("url")
        cudnn = run.get("system", {}).get("software", {}).get("cudnn")
        for result in run.get("results", ()):
            row = {k: result.get(k) for k in ("benchmark", "benchmark_version", "framework", "framework_version",
                                                 "precision", "batch_size", "epochs", "status")}
            row.update(result.get("metrics", {}))
            row.update(device_label=device_label(device_of(run, result), result.get("device_kind")),
                       source=source, source_url=url, cudnn=cudnn)
            rows.append(row)
    return rows


def render(runs: list[dict[str, Any]]) -> str:
    """The Markdown that goes between the markers (without them), ending in a newline.

    The tables hold this project's own workloads only (`families.OWN`); the imported families (timm, Lambda,
    MLPerf: tens of thousands of results) are counted, family by family, and left to the page and compare.
    """
    every = _rows(runs)
    families = [family_of(r["benchmark"] or "") for r in every]
    rows = [r for r, family in zip(every, families) if family is OWN]
    measured = sum(1 for r in runs if r.get("provenance", {}).get("kind") == "measured")
    out = [f"{len(every)} results from {len(runs)} runs ({measured} measured, {len(runs) - measured} imported "
           "from published sources), generated by `tools/merge.py`. The tables below hold this project's own "
           "workloads; each row is the median of its n results; failed results (out of memory, error, timeout) "
           "are counted in parentheses. Compare devices with `tools/compare.py`."]
    imported = Counter(family.id for family in families if family is not OWN)
    if imported:
        out += ["", "Results of the imported families, on the results page and in `tools/compare.py`: "
                + ", ".join(f"{escape(name)} {n:,}" for name, n in sorted(imported.items())) + "."]
    fwdbwd: list[dict[str, Any]] = []
    training: list[dict[str, Any]] = []
    for r in rows:
        (fwdbwd if r.get("forward_ms") is not None or r.get("backward_ms") is not None else training).append(r)
    if training:
        out += ["", "### Training and evaluation", ""] + _table(TRAINING, training)
    if fwdbwd:
        out += ["", "### Forward and backward pass per batch", ""] + _table(FWDBWD, fwdbwd)
    if not rows:
        out = ["No results yet: run a benchmark (see above) and open a pull request with its fragment."]
    return "\n".join(out) + "\n"


def replace_block(text: str, body: str) -> str | None:
    """README text with the block between the markers replaced by `body`; None without exactly one pair."""
    if text.count(START) != 1 or text.count(END) != 1:
        return None
    start = text.index(START) + len(START)
    end = text.index(END)
    if end < start:
        return None
    return text[:start] + "\n" + body + text[end:]


def generate(ds: Any) -> dict[str, bytes]:
    """The `outputs` generator: {README.md: new bytes}, or {} when there is no README block to fill."""
    path = ds.layout.root / README
    try:
        text = path.read_bytes().decode("utf-8")
    except (OSError, UnicodeDecodeError):
        return {}
    if replace_block(text, "") is None:
        return {}
    return {README: replace_block(text, render(ds.current_runs)).encode("utf-8")}
