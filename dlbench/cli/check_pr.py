"""`python tools/ci/check_pr.py`: what the pull-request workflow checks, runnable locally."""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
from pathlib import Path

from ..contract.paths import REPO_ROOT
from ..contract.problems import github_wanted, printable_path, report
from ..store import pr_check
from .common import add_github, guarded

DESCRIPTION = """Check the changes of a pull request (what is committed at HEAD of the repository at --root)
against the base commit --base-ref, using the schema and tools of the checkout this script lives in (CI runs
the base branch's copy; run locally, it says whose rules it used and how to use main's). A pull request that
touches data/fragments/ is a data pull request: it may only add new regular <run_id>.toml files there and
change nothing else; every added fragment is validated and the merge is dry-run, writing nothing. Changes to
generated files (data/benchmark.toml, data/benchmark.json, data/api/) always fail. A pull request without
fragments is a code change: no data is judged and it needs a maintainer's review. Files in data/fragments/
that are not committed fail too. Problems go to stderr as FILE: message (and as GitHub annotations when
GITHUB_ACTIONS=true, with the check code as title). Exit status: 0 every check passed (or a code change),
1 a check failed, 2 a usage error (also when --base-ref is not a commit of the repository)."""
WORKTREE = "../dlbench-main"


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="check_pr.py", description=DESCRIPTION)
    p.add_argument("--root", type=Path, default=Path("."), metavar="DIR",
                   help="the pull request's git checkout (default: the current directory)")
    p.add_argument("--base-ref", default=os.environ.get("BASE_SHA") or "origin/main", metavar="REF",
                   help="the base branch's commit (or branch name) the pull request is compared with "
                        "(default: $BASE_SHA, else origin/main)")
    p.add_argument("--require-provenance", action="store_true",
                   help="measured runs must cite a clean commit of the base branch and its runner version, "
                        "and every field the runner takes from the repository (benchmark_version, model, "
                        "dataset, scenario, parameters, flops_per_sample, dataset_sha256) must equal what "
                        "that commit's code computes (docs/ci.md); imported runs only when "
                        "$DLBENCH_MAINTAINER_PR=1 (CI passes this)")
    add_github(p)
    return p


def _git_out(cwd: Path, *args: str) -> str | None:
    try:
        proc = subprocess.run(["git", "-C", str(cwd), *args], capture_output=True, text=True, check=False)
    except OSError:
        return None
    return proc.stdout.strip() if proc.returncode == 0 else None


def base_label(base_ref: str) -> str:
    """What to call the base branch in messages: $GITHUB_BASE_REF in Actions (`main`), else the ref given."""
    name = os.environ.get("GITHUB_BASE_REF") or base_ref
    for prefix in ("refs/remotes/origin/", "refs/heads/", "origin/"):
        name = name.removeprefix(prefix)
    return name


def rules_used(checker_root: Path, root: Path, base_ref: str) -> tuple[str, bool]:
    """(whose rules the check uses, whether they are the base branch's): the checker's commit is the base."""
    label = base_label(base_ref)
    mine = _git_out(checker_root, "rev-parse", "HEAD")
    base = _git_out(root, "rev-parse", "--verify", "--quiet", f"{base_ref}^{{commit}}")
    dirty = bool(mine) and bool(_git_out(checker_root, "status", "--porcelain", "--", "dlbench", "tools", "schema"))
    if mine is None:
        return f"the rules of the dlbench package at {checker_root} (not a git checkout), not {label}'s", False
    commit = mine[:12] + (", with uncommitted changes" if dirty else "")
    if mine == base and not dirty:
        return f"{label}'s rules (commit {commit})", True
    same = _git_out(checker_root, "rev-parse", "--show-toplevel") == _git_out(root, "rev-parse", "--show-toplevel")
    where = "this checkout" if same else f"the checkout at {checker_root}"
    return f"the rules of {where} ({commit}), not {label}'s", False


def recipe(base_ref: str) -> str:
    """The commands that run the base branch's checker on this checkout (documented in docs/ci.md)."""
    return (f"git worktree add {WORKTREE} {base_ref} && .venv/bin/python {WORKTREE}/tools/ci/check_pr.py "
            f"--root . --base-ref {base_ref}")


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
    github = github_wanted(args.github)
    os.chdir(args.root)  # problems name files relative to the pull request's repository root
    try:
        rep = pr_check.check_pr(Path("."), args.base_ref, local=True,
                                 require_provenance=args.require_provenance)
    except pr_check.CheckError as exc:
        print(f"check_pr.py: {exc}", file=sys.stderr)
        return 2
    rules, is_base = rules_used(checker_root or REPO_ROOT, Path("."), args.base_ref)
    label = base_label(args.base_ref)
    print(f"check_pr.py: checked with {rules}")
    if not is_base:
        print(f"check_pr.py: to check with {label}'s rules, as CI does, run from this checkout: "
              f"{recipe(args.base_ref)}  (docs/ci.md)")
    n = report(rep.problems, sys.stderr, github)
    if n:
        print(f"pull request check failed: {n} problem(s) (checked with {rules})", file=sys.stderr)
        return 1
    if not rep.touches_fragments:
        files = ", ".join(printable_path(f) for f in rep.other_files)
        text = ("no data checked: this pull request adds no fragment to data/fragments/, so it is a code change "
                "and needs a maintainer's review (CODEOWNERS) before it is merged; "
                f"{len(rep.other_files)} file(s) changed: {files}") if rep.other_files else \
            "no data checked: this pull request changes no file"
        print(text)
        if github:
            print(f"::warning title=code-change::{text}")
        return 0
    print(f"{len(rep.added_fragments)} added fragment(s) valid with {rules}; "
          f"the merge would add {len(rep.would_merge)} run(s)")
    return 0


def main(argv: list[str] | None = None, checker_root: Path | None = None) -> int:
    return guarded(lambda: run(argv, checker_root))


if __name__ == "__main__":
    sys.exit(main())
