"""The sharded JSON API under `data/api/v1/`: an index and per-workload shard files a web page can load.

`data/benchmark.json` holds every run in one file: fine for small datasets, too big for a browser at
100,000 runs (about 70 MB). This API splits the results by workload into numbered parts, none larger
than MAX_SHARD_BYTES, and an index that names them (layout documented in docs/api.md):

    data/api/v1/index.json                         counts, workloads and their shard files, devices, frameworks
    data/api/v1/workloads/<benchmark>/<n>.json     results of one workload, part n (1, 2, ...)
    data/api/v1/devices.json                       the device catalogue (catalogue/devices.toml) as JSON

A shard row is one result flattened to what a page shows: the device it ran on, its configuration, its scalar
metrics and spread, its status and its provenance (and, as the result records them, its global batch, its
energy sensor or why it has none, and its batch-size sweep, whole: at most 200 points), its fractions of peak
(joined here with the device catalogue and the dataset's `peak-matmul` results:
`dlbench.contract.device_catalogue`), and whether it is an outlier of its comparison group and how many
independent runs agree with it (`corroboration.py`; the index names the metric each workload is judged on, and
the rule's constants). A run with results of several workloads appears in the shards of each. Rows keep merge
order and shards are filled in that order, so appending runs that change no earlier row rewrites only a
workload's last part (and the index). Earlier rows do change, wherever they are, when the catalogue changed or
a new `peak-matmul` result moved a measured ceiling (their fractions), and when a new result joins their
comparison group (their `corroborated_by` when it agrees with them, their `outlier` when it moves the group's
median or spread): most merges of measured runs do that, and a row that grows moves the part boundaries after
it, so an earlier part stays byte-identical only when none of its rows' groups grew.
Output is deterministic: sorted keys, UTF-8, no NaN, one row per line, a trailing newline.
"""

from __future__ import annotations

import json
from collections import Counter, defaultdict
from typing import Any, Iterable

from ..contract.device_catalogue import PEAK_MATMUL, Catalogue, FractionJoin
from ..contract.families import FAMILIES, OWN, family_of
from ..contract.schema import SCHEMA_VERSION
from . import corroboration
from . import metrics as metric_rules
from .dataset import paused_gc

API_VERSION = 1
API_DIR = "data/api/v1"
INDEX_NAME = "index.json"
DEVICES_NAME = "devices.json"
MAX_SHARD_BYTES = 1024 * 1024          # no file of the API is larger than this (1 MiB)
MAX_COMMAND_CHARS = 2000               # a longer command line is cut in the row (benchmark.json keeps it whole)
PROVENANCE_KEYS = ("kind", "git_commit", "git_dirty", "runner_version", "contributor", "notes", "cloud")
RESULT_KEYS = ("benchmark_version", "scenario", "framework", "framework_version", "model", "parameters",
               "flops_per_sample", "dataset", "device_kind", "device_count", "precision", "batch_size", "strategy",
               "compile", "channels_last", "epochs", "train_samples", "test_samples", "repeats", "status", "message",
               "units", "global_batch_size", "energy", "batch_sweep")
STAT_KEYS = ("median", "min", "max", "iqr")

_encode = json.JSONEncoder(sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False).encode


class ShardError(Exception):
    """The API cannot be written within its limits; the message says why."""


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


def run_provenance(run: dict[str, Any]) -> dict[str, Any]:
    """What a row says about where its run came from (shared by the rows of one run)."""
    prov = run.get("provenance", {})
    provenance = {k: prov[k] for k in PROVENANCE_KEYS if k in prov}
    provenance.update(_command(prov.get("command")))
    if "source" in prov:
        provenance["source"] = prov["source"]
    return provenance


def flatten(run: dict[str, Any], index: int, provenance: dict[str, Any] | None = None,
            join: FractionJoin | None = None) -> dict[str, Any]:
    """Result `index` of `run` as one shard row (absent fields stay absent); with `join`, its fractions of peak."""
    result = run["results"][index]
    row: dict[str, Any] = {"run_id": run["run_id"], "result_index": index, "device": device_of(run, result)}
    row.update({k: result[k] for k in RESULT_KEYS if k in result})
    row["metrics"] = {k: v for k, v in result.get("metrics", {}).items() if not isinstance(v, list)}
    stats = result.get("stats")
    if stats:
        row["stats"] = {k: {s: v[s] for s in STAT_KEYS if s in v} | {"n": len(v.get("samples", ()))}
                        for k, v in stats.items()}
    row["provenance"] = run_provenance(run) if provenance is None else provenance
    if "started_at" in run:
        row["started_at"] = run["started_at"]
    if join is not None and _has_rates(row["metrics"]):
        row.update(join.fractions(row["device"], result))
    return row


def _has_rates(metrics: dict[str, Any]) -> bool:
    """Whether a row has a metric a fraction of peak is computed from (most rows have none: a cheap test)."""
    return "achieved_flops_per_s" in metrics or "bandwidth_bytes_per_s" in metrics


