"""timm's published benchmark tables (huggingface/pytorch-image-models `results/benchmark-*.csv`) as runs.

Every `results/benchmark-*.csv` of a checkout is read: inference and training, every precision, layout and
compile variant, the GPU and the CPU files. What the rows do not say, the file name does:

    benchmark-{infer|train}-{amp|amp_bf16|bf16|fp32}-{nchw|nhwc}-pt{torch}-{cu{cuda}|cpu}-{device}[-dynamo].csv

- `amp` is float16 autocast (`mixed-fp16`), `amp_bf16` bfloat16 autocast (`mixed-bf16`), `bf16` the model in
  bfloat16 (`bf16`), `fp32` float32; `nhwc` is channels-last (`channels_last = true`), `nchw` the default
  layout (`false`); `-dynamo` is `torch.compile`, else `eager`;
- `pt{torch}` is the PyTorch version and `cu{cuda}` the CUDA version, both through explicit tables
  (TORCH_VERSIONS, CUDA_VERSIONS); `cpu` means the CPU device named by the last token;
- the device token through an explicit table (DEVICES) to the name the device's driver reports (the CPU's
  model string for the CPU files), normalized. An unknown token, or a name of another shape, is an
  InputError naming the file: never a guess.

Columns are read by header name, in any order (the files differ). One run per row, keyed by (model, image
size); a model can appear at several resolutions, but a key that repeats in one file is an error naming both
lines. A row becomes one result:

- workload `timm-infer-<model>-<size>` or `timm-train-<model>-<size>` (the model name lower-cased, every run
  of other characters than [a-z0-9] turned into `-`); scenario `infer`, or `step` for training (timm's train
  benchmark times training steps on synthetic input); dataset `synthetic`; `model` is timm's name as written;
- `parameters` = round(param_count x 1e6): timm publishes millions rounded to 0.01 M, so the last four
  digits are not the model's;
- `flops_per_sample` = round(2 x infer_gmacs x 1e9) where the file states GMACs (multiply-adds per sample,
  rounded by timm to 0.01 G: for the smallest models the figure is coarse); a GMACs cell of 0 is absent;
- `batch_size` as published (one device: timm's benchmark runs on one);
- metrics: `throughput_samples_per_s` (images/s), for inference `forward_ms` (`infer_step_time`: ms per
  batch, a forward pass) and for training `step_ms` (`train_step_time`: ms per training step), and
  `achieved_flops_per_s` where FLOPs are known (inference: flops_per_sample x images/s; the training files
  state no GMACs, so their rows have none).

A throughput cell that is empty, `0` or `-1` is not a result: the row is skipped (`scan` counts them). Every
run keeps the row's cells as written and the file name in `provenance.original`, and its pinned source
(repository, path, commit, SHA-256, the row's key `model=..., img_size=...`, the device token as written).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..contract.device_names import normalize_name
from ..contract.problems import Problem
from .common import imported_run
from .published import (NOT_RUN, InputError, Pin, Reading, Row, SourceFile, collect, csv_rows, device_table,
                        files_matching, number, problem, read_source, whole)
from .sources import Source

REPOSITORY = "huggingface/pytorch-image-models"
PINNED = "aa4b5850c1543fa488abf260f18390eda46cf85d"
FILES = "results/benchmark-*.csv"
TITLE = "timm (PyTorch Image Models) benchmark results"
LICENSE = "Apache-2.0"
ATTRIBUTION = ("timm benchmark results by Ross Wightman and Hugging Face, huggingface/pytorch-image-models, "
               "Apache License 2.0")

_NAME = re.compile(r"^benchmark-(?P<mode>infer|train)-(?P<precision>amp_bf16|amp|bf16|fp32)-(?P<layout>nchw|nhwc)"
                   r"-pt(?P<torch>[0-9]+)-(?:cu(?P<cuda>[0-9]+)|(?P<cpu>cpu))-(?P<device>[a-z0-9_]+?)"
                   r"(?P<dynamo>-dynamo)?\.csv$")
PRECISIONS = {"amp": "mixed-fp16", "amp_bf16": "mixed-bf16", "bf16": "bf16", "fp32": "fp32"}
# The `pt` tokens of the file names: PyTorch's version (written without dots, so a table, not a rule).
TORCH_VERSIONS = {"112": "1.12", "113": "1.13", "210": "2.1.0", "221": "2.2.1", "240": "2.4.0", "291": "2.9.1"}
CUDA_VERSIONS = {"113": "11.3", "117": "11.7", "121": "12.1", "124": "12.4", "128": "12.8", "130": "13.0"}


@dataclass(frozen=True)
class Device:
    kind: str                 # "cuda" or "cpu"
    name: str                 # as the driver reports it (GPUs) or the CPU's model
    vendor: str


# The device tokens of the file names (their spelling changed between files) -> the device.
DEVICES: dict[str, Device] = {
    "rtx3090": Device("cuda", "NVIDIA GeForce RTX 3090", "NVIDIA"),
    "3090": Device("cuda", "NVIDIA GeForce RTX 3090", "NVIDIA"),
    "rtx4090": Device("cuda", "NVIDIA GeForce RTX 4090", "NVIDIA"),
    "4090": Device("cuda", "NVIDIA GeForce RTX 4090", "NVIDIA"),
    "5090": Device("cuda", "NVIDIA GeForce RTX 5090", "NVIDIA"),
    # The Max-Q (300 W) workstation card, by the name its driver reports.
    "pro6000maxq": Device("cuda", "NVIDIA RTX PRO 6000 Blackwell Max-Q Workstation Edition", "NVIDIA"),
    "i9_10940x": Device("cpu", "Intel Core i9-10940X", "Intel"),
    "i7_12700h": Device("cpu", "Intel Core i7-12700H", "Intel"),
}
_NORMALIZED = {token: (d.name if d.kind == "cpu" else normalize_name(d.name)) for token, d in DEVICES.items()}

# The columns of each kind of file, by header name (the files order them differently); any other header
# is an error. The training files state no GMACs.
INFER_COLUMNS = ("model", "infer_img_size", "infer_samples_per_sec", "infer_step_time", "infer_batch_size",
                 "param_count", "infer_gmacs", "infer_macts")
TRAIN_COLUMNS = ("model", "train_img_size", "train_samples_per_sec", "train_step_time", "train_batch_size",
                 "param_count")
OPTIONAL = ("infer_gmacs", "infer_macts")
MAX_ID = 100


@dataclass(frozen=True)
class FileSetting:
    """What a file's name says about every row of it."""

    mode: str                 # "infer" or "train"
    precision: str
    channels_last: bool
    compile: str
    torch: str
    cuda: str | None
    token: str                # the device token as written
    device: Device
    device_name: str          # normalized


