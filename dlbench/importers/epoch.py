"""Epoch AI's "Data on Machine Learning Hardware" as the device catalogue's imported part.

`tools/import_published.py epoch FOLDER --commit SHA [--retrieved YYYY-MM-DD]` reads `ml_hardware.csv` (a
CSV export of Epoch AI's table, CC-BY 4.0, kept in a public repository) and writes
`catalogue/epoch-ai.toml` (generated, deterministic, written atomically; the same file twice changes nothing).
The hand-kept `catalogue/devices.toml` corrects it and `catalogue/device-map.toml` joins results to it
(`dlbench.contract.catalogue_files`). Before anything is written the new file is checked with the
repository's other two catalogue files (a map line that would lose its entry stops the import).

Columns are found by header name; the exports renamed some (`Memory (bytes)` was `Memory size per board
(Byte)`), and both spellings are read (`COLUMNS`). An unknown header is an error naming the file, line 1
and the header: a new layout is looked at, never half read. A non-numeric figure or a date of another form
is an error naming file, line and column; an empty cell is absent.

Rows: every accelerator becomes an entry, Epoch's `Hardware name` its name. The table holds no CPUs, except
the rows whose `Type` says CPU (`Hybrid CPU`) and the rows in `NOT_ACCELERATORS` (a CPU Epoch gave no type);
those are left out and reported. A `Type` not in `ACCELERATOR_TYPES` is an error (add it when it is an
accelerator's). Fields:

- `vendor`: Epoch's `Manufacturer` as written (`VENDOR_FALLBACK` for a row without one);
- `kind`: `cuda` for NVIDIA, `rocm` for AMD, `tpu` for Google, `xpu` for Intel's GPUs (Data Center GPU
  Max), `other` for the rest: Intel Gaudi included (PyTorch runs it as `hpu`, which results do not name);
- `release_date`, `price_usd` (Epoch's release price), `tdp_w`, `memory_gb` (bytes / 10^9),
  `bandwidth_gb_s` (bytes/s / 10^9), `datasheet` (the addresses in `Link to datasheet`);
- `peak_tflops` (FLOP/s or OP/s / 10^12, exact decimal arithmetic; Epoch's figures are dense, sparse
  datasheet figures halved, and per GPU for GB200/GB300): `fp64`, `fp32`, `tf32`, `fp8`, `fp4`, `int8`,
  `int4` from their columns; `Tensor-FP16/BF16` is the tensor rate, written as both `fp16` and `bf16`,
  except that Volta and Turing GPUs (`NO_BF16`) have no BF16 and Google's TPUs no FP16 matrix path; the
  plain `FP16 (half precision)` column is `fp16_plain` (not the tensor rate; not used for fractions).

Each entry cites "Epoch AI, 'Data on Machine Learning Hardware'" with the copy it was read from
(repository, path, commit, the file's SHA-256) and the retrieval date (`--retrieved`, else the newest
`Last modified` in the file, the export's date), for every figure. A TDP that Epoch's `Notes` discuss (an
estimate, or a secondary source: the vendor does not state it) is covered by a second source marked
`unconfirmed`. A row with no figure at all is left out and reported.
"""

from __future__ import annotations

import json
import re
import shutil
import tempfile
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

from ..contract import catalogue_files
from ..contract.atomic import write_text_atomic
from .published import InputError, Pin, Row, collect, csv_rows, problem, read_source
from .sources import Source

PATH = "ml_hardware.csv"
OUT = "catalogue/epoch-ai.toml"
TITLE = "Epoch AI, 'Data on Machine Learning Hardware'"
URL = "https://epoch.ai/data/machine-learning-hardware"
LICENSE = "CC-BY-4.0"

