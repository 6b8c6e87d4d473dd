"""MLPerf Inference results (mlcommons/inference_results_v4.1 `summary_results.json`, inference_results_v6.1
`summary.csv`) as runs, in the MLPerf namespace of their own.

MLCommons' results messaging guidelines apply: MLPerf results are never compared with non-MLPerf results (the
workloads `mlperf-inference-v4-1-...` / `mlperf-inference-v6-1-...` are families of the `mlperf` namespace,
`dlbench/contract/families.py`), every run cites its result (`provenance.source.row`, and the cells as written
in `provenance.original`), and a figure derived from a system total (per chip, per watt, per dollar) is not
an official MLPerf result (said in every run's attribution and notes).

One run per result row, one result per run:
- workload `mlperf-inference-v4-1-<division>-<model>-<scenario>` (v6.1 likewise): lower-case, every run of
  other characters than [a-z0-9] turned into `-` (`llama3_1-8b` and `llama3.1-8b` are one model);
  scenario `infer`; `model` the Model cell as written;
- the row key: v4.1's public result ID names a *system* submission and repeats for each of its models and
  scenarios, so the key is `<ID>/<Model>/<Scenario>` (`v4.1-0001/llama2-70b-99/Offline`; the ID as written
  leads it and stays in `original`). v6.1 publishes no result ID (PrivateID is empty): the key is
  `v6.1/<Division>/<Organization>/<Platform>/<Model>/<Scenario>`. The division is always in it, not only
  where two rows would otherwise share a key (AMD's closed and open rows of one platform, model and
  scenario do), so that a row's key never changes when another row is added. A key that repeats is an
  InputError naming both lines;
- values are system totals: `device_count` is the system's accelerator count. v4.1's `a#` counts the
  accelerators of one node (the 2-node 16 x H100 system `DGX-H100_H100-SXM-80GBx16_TRT` has a# = 8, Nodes =
  2), so device_count = a# x Nodes; v6.1 states `total_accelerators`. An empty accelerator (`""`, `N/A`)
  is a CPU-only system: the host processor (v4.1's `2x` prefix dropped) is the device, named by
  `cpu_name` (the capitals some submitters write folded by CPU_SPELLINGS), and device_count = processors per
  node (`host_processors_per_node`, v4.1 else `p#`) x nodes;
- accelerator strings through an explicit table (ACCELERATORS) to the name the device's driver reports,
  normalized; an unknown string is an InputError naming the line and field. A system of two kinds of
  accelerator (MIXED) has no one device: its rows are skipped and counted, as are results of 0 or -1;
- metrics by unit: Tokens/s -> throughput_tokens_per_s, Samples/s (and v6.1's Tasks/s) ->
  throughput_samples_per_s, Queries/s -> throughput_queries_per_s, Latency (ms) -> latency_ms, Latency (s)
  -> latency_ms x 1000 (its unit then says so); `units` keeps the published unit;
- precision from weight_data_types through an explicit table (PRECISIONS): one type, or one for the weights
  beside a KV-cache type, gives it; a list of several gives `unknown`; an unknown spelling is an InputError;
- framework: the first framework the software cell names (FRAMEWORKS; CUDA, ROCm, Dynamo and the like are
  passed over unless nothing else is named), else its first words; the cell stays in `original`.
- `original` keeps every non-empty cell as written (but v4.1's presentation-only `ColorKey`); a cell over 500
  characters (some v6.1 `notes`) is left out, and the run's `provenance.notes` says which.

`inspect_v41(folder, pin)` / `inspect_v61(folder, pin)` return a `Found`: the runs and the rows skipped, by
reason; `SOURCES` registers both with `tools/import_published.py` (`mlperf-v4.1`, `mlperf-v6.1`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

from ..contract.problems import Problem
from .common import cpu_identity, imported_run, slug
from .published import (NOT_RUN, InputError, Pin, Reading, SourceFile, collect, csv_rows, device_table, json_record_lines,
                        json_records, number, problem, read_source, whole)
from .sources import Source

LICENSE = "Apache-2.0"
_ATTRIBUTION = ("MLCommons MLPerf Inference {v} results (mlcommons/inference_results_{v}), Apache-2.0; MLPerf name and "
                "logo are trademarks of MLCommons; results used under MLCommons' results messaging guidelines: "
                "results are not comparable with non-MLPerf results, and per-chip, per-watt or per-dollar figures "
                "derived from them are not official")
NOTES = ("MLPerf result: not comparable with non-MLPerf results. The value is the system's total over "
         "device_count devices; a per-device, per-watt or per-dollar figure derived from it is not an official "
         "MLPerf result.")
MAX_CELL = 500

# Accelerator strings as published -> the name the device's driver reports, normalized. Vendor = first word.
ACCELERATORS: dict[str, str] = {
    "NVIDIA H100-SXM-80GB": "NVIDIA H100 80GB HBM3",
    "NVIDIA H100-NVL-94GB": "NVIDIA H100 NVL",
    "NVIDIA H100-PCIe-80GB": "NVIDIA H100 PCIe",
    "NVIDIA H200-SXM-141GB": "NVIDIA H200",
    "NVIDIA H200-SXM-141GB-CTS": "NVIDIA H200",        # CTS: custom thermal solution (higher power), same chip
    "NVIDIA GH200 Grace Hopper Superchip 96GB": "NVIDIA GH200 480GB",    # nvidia-smi's name of the 96 GB HBM3 part
    "NVIDIA GH200 Grace Hopper Superchip 144GB": "NVIDIA GH200 144G HBM3e",
    "NVIDIA B200-SXM-180GB": "NVIDIA B200",
    "NVIDIA B300-SXM-270GB": "NVIDIA B300 SXM6 AC",
    "Nvidia B300-SXM-270GB": "NVIDIA B300 SXM6 AC",
    "NVIDIA GB200": "NVIDIA GB200",
    "NVIDIA GB300": "NVIDIA GB300",
    "NVIDIA GB10": "NVIDIA GB10",
    # The GPU of the Vera Rubin NVL72 (NVIDIA writes "Vera Rubin", Nebius "VR200": both 288 GB, 2300 W TGP).
    # No driver name is published yet: named VR200, as GB200 names the Grace Blackwell GPU.
    "NVIDIA Vera Rubin": "NVIDIA VR200",
    "NVIDIA VR200": "NVIDIA VR200",
    "NVIDIA L40S": "NVIDIA L40S",
    "NVIDIA L4": "NVIDIA L4",
    "Tesla T4": "NVIDIA T4",
    "NVIDIA GeForce RTX 4090": "NVIDIA RTX 4090",
    "NVIDIA RTX A5000 GPU": "NVIDIA RTX A5000",
    "NVIDIA RTX PRO 6000 Blackwell Server Edition": "NVIDIA RTX PRO 6000 Blackwell Server Edition",
    # Fujitsu's PRIMERGY CDI server with PCIe cards: no driver reports a plain "RTX PRO 6000 Blackwell" (it
    # says Workstation, Server or Max-Q Edition); a passively cooled server card is the Server Edition.
    "NVIDIA RTX PRO 6000 Blackwell": "NVIDIA RTX PRO 6000 Blackwell Server Edition",
    "NVIDIA RTX PRO 4500 Blackwell Server Edition": "NVIDIA RTX PRO 4500 Blackwell Server Edition",
    "NVIDIA RTX PRO 4500 Blackwell": "NVIDIA RTX PRO 4500 Blackwell",    # a driver name: kept as written
    # HPE's open-division rows of the DL345/DL380 systems whose closed rows say Server Edition.
    "NVIDIA RTX PRO 4500 Blackwell-PCIe-32GB": "NVIDIA RTX PRO 4500 Blackwell Server Edition",
    "NVIDIA Jetson AGX Orin 64G": "NVIDIA Jetson AGX Orin",
    "NVIDIA Jetson AGX Thor 128G": "NVIDIA Jetson AGX Thor",
    "AMD Instinct MI300X-NPS1-SPX-192GB-750W": "AMD Instinct MI300X",
    "AMD MI300X-NPS1-SPX-192GB-750W": "AMD Instinct MI300X",
    "AMD Instinct MI300X 192GB HBM3": "AMD Instinct MI300X",
    "AMD Instinct MI350X 288GB HBM3e": "AMD Instinct MI350X",
    "AMD Instinct MI350P": "AMD Instinct MI350P",
    "AMD Instinct MI355X 288GB HBM3e": "AMD Instinct MI355X",
    "AMD Instinct MI355X": "AMD Instinct MI355X",
    "AMD Radeon 8060S Graphics": "AMD Radeon 8060S Graphics",
    "Intel(R) Arc(TM) Pro B70": "Intel Arc Pro B70",
    "TPU v5e": "Google TPU v5e",
    "TPU v6": "Google TPU v6e",          # v4.1's "TPU v6" (preview) is Trillium, sold as TPU v6e
    "UntetherAI speedAI240 Slim": "UntetherAI speedAI240 Slim",
    "UntetherAI speedAI240 Preview": "UntetherAI speedAI240",      # "Preview": the availability, not the card
}
_KIND = {"NVIDIA": "cuda", "AMD": "rocm", "Intel": "xpu", "Google": "tpu", "UntetherAI": "other"}
CPU_ONLY = frozenset({"", "N/A"})
# Systems of two kinds of accelerator: no one device ran the result; skipped and counted.
MIXED = frozenset({"NVIDIA H200-SXM-141GB + AMD Instinct MI350X 288GB HBM3e",
                   "AMD Instinct MI300X 192GB HBM3 (x2x8) and AMD Instinct MI355X 288GB HBM3e (x2x8)"})

# Host processors some submitters write in capitals, as the rest write them (one chip, one name).
CPU_SPELLINGS = {"INTEL(R) XEON(R) PLATINUM 8592+": "Intel(R) Xeon(R) Platinum 8592+",
                 "INTEL(R) XEON(R) 6980P": "Intel(R) Xeon(R) 6980P",
                 "INTEL(R) XEON(R) PLATINUM 8568Y+": "Intel(R) Xeon(R) Platinum 8568Y+"}

# weight_data_types (lower-case, spaces collapsed) -> precision.
PRECISIONS: dict[str, str] = {p: p for p in ("fp32", "fp16", "bf16", "fp8", "fp4", "int8", "int4")} | {
    "float8": "fp8", "mxfp4": "fp4", "nvfp4": "fp4", "fp8 (static per-tensor ptq, nvidia modelopt)": "fp8",
    "nvfp4 (e2m1 4-bit + fp8 block scales)": "fp4", "nvfp4 (e2m1 4-bit + fp8 block scales), gdn included": "fp4",
    # the weights' type beside the KV cache's
    "fp4 weights, fp8 kv cache": "fp4", "nvfp4, fp8 (kv cache)": "fp4", "nvfp4, fp8-kv": "fp4",
    "nvfp4 weights with fp8 kv cache": "fp4", "nvfp4, fp8 kv cache": "fp4",
    "nvfp4 weights and activations; fp8 kv cache": "fp4",
    # several weight types in one model (or across the models of a pipeline)
    "fp16,bf16,fp8": "unknown", "bf16, fp8, fp4": "unknown", "fp8,fp4": "unknown", "int8,bf16": "unknown",
    "bf16/f32/f8_e4m3/u8": "unknown", "bf16/f8_e4m3/u8": "unknown",
    "mxfp4 (llms), fp32 (embedding/reranker)": "unknown",
}
# (prefix of a software part, lower-case) -> framework id; tried in order (tensorrt-llm before tensorrt).
FRAMEWORKS: tuple[tuple[str, str], ...] = (
    ("tensorrt-llm", "tensorrt-llm"), ("trtllm", "tensorrt-llm"), ("tensorrt", "tensorrt"), ("vllm", "vllm"),
    ("sglang", "sglang"), ("pytorch", "torch"), ("onnx runtime", "onnxruntime"), ("onnxruntime", "onnxruntime"),
    ("openvino", "openvino"), ("deepsparse", "deepsparse"), ("flax", "flax"), ("jax", "jax"),
    ("llama.cpp", "llama.cpp"), ("xdit", "xdit"), ("untetherai imaigine", "imaigine"),
    ("krai inference library technology", "kilt"), ("krai/gentic", "krai-gentic"), ("atlas", "atlas"))
# Platforms, drivers and orchestration: passed over while a framework is named after them.
_PLATFORMS = ("cuda", "cudnn", "rocm", "jetpack", "nvidia dynamo", "dell dynamo", "dynamo", "triton",
              "red hat openshift", "faiss", "mlcommons")
_METRICS = {"tokens/s": "throughput_tokens_per_s", "samples/s": "throughput_samples_per_s",
            "tasks/s": "throughput_samples_per_s", "queries/s": "throughput_queries_per_s",
            "latency (ms)": "latency_ms", "latency (s)": "latency_ms"}
_VERSION = re.compile(r"^[\s:]*v?([0-9][0-9A-Za-z.+_-]*)")


@dataclass
class Entry:
    """One result row of either file, by meaning."""

    line: int | None
    key: str
    division: str
    model: str
    scenario: str
    units: str
    result: Any
    accelerator: str
    accelerators: Any          # total over the system (a number or a cell), None for a CPU-only system
    processor: str
    processors: Any            # host processors of one node
    nodes: Any
    software: str
    weights: str
    original: tuple[dict[str, Any], list[str]]     # cells as written, and those left out for their length
    names: dict[str, str]      # meaning -> the column or key as the file names it (for messages)


@dataclass
class Found:
    runs: list[dict[str, Any]]
    skipped: dict[str, int]    # reason -> rows

    def reading(self) -> Reading:
        return Reading(self.runs, [f"{n} row{'s' if n != 1 else ''}: {why}" for why, n in sorted(self.skipped.items())])


def _framework(software: str) -> tuple[str, str | None]:
    parts = [p.strip() for p in re.split(r"[,;]|\s\+\s", software) if p.strip()]
    fallback = None
    for part in parts:
        low = part.lower()
        for prefix, name in FRAMEWORKS:
            if low.startswith(prefix):
                found = _VERSION.match(part[len(prefix):])
                return name, found.group(1) if found else None
        platform = next((p for p in _PLATFORMS if low.startswith(p)), None)
        if platform is None:
            words = re.split(r"\s+v?[0-9]", part, maxsplit=1)[0]
            return slug(words) or "other", None
        if fallback is None:
            found = _VERSION.match(part[len(platform):])
            fallback = (slug(platform), found.group(1) if found else None)
    return fallback or ("other", None)


def _original(cells: dict[str, Any], drop: tuple[str, ...] = ()) -> tuple[dict[str, Any], list[str]]:
    """Non-empty cells as written, and the names of those left out for their length."""
    out, long = {}, []
    for name, value in cells.items():
        if value is None or value == "" or name in drop:
            continue
        if isinstance(value, str) and len(value) > MAX_CELL:
            long.append(f"{name} ({len(value)} characters)")
            continue
        out[name] = value
    return out, long


def _count(raw: Any, file: str, line: int | None, field: str) -> int:
    value = number(raw, file, line, field)
    if value is NOT_RUN:
        raise InputError([problem(file, line, field, f"{raw!r} is not a count of devices")])
    return whole(value, file, line, field)


def _run(source: SourceFile, version: str, e: Entry, skipped: dict[str, int]) -> dict[str, Any] | None:
    file = source.display
    value = number(e.result, file, e.line, e.names["result"])
    metric = _METRICS.get(e.units.strip().lower())
    if metric is None:
        raise InputError([problem(file, e.line, e.names["units"], f"unknown unit {e.units!r}: add it to the "
                                  f"importer's unit table (known: {', '.join(sorted(_METRICS))})")])
    precision = PRECISIONS.get(" ".join(e.weights.lower().split()))
    if precision is None:
        raise InputError([problem(file, e.line, e.names["weights"], f"unknown weight type {e.weights!r}: add it "
                                  "to the importer's precision table (PRECISIONS)")])
    acc = " ".join(e.accelerator.split())
    if acc in MIXED:
        skipped["two kinds of accelerator"] = skipped.get("two kinds of accelerator", 0) + 1
        return None
    if value is NOT_RUN:
        skipped["result 0 or -1"] = skipped.get("result 0 or -1", 0) + 1
        return None
    nodes = _count(e.nodes, file, e.line, e.names["nodes"]) if e.nodes not in (None, "") else 1
    processor = re.sub(r"^\s*[0-9]+\s*x\s*(?=\S)", "", e.processor or "").strip()
    processor = CPU_SPELLINGS.get(processor, processor)
    cpu_model, cpu_vendor = cpu_identity(processor) if processor.strip() else (None, None)
    cpu = {"model": cpu_model} | ({"vendor": cpu_vendor} if cpu_vendor else {}) if cpu_model else {}
    accelerators = None if e.accelerators in (None, "") else \
        _count(e.accelerators, file, e.line, e.names["accelerators"])
    if acc in CPU_ONLY and accelerators is None:
        if not cpu_model or e.processors in (None, ""):
            raise InputError([problem(file, e.line, e.names["processors"], "a CPU-only result must name its "
                                      "processor and how many a node has")])
        per_node = _count(e.processors, file, e.line, e.names["processors"])
        kind, name, count = "cpu", cpu_model, per_node * nodes
        if nodes == 1:
            cpu["sockets"] = per_node
        system: dict[str, Any] = {"cpu": cpu}
        device = e.processor
    else:
        if accelerators is None:
            raise InputError([problem(file, e.line, e.names["accelerators"], f"accelerator {e.accelerator!r} without a "
                                      "count")])
        name = device_table(ACCELERATORS, acc, file, e.line, e.names["accelerator"])
        vendor = name.split()[0]
        kind, count, device = _KIND[vendor], accelerators, e.accelerator
        system = {"cpu": cpu, "accelerators": [{"kind": kind, "vendor": vendor, "name": acc,
                                                "normalized_name": name, "count": count}]}
    if e.units.strip().lower() == "latency (s)":
        value, unit = float(Decimal(str(value)) * 1000), f"ms (converted from the published {e.units})"
    else:
        unit = e.units
    framework, framework_version = _framework(e.software) if e.software.strip() else ("other", None)
    benchmark = slug(f"mlperf-inference-{version}-{e.division}-{e.model}-{e.scenario}")
    if len(benchmark) > 100:
        raise InputError([problem(file, e.line, e.names["model"], f"workload id {benchmark!r} is over 100 "
                                  "characters")])
    result: dict[str, Any] = {"benchmark": benchmark, "scenario": "infer", "framework": framework}
    if framework_version:
        result["framework_version"] = framework_version
    result.update({"model": e.model, "device_kind": kind, "device_name": name, "device_count": count,
                   "precision": precision, "status": "ok", "metrics": {metric: value}, "units": {metric: unit}})
    original, long = e.original
    notes = NOTES + (f" Left out of provenance.original for their length: {', '.join(long)}." if long else "")
    return imported_run(source.record(e.key, device=device, section=f"{e.division} division"), original, system,
                        [result], notes)


def _runs(source: SourceFile, version: str, entries: list[Entry]) -> Found:
    problems: list[Problem] = []
    seen: dict[str, int | None] = {}
    for e in entries:
        if e.key in seen:
            problems.append(problem(source.display, e.line, "key", f"result {e.key!r} appears twice (first on line "
                                    f"{seen[e.key]}): the file holds one row per result"))
        seen.setdefault(e.key, e.line)
    skipped: dict[str, int] = {}
    runs, more = collect(entries, lambda e: _run(source, version, e, skipped))
    if problems + more:
        raise InputError(problems + more)
    return Found(runs, skipped)


# ------------------------------------------------------------------------------------------- v4.1

V41_REPOSITORY, V41_PINNED, V41_PATH = ("mlcommons/inference_results_v4.1", "4a0c87411066bd697db46fa44cf6f04fd458f627",
                                        "summary_results.json")
V41_KEYS = ("ID", "Submitter", "Availability", "Category", "Suite", "System", "Platform", "Model", "Scenario",
            "Accuracy", "Nodes", "Processor", "Accelerator", "a#", "Software", "weight_data_types",
            "Performance_Result", "Performance_Units")
_V41_NAMES = {"result": "Performance_Result", "units": "Performance_Units", "weights": "weight_data_types",
              "accelerator": "Accelerator", "accelerators": "a#", "processors": "host_processors_per_node",
              "nodes": "Nodes", "model": "Model"}


def inspect_v41(folder: Path, pin: Pin) -> Found:
    """The runs of v4.1's summary_results.json, and the rows skipped (by reason)."""
    source = read_source(folder, V41_PATH, pin, "MLPerf Inference v4.1 results (summary_results.json)", LICENSE,
                         _ATTRIBUTION.format(v="v4.1"), published="2024-08-28")
    records = json_records(source)
    lines = json_record_lines(source.text)
    problems = []
    for key in V41_KEYS:
        if records and all(key not in r for r in records):
            problems.append(problem(source.display, lines[0] if lines else 1, key, f"no record has the key {key!r}: "
                                    "a renamed key means a file of another layout; add its name to the importer"))
    if problems:
        raise InputError(problems)
    def entry(i: int) -> Entry:
        r, line = records[i], lines[i] if i < len(lines) else None
        missing = [k for k in V41_KEYS if k not in r]
        if missing:
            raise InputError([problem(source.display, line, k, f"the record has no {k!r}") for k in missing])
        text = {k: "" if r[k] is None else str(r[k]) for k in V41_KEYS}
        accelerators = None
        if r["a#"] not in (None, ""):   # a# counts one node's accelerators
            accelerators = _count(r["a#"], source.display, line, "a#") * _count(r["Nodes"], source.display, line,
                                                                                  "Nodes")
        return Entry(line, f"{text['ID']}/{text['Model']}/{text['Scenario']}", text["Category"], text["Model"],
                     text["Scenario"], text["Performance_Units"], r["Performance_Result"], text["Accelerator"],
                     accelerators, text["Processor"], r.get("host_processors_per_node", r.get("p#")), r["Nodes"],
                     text["Software"], text["weight_data_types"], _original(r, drop=("ColorKey",)), _V41_NAMES)

    entries, problems = collect(range(len(records)), entry)
    if problems:
        raise InputError(problems)
    return _runs(source, "v4.1", entries)


