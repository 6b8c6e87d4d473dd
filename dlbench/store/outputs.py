"""Every file generated from the canonical dataset, registered in one place.

A generator takes the dataset (its TOML bytes and runs, and the device catalogue they are read against)
and returns {path relative to the repository root: bytes}. `tools/merge.py` writes them; `tools/merge.py
--check` compares them with what is on disk.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any, Callable

from ..contract.device_catalogue import Catalogue, for_root
from . import api
from . import parts as part_rules
from .dataset import Layout, Part


@dataclass(frozen=True)
class Dataset:
    """The dataset the generated files are made from.

    Built either from its canonical files (`Dataset.of_parts`), or, for a dataset of one file, from
    data/benchmark.toml's bytes and runs (the positional form, kept for callers of one file).
    """

    layout: Layout
    toml_bytes: bytes
    runs: list[dict[str, Any]]          # every run of every part, in reading order (replaced runs included)
    # data/benchmark.json as generated for the first `previous_count` runs, when known (one-file form): lets a
    # merge append to it instead of encoding every run again.
    previous_json: bytes | None = None
    previous_count: int = 0
    # The device catalogue the API's fractions of peak are joined with; None: the repository's
    # (`device_catalogue.for_root`), read when first needed.
    catalogue: Catalogue | None = None
    parts: tuple[Part, ...] | None = None   # the canonical files; None: data/benchmark.toml alone

    @classmethod
    def of_parts(cls, layout: Layout, parts: list[Part], catalogue: Catalogue | None = None) -> "Dataset":
        return cls(layout, b"", [r for p in parts for r in p.runs], catalogue=catalogue, parts=tuple(parts))

    @cached_property
    def canonical(self) -> tuple[Part, ...]:
        """The canonical files, in reading order."""
        if self.parts is not None:
            return self.parts
        return (Part(part_rules.MAIN, self.toml_bytes, self.runs, self.previous_json, self.previous_count),)

    @cached_property
    def source_sha256(self) -> str:
        """SHA-256 of the sorted `<path> <sha256>` lines of every canonical file (`parts.combined_sha256`)."""
        return part_rules.combined_sha256((p.rel, p.sha256) for p in self.canonical)

    @cached_property
    def current_runs(self) -> list[dict[str, Any]]:
        """The runs no other run replaces (what the API's rows show)."""
        return part_rules.current(self.runs)

    @cached_property
    def device_catalogue(self) -> Catalogue:
        """The catalogue, validated: CatalogueError when it has problems (the merge checks it first)."""
        return (self.catalogue if self.catalogue is not None else for_root(self.layout.root)).checked()


Generator = Callable[[Dataset], dict[str, bytes]]


def _part_json(ds: Dataset) -> dict[str, bytes]:
    """`X.json` beside every canonical `X.toml` (data/benchmark.json for data/benchmark.toml)."""
    out = {}
    for part in ds.canonical:
        data = None
        if part.json_bytes is not None:
            data = api.render_json_appended(part.json_bytes, part.runs, part.json_count, part.sha256)
        out[part.json_rel] = data if data is not None else api.render_json(part.runs, part.sha256)
    return out


def _schema_reference(ds: Dataset) -> dict[str, bytes]:
    from ..contract.schema_docs import render_reference
    return {"schema/README.md": render_reference().encode("utf-8")}


def _api_shards(ds: Dataset) -> dict[str, bytes]:
    from . import shards
    listed = [{"path": p.rel, "json": p.json_rel, "sha256": p.sha256, "run_count": len(p.runs)} for p in ds.canonical]
    return shards.build(ds.current_runs, ds.source_sha256, catalogue=ds.device_catalogue, parts=listed,
                        replaced_count=len(ds.runs) - len(ds.current_runs))


def _readme_table(ds: Dataset) -> dict[str, bytes]:
    from .readme_table import generate
    return generate(ds)


GENERATORS: list[Generator] = [_part_json, _schema_reference, _api_shards, _readme_table]

# Folders (and the file pattern there) whose every such file is generated: a file there that no generator
# produces is stale (listed by `stale`, deleted by `write_changed`), e.g. a shard of a workload that shrank,
# or the JSON of a canonical file that is gone.
OWNED_DIRS: list[str] = ["data/api/v1"]
OWNED_FILES: list[tuple[str, str]] = [("data/api/v1", "*"), (part_rules.IMPORTED_DIR, "*.json")]


def generate(ds: Dataset) -> dict[str, bytes]:
    out: dict[str, bytes] = {}
    for gen in GENERATORS:
        out.update(gen(ds))
    return out


def stale(ds: Dataset, outputs: dict[str, bytes]) -> list[str]:
    """Generated paths whose file on disk differs from what the dataset gives."""
    bad = []
    for rel, data in sorted(outputs.items()):
        path = ds.layout.root / rel
        try:
            current = path.read_bytes()
        except OSError:
            current = None
        if current != data:
            bad.append(rel)
    return bad + _orphans(ds.layout.root, outputs)


def _orphans(root: Path, outputs: dict[str, bytes]) -> list[str]:
    """Files in OWNED_FILES that no generator produces."""
    found = []
    for owned, pattern in OWNED_FILES:
        for path in sorted((root / owned).rglob(pattern)):
            rel = path.relative_to(root).as_posix()
            if not path.is_dir() and rel not in outputs:
                found.append(rel)
    return found


def write_changed(ds: Dataset, outputs: dict[str, bytes]) -> list[str]:
    from ..contract.atomic import write_bytes_atomic
    changed = stale(ds, outputs)
    for rel in changed:
        if rel in outputs:
            write_bytes_atomic(ds.layout.root / rel, outputs[rel])
        else:
            (ds.layout.root / rel).unlink()
    for owned in OWNED_DIRS:  # folders left empty by deletions, deepest first
        for path in sorted((ds.layout.root / owned).rglob("*"), reverse=True):
            if path.is_dir() and not any(path.iterdir()):
                path.rmdir()
    return changed


def all_paths(root: Path) -> list[Path]:
    return [root / rel for rel in generate(Dataset(Layout(root), b"", [])).keys()]


def sizes(root: Path) -> list[tuple[str, int]]:
    """(path, bytes) of every committed dataset file below root: the canonical files, their JSON and the API,
    largest first (what `benchmarks/validate_merge.py` reports against the 50 MB limit)."""
    found = [(p.relative_to(root).as_posix(), p.stat().st_size) for p in (root / "data").rglob("*")
             if p.is_file() and not p.relative_to(root / "data").parts[0] == "fragments"]
    return sorted(found, key=lambda item: (-item[1], item[0]))
