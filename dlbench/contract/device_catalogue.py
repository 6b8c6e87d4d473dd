"""The device catalogue, `catalogue/devices.toml`: what each accelerator can do at most, and results read against it.

The catalogue lists, per device model, its dense peak TFLOP/s at each precision, its memory and its memory
bandwidth, every figure with its source (schema: `schema/devices.schema.json`). It is validated here as the
validators check fragments: every problem as a `Problem` (file, line, field path, message), never an
exception; beyond the schema, no normalized name may belong to two entries, a name in `matches` must be
normalized (`device_names.normalize_name`) and of the entry's vendor, and every figure field an entry has is
covered by one of its sources (and a source covers only fields the entry has).

Fractions of peak are joined when a result is READ (the analysis frame, the JSON API), never stored, so a
corrected figure corrects every fraction at the next merge. For a result of device D, device count N,
framework F and precision P (all fields of the result; D is its normalized `device_name` and its
`device_kind`: the CPU of an Apple M1 is not its GPU, though both are named `Apple M1`):

- `peak_fraction_catalogue` = `achieved_flops_per_s` / (catalogue peak of D at P x N), when D is in the
  catalogue and P maps to a precision it lists (`PRECISION_KEYS`: fp32 -> fp32, tf32 -> tf32,
  fp16 and mixed-fp16 -> fp16, bf16 and mixed-bf16 -> bf16; anything else, such as `unknown` or `int8`,
  has no peak). A `peak-matmul` result gets it too: how close the measured matmul comes to the datasheet.
- `peak_fraction_measured` = `achieved_flops_per_s` / the measured ceiling: the median
  `achieved_flops_per_s` of the ok `peak-matmul` results of the dataset with the same D (name and kind), N and F and a
  precision of the same math (P mapped by `PRECISION_KEYS`: a mixed-bf16 training step is read against
  the bf16 matmul). A peak result (`scenario = "peak"`, or a `peak-*` benchmark) gets no fraction of itself.
- `bandwidth_fraction_catalogue` = `bandwidth_bytes_per_s` / (catalogue bandwidth of D x N), for the
  results that measured bandwidth (`peak-bandwidth`).

An unknown device, precision or count gives no fraction: a peak is never guessed.
"""

from __future__ import annotations

import hashlib
import re
import statistics
from collections import defaultdict
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any, Iterable

from . import schema
from .device_names import normalize_name, vendor_of
from .paths import PACKAGE_DIR, REPO_ROOT
from .problems import Problem, display_path
from .tomlio import Loaded, dotted, line_of, read_toml

CATALOGUE_FILE = "catalogue/devices.toml"
SUPPORTED_VERSIONS = (1,)
FIGURES = ("peak_tflops", "memory_gb", "bandwidth_gb_s")
# A result's precision -> the catalogue's `peak_tflops` key of the math it runs; absent: no peak known.
PRECISION_KEYS = {"fp32": "fp32", "tf32": "tf32", "fp16": "fp16", "mixed-fp16": "fp16",
                  "bf16": "bf16", "mixed-bf16": "bf16"}
PEAK_MATMUL = "peak-matmul"
PEAK_BANDWIDTH = "peak-bandwidth"
FRACTION_FIELDS = ("peak_fraction_catalogue", "peak_fraction_measured", "bandwidth_fraction_catalogue")


class CatalogueError(Exception):
    """The catalogue is invalid; the message lists its problems (`FILE:LINE: field: message`, one a line)."""

    def __init__(self, problems: list[Problem]):
        self.problems = problems
        super().__init__("\n".join(p.format() for p in sorted(problems)))


@dataclass(frozen=True)
class Catalogue:
    """A catalogue as read: its entries (empty when invalid or absent), its problems, its bytes' SHA-256."""

    path: str | None                       # as shown in problems; None: no catalogue file was found
    devices: tuple[dict[str, Any], ...] = ()
    problems: tuple[Problem, ...] = ()
    sha256: str = ""
    by_name: dict[str, dict[str, Any]] = field(default_factory=dict, compare=False, repr=False)

    @property
    def ok(self) -> bool:
        return not self.problems

    def checked(self) -> Catalogue:
        """This catalogue, or CatalogueError when it has problems."""
        if self.problems:
            raise CatalogueError(list(self.problems))
        return self

    def entry_for(self, device_name: str | None, kind: str | None = None) -> dict[str, Any] | None:
        """The entry whose `matches` holds exactly this normalized name (and of this device kind, when given)."""
        entry = self.by_name.get(device_name) if device_name else None
        return entry if entry is not None and (kind is None or entry["kind"] == kind) else None

    def peak_flops_per_s(self, device_name: str | None, precision: str | None,
                         kind: str | None = None) -> float | None:
        """Dense peak FLOP/s of one device at a result's precision, or None when not known (never a guess)."""
        entry = self.entry_for(device_name, kind)
        key = PRECISION_KEYS.get(precision or "")
        if entry is None or key is None or key not in entry["peak_tflops"]:
            return None
        return _scaled(entry["peak_tflops"][key], 12)

    def bandwidth_bytes_per_s(self, device_name: str | None, kind: str | None = None) -> float | None:
        """Peak memory bandwidth of one device in bytes per second, or None when not known."""
        entry = self.entry_for(device_name, kind)
        if entry is None or "bandwidth_gb_s" not in entry:
            return None
        return _scaled(entry["bandwidth_gb_s"], 9)

    def to_json(self) -> dict[str, Any]:
        """The catalogue as `data/api/v1/devices.json` holds it (entries as written, in file order)."""
        return {"catalogue_sha256": self.sha256, "source": CATALOGUE_FILE, "devices": list(self.devices)}