# ------------------------------------------------------------------------------------------- v6.1

V61_REPOSITORY, V61_PINNED, V61_PATH = ("mlcommons/inference_results_v6.1", "7bf15fd8089655a71fb75c81a744d7ba5a632424",
                                        "summary.csv")
V61_COLUMNS = ("Organization", "Availability", "Division", "SystemType", "SystemName", "Platform", "Model",
               "MlperfModel", "Scenario", "Result", "Accuracy", "number_of_nodes", "host_processor_model_name",
               "host_processors_per_node", "host_processor_core_count", "accelerator_model_name",
               "accelerators_per_node", "total_accelerators", "Location", "framework", "operating_system", "notes",
               "compliance", "errors", "version", "inferred", "has_power", "Units", "weight_data_types",
               "design_power_watts", "PrivateID")
_V61_REQUIRED = ("Organization", "Division", "Platform", "Model", "Scenario", "Result", "number_of_nodes",
                 "host_processor_model_name", "host_processors_per_node", "accelerator_model_name",
                 "total_accelerators", "framework", "Units", "weight_data_types")
_V61_NAMES = {"result": "Result", "units": "Units", "weights": "weight_data_types",
              "accelerator": "accelerator_model_name", "accelerators": "total_accelerators",
              "processors": "host_processors_per_node", "nodes": "number_of_nodes", "model": "Model"}


