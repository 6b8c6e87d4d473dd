"""The dataset as a table: one row per result, with its run's provenance and system flattened.

`result_rows(runs)` gives plain dicts (no third-party dependency); `load_results()` gives a pandas DataFrame
for notebooks and `tools/compare.py`:

    from dlbench.analysis.frame import load_results
    df = load_results()                      # this checkout's data/ (benchmark.json when current)
    df = load_results("https://raw.githubusercontent.com/dlbench/dlbench/main/data/benchmark.json")

Every row has every column (absent values are NaN / <NA>), in a fixed order (COLUMNS).

Some columns are joined when the dataset is read, never stored in it (DERIVED_COLUMNS):

- `forward_backward_ms`: `forward_ms` + `backward_ms`, when a result states both (the figure the
  convnet-benchmarks tables rank by; it is not `step_ms`, which also times the optimizer update);
- `peak_fraction_catalogue`, `peak_fraction_measured`, `bandwidth_fraction_catalogue`: the result's
  fractions of its device's peak, from the device catalogue (`catalogue/devices.toml`) and the dataset's
  `peak-matmul` results (the rules: `dlbench.contract.device_catalogue`). They change when the catalogue does.

and some are judgements of a result against the others of its comparison group (JUDGEMENT_COLUMNS, the
rules: `dlbench.store.corroboration`), so they change when other runs are merged: `outlier` (True/False,
<NA> when its group is too small to judge), `corroborated_by` (how many independent runs agree with it),
`group_size` and `outlier_metric` (the workload's headline metric they are judged on); all <NA> for a
result that takes no part (failed, or without that metric).

Capacity and energy (RECORD_COLUMNS, from the result's `batch_sweep` and `energy` tables): `sweep_points` (how
many batches a sweep tried), `sweep_largest_fit` and `sweep_smallest_oom` (the largest batch that ran and the
smallest that ran out of memory), `sweep_resolution`; `energy_sensor` and `energy_covers` (what measured
`energy_j`), or `energy_missing` (why there is none). The whole curve is not a column: `sweeps(runs)` gives it by
(run_id, result_index).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Iterable

from ..contract.device_catalogue import FRACTION_FIELDS, Catalogue, FractionJoin, default_catalogue, for_root
from ..contract.paths import REPO_ROOT
from ..contract.schema import load as load_schema
from ..contract.tomlio import parse_toml_bytes
from ..store import metrics as metric_rules
from ..store.corroboration import Judge
from ..store.dataset import DatasetError, Layout, all_runs
from ..store.parts import canonical_files
from ..store.labels import device_label, source_label
from ..store.parts import current as current_runs
from ..store.shards import device_of

_SCHEMA = load_schema("run.schema.json")
METRICS: tuple[str, ...] = tuple(_SCHEMA["$defs"]["metric_name"]["enum"])
FRACTIONS: tuple[str, ...] = FRACTION_FIELDS
DERIVED_COLUMNS: tuple[str, ...] = metric_rules.DERIVED_METRICS + FRACTIONS
JUDGEMENT_COLUMNS: tuple[str, ...] = ("outlier", "corroborated_by", "group_size", "outlier_metric")
HIGHER_IS_BETTER = metric_rules.HIGHER_IS_BETTER | set(FRACTIONS)
RESULT_COLUMNS = ("benchmark", "benchmark_version", "framework", "framework_version", "model", "dataset",
                  "device_kind", "device_count", "strategy", "launcher", "precision", "compile", "channels_last", "batch_size",
                  "epochs", "steps", "train_samples", "test_samples", "warmup_steps", "repeats", "status", "message",
                  "global_batch_size")
RECORD_COLUMNS = ("sweep_points", "sweep_largest_fit", "sweep_smallest_oom", "sweep_resolution", "energy_sensor",
                  "energy_covers", "energy_missing")
COLUMNS: tuple[str, ...] = (
    ("run_id", "result_index", "kind", "source", "source_title", "source_url", "contributor", "started_at",
     "device", "device_label") + RESULT_COLUMNS + METRICS + DERIVED_COLUMNS + JUDGEMENT_COLUMNS + RECORD_COLUMNS +
    ("cpu_model", "cpu_vendor", "cpu_logical_cores", "memory_bytes", "os", "os_version", "kernel", "arch",
     "python", "cuda", "cudnn", "rocm", "accelerator", "accelerator_count", "accelerator_memory_bytes",
     "driver_version", "storage", "cloud", "runner_version", "git_commit", "git_dirty", "units"))
INTEGER_COLUMNS = ("result_index", "benchmark_version", "device_count", "batch_size", "epochs", "steps",
                   "train_samples", "test_samples", "warmup_steps", "repeats", "cpu_logical_cores", "memory_bytes",
                   "accelerator_count", "accelerator_memory_bytes", "corroborated_by", "group_size",
                   "global_batch_size", "sweep_points", "sweep_largest_fit", "sweep_smallest_oom", "sweep_resolution")
BOOLEAN_COLUMNS = ("git_dirty", "outlier", "channels_last")


def _is_integer(prop: dict[str, Any]) -> bool:
    ref = prop.get("$ref", "").rsplit("/", 1)[-1]
    return (prop.get("type") or _SCHEMA["$defs"].get(ref, {}).get("type")) == "integer"


_METRIC_PROPS = _SCHEMA["$defs"]["result"]["properties"]["metrics"]["properties"]
INTEGER_METRICS = tuple(m for m in METRICS if _is_integer(_METRIC_PROPS.get(m, {})))   # bytes, batch sizes
FLOAT_COLUMNS = tuple(m for m in METRICS if m not in INTEGER_METRICS) + DERIVED_COLUMNS


def unit_of(metric: str) -> str:
    return "" if metric in FRACTIONS else metric_rules.unit_of(metric)


def result_rows(runs: Iterable[dict[str, Any]], catalogue: Catalogue | None = None) -> list[dict[str, Any]]:
    """One flat dict per result (keys: COLUMNS that have a value), in dataset order.

    `catalogue`: the device catalogue for the fractions of peak (default: this checkout's; CatalogueError
    when it is invalid). A run that another run replaces (`provenance.source.replaces`) gives no rows.
    """
    catalogue = (catalogue if catalogue is not None else default_catalogue()).checked()
    runs = current_runs(list(runs))
    rows = []
    read: list[tuple[dict[str, Any], dict[str, Any]]] = []     # (row, result) to join fractions to, at the end
    judging = Judge()                                         # every result, judged at the end
    for run in runs:
        prov = run.get("provenance", {})
        source = prov.get("source", {})
        system = run.get("system", {})
        cpu, os_, software = system.get("cpu", {}), system.get("os", {}), system.get("software", {})
        base: dict[str, Any] = {
            "run_id": run.get("run_id"), "kind": prov.get("kind"), "source": source_label(run),
            "source_title": source.get("title"), "source_url": source.get("url"),
            "contributor": prov.get("contributor"), "started_at": run.get("started_at"),
            "cpu_model": cpu.get("model"), "cpu_vendor": cpu.get("vendor"),
            "cpu_logical_cores": cpu.get("logical_cores"), "memory_bytes": system.get("memory_bytes"),
            "os": os_.get("name"), "os_version": os_.get("version"), "kernel": os_.get("kernel"),
            "arch": os_.get("arch"), "python": software.get("python"), "cuda": software.get("cuda"),
            "cudnn": software.get("cudnn"), "rocm": software.get("rocm"), "storage": system.get("storage"),
            "cloud": prov.get("cloud"), "runner_version": prov.get("runner_version"),
            "git_commit": prov.get("git_commit"), "git_dirty": prov.get("git_dirty"),
        }
        for index, result in enumerate(run.get("results", [])):
            row = dict(base)
            row["result_index"] = index
            row.update({k: result.get(k) for k in RESULT_COLUMNS})
            if result.get("units"):     # the units its source states, as `metric=unit; ...`
                row["units"] = "; ".join(f"{k}={v}" for k, v in sorted(result["units"].items()))
            metrics = result.get("metrics", {})
            row.update({m: metrics.get(m) for m in METRICS})
            row.update(metric_rules.derived(metrics))
            row.update(record_fields(result))
            row["device"] = device_of(run, result)
            judging.add(run, result, row["device"])
            row["device_label"] = device_label(row["device"], result.get("device_kind"))
            acc = _accelerator_of(system, result, row["device"])
            if acc:
                row.update(accelerator=acc.get("normalized_name"), accelerator_count=acc.get("count"),
                           accelerator_memory_bytes=acc.get("memory_bytes"), driver_version=acc.get("driver_version"))
            rows.append({k: v for k, v in row.items() if v is not None})
            if "achieved_flops_per_s" in rows[-1] or "bandwidth_bytes_per_s" in rows[-1]:
                read.append((rows[-1], result))     # the only rows a fraction of peak is computed for
    join = FractionJoin(catalogue, ((row["device"], result) for row, result in read))
    for row, result in read:
        row.update(join.fractions(row["device"], result))
    for row, verdict in zip(rows, judging.judgements()):
        if verdict is not None:
            row.update(outlier=verdict.outlier, corroborated_by=verdict.corroborated_by,
                       group_size=verdict.group_size, outlier_metric=verdict.metric)
    return rows


def record_fields(result: dict[str, Any]) -> dict[str, Any]:
    """RECORD_COLUMNS of a result: its sweep's shape and its energy sensor, or why it has none."""
    out: dict[str, Any] = {}
    sweep = result.get("batch_sweep")
    if sweep:
        out.update(sweep_points=len(sweep.get("points", ())), sweep_largest_fit=sweep.get("largest_fit"),
                   sweep_smallest_oom=sweep.get("smallest_oom"), sweep_resolution=sweep.get("resolution"))
    energy = result.get("energy")
    if energy:
        out.update(energy_sensor=energy.get("sensor"), energy_covers=energy.get("covers"),
                   energy_missing=energy.get("missing"))
    return out


