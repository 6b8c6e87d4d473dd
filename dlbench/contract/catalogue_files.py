"""The device catalogue's three files, read, checked and merged into one list of entries.

- `catalogue/epoch-ai.toml`: generated from Epoch AI's hardware table (`tools/import_published.py epoch`),
  never edited by hand;
- `catalogue/devices.toml`: kept by hand: devices Epoch does not list (Apple chips, newer cards) and
  corrections of Epoch's figures;
- `catalogue/device-map.toml`: the one mapping from the normalized device name a result carries
  (`device_names.normalize_name`) to a catalogue entry's name.

Both device files follow `schema/devices.schema.json`. Beyond the schema: names are unique; every figure
field of an entry is covered by one of its sources, and a source covers only fields the entry has (per
precision: `peak_tflops.fp16`, or `peak_tflops` for all); `matches` is not written in the files (it is
derived from the map); imported entries carry no `corrects` or `correction`.

Merging: a hand entry whose `name` is an imported entry's, or that names one in `corrects`, is a correction.
It must give its reason (`correction`, citing its source); it overrides the imported entry field by field
(precision by precision inside `peak_tflops`), the merged entry takes the hand entry's name and records the
imported name in `corrects`, and the imported sources keep covering only the figures the correction left
alone. Every other hand entry is an entry of its own (`kind` and `vendor` then required). Merged entries come
in the imported file's order, then the hand-only ones in theirs.

The map: each key is a normalized device name (as `normalize_name` writes it, of the entry's vendor when the
name says one), each value the name of a merged entry that lists at least one peak; a name results carry
and the map lacks has no entry (a peak is never guessed). Each merged entry gets `matches`, the sorted
names mapped to it.
"""

from __future__ import annotations

import copy
import hashlib
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from . import schema
from .device_names import normalize_name, vendor_of
from .problems import Problem
from .tomlio import Loaded, dotted, line_of, read_toml

HAND_NAME, IMPORTED_NAME, MAP_NAME = "devices.toml", "epoch-ai.toml", "device-map.toml"
SUPPORTED_VERSIONS = (1,)
MAX_BYTES = 1024 * 1024
FIGURES = ("peak_tflops", "memory_gb", "bandwidth_gb_s", "release_date", "price_usd", "tdp_w")
PEAK_ORDER = ("fp64", "fp32", "tf32", "fp16", "bf16", "fp16_plain", "fp8", "fp4", "int8", "int4")
_NOT_MERGED = ("name", "sources", "corrects", "correction")


@dataclass
class Merged:
    """The catalogue as read from its files: merged entries, the map, problems, checksums."""

    devices: tuple[dict[str, Any], ...] = ()
    by_name: dict[str, dict[str, Any]] = field(default_factory=dict)    # result name -> merged entry
    problems: list[Problem] = field(default_factory=list)
    sha256: str = ""
    attribution: str = ""
    files: tuple[str, ...] = ()


def sibling(display: str, name: str) -> str:
    """The display path of another catalogue file beside `display` (`catalogue/devices.toml`)."""
    head, sep, _ = display.rpartition("/")
    return f"{head}{sep}{name}"