def inspect_v61(folder: Path, pin: Pin) -> Found:
    """The runs of v6.1's summary.csv, and the rows skipped (by reason)."""
    source = read_source(folder, V61_PATH, pin, "MLPerf Inference v6.1 results (summary.csv)", LICENSE,
                         _ATTRIBUTION.format(v="v6.1"))
    _header, rows = csv_rows(source, {c: (c,) for c in V61_COLUMNS}, _V61_REQUIRED)
    entries = []
    for row in rows:
        c = {k: (row.cells.get(k) or "").strip() for k in V61_COLUMNS}
        version = c["version"] or "v6.1"
        key = "/".join((version, c["Division"], c["Organization"], c["Platform"], c["Model"], c["Scenario"]))
        total = None if c["accelerator_model_name"] in CPU_ONLY and c["total_accelerators"] in ("", "0") \
            else c["total_accelerators"]
        entries.append(Entry(row.line, key, c["Division"], c["Model"], c["Scenario"], c["Units"], c["Result"],
                             c["accelerator_model_name"], total, c["host_processor_model_name"],
                             c["host_processors_per_node"], c["number_of_nodes"], c["framework"],
                             c["weight_data_types"], _original(row.raw), _V61_NAMES))
    return _runs(source, "v6.1", entries)


SOURCES = (
    Source("mlperf-v4.1", V41_REPOSITORY, "MLPerf Inference v4.1 results (MLPerf namespace)", V41_PATH, V41_PINNED,
           read=lambda folder, pin: inspect_v41(folder, pin).reading()),
    Source("mlperf-v6.1", V61_REPOSITORY, "MLPerf Inference v6.1 results (MLPerf namespace)", V61_PATH, V61_PINNED,
           read=lambda folder, pin: inspect_v61(folder, pin).reading()),
)
