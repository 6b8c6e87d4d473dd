"""The dataset as one tidy table: every result of the API one row, in CSV, Parquet and a Frictionless Data Package.

Built from the same rows the page reads (`dlbench.store.api_rows`), when the site is built
(`tools/publish.py`), never committed. One row per result of the API (replaced runs are not in it), in the
index's workload order and each workload's part order; a fixed column order: the device, the workload and its
setting, the source, the result's identity and status, one column per metric of the run schema (in the
schema's order, each described with its unit and direction in `datapackage.json`), what measured the energy (or
why there is none) and the shape of a batch-size sweep (RECORD_COLUMNS), then the figures the API joins
(fractions of peak, outlier, corroboration). A value the result does not have is empty (null).

The same API gives byte-identical files: rows and columns in a fixed order, Parquet written with fixed
options and no time stamp, the descriptor's keys sorted.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

from ..contract import schema
from ..contract.atomic import write_bytes_atomic
from ..store import metrics as metric_rules
from ..store.api_rows import Api, label_of, load_catalogue, load_index, workload_rows
from ..store.dataset import DatasetError

CSV_NAME = "results.csv"
PARQUET_NAME = "results.parquet"
DESCRIPTOR_NAME = "datapackage.json"
PACKAGE_NAME = "dlbench-results"
HOMEPAGE = "https://github.com/dlbench/dlbench"
PARQUET_OPTIONS = {"compression": "zstd", "compression_level": 9, "use_dictionary": True, "write_statistics": True,
                   "version": "2.6", "data_page_version": "1.0", "row_group_size": 1 << 20}


@dataclass(frozen=True)
class Column:
    """One column: its name, Table Schema type (string, integer, number or boolean), description, where it
    comes from (a function of the API row and the joins), whether every row has it, and any custom properties."""

    name: str
    type: str
    description: str
    get: Callable[[dict[str, Any], "_Joins"], Any]
    required: bool = False
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass
class _Joins:
    """What a row is joined with: the index's workload families and the catalogue's names per (device, kind)."""

    family: dict[str, str]
    catalogue: dict[tuple[str, str], str]


def _key(name: str) -> Callable[[dict[str, Any], _Joins], Any]:
    return lambda row, joins: row.get(name)


def _source(name: str) -> Callable[[dict[str, Any], _Joins], Any]:
    return lambda row, joins: (row.get("provenance", {}).get("source") or {}).get(name)


def _units(row: dict[str, Any], joins: _Joins) -> str | None:
    units = row.get("units")
    return json.dumps(units, sort_keys=True, ensure_ascii=False, separators=(",", ":")) if units else None


_S, _I, _N, _B = "string", "integer", "number", "boolean"
BASE_COLUMNS: tuple[Column, ...] = (
    Column("device", _S, "Normalized device name (the API row's `device`).", _key("device"), True),
    Column("device_kind", _S, "Kind of device: cpu, cuda, rocm, mps, xpu, tpu or other.", _key("device_kind"), True),
    Column("catalogue_name", _S, "The device's entry in the device catalogue (`devices.json`), when it has one of "
           "this kind.", lambda row, j: j.catalogue.get((row["device"], row.get("device_kind") or "other"))),
    Column("device_label", _S, "How the page and the tools name the device: `name (kind)`.",
           lambda row, j: label_of(row), True),
    Column("workload", _S, "The workload (benchmark id), e.g. mnist-lenet5 or timm-infer-resnet50-224.",
           _key("benchmark"), True),
    Column("family", _S, "The workload's family (the index's `workloads[].family`): dlbench, or the imported "
           "source's protocol (timm-infer, lambda-pytorch, mlperf-inference-v4-1, ...).",
           lambda row, j: j.family.get(row["benchmark"])),
    Column("benchmark_version", _I, "Version of this project's workload definition (measured results).",
           _key("benchmark_version")),
    Column("scenario", _S, "Scenario: train, infer, step, peak, ...", _key("scenario")),
    Column("framework", _S, "Framework, e.g. torch or tensorflow.", _key("framework"), True),
    Column("framework_version", _S, "Framework version, as recorded or published.", _key("framework_version")),
    Column("precision", _S, "Numeric precision: fp32, tf32, fp16, bf16, mixed-fp16, mixed-bf16, int8, unknown, ...",
           _key("precision"), True),
    Column("batch_size", _I, "Batch size per device.", _key("batch_size")),
    Column("device_count", _I, "Number of devices the result used; metrics are the whole system's.",
           _key("device_count"), True),
    Column("global_batch_size", _I, "Multi-device runs: samples per step over all devices (batch_size is per device).",
           _key("global_batch_size")),
    Column("strategy", _S, "How several devices were used (single, data-parallel, ...).", _key("strategy")),
    Column("compile", _S, "Graph compilation: eager, torch.compile, xla, tf.function, ...", _key("compile")),
    Column("channels_last", _B, "Whether the images were in channels-last (NHWC) layout.", _key("channels_last")),
    Column("epochs", _I, "Training epochs (train results).", _key("epochs")),
    Column("repeats", _I, "How many times the measurement was repeated (metrics are medians).", _key("repeats")),
    Column("train_samples", _I, "Set only for a train result on part of its dataset: the first N training samples.",
           _key("train_samples")),
    Column("test_samples", _I, "Set only for a train result on part of its dataset: the first M test samples.",
           _key("test_samples")),
    Column("model", _S, "The model.", _key("model"), True),
    Column("dataset", _S, "The dataset.", _key("dataset")),
    Column("parameters", _I, "The model's parameter count.", _key("parameters")),
    Column("flops_per_sample", _I, "Forward-pass FLOPs per sample.", _key("flops_per_sample")),
    Column("source_kind", _S, "measured (run with this project's runner) or imported (a published table).",
           lambda row, j: row.get("provenance", {}).get("kind"), True),
    Column("source_title", _S, "Imported: the title of the publication.", _source("title")),
    Column("source_url", _S, "Imported: where the publication is.", _source("url")),
    Column("source_repository", _S, "Imported from a pinned repository: owner/name.", _source("repository")),
    Column("source_path", _S, "Imported from a pinned repository: the file's path in it.", _source("path")),
    Column("source_commit", _S, "Imported from a pinned repository: the commit read.", _source("commit")),
    Column("source_row", _S, "Imported from a pinned repository: the row's key in the file (MLPerf: its result ID).",
           _source("row")),
    Column("source_license", _S, "Imported: the source's license.", _source("license")),
    Column("source_attribution", _S, "Imported: the credit the source's license asks for; keep it with the figures.",
           _source("attribution")),
    Column("runner_commit", _S, "Measured: the runner's git commit.",
           lambda row, j: row.get("provenance", {}).get("git_commit")),
    Column("run_id", _S, "The run (its full record is in the dataset's JSON).", _key("run_id"), True),
    Column("result_index", _I, "The result's position in its run.", _key("result_index"), True),
    Column("status", _S, "ok, oom (out of memory), error or timeout.", _key("status"), True,
           {"constraints": {"enum": ["ok", "oom", "error", "timeout"]}}),
    Column("message", _S, "What went wrong, for a failed result.", _key("message")),
)
def _energy(name: str) -> Callable[[dict[str, Any], _Joins], Any]:
    return lambda row, joins: (row.get("energy") or {}).get(name)


def _sweep(name: str) -> Callable[[dict[str, Any], _Joins], Any]:
    return lambda row, joins: (row.get("batch_sweep") or {}).get(name)


def _fit(name: str) -> Callable[[dict[str, Any], _Joins], Any]:
    return lambda row, joins: ((row.get("batch_sweep") or {}).get("memory_fit") or {}).get(name)


# What measured the energy metrics, and the shape of a batch-size sweep (its whole curve: the API row's
# `batch_sweep`, or `tools/compare.py --curve`).
RECORD_COLUMNS: tuple[Column, ...] = (
    Column("energy_sensor", _S, "What measured energy_j: nvml-energy (the NVIDIA driver's energy counter), nvml-power "
           "(its power reading, sampled and integrated) or rapl (Linux powercap, CPU packages).", _energy("sensor"),
           extra={"constraints": {"enum": ["nvml-energy", "nvml-power", "rapl"]}}),
    Column("energy_covers", _S, "What the energy reading covers (e.g. GPU 0 board; CPU packages 0-1): never the whole "
           "machine unless it says so.", _energy("covers")),
    Column("energy_missing", _S, "Why the result has no energy metrics (no sensor, one that cannot be read, or a timed "
           "part too short): a missing reading is never 0.", _energy("missing")),
    Column("sweep_points", _I, "Batch-size sweeps: how many batch sizes the sweep tried.",
           lambda row, j: len(row["batch_sweep"].get("points", ())) if row.get("batch_sweep") else None),
    Column("sweep_largest_fit", _I, "Batch-size sweeps: the largest batch that ran (the result's batch_size); empty "
           "when none did. Unit: samples; higher is better.", _sweep("largest_fit"),
           extra={"unit": "samples", "higher_is_better": True}),
    Column("sweep_smallest_oom", _I, "Batch-size sweeps: the smallest batch that ran out of memory; empty when none did "
           "(the sweep stopped at its max_batch). Unit: samples.", _sweep("smallest_oom"), extra={"unit": "samples"}),
    Column("sweep_resolution", _I, "Batch-size sweeps: the bisection stopped when the largest batch that fitted and the "
           "smallest that did not were at most this far apart. Unit: samples.", _sweep("resolution"),
           extra={"unit": "samples"}),
    Column("sweep_memory", _S, "Batch-size sweeps: which peak memory the line memory = fixed + per sample x batch was "
           "fitted to: device (accelerators) or host (CPUs).", _fit("memory"),
           extra={"constraints": {"enum": ["device", "host"]}}),
    Column("sweep_fixed_bytes", _N, "Batch-size sweeps: the fitted line's memory at batch 0 (weights, optimizer state, "
           "workspace); its slope is memory_per_sample_bytes. Unit: bytes; lower is better.", _fit("fixed_bytes"),
           extra={"unit": "bytes", "higher_is_better": False}),
    Column("sweep_residual_bytes", _N, "Batch-size sweeps: root-mean-square distance of the points from the fitted "
           "line. Unit: bytes.", _fit("residual_bytes"), extra={"unit": "bytes"}),
)
TAIL_COLUMNS: tuple[Column, ...] = (
    Column("source_units", _S, "The units the source states where they say more than the metric's name, as JSON "
           '(e.g. {"throughput_samples_per_s":"images/s"}).', _units),
    Column("peak_fraction_catalogue", _N, "achieved_flops_per_s over the catalogue's peak of the device at this "
           "precision times device_count.", _key("peak_fraction_catalogue")),
    Column("peak_fraction_measured", _N, "achieved_flops_per_s over the dataset's measured matmul ceiling of the "
           "device.", _key("peak_fraction_measured")),
    Column("bandwidth_fraction_catalogue", _N, "bandwidth_bytes_per_s over the catalogue's memory bandwidth of the "
           "device times device_count.", _key("bandwidth_fraction_catalogue")),
    Column("outlier", _B, "true when the result lies far from its comparison group (modified z-score > 3.5); "
           "empty when not judged.", _key("outlier")),
    Column("corroborated_by", _I, "How many other independent runs of its comparison group agree within 10 %.",
           _key("corroborated_by")),
)


def metric_columns(index: dict[str, Any]) -> list[Column]:
    """One column per metric of the run schema, in its order: type, unit and direction from the index's
    `metrics` where the dataset has the metric, else by the same rule (`dlbench.store.metrics.reading`)."""
    run_schema = schema.load(schema.RUN_SCHEMA)
    props = run_schema["$defs"]["result"]["properties"]["metrics"]["properties"]
    names = schema.enum("metric_name")
    reading = {**metric_rules.reading(names), **(index.get("metrics") or {})}
    out = []
    for name in names:
        prop = props.get(name, {})
        ref = prop.get("$ref", "").rsplit("/", 1)[-1]
        kind = prop.get("type") or run_schema["$defs"].get(ref, {}).get("type", "number")
        unit, higher = reading[name]["unit"], bool(reading[name]["higher_is_better"])
        text = (f"{prop.get('description', name).rstrip('.')}. Unit: {unit or 'none (a plain number)'}; "
                f"{'higher' if higher else 'lower'} is better. As published: a result of device_count N > 1 "
                "holds the whole system's figure.")
        out.append(Column(name, "integer" if kind == "integer" else "number", text,
                          lambda row, j, m=name: row.get("metrics", {}).get(m),
                          extra={"unit": unit, "higher_is_better": higher}))
    return out


def columns(index: dict[str, Any]) -> list[Column]:
    return [*BASE_COLUMNS, *metric_columns(index), *RECORD_COLUMNS, *TAIL_COLUMNS]


def _joins(api: Api, index: dict[str, Any]) -> _Joins:
    kinds = {d["name"]: d.get("kind") for d in load_catalogue(api, index).get("devices", [])}
    catalogue: dict[tuple[str, str], str] = {}
    for entry in index.get("devices", []):
        name = entry.get("catalogue_name")
        if name is not None:
            for kind in entry.get("kinds", []):
                if kinds.get(name, kind) == kind:
                    catalogue[(entry["name"], kind)] = name
    return _Joins({w["name"]: w.get("family") for w in index["workloads"]}, catalogue)


def _cell(value: Any, col: Column, where: str) -> Any:
    """`value` checked against the column's type (an integral float is an integer); DatasetError if it is not."""
    if value is None:
        return None
    ok = {"string": isinstance(value, str),
          "boolean": isinstance(value, bool),
          "integer": isinstance(value, int) and not isinstance(value, bool)
          or isinstance(value, float) and value.is_integer(),
          "number": isinstance(value, (int, float)) and not isinstance(value, bool)}[col.type]
    if not ok:
        raise DatasetError(f"{where}: {col.name}: {value!r} is not a{'n' if col.type[0] == 'i' else ''} "
                           f"{col.type}: regenerate the API with `python tools/merge.py`")
    return int(value) if col.type == "integer" else float(value) if col.type == "number" else value