def read(hand: Path, display: str) -> Merged:
    """Read the catalogue whose hand-kept file is `hand` (its siblings beside it); problems, never raises."""
    folder = hand.parent
    paths = {HAND_NAME: hand, IMPORTED_NAME: folder / IMPORTED_NAME, MAP_NAME: folder / MAP_NAME}
    shown = {name: display if name == HAND_NAME else sibling(display, name) for name in paths}
    present = [n for n in (HAND_NAME, IMPORTED_NAME, MAP_NAME) if paths[n].is_file()]
    # Hashed and listed by their names in a repository, never by where this process sees them (a dataset
    # without a catalogue of its own is read against this checkout's, from whatever working directory).
    canonical = {n: f"catalogue/{n}" for n in present}
    digest = combined_sha256({canonical[n]: paths[n].read_bytes() for n in present})
    out = Merged(sha256=digest, files=tuple(canonical[n] for n in present))
    hand_part = read_device_file(paths[HAND_NAME], shown[HAND_NAME], imported=False)
    imported_part = (read_device_file(paths[IMPORTED_NAME], shown[IMPORTED_NAME], imported=True)
                     if IMPORTED_NAME in present else None)
    names = read_map(paths[MAP_NAME], shown[MAP_NAME]) if MAP_NAME in present else None
    out.problems += hand_part.problems + (imported_part.problems if imported_part else [])
    if names is None:
        out.problems.append(Problem(shown[MAP_NAME], None, None, "missing: the device map (normalized device "
                                    "names results carry -> catalogue entry names) must sit beside "
                                    f"{shown[HAND_NAME]}; create it with `schema_version = 1` and a `[names]` "
                                    "table", "missing-map"))
    else:
        out.problems += names.problems
    if out.problems:
        return out
    merged, problems = merge(imported_part, hand_part)
    if problems:
        out.problems = problems
        return out
    by_name, problems = join(names, merged)
    if problems:
        out.problems = problems
        return out
    matches: dict[str, list[str]] = {}
    for name, entry in by_name.items():
        matches.setdefault(entry["name"], []).append(name)
    devices = tuple(_with_matches(e, sorted(matches.get(e["name"], []))) for e in merged)
    index = {e["name"]: e for e in devices}
    out.devices = devices
    out.by_name = {name: index[entry["name"]] for name, entry in by_name.items()}
    out.attribution = "Device figures: " + "; ".join(
        ([imported_part.attribution] if imported_part and imported_part.attribution else [])
        + ["hand-kept entries as cited"])
    return out


def combined_sha256(files: dict[str, bytes]) -> str:
    """One checksum of the catalogue's files: SHA-256 of `sha256sum`-style lines (`<hex>  <path>`), in order."""
    lines = "".join(f"{hashlib.sha256(data).hexdigest()}  {name}\n" for name, data in files.items())
    return hashlib.sha256(lines.encode("utf-8")).hexdigest()


def _with_matches(entry: dict[str, Any], names: list[str]) -> dict[str, Any]:
    head = {k: entry[k] for k in ("name", "kind", "vendor") if k in entry}
    return head | {"matches": names} | {k: v for k, v in entry.items() if k not in head}


# ---------------------------------------------------------------------------------------------- one file

@dataclass
class DeviceFile:
    view: Loaded | None
    devices: list[dict[str, Any]] = field(default_factory=list)
    attribution: str = ""
    problems: list[Problem] = field(default_factory=list)


def read_device_file(path: Path, display: str, imported: bool) -> DeviceFile:
    """One device file read and checked on its own (schema, names, sources)."""
    loaded = read_toml(path, display, max_bytes=MAX_BYTES)
    if loaded.data is None or loaded.problems:
        return DeviceFile(None, problems=list(loaded.problems))
    view = CatalogueView(loaded)
    problems = check_version(view) or schema.check(view, loaded.data, schema.DEVICES_SCHEMA)
    if not problems:
        problems = check_entries(loaded.data, display, view.line_of, imported)
    if problems:
        return DeviceFile(view, problems=problems)
    return DeviceFile(view, list(loaded.data["devices"]), loaded.data.get("attribution", ""))


def check_version(view: Loaded) -> list[Problem]:
    version = view.data.get("schema_version") if isinstance(view.data, dict) else None
    if isinstance(version, int) and not isinstance(version, bool) and version not in SUPPORTED_VERSIONS:
        return [Problem(view.path, view.line_of(("schema_version",)), "schema_version",
                        f"catalogue schema_version {version} is not supported (these tools know "
                        f"{', '.join(map(str, SUPPORTED_VERSIONS))}): update the tools", "schema-version")]
    return []