# Canonical column -> the header spellings of the exports (current first). Columns the catalogue does not
# use are listed too, so that an unknown header can be told from a known one.
COLUMNS: dict[str, tuple[str, ...]] = {
    "name": ("Hardware name",),
    "manufacturer": ("Manufacturer",),
    "type": ("Type",),
    "notes": ("Notes",),
    "release_date": ("Release date",),
    "price_usd": ("Release price (USD)",),
    "tensor16": ("Tensor-FP16/BF16 performance (FLOP/s)",),
    "fp8": ("FP8 performance (FLOP/s)",),
    "fp4": ("FP4 performance (FLOP/s)",),
    "memory": ("Memory (bytes)", "Memory size per board (Byte)"),
    "bandwidth": ("Memory bandwidth (byte/s)",),
    "tdp": ("TDP (W)",),
    "fp64": ("FP64 (double precision) performance (FLOP/s)",),
    "fp32": ("FP32 (single precision) performance (FLOP/s)",),
    "tf32": ("TF32 (TensorFloat-32) performance (FLOP/s)",),
    "fp16_plain": ("FP16 (half precision) performance (FLOP/s)",),
    "int8": ("INT8 performance (OP/s)",),
    "int4": ("INT4 performance (OP/s)",),
    "datasheet": ("Link to datasheet",),
    "last_modified": ("Last modified",),
    # read by nobody here
    "intranode": ("Intranode bandwidth (byte/s)",),
    "internode": ("Internode bandwidth (bit/s)",),
    "int16": ("INT16 performance (OP/s)",),
    "foundry": ("Foundry",),
    "die_size": ("Die Size (mm^2)",),
    "base_clock": ("Base clock (MHz)",),
    "boost_clock": ("Boost clock (MHz)",),
    "memory_clock": ("Memory clock (MHz)",),
    "memory_bus": ("Memory bus (bit)",),
    "tensor_cores": ("Tensor cores",),
    "process": ("Process size (nm)",),
    "transistors": ("Transistors (millions)",),
    "price_source": ("Source for the price",),
    "ml_models": ("ML models",),
    "max_performance": ("Max performance",),
    "energy_efficiency": ("Energy efficiency",),
    "total_performance": ("Total processing performance (bit-OP/s)",),
    "price_performance": ("Price-performance",),
    "ml_ops": ("ML OP/s",),
}
REQUIRED = ("name", "manufacturer", "type", "notes", "release_date", "price_usd", "tensor16", "fp8", "fp4",
            "memory", "bandwidth", "tdp", "fp64", "fp32", "tf32", "fp16_plain", "int8", "int4", "datasheet",
            "last_modified")
PEAK_COLUMNS = ("fp64", "fp32", "tf32", "fp16_plain", "fp8", "fp4", "int8", "int4")

# Epoch's `Type` values of accelerators (empty: Epoch left it blank, as for Gaudi, Inferentia, Cambricon).
ACCELERATOR_TYPES = frozenset({"", "GPU", "TPU", "NPU", "XPU", "XPU-R", "GPGPU", "DCU (GPGPU)", "ASIC", "LPU",
                               "Other"})
NOT_ACCELERATORS = {"Sunway SW26010-Pro": "a many-core CPU, the Sunway OceanLight's; Epoch gives no type"}
VENDOR_FALLBACK = {"GroqChip LPU v1": "Groq"}      # rows without a Manufacturer: the vendor their name says
# NVIDIA GPUs with tensor cores and no BF16 (Volta, Turing): Epoch's tensor rate is their FP16 rate only.
NO_BF16 = re.compile(r"\b(?:V100S?|Titan V|T4|RTX 20\d0(?: Ti| SUPER)?|Quadro RTX \d+|TITAN RTX)\b", re.IGNORECASE)
_DATE = re.compile(r"^[0-9]{4}-(?:0[1-9]|1[0-2])-(?:0[1-9]|[12][0-9]|3[01])$")
_URL = re.compile(r"https?://[^\s\"<>]+")


