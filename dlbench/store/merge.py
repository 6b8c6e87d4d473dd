"""Folding fragments into the dataset: validate, append to the canonical files, regenerate, remove the fragments.

Every valid fragment is merged; an invalid one (say, one that main's tightened rules now reject) is left in
data/fragments/, named with its problems, and does not hold back the valid fragments of other pull requests.
An invalid device catalogue changes nothing: the generated files cannot be made without it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ..contract.atomic import remove_leftovers
from ..contract.device_catalogue import Catalogue, for_root
from ..contract.problems import Problem
from ..contract.validate import validate_dataset, validate_fragments
from . import append, outputs
from . import parts as part_rules
from .dataset import Layout, Part, fragment_paths, paused_gc, read_existing, toml_head
from .lock import exclusive
from .shards import device_of


@dataclass
class MergeReport:
    merged: list[str] = field(default_factory=list)       # run ids appended
    skipped: list[str] = field(default_factory=list)      # fragment paths already in the dataset
    skipped_in: list[str] = field(default_factory=list)   # for each, the canonical file that holds its run
    written: list[str] = field(default_factory=list)      # files (re)written
    problems: list[Problem] = field(default_factory=list)
    left: list[str] = field(default_factory=list)         # invalid fragments, left where they are
    blocked: bool = False                                 # nothing was changed (an invalid catalogue)
    unknown_devices: list[str] = field(default_factory=list)  # devices with ok results and no catalogue entry

    @property
    def ok(self) -> bool:
        return not self.problems


def merge(layout: Layout, lock_timeout: float = 0.0, dry_run: bool = False,
          max_part_bytes: int = part_rules.MAX_PART_BYTES) -> MergeReport:
    """Merge every valid fragment and leave the invalid ones (their problems in the report); with an invalid
    device catalogue change nothing. Each run is appended to its canonical file (`parts.part_for`), closing a
    file first when the run would take it past `max_part_bytes` (`append.plan`)."""
    with exclusive(layout.lock, lock_timeout), paused_gc():
        return _merge_locked(layout, dry_run, max_part_bytes)


def _merge_locked(layout: Layout, dry_run: bool, max_part_bytes: int) -> MergeReport:
    report = MergeReport()
    existing = read_existing(layout)
    known = {r["run_id"]: p.rel for p in existing.parts for r in p.runs}
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
            report.skipped_in.append(next((known[rid] for rid in res.ids if rid in known), part_rules.MAIN))
            done.append(path)
        else:
            new_runs += res.runs
            done.append(path)
    catalogue = for_root(layout.root)      # the generated API joins results with it: it must be valid too
    if catalogue.problems:
        report.problems += catalogue.problems
        report.blocked = True
        report.merged, report.skipped, report.skipped_in = [], [], []
        return report
    new_runs.sort(key=lambda r: (r.get("started_at", ""), r["run_id"]))
    report.merged = [r["run_id"] for r in new_runs]
    parts = list(existing.parts)
    has_main = any(p.rel == part_rules.MAIN for p in parts)
    if not has_main:   # data/benchmark.toml always exists after a merge (a header alone at first)
        parts.insert(0, Part(part_rules.MAIN, toml_head().encode("utf-8"), []))
    planned = append.plan(parts, new_runs, max_part_bytes)
    if not has_main and part_rules.MAIN not in planned.writes:
        planned.writes.insert(0, part_rules.MAIN)
    ds = outputs.Dataset.of_parts(layout, planned.parts, catalogue)
    generated = outputs.generate(ds)
    report.unknown_devices = unknown_devices(ds.current_runs, catalogue)
    if dry_run:
        return report
    folders = {layout.data} | {(layout.root / rel).parent for rel in list(generated) + planned.writes}
    for folder in sorted(folders):
        remove_leftovers(folder)  # temporary files of a merge killed before it renamed them
    report.written += append.apply(layout, planned)
    report.written += outputs.write_changed(ds, generated)
    for path in done:  # merged now or already; invalid fragments stay
        path.unlink()
    return report


def unknown_devices(runs: list[dict[str, Any]], catalogue: Catalogue) -> list[str]:
    """Accelerators (normalized names) with `ok` results and no entry in the device catalogue, sorted. CPUs
    are left out: the catalogue holds accelerators (a CPU's ceiling is computed from its cores and clock)."""
    return catalogue.unmapped(device_of(run, res) for run in runs for res in run.get("results", ())
                              if res.get("status") == "ok" and res.get("device_kind") != "cpu")


def check(layout: Layout) -> tuple[list[str], list[Problem]]:
    """Generated files that are out of date with the canonical files (parsed in full, nothing trusted).

    Problems of a canonical file (invalid, a run in the wrong file, a run in two files) or of the device
    catalogue come back instead (no file is compared then).
    """
    catalogue = for_root(layout.root)
    rels = part_rules.canonical_files(layout.root)
    if not rels:
        return ([part_rules.MAIN], []) if catalogue.ok else ([], list(catalogue.problems))
    problems: list[Problem] = []
    parts: list[Part] = []
    seen: dict[str, str] = {}
    with paused_gc():
        for rel in rels:
            res = validate_dataset(layout.root / rel, rel)
            problems += res.problems
            if res.problems:
                continue
            problems += _placement_problems(rel, res.runs, rels, seen)
            parts.append(Part(rel, (layout.root / rel).read_bytes(), res.runs))
        if problems or catalogue.problems:
            return [], problems + list(catalogue.problems)
        ds = outputs.Dataset.of_parts(layout, parts, catalogue)
        return outputs.stale(ds, outputs.generate(ds)), []


def _placement_problems(rel: str, runs: list[dict[str, Any]], rels: list[str], seen: dict[str, str]) -> list[Problem]:
    """A run in a file the routing rule does not give it, or already in an earlier file."""
    out = []
    homes = {part_rules.open_of(rel, set(rels))[0], part_rules.stem_base(rel)}
    for i, run in enumerate(runs):
        rid = run["run_id"]
        if rid in seen:
            out.append(Problem(rel, None, f"runs[{i}].run_id", f"run {rid} is also in {seen[rid]}: a run is in one "
                               "canonical file only; remove the later copy", "duplicate-run"))
        seen.setdefault(rid, rel)
        want = part_rules.part_for(run)
        if want not in homes:   # (a closed part whose open file a killed merge had not yet rewritten: both)
            out.append(Problem(rel, None, f"runs[{i}]", f"run {rid} belongs in {want} (the routing rule of "
                               "docs/api.md), not here: move its block there", "wrong-part"))
    return out