def figures_of(entry: dict[str, Any]) -> set[str]:
    """The figure fields an entry gives, per precision for the peaks (`peak_tflops.fp32`, `memory_gb`, ...)."""
    out = {f for f in FIGURES if f in entry and f != "peak_tflops"}
    return out | {f"peak_tflops.{k}" for k in entry.get("peak_tflops", {})}


def expand_covers(covers: list[str], entry: dict[str, Any]) -> set[str]:
    """The figure fields a source's `covers` name, per precision (`peak_tflops` -> each precision the entry has)."""
    out = set()
    for c in covers:
        out |= {f"peak_tflops.{k}" for k in entry.get("peak_tflops", {})} if c == "peak_tflops" else {c}
    return out


def check_entries(doc: dict[str, Any], file: str, locate=lambda path: None, imported: bool = False) -> list[Problem]:
    """Problems of a schema-valid device file beyond what its schema says."""
    out: list[Problem] = []

    def add(path: tuple, message: str, code: str) -> None:
        out.append(Problem(file, locate(path), dotted(path), message, code))

    names: dict[str, int] = {}
    for i, entry in enumerate(doc["devices"]):
        if entry["name"] in names:
            add(("devices", i, "name"), f"{entry['name']!r} is already the name of devices[{names[entry['name']]}]: "
                "give each entry its own name", "duplicate-name")
        names.setdefault(entry["name"], i)
        if "matches" in entry:
            add(("devices", i, "matches"), "`matches` moved to catalogue/device-map.toml: write one line "
                '`"<normalized name>" = "<entry name>"` there per name, and remove `matches` here', "moved-to-map")
        if imported:
            for key in ("corrects", "correction"):
                if key in entry:
                    add(("devices", i, key), f"`{key}` belongs in catalogue/devices.toml, not in the generated "
                        "file: regenerate it with tools/import_published.py epoch", "imported-correction")
        given = figures_of(entry)
        covered = set()
        for k, source in enumerate(entry["sources"]):
            covered |= expand_covers(source["covers"], entry)
            for figure in source["covers"]:
                has = bool(entry.get("peak_tflops")) if figure == "peak_tflops" else figure in given
                if not has:
                    add(("devices", i, "sources", k, "covers"), f"covers {figure}, which the entry does not give: "
                        "remove it from `covers` or add the figure", "covers-absent")
        for figure in sorted(given - covered):
            add(("devices", i, *figure.split(".")), f"no source covers {figure}: add it to the `covers` of the "
                "source it comes from (with `unconfirmed = true` if it is derived or second-hand)", "uncovered")
    return out


# ---------------------------------------------------------------------------------------------- merging

def merge(imported: DeviceFile | None, hand: DeviceFile) -> tuple[list[dict[str, Any]], list[Problem]]:
    """The merged entries (see the module documentation), or the problems that prevent merging."""
    base = {e["name"]: e for e in (imported.devices if imported else [])}
    problems: list[Problem] = []
    view = hand.view

    def add(i: int, key: str, message: str, code: str) -> None:
        path = ("devices", i, key)
        problems.append(Problem(view.path, view.line_of(path), dotted(path), message, code))

    corrected: dict[str, tuple[int, dict[str, Any]]] = {}
    own: list[dict[str, Any]] = []
    for i, entry in enumerate(hand.devices):
        target = entry.get("corrects") or (entry["name"] if entry["name"] in base else None)
        if "corrects" in entry and entry["corrects"] not in base:
            add(i, "corrects", f"corrects {entry['corrects']!r}, which catalogue/epoch-ai.toml does not list: "
                "name an imported entry exactly", "unknown-correction")
            continue
        if target is None:
            if "correction" in entry:
                add(i, "correction", "a `correction` without an imported entry to correct: name the entry in "
                    "`corrects`, or remove `correction` from this entry of its own", "not-a-correction")
            for key in ("kind", "vendor"):
                if key not in entry:
                    add(i, "name", f"missing required field '{key}': an entry that corrects no imported entry "
                        "gives its kind and vendor", "missing-field")
            own.append(entry)
            continue
        if "correction" not in entry:
            add(i, "name", f"corrects the imported entry {target!r}: say why in `correction`, citing the source "
                "of the new figures", "correction-reason")
        if target in corrected:
            add(i, "name", f"{target!r} is already corrected by devices[{corrected[target][0]}]: one correction "
                "per imported entry", "duplicate-correction")
        corrected[target] = (i, entry)
    if problems:
        return [], problems
    merged = [_corrected(e, corrected[e["name"]][1]) if e["name"] in corrected else e for e in base.values()]
    merged += own
    seen: set[str] = set()
    for entry in merged:
        if entry["name"] in seen:
            i = next(k for k, h in enumerate(hand.devices) if h["name"] == entry["name"])
            add(i, "name", f"{entry['name']!r} is also the name of another entry of the merged catalogue: give "
                "this entry its own name", "duplicate-name")
        seen.add(entry["name"])
    return merged, problems


