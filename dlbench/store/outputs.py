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
from .dataset import Layout, sha256_hex


@dataclass(frozen=True)
class Dataset:
    layout: Layout
    toml_bytes: bytes
    runs: list[dict[str, Any]]
    # benchmark.json as generated for the first `previous_count` runs, when known: lets a merge append
    # to it instead of encoding every run again.
    previous_json: bytes | None = None
    previous_count: int = 0
    # The device catalogue the API's fractions of peak are joined with; None: the repository's
    # (`device_catalogue.for_root`), read when first needed.
    catalogue: Catalogue | None = None

    @cached_property
    def source_sha256(self) -> str:
        """SHA-256 of the TOML bytes (hashed once: several generated files record it)."""
        return sha256_hex(self.toml_bytes)

    @cached_property
    def device_catalogue(self) -> Catalogue:
        """The catalogue, validated: CatalogueError when it has problems (the merge checks it first)."""
        return (self.catalogue if self.catalogue is not None else for_root(self.layout.root)).checked()


Generator = Callable[[Dataset], dict[str, bytes]]


def _benchmark_json(ds: Dataset) -> dict[str, bytes]:
    data = None
    if ds.previous_json is not None:
        data = api.render_json_appended(ds.previous_json, ds.runs, ds.previous_count, ds.source_sha256)
    return {"data/benchmark.json": data if data is not None else api.render_json(ds.runs, ds.source_sha256)}


def _schema_reference(ds: Dataset) -> dict[str, bytes]:
    from ..contract.schema_docs import render_reference
    return {"schema/README.md": render_reference().encode("utf-8")}


def _api_shards(ds: Dataset) -> dict[str, bytes]:
    from . import shards
    return shards.build(ds.runs, ds.source_sha256, catalogue=ds.device_catalogue)


def _readme_table(ds: Dataset) -> dict[str, bytes]:
    from .readme_table import generate
    return generate(ds)


GENERATORS: list[Generator] = [_benchmark_json, _schema_reference, _api_shards, _readme_table]

# Folders whose every file is generated: a file there that no generator produces is stale (listed by
# `stale`, deleted by `write_changed`), e.g. a shard of a workload that shrank.
OWNED_DIRS: list[str] = ["data/api/v1"]


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
    """Files in OWNED_DIRS that no generator produces."""
    found = []
    for owned in OWNED_DIRS:
        for path in sorted((root / owned).rglob("*")):
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
