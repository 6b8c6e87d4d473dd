"""`python tools/merge.py`: fold fragments into the dataset's canonical files and regenerate every generated file."""

from __future__ import annotations

import argparse
import sys

from ..contract.problems import github_wanted, printable_path, report
from ..store import merge as merging
from ..store.dataset import DatasetError, Layout
from ..store.lock import Busy
from ..store.shards import ShardError
from .common import add_github, add_root, guarded

DESCRIPTION = """Merge every valid fragment in data/fragments/ into the dataset's canonical files
(append-only, in start-time order): data/benchmark.toml, or, for an import that names its source repository
and file, data/imported/<owner>--<name>/<file>.toml; a file that would pass 40,000,000 bytes is first closed
as <stem>-NNNN.toml (docs/api.md, "Canonical files"). Then remove the merged fragments and regenerate the JSON
beside each canonical file and every other generated file. A run already in the dataset is skipped with a
notice; devices with ok results and no device-catalogue entry are listed in a notice. An invalid fragment is left in
data/fragments/ with its problems printed, and the valid ones are merged all the same (exit status 1); if
the device catalogue (catalogue/devices.toml, which the API's fractions of peak are read against) is
invalid, nothing is changed. The same input always gives byte-identical files; a second run changes
nothing. Exit status: 0 success, 1 an invalid fragment, an out-of-date file with --check, or another merge
running; 2 a usage error."""


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="merge.py", description=DESCRIPTION)
    add_root(p)
    p.add_argument("--check", action="store_true",
                   help="change nothing; exit 1 naming every generated file that is out of date with the "
                        "canonical files (and 1 if a canonical file, the placement of a run or the device "
                        "catalogue is invalid)")
    p.add_argument("--dry-run", action="store_true",
                   help="validate and report what would be merged, writing nothing")
    p.add_argument("--wait", type=float, default=0.0, metavar="SECONDS",
                   help="when another merge holds the lock, wait up to SECONDS for it (default: refuse at once)")
    add_github(p)
    return p


def run(argv: list[str] | None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.wait < 0:
        parser.error("--wait must not be negative")
    if args.check and args.dry_run:
        parser.error("--check and --dry-run do not go together")
    layout = Layout(args.root)
    if not layout.data.is_dir():
        parser.error(f"{layout.data}: no data/ folder here; run from the repository root or pass --root")
    try:
        return _run(args, layout)
    except ShardError as exc:
        print(f"data/api/v1: {exc}; nothing was changed. Shorten the offending run's text fields, or raise "
              "MAX_SHARD_BYTES in dlbench/store/shards.py", file=sys.stderr)
        return 1


def _run(args: argparse.Namespace, layout: Layout) -> int:
    if args.check:
        stale, problems = merging.check(layout)
        if problems:
            report(problems, sys.stderr, github_wanted(args.github))
            bad = sorted({printable_path(p.file) for p in problems})
            print(f"{' and '.join(bad)} {'is' if len(bad) == 1 else 'are'} invalid; fix "
                  f"{'it' if len(bad) == 1 else 'them'} before checking generated files", file=sys.stderr)
            return 1
        for rel in stale:
            print(f"{rel}: out of date with data/benchmark.toml and the other canonical files: run "
                  "`python tools/merge.py` and commit the result", file=sys.stderr)
        if stale:
            return 1
        print("generated files are up to date")
        return 0
    try:
        rep = merging.merge(layout, lock_timeout=args.wait, dry_run=args.dry_run)
    except Busy as exc:
        print(f"{exc}: another merge is running; wait for it or pass --wait SECONDS", file=sys.stderr)
        return 1
    except DatasetError as exc:
        print(f"{exc}", file=sys.stderr)
        return 1
    if rep.blocked:
        report(rep.problems, sys.stderr, github_wanted(args.github))
        print(f"merge stopped: {len(rep.problems)} problem(s); nothing was changed", file=sys.stderr)
        return 1
    for path, where in zip(rep.skipped, rep.skipped_in):
        print(f"{printable_path(str(path))}: notice: run already in {where}; skipped and removed the "
              "fragment", file=sys.stderr)
    for device in rep.unknown_devices:
        print(f"notice: {device} has ok results and no entry in the device catalogue (no fractions of peak): "
              "map its name to an entry in catalogue/device-map.toml, or add an entry to catalogue/devices.toml", file=sys.stderr)
    verb = "would merge" if args.dry_run else "merged"
    print(f"{verb} {len(rep.merged)} run(s)" + (f": {', '.join(rep.merged)}" if rep.merged else ""))
    for rel in rep.written:
        print(f"wrote {rel}")
    if not rep.written and not args.dry_run:
        print("nothing changed")
    if not rep.ok:
        report(rep.problems, sys.stderr, github_wanted(args.github))
        left = ", ".join(printable_path(p) for p in rep.left)
        print(f"{len(rep.left)} invalid fragment(s) {'would be ' if args.dry_run else ''}left in data/fragments/ "
              f"({len(rep.problems)} problem(s)): {left}; the valid ones {'would be ' if args.dry_run else 'were '}"
              "merged. Fix or remove the invalid ones", file=sys.stderr)
        return 1
    return 0


def main(argv: list[str] | None = None) -> int:
    return guarded(lambda: run(argv))


if __name__ == "__main__":
    sys.exit(main())