def workload_rows(runs: Iterable[dict[str, Any]], catalogue: Catalogue | None = None
                  ) -> tuple[dict[str, list[dict[str, Any]]], dict[str, str]]:
    """Every result as a row, grouped by workload (benchmark id), in merge order, with its fractions of
    peak and its outlier and corroboration keys; and {workload: the metric it is judged on}.

    Both need the whole dataset (the measured ceilings, the comparison groups): they are joined once every
    row is built, in one pass over the rows.
    """
    rows: dict[str, list[dict[str, Any]]] = defaultdict(list)
    rated: list[tuple[dict[str, Any], dict[str, Any]]] = []
    every: list[dict[str, Any]] = []
    judging = corroboration.Judge()
    for run in runs:
        results = run.get("results", [])
        if not results:
            continue
        provenance = run_provenance(run)
        for i, result in enumerate(results):
            row = flatten(run, i, provenance)
            rows[result["benchmark"]].append(row)
            every.append(row)
            judging.add(run, result, row["device"])
            if _has_rates(row["metrics"]):
                rated.append((row, result))
    join = FractionJoin(catalogue, ((row["device"], result) for row, result in rated
                                    if result.get("benchmark") == PEAK_MATMUL))
    for row, result in rated:
        row.update(join.fractions(row["device"], result))
    for row, verdict in zip(every, judging.judgements()):
        if verdict is not None:
            row.update(verdict.fields())
    return dict(rows), judging.headline_metrics()


def shard_path(benchmark: str, part: int) -> str:
    """A shard's path relative to the API folder (the form the index lists)."""
    return f"workloads/{benchmark}/{part}.json"


def _head(benchmark: str, part: int, count: int) -> str:
    return _encode({"api_version": API_VERSION, "benchmark": benchmark, "part": part, "result_count": count})[:-1]


def _render_shard(benchmark: str, part: int, lines: list[str]) -> bytes:
    body = ",\n".join(lines)
    return f'{_head(benchmark, part, len(lines))},"results":[\n{body}\n]}}\n'.encode("utf-8")


def split(benchmark: str, rows: list[dict[str, Any]], max_bytes: int = MAX_SHARD_BYTES) -> list[bytes]:
    """The rows of one workload as shard files of at most `max_bytes` each, filled greedily in order.

    A part is closed when the next row would not fit, so the split of earlier rows never depends on
    later ones: appending rows changes only the last part (and adds new ones).
    """
    # Bytes of a part but for its rows and the digits of `part` and `result_count`:
    # head, `,"results":[\n`, `\n]}\n`.
    fixed = len(_head(benchmark, 0, 0).encode()) - 2 + len(',"results":[\n\n]}\n')
    parts: list[bytes] = []
    current: list[str] = []
    size = 0        # bytes of the rows in `current`, with their ",\n" separators
    for row in rows:
        line = _encode(row)
        n = len(line) if line.isascii() else len(line.encode("utf-8"))
        if current:
            grown = size + 2 + n
            if fixed + len(str(len(parts) + 1)) + len(str(len(current) + 1)) + grown <= max_bytes:
                current.append(line)
                size = grown
                continue
            parts.append(_render_shard(benchmark, len(parts) + 1, current))
        need = fixed + len(str(len(parts) + 1)) + 1 + n     # a new part with this row alone
        if need > max_bytes:
            raise ShardError(f"a result of {benchmark} (run {row['run_id']}) needs {need} bytes, "
                             f"more than the {max_bytes}-byte shard limit")
        current, size = [line], n
    if current:
        parts.append(_render_shard(benchmark, len(parts) + 1, current))
    return parts


def _counted(counter: Counter, runs_by: dict[str, set]) -> list[dict[str, Any]]:
    return [{"name": k, "result_count": counter[k], "run_count": len(runs_by[k])} for k in sorted(counter)]


def _workload_entry(name: str, rows: list[dict[str, Any]], files: list[str],
                    judged_on: str | None) -> dict[str, Any]:
    entry = {
        "name": name,
        "run_count": len({r["run_id"] for r in rows}),
        "result_count": len(rows),
        "statuses": dict(sorted(Counter(r["status"] for r in rows).items())),
        "device_count": len({r["device"] for r in rows}),
        "frameworks": sorted({r["framework"] for r in rows}),
        "files": files,
    }
    if judged_on is not None:
        entry["outlier_metric"] = judged_on
    entry["family"] = family_of(name).id     # the index's `families` say how to read it
    return entry


