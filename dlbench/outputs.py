"""Every file generated from the canonical dataset, registered in one place.

A generator takes the dataset (its TOML bytes and runs) and returns {path relative to the repository
root: bytes}. `tools/merge.py` writes them; `tools/merge.py --check` compares them with what is on disk.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

from . import api
from .dataset import Layout, sha256_hex


@dataclass(frozen=True)
class Dataset:
    layout: Layout
    toml_bytes: bytes
    runs: list[dict[str, Any]]


Generator = Callable[[Dataset], dict[str, bytes]]


def _benchmark_json(ds: Dataset) -> dict[str, bytes]:
    return {"data/benchmark.json": api.render_json(ds.runs, sha256_hex(ds.toml_bytes))}


def _schema_reference(ds: Dataset) -> dict[str, bytes]:
    from .schema_docs import render_reference
    return {"schema/README.md": render_reference().encode("utf-8")}


GENERATORS: list[Generator] = [_benchmark_json, _schema_reference]


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
    return bad


def write_changed(ds: Dataset, outputs: dict[str, bytes]) -> list[str]:
    from .atomic import write_bytes_atomic
    changed = stale(ds, outputs)
    for rel in changed:
        write_bytes_atomic(ds.layout.root / rel, outputs[rel])
    return changed


def all_paths(root: Path) -> list[Path]:
    return [root / rel for rel in generate(Dataset(Layout(root), b"", [])).keys()]
