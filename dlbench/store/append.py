"""Appending runs to the canonical files: route each run to its part, close a part before it would pass the cap.

`plan(parts, new_runs)` says what a merge writes, without writing: the files it closes by renaming them, and
every part afterwards with its new bytes. `apply(layout, plan)` writes it in an order that a kill at any moment
leaves a readable dataset with no run twice: first each closing rename (the open file becomes `<stem>-NNNN.toml`
and its runs are in exactly one file), then the closed parts filled in this merge, then the open files.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Any

from ..contract.atomic import fsync_dir, write_bytes_atomic
from . import api
from . import parts as part_rules
from .dataset import Layout, Part, run_block, toml_head

# Bytes of a JSON part's header that grow with its counts and hash: headroom kept below the cap.
_JSON_HEAD_SLACK = 256


@dataclass
class Plan:
    parts: list[Part]                                        # every part after the merge, in reading order
    renames: list[tuple[str, str]] = field(default_factory=list)   # (open file, closed name) closed by renaming
    writes: list[str] = field(default_factory=list)          # canonical files whose bytes change, in write order


def _json_size(part: Part | None) -> int:
    if part is None:
        return len(api.render_json([], "0" * 64))
    if part.json_bytes is not None and part.json_count == len(part.runs):
        return len(part.json_bytes)
    return len(api.render_json(part.runs, part.sha256))


def plan(existing: list[Part], new_runs: list[dict[str, Any]], max_bytes: int = part_rules.MAX_PART_BYTES) -> Plan:
    """Where each of `new_runs` (in merge order) is appended: its part (`parts.part_for`), runs one by one; a
    part whose TOML or JSON the next run would take past `max_bytes` is closed first (a part is never left
    without a run, so a single run larger than the cap gets a file of its own)."""
    by_rel = {p.rel: p for p in existing}
    names = set(by_rel)
    groups: dict[str, list[dict[str, Any]]] = {}
    for run in new_runs:
        groups.setdefault(part_rules.part_for(run), []).append(run)
    out = Plan([])
    for rel, runs in sorted(groups.items()):
        on_disk = by_rel.get(rel)
        toml = bytearray(on_disk.toml_bytes if on_disk is not None else toml_head().encode("utf-8"))
        json_size = _json_size(on_disk)
        held = list(on_disk.runs) if on_disk is not None else []
        prev = (on_disk.json_bytes, on_disk.json_count) if on_disk is not None else (None, 0)
        fresh_from_disk = on_disk is not None        # `toml` is still the file on disk, unchanged
        renamed = False
        for run in runs:
            block = run_block(run).encode("utf-8")
            line = len(api.dumps_compact(run).encode("utf-8")) + 2
            if held and (len(toml) + len(block) > max_bytes or json_size + line + _JSON_HEAD_SLACK > max_bytes):
                closed = part_rules.closed_name(rel, part_rules.next_number(rel, names))
                names.add(closed)
                if on_disk is not None and not renamed:   # the file on disk is closed by renaming it
                    out.renames.append((rel, closed))
                    renamed = True
                if not fresh_from_disk:                    # its bytes are not (only) those on disk
                    out.writes.append(closed)
                by_rel[closed] = Part(closed, bytes(toml), held, *prev)
                toml, held, prev = bytearray(toml_head().encode("utf-8")), [], (None, 0)
                json_size = _json_size(None)
                fresh_from_disk = False
            toml += block
            held.append(run)
            json_size += line
            fresh_from_disk = False
        by_rel[rel] = Part(rel, bytes(toml), held, *prev)
        names.add(rel)
        out.writes.append(rel)
    out.parts = [by_rel[r] for r in part_rules.ordered(by_rel)]
    return out


def apply(layout: Layout, done: Plan) -> list[str]:
    """Write a plan (see the module docstring for the order); returns the canonical files written or renamed."""
    written = []
    for old, new in done.renames:
        os.replace(layout.root / old, layout.root / new)
        fsync_dir((layout.root / new).parent)
        written.append(new)
    by_rel = {p.rel: p for p in done.parts}
    for rel in done.writes:
        write_bytes_atomic(layout.root / rel, by_rel[rel].toml_bytes)
        if rel not in written:
            written.append(rel)
    return written
