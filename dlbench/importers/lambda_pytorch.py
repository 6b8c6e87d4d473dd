"""Lambda's PyTorch training benchmark (lambdal/deeplearning-benchmark): throughput tables with their
batch-size tables, as imported runs (`tools/import_published.py SOURCE CHECKOUT --commit SHA`).

- `lambda-pytorch` (pinned aa5addb6): the current tables `pytorch/csv_v1_v2/pytorch-train-throughput-{fp16,
  fp32}.csv` and the older `pytorch/pytorch-train-throughput-{fp16,fp32}.csv` (adds ncf and Transformer-XL;
  `num_gpu` written `1.0`), each with its `-bs-` twin; workloads `lambda-pytorch-<model>`. A system in both
  tables gives two runs, as published (the row key and the path name the table).
- `lambda-pytorch-2022` (pinned 67a9bb51): the same paths at that commit (NGC 20.01/20.10 containers), a suite
  of its own (`lambda-pytorch-2022-<model>`; its row keys start `2022 table:`).
- The `-v2-` tables are not read: one row per machine (host addresses in the name), no `num_gpu`, `watt`,
  `price` or batch table; the current table publishes the figures picked from them.

Reading: columns `name_gpu,num_gpu,watt,price,<the table's model columns>` by name, in any order. One run
per throughput row (GPU type x count), one result per model cell. Figures, `watt` and `price` are TOTALS over
`num_gpu`: `device_count` = `num_gpu`, the metric the published total. The batch table's row for the same
system (same `name_gpu` and `num_gpu`, or a spelling `SAME_SYSTEM` declares equal) gives each cell's GLOBAL
batch: `batch_size` (per device) = global / num_gpu when it divides, else absent; the global batch stays in
`provenance.original` as `bs_<column>`, beside the row's cells as written. A row without its twin is an error.
A `0`/`-1` (or empty) cell is no result (a run that did not happen or failed); a 0 batch leaves `batch_size` out.

Protocol: NVIDIA DeepLearningExamples models trained for a fixed number of iterations after warm-up, not to an
accuracy (SSD 200 timed after 50 warm-up, ResNet-50 100 steps on synthetic data, Transformer-XL 400 steps):
that is the `step` scenario's kind of measurement, though most models read their real datasets. Precision:
"fp16" tables ran SSD and ResNet-50 with automatic mixed precision (`mixed-fp16`; the 2022 table's ResNet-50
ran the `--fp16` task: `fp16`) and the others in FP16; "fp32" tables are `fp32`, but on Ampere and later
GPUs the containers very likely let FP32 matrix math use TF32 (UNCONFIRMED: said in `provenance.notes`).
Units: ssd, resnet50, maskrcnn images/s; bert sequences/s; gnmt, Transformer-XL tokens/s; ncf samples/s;
tacotron2, waveglow "items/s" (mel frames / audio samples per second: UNCONFIRMED).

Device strings go through explicit tables (`HOSTS`, `INSTANCES`, `GPUS`): optional host prefix, optional
count (`8x `), GPU model string, optional `NVLink`; anything else is an error, and a count in the name must
equal `num_gpu`. No license in any commit: figures imported as attributed facts.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..contract.device_names import normalize_name
from .common import imported_run
from .published import (NOT_RUN, InputError, Pin, Reading, SourceFile, collect, csv_rows, number, problem,
                        read_source, whole)
from .sources import Source

REPOSITORY = "lambdal/deeplearning-benchmark"
PINNED = "aa5addb6a53675a649a80036dad548f1c27cbcc4"
PINNED_2022 = "67a9bb5128d51299376bc72e02ec7459f82efe38"
TITLE = "Lambda deep learning benchmarks (PyTorch)"
LICENSE = "none declared"
ATTRIBUTION = ("Lambda, lambdal/deeplearning-benchmark (no license declared: figures imported as attributed "
               "facts)")


@dataclass(frozen=True)
class Model:
    name: str                   # the model's name (DeepLearningExamples, tf_cnn_benchmarks)
    metric: str
    unit: str
    dataset: str | None


_ITEMS = "items/s (mel frames / audio samples per second: UNCONFIRMED)"
_SAMPLES, _TOKENS = "throughput_samples_per_s", "throughput_tokens_per_s"
MODELS: dict[str, Model] = {
    "ssd": Model("SSD300 v1.1", _SAMPLES, "images/s", "coco-2017"),
    "bert_base_squad": Model("BERT-base (SQuAD fine-tuning)", _SAMPLES, "sequences/s", "squad-v1.1"),
    "bert_large_squad": Model("BERT-large (SQuAD fine-tuning)", _SAMPLES, "sequences/s", "squad-v1.1"),
    "gnmt": Model("GNMT v2", _TOKENS, "tokens/s", "wmt16-en-de"),
    "ncf": Model("NCF", _SAMPLES, "samples/s", "movielens-20m"),
    "resnet50": Model("ResNet-50 v1.5", _SAMPLES, "images/s", "synthetic"),
    "maskrcnn": Model("Mask R-CNN", _SAMPLES, "images/s", "coco-2017"),
    "tacotron2": Model("Tacotron 2", _SAMPLES, _ITEMS, "ljspeech-1.1"),
    "transformerxlbase": Model("Transformer-XL base", _TOKENS, "tokens/s", "wikitext-103"),
    "transformerxllarge": Model("Transformer-XL large", _TOKENS, "tokens/s", "wikitext-103"),
    "waveglow": Model("WaveGlow", _SAMPLES, _ITEMS, "ljspeech-1.1"),
}

# --- Device strings -------------------------------------------------------------------------------------
# GPU model strings as Lambda writes them -> (the name the driver reports, Ampere or later). The normalized
# name is normalize_name(driver name). Ambiguous ones, chosen by the tables' own `watt` column (per GPU):
# "V100 16GB" (only on Lambda Cloud, 300 W) is the SXM2 part; "V100 32GB" (250 W) the PCIe part (SXM2 is
# 300 W); "H100 80GB PCIe Gen5" is the H100 PCIe card (Gen5 is its host interface); "GH200 96GB" (the HBM3
# Grace Hopper) reports "NVIDIA GH200 480GB"; "RTX 3080 Max-Q" is the Ampere laptop part ("Laptop GPU").
GPUS: dict[str, tuple[str, bool]] = {
    "A10": ("NVIDIA A10", True),
    "A100 40GB PCIe": ("NVIDIA A100-PCIE-40GB", True),
    "A100 40GB SXM4": ("NVIDIA A100-SXM4-40GB", True),
    "A100 80GB PCIe": ("NVIDIA A100 80GB PCIe", True),
    "A100 80GB SXM4": ("NVIDIA A100-SXM4-80GB", True),
    "B200 192GB SXM5": ("NVIDIA B200", True),
    "GH200 96GB": ("NVIDIA GH200 480GB", True),
    "GTX 1080Ti": ("NVIDIA GeForce GTX 1080 Ti", False),
    "H100 80GB PCIe": ("NVIDIA H100 PCIe", True),
    "H100 80GB PCIe Gen5": ("NVIDIA H100 PCIe", True),
    "H100 80GB SXM5": ("NVIDIA H100 80GB HBM3", True),
    "Quadro RTX 5000": ("Quadro RTX 5000", False), "Quadro RTX 6000": ("Quadro RTX 6000", False),
    "Quadro RTX 8000": ("Quadro RTX 8000", False),
    "Quadro RTX 8000 V1": ("Quadro RTX 8000", False),     # 2022: the run in the 20.10 container
    "RTX 8000": ("Quadro RTX 8000", False),               # TensorFlow tables
    "RTX Quadro 8000": ("Quadro RTX 8000", False),        # 2022 throughput table's spelling
    "RTX 2070 MAX-Q": ("NVIDIA GeForce RTX 2070 with Max-Q Design", False),
    "RTX 2080 MAX-Q": ("NVIDIA GeForce RTX 2080 with Max-Q Design", False),
    "RTX 2080 SUPER MAX-Q": ("NVIDIA GeForce RTX 2080 Super with Max-Q Design", False),
    "RTX 2080Ti": ("NVIDIA GeForce RTX 2080 Ti", False),
    "RTX 3070": ("NVIDIA GeForce RTX 3070", True), "RTX 3080": ("NVIDIA GeForce RTX 3080", True),
    "RTX 3080 Max-Q": ("NVIDIA GeForce RTX 3080 Laptop GPU", True),
    "RTX 3090": ("NVIDIA GeForce RTX 3090", True), "RTX 4090": ("NVIDIA GeForce RTX 4090", True),
    "RTX 6000 Ada": ("NVIDIA RTX 6000 Ada Generation", True),
    "RTX A40": ("NVIDIA A40", True), "RTX A4000": ("NVIDIA RTX A4000", True),
    "RTX A4500": ("NVIDIA RTX A4500", True), "RTX A5000": ("NVIDIA RTX A5000", True),
    "RTX A5500": ("NVIDIA RTX A5500", True), "RTX A6000": ("NVIDIA RTX A6000", True),
    "Titan RTX": ("NVIDIA TITAN RTX", False),
    "V100 16GB": ("Tesla V100-SXM2-16GB", False),
    "V100 32GB": ("Tesla V100-PCIE-32GB", False),
}
# Model strings that name the same system in a throughput table and its batch table (twins).
SAME_SYSTEM = {"RTX Quadro 8000": "Quadro RTX 8000"}
# Host prefixes -> (cloud, or None; a note). Dell, DellTexas, SMC, 1CC and RAIDZ1 name the machines (vendor
# or site) of Lambda's H100 runs; the source does not explain them further.
HOSTS: dict[str, tuple[str | None, str | None]] = {
    "LambdaCloud": ("Lambda Cloud", None),
    "Lambda Cloud —": ("Lambda Cloud", None),
    "Linode Cloud —": ("Linode", None),
    **{p: (None, f"system named with the prefix '{p}' by the source (its machine or site)")
       for p in ("Dell", "DellTexas", "SMC", "1CC", "RAIDZ1")},
}
# Cloud instance types written instead of a GPU -> (GPU model string, GPU count, cloud).
INSTANCES: dict[str, tuple[str, int, str]] = {
    "p3.16xlarge": ("V100 16GB", 8, "aws p3.16xlarge"),
    "p3.8xlarge": ("V100 16GB", 4, "aws p3.8xlarge"),
    "p4d.24xlarge": ("A100 40GB SXM4", 8, "aws p4d.24xlarge"),
}
_COUNT = re.compile(r"^([0-9]+)x\s*(.*)$")


@dataclass(frozen=True)
class Device:
    name: str                  # the GPU part of the string as published
    normalized: str
    count: int | None          # GPU count the string states
    cloud: str | None
    notes: tuple[str, ...]
    modern: bool               # Ampere or later
    twin: tuple                # the system, for finding the batch row


def device(raw: str, file: str, line: int | None) -> Device:
    """A device string through the explicit tables; InputError naming it when any part is unknown."""
    text = " ".join(raw.split())
    if text in INSTANCES:
        gpu, count, cloud = INSTANCES[text]
        driver, modern = GPUS[gpu]
        return Device(driver, normalize_name(driver), count, cloud, (), modern, (text,))
    host, cloud, notes = None, None, []
    for prefix in sorted(HOSTS, key=len, reverse=True):
        if text.startswith(prefix + " "):
            host, text = prefix, text[len(prefix) + 1:]
            cloud, note = HOSTS[prefix]
            notes += [note] if note else []
            break
    count = None
    counted = _COUNT.match(text)
    if counted:
        count, text = int(counted.group(1)), counted.group(2)
    nvlink = text.endswith(" NVLink")
    if nvlink:
        text = text[:-len(" NVLink")]
        notes.append("GPUs joined by NVLink bridges (as the name says)")
    if text not in GPUS:
        raise InputError([problem(file, line, "name_gpu", f"unknown device string {raw!r}: add its GPU model "
                                  f"({text!r}) to the importer's device table (GPUS, HOSTS or INSTANCES in "
                                  f"{__name__}) with the name its driver reports (never guessed)")])
    driver, modern = GPUS[text]
    place = cloud or host
    return Device(text, normalize_name(driver), count, cloud, tuple(notes), modern,
                  (place, SAME_SYSTEM.get(text, text), nvlink))


# --- Tables ---------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Table:
    """One throughput table and its batch-size twin, and how to read them."""

    throughput: str
    batch: str
    precision: str                      # the file's: "fp16" or "fp32"
    models: tuple[str, ...]             # its model columns
    prefix: str                         # workload-id prefix
    label: str | None                   # written before the row key ("older table")
    section: str
    notes: str
    framework: str = "torch"
    extra: tuple[str, ...] = ("watt", "price")
    mixed: frozenset[str] = frozenset({"ssd", "resnet50"})   # fp16 cells run with automatic mixed precision
    models_info: dict[str, Model] = field(default_factory=lambda: MODELS)
    tf32_note: str = ("fp32 table on an Ampere or later GPU: the NGC container very likely let FP32 matrix math "
                      "use TF32 (UNCONFIRMED); recorded as fp32, as published")


_CURRENT = ("ssd", "bert_base_squad", "bert_large_squad", "gnmt", "resnet50", "tacotron2", "waveglow")
_OLDER = _CURRENT + ("ncf", "transformerxlbase", "transformerxllarge")
_Y2022 = _CURRENT + ("maskrcnn", "transformerxlbase", "transformerxllarge")
_TOTALS = "figures, watt and price are totals over num_gpu; batch sizes are global (batch-size table)"


def _tables_current() -> list[Table]:
    out = []
    for p in ("fp16", "fp32"):
        out.append(Table(f"pytorch/csv_v1_v2/pytorch-train-throughput-{p}.csv",
                         f"pytorch/csv_v1_v2/pytorch-train-bs-{p}.csv", p, _CURRENT, "lambda-pytorch", None,
                         f"current table (csv_v1_v2), {p}", "Lambda PyTorch training benchmark, current table: "
                         "DeepLearningExamples in NGC PyTorch containers (22.09 for v1 rows, 24.10 for v2 rows); "
                         + _TOTALS))
        out.append(Table(f"pytorch/pytorch-train-throughput-{p}.csv", f"pytorch/pytorch-train-bs-{p}.csv", p, _OLDER,
                         "lambda-pytorch", "older table", f"older table (pytorch/), {p}",
                         "Lambda PyTorch training benchmark, older table: DeepLearningExamples in the NGC PyTorch "
                         "22.09 container; " + _TOTALS))
    return out


def _tables_2022() -> list[Table]:
    return [Table(f"pytorch/pytorch-train-throughput-{p}.csv", f"pytorch/pytorch-train-bs-{p}.csv", p, _Y2022,
                  "lambda-pytorch-2022", "2022 table", f"2022 table, {p}",
                  "Lambda PyTorch training benchmark, 2022 table: DeepLearningExamples in NGC PyTorch 20.01 and "
                  "20.10 containers (not comparable with the newer tables); " + _TOTALS,
                  mixed=frozenset({"ssd"}))
            for p in ("fp16", "fp32")]


def precision_of(table: Table, column: str) -> str:
    if table.precision == "fp32":
        return "fp32"
    return "mixed-fp16" if column in table.mixed else "fp16"


def _figure(value: float) -> int | float:
    return int(value) if value == int(value) else value


def _columns(table: Table) -> dict[str, tuple[str, ...]]:
    return {name: (name,) for name in ("name_gpu", "num_gpu", *table.extra, *table.models)}


def _system_of(row, source: SourceFile) -> tuple[str, int, Device]:
    """(name_gpu, num_gpu, device) of a row; InputError when the name, count or their agreement is wrong."""
    raw = row.get("name_gpu")
    if raw is None:
        raise InputError([problem(source.display, row.line, "name_gpu", "empty: every row names its system")])
    cell = row.get("num_gpu") or ""
    count = number(cell, source.display, row.line, "num_gpu")
    if count is NOT_RUN:
        raise InputError([problem(source.display, row.line, "num_gpu", f"{cell!r} is not a GPU count")])
    n = whole(count, source.display, row.line, "num_gpu")
    dev = device(raw, source.display, row.line)
    if (dev.count or 1) != n:
        raise InputError([problem(source.display, row.line, "num_gpu", f"num_gpu {cell} disagrees with the "
                                  f"{dev.count or 1} GPU(s) the name {raw!r} states: a shifted or mistyped row?")])
    return raw, n, dev


def _index(rows, source: SourceFile) -> tuple[dict, list]:
    """Rows by system (name through the device table, count); problems for unreadable or repeated rows."""
    by_key: dict[tuple, tuple[Any, str, int, Device]] = {}
    problems = []
    for row in rows:
        try:
            raw, n, dev = _system_of(row, source)
        except InputError as exc:
            problems += exc.problems
            continue
        key = (dev.twin, n)
        if key in by_key:
            problems.append(problem(source.display, row.line, "name_gpu", f"{raw!r} (num_gpu {n}) names the same "
                                    f"system as line {by_key[key][0].line}: which row holds the figures?"))
            continue
        by_key[key] = (row, raw, n, dev)
    return by_key, problems


def read_table(folder: Path, pin: Pin, table: Table, title: str = TITLE, license: str = LICENSE,
               attribution: str = ATTRIBUTION) -> tuple[list[dict[str, Any]], int]:
    """(runs, skipped 0/-1 cells) of one throughput table and its batch table; InputError with every problem."""
    tput = read_source(folder, table.throughput, pin, title, license, attribution)
    bs = read_source(folder, table.batch, pin, title, license, attribution)
    problems, tables = [], []
    for src in (tput, bs):
        try:
            tables.append(csv_rows(src, _columns(table), _columns(table)))
        except InputError as exc:
            problems += exc.problems
    if problems:
        raise InputError(problems)
    (_, t_rows), (_, b_rows) = tables
    t_index, t_problems = _index(t_rows, tput)
    b_index, b_problems = _index(b_rows, bs)
    problems = t_problems + b_problems
    for key, (row, raw, _n, _d) in b_index.items():
        if key not in t_index:
            problems.append(problem(bs.display, row.line, "name_gpu", f"{raw!r} (num_gpu {key[1]}) has no row in "
                                    f"{tput.display}: the two tables must list the same systems"))
    skipped = [0]

    def one(item):
        key, (row, raw, n, dev) = item
        twin = b_index.get(key)
        if twin is None:
            raise InputError([problem(tput.display, row.line, "name_gpu", f"{raw!r} (num_gpu {n}) has no row in "
                                      f"the batch-size table {bs.display}: its batch sizes are unknown")])
        return _run(table, tput, bs, row, twin[0], raw, n, dev, skipped)

    runs, more = collect(sorted(t_index.items(), key=lambda kv: kv[1][0].line), one)
    problems += more
    if problems:
        raise InputError(problems)
    return runs, skipped[0]


def _run(table: Table, tput: SourceFile, bs: SourceFile, row, b_row, raw: str, n: int, dev: Device,
         skipped: list[int]) -> dict[str, Any]:
    problems, results, notes = [], [], [table.notes, *dev.notes]
    for extra in table.extra:
        try:
            if row.get(extra) is not None:
                number(row.get(extra), tput.display, row.line, extra)
        except InputError as exc:
            problems += exc.problems
    for column in table.models:
        if row.get(column) is None:         # an empty cell is absent
            skipped[0] += 1
            continue
        try:
            value = number(row.get(column), tput.display, row.line, column)
            batch = number(b_row.get(column) or "0", bs.display, b_row.line, column)
        except InputError as exc:
            problems += exc.problems
            continue
        if value is NOT_RUN:
            skipped[0] += 1
            continue
        model = table.models_info[column]
        result: dict[str, Any] = {
            "benchmark": f"{table.prefix}-{column.replace('_', '-')}", "scenario": "step",
            "framework": table.framework, "model": model.name}
        if model.dataset:
            result["dataset"] = model.dataset
        result |= {"device_kind": "cuda", "device_name": dev.normalized, "device_count": n}
        if n > 1:
            result["strategy"] = "data-parallel"
        result["precision"] = precision_of(table, column)
        if batch is NOT_RUN:
            notes.append(f"{column}: the batch-size table gives no batch ({b_row.get(column)!r})")
        elif batch != int(batch):
            problems.append(problem(bs.display, b_row.line, column, f"{b_row.get(column)!r} is not a whole batch"))
        elif int(batch) % n == 0:
            result["batch_size"] = int(batch) // n
        result |= {"status": "ok", "metrics": {model.metric: _figure(value)}, "units": {model.metric: model.unit}}
        results.append(result)
    if problems:
        raise InputError(problems)
    if table.precision == "fp32" and dev.modern and results:
        notes.append(table.tf32_note)
    original = dict(row.raw) | {f"bs_{c}": b_row.cells[c] for c in table.models}
    row_key = f"name_gpu={raw}, num_gpu={n}"
    source = tput.record(f"{table.label}: {row_key}" if table.label else row_key, device=raw,
                         section=table.section, also=[bs],
                         also_what="global batch size of each model cell (the row of the same system)")
    system = {"accelerators": [{"kind": "cuda", "vendor": "NVIDIA", "name": dev.name,
                                "normalized_name": dev.normalized, "count": n}]}
    return imported_run(source, original, system, results, notes="; ".join(notes), cloud=dev.cloud)


def read_tables(folder: Path, pin: Pin, tables: list[Table], **terms: str) -> Reading:
    """Every run of these tables, all or nothing (InputError with the problems of every table), and how many
    cells of each were 0, -1 or empty (no result)."""
    runs, problems, skipped = [], [], []
    for table in tables:
        try:
            found, cells = read_table(folder, pin, table, **terms)
        except InputError as exc:
            problems += exc.problems
            continue
        runs += found
        if cells:
            skipped.append(f"{folder / table.throughput}: {cells} cell{'s' if cells != 1 else ''} of 0, -1 or "
                           "nothing (a run that did not happen or failed: no result, the cell kept in original)")
    if problems:
        raise InputError(problems)
    return Reading(runs, skipped)


def read(folder: Path, pin: Pin) -> Reading:
    """`lambda-pytorch`: the current and the older tables (fp16 and fp32) of a checkout."""
    return read_tables(folder, pin, _tables_current())


def read_2022(folder: Path, pin: Pin) -> Reading:
    """`lambda-pytorch-2022`: the 2022 tables (fp16 and fp32) of a checkout at that commit."""
    return read_tables(folder, pin, _tables_2022())


SOURCES = (
    Source("lambda-pytorch", REPOSITORY, "Lambda PyTorch training throughput (current and older tables) with "
           "their batch-size tables", "pytorch/csv_v1_v2/pytorch-train-{throughput,bs}-{fp16,fp32}.csv and "
           "pytorch/pytorch-train-{throughput,bs}-{fp16,fp32}.csv", PINNED, read=read),
    Source("lambda-pytorch-2022", REPOSITORY, "Lambda PyTorch training throughput, 2022 table (a suite of its "
           "own)", "pytorch/pytorch-train-{throughput,bs}-{fp16,fp32}.csv at the 2022 commit", PINNED_2022,
           read=read_2022),
)
