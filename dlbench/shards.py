"""The sharded JSON API under `data/api/v1/`: an index and per-workload shard files a web page can load.

`data/benchmark.json` holds every run in one file: fine for small datasets, too big for a browser at
100,000 runs (about 70 MB). This API splits the results by workload into numbered parts, none larger
than MAX_SHARD_BYTES, and an index that names them (layout documented in docs/api.md):

    data/api/v1/index.json                         counts, workloads and their shard files, devices, frameworks
    data/api/v1/workloads/<benchmark>/<n>.json     results of one workload, part n (1, 2, ...)

A shard row is one result flattened to what a page shows: the device it ran on, its configuration,
its scalar metrics and spread, its status and its provenance. A run with results of several workloads
appears in the shards of each. Rows keep merge order and shards are filled in that order, so appending
runs rewrites only a workload's last part (and the index); earlier parts stay byte-identical.
Output is deterministic: sorted keys, UTF-8, no NaN, one row per line, a trailing newline.
"""

from __future__ import annotations

import json
from collections import Counter, defaultdict
from typing import Any, Iterable

from .schema import SCHEMA_VERSION

API_VERSION = 1
API_DIR = "data/api/v1"
INDEX_NAME = "index.json"
MAX_SHARD_BYTES = 1024 * 1024          # no file of the API is larger than this (1 MiB)
MAX_COMMAND_CHARS = 2000               # a longer command line is cut in the row (benchmark.json keeps it whole)
PROVENANCE_KEYS = ("kind", "git_commit", "git_dirty", "runner_version", "contributor", "notes", "cloud")
RESULT_KEYS = ("benchmark_version", "framework", "framework_version", "model", "device_kind", "device_count",
               "precision", "batch_size", "strategy", "compile", "epochs", "repeats", "status", "message")


class ShardError(Exception):
    """The API cannot be written within its limits; the message says why."""


def _dumps(obj: Any) -> str:
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False)


def device_of(run: dict[str, Any], result: dict[str, Any]) -> str:
    """The normalized name of the device a result ran on.

    The result's `device_name` (normalized by the runner); else the normalized name of the run's only
    accelerator of the result's kind; else the CPU model for a CPU result; else `unknown <kind>`.
    """
    name = result.get("device_name")
    if name:
        return name
    kind = result.get("device_kind", "other")
    system = run.get("system", {})
    if kind == "cpu" and system.get("cpu", {}).get("model"):
        return system["cpu"]["model"]
    matches = [a for a in system.get("accelerators", []) if a.get("kind") == kind]
    if len(matches) == 1:
        return matches[0]["normalized_name"]
    return f"unknown {kind}"


def _command(cmd: list[str] | None) -> dict[str, Any]:
    if not cmd:
        return {}
    kept, used = [], 0
    for arg in cmd:
        if used + len(arg) > MAX_COMMAND_CHARS:
            return {"command": kept, "command_truncated": True}
        kept.append(arg)
        used += len(arg)
    return {"command": kept}


def flatten(run: dict[str, Any], index: int) -> dict[str, Any]:
    """Result `index` of `run` as one shard row (absent fields stay absent)."""
    result = run["results"][index]
    prov = run.get("provenance", {})
    row: dict[str, Any] = {"run_id": run["run_id"], "result_index": index, "device": device_of(run, result)}
    row.update({k: result[k] for k in RESULT_KEYS if k in result})
    row["metrics"] = {k: v for k, v in result.get("metrics", {}).items() if not isinstance(v, list)}
    stats = {k: {s: v[s] for s in ("median", "min", "max", "iqr") if s in v} | {"n": len(v.get("samples", []))}
             for k, v in result.get("stats", {}).items()}
    if stats:
        row["stats"] = stats
    provenance = {k: prov[k] for k in PROVENANCE_KEYS if k in prov}
    provenance.update(_command(prov.get("command")))
    if "source" in prov:
        provenance["source"] = prov["source"]
    row["provenance"] = provenance
    if "started_at" in run:
        row["started_at"] = run["started_at"]
    return row


def workload_rows(runs: Iterable[dict[str, Any]]) -> dict[str, list[dict[str, Any]]]:
    """Every result as a row, grouped by workload (benchmark id), in merge order."""
    rows: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for run in runs:
        for i, result in enumerate(run.get("results", [])):
            rows[result["benchmark"]].append(flatten(run, i))
    return dict(rows)


def shard_path(benchmark: str, part: int) -> str:
    """A shard's path relative to the API folder (the form the index lists)."""
    return f"workloads/{benchmark}/{part}.json"


