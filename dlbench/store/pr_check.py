"""What CI checks on a pull request: which files it changes, and whether its new fragments are valid.

The checks run from the BASE branch's checkout (its `dlbench/`, `tools/` and `schema/`) against the
pull request's tree, so a pull request cannot loosen the schema or the tools it is checked with. A pull
request that contributes data may only ADD `data/fragments/<run_id>.toml` files: the merged dataset and
everything generated from it are written by the merge workflow on main, and a submitted fragment is
never edited or deleted by a pull request.
"""

from __future__ import annotations

import os
import re
import subprocess
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from ..contract.limits import MAX_FRAGMENTS_PER_PR
from ..contract.problems import Problem
from ..contract.validate import validate_fragments
from . import merge as merging
from . import pr_recompute
from .dataset import DatasetError, Layout, ids_in
from .lock import Busy
from .parts import is_canonical

FRAGMENTS_DIR = "data/fragments"
# Paths written only by `tools/merge.py` (on main, by the merge workflow): a file, or a folder ending in '/';
# and every canonical file and the JSON beside it (`parts.is_canonical`: data/benchmark-NNNN.toml/.json too).
GENERATED = ("data/benchmark.toml", "data/benchmark.json", "data/api/", "data/imported/")
REGULAR_FILE_MODES = ("100644", "100755")
MODE_NAMES = {"120000": "a symbolic link", "160000": "a submodule (gitlink)", "040000": "a folder"}
# Problems after which the pull request's data/ tree is not what the merge expects (or, run locally, not what
# is committed): the merge dry run, which reads the working tree as it is, is skipped.
STRUCTURAL = frozenset({"generated-file", "fragment-deleted", "fragment-edited", "not-a-fragment",
                        "not-a-regular-file", "not-committed"})
_ALREADY_IN = re.compile(r"^run (\S+) is already in (.+?): ")
_COMMIT = re.compile(r"^[0-9a-f]{40}$")
_VERSION = re.compile(r"""^__version__\s*=\s*["']([^"']+)["']""", re.M)
# Set to 1 by validate.yml only for a pull request from a branch of the main repository (its author can push
# there, so is a maintainer). Threat model: a contributor controls the fragment's every byte (and can re-hash
# it), but not the base branch's history, the checker (base's code) or the event that says where the pull
# request comes from. An imported record bypasses the measured-run provenance below (it has no commit), so
# only a maintainer may add one; a contributor's imported record could impersonate a published source.
MAINTAINER_ENV = "DLBENCH_MAINTAINER_PR"


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
    touches_fragments: bool = False                           # any change at all under data/fragments/
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
    return any(path == g or (g.endswith("/") and path.startswith(g)) for g in GENERATED) or is_canonical(path)


def classify(changes: list[Change]) -> PrReport:
    """Sort the changes into added fragments, other files, and problems.

    Problems: changes to generated files, edits of fragments, anything under data/fragments/ that is not a
    new regular `<run_id>.toml` file, and, in a pull request that touches data/fragments/ at all, every other
    file: a data pull request contains fragments and nothing else (code is reviewed in its own pull request).
    """
    rep = PrReport()
    others = []
    for ch in changes:
        if is_generated(ch.path):
            rep.problems.append(_problem(
                ch.path, f"{ch.path} is generated: add a fragment to data/fragments/ instead "
                         "(the merge workflow on main rewrites this file; undo your change to it)", "generated-file"))
        elif ch.path.startswith(FRAGMENTS_DIR + "/"):
            rep.touches_fragments = True
            problem = _fragment_change_problem(ch)
            if problem:
                rep.problems.append(problem)
            else:
                rep.added_fragments.append(ch.path)
        else:
            others.append(ch.path)
    if rep.touches_fragments:
        for path in others:
            rep.problems.append(_problem(
                path, "a pull request that adds fragments must change nothing else: move this change to a pull "
                      "request of its own (changes other than fragments are reviewed by a maintainer)",
                "not-only-fragments"))
    else:
        rep.other_files = others
    return rep


