"""What `tools/submit.py` asks git and GitHub: remotes and their owner/name, new fragments, branch names, and the
commit of the fragments on the base branch, made in a throw-away clone so the contributor's checkout is untouched."""

from __future__ import annotations

import datetime as _dt
import re
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

FRAGMENTS_DIR = "data/fragments"
BRANCH_PREFIX = "results/"
_GITHUB = re.compile(r"^(?:https?://(?:[^@/]+@)?github\.com/|ssh://git@github\.com/|git@github\.com:)"
                     r"(?P<owner>[A-Za-z0-9_.-]+)/(?P<name>[A-Za-z0-9_.-]+?)(?:\.git)?/?$")


class GitError(Exception):
    """git could not do what was asked; the message says what to do."""


def git(repo: Path, *args: str, env: dict | None = None) -> str:
    """git's stdout (stripped), or GitError with git's last line of stderr."""
    try:
        proc = subprocess.run(["git", "-C", str(repo), *args], capture_output=True, text=True, env=env, check=False)
    except OSError as exc:
        raise GitError(f"cannot run git: {exc}: install git") from exc
    if proc.returncode != 0:
        lines = (proc.stderr or proc.stdout).strip().splitlines()
        raise GitError(f"git {' '.join(args)}: {lines[-1] if lines else f'exit status {proc.returncode}'}")
    return proc.stdout.strip()


@dataclass(frozen=True)
class Remote:
    name: str
    url: str          # the fetch URL
    push_url: str     # where `git push` writes (the fetch URL unless pushurl is set)

    @property
    def github(self) -> tuple[str, str] | None:
        """(owner, name) when the remote is a GitHub repository (https, ssh or git@ form), else None."""
        return github_repo(self.url)

    @property
    def slug(self) -> tuple[str, str]:
        """(owner, name): GitHub's, or for a local path its parent folder's name and its own (less `.git`)."""
        gh = self.github
        if gh:
            return gh
        path = Path(self.url.removeprefix("file://").rstrip("/"))
        return path.parent.name or "local", path.name.removesuffix(".git") or "repository"


def github_repo(url: str) -> tuple[str, str] | None:
    m = _GITHUB.match(url.strip())
    return (m.group("owner"), m.group("name")) if m else None


def same_repository(a: str, b: str, cwd: Path) -> bool:
    """Whether two remote URLs name the same repository (GitHub owner/name ignoring case and form, else the
    resolved local path)."""
    ga, gb = github_repo(a), github_repo(b)
    if ga or gb:
        return bool(ga and gb) and tuple(x.lower() for x in ga) == tuple(x.lower() for x in gb)
    def local(u: str) -> str:
        u = u.removeprefix("file://")
        return str((cwd / u).resolve()) if "://" not in u and ":" not in u.split("/")[0] else u.rstrip("/")
    return local(a) == local(b)


def remotes(repo: Path) -> dict[str, Remote]:
    out = {}
    for name in git(repo, "remote").splitlines():
        url = git(repo, "remote", "get-url", name)
        out[name] = Remote(name, url, git(repo, "remote", "get-url", "--push", name))
    return out


def new_fragments(repo: Path) -> list[Path]:
    """The untracked files in data/fragments/ (`git status --porcelain --untracked-files=all`), sorted."""
    out = git(repo, "status", "--porcelain=v1", "-z", "--untracked-files=all", "--no-renames", "--", FRAGMENTS_DIR)
    return sorted(repo / entry[3:] for entry in out.split("\0") if entry.startswith("?? "))


def submitted(repo: Path, base: str) -> dict[str, str]:
    """{fragment path: branch} for the fragments the local results/* branches add to `base` (submitted before)."""
    out: dict[str, str] = {}
    for branch in git(repo, "for-each-ref", "--format=%(refname:short)", f"refs/heads/{BRANCH_PREFIX}").split():
        try:
            names = git(repo, "diff", "--name-only", "--no-renames", f"{base}...{branch}", "--", FRAGMENTS_DIR)
        except GitError:
            continue  # no merge base with the upstream: not one of ours
        for name in names.splitlines():
            out.setdefault(name, branch)
    return out


def slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")[:60].strip("-") or "device"


def branch_name(repo: Path, fork: str, device: str, today: _dt.date) -> str:
    """`results/<device>-<date>`, with -2, -3... when that branch exists here or on the fork."""
    base = f"{BRANCH_PREFIX}{slug(device)}-{today.isoformat()}"
    on_fork = set()
    try:
        for line in git(repo, "ls-remote", "--heads", fork, f"{base}*").splitlines():
            on_fork.add(line.split("\t", 1)[1].removeprefix("refs/heads/"))
    except GitError:
        pass  # an unreachable fork fails at the push, with git's own reason
    n, name = 1, base
    while name in on_fork or _exists(repo, f"refs/heads/{name}"):
        n += 1
        name = f"{base}-{n}"
    return name


def _exists(repo: Path, ref: str) -> bool:
    return subprocess.run(["git", "-C", str(repo), "rev-parse", "--verify", "--quiet", ref],
                          capture_output=True, check=False).returncode == 0


def identity(repo: Path) -> list[str]:
    """`-c user.name=... -c user.email=...` from the contributor's repository, for the commit made in the clone."""
    out = []
    for key in ("user.name", "user.email"):
        try:
            value = git(repo, "config", key)
        except GitError:
            continue
        out += ["-c", f"{key}={value}"]
    return out


class Scratch:
    """A throw-away clone of the contributor's repository (objects shared, nothing written to it), checked out
    at the base commit with the fragments added and committed: what the pull request will be."""

    def __init__(self, repo: Path, base: str):
        self.repo = repo
        self.dir = Path(tempfile.mkdtemp(prefix="dlbench-submit-"))
        self.root = self.dir / "pr"
        git(self.dir, "clone", "--quiet", "--shared", "--no-checkout", str(repo), str(self.root))
        git(self.root, "checkout", "--quiet", "--detach", base)

    def commit(self, files: list[Path], message: str) -> tuple[str, list[str]]:
        """Copy `files` into data/fragments/ and commit them: (commit, their paths in the repository)."""
        rels = []
        for f in files:
            rel = f"{FRAGMENTS_DIR}/{f.name}"
            dest = self.root / rel
            dest.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(f, dest)
            rels.append(rel)
        git(self.root, "add", "--", *rels)
        if not git(self.root, "diff", "--cached", "--name-only"):
            raise GitError("the fragments are already on the base branch, as they are: nothing to submit")
        git(self.root, *identity(self.repo), "commit", "--quiet", "--no-verify", "-m", message)
        return git(self.root, "rev-parse", "HEAD"), rels

    def close(self) -> None:
        shutil.rmtree(self.dir, ignore_errors=True)
