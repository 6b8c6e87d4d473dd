"""The canonical files ("parts") of the dataset: which file a run lives in, their order, and the size cap.

The rule (docs/api.md, "Canonical files"):

- `data/benchmark.toml` holds every run that is not routed elsewhere: measured runs, and imports without a
  `provenance.source.repository` and `path` (the seeds, the legacy table).
- An imported run whose `provenance.source` names a `repository` and a `path` lives in
  `data/imported/<owner>--<name>/<path, '/' as '--', extension dropped>.toml`, lower-case (`part_for`):
  one canonical file per source file. Characters other than `a-z 0-9 . _ -` become `-`.
- Every canonical file is append-only. When appending a run would take its TOML, or the JSON generated
  from it, past MAX_PART_BYTES, the file is first *closed*: renamed to `<stem>-NNNN.toml` in the same
  folder (NNNN the next free number from 0001) and never written again; a new file of the same name is
  started. So no canonical or generated-beside file exceeds MAX_PART_BYTES (unless a single run does).
- Every canonical `X.toml` has a generated `X.json` beside it (`json_sibling`).
- Reading order (`ordered`): the closed parts of `data/benchmark.toml` by number, `data/benchmark.toml`,
  then `data/imported/**` sorted by path, each closed part before the open file it was closed from.
- A run whose `provenance.source.replaces` names another run supersedes it: the earlier run stays where it
  is, but is left out of the API's rows and of comparisons (`replaced_ids`, `current`).
"""

from __future__ import annotations

import hashlib
import re
from pathlib import Path, PurePosixPath
from typing import Any, Iterable

MAX_PART_BYTES = 40_000_000       # a canonical file (and its JSON) is closed before it would grow past this
MAIN = "data/benchmark.toml"
IMPORTED_DIR = "data/imported"
_UNSAFE = re.compile(r"[^a-z0-9._-]+")
_CLOSED = re.compile(r"^(?P<stem>.+)-(?P<n>[0-9]{4,})$")


def _safe(text: str) -> str:
    return _UNSAFE.sub("-", text.lower()).lstrip(".") or "-"


def source_of(run: dict[str, Any]) -> dict[str, Any]:
    prov = run.get("provenance")
    source = prov.get("source") if isinstance(prov, dict) else None
    return source if isinstance(source, dict) else {}


def part_for(run: dict[str, Any]) -> str:
    """The canonical (open) file a run is appended to, relative to the repository root."""
    source = source_of(run)
    repository, path = source.get("repository"), source.get("path")
    if not (isinstance(repository, str) and isinstance(path, str) and "/" in repository and path.strip("/")):
        return MAIN
    owner, name = repository.split("/", 1)
    pure = PurePosixPath(path.strip("/"))
    stem = str(pure.with_suffix("")) if pure.suffix else str(pure)
    flat = "--".join(_safe(seg) for seg in stem.split("/") if seg)
    return f"{IMPORTED_DIR}/{_safe(owner)}--{_safe(name)}/{flat}.toml"


def json_sibling(rel: str) -> str:
    """`X.json` for the canonical file `X.toml`."""
    return rel[:-len(".toml")] + ".json"


def closed_name(rel: str, number: int) -> str:
    """The name the open file `rel` takes when it is closed as part `number`: `<stem>-NNNN.toml`."""
    return f"{rel[:-len('.toml')]}-{number:04d}.toml"


def open_of(rel: str, existing: set[str]) -> tuple[str, int | None]:
    """(the open file, the closed part's number) of a canonical file: (rel, None) for an open file.

    `<stem>-NNNN.toml` is a closed part when `<stem>.toml` also exists or it lies beside data/benchmark.toml
    (a closed file is always followed by its open one, which a merge writes right after closing it).
    """
    p = PurePosixPath(rel)
    m = _CLOSED.match(p.stem)
    if m:
        base = str(p.parent / f"{m.group('stem')}.toml")
        if base in existing or base == MAIN:
            return base, int(m.group("n"))
    return rel, None


def stem_base(rel: str) -> str:
    """`<stem>.toml` for a name of the form `<stem>-NNNN.toml` (else `rel`), whether or not that file exists."""
    p = PurePosixPath(rel)
    m = _CLOSED.match(p.stem)
    return str(p.parent / f"{m.group('stem')}.toml") if m else rel


def _order_key(rel: str, existing: set[str]) -> tuple:
    base, number = open_of(rel, existing)
    group = 0 if base == MAIN else 1 if base.startswith(IMPORTED_DIR + "/") else 2
    return (group, base, number is None, number or 0)


def ordered(rels: Iterable[str]) -> list[str]:
    """Canonical files in reading order (see the module docstring)."""
    existing = set(rels)
    return sorted(existing, key=lambda r: _order_key(r, existing))


def canonical_files(root: Path) -> list[str]:
    """The canonical files present below `root`, in reading order (relative posix paths)."""
    found = []
    data = root / "data"
    if data.is_dir():
        found += [p.relative_to(root).as_posix() for p in data.glob("benchmark*.toml")
                  if p.name == "benchmark.toml" or _CLOSED.match(p.stem)]
    imported = root / IMPORTED_DIR
    if imported.is_dir():
        found += [p.relative_to(root).as_posix() for p in imported.rglob("*.toml")
                  if not p.name.startswith(".") and p.is_file()]
    return ordered(found)


def next_number(rel: str, existing: Iterable[str]) -> int:
    """The next free closed-part number for the open file `rel` (1 when none is taken)."""
    taken = set(existing)
    n = 1
    while closed_name(rel, n) in taken:
        n += 1
    return n


def is_canonical(rel: str) -> bool:
    """Whether a repository path is a canonical file or one generated beside it (written only by the merge)."""
    p = PurePosixPath(rel)
    if rel.startswith(IMPORTED_DIR + "/"):
        return True
    if str(p.parent) == "data" and p.suffix in (".toml", ".json"):
        return p.stem == "benchmark" or bool(_CLOSED.match(p.stem)) and p.stem.startswith("benchmark-")
    return False


def replaces_of(run: dict[str, Any]) -> str | None:
    found = source_of(run).get("replaces")
    return found if isinstance(found, str) else None


def replaced_ids(runs: Iterable[dict[str, Any]]) -> set[str]:
    """Run ids that a run of `runs` supersedes (`provenance.source.replaces`)."""
    return {r for r in map(replaces_of, runs) if r is not None}


def current(runs: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The runs no other run replaces, in their order (what the API's rows and comparisons read)."""
    gone = replaced_ids(runs)
    return [r for r in runs if r.get("run_id") not in gone] if gone else runs


def combined_sha256(hashes: Iterable[tuple[str, str]]) -> str:
    """SHA-256 of the sorted lines `<path> <sha256>\\n` of every canonical file (the API's `source_sha256`)."""
    text = "".join(f"{rel} {sha}\n" for rel, sha in sorted(hashes))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()