def _fragment_change_problem(ch: Change) -> Problem | None:
    if ch.status == "D":
        return _problem(ch.path, "a pull request must not delete or rename a fragment: only the merge workflow "
                                 "removes fragments once merged; restore this file", "fragment-deleted")
    if ch.status != "A":
        return _problem(ch.path, "a submitted fragment must not be edited: restore it and add a new fragment "
                                 "(a new run gets a new run_id) instead", "fragment-edited")
    if ch.mode not in REGULAR_FILE_MODES:
        what = MODE_NAMES.get(ch.mode, f"not a regular file (git mode {ch.mode})")
        return _problem(ch.path, f"{what} is not allowed in data/fragments/: add the fragment itself, as a regular "
                                 "<run_id>.toml file", "not-a-regular-file")
    p = PurePosixPath(ch.path)
    if str(p.parent) != FRAGMENTS_DIR or p.suffix != ".toml" or p.name.startswith("."):
        return _problem(ch.path, "only <run_id>.toml files may be added directly in data/fragments/: move or "
                                 "remove this file", "not-a-fragment")
    return None


def uncommitted_fragments(root: Path) -> list[Problem]:
    """Files in data/fragments/ that differ from HEAD (untracked, modified, staged only, deleted): the check
    judges the branch's commits, as CI does, so a file that is not committed is not what CI will see."""
    out = _git(root, "status", "--porcelain=v1", "-z", "--untracked-files=all", "--no-renames", "--",
               FRAGMENTS_DIR, error=f"cannot read the status of {root}")
    problems = []
    for entry in out.split("\0"):
        if len(entry) < 4:
            continue
        state, path = entry[:2], entry[3:]
        what = "not committed" if state in ("??", "A ", "AM") else "has changes that are not committed"
        problems.append(_problem(path, f"{what}: git add it and commit (the check, like CI, judges what is "
                                       "committed on the branch)", "not-committed"))
    return problems


def _within_pr_duplicates(problems: list[Problem], added: list[str]) -> list[Problem]:
    """Say "duplicate within this pull request" (not "resubmit") when the earlier copy is in the same PR."""
    ours = set(added)
    out = []
    for pr in problems:
        m = _ALREADY_IN.match(pr.message) if pr.code == "duplicate-run" else None
        if m and PurePosixPath(m.group(2)).as_posix().removeprefix("./") in ours and pr.file in ours:
            pr = Problem(pr.file, pr.line, pr.field,
                         f"run {m.group(1)} is also in {m.group(2)}: the two files are duplicates within this pull "
                         "request (the same run twice); keep one of them and remove the other", "duplicate-in-pr")
        out.append(pr)
    return out


def _problem(path: str, message: str, code: str) -> Problem:
    return Problem(path, None, None, message, code)