def sweeps(runs: Iterable[dict[str, Any]]) -> dict[tuple[str, int], dict[str, Any]]:
    """{(run_id, result_index): batch_sweep} of every result that is a batch-size sweep (replaced runs left out)."""
    return {(run.get("run_id"), i): result["batch_sweep"] for run in current_runs(list(runs))
            for i, result in enumerate(run.get("results", [])) if result.get("batch_sweep")}


def _accelerator_of(system: dict[str, Any], result: dict[str, Any], device: str) -> dict[str, Any] | None:
    if result.get("device_kind") == "cpu":
        return None
    accs = [a for a in system.get("accelerators", []) if a.get("kind") == result.get("device_kind")]
    named = [a for a in accs if a.get("normalized_name") == device]
    return (named or accs or [None])[0]


def read_runs_from(source: str | Path | None = None) -> list[dict[str, Any]]:
    """The runs of a repository root, a benchmark.json / benchmark.toml / fragment file, or an http(s) URL.

    Raises DatasetError (with what to do) when the source cannot be read.
    """
    if isinstance(source, str) and source.startswith(("http://", "https://")):
        import urllib.request  # only here: it is slow to import

        try:
            with urllib.request.urlopen(source, timeout=60) as resp:
                return _runs_of_json(json.loads(resp.read().decode("utf-8")), source)
        except (OSError, ValueError) as exc:
            raise DatasetError(f"{source}: cannot fetch the dataset: {exc}") from exc
    path = Path(source) if source is not None else _default_root()
    if path.is_dir():
        layout = Layout(path)
        if canonical_files(path):          # every canonical file: data/benchmark.toml and the imported parts
            return all_runs(layout)
        if layout.json.exists():           # a published copy without the TOML: its main part only
            return read_runs_from(layout.json)
        raise DatasetError(f"{path}: no data/benchmark.toml or data/imported/ here: give the repository root or a "
                           "dataset file")
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise DatasetError(f"{path}: cannot read: {exc.strerror or exc}") from exc
    if path.suffix == ".json":
        try:
            return _runs_of_json(json.loads(raw.decode("utf-8")), str(path))
        except ValueError as exc:
            raise DatasetError(f"{path}: not valid JSON ({exc}): regenerate it with `python tools/merge.py`") from exc
    loaded = parse_toml_bytes(raw, str(path), fast=True)
    if loaded.data is None or loaded.problems:
        first = loaded.problems[0].format() if loaded.problems else f"{path}: unreadable"
        raise DatasetError(f"{first} (run `python tools/validate.py {path}`)")
    return loaded.data["runs"] if "runs" in loaded.data else [loaded.data]


