"""`python tools/import_published.py SOURCE FOLDER`: a published benchmark table as imported fragments.

The source module reads the checkout (all or nothing); here every run is checked as the pull-request check
checks a fragment (schema and plausibility rules), compared with what the dataset already holds, and
written to data/fragments/ for `tools/merge.py`.

Idempotent: a run already in the dataset (or already written to the fragments folder) is not written again;
at a new commit of the source, a row whose figures did not change is left as it is (the dataset keeps the
earlier pin), and a row whose figures changed is written with `provenance.source.replaces` naming the
earlier run, which is reported (`replaces RUN_ID`).
"""

from __future__ import annotations

import argparse
import json
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

from ..contract.fragment import file_name, to_toml, with_run_id
from ..contract.plausibility import check as plausibility_check
from ..contract.problems import Problem, display_path
from ..contract.validate import validate_run
from ..importers.published import InputError, Pin
from ..importers.sources import Source, registry
from ..store.dataset import DatasetError, Layout, all_runs
from .common import add_root, guarded

_COMMIT = re.compile(r"^[0-9a-f]{40}$")
_DATE = re.compile(r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$")


def build_parser(sources: dict[str, Source]) -> argparse.ArgumentParser:
    listing = "\n".join(f"  {s.name:<22} {s.repository} @ {s.pinned[:12]}: {s.description}; reads {s.files}"
                        for s in sources.values())
    p = argparse.ArgumentParser(
        prog="import_published.py", formatter_class=argparse.RawDescriptionHelpFormatter,
        description="Import a published benchmark table, each run pinned to its source (repository, path, "
                    "commit, SHA-256 of the file, the row's key, the device string as written, license and "
                    "attribution). FOLDER is a checkout of the source repository at the commit to pin (or the "
                    "files at their paths in it). Bad input (a missing or renamed column, an unknown device "
                    "string, a non-numeric cell, a file of another layout) is reported as FILE:LINE: field: "
                    "message and nothing is written. Run `python tools/merge.py` afterwards.\n\nSources:\n"
                    + listing + "\n\nExit status: 0 success (also when nothing was new), 1 bad input, "
                    "2 a usage error.")
    p.add_argument("source", choices=sorted(sources), metavar="SOURCE", help="which source: " + ", ".join(sorted(sources)))
    p.add_argument("folder", type=Path, metavar="FOLDER", help="checkout of the source repository (or a folder "
                   "holding its files at their repository paths)")
    p.add_argument("--commit", metavar="SHA", help="the source's commit the files were read at (40 hex digits; "
                   "default: FOLDER's git HEAD when FOLDER is a git checkout)")
    p.add_argument("--retrieved", metavar="YYYY-MM-DD", help="date the files were read (recorded with the pin)")
    add_root(p)
    p.add_argument("--out", type=Path, default=None, metavar="DIR",
                   help="where to write the fragments (default: ROOT/data/fragments)")
    p.add_argument("--dry-run", action="store_true", help="report what would be written, write nothing")
    return p


def _head_commit(folder: Path) -> str | None:
    if not (folder / ".git").exists():
        return None
    try:
        out = subprocess.run(["git", "-C", str(folder), "rev-parse", "HEAD"], capture_output=True, text=True,
                             timeout=30, check=False)
    except (OSError, subprocess.SubprocessError):
        return None
    commit = out.stdout.strip()
    return commit if _COMMIT.match(commit) else None


def _checked(runs: list[dict[str, Any]], source: Source) -> list[Problem]:
    """Every problem the pull-request check would find in these runs (schema and plausibility)."""
    problems: list[Problem] = []
    for run in runs:
        src = run["provenance"].get("source", {})
        label = f"{src.get('path', source.name)} row {src.get('row', '?')}"
        found = validate_run(run, label)
        if not found:
            found, _notices = plausibility_check(run, label, lambda path: None)
        problems += found
    return problems


def _key(run: dict[str, Any]) -> tuple[str, str, str] | None:
    src = run.get("provenance", {}).get("source") or {}
    if not all(isinstance(src.get(k), str) for k in ("repository", "path", "row")):
        return None
    return src["repository"], src["path"], src["row"]


def _figures(run: dict[str, Any]) -> str:
    """What a re-import compares: the results and the system, not the pin."""
    return json.dumps([run.get("results"), run.get("system")], sort_keys=True)


def plan(candidates: list[dict[str, Any]], existing: list[dict[str, Any]]
         ) -> tuple[list[dict[str, Any]], int, list[tuple[str, dict[str, Any]]]]:
    """(runs to write, how many are unchanged, [(replaced run id, run)]) for candidates against the dataset."""
    ids = {r.get("run_id") for r in existing}
    latest: dict[tuple[str, str, str], dict[str, Any]] = {}
    for run in existing:
        key = _key(run)
        if key is not None:
            latest[key] = run        # merge order: the last is the newest
    write, unchanged, replaced = [], 0, []
    for run in candidates:
        key = _key(run)
        before = latest.get(key) if key else None
        if run["run_id"] in ids or (before is not None and _figures(before) == _figures(run)):
            unchanged += 1
            continue
        if before is not None:
            run = dict(run)
            run["provenance"] = dict(run["provenance"])
            run["provenance"]["source"] = dict(run["provenance"]["source"]) | {"replaces": before["run_id"]}
            run = with_run_id(run)
            replaced.append((before["run_id"], run))
        write.append(run)
    return write, unchanged, replaced


def run(argv: list[str] | None) -> int:
    sources = registry()
    parser = build_parser(sources)
    args = parser.parse_args(argv)
    source = sources[args.source]
    if not args.folder.is_dir():
        parser.error(f"{args.folder}: no such folder: give a checkout of {source.repository}")
    commit = args.commit or _head_commit(args.folder)
    if commit is None:
        parser.error(f"--commit is required: {args.folder} is not a git checkout, so the commit its files were "
                     f"read at must be given (the dataset's import used {source.pinned})")
    if not _COMMIT.match(commit):
        parser.error(f"--commit {commit!r}: expected the full 40-hex-digit commit hash")
    if args.retrieved and not _DATE.match(args.retrieved):
        parser.error(f"--retrieved {args.retrieved!r}: expected a date as YYYY-MM-DD")
    pin = Pin(source.repository, commit, args.retrieved)
    try:
        if source.kind == "catalogue":
            assert source.apply is not None
            for line in source.apply(args.folder, pin, args.root, args.dry_run):
                print(line)
            return 0
        assert source.read is not None
        reading = source.read(args.folder, pin)
        candidates = reading.runs
        problems = _checked(candidates, source)
        if problems:
            raise InputError(problems)
    except InputError as exc:
        for p in exc.problems:
            print(p.format(), file=sys.stderr)
        print(f"nothing written: {len(exc.problems)} problem(s) in the input", file=sys.stderr)
        return 1
    layout = Layout(args.root)
    out_dir = args.out if args.out is not None else layout.fragments
    try:
        existing = all_runs(layout)
    except DatasetError as exc:
        print(f"{exc}\nnothing written: the dataset must be readable to know which runs it already holds",
              file=sys.stderr)
        return 1
    write, unchanged, replaced = plan(candidates, existing)
    pending = 0
    for run_ in sorted(write, key=lambda r: r["run_id"]):
        target = out_dir / file_name(run_["run_id"])
        text = to_toml(run_)
        if target.exists() and target.read_text(encoding="utf-8") == text:
            pending += 1
            continue
        if not args.dry_run:
            from ..contract.atomic import write_text_atomic
            write_text_atomic(target, text)
    for line in reading.skipped:
        print(f"not a result: {line}")
    for old, new in replaced:
        src = new["provenance"]["source"]
        print(f"{new['run_id']} replaces {old} ({src['path']} row {src['row']}: its figures changed at "
              f"{src.get('commit', '?')[:12]})")
    verb = "would write" if args.dry_run else "wrote"
    print(f"{source.name}: {len(candidates)} runs read; {verb} {len(write) - pending} to {display_path(out_dir)}"
          f" ({len(replaced)} replacing earlier imports); {pending} already in the fragments folder; "
          f"{unchanged} already in the dataset, unchanged")
    return 0


def main(argv: list[str] | None = None) -> int:
    return guarded(lambda: run(argv))


if __name__ == "__main__":
    sys.exit(main())