@dataclass
class Scan:
    """What a checkout gave: the runs, and the rows that are not results (file, line, why)."""

    runs: list[dict[str, Any]] = field(default_factory=list)
    skipped: list[tuple[str, int, str]] = field(default_factory=list)
    files: int = 0


def parse_name(name: str, display: str) -> FileSetting:
    """The setting a file name states; InputError naming the file when it does not parse or a token is unknown."""
    m = _NAME.match(name)
    if m is None:
        raise InputError([problem(display, None, None, f"file name {name!r} is not of the form benchmark-"
                                  "{infer|train}-{amp|amp_bf16|bf16|fp32}-{nchw|nhwc}-pt<torch>-{cu<cuda>|cpu}-"
                                  "<device>[-dynamo].csv: its setting cannot be read; rename it or extend the "
                                  "importer")])
    problems: list[Problem] = []
    torch = TORCH_VERSIONS.get(m["torch"])
    if torch is None:
        problems.append(problem(display, None, None, f"unknown PyTorch token 'pt{m['torch']}' in the file name: "
                                "add it to TORCH_VERSIONS with the version it stands for"))
    cuda = None
    if m["cuda"] is not None:
        cuda = CUDA_VERSIONS.get(m["cuda"])
        if cuda is None:
            problems.append(problem(display, None, None, f"unknown CUDA token 'cu{m['cuda']}' in the file name: "
                                    "add it to CUDA_VERSIONS with the version it stands for"))
    token = m["device"]
    try:
        device_name = device_table(_NORMALIZED, token, display, None, "device")
    except InputError as exc:
        problems += exc.problems
        device_name = ""
    device = DEVICES.get(token)
    if device is not None and (device.kind == "cpu") != (m["cpu"] is not None):
        problems.append(problem(display, None, "device", f"device {token!r} is a {device.kind} device but the file "
                                f"name says {'cpu' if m['cpu'] else 'cu' + m['cuda']}: the name contradicts itself"))
    if problems:
        raise InputError(problems)
    assert device is not None and torch is not None
    return FileSetting(m["mode"], PRECISIONS[m["precision"]], m["layout"] == "nhwc",
                       "torch.compile" if m["dynamo"] else "eager", torch, cuda, token, device, device_name)


