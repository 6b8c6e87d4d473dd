"""What CI checks on a pull request: which files it changes, and whether its new fragments are valid.

The checks run from the BASE branch's checkout (its `dlbench/`, `tools/` and `schema/`) against the
pull request's tree, so a pull request cannot loosen the schema or the tools it is checked with. A pull
request that contributes data may only ADD `data/fragments/<run_id>.toml` files: the merged dataset and
everything generated from it are written by the merge workflow on main, and a submitted fragment is
never edited or deleted by a pull request.
"""

from __future__ import annotations

import subprocess
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from ..contract.problems import Problem
from ..contract.validate import validate_fragments
from . import merge as merging
from .dataset import DatasetError, Layout, ids_in
from .lock import Busy

FRAGMENTS_DIR = "data/fragments"
# Paths written only by `tools/merge.py` (on main, by the merge workflow): a file, or a folder ending in '/'.
GENERATED = ("data/benchmark.toml", "data/benchmark.json", "data/api/")
REGULAR_FILE_MODES = ("100644", "100755")


class CheckError(Exception):
    """The check could not run (not a git repository, unknown base commit); the message says what to do."""


@dataclass(frozen=True)
class Change:
    """One file changed by the pull request: git's status letter (A, M, D, T) and the new file mode."""

    status: str
    path: str
    mode: str


@dataclass
class PrReport:
    added_fragments: list[str] = field(default_factory=list)
    other_files: list[str] = field(default_factory=list)       # code, schema, docs: for CODEOWNERS review
    would_merge: list[str] = field(default_factory=list)       # run ids the merge dry-run would append
    problems: list[Problem] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


def changed_files(root: Path, base_ref: str) -> list[Change]:
    """Files changed between the merge base of `base_ref` and HEAD in the git repository at `root`.

    Renames are reported as a deletion plus an addition, so a renamed fragment counts as a deletion.
    """
    _git(root, "rev-parse", "--verify", "--quiet", f"{base_ref}^{{commit}}",
         error=f"{base_ref}: not a commit in {root}: fetch the base branch's history "
               "(actions/checkout with fetch-depth: 0) or pass the right --base-ref")
    out = _git(root, "diff", "--raw", "-z", "--no-renames", "--no-abbrev", "--no-ext-diff", "--no-textconv",
               f"{base_ref}...HEAD", error=f"{base_ref}: no merge base with HEAD in {root}: "
                                           "fetch the full history (fetch-depth: 0)")
    fields = out.split("\0")
    changes = []
    for header, path in zip(fields[0::2], fields[1::2]):
        if not header.startswith(":"):
            continue
        _old_mode, new_mode, _old_sha, _new_sha, status = header[1:].split(" ")
        changes.append(Change(status[0], path, new_mode))
    return changes


def _git(root: Path, *args: str, error: str) -> str:
    try:
        proc = subprocess.run(["git", "-C", str(root), *args], capture_output=True, text=True, check=False)
    except OSError as exc:
        raise CheckError(f"cannot run git: {exc}: install git") from exc
    if proc.returncode != 0:
        detail = proc.stderr.strip().splitlines()
        raise CheckError(error + (f" (git: {detail[-1]})" if detail else ""))
    return proc.stdout


def is_generated(path: str) -> bool:
    return any(path == g or (g.endswith("/") and path.startswith(g)) for g in GENERATED)


def classify(changes: list[Change]) -> PrReport:
    """Sort the changes into added fragments, other files, and problems (generated files, fragment edits)."""
    rep = PrReport()
    for ch in changes:
        if is_generated(ch.path):
            rep.problems.append(_problem(
                ch.path, f"{ch.path} is generated: add a fragment to data/fragments/ instead "
                         "(the merge workflow on main rewrites this file; undo your change to it)", "generated-file"))
        elif ch.path.startswith(FRAGMENTS_DIR + "/"):
            problem = _fragment_change_problem(ch)
            if problem:
                rep.problems.append(problem)
            else:
                rep.added_fragments.append(ch.path)
        else:
            rep.other_files.append(ch.path)
    return rep


def _fragment_change_problem(ch: Change) -> Problem | None:
    if ch.status == "D":
        return _problem(ch.path, "a pull request must not delete or rename a fragment: only the merge workflow "
                                 "removes fragments once merged; restore this file", "fragment-deleted")
    if ch.status != "A":
        return _problem(ch.path, "a submitted fragment must not be edited: restore it and add a new fragment "
                                 "(a new run gets a new run_id) instead", "fragment-edited")
    p = PurePosixPath(ch.path)
    if str(p.parent) != FRAGMENTS_DIR or p.suffix != ".toml" or p.name.startswith("."):
        return _problem(ch.path, "only <run_id>.toml files may be added directly in data/fragments/: move or "
                                 "remove this file", "not-a-fragment")
    if ch.mode not in REGULAR_FILE_MODES:
        return _problem(ch.path, f"a fragment must be a regular file (git mode {ch.mode}): add the file itself, "
                                 "not a link", "not-a-fragment")
    return None


def _problem(path: str, message: str, code: str) -> Problem:
    return Problem(path, None, None, message, code)


def check_pr(root: Path, base_ref: str) -> PrReport:
    """Every check of a pull request checked out at `root`, against the base commit `base_ref`.

    Run from the base branch's code: the fragments are validated with THIS package and its schema.
    Paths in problems are relative to `root`; call with `root` as the working directory for those paths
    to be the ones the user sees. Raises CheckError when git cannot answer.
    """
    root = Path(root)
    rep = classify(changed_files(root, base_ref))
    layout = Layout(root)
    try:
        known = ids_in(layout)
    except DatasetError as exc:
        rep.problems.append(_problem("data/benchmark.toml", f"cannot be read: {exc}", "dataset"))
        known = {}
    results = validate_fragments([root / p for p in rep.added_fragments], known)
    for rel, res in zip(rep.added_fragments, results):
        rep.problems += [_relative(pr, res.path, rel) for pr in res.problems]
    _merge_dry_run(layout, rep)
    rep.problems = list(dict.fromkeys(rep.problems))  # the dry run re-validates the same fragments
    return rep


def _merge_dry_run(layout: Layout, rep: PrReport) -> None:
    """Would the pull request's fragments merge cleanly into its dataset? Writes nothing."""
    try:
        merged = merging.merge(layout, lock_timeout=30.0, dry_run=True)
    except (Busy, DatasetError) as exc:
        rep.problems.append(_problem("data/benchmark.toml", f"the merge dry run failed: {exc}", "merge"))
        return
    root = layout.root.resolve()
    for pr in merged.problems:
        rep.problems.append(_relative(pr, pr.file, _rel_to(pr.file, root)))
    rep.would_merge = merged.merged


def _rel_to(shown: str, root: Path) -> str:
    try:
        return Path(shown).resolve().relative_to(root).as_posix()
    except ValueError:
        return shown


def _relative(problem: Problem, shown: str, rel: str) -> Problem:
    """The problem with its file named relative to the repository root."""
    if problem.file != shown:
        return problem
    return Problem(rel, problem.line, problem.field, problem.message, problem.code)
