"""`python tools/submit.py`: check new fragments as the pull-request check does, then branch, commit, push to
the contributor's fork and open the pull request."""

from __future__ import annotations

import argparse
import datetime as _dt
import shlex
import shutil
import subprocess
import sys
from collections import Counter
from pathlib import Path

from ..contract.problems import Problem
from ..contract.validate import validate_fragment
from ..store import pr_check
from .common import guarded
from .submit_git import BRANCH_PREFIX, GitError, Remote, Scratch, branch_name, git, new_fragments, remotes, \
    same_repository, submitted

DESCRIPTION = """Submit the fragments you just measured as a pull request. By default it takes the new
(untracked) files in data/fragments/; or pass the fragments' paths. It checks them with the pull-request check's
rules, provenance included (as CI runs it: each measured run must cite a clean commit of the upstream's main and
its runner version), on the upstream's main with only those files added, in a throw-away clone: a fragment the
check rejects is refused with the reasons (exit 1) and nothing is written to git. Otherwise it creates the branch
results/<device>-<date> (-2, -3... when taken) holding one commit of exactly those files on top of the upstream's
main, pushes it to your fork (never to the upstream) and opens the pull request with `gh pr create` when GitHub's
CLI is installed and signed in; else it prints the address to open it and the commands. Your checkout stays on
its branch with its files as they were (the fragments stay untracked: delete them once the pull request is
merged). Exit status: 0 submitted (or planned, with --dry-run), 1 a check or git failed, 2 a usage error."""


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="submit.py", description=DESCRIPTION)
    p.add_argument("fragments", nargs="*", type=Path, metavar="FRAGMENT",
                   help="fragment files to submit (default: the untracked files in data/fragments/)")
    p.add_argument("--root", type=Path, default=Path("."), metavar="DIR",
                   help="your git checkout of the project (default: the current directory)")
    p.add_argument("--upstream-remote", metavar="NAME",
                   help="the remote of the project's repository the pull request goes to (default: `upstream` "
                        "when there is one, else `origin`)")
    p.add_argument("--fork-remote", metavar="NAME",
                   help="the remote of your fork, where the branch is pushed (default: `fork` when there is one, "
                        "else `origin` when it is not the upstream)")
    p.add_argument("--base", default="main", metavar="BRANCH",
                   help="the upstream branch the pull request is based on (default: main)")
    p.add_argument("--no-fetch", action="store_true",
                   help="use the upstream branch as last fetched instead of fetching it first")
    p.add_argument("--dry-run", action="store_true",
                   help="check the fragments and print the plan (branch, commit message, commands); write nothing")
    return p


class Usage(Exception):
    """A usage error (exit 2): the message says what to do."""


def choose_remotes(repo: Path, upstream: str | None, fork: str | None) -> tuple[Remote, Remote]:
    have = remotes(repo)
    up_name = upstream or ("upstream" if "upstream" in have else "origin")
    if up_name not in have:
        raise Usage(f"no remote {up_name!r}: add the project's repository with `git remote add upstream "
                    "https://github.com/OWNER/REPO.git` or pass --upstream-remote")
    if fork is None:
        fork = "fork" if "fork" in have else ("origin" if "origin" in have and up_name != "origin" else None)
        if fork is None:
            raise Usage(f"no remote for your fork (the upstream is {up_name!r}): fork the repository on GitHub, then "
                        "`git remote add fork https://github.com/YOU/REPO.git` (or pass --fork-remote)")
    if fork not in have:
        raise Usage(f"no remote {fork!r}: add your fork with `git remote add {fork} https://github.com/YOU/REPO.git`")
    up, fk = have[up_name], have[fork]
    if fork == up_name or any(same_repository(a, b, repo) for a in (fk.url, fk.push_url)
                              for b in (up.url, up.push_url)):
        raise Usage(f"the fork remote {fork!r} ({fk.push_url}) is the upstream repository ({up.url}): submit.py "
                    "never pushes to the upstream; add your fork as a remote and pass --fork-remote")
    return up, fk


