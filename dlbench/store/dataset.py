"""The merged dataset on disk: its canonical files ("parts", `parts.py`) and how runs are read from them.

Each canonical file (`data/benchmark.toml`, `data/imported/<owner>--<name>/<file>.toml`, and the closed
parts `<stem>-NNNN.toml` of either) is append-only text: a header, then one `[[runs]]` block per run in merge
order, each rendered by tomli-w. Appending a run appends its block; existing bytes are never rewritten.
The JSON beside each (`X.json` for `X.toml`) records the SHA-256 of the TOML it was generated from, so a merge
into a large dataset reads the existing runs from the JSON (fast) instead of re-parsing the TOML, when that
hash matches.
"""

from __future__ import annotations

import gc
import hashlib
import json
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any, Iterator

from ..contract.schema import SCHEMA_VERSION
from ..contract.tomlio import dumps_table, parse_toml_bytes, to_toml_form
from . import parts as part_rules

HEADER = (
    "# The dlbench dataset: every merged run, in merge order. Canonical and append-only.\n"
    "# Do not edit by hand: add a fragment to data/fragments/ and run `python tools/merge.py`.\n"
)


@dataclass(frozen=True)
class Layout:
    """Where a dataset's files live below a repository root."""

    root: Path

    @property
    def data(self) -> Path:
        return self.root / "data"

    @property
    def toml(self) -> Path:
        return self.data / "benchmark.toml"

    @property
    def json(self) -> Path:
        return self.data / "benchmark.json"

    @property
    def imported(self) -> Path:
        return self.root / part_rules.IMPORTED_DIR

    @property
    def fragments(self) -> Path:
        return self.data / "fragments"

    @property
    def lock(self) -> Path:
        """The merge lock: inside the git directory when there is one (a pull request cannot place a file
        there), else `.merge.lock` at the root; `lock.exclusive` refuses one that is a symbolic link."""
        git = self.root / ".git"
        if git.is_dir() and not git.is_symlink():
            return git / "dlbench-merge.lock"
        return self.root / ".merge.lock"


def fragment_paths(layout: Layout) -> list[Path]:
    """Every entry of `data/fragments/` except hidden files (such as .gitkeep), sorted by name. Entries that
    are symbolic links are listed too: reading refuses them (`tomlio.read_toml`), so they are reported."""
    for folder in (layout.data, layout.fragments):
        if folder.is_symlink():
            raise DatasetError(f"{folder.relative_to(layout.root).as_posix()}: is a symbolic link: results are "
                               "read only from the repository's own folders; replace it with a real folder")
    if not layout.fragments.is_dir():
        return []
    return sorted((p for p in layout.fragments.iterdir() if not p.name.startswith(".")), key=lambda p: p.name)


def toml_head() -> str:
    return HEADER + dumps_table({"schema_version": SCHEMA_VERSION})


def run_block(run: dict[str, Any]) -> str:
    """One run's `[[runs]]` block, preceded by a blank line."""
    return "\n" + dumps_table({"runs": [to_toml_form(run)]})


def render_toml(runs: list[dict[str, Any]]) -> str:
    return toml_head() + "".join(run_block(r) for r in runs)


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


class DatasetError(Exception):
    """The merged dataset cannot be read; the message says why and what to do."""


@contextmanager
def paused_gc() -> Iterator[None]:
    """Pause the cyclic garbage collector while building or reading many small objects.

    Reading 100,000 runs creates tens of millions of dicts, lists and floats; with the collector on,
    its repeated full passes over them cost more than the reading itself (JSON: 7 s instead of 2 s).
    Nothing built here forms reference cycles, so nothing is left for the collector afterwards.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


@dataclass
class Part:
    """One canonical file as read (or as a merge will write it)."""

    rel: str                               # path relative to the repository root, e.g. data/benchmark.toml
    toml_bytes: bytes
    runs: list[dict[str, Any]]             # its runs, JSON form, in file order
    json_bytes: bytes | None = None        # its JSON as generated for the first `json_count` runs, when known
    json_count: int = 0

    @cached_property
    def sha256(self) -> str:
        return sha256_hex(self.toml_bytes)

    @property
    def json_rel(self) -> str:
        return part_rules.json_sibling(self.rel)


@dataclass
class Existing:
    """The merged dataset as read from disk: every canonical file, in reading order."""

    parts: list[Part] = field(default_factory=list)

    @property
    def runs(self) -> list[dict[str, Any]]:
        """Every run of every part, in reading order."""
        return [r for p in self.parts for r in p.runs]

    @property
    def toml_bytes(self) -> bytes:
        """data/benchmark.toml as it is (b"" when there is none)."""
        return next((p.toml_bytes for p in self.parts if p.rel == part_rules.MAIN), b"")


def read_part(layout: Layout, rel: str) -> Part:
    """One canonical file: its runs from its JSON when that was generated from exactly these bytes, else parsed
    from the TOML. Raises DatasetError when the TOML does not parse."""
    path = layout.root / rel
    if path.is_symlink():
        raise DatasetError(f"{rel}: is a symbolic link: the dataset is read only from the repository's own files; "
                           "replace it with the file itself")
    raw = path.read_bytes()
    digest = sha256_hex(raw)
    with paused_gc():
        cached = _runs_from_json(layout.root / part_rules.json_sibling(rel), digest)
        if cached is not None:
            part = Part(rel, raw, cached[0], cached[1], len(cached[0]))
            part.__dict__["sha256"] = digest
            return part
        loaded = parse_toml_bytes(raw, rel, fast=True)
    if loaded.data is None or loaded.problems:
        first = loaded.problems[0].format() if loaded.problems else f"{rel}: unreadable"
        raise DatasetError(f"{first}\n(run `python tools/validate.py {rel}` for every problem)")
    runs = loaded.data.get("runs", [])
    part = Part(rel, raw, runs if isinstance(runs, list) else [])
    part.__dict__["sha256"] = digest
    return part


def read_existing(layout: Layout) -> Existing:
    """Every canonical file in reading order (`parts.ordered`), with its bytes and runs (see `read_part`)."""
    for folder in (layout.data, layout.imported):
        if folder.is_symlink():
            raise DatasetError(f"{folder.relative_to(layout.root).as_posix()}: is a symbolic link: the dataset is "
                               "read only from the repository's own folders; replace it with a real folder")
    return Existing([read_part(layout, rel) for rel in part_rules.canonical_files(layout.root)])


def all_runs(layout: Layout) -> list[dict[str, Any]]:
    """Every run of the dataset, in reading order (replaced runs included: see `parts.current`)."""
    return read_existing(layout).runs


def read_runs(layout: Layout) -> tuple[bytes, list[dict[str, Any]]]:
    """data/benchmark.toml's bytes and every run of the dataset (all parts, in reading order)."""
    found = read_existing(layout)
    return found.toml_bytes, found.runs


def _runs_from_json(path: Path, digest: str) -> tuple[list[dict[str, Any]], bytes] | None:
    try:
        with path.open("rb") as f:
            head = f.read(4096)
            if digest.encode() not in head:
                return None
            data = head + f.read()
        doc = json.loads(data)
    except (OSError, ValueError):
        return None
    if not isinstance(doc, dict) or doc.get("source_sha256") != digest or not isinstance(doc.get("runs"), list):
        return None
    return doc["runs"], data


def ids_in(layout: Layout) -> dict[str, str]:
    """Run ids already merged, mapped to the canonical file that holds them."""
    return {r["run_id"]: p.rel for p in read_existing(layout).parts for r in p.runs
            if isinstance(r, dict) and "run_id" in r}
