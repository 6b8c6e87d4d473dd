"""`python tools/ci/check_pr.py`: what the pull-request workflow checks, runnable locally."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from ..contract.paths import REPO_ROOT
from ..contract.problems import github_wanted, printable_path, report
from ..store import pr_check
from .common import add_github, guarded

DESCRIPTION = """Check the changes of a pull request (HEAD of the repository at --root) against the base
commit --base-ref, using the schema and tools of the checkout this script lives in. Rejects changes to
generated files (data/benchmark.toml, data/benchmark.json, data/api/), edits, renames or deletions of
fragments, and anything in data/fragments/ that is not a new <run_id>.toml file; validates every added
fragment; and dry-runs the merge of the pull request's fragments, writing nothing. Other files (code,
schema, docs) are listed for review. Problems go to stderr as FILE: message (and as GitHub annotations
when GITHUB_ACTIONS=true). Exit status: 0 every check passed, 1 a check failed, 2 a usage error (also
when --base-ref is not a commit of the repository)."""


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="check_pr.py", description=DESCRIPTION)
    p.add_argument("--root", type=Path, default=Path("."), metavar="DIR",
                   help="the pull request's git checkout (default: the current directory)")
    p.add_argument("--base-ref", default=os.environ.get("BASE_SHA") or "origin/main", metavar="REF",
                   help="the base branch's commit (or branch name) the pull request is compared with "
                        "(default: $BASE_SHA, else origin/main)")
    add_github(p)
    return p


def run(argv: list[str] | None, checker_root: Path | None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not args.root.is_dir():
        parser.error(f"{args.root}: no such folder: pass the pull request's checkout as --root")
    if checker_root is not None and REPO_ROOT.resolve() != checker_root.resolve():
        print(f"{checker_root}: the dlbench package imported is {REPO_ROOT}, not this checkout's: run "
              "tools/ci/check_pr.py with a Python that has no other dlbench ahead of it on sys.path",
              file=sys.stderr)
        return 2
    os.chdir(args.root)  # problems name files relative to the pull request's repository root
    try:
        rep = pr_check.check_pr(Path("."), args.base_ref)
    except pr_check.CheckError as exc:
        print(f"check_pr.py: {exc}", file=sys.stderr)
        return 2
    n = report(rep.problems, sys.stderr, github_wanted(args.github))
    if rep.other_files:
        print(f"{len(rep.other_files)} other file(s) changed, for review (CODEOWNERS): "
              + ", ".join(printable_path(f) for f in rep.other_files))
    if n:
        print(f"pull request check failed: {n} problem(s)", file=sys.stderr)
        return 1
    print(f"{len(rep.added_fragments)} added fragment(s) valid with the base branch's schema and tools; "
          f"the merge would add {len(rep.would_merge)} run(s)")
    return 0


def main(argv: list[str] | None = None, checker_root: Path | None = None) -> int:
    return guarded(lambda: run(argv, checker_root))


if __name__ == "__main__":
    sys.exit(main())