def _corrected(base: dict[str, Any], hand: dict[str, Any]) -> dict[str, Any]:
    out = copy.deepcopy(base)
    given = figures_of(hand)
    for key, value in hand.items():
        if key == "peak_tflops":
            peaks = {**base.get("peak_tflops", {}), **value}
            out["peak_tflops"] = {k: peaks[k] for k in PEAK_ORDER if k in peaks}
        elif key not in _NOT_MERGED:
            out[key] = value
    sources = []
    for source in base["sources"]:
        kept = [c for c in sorted(expand_covers(source["covers"], base), key=_figure_order) if c not in given]
        whole = [f"peak_tflops.{k}" for k in base.get("peak_tflops", {})]
        if whole and all(c in kept for c in whole):
            kept = ["peak_tflops"] + [c for c in kept if c not in whole]
        if kept:
            sources.append(source | {"covers": sorted(kept, key=_figure_order)})
    out["sources"] = sources + list(hand["sources"])
    out["name"] = hand["name"]
    out["corrects"] = base["name"]
    out["correction"] = hand["correction"]
    return out


def _figure_order(figure: str) -> tuple[int, int]:
    head, _, peak = figure.partition(".")
    return FIGURES.index(head), PEAK_ORDER.index(peak) if peak else -1


# ---------------------------------------------------------------------------------------------- the map

@dataclass
class NameMap:
    names: dict[str, str] = field(default_factory=dict)
    file: str = ""
    text: str = ""
    problems: list[Problem] = field(default_factory=list)

    def line(self, key: str) -> int | None:
        pattern = re.compile(rf'^[ \t]*(?:"{re.escape(key)}"|{re.escape(key)})[ \t]*=', re.MULTILINE)
        hit = pattern.search(self.text)
        return self.text.count("\n", 0, hit.start()) + 1 if hit else None


def read_map(path: Path, display: str) -> NameMap:
    """`catalogue/device-map.toml`: `schema_version = 1` and a `[names]` table of name -> entry name."""
    loaded = read_toml(path, display, max_bytes=MAX_BYTES)
    out = NameMap(file=display, text=loaded.text)
    if loaded.data is None or loaded.problems:
        out.problems = list(loaded.problems)
        return out

    def add(key: str | None, message: str, code: str, line: int | None = None) -> None:
        where = f'names."{key}"' if key is not None else None
        out.problems.append(Problem(display, line or (out.line(key) if key else None), where, message, code))

    data = loaded.data
    for key in sorted(set(data) - {"schema_version", "names"}):
        add(None, f"unknown field {key!r}: the map has `schema_version` and a `[names]` table", "unknown-field",
            line_of(loaded.text, (key,)))
    if data.get("schema_version") not in SUPPORTED_VERSIONS or isinstance(data.get("schema_version"), bool):
        add(None, f"schema_version must be one of {SUPPORTED_VERSIONS}", "schema-version",
            line_of(loaded.text, ("schema_version",)))
    names = data.get("names")
    if not isinstance(names, dict):
        add(None, "missing `[names]` table: one line per device name, `\"<normalized name>\" = \"<entry>\"`",
            "missing-field")
        return out
    for key, value in names.items():
        if not isinstance(value, str) or not value.strip():
            add(key, "must be the name of a catalogue entry (a string)", "type")
            continue
        normalized = normalize_name(key)
        if normalized != key:
            add(key, f"{key!r} is not a normalized device name, so no result would carry it: write it as "
                f"normalize_name gives it, {normalized!r}", "not-normalized")
        out.names[key] = value
    return out