def summary(runs: list[dict]) -> tuple[str, str, str]:
    """(main device, commit title, body listing every result) for the runs submitted."""
    results = [res for run in runs for res in run.get("results", [])]
    def device(res: dict) -> str:
        return res.get("device_name") or res.get("device_kind") or "unknown device"
    devices = [d for d, _ in Counter(device(r) for r in results).most_common()] or ["unknown device"]
    workloads = list(dict.fromkeys(r.get("benchmark", "?") for r in results)) or ["no result"]
    frameworks = sorted({f"{r.get('framework')} {r.get('framework_version')}" for r in results if r.get("framework")})
    more = f" and {len(workloads) - 1} more" if len(workloads) > 1 else ""
    software = f" ({', '.join(frameworks)})" if frameworks else ""
    title = f"Results: {' + '.join(devices)}, {workloads[0]}{more}{software}"
    lines = [f"- {run.get('run_id')}: {res.get('benchmark')} on {device(res)} ({res.get('framework')}, "
             f"{res.get('precision')}, batch {res.get('batch_size')}, {res.get('status')})"
             for run in runs for res in run.get("results", [])]
    body = "\n".join(["Measured runs submitted with tools/submit.py:", "", *lines, "",
                      "Checked before submitting with the rules of the pull-request check, provenance included."])
    return devices[0], title, body


def pr_command(up: Remote, fork: Remote, branch: str, base: str, title: str, body: str) -> list[str]:
    owner, name = up.slug
    return ["gh", "pr", "create", "--repo", f"{owner}/{name}", "--head", f"{fork.slug[0]}:{branch}",
            "--base", base, "--title", title, "--body", body]


def compare_url(up: Remote, fork: Remote, branch: str, base: str) -> str | None:
    if up.github is None or fork.github is None:
        return None
    owner, name = up.github
    return f"https://github.com/{owner}/{name}/compare/{base}...{fork.github[0]}:{branch}"


def gh_ready() -> bool:
    if shutil.which("gh") is None:
        return False
    return subprocess.run(["gh", "auth", "status"], capture_output=True, check=False).returncode == 0


def _refuse(problems: list[Problem], shown: dict[str, str]) -> int:
    for p in sorted(problems, key=lambda p: (p.file, p.line or 0, p.field or "", p.message)):
        if p.file in shown:
            p = Problem(shown[p.file], p.line, p.field, p.message, p.code, p.severity)
        print(p.format(), file=sys.stderr)
    print(f"submit.py: refused: {len(problems)} problem(s) the pull-request check would report; nothing was "
          "written to git: fix them (or leave the fragment out) and run submit.py again", file=sys.stderr)
    return 1


def run(argv: list[str] | None) -> int:
    args = build_parser().parse_args(argv)
    try:
        repo = Path(git(args.root, "rev-parse", "--show-toplevel"))
    except GitError as exc:
        print(f"submit.py: {args.root}: not a git checkout ({exc}): run it in your clone of the project",
              file=sys.stderr)
        return 2
    try:
        up, fork = choose_remotes(repo, args.upstream_remote, args.fork_remote)
    except Usage as exc:
        print(f"submit.py: {exc}", file=sys.stderr)
        return 2
    tracking = f"refs/remotes/{up.name}/{args.base}"
    try:
        if not args.no_fetch and not args.dry_run:
            git(repo, "fetch", "--quiet", up.name, f"+refs/heads/{args.base}:{tracking}")
        base = git(repo, "rev-parse", "--verify", "--quiet", f"{tracking}^{{commit}}")
    except GitError as exc:
        print(f"submit.py: cannot read {up.name}/{args.base} ({exc}): `git fetch {up.name}` and try again",
              file=sys.stderr)
        return 1
    files = [f.resolve() for f in args.fragments] if args.fragments else _new(repo, base)
    missing = [f for f in files if not f.is_file()]
    if missing:
        print(f"submit.py: {missing[0]}: no such file: pass the fragments runners/run.py wrote", file=sys.stderr)
        return 2
    if not files:
        print("submit.py: nothing to submit: no new file in data/fragments/ that is not submitted yet (run "
              "runners/run.py or tools/run_catalogue.py first, or pass the fragments' paths)", file=sys.stderr)
        return 1
    names = Counter(f.name for f in files)
    if any(n > 1 for n in names.values()):
        print(f"submit.py: two fragments named {names.most_common(1)[0][0]}: pass each run once", file=sys.stderr)
        return 2
    return _submit(args, repo, up, fork, files, base)