def workload_id(mode: str, model: str, size: int) -> str:
    return f"timm-{mode}-" + re.sub(r"[^a-z0-9]+", "-", model.lower()).strip("-") + f"-{size}"


def _cell(row: Row, name: str, source: SourceFile) -> Any:
    """A numeric cell: a float, NOT_RUN, or None when the file has no such column or the cell is empty."""
    raw = row.get(name)
    return None if raw is None else number(raw, source.display, row.line, name)


def _system(setting: FileSetting) -> dict[str, Any]:
    dev = setting.device
    if dev.kind == "cpu":
        return {"cpu": {"model": dev.name, "vendor": dev.vendor}}
    system: dict[str, Any] = {"accelerators": [{"kind": dev.kind, "vendor": dev.vendor, "name": dev.name,
                                                "normalized_name": setting.device_name, "count": 1}]}
    if setting.cuda:
        system["software"] = {"cuda": setting.cuda}
    return system


def _run(source: SourceFile, setting: FileSetting, row: Row, scan: Scan) -> dict[str, Any] | None:
    file, line, mode = source.display, row.line, setting.mode
    model = row.get("model")
    if model is None:
        raise InputError([problem(file, line, "model", "empty model name: every row names its model")])
    size = whole(_key_size(row, source, mode), file, line, f"{mode}_img_size")
    columns = INFER_COLUMNS if mode == "infer" else TRAIN_COLUMNS
    cells = {name: _cell(row, name, source) for name in columns if name not in ("model", f"{mode}_img_size")}
    throughput = cells[f"{mode}_samples_per_sec"]
    if throughput is None or throughput is NOT_RUN:
        scan.skipped.append((file, line, f"{mode}_samples_per_sec is "
                             f"{'empty' if throughput is None else repr(row.get(f'{mode}_samples_per_sec'))}"))
        return None
    missing = [n for n in (f"{mode}_step_time", f"{mode}_batch_size", "param_count") if cells[n] in (None, NOT_RUN)]
    if missing:
        raise InputError([problem(file, line, missing[0], f"{', '.join(missing)} empty or 0 beside a throughput of "
                                  f"{throughput:g}: a result states them all")])
    result: dict[str, Any] = {
        "benchmark": workload_id(mode, model, size), "scenario": "infer" if mode == "infer" else "step",
        "framework": "torch", "framework_version": setting.torch, "model": model,
        "parameters": round(cells["param_count"] * 1e6)}
    gmacs = cells.get("infer_gmacs")
    flops = round(2 * gmacs * 1e9) if isinstance(gmacs, float) else None
    if flops:
        result["flops_per_sample"] = flops
    result |= {"dataset": "synthetic", "device_kind": setting.device.kind, "device_name": setting.device_name,
               "device_count": 1, "precision": setting.precision, "compile": setting.compile,
               "channels_last": setting.channels_last,
               "batch_size": whole(cells[f"{mode}_batch_size"], file, line, f"{mode}_batch_size"), "status": "ok"}
    time_metric = "forward_ms" if mode == "infer" else "step_ms"
    metrics: dict[str, Any] = {"throughput_samples_per_s": throughput, time_metric: cells[f"{mode}_step_time"]}
    units = {"throughput_samples_per_s": "images/s", time_metric: "ms per batch"}
    if flops and mode == "infer":
        metrics["achieved_flops_per_s"] = round(flops * throughput)
        units["achieved_flops_per_s"] = "FLOP/s (2 x timm's GMACs x images/s)"
    result |= {"metrics": metrics, "units": units}
    key = f"model={model}, img_size={size}"
    original = dict(row.raw) | {"file": source.path.rsplit("/", 1)[-1]}
    return imported_run(source.record(row=key, device=setting.token), original,
                        _system(setting), [result])