def kind_of(vendor: str, name: str) -> str:
    """The device kind results name (`cuda`, `rocm`, `tpu`, `xpu`, `other`); see the module documentation."""
    if vendor == "NVIDIA":
        return "cuda"
    if vendor == "AMD":
        return "rocm"
    if vendor == "Google":
        return "tpu"
    if vendor == "Intel" and re.search(r"\bGPU\b", name):
        return "xpu"
    return "other"


def _decimal(row: Row, column: str, file: str) -> Decimal | None:
    raw = row.get(column)
    if raw is None:
        return None
    try:
        value = Decimal(raw.replace(",", "") if re.fullmatch(r"[0-9]{1,3}(,[0-9]{3})+(\.[0-9]*)?", raw) else raw)
    except InvalidOperation:
        value = None
    if value is None or not value.is_finite() or value <= 0:
        raise InputError([problem(file, row.line, COLUMNS[column][0], f"{raw!r} is not a positive number: "
                                  "a figure of Epoch's table is a number, or an empty cell when not known")])
    return value


def _number(value: Decimal, exponent: int = 0) -> int | float:
    """`value` x 10^exponent as the shortest number that reads back to the exact decimal."""
    scaled = value.scaleb(exponent).normalize()
    return int(scaled) if scaled == scaled.to_integral_value() and abs(scaled) < 2**53 else float(str(scaled))


def entry(row: Row, file: str, source: dict[str, Any]) -> dict[str, Any] | None:
    """The catalogue entry of one accelerator row (None: no figure at all); InputError for a bad cell."""
    name = row.get("name")
    vendor = row.get("manufacturer") or VENDOR_FALLBACK.get(name or "")
    if name is None or vendor is None:
        raise InputError([problem(file, row.line, COLUMNS["name" if name is None else "manufacturer"][0],
                                  "empty: every row needs a hardware name and a manufacturer (add a row "
                                  "without one to VENDOR_FALLBACK with the vendor its name says)")])
    out: dict[str, Any] = {"name": name, "kind": kind_of(vendor, name), "vendor": vendor}
    released = row.get("release_date")
    if released is not None:
        if not _DATE.match(released):
            raise InputError([problem(file, row.line, COLUMNS["release_date"][0], f"{released!r} is not a "
                                      "date as YYYY-MM-DD")])
        out["release_date"] = released
    numeric = ("price_usd", "tdp", "memory", "bandwidth", "tensor16") + PEAK_COLUMNS
    values, problems = collect(numeric, lambda c: (c, _decimal(row, c, file)))
    if problems:
        raise InputError(problems)
    cells = dict(values)
    if cells["price_usd"] is not None:
        out["price_usd"] = _number(cells["price_usd"])
    if cells["tdp"] is not None:
        out["tdp_w"] = _number(cells["tdp"])
    if cells["memory"] is not None:
        out["memory_gb"] = _number(cells["memory"], -9)
    if cells["bandwidth"] is not None:
        out["bandwidth_gb_s"] = _number(cells["bandwidth"], -9)
    peaks = {c: _number(cells[c], -12) for c in PEAK_COLUMNS if cells[c] is not None}
    if cells["tensor16"] is not None:
        rate = _number(cells["tensor16"], -12)
        if out["kind"] == "tpu":
            peaks["bf16"] = rate
        else:
            peaks["fp16"] = rate
            if not (vendor == "NVIDIA" and NO_BF16.search(name)):
                peaks["bf16"] = rate
    if peaks:
        out["peak_tflops"] = {k: peaks[k] for k in catalogue_files.PEAK_ORDER if k in peaks}
    links = list(dict.fromkeys(u.rstrip(".,;)") for u in _URL.findall(row.get("datasheet") or "")))
    links = [u for u in links if len(u) <= 500][:10]
    if links:
        out["datasheet"] = links
    figures = [f for f in catalogue_files.FIGURES if f in out]
    if not figures:
        return None
    estimated = "tdp_w" in out and re.search(r"\bTDP\b", row.get("notes") or "") is not None
    main = [f for f in figures if not (estimated and f == "tdp_w")]
    out["sources"] = ([source | {"covers": main}] if main else []) + (
        [source | {"covers": ["tdp_w"], "unconfirmed": True}] if estimated else [])
    return out