def _runs_of_json(doc: Any, where: str) -> list[dict[str, Any]]:
    runs = doc.get("runs") if isinstance(doc, dict) else doc
    if not isinstance(runs, list):
        raise DatasetError(f"{where}: no list of runs: expected data/benchmark.json's {{\"runs\": [...]}}")
    return runs


def _default_root() -> Path:
    cwd = Path.cwd()
    return cwd if (cwd / "data" / "benchmark.toml").exists() else REPO_ROOT


def load_results(path_or_root: str | Path | None = None):
    """Every result as a pandas DataFrame, one row per result with the columns COLUMNS.

    `path_or_root`: a repository root (default: the current directory when it holds data/, else this
    checkout), a benchmark.json, benchmark.toml or fragment file, or the http(s) URL of a benchmark.json.
    """
    return frame(result_rows(read_runs_from(path_or_root), catalogue_for(path_or_root)))


def catalogue_for(source: str | Path | None = None) -> Catalogue:
    """The device catalogue a dataset source is read against: its repository's own, else this checkout's.

    The repository of a source is the root itself, or the root whose `data/` holds the given file.
    """
    if isinstance(source, str) and source.startswith(("http://", "https://")):
        return default_catalogue()
    path = Path(source) if source is not None else _default_root()
    if path.is_dir():
        return for_root(path)
    if path.parent.name == "data":
        return for_root(path.parent.parent)
    return default_catalogue()


def frame(rows: list[dict[str, Any]]):
    """Rows from `result_rows` as a DataFrame with fixed columns and dtypes."""
    import pandas as pd

    df = pd.DataFrame.from_records(rows, columns=list(COLUMNS))
    for col in INTEGER_COLUMNS + INTEGER_METRICS:
        df[col] = pd.array(df[col], dtype="Int64")
    for col in FLOAT_COLUMNS:
        df[col] = pd.to_numeric(df[col], errors="coerce").astype("float64")
    for col in BOOLEAN_COLUMNS:
        df[col] = pd.array(df[col], dtype="boolean")
    text = "str" if int(pd.__version__.split(".")[0]) >= 3 else object   # missing stays missing, never "nan"
    typed = set(INTEGER_COLUMNS) | set(FLOAT_COLUMNS) | set(METRICS) | set(BOOLEAN_COLUMNS)
    for col in COLUMNS:
        if col not in typed:
            df[col] = df[col].astype(text)
    return df