def join(names: NameMap, merged: list[dict[str, Any]]) -> tuple[dict[str, dict[str, Any]], list[Problem]]:
    """Each mapped name's merged entry, or the problems of the map against the merged entries."""
    by_entry = {e["name"]: e for e in merged}
    renamed = {e["corrects"]: e["name"] for e in merged if "corrects" in e and e["corrects"] != e["name"]}
    problems: list[Problem] = []
    out: dict[str, dict[str, Any]] = {}

    def add(key: str, message: str, code: str) -> None:
        problems.append(Problem(names.file, names.line(key), f'names."{key}"', message, code))

    for key, target in names.names.items():
        entry = by_entry.get(target)
        if entry is None:
            hint = (f": the hand-kept correction renamed it, map to {renamed[target]!r}" if target in renamed
                    else ": map to an entry's `name` exactly (see catalogue/epoch-ai.toml and devices.toml)")
            add(key, f"{target!r} is no entry of the catalogue{hint}", "unknown-entry")
            continue
        vendor = vendor_of(key)
        if vendor is not None and vendor != entry.get("vendor"):
            add(key, f"{key!r} names vendor {vendor} but the entry {target!r} is of {entry.get('vendor')}: map it "
                "to the right entry", "vendor-mismatch")
            continue
        if not entry.get("peak_tflops"):
            add(key, f"the entry {target!r} lists no peak FLOP/s, so its results could not be checked: map the "
                "name to an entry with peaks, or add them to the entry by a correction", "no-peaks")
            continue
        out[key] = entry
    return out, problems


_HEADER = re.compile(r"^[ \t]*\[\[[ \t]*devices[ \t]*\]\][ \t]*(#.*)?$")


class CatalogueView(Loaded):
    """A device file, with field lines looked up within the `[[devices]]` block of their entry.

    A key that appears in many entries (`peak_tflops`) is found inside its own entry's block; a key inside
    an inline table (`fp32` of `peak_tflops = { fp32 = ... }`) is found on the inline table's line; the
    k-th source's field on the k-th line naming it.
    """

    def __init__(self, loaded: Loaded):
        super().__init__(loaded.path, loaded.data, loaded.text, loaded.problems)
        self._lines = loaded.text.splitlines()
        self._starts = [n for n, text in enumerate(self._lines, 1) if _HEADER.match(text)]

    def line_of(self, path: tuple) -> int | None:
        if len(path) < 2 or path[0] != "devices" or not isinstance(path[1], int):
            return line_of(self.text, path)
        if path[1] >= len(self._starts):
            return None
        first = self._starts[path[1]]
        last = self._starts[path[1] + 1] - 1 if path[1] + 1 < len(self._starts) else len(self._lines)
        block = self._lines[first - 1:last]
        rest = path[2:]
        for depth in range(len(rest), 0, -1):
            key = rest[depth - 1]
            if not isinstance(key, str):
                continue
            indexes = [p for p in rest[:depth - 1] if isinstance(p, int)]
            nth = indexes[-1] if indexes else 0
            pattern = re.compile(rf'(?:^|[{{,\s])(?:"{re.escape(key)}"|{re.escape(key)})[ \t]*=')
            hits = [n for n, text in enumerate(block) if pattern.search(text)]
            if hits:
                return first + hits[min(nth, len(hits) - 1)]
        return first
