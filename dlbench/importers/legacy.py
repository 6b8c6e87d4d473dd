"""The legacy benchmark layout (autumnai/deep-learning-benchmarks' `benchmark.toml`) as imported runs.

The layout: top-level tables keyed by a hardware slug, each with `name`, `type` ("GPU" or "CPU"), a `host`
table (`os`, `cpu`, `cores`, `cache`, `ram`), an array `devices` (`name`, `memory`, `cores`,
`memory_bandwith` [sic], `quantity`) and an array `models` (`name`, `type`, `details`), each model with an
array `frameworks` (`name`, `version`, `forward` and `backward` in milliseconds, `memory` such as
"1750MB"), each framework with an array `libraries` (`name`, `version`, e.g. cuDNN).

One run is written per hardware slug and framework setting (framework name, version and libraries), with
one result per model: forward and backward time per batch, and the stated memory as the device's peak.
Units follow `units.py` (memory sizes binary, bandwidth decimal). Host `cores` is read as the logical CPUs
the OS shows. Every published value is kept in `provenance.original`; what has no schema field (host
cache, other libraries, model details) is kept there only and reported. Batch size, precision of
computation and dates are not in the layout and stay absent or `unknown`.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import tomli

from .common import Candidate, ImportResult, accelerator, cpu_entry, cpu_identity, imported_run, slug
from .units import UnitError, parse_bandwidth, parse_count, parse_number, parse_size

HOST_KEYS = {"os", "cpu", "cores", "cache", "ram"}
DEVICE_KEYS = {"name", "memory", "cores", "memory_bandwith", "quantity"}
MODEL_KEYS = {"name", "type", "details", "frameworks"}
FRAMEWORK_KEYS = {"name", "version", "forward", "backward", "memory", "libraries"}
LIBRARY_FIELDS = {"cudnn": "cudnn", "cuda": "cuda", "rocm": "rocm"}


def line_map(text: str) -> dict[tuple, int]:
    """Lines of the table headers and keys of a TOML file in this layout: path tuple -> 1-based line.

    Array-of-tables headers are counted (`[[a.models]]` twice gives ('a', 'models', 0) and (..., 1));
    enough for the legacy layout, which has no inline tables or dotted keys.
    """
    lines: dict[tuple, int] = {}
    counts: dict[tuple, int] = {}
    current: tuple = ()
    for number, raw in enumerate(text.splitlines(), start=1):
        s = raw.strip()
        head = re.match(r"^\[\[\s*([^\]]+?)\s*\]\]", s) or re.match(r"^\[\s*([^\]]+?)\s*\]", s)
        if head:
            parts = [p.strip().strip('"') for p in head.group(1).split(".")]
            path: tuple = ()
            for part in parts[:-1]:
                path += (part,)
                if path + ("#",) in counts:          # an array: descend into its last element
                    path += (counts[path + ("#",)] - 1,)
            path += (parts[-1],)
            if s.startswith("[["):
                index = counts.get(path + ("#",), 0)
                counts[path + ("#",)] = index + 1
                path += (index,)
            current = path
            lines.setdefault(current, number)
        elif (key := re.match(r'^("?)([A-Za-z0-9_-]+)\1\s*=', s)):
            lines.setdefault(current + (key.group(2),), number)
    return lines


def import_legacy(path: Path, display: str, title: str | None = None, url: str | None = None,
                  published: str | None = None) -> ImportResult:
    """Every forward/backward result of a legacy file, as candidate runs and warnings."""
    res = ImportResult()
    try:
        text = path.read_bytes().decode("utf-8")
    except OSError as exc:
        res.warn(display, None, f"cannot read the file: {exc.strerror or exc}")
        return res
    except UnicodeDecodeError as exc:
        res.warn(display, None, f"not valid UTF-8 (offset {exc.start}): save the file as UTF-8")
        return res
    try:
        doc = tomli.loads(text)
    except tomli.TOMLDecodeError as exc:
        res.warn(display, getattr(exc, "lineno", None), f"TOML syntax error: {getattr(exc, 'msg', exc)}; "
                 "fix the file: nothing was imported")
        return res
    lines = line_map(text)
    source_url = url or _url_in_comments(text)
    source = {"title": title or _title_for(source_url, path), "url": source_url, "published": published}
    hardware = [(k, v) for k, v in doc.items() if isinstance(v, dict)]
    for key, value in doc.items():
        if not isinstance(value, dict):
            res.warn(display, lines.get((key,)), f"top-level {key!r} is not a hardware table: ignored")
    if not hardware:
        res.warn(display, None, "no hardware table (such as [nvidia-titan-x]) with models: nothing to import")
        return res
    for hw_slug, table in hardware:
        _hardware(hw_slug, table, source, display, lines, res)
    return res


def _url_in_comments(text: str) -> str | None:
    for raw in text.splitlines():
        if not raw.lstrip().startswith("#"):
            if raw.strip():
                break
            continue
        if m := re.search(r"https?://[^\s)>\]]+", raw):
            return m.group(0).rstrip(".,")
    return None


def _title_for(url: str | None, path: Path) -> str:
    if url and (m := re.match(r"https?://github\.com/([^/\s]+/[^/\s#?]+)", url)):
        return m.group(1)
    return f"legacy benchmark file {path.name} (original source unknown)"


class _Ctx:
    """Where a legacy hardware table is, for messages."""

    def __init__(self, hw_slug: str, file: str, lines: dict[tuple, int], res: ImportResult):
        self.slug, self.file, self.lines, self.res = hw_slug, file, lines, res

    def warn(self, path: tuple, message: str) -> None:
        full = (self.slug,) + path
        line = None
        for cut in range(len(full), 0, -1):
            if full[:cut] in self.lines:
                line = self.lines[full[:cut]]
                break
        dotted = "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in full).lstrip(".")
        self.res.warn(self.file, line, message, None if line else dotted)


def _unmapped(ctx: _Ctx, path: tuple, table: dict[str, Any], known: set[str]) -> None:
    for key in sorted(set(table) - known):
        ctx.warn(path + (key,), f"{key!r} is not part of the legacy layout: ignored")


def _hardware(hw_slug: str, table: dict[str, Any], source: dict[str, Any], file: str,
              lines: dict[tuple, int], res: ImportResult) -> None:
    ctx = _Ctx(hw_slug, file, lines, res)
    _unmapped(ctx, (), table, {"name", "type", "host", "devices", "models"})
    original: dict[str, Any] = {k: table[k] for k in ("name", "type") if isinstance(table.get(k), str)}
    system: dict[str, Any] = {}
    host = table.get("host")
    if isinstance(host, dict):
        _host(ctx, host, system, original)
    else:
        ctx.warn(("host",) if "host" in table else (), "no [host] table: the host system is left out")
    devices = table.get("devices")
    if not isinstance(devices, list) or not devices or not all(isinstance(d, dict) for d in devices):
        ctx.warn(("devices",) if "devices" in table else (),
                 "no [[devices]] entries: which device ran the models is not known: nothing imported")
        return
    if len(devices) > 1:
        ctx.warn(("devices", 1), f"{len(devices)} devices listed: the results are attributed to the first")
    device = _device(ctx, devices[0], str(table.get("type", "")), system, original)
    if device is None:
        return
    models = table.get("models")
    if not isinstance(models, list) or not models:
        ctx.warn(("models",) if "models" in table else (), "no [[models]] entries: nothing to import")
        return
    settings: dict[tuple, list[tuple[dict[str, Any], dict[str, Any], int | None]]] = {}
    for m_index, model in enumerate(models):
        if not isinstance(model, dict) or not isinstance(model.get("name"), str):
            ctx.warn(("models", m_index), "a model without a name: skipped")
            continue
        _unmapped(ctx, ("models", m_index), model, MODEL_KEYS)
        for f_index, fw in enumerate(model.get("frameworks") or []):
            where = ("models", m_index, "frameworks", f_index)
            entry = _framework(ctx, where, model, fw, device)
            if entry is not None:
                setting, result, orig = entry
                settings.setdefault(setting, []).append((result, orig, lines.get((hw_slug,) + where)))
        if not model.get("frameworks"):
            ctx.warn(("models", m_index), f"model {model['name']!r} has no [[frameworks]] results: skipped")
    for setting, entries in settings.items():
        name, version, libs = setting
        software = {LIBRARY_FIELDS[lib.lower()]: v for lib, v in libs if lib.lower() in LIBRARY_FIELDS}
        run_original = dict(original)
        run_original.update({"framework.name": name, "framework.version": version})
        for i, (_, orig, _) in enumerate(entries):
            run_original.update({f"results[{i}].{k}": v for k, v in orig.items()})
        for lib, v in libs:
            run_original[f"library.{lib}"] = v
        run_system = dict(system) | ({"software": software} if software else {})
        run = imported_run(source | {"section": f"[{hw_slug}]"}, run_original, run_system, [e[0] for e in entries])
        label = f"{hw_slug}: {slug(name)} {version}" + "".join(f", {lib} {v}" for lib, v in libs)
        res.candidates.append(Candidate(run, file, entries[0][2], label))


def _host(ctx: _Ctx, host: dict[str, Any], system: dict[str, Any], original: dict[str, Any]) -> None:
    _unmapped(ctx, ("host",), host, HOST_KEYS)
    original.update({f"host.{k}": v for k, v in host.items() if isinstance(v, (str, int, float, bool))})
    if isinstance(host.get("os"), str) and host["os"].strip():
        family, _, distro = host["os"].partition("/")
        name = family.strip().capitalize() if family.strip().lower() != "macos" else "macOS"
        system["os"] = {"name": f"{name} ({distro.strip()})" if distro.strip() else name}
    if isinstance(host.get("cpu"), str) and host["cpu"].strip():
        system["cpu"] = cpu_entry(host["cpu"])
        try:
            if "cores" in host:
                system["cpu"]["logical_cores"] = parse_count(host["cores"])
        except UnitError as exc:
            ctx.warn(("host", "cores"), f"{exc}: left out")
    if "cache" in host:
        ctx.warn(("host", "cache"), "CPU cache size has no field in the schema: kept in provenance.original only")
    if "ram" in host:
        try:
            system["memory_bytes"] = parse_size(host["ram"])
        except UnitError as exc:
            ctx.warn(("host", "ram"), f"{exc}: left out")


def _device(ctx: _Ctx, dev: dict[str, Any], hw_type: str, system: dict[str, Any],
            original: dict[str, Any]) -> tuple[str, str, int] | None:
    """(device_kind, device_name, count) of the device the results ran on; its accelerator entry."""
    where = ("devices", 0)
    _unmapped(ctx, where, dev, DEVICE_KEYS)
    original.update({f"device.{k}": v for k, v in dev.items() if isinstance(v, (str, int, float, bool))})
    if not isinstance(dev.get("name"), str) or not dev["name"].strip():
        ctx.warn(where, "a device without a name: nothing imported")
        return None
    try:
        count = parse_count(dev.get("quantity", 1))
    except UnitError as exc:
        ctx.warn(where + ("quantity",), f"{exc}: nothing imported")
        return None
    if hw_type.upper() == "CPU":
        model = system.get("cpu", {}).get("model") or cpu_identity(dev["name"])[0]
        return "cpu", model, count
    acc = accelerator(dev["name"])
    entry = acc.entry(count, name=dev["name"].strip())
    for key, field, parse in (("memory", "memory_bytes", parse_size), ("cores", "cores", parse_count),
                              ("memory_bandwith", "memory_bandwidth_bytes_per_s", parse_bandwidth)):
        if key in dev:
            try:
                entry[field] = parse(dev[key])
            except UnitError as exc:
                ctx.warn(where + (key,), f"{exc}: left out")
    if acc.kind == "other":
        ctx.warn(where + ("name",), f"vendor of {dev['name']!r} not recognised: device kind 'other'")
    system["accelerators"] = [entry]
    return acc.kind, acc.normalized_name, count


def _framework(ctx: _Ctx, where: tuple, model: dict[str, Any], fw: Any, device: tuple[str, str, int]
               ) -> tuple[tuple, dict[str, Any], dict[str, Any]] | None:
    if not isinstance(fw, dict) or not isinstance(fw.get("name"), str):
        ctx.warn(where, "a framework entry without a name: skipped")
        return None
    _unmapped(ctx, where, fw, FRAMEWORK_KEYS)
    metrics: dict[str, Any] = {}
    for key in ("forward", "backward"):
        if key in fw:
            try:
                metrics[f"{key}_ms"] = parse_number(fw[key])
            except UnitError as exc:
                ctx.warn(where + (key,), f"{exc} (milliseconds): left out")
    if not metrics:
        ctx.warn(where, f"{model['name']} / {fw['name']}: no forward or backward time: skipped")
        return None
    if "memory" in fw:
        try:
            metrics["peak_device_used_bytes"] = parse_size(fw["memory"])
        except UnitError as exc:
            ctx.warn(where + ("memory",), f"{exc}: left out")
    libs = []
    for l_index, lib in enumerate(fw.get("libraries") or []):
        if isinstance(lib, dict) and isinstance(lib.get("name"), str):
            libs.append((lib["name"], str(lib.get("version", ""))))
            if lib["name"].lower() not in LIBRARY_FIELDS:
                ctx.warn(where + ("libraries", l_index), f"library {lib['name']!r} has no field in the schema: "
                         "kept in provenance.original only")
    kind, name, count = device
    model_slug = slug(model["name"])
    result: dict[str, Any] = {"benchmark": f"fwdbwd-{model_slug}", "framework": slug(fw["name"])}
    if fw.get("version") not in (None, ""):
        result["framework_version"] = str(fw["version"])
    result.update({"model": model_slug, "device_kind": kind, "device_name": name, "device_count": count,
                   "precision": "unknown", "status": "ok", "metrics": metrics})
    original = {"model": model["name"]}
    original.update({f"model.{k}": v for k, v in model.items() if k in ("type", "details") and isinstance(v, str)})
    original.update({k: v for k, v in fw.items() if k in ("forward", "backward", "memory")
                     and isinstance(v, (str, int, float)) and not isinstance(v, bool)})
    setting = (fw["name"], str(fw.get("version", "")), tuple(libs))
    return setting, result, original