def _families(workloads: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The families of the index's workloads, once each, sorted by id (`dlbench.contract.families`)."""
    by_id = {f.id: f for f in FAMILIES + (OWN,)}
    return [by_id[k].to_json() for k in sorted({w["family"] for w in workloads})]


def build(runs: list[dict[str, Any]], source_sha256: str = "",
          max_bytes: int = MAX_SHARD_BYTES, catalogue: Catalogue | None = None,
          parts: list[dict[str, Any]] | None = None, replaced_count: int = 0) -> dict[str, bytes]:
    """Every file of the API: {path relative to the repository root: bytes}.

    `runs` are the runs the rows show (the merge leaves replaced runs out: `parts.current`). With a (valid)
    `catalogue`, rows get their catalogue fractions of peak, the index names the catalogue and `devices.json`
    holds it; without, rows get only their fractions of the measured ceilings. `parts` (the canonical files,
    `{path, json, sha256, run_count}`) and `replaced_count` are stated in the index as given.
    """
    with paused_gc():  # millions of short-lived small dicts: collection passes would cost a third of the time
        return _build(runs, source_sha256, max_bytes, catalogue, parts or [], replaced_count)


def _dumps_indented(doc: dict[str, Any]) -> bytes:
    return (json.dumps(doc, sort_keys=True, indent=1, ensure_ascii=False, allow_nan=False) + "\n").encode("utf-8")


def _dumps_index(doc: dict[str, Any]) -> bytes:
    """The index: one top-level key per line, and each item of a list of objects (workloads, devices, parts, ...)
    on a line of its own, compact: a few thousand workloads stay well under the size limit (about 230 bytes
    each instead of 330 indented), and a merge's diff shows one line per changed workload."""
    lines = []
    for key in sorted(doc):
        value = doc[key]
        if isinstance(value, list) and value and all(isinstance(v, dict) for v in value):
            items = ",\n  ".join(_encode(v) for v in value)
            lines.append(f" {_encode(key)}: [\n  {items}\n ]")
        else:
            lines.append(f" {_encode(key)}: {_encode(value)}")
    return ("{\n" + ",\n".join(lines) + "\n}\n").encode("utf-8")


def _build(runs: list[dict[str, Any]], source_sha256: str, max_bytes: int,
           catalogue: Catalogue | None, parts: list[dict[str, Any]], replaced_count: int) -> dict[str, bytes]:
    grouped, judged_on = workload_rows(runs, catalogue)
    metric_names: set[str] = set()
    files: dict[str, bytes] = {}
    workloads = []
    devices: Counter = Counter()
    frameworks: Counter = Counter()
    device_runs: dict[str, set] = defaultdict(set)
    framework_runs: dict[str, set] = defaultdict(set)
    device_kinds: dict[str, set] = defaultdict(set)
    for benchmark in sorted(grouped):
        rows = grouped[benchmark]
        shard_files = split(benchmark, rows, max_bytes)
        names = [shard_path(benchmark, i + 1) for i in range(len(shard_files))]
        for name, data in zip(names, shard_files):
            files[f"{API_DIR}/{name}"] = data
        workloads.append(_workload_entry(benchmark, rows, names, judged_on.get(benchmark)))
        for r in rows:
            metric_names.update(r["metrics"])
            device, framework, run_id = r["device"], r["framework"], r["run_id"]
            devices[device] += 1
            device_runs[device].add(run_id)
            device_kinds[device].add(r.get("device_kind", "other"))
            frameworks[framework] += 1
            framework_runs[framework].add(run_id)
    device_list = _counted(devices, device_runs)
    for entry in device_list:
        entry["kinds"] = sorted(device_kinds[entry["name"]])
        known = catalogue.entry_for(entry["name"]) if catalogue is not None else None
        if known is not None and known["kind"] in entry["kinds"]:
            entry["catalogue_name"] = known["name"]
    index = {
        "api_version": API_VERSION,
        "schema_version": SCHEMA_VERSION,
        "source_sha256": source_sha256,
        "max_file_bytes": max_bytes,
        "run_count": len(runs),
        "result_count": sum(len(r.get("results", [])) for r in runs),
        "replaced_count": replaced_count,
        "parts": parts,
        "families": _families(workloads),
        "workloads": workloads,
        "devices": device_list,
        "frameworks": _counted(frameworks, framework_runs),
        "outlier_rule": corroboration.RULE,
        "metrics": metric_rules.reading(sorted(metric_names | set(judged_on.values()))),
    }
    if catalogue is not None:
        index["catalogue"] = {"file": DEVICES_NAME, "sha256": catalogue.sha256, "device_count": len(catalogue.devices)}
        files[f"{API_DIR}/{DEVICES_NAME}"] = _dumps_indented({"api_version": API_VERSION, **catalogue.to_json()})
    files[f"{API_DIR}/{INDEX_NAME}"] = _dumps_index(index)
    for name in (INDEX_NAME, DEVICES_NAME):
        data = files.get(f"{API_DIR}/{name}")
        if data is not None and len(data) > max_bytes:
            raise ShardError(f"{API_DIR}/{name} would be {len(data)} bytes, more than the {max_bytes}-byte limit")
    return dict(sorted(files.items()))
