"""Folding fragments into the dataset: validate, append, regenerate, remove the merged fragments.

Every valid fragment is merged; an invalid one (say, one that main's tightened rules now reject) is left in
data/fragments/, named with its problems, and does not hold back the valid fragments of other pull requests.
An invalid device catalogue changes nothing: the generated files cannot be made without it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ..contract.atomic import remove_leftovers, write_bytes_atomic
from ..contract.device_catalogue import for_root
from ..contract.problems import Problem
from ..contract.validate import validate_dataset, validate_fragments
from . import outputs
from .dataset import Layout, fragment_paths, paused_gc, read_existing, run_block, toml_head
from .lock import exclusive


@dataclass
class MergeReport:
    merged: list[str] = field(default_factory=list)       # run ids appended
    skipped: list[str] = field(default_factory=list)      # fragment paths already in the dataset
    written: list[str] = field(default_factory=list)      # files (re)written
    problems: list[Problem] = field(default_factory=list)
    left: list[str] = field(default_factory=list)         # invalid fragments, left where they are
    blocked: bool = False                                 # nothing was changed (an invalid catalogue)

    @property
    def ok(self) -> bool:
        return not self.problems


def merge(layout: Layout, lock_timeout: float = 0.0, dry_run: bool = False) -> MergeReport:
    """Merge every valid fragment and leave the invalid ones (their problems in the report); with an invalid
    device catalogue change nothing."""
    with exclusive(layout.lock, lock_timeout), paused_gc():
        return _merge_locked(layout, dry_run)


def _merge_locked(layout: Layout, dry_run: bool) -> MergeReport:
    report = MergeReport()
    existing = read_existing(layout)
    toml_bytes, runs = existing.toml_bytes, existing.runs
    known = {r["run_id"]: "data/benchmark.toml" for r in runs}
    paths = fragment_paths(layout)
    results = validate_fragments(paths, known)
    new_runs: list[dict[str, Any]] = []
    done = []                                # fragments merged now or already in the dataset
    for path, res in zip(paths, results):
        real = [p for p in res.problems if p.code != "duplicate-run"]
        if real:
            report.problems += real
            report.left.append(res.path)
        elif res.problems:
            report.skipped.append(res.path)
            done.append(path)
        else:
            new_runs += res.runs
            done.append(path)
    catalogue = for_root(layout.root)      # the generated API joins results with it: it must be valid too
    if catalogue.problems:
        report.problems += catalogue.problems
        report.blocked = True
        report.merged, report.skipped = [], []
        return report
    new_runs.sort(key=lambda r: (r.get("started_at", ""), r["run_id"]))
    report.merged = [r["run_id"] for r in new_runs]
    base = toml_bytes or toml_head().encode("utf-8")
    new_toml = base + "".join(run_block(r) for r in new_runs).encode("utf-8")
    all_runs = runs + new_runs
    ds = outputs.Dataset(layout, new_toml, all_runs, existing.json_bytes, len(runs), catalogue)
    generated = outputs.generate(ds)
    if dry_run:
        return report
    for folder in sorted({layout.data} | {(layout.root / rel).parent for rel in generated}):
        remove_leftovers(folder)  # temporary files of a merge killed before it renamed them
    if new_toml != toml_bytes:
        write_bytes_atomic(layout.toml, new_toml)
        report.written.append("data/benchmark.toml")
    report.written += outputs.write_changed(ds, generated)
    for path in done:  # merged now or already; invalid fragments stay
        path.unlink()
    return report


def check(layout: Layout) -> tuple[list[str], list[Problem]]:
    """Generated files that are out of date with benchmark.toml (parsed in full, nothing trusted).

    Problems of benchmark.toml or of the device catalogue come back instead (no file is compared then).
    """
    catalogue = for_root(layout.root)
    if not layout.toml.exists():
        return (["data/benchmark.toml"], []) if catalogue.ok else ([], list(catalogue.problems))
    with paused_gc():
        res = validate_dataset(layout.toml, "data/benchmark.toml")
        if res.problems or catalogue.problems:
            return [], res.problems + list(catalogue.problems)
        raw = layout.toml.read_bytes()
        ds = outputs.Dataset(layout, raw, res.runs, catalogue=catalogue)
        return outputs.stale(ds, outputs.generate(ds)), []