def _render_shard(benchmark: str, part: int, lines: list[str]) -> bytes:
    head = _dumps({"api_version": API_VERSION, "benchmark": benchmark, "part": part,
                   "result_count": len(lines)})[:-1]
    body = ",\n".join(lines)
    return f'{head},"results":[\n{body}\n]}}\n'.encode("utf-8")


def _shard_size(benchmark: str, part: int, count: int, line_bytes: int) -> int:
    """Bytes of `_render_shard` for `count` lines totalling `line_bytes`, without rendering it."""
    empty = len(_render_shard(benchmark, part, []))  # head with result_count 0 and an empty line
    digits = len(str(count)) - 1
    return empty + digits + line_bytes + 2 * max(count - 1, 0)


def split(benchmark: str, rows: list[dict[str, Any]], max_bytes: int = MAX_SHARD_BYTES) -> list[bytes]:
    """The rows of one workload as shard files of at most `max_bytes` each, filled greedily in order."""
    parts: list[bytes] = []
    current: list[str] = []
    size = 0
    for row in rows:
        line = _dumps(row)
        n = len(line.encode("utf-8"))
        if current and _shard_size(benchmark, len(parts) + 1, len(current) + 1, size + n) > max_bytes:
            parts.append(_render_shard(benchmark, len(parts) + 1, current))
            current, size = [], 0
        need = _shard_size(benchmark, len(parts) + 1, len(current) + 1, size + n)
        if need > max_bytes:
            raise ShardError(f"a result of {benchmark} (run {row['run_id']}) needs {need} bytes, "
                             f"more than the {max_bytes}-byte shard limit")
        current.append(line)
        size += n
    if current:
        parts.append(_render_shard(benchmark, len(parts) + 1, current))
    return parts


def _counted(counter: Counter, runs_by: dict[str, set]) -> list[dict[str, Any]]:
    return [{"name": k, "result_count": counter[k], "run_count": len(runs_by[k])} for k in sorted(counter)]


def build(runs: list[dict[str, Any]], source_sha256: str = "",
          max_bytes: int = MAX_SHARD_BYTES) -> dict[str, bytes]:
    """Every file of the API: {path relative to the repository root: bytes}."""
    grouped = workload_rows(runs)
    files: dict[str, bytes] = {}
    workloads = []
    devices: Counter = Counter()
    frameworks: Counter = Counter()
    device_runs: dict[str, set] = defaultdict(set)
    framework_runs: dict[str, set] = defaultdict(set)
    device_kinds: dict[str, set] = defaultdict(set)
    for benchmark in sorted(grouped):
        rows = grouped[benchmark]
        parts = split(benchmark, rows, max_bytes)
        names = [shard_path(benchmark, i + 1) for i in range(len(parts))]
        for name, data in zip(names, parts):
            files[f"{API_DIR}/{name}"] = data
        statuses = Counter(r["status"] for r in rows)
        workloads.append({
            "benchmark": benchmark,
            "run_count": len({r["run_id"] for r in rows}),
            "result_count": len(rows),
            "statuses": dict(sorted(statuses.items())),
            "devices": sorted({r["device"] for r in rows}),
            "frameworks": sorted({r["framework"] for r in rows}),
            "shards": names,
        })
        for r in rows:
            devices[r["device"]] += 1
            device_runs[r["device"]].add(r["run_id"])
            device_kinds[r["device"]].add(r.get("device_kind", "other"))
            frameworks[r["framework"]] += 1
            framework_runs[r["framework"]].add(r["run_id"])
    device_list = _counted(devices, device_runs)
    for entry in device_list:
        entry["kinds"] = sorted(device_kinds[entry["name"]])
    index = {
        "api_version": API_VERSION,
        "schema_version": SCHEMA_VERSION,
        "source_sha256": source_sha256,
        "max_file_bytes": max_bytes,
        "run_count": len(runs),
        "result_count": sum(len(r.get("results", [])) for r in runs),
        "workloads": workloads,
        "devices": device_list,
        "frameworks": _counted(frameworks, framework_runs),
    }
    text = json.dumps(index, sort_keys=True, indent=1, ensure_ascii=False, allow_nan=False) + "\n"
    data = text.encode("utf-8")
    if len(data) > max_bytes:
        raise ShardError(f"{API_DIR}/{INDEX_NAME} would be {len(data)} bytes, more than the {max_bytes}-byte limit")
    files[f"{API_DIR}/{INDEX_NAME}"] = data
    return dict(sorted(files.items()))
