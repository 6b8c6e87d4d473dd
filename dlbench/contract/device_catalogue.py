"""The device catalogue: what each accelerator can do at most, and results read against it.

The catalogue lists, per device model, its dense peak TFLOP/s at each precision, its memory and its memory
bandwidth (and its release date, price and TDP), every figure with its source (schema:
`schema/devices.schema.json`). It is three files, merged by `catalogue_files` (the rules are there):
`catalogue/epoch-ai.toml` (generated from Epoch AI's hardware table), `catalogue/devices.toml` (kept by
hand: devices Epoch lacks, Apple chips, corrections with their reasons) and `catalogue/device-map.toml` (the
one mapping from the normalized device names results carry to entries: `entry_for` answers through it and
nothing else). It is validated as the validators check fragments: every problem as a `Problem` (file,
line, field path, message), never an exception.

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

import statistics
from collections import defaultdict
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any, Iterable

from . import catalogue_files
from .paths import PACKAGE_DIR, REPO_ROOT
from .problems import Problem, display_path

CATALOGUE_FILE = "catalogue/devices.toml"           # the hand-kept file; its siblings are found beside it
IMPORTED_FILE = "catalogue/epoch-ai.toml"
MAP_FILE = "catalogue/device-map.toml"
SUPPORTED_VERSIONS = catalogue_files.SUPPORTED_VERSIONS
FIGURES = catalogue_files.FIGURES
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
    """A catalogue as read: its merged entries (empty when invalid or absent), its problems, and one SHA-256
    of its files (`catalogue_files.combined_sha256`)."""

    path: str | None                       # the hand-kept file as shown in problems; None: none was found
    devices: tuple[dict[str, Any], ...] = ()
    problems: tuple[Problem, ...] = ()
    sha256: str = ""
    by_name: dict[str, dict[str, Any]] = field(default_factory=dict, compare=False, repr=False)
    attribution: str = ""                  # the credit devices.json carries
    files: tuple[str, ...] = ()            # the files read, as shown

    @property
    def ok(self) -> bool:
        return not self.problems

    def checked(self) -> Catalogue:
        """This catalogue, or CatalogueError when it has problems."""
        if self.problems:
            raise CatalogueError(list(self.problems))
        return self

    def entry_for(self, device_name: str | None, kind: str | None = None) -> dict[str, Any] | None:
        """The entry `catalogue/device-map.toml` maps this exact normalized name to (and of this device kind,
        when given); None for a name the map lacks (never a guess)."""
        entry = self.by_name.get(device_name) if device_name else None
        return entry if entry is not None and (kind is None or entry["kind"] == kind) else None

    def peak_flops_per_s(self, device_name: str | None, precision: str | None,
                         kind: str | None = None) -> float | None:
        """Dense peak FLOP/s of one device at a result's precision, or None when not known (never a guess)."""
        entry = self.entry_for(device_name, kind)
        key = PRECISION_KEYS.get(precision or "")
        if entry is None or key is None or key not in entry.get("peak_tflops", {}):
            return None
        return _scaled(entry["peak_tflops"][key], 12)

    def bandwidth_bytes_per_s(self, device_name: str | None, kind: str | None = None) -> float | None:
        """Peak memory bandwidth of one device in bytes per second, or None when not known."""
        entry = self.entry_for(device_name, kind)
        if entry is None or "bandwidth_gb_s" not in entry:
            return None
        return _scaled(entry["bandwidth_gb_s"], 9)

    def unmapped(self, names: Iterable[str | None]) -> list[str]:
        """The names (of accelerators: pass no CPU names) the catalogue has no entry for, sorted, once each."""
        return sorted({n for n in names if n} - set(self.by_name))

    def to_json(self) -> dict[str, Any]:
        """The catalogue as `data/api/v1/devices.json` holds it: merged entries (each with its `matches`), the
        files read and the attribution the imported figures ask for."""
        return {"catalogue_sha256": self.sha256, "source": CATALOGUE_FILE, "files": list(self.files),
                "attribution": self.attribution, "devices": list(self.devices)}


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
    """Read and validate the catalogue whose hand-kept file is `path` (the other two beside it); never raises
    for bad content (see `Catalogue.problems`)."""
    if path is None:
        return Catalogue(None)
    display = display or display_path(path)
    got = catalogue_files.read(path, display)
    if got.problems:
        return Catalogue(display, problems=tuple(got.problems), sha256=got.sha256, files=got.files)
    return Catalogue(display, got.devices, (), got.sha256, got.by_name, got.attribution, got.files)


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
    """This checkout's catalogue entry for a normalized device name (through the map), else None."""
    return default_catalogue().checked().entry_for(device_name, kind)


def peak_flops_per_s(device_name: str | None, precision: str | None, kind: str | None = None) -> float | None:
    """This checkout's catalogue peak for a device at a result's precision, else None (see `PRECISION_KEYS`)."""
    return default_catalogue().checked().peak_flops_per_s(device_name, precision, kind)


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