def tidy(api: Api) -> tuple[dict[str, Any], list[Column], dict[str, list[Any]]]:
    """(index, columns, {column: values}) of every result of the API, one value per row in each list."""
    index = load_index(api)
    cols = columns(index)
    joins = _joins(api, index)
    data: dict[str, list[Any]] = {c.name: [] for c in cols}
    count = 0
    for row in workload_rows(api, index):
        where = f"{api.base}: workload {row.get('benchmark')}, run {row.get('run_id')} result {row.get('result_index')}"
        for col in cols:
            value = _cell(col.get(row, joins), col, where)
            if value is None and col.required:
                raise DatasetError(f"{where}: {col.name} is missing: regenerate the API with `python tools/merge.py`")
            data[col.name].append(value)
        count += 1
    if index.get("result_count") is not None and count != index["result_count"]:
        raise DatasetError(f"{api.base}: the parts hold {count} results, the index says {index['result_count']}: "
                           "regenerate the API with `python tools/merge.py`")
    return index, cols, data


def arrow_table(cols: list[Column], data: dict[str, list[Any]]):
    import pyarrow as pa

    types = {"string": pa.string(), "integer": pa.int64(), "number": pa.float64(), "boolean": pa.bool_()}
    fields = [pa.field(c.name, types[c.type], nullable=not c.required) for c in cols]
    return pa.Table.from_arrays([pa.array(data[c.name], types[c.type]) for c in cols], schema=pa.schema(fields))