def _new(repo: Path, base: str) -> list[Path]:
    """The untracked fragments, less those a local results/* branch already submitted (said on stdout)."""
    done = submitted(repo, base)
    files = []
    for f in new_fragments(repo):
        branch = done.get(f.relative_to(repo).as_posix())
        if branch:
            print(f"skipped: {_shown(f)} (already submitted on {branch}; delete it once that is merged)")
        else:
            files.append(f)
    return files


def _shown(path: Path) -> str:
    """The path relative to the current directory when it is below it, else as it is."""
    try:
        return path.relative_to(Path.cwd().resolve()).as_posix()
    except ValueError:
        return str(path)


def _submit(args: argparse.Namespace, repo: Path, up: Remote, fork: Remote, files: list[Path], base: str) -> int:
    runs = [run for f in files for run in validate_fragment(f).runs]
    device, title, body = summary(runs)
    scratch = Scratch(repo, base)
    try:
        try:
            commit, rels = scratch.commit(files, f"{title}\n\n{body}\n")
        except GitError as exc:
            print(f"submit.py: {exc} (set your name and e-mail with `git config user.name ...` and "
                  "`git config user.email ...` if git asks who you are)", file=sys.stderr)
            return 1
        rep = pr_check.check_pr(scratch.root, base, local=True, require_provenance=True)
        if rep.problems:
            return _refuse(rep.problems, {rel: _shown(f) for rel, f in zip(rels, files)})
        branch = branch_name(repo, fork.name, device, _dt.datetime.now(_dt.timezone.utc).date())
        assert branch.startswith(BRANCH_PREFIX)  # never the base branch
        push = ["git", "push", fork.name, f"refs/heads/{branch}:refs/heads/{branch}"]
        gh = pr_command(up, fork, branch, args.base, title, body)
        print(f"checked: {len(files)} fragment(s) pass the pull-request check on {up.name}/{args.base} "
              f"({base[:12]}); the merge would add {len(rep.would_merge)} run(s)")
        print(f"branch:  {branch} (one commit on {up.name}/{args.base}: {', '.join(rels)})")
        print(f"commit:  {title}")
        if args.dry_run:
            print(f"would run: {shlex.join(push)}")
            print(f"would run: {shlex.join(gh)}")
            print("dry run: nothing was written")
            return 0
        git(scratch.root, "branch", branch, commit)
        git(repo, "fetch", "--quiet", str(scratch.root), f"refs/heads/{branch}:refs/heads/{branch}")
    finally:
        scratch.close()
    git(repo, *push[1:])
    print(f"pushed:  {branch} to {fork.name} ({fork.push_url}); your checkout is unchanged")
    return _open_pr(up, fork, branch, args.base, gh)


def _open_pr(up: Remote, fork: Remote, branch: str, base: str, gh: list[str]) -> int:
    url = compare_url(up, fork, branch, base)
    failed = False
    if gh_ready():
        proc = subprocess.run(gh, capture_output=True, text=True, check=False)
        if proc.returncode == 0:
            print(f"pull request: {proc.stdout.strip()}")
            return 0
        print(f"submit.py: gh pr create failed: {(proc.stderr or proc.stdout).strip()}", file=sys.stderr)
        failed = True
    print("open the pull request:")
    print(f"  {url}" if url else f"  (no address can be formed: {up.url} or {fork.url} is not a GitHub repository)")
    print("or, with GitHub's CLI (https://cli.github.com):")
    print("  gh auth login")
    print(f"  {shlex.join(gh)}")
    return 1 if failed else 0


def main(argv: list[str] | None = None) -> int:
    def body() -> int:
        try:
            return run(argv)
        except GitError as exc:
            print(f"submit.py: {exc}", file=sys.stderr)
            return 1
    return guarded(body)


if __name__ == "__main__":
    sys.exit(main())