def read_table(folder: Path, pin: Pin, retrieved: str | None = None) -> tuple[str, list[dict[str, Any]], list[str]]:
    """(the attribution, the entries, lines about the rows left out) of the export in `folder`."""
    table = read_source(folder, PATH, pin, TITLE, LICENSE, "")
    _, rows = csv_rows(table, COLUMNS, REQUIRED)
    modified = sorted(m[:10] for r in rows if (m := r.get("last_modified")) and _DATE.match(m[:10]))
    retrieved = retrieved or pin.retrieved or (modified[-1] if modified else None)
    if retrieved is None:
        raise InputError([problem(table.display, None, "Last modified", "no date in the file: give --retrieved")])
    source: dict[str, Any] = {"title": TITLE, "url": URL, "repository": pin.repository, "path": PATH}
    if pin.commit:
        source["commit"] = pin.commit
    source |= {"sha256": table.sha256, "retrieved": retrieved, "license": LICENSE}
    left_out: list[str] = []
    problems = []
    for row in rows:
        kind = row.get("type") or ""
        name = row.get("name") or f"line {row.line}"
        if "cpu" in kind.lower() or name in NOT_ACCELERATORS:
            left_out.append(f"{name} ({NOT_ACCELERATORS.get(name, 'Type ' + repr(kind))})")
        elif kind not in ACCELERATOR_TYPES:
            problems.append(problem(table.display, row.line, COLUMNS["type"][0], f"unknown Type {kind!r}: add it "
                                    "to ACCELERATOR_TYPES in dlbench/importers/epoch.py if it is an accelerator's"))
    accelerators = [r for r in rows if "cpu" not in (r.get("type") or "").lower()
                    and r.get("name") not in NOT_ACCELERATORS and (r.get("type") or "") in ACCELERATOR_TYPES]
    entries, more = collect(accelerators, lambda r: entry(r, table.display, source))
    problems += more
    if problems:
        raise InputError(problems)
    kept = {e["name"] for e in entries}
    left_out += [f"{r.get('name')} (no figure)" for r in accelerators if r.get("name") not in kept]
    copy = f"{pin.repository}@{pin.commit[:12] if pin.commit else 'HEAD'}:{PATH}"
    attribution = f"{TITLE} ({URL}), CC-BY 4.0, retrieved {retrieved}, via {copy}"
    return attribution, entries, left_out


# ---------------------------------------------------------------------------------------------- writing

HEADER = """\
# GENERATED FILE: do not edit. The device catalogue's imported part: every accelerator of Epoch AI's
# "Data on Machine Learning Hardware" (https://epoch.ai/data/machine-learning-hardware, CC-BY 4.0), read from
# {copy} (SHA-256 {sha256}).
# Regenerate it from a checkout of that copy (or a folder holding {path}):
#   python tools/import_published.py {source} FOLDER --commit {commit} --retrieved {retrieved}
# Correct a figure in catalogue/devices.toml (an entry of the same name, or `corrects = "<name>"`, with
# `correction = "why, citing the source"`); map device names to entries in catalogue/device-map.toml.
# Rules: dlbench/importers/epoch.py and dlbench/contract/catalogue_files.py; fields: schema/README.md.
"""


def _value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return repr(value)
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, list):
        return "[" + ", ".join(_value(v) for v in value) + "]"
    return "{ " + ", ".join(f"{_key(k)} = {_value(v)}" for k, v in value.items()) + " }"


def _key(key: str) -> str:
    return key if re.fullmatch(r"[A-Za-z0-9_-]+", key) else json.dumps(key, ensure_ascii=False)