def csv_bytes(table) -> bytes:
    """RFC 4180 CSV, UTF-8, a header line; strings quoted, an absent value as an empty unquoted cell."""
    import pyarrow as pa
    import pyarrow.csv as pacsv

    sink = pa.BufferOutputStream()
    pacsv.write_csv(table, sink, pacsv.WriteOptions(include_header=True, delimiter=",", quoting_style="needed"))
    return sink.getvalue().to_pybytes()


def parquet_bytes(table) -> bytes:
    """Parquet with fixed options: the same table gives the same bytes (no time stamp is written)."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    sink = pa.BufferOutputStream()
    pq.write_table(table, sink, **PARQUET_OPTIONS)
    return sink.getvalue().to_pybytes()


def table_schema(cols: list[Column], missing: tuple[str, ...] = ("",)) -> dict[str, Any]:
    """The Frictionless Table Schema of the columns; `missing`: how an absent value reads (`missingValues`)."""
    fields = []
    for c in cols:
        entry: dict[str, Any] = {"name": c.name, "type": c.type, "description": c.description}
        constraints = dict(c.extra.get("constraints", {}))
        if c.required:
            constraints["required"] = True
        if constraints:
            entry["constraints"] = constraints
        entry.update({k: v for k, v in c.extra.items() if k != "constraints"})
        fields.append(entry)
    return {"fields": fields, "missingValues": list(missing), "primaryKey": ["run_id", "result_index"]}


def descriptor(index: dict[str, Any], cols: list[Column], files: dict[str, bytes], rows: int) -> dict[str, Any]:
    """The Data Package (`datapackage.json`): one resource per file, each with the columns' Table Schema."""
    def stats(name: str) -> dict[str, Any]:
        return {"bytes": len(files[name]), "hash": "sha256:" + hashlib.sha256(files[name]).hexdigest()}

    # Frictionless reads Parquet through pandas, where a null of a number or integer column becomes NaN: the
    # Parquet resource's schema says so ("nan" is missing; the CSV writes a null as an empty cell). It counts no
    # bytes of a Parquet file (a stated size or hash fails its check), so only the CSV states them.
    return {
        "profile": "tabular-data-package",
        "name": PACKAGE_NAME,
        "title": "dlbench: deep-learning hardware benchmark results, one row per result",
        "description": "Every result of the dlbench dataset's JSON API (data/api/v1) as one row: the device, the "
                       "workload and its setting, the source, the status, one column per metric (unit and "
                       "direction in each field's `unit` and `higher_is_better`), the fractions of peak and the "
                       "outlier and corroboration judgements. Imported rows carry their source's license and "
                       "attribution (source_license, source_attribution): keep them with the figures. The same "
                       "table as CSV and as Parquet.",
        "homepage": HOMEPAGE,
        "sources": [{"title": "dlbench JSON API (data/api/v1), generated by tools/merge.py",
                     "path": f"{HOMEPAGE}/tree/main/data/api/v1"}],
        "dlbench": {"api_version": index.get("api_version"), "schema_version": index.get("schema_version"),
                    "source_sha256": index.get("source_sha256", ""),
                    "catalogue_sha256": (index.get("catalogue") or {}).get("sha256", ""),
                    "result_count": rows},
        "resources": [
            {"name": "results", "path": CSV_NAME, "profile": "tabular-data-resource", "format": "csv",
             "mediatype": "text/csv", "encoding": "utf-8",
             "dialect": {"delimiter": ",", "doubleQuote": True, "header": True, "quoteChar": '"'},
             **stats(CSV_NAME), "schema": table_schema(cols)},
            {"name": "results-parquet", "path": PARQUET_NAME, "profile": "tabular-data-resource", "format": "parquet",
             "mediatype": "application/vnd.apache.parquet",
             "schema": table_schema(cols, ("", "nan"))},
        ],
    }