def _scaled(value: float, exponent: int) -> float:
    """`value` x 10^exponent, rounded once from the decimal the catalogue writes (494.7 -> exactly 494.7e12)."""
    return float(f"{value!r}e{exponent}")


# ---------------------------------------------------------------------------------------------- reading

def catalogue_path(root: Path | None = None) -> Path | None:
    """The catalogue of a repository root; else this checkout's; else the copy inside an installed wheel.

    A dataset repository without a `catalogue/` of its own (such as a test's temporary one) is read
    against this checkout's catalogue. None when there is none anywhere.
    """
    candidates = ([root / CATALOGUE_FILE] if root is not None else []) + [
        REPO_ROOT / CATALOGUE_FILE, PACKAGE_DIR / "_catalogue" / "devices.toml"]
    return next((p for p in candidates if p.is_file()), None)


def read_catalogue(path: Path | None, display: str | None = None) -> Catalogue:
    """Read and validate a catalogue file; never raises for bad content (see `Catalogue.problems`)."""
    if path is None:
        return Catalogue(None)
    display = display or display_path(path)
    loaded = read_toml(path, display)
    digest = hashlib.sha256(path.read_bytes()).hexdigest() if path.is_file() else ""
    if loaded.data is None or loaded.problems:
        return Catalogue(display, problems=tuple(loaded.problems), sha256=digest)
    view = _CatalogueView(loaded)
    problems = _check_version(view) or schema.check(view, loaded.data, schema.DEVICES_SCHEMA)
    if not problems:
        problems = check_catalogue(loaded.data, display, view.line_of)
    if problems:
        return Catalogue(display, problems=tuple(problems), sha256=digest)
    devices = tuple(loaded.data["devices"])
    by_name = {name: entry for entry in devices for name in entry["matches"]}
    return Catalogue(display, devices, (), digest, by_name)


def for_root(root: Path | None = None) -> Catalogue:
    """The catalogue of a repository root (see `catalogue_path`), shown relative to that root."""
    path = catalogue_path(root)
    display = None
    if path is not None and root is not None and path == root / CATALOGUE_FILE:
        display = CATALOGUE_FILE
    return read_catalogue(path, display)


@lru_cache(maxsize=1)
def default_catalogue() -> Catalogue:
    """This checkout's catalogue, read once per process."""
    return for_root(None)


def entry_for(device_name: str | None, kind: str | None = None) -> dict[str, Any] | None:
    """This checkout's catalogue entry for a normalized device name (exact match), else None."""
    return default_catalogue().checked().entry_for(device_name, kind)


def peak_flops_per_s(device_name: str | None, precision: str | None, kind: str | None = None) -> float | None:
    """This checkout's catalogue peak for a device at a result's precision, else None (see `PRECISION_KEYS`)."""
    return default_catalogue().checked().peak_flops_per_s(device_name, precision, kind)


def _check_version(view: Loaded) -> list[Problem]:
    version = view.data.get("schema_version") if isinstance(view.data, dict) else None
    if isinstance(version, int) and not isinstance(version, bool) and version not in SUPPORTED_VERSIONS:
        return [Problem(view.path, view.line_of(("schema_version",)), "schema_version",
                        f"catalogue schema_version {version} is not supported (these tools know "
                        f"{', '.join(map(str, SUPPORTED_VERSIONS))}): update the tools", "schema-version")]
    return []


