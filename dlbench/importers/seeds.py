"""Published result tables of the seed documents (the Markdown READMEs this project grew from) as runs.

The seeds are irregular, so the importer is table-driven: a document is recognised by its first `#`
heading, and a per-seed description (SEEDS) says which workload, model and framework its figures are,
where the source states them. What a seed does not publish is left absent. Figures written as `??.??`
are not figures and are skipped with a notice.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

from . import markdown as md
from .common import Candidate, ImportResult, accelerator, cpu_entry, imported_run
from .units import UnitError, parse_count, parse_number, parse_size


@dataclass(frozen=True)
class Workload:
    benchmark: str
    model: str
    dataset: str


@dataclass(frozen=True)
class Seed:
    convert: str                                  # which converter reads it
    framework: str | None = None                  # when the seed states one framework for every figure
    workloads: dict[str, Workload] = field(default_factory=dict)   # table cell or heading -> workload
    note: str | None = None                       # said instead of importing (no result table)


_LENET5 = {"MNIST": Workload("mnist-lenet5", "lenet5", "mnist"),
           "Fashion MNIST": Workload("fashion-mnist-lenet5", "lenet5", "fashion-mnist")}
_THESIS = ("modified VGG19 (Deitsch et al.) or modified concatenated model (Rahimzadeh et al.); "
           "the source does not say which figure is which model")

SEEDS: dict[str, Seed] = {
    "Awesome-Benchmarks-DeepLearning": Seed("summary_table", framework="unknown", workloads=_LENET5),
    "Deep-Learning-Hardware-Benchmark": Seed("hardware_and_tests", framework="tensorflow", workloads={
        "Original MNIST": Workload("mnist-thesis-cnn", _THESIS, "mnist"),
        "Fashion MNIST": Workload("fashion-mnist-thesis-cnn", _THESIS, "fashion-mnist")}),
    "Benchmark-ImageNet": Seed("machines_and_blocks", workloads={
        "Benchmark-MNIST": Workload("mnist-lenet", "lenet (2 convolution+pooling layers, 1 fully-connected)", "mnist"),
        "Benchmark-ImageNet": Workload("imagenet32-cifar10-cnn", "cifar-10 cnn", "imagenet-32x32")}),
    "Deep Learning Benchmarks": Seed("none", note="has no result table: its data is the legacy benchmark.toml; "
                                              "import that with tools/import_legacy.py"),
}
FRAMEWORKS = {"caffe 2": "caffe2", "caffe2": "caffe2", "caffe": "caffe", "tensorflow": "tensorflow",
              "pytorch": "torch", "torch": "torch", "keras": "keras", "cntk": "cntk", "mxnet": "mxnet"}
UNPUBLISHED = re.compile(r"\?\?")


def import_seed(path: Path, display: str) -> ImportResult:
    """Every result a seed document publishes, as candidate runs and warnings."""
    res = ImportResult()
    try:
        text = path.read_bytes().decode("utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        res.warn(display, None, f"cannot read the file ({exc}): give a UTF-8 Markdown seed document")
        return res
    secs = md.sections(text)
    h1 = next((s for s in secs if s.level == 1), None)
    seed = SEEDS.get(h1.title) if h1 else None
    if seed is None:
        known = ", ".join(f"'# {k}'" for k in SEEDS)
        res.warn(display, h1.line if h1 else 1, f"not a known seed document (its first heading is "
                 f"{('# ' + h1.title) if h1 else 'missing'!r}; known: {known}): nothing imported")
        return res
    if seed.note:
        res.warn(display, h1.line, f"'{h1.title}' {seed.note}")
        return res
    CONVERTERS[seed.convert](text, secs, seed, display, res)
    if not res.candidates and not any("not published" in w.message for w in res.warnings):
        res.warn(display, h1.line, f"no result table found under '# {h1.title}': nothing imported")
    return res


def _published_year(text: str) -> str | None:
    m = re.search(r"Copyright\s+(?:©\s*)?((?:19|20)[0-9]{2})", text)
    return m.group(1) if m else None


def _columns(table: md.Table, wanted: dict[str, str]) -> dict[str, int]:
    norm = [re.sub(r"\s+", " ", h.strip().lower()) for h in table.header]
    return {key: norm.index(h) for h, key in wanted.items() if h in norm}


def _accuracy(cell: str) -> float:
    value = parse_number(cell.rstrip("% ").strip())
    return round(value / 100, 10) if value > 1 or cell.strip().endswith("%") else value


def _result(work: Workload, framework: str, kind: str, device: str, batch: int | None, metrics: dict[str, float],
            **extra: Any) -> dict[str, Any]:
    result: dict[str, Any] = {"benchmark": work.benchmark, "framework": framework, "model": work.model,
                              "dataset": work.dataset, "device_kind": kind, "device_name": device,
                              "device_count": extra.pop("device_count", 1), "precision": "unknown"}
    if batch is not None:
        result["batch_size"] = batch
    result.update({k: v for k, v in extra.items() if v is not None})
    result.setdefault("status", "ok")
    result["metrics"] = metrics
    return result


def _gpu(cell: str, count: int = 1) -> tuple[dict[str, Any], str, str]:
    """An accelerator entry from a published GPU name (memory suffix read when present)."""
    acc = accelerator(cell)
    entry = acc.entry(count)
    if acc.memory:
        entry["memory_bytes"] = parse_size(acc.memory)
    return entry, acc.kind, acc.normalized_name


# --- Awesome-Benchmarks-DeepLearning: one summary table, one row per machine and device -------------

_SUMMARY_COLUMNS = {"dataset": "dataset", "gpu": "gpu", "cpu": "cpu", "ram": "ram", "epoch / batch": "epochs_batch",
                    "total s": "total_s", "load s": "load_s", "calc s": "compute_s", "acc": "accuracy"}


def _summary_table(text: str, secs: list[md.Section], seed: Seed, file: str, res: ImportResult) -> None:
    title = next(s.title for s in secs if s.level == 1)
    source = {"title": title, "published": _published_year(text)}
    for sec in secs:
        for table in md.tables(sec.lines):
            cols = _columns(table, _SUMMARY_COLUMNS)
            if not {"dataset", "cpu", "epochs_batch"} <= cols.keys():
                continue
            for row in table.rows:
                if len(row.cells) != len(table.header):
                    res.warn(file, row.line, f"row has {len(row.cells)} cells for {len(table.header)} columns: skipped")
                    continue
                try:
                    cand = _summary_row(row, table.header, cols, seed, source | {"section": sec.title}, file)
                except (UnitError, KeyError) as exc:
                    res.warn(file, row.line, f"{exc}: row skipped")
                    continue
                res.candidates.append(cand)


def _summary_row(row: md.Row, header: list[str], cols: dict[str, int], seed: Seed, source: dict[str, Any],
                 file: str) -> Candidate:
    cell = {k: row.cells[i] for k, i in cols.items()}
    work = seed.workloads.get(cell["dataset"])
    if work is None:
        raise KeyError(f"dataset {cell['dataset']!r} is not one this seed's workloads name ({', '.join(seed.workloads)})")
    m = re.match(r"^\s*([0-9]+)\s*/\s*([0-9]+)\s*$", cell["epochs_batch"])
    if not m:
        raise UnitError(f"Epoch / Batch {cell['epochs_batch']!r} is not 'EPOCHS / BATCH'")
    epochs, batch = int(m.group(1)), parse_count(m.group(2))
    cpu_m = re.match(r"^(.*?)\s+x([0-9]+)$", cell["cpu"].strip())
    cpu = cpu_entry(cpu_m.group(1) if cpu_m else cell["cpu"])
    model, vendor = cpu["model"], cpu.get("vendor")
    if cpu_m:
        cpu["logical_cores"] = parse_count(cpu_m.group(2))
    system: dict[str, Any] = {"cpu": cpu}
    if cell.get("ram"):
        system["memory_bytes"] = parse_size(cell["ram"])
    gpu = cell.get("gpu", "").strip()
    if not gpu:
        kind, device = "cpu", model
    elif gpu.lower() == "metal":
        if vendor != "Apple":
            raise UnitError(f"GPU 'Metal' on CPU {cell['cpu']!r}: Metal results are expected on Apple silicon")
        kind, device = "mps", model
        system["accelerators"] = [{"kind": "mps", "vendor": "Apple", "name": model, "normalized_name": model,
                                   "count": 1}]
    else:
        entry, kind, device = _gpu(gpu)
        system["accelerators"] = [entry]
    metrics = {}
    for key in ("total_s", "load_s", "compute_s"):
        if cell.get(key, "").strip():
            metrics[key] = parse_number(cell[key])
    if cell.get("accuracy", "").strip():
        metrics["accuracy"] = _accuracy(cell["accuracy"])
    result = _result(work, seed.framework or "unknown", kind, device, batch, metrics, epochs=epochs)
    original = {h: c for h, c in zip(header, row.cells)}
    run = imported_run(source, original, system, [result])
    return Candidate(run, file, row.line, f"{source['title']}: {work.benchmark} on {device} ({kind})")


# --- Deep-Learning-Hardware-Benchmark: a hardware table, then one row per test ----------------------

_TEST_COLUMNS = {"test": "test", "execution time (s)": "total_s", "inference time (s)": "inference",
                 "error": "error"}


def _hardware_and_tests(text: str, secs: list[md.Section], seed: Seed, file: str, res: ImportResult) -> None:
    title = next(s.title for s in secs if s.level == 1)
    for sec in secs:
        hardware: dict[str, str] = {}
        for table in md.tables(sec.lines):
            norm = [h.lower() for h in table.header]
            if norm[:2] == ["component", "description"]:
                hardware = {r.cells[0]: r.cells[1] for r in table.rows if len(r.cells) >= 2}
            elif "test" in norm:
                _tests(table, hardware, seed, {"title": title, "section": sec.title}, file, res)


def _tests(table: md.Table, hardware: dict[str, str], seed: Seed, source: dict[str, Any], file: str,
           res: ImportResult) -> None:
    cols = _columns(table, _TEST_COLUMNS)
    try:
        system, kind, device, count = _system_from_components(hardware)
    except UnitError as exc:
        res.warn(file, table.line, f"hardware table: {exc}: table skipped")
        return
    for row in table.rows:
        cells = dict.fromkeys(cols, "")
        if len(row.cells) == len(table.header):
            cells.update({k: row.cells[i] for k, i in cols.items()})
        elif len(row.cells) == len(table.header) - 1 and "error" in cols and not _is_number(row.cells[-1]):
            # The seed's rows leave out the unpublished inference-time cell: the last cell is the error.
            cells.update({k: row.cells[i] for k, i in cols.items() if i < len(row.cells) - 1 and k != "error"})
            cells["error"] = row.cells[-1]
            res.warn(file, row.line, f"row has {len(row.cells)} cells for {len(table.header)} columns: read "
                     f"{row.cells[-1]!r} as {table.header[cols['error']]!r}; the other columns in order, the "
                     "missing one as not published")
        else:
            res.warn(file, row.line, f"row has {len(row.cells)} cells for {len(table.header)} columns: skipped")
            continue
        work = seed.workloads.get(cells["test"])
        if work is None:
            res.warn(file, row.line, f"test {cells['test']!r} is not one of {', '.join(seed.workloads)}: skipped")
            continue
        error = cells.get("error", "").strip()
        status, message = "ok", None
        if error and error.lower() not in ("no error", "none", "-"):
            status = "oom" if re.search(r"out[- ]of[- ]memory|\boom\b", error, re.I) else "error"
            message = error
        metrics: dict[str, float] = {}
        try:
            if cells.get("total_s", "").strip():
                metrics["total_s"] = parse_number(cells["total_s"])
        except UnitError as exc:
            res.warn(file, row.line, f"{exc}: row skipped")
            continue
        if cells.get("inference", "").strip():
            res.warn(file, row.line, "inference time (load + predict) has no single field in the schema: "
                     "kept in provenance.original only")
        result = _result(work, seed.framework or "unknown", kind, device, None, metrics, device_count=count,
                         status=status, message=message)
        original = {f"hardware.{k}": v for k, v in hardware.items()}
        original.update({h: c for h, c in zip(table.header, row.cells)})
        run = imported_run(source, original, system, [result])
        res.candidates.append(Candidate(run, file, row.line, f"{source['title']}: {work.benchmark} on {device} ({kind})"))


def _is_number(text: str) -> bool:
    return bool(re.fullmatch(r"\s*[0-9]+(?:\.[0-9]+)?\s*", text))


def _system_from_components(hw: dict[str, str]) -> tuple[dict[str, Any], str, str, int]:
    system: dict[str, Any] = {}
    if hw.get("CPU"):
        system["cpu"] = cpu_entry(hw["CPU"])
    if hw.get("Memory"):
        system["memory_bytes"] = parse_size(re.sub(r"\s*RAM\s*$", "", hw["Memory"], flags=re.I))
    if hw.get("Storage"):
        system["storage"] = hw["Storage"]
    if not hw.get("GPU"):
        if "cpu" not in system:
            raise UnitError("neither a GPU nor a CPU is named")
        return system, "cpu", system["cpu"]["model"], 1
    entry, kind, device = _gpu(hw["GPU"])
    system["accelerators"] = [entry]
    return system, kind, device, 1


# --- Benchmark-ImageNet / Benchmark-MNIST: machines, then `Training:` / `Accuracy:` per framework ------

def _machines_and_blocks(text: str, secs: list[md.Section], seed: Seed, file: str, res: ImportResult) -> None:
    groups: list[list[md.Section]] = []
    for sec in secs:
        if sec.level == 1:
            groups.append([sec])
        elif groups:
            groups[-1].append(sec)
    for group in groups:
        work = seed.workloads.get(group[0].title)
        if work is None:
            res.warn(file, group[0].line, f"part '# {group[0].title}' is not described for this seed: skipped")
            continue
        _machines_part(group, work, file, res)


def _machines_part(group: list[md.Section], work: Workload, file: str, res: ImportResult) -> None:
    body = "\n".join(line.text for sec in group for line in sec.lines)
    by_title = {sec.title.lower(): sec for sec in group}
    batch = steps = None
    m = re.search(r"Training was performed using \w+ with ([0-9,]+) images per batch over ([0-9,]+) iterations", body)
    if m:
        batch, steps = int(m.group(1).replace(",", "")), int(m.group(2).replace(",", ""))
    workflow = m.group(0) if m else None
    software: dict[str, str] = {}
    os_info: dict[str, str] = {}
    sw = re.search(r"(Ubuntu [^\n<]*? was used)", body)
    if sw:
        if u := re.search(r"Ubuntu ([0-9.]+)( LTS)?", sw.group(1)):
            os_info = {"name": f"Linux (Ubuntu {u.group(1)}{u.group(2) or ''})", "version": u.group(1)}
        for key, pat in (("cuda", r"Cuda ([0-9.]+)"), ("cudnn", r"cuDNN ([0-9.]+)")):
            if v := re.search(pat, sw.group(1), re.I):
                software[key] = v.group(1)
    machines: dict[str, dict[str, str]] = {}
    hw = by_title.get("hardware used here")
    for label, lines in (md.blocks(hw.lines) if hw else []):
        machines[label.text] = dict(kv for kv in map(md.key_value, lines) if kv)
    results = by_title.get("benchmark results")
    for label, lines in (md.blocks(results.lines) if results else []):
        framework = FRAMEWORKS.get(label.text.lower())
        pairs = [(ln, md.key_value(ln)) for ln in lines]
        if any(kv and UNPUBLISHED.search(kv[1]) for _, kv in pairs):
            res.warn(file, label.number, f"'{label.text}': figures not published (??.??): nothing imported")
            continue
        if framework is None:
            res.warn(file, label.number, f"'{label.text}' is not a framework this importer knows "
                     f"({', '.join(sorted(set(FRAMEWORKS.values())))}): skipped")
            continue
        current = next(iter(machines)) if len(machines) == 1 else None
        figs: dict[str, dict[str, tuple[str, int]]] = {}
        for ln, kv in pairs:
            if kv is None and md.plain(ln.text) in machines:
                current = md.plain(ln.text)
            elif kv and current:
                figs.setdefault(current, {})[kv[0]] = (kv[1], ln.number)
        for machine, values in figs.items():
            texts = {"workflow": workflow, "software": sw.group(1) if sw else None}
            cand = _machine_result(work, framework, machine, machines[machine], values, batch, steps,
                                   os_info, software, texts, group[0].title, file, res)
            if cand:
                res.candidates.append(cand)


def _machine_result(work: Workload, framework: str, machine: str, hw: dict[str, str],
                    values: dict[str, tuple[str, int]], batch: int | None, steps: int | None,
                    os_info: dict[str, str], software: dict[str, str], texts: dict[str, str | None],
                    title: str, file: str, res: ImportResult) -> Candidate | None:
    line = min(n for _, n in values.values())
    try:
        metrics: dict[str, float] = {}
        if "Training" in values:
            metrics["compute_s"] = parse_number(re.sub(r"\s*s$", "", values["Training"][0]))
        if "Accuracy" in values:
            metrics["accuracy"] = _accuracy(values["Accuracy"][0])
        system: dict[str, Any] = {}
        if hw.get("CPU"):
            system["cpu"] = cpu_entry(hw["CPU"])
        if hw.get("RAM"):
            system["memory_bytes"] = parse_size(re.sub(r"\s*DDR[0-9]*\s*$", "", hw["RAM"]))
        if hw.get("HDD"):
            system["storage"] = hw["HDD"]
        gpu = re.match(r"^([0-9]+)x\s*(.+)$", hw.get("GPU", ""))
        if not gpu:
            raise UnitError(f"GPU {hw.get('GPU', '')!r} of {machine} is not 'Nx NAME'")
        entry, kind, device = _gpu(gpu.group(2), parse_count(gpu.group(1)))
    except UnitError as exc:
        res.warn(file, line, f"{machine}, {framework}: {exc}: skipped")
        return None
    system["accelerators"] = [entry]
    system["os"] = os_info or None
    system["software"] = software or None
    result = _result(work, framework, kind, device, batch, metrics, steps=steps)
    original = {f"{machine}.{k}": v for k, v in hw.items()}
    original.update({k: v for k, (v, _) in values.items()})
    original.update({k: v for k, v in texts.items() if v})
    run = imported_run({"title": title, "section": "Benchmark results"}, original, system, [result])
    return Candidate(run, file, line, f"{title}: {work.benchmark}, {framework} on {device} ({machine})")


def _none(text: str, secs: list[md.Section], seed: Seed, file: str, res: ImportResult) -> None:
    return None


CONVERTERS: dict[str, Callable[..., None]] = {
    "summary_table": _summary_table, "hardware_and_tests": _hardware_and_tests,
    "machines_and_blocks": _machines_and_blocks, "none": _none,
}


def seed_files(paths: list[Path]) -> list[Path]:
    """The Markdown files to import: files as given; for a folder, its *.md files except README.md."""
    out: list[Path] = []
    for p in paths:
        if p.is_dir():
            out += sorted(f for f in p.glob("*.md") if f.name.lower() != "readme.md")
        else:
            out.append(p)
    return out
