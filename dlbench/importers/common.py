"""What the importers share: device and CPU names, the imported run's skeleton, checking and writing.

Importers collect `Problem`s (file, line, message) as warnings instead of raising, so that a user sees
everything that could not be mapped at once; a run that would not be schema-valid is reported, not written.
"""

from __future__ import annotations

import re
import sys
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from ..contract.device_names import cpu_name, normalize_name, vendor_of
from ..contract.fragment import file_name, with_run_id, write
from ..contract.problems import Problem, display_path
from ..contract.validate import validate_run

_MEMORY_SUFFIX = re.compile(r"\s*([0-9]+(?:\.[0-9]+)?\s*[GMT]i?B)\s*$", re.I)
_KIND_OF_VENDOR = {"NVIDIA": "cuda", "AMD": "rocm", "Apple": "mps", "Intel": "xpu"}


@dataclass(frozen=True)
class Accelerator:
    kind: str             # device_kind: cuda, rocm, mps, other
    vendor: str | None
    name: str             # as published, memory suffix removed
    normalized_name: str
    memory: str | None = None   # the memory suffix as published ('8GB'), when there is one

    def entry(self, count: int, name: str | None = None) -> dict[str, Any]:
        """The schema's `system.accelerators` entry, named `name` when given (else as published)."""
        out: dict[str, Any] = {"kind": self.kind, "name": name or self.name, "normalized_name": self.normalized_name,
                               "count": count}
        if self.vendor:
            out["vendor"] = self.vendor
        return out


def accelerator(raw: str) -> Accelerator:
    """A published GPU name as the schema's accelerator identity, named by
    `dlbench.contract.device_names.normalize_name`.

    'RTX 3050 8GB' -> NVIDIA RTX 3050 (cuda); 'NVIDIA GeForce RTX 2060 5980 MB' -> NVIDIA RTX 2060;
    'Nvidia Titan X' -> NVIDIA Titan X; 'Radeon RX 6800' -> AMD Radeon RX 6800 (rocm). A trailing memory size
    is dropped first: drivers do not report it for these cards, so the name matches measured results
    (the size goes to memory_bytes).
    """
    text = raw.strip()
    suffix = _MEMORY_SUFFIX.search(text)
    name = (text[:suffix.start()].strip() if suffix else text) or text
    normalized = normalize_name(name)
    vendor = vendor_of(normalized)
    return Accelerator(_KIND_OF_VENDOR.get(vendor or "", "other"), vendor, name, normalized,
                       suffix.group(1) if suffix else None)


def cpu_identity(raw: str) -> tuple[str, str | None]:
    """A published CPU description as (model, vendor or None).

    'M1 2020' -> ('Apple M1', 'Apple') (the year is the Mac's); 'AMD Ryzen5 3.6GHz' -> ('AMD Ryzen 5 3.6GHz',
    'AMD'); otherwise named by `dlbench.contract.device_names.cpu_name` as the runner names CPUs
    ('Intel(R) Core(TM) i7-2600K CPU @ 3.40GHz' -> 'Intel Core i7-2600K'), with the vendor when it is its first word.
    """
    text = " ".join(raw.split())
    apple = re.match(r"^(?:Apple\s+)?(M[1-9](?:\s+(?:Pro|Max|Ultra))?)(?:\s+(?:19|20)[0-9]{2})?$", text)
    if apple:
        return f"Apple {apple.group(1)}", "Apple"
    text = cpu_name(re.sub(r"\b(Ryzen)([3579])\b", r"\1 \2", text))
    first = text.split()[0].lower() if text else ""
    vendor = {"amd": "AMD", "intel": "Intel", "apple": "Apple"}.get(first)
    return text, vendor


def cpu_entry(raw: str) -> dict[str, Any]:
    """The schema's `system.cpu` table of a published CPU description: its model, and vendor when known."""
    model, vendor = cpu_identity(raw)
    return {"model": model} | ({"vendor": vendor} if vendor else {})


def slug(text: str) -> str:
    """Lower-case words joined by '-': 'VGG [A]' -> 'vgg-a', 'Fashion MNIST' -> 'fashion-mnist'."""
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")


def imported_run(source: dict[str, str], original: dict[str, Any], system: dict[str, Any],
                 results: list[dict[str, Any]], notes: str | None = None, cloud: str | None = None) -> dict[str, Any]:
    """A run of imported results (JSON form, run_id set). Empty parts are left out, never filled in; `cloud`:
    the cloud provider and instance the source names."""
    provenance: dict[str, Any] = {"kind": "imported", "source": {k: v for k, v in source.items() if v}}
    if notes:
        provenance["notes"] = notes
    if original:
        provenance["original"] = original
    if cloud:
        provenance["cloud"] = cloud
    run: dict[str, Any] = {"schema_version": 1, "provenance": provenance,
                           "system": {k: v for k, v in system.items() if v not in (None, {}, [])},
                           "results": results}
    return with_run_id(run)


@dataclass
class Candidate:
    """One run an importer produced, where in the input it came from, and a label for messages."""

    run: dict[str, Any]
    file: str
    line: int | None
    label: str


@dataclass
class ImportResult:
    candidates: list[Candidate] = field(default_factory=list)
    warnings: list[Problem] = field(default_factory=list)

    def warn(self, file: str, line: int | None, message: str, field_path: str | None = None) -> None:
        self.warnings.append(Problem(file, line, field_path, message, "import-warning"))

    def extend(self, other: "ImportResult") -> None:
        self.candidates += other.candidates
        self.warnings += other.warnings


def checked(result: ImportResult) -> list[Candidate]:
    """The candidates that are schema-valid; each invalid one becomes a warning naming what is missing."""
    good = []
    for cand in result.candidates:
        problems = validate_run(cand.run, cand.label)
        if problems:
            said = dict.fromkeys(re.sub(r"\[[0-9]+\]", "[*]", f"{p.field}: {p.message}" if p.field else p.message)
                                 for p in problems)
            details = "; ".join(list(said)[:3])
            why = " (the source does not publish it, and imports never invent values)" \
                if "missing required field" in details else ""
            result.warn(cand.file, cand.line, f"{cand.label}: not imported: not schema-valid: {details}{why}")
        else:
            good.append(cand)
    return good


def write_valid(result: ImportResult, out_dir: Path, dry_run: bool) -> int:
    """Check the candidates, print every warning to stderr, then write each valid run as `<out_dir>/<run_id>.toml`
    (with dry_run only say so), one line each on stdout; return how many runs were (or would be) written."""
    good = checked(result)
    for w in sorted(result.warnings, key=lambda p: (p.file, p.line or 0, p.message)):
        print(replace(w, message=f"warning: {w.message}").format(), file=sys.stderr)
    for cand in sorted(good, key=lambda c: (c.file, c.line or 0, c.run["run_id"])):
        target = out_dir / file_name(cand.run["run_id"]) if dry_run else write(cand.run, out_dir)
        print(f"{'would write' if dry_run else 'wrote'} {display_path(target)}  ({cand.label})")
    return len(good)