def check_catalogue(doc: dict[str, Any], file: str, locate=lambda path: None) -> list[Problem]:
    """Problems of a schema-valid catalogue beyond what its schema says."""
    out: list[Problem] = []

    def add(path: tuple, message: str, code: str) -> None:
        out.append(Problem(file, locate(path), dotted(path), message, code))

    owner: dict[str, int] = {}
    names: dict[str, int] = {}
    for i, entry in enumerate(doc["devices"]):
        if entry["name"] in names:
            add(("devices", i, "name"), f"{entry['name']!r} is already the name of devices[{names[entry['name']]}]: "
                "give each entry its own name", "duplicate-name")
        names.setdefault(entry["name"], i)
        for j, match in enumerate(entry["matches"]):
            where = ("devices", i, "matches", j)
            if match in owner:
                other = doc["devices"][owner[match]]["name"]
                add(where, f"{match!r} is already matched by devices[{owner[match]}] ({other}): a normalized "
                    "name belongs to one entry; remove it from one of them", "duplicate-match")
            else:
                owner[match] = i
            normalized = normalize_name(match)
            if normalized != match:
                add(where, f"{match!r} is not a normalized device name, so no result would match it: "
                    f"write it as normalize_name gives it, {normalized!r}", "not-normalized")
            vendor = vendor_of(match)
            if vendor is not None and vendor != entry["vendor"]:
                add(where, f"{match!r} names vendor {vendor} but the entry's vendor is {entry['vendor']}: "
                    "fix the name or the vendor", "vendor-mismatch")
        covered = {f for source in entry["sources"] for f in source["covers"]}
        for figure in FIGURES:
            if figure in entry and figure not in covered:
                add(("devices", i, figure), f"no source covers {figure}: add it to the `covers` of the source "
                    "it comes from (with `unconfirmed = true` if it is derived or second-hand)", "uncovered")
        for k, source in enumerate(entry["sources"]):
            for figure in source["covers"]:
                if figure not in entry:
                    add(("devices", i, "sources", k, "covers"), f"covers {figure}, which the entry does not give: "
                        "remove it from `covers` or add the figure", "covers-absent")
    return out


_HEADER = re.compile(r"^[ \t]*\[\[[ \t]*devices[ \t]*\]\][ \t]*(#.*)?$")


class _CatalogueView(Loaded):
    """The catalogue file, with field lines looked up within the `[[devices]]` block of their entry.

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


# ---------------------------------------------------------------------------------------------- fractions

def _is_peak(result: dict[str, Any]) -> bool:
    return result.get("scenario") == "peak" or result.get("benchmark") in (PEAK_MATMUL, PEAK_BANDWIDTH)


def _ceiling_key(device: str | None, result: dict[str, Any]) -> tuple | None:
    math = PRECISION_KEYS.get(result.get("precision") or "")
    if device is None or math is None or not result.get("device_count"):
        return None
    return (device, result.get("device_kind"), result["device_count"], result.get("framework"), math)


def _number(value: Any) -> float | None:
    return value if isinstance(value, (int, float)) and not isinstance(value, bool) and value > 0 else None


class FractionJoin:
    """Fractions of peak for the results of one dataset (the rules are in the module documentation).

    Built from (device name, result) pairs of the whole dataset (only the `peak-matmul` ones matter: give
    just those when it is cheaper); `fractions(device, result)` then gives a result's fractions.
    """

    def __init__(self, catalogue: Catalogue | None, results: Iterable[tuple[str | None, dict[str, Any]]] = ()):
        self.catalogue = catalogue
        values: dict[tuple, list[float]] = defaultdict(list)
        for device, result in results:
            if result.get("benchmark") != PEAK_MATMUL or result.get("status", "ok") != "ok":
                continue
            achieved = _number(result.get("metrics", {}).get("achieved_flops_per_s"))
            key = _ceiling_key(device, result)
            if achieved is not None and key is not None:
                values[key].append(achieved)
        self.ceilings: dict[tuple, float] = {k: statistics.median(v) for k, v in values.items()}

    def measured_ceiling(self, device: str | None, result: dict[str, Any]) -> float | None:
        """The measured peak FLOP/s a result is read against, or None."""
        key = _ceiling_key(device, result)
        return self.ceilings.get(key) if key is not None else None

    def fractions(self, device: str | None, result: dict[str, Any]) -> dict[str, float]:
        """The result's fractions that are known (FRACTION_FIELDS), as {field: fraction}."""
        metrics = result.get("metrics")
        if not metrics or result.get("status", "ok") != "ok":
            return {}
        out: dict[str, float] = {}
        achieved = _number(metrics.get("achieved_flops_per_s"))
        bandwidth = _number(metrics.get("bandwidth_bytes_per_s"))
        count = result.get("device_count")
        cat = self.catalogue if self.catalogue is not None and self.catalogue.ok else None
        kind = result.get("device_kind")
        if achieved is not None:
            if cat is not None and count:
                peak = cat.peak_flops_per_s(device, result.get("precision"), kind)
                if peak:
                    out["peak_fraction_catalogue"] = achieved / (peak * count)
            if not _is_peak(result):
                ceiling = self.measured_ceiling(device, result)
                if ceiling:
                    out["peak_fraction_measured"] = achieved / ceiling
        if bandwidth is not None and cat is not None and count:
            peak_bw = cat.bandwidth_bytes_per_s(device, kind)
            if peak_bw:
                out["bandwidth_fraction_catalogue"] = bandwidth / (peak_bw * count)
        return out