def _key_size(row: Row, source: SourceFile, mode: str) -> float:
    name = f"{mode}_img_size"
    value = _cell(row, name, source)
    if value is None or value is NOT_RUN:
        raise InputError([problem(source.display, row.line, name, f"{name} is empty or 0: a row is keyed by its "
                                  "model and image size")])
    return value


def _read_file(folder: Path, path: str, pin: Pin, scan: Scan) -> list[dict[str, Any]]:
    display = str(folder / path)
    setting = parse_name(path.rsplit("/", 1)[-1], display)
    source = read_source(folder, path, pin, TITLE, LICENSE, ATTRIBUTION)
    columns = INFER_COLUMNS if setting.mode == "infer" else TRAIN_COLUMNS
    _header, rows = csv_rows(source, {name: (name,) for name in columns},
                             [name for name in columns if name not in OPTIONAL])
    runs, problems = collect(rows, lambda row: _run(source, setting, row, scan))
    problems += _duplicates(source, rows, setting.mode)
    if problems:
        raise InputError(problems)
    return runs


def _duplicates(source: SourceFile, rows: list[Row], mode: str) -> list[Problem]:
    """A (model, image size) key, or a workload id, that two rows of one file share; an id over 100 characters."""
    problems: list[Problem] = []
    size_header = f"{mode}_img_size"
    keys: dict[tuple[str, str], int] = {}
    ids: dict[str, tuple[int, str]] = {}
    for row in rows:
        model, size = row.get("model") or "", row.get(size_header) or ""
        try:
            size = str(int(float(size)))
        except (ValueError, OverflowError):
            continue                      # reported by the row itself
        first = keys.setdefault((model, size), row.line)
        if first != row.line:
            problems.append(problem(source.display, row.line, "model", f"model {model!r} at {size_header} {size} "
                                    f"already appears on line {first}: a (model, image size) key is one row"))
            continue
        bench = workload_id(mode, model, int(size))
        if len(bench) > MAX_ID:
            problems.append(problem(source.display, row.line, "model", f"workload id {bench!r} is longer than "
                                    f"{MAX_ID} characters: shorten the importer's ids"))
        other = ids.setdefault(bench, (row.line, model))
        if other[0] != row.line:
            problems.append(problem(source.display, row.line, "model", f"model {model!r} gives workload id "
                                    f"{bench!r}, as {other[1]!r} on line {other[0]} does: two rows cannot share "
                                    "one workload id"))
    return problems


def scan(folder: Path, pin: Pin) -> Scan:
    """Every run of the checkout's `results/benchmark-*.csv`, and the rows that are not results; InputError
    with every problem of every file."""
    out = Scan()
    paths = files_matching(folder, FILES)
    if not paths:
        raise InputError([problem(str(folder / "results"), None, None, f"no {FILES} here: give a checkout of "
                                  f"{REPOSITORY}")])
    out.files = len(paths)
    runs, problems = collect(paths, lambda path: _read_file(folder, path, pin, out))
    if problems:
        raise InputError(problems)
    out.runs = [run for file_runs in runs for run in file_runs]
    return out


def read(folder: Path, pin: Pin) -> Reading:
    """The runs of a checkout of huggingface/pytorch-image-models (all or nothing: InputError), and the rows
    that are not results."""
    found = scan(folder, pin)
    return Reading(found.runs, [f"{file}:{line}: {why}" for file, line, why in found.skipped])


SOURCES = (Source(name="timm", repository=REPOSITORY, pinned=PINNED, files=FILES,
                  description="timm's inference and training benchmark tables (images/s of ~1,600 models on "
                              "RTX 3090/4090/5090, RTX PRO 6000 Max-Q and two Intel CPUs)", read=read),)