def check_pr(root: Path, base_ref: str, local: bool = False, require_provenance: bool = False,
             maintainer: bool | None = None) -> PrReport:
    """Every check of a pull request checked out at `root`, against the base commit `base_ref`.

    Run from the base branch's code: the fragments are validated with THIS package and its schema.
    Paths in problems are relative to `root`; call with `root` as the working directory for those paths
    to be the ones the user sees. With `local`, files in data/fragments/ that are not committed are problems
    too (CI's checkout has none). With `require_provenance` (CI passes --require-provenance), every added
    measured run must cite a commit of the base branch, a clean tree and that commit's runner version, and an
    imported run is accepted only when `maintainer` (default: $DLBENCH_MAINTAINER_PR = 1). Raises CheckError
    when git cannot answer.
    """
    root = Path(root)
    rep = classify(changed_files(root, base_ref))
    if local:
        rep.problems += uncommitted_fragments(root)
    if not rep.touches_fragments:
        return rep  # a code change: no data to judge
    if len(rep.added_fragments) > MAX_FRAGMENTS_PER_PR:
        # Refused before any is read: the dataset is append-only, so what one pull request may add is bounded.
        rep.problems.append(_problem(
            FRAGMENTS_DIR, f"the pull request adds {len(rep.added_fragments):,} fragments; at most "
                           f"{MAX_FRAGMENTS_PER_PR} are accepted in one pull request: split it", "too-many-fragments"))
        return rep
    structural = any(p.code in STRUCTURAL or (p.code == "not-only-fragments" and p.file.startswith("data/"))
                     for p in rep.problems)
    layout = Layout(root)
    known: dict[str, str] = {}
    if not structural:
        try:
            known = ids_in(layout)
        except DatasetError as exc:
            rep.problems.append(_problem("data/benchmark.toml", f"cannot be read: {exc}", "dataset"))
    results = validate_fragments([root / p for p in rep.added_fragments], known)
    for rel, res in zip(rep.added_fragments, results):
        rep.problems += [_relative(pr, res.path, rel) for pr in res.problems]
        if require_provenance:
            if maintainer is None:
                maintainer = os.environ.get(MAINTAINER_ENV) == "1"
            for run in res.runs:
                rep.problems += provenance_problems(root, base_ref, run, rel, maintainer)
    if not structural:  # the dry run reads data/ as it is: only once it holds nothing but regular fragments
        _merge_dry_run(layout, rep)
    rep.problems = list(dict.fromkeys(_within_pr_duplicates(rep.problems, rep.added_fragments)))
    return rep


def provenance_problems(root: Path, base_ref: str, run: dict, rel: str, maintainer: bool) -> list[Problem]:
    """Codes: `imported-needs-maintainer`, `provenance-commit-missing`, `provenance-commit-unknown`,
    `provenance-dirty`, `provenance-runner-version` (see the messages), and `provenance-contradicts-commit`
    for a field the code at the cited commit computes otherwise (`pr_recompute`)."""
    prov = run.get("provenance", {})

    def problem(field: str, message: str, code: str) -> Problem:
        return Problem(rel, None, f"provenance.{field}", message, code)

    if prov.get("kind") == "imported":
        if maintainer:
            return []
        return [problem("kind", "an imported record is accepted only in a maintainer's pull request: it has no "
                        "commit or runner to check and could impersonate a published source; submit a measured "
                        "run made with runners/run.py, or ask a maintainer to import the source",
                        "imported-needs-maintainer")]
    out = []
    commit = prov.get("git_commit")
    if prov.get("git_dirty") is not False:
        out.append(problem("git_dirty", "the run was made from a working tree with uncommitted changes (or does "
                           "not say): the code that produced a result must be the published code; commit nothing "
                           "locally, check out a commit of main and run the benchmark again", "provenance-dirty"))
    if not isinstance(commit, str) or not _COMMIT.match(commit):
        out.append(problem("git_commit", "a measured run must cite the full 40-digit commit of main it was run "
                           "from: run the benchmark from a git checkout of main", "provenance-commit-missing"))
        return out
    known = subprocess.run(["git", "-C", str(root), "merge-base", "--is-ancestor", commit, base_ref],
                           capture_output=True, text=True, check=False).returncode == 0
    if not known:
        out.append(problem("git_commit", f"{commit} is not a commit of the base branch's history: the run must "
                           "come from published code; update your checkout of main and run the benchmark again",
                           "provenance-commit-unknown"))
        return out
    show = subprocess.run(["git", "-C", str(root), "show", f"{commit}:dlbench/__init__.py"],
                          capture_output=True, text=True, check=False)
    match = _VERSION.search(show.stdout) if show.returncode == 0 else None
    if match is None or prov.get("runner_version") != match.group(1):
        had = match.group(1) if match else "no dlbench version"
        out.append(problem("runner_version", f"{prov.get('runner_version')!r}, but commit {commit[:12]} has "
                           f"{had!r} (dlbench/__init__.py): the runner version is the one of the code that ran; "
                           "regenerate the fragment with runners/run.py", "provenance-runner-version"))
    return out + pr_recompute.contradictions(root, commit, run, rel)


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