def build(api_dir: str | Path) -> dict[str, bytes]:
    """{file name: bytes} of the exports of the API at `api_dir` (a folder, a repository root or a URL)."""
    index, cols, data = tidy(Api.at(api_dir))
    table = arrow_table(cols, data)
    files = {CSV_NAME: csv_bytes(table), PARQUET_NAME: parquet_bytes(table)}
    doc = descriptor(index, cols, files, table.num_rows)
    files[DESCRIPTOR_NAME] = (json.dumps(doc, indent=1, sort_keys=True, ensure_ascii=False) + "\n").encode("utf-8")
    return files


def write_files(files: dict[str, bytes], out_dir: Path) -> list[Path]:
    """Write built files into `out_dir`, each atomically; the paths written."""
    out_dir.mkdir(parents=True, exist_ok=True)
    written = []
    for name, payload in files.items():
        write_bytes_atomic(out_dir / name, payload)
        written.append(out_dir / name)
    return written


def write(api_dir: str | Path, out_dir: Path) -> list[Path]:
    """Build the exports, then write them into `out_dir`; nothing is written when the build fails."""
    return write_files(build(api_dir), out_dir)


def result_count(files: dict[str, bytes]) -> int:
    """How many rows the built exports hold (from their descriptor)."""
    return json.loads(files[DESCRIPTOR_NAME])["dlbench"]["result_count"]