def render(attribution: str, entries: list[dict[str, Any]], header: dict[str, str]) -> str:
    """The text of `catalogue/epoch-ai.toml` (deterministic: the same entries give the same bytes)."""
    lines = [HEADER.format(**header).rstrip("\n"), "schema_version = 1", f"attribution = {_value(attribution)}"]
    for item in entries:
        lines += ["", "[[devices]]"]
        for key, value in item.items():
            if key == "sources":
                lines.append("sources = [")
                lines += [f"    {_value(s)}," for s in value]
                lines.append("]")
            else:
                lines.append(f"{_key(key)} = {_value(value)}")
    return "\n".join(lines) + "\n"


def check_text(text: str, root: Path) -> list:
    """Problems of a new imported file together with the repository's hand-kept file and map (if any)."""
    with tempfile.TemporaryDirectory(prefix="dlbench-epoch-") as tmp:
        folder = Path(tmp) / "catalogue"
        folder.mkdir()
        (folder / catalogue_files.IMPORTED_NAME).write_text(text, encoding="utf-8")
        hand = root / "catalogue" / catalogue_files.HAND_NAME
        if not hand.is_file():
            part = catalogue_files.read_device_file(folder / catalogue_files.IMPORTED_NAME, OUT, imported=True)
            return part.problems
        for name in (catalogue_files.HAND_NAME, catalogue_files.MAP_NAME):
            if (root / "catalogue" / name).is_file():
                shutil.copyfile(root / "catalogue" / name, folder / name)
        hand_file = folder / catalogue_files.HAND_NAME
        return catalogue_files.read(hand_file, "catalogue/" + catalogue_files.HAND_NAME).problems


def apply(folder: Path, pin: Pin, root: Path, dry_run: bool = False, source_name: str = "epoch") -> list[str]:
    """Import the export in `folder` into `root/catalogue/epoch-ai.toml`; the lines to print. InputError
    (nothing written) on bad input or when the result would not be a valid catalogue."""
    root = Path(root)
    attribution, entries, left_out = read_table(Path(folder), pin)
    retrieved = entries[0]["sources"][0]["retrieved"] if entries else (pin.retrieved or "")
    sha256 = entries[0]["sources"][0]["sha256"] if entries else ""
    text = render(attribution, entries, {
        "copy": f"{pin.repository} at {pin.commit or 'HEAD'}, {PATH}", "sha256": sha256, "path": PATH,
        "source": source_name, "commit": pin.commit or "SHA", "retrieved": retrieved})
    problems = check_text(text, root)
    if problems:
        raise InputError(problems)
    target = root / OUT
    lines = [f"{source_name}: {len(entries)} accelerators read from {PATH} (SHA-256 {sha256[:12]}, retrieved "
             f"{retrieved})" + (f"; left out {len(left_out)}: {'; '.join(left_out)}" if left_out else "")]
    if target.is_file() and target.read_text(encoding="utf-8") == text:
        return lines + [f"{OUT} unchanged"]
    if dry_run:
        return lines + [f"would write {OUT}"]
    write_text_atomic(target, text)
    return lines + [f"wrote {OUT}"]


def _apply_older(folder: Path, pin: Pin, root: Path, dry_run: bool = False) -> list[str]:
    return apply(folder, pin, root, dry_run, source_name="epoch-sr3k")


DESCRIPTION = ("Epoch AI's hardware table (CC-BY 4.0) as the device catalogue's imported part, "
               "catalogue/epoch-ai.toml")
SOURCES = (
    Source(name="epoch", kind="catalogue", repository="joshyou/clod",
           pinned="2af77743b2cb18e8a9a0dc4efb49eadc43802805", files=PATH,
           description=DESCRIPTION + " (December 2025 export)", apply=apply),
    Source(name="epoch-sr3k", kind="catalogue", repository="sr3-k/data",
           pinned="d62de22b9128a2598b039c06346e350f918b3810", files=PATH,
           description=DESCRIPTION + " (an older export, other header names)", apply=_apply_older),
)
