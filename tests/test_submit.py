"""`tools/submit.py` end to end: local bare repositories stand for the upstream and the contributor's fork, and a
fake `gh` on PATH records its arguments. A valid new fragment becomes a one-commit branch on the fork that passes
the pull-request check as CI runs it; a fragment the check rejects is refused and nothing is pushed."""

from __future__ import annotations

import copy
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import REPO
from test_ci_scripts import GIT_ENV, add_fragment, check_pr, git, make_project_repo
from dlbench.cli.submit import compare_url
from dlbench.cli.submit_git import Remote, github_repo
from dlbench.contract.fragment import with_run_id
from dlbench.store.synthetic import synthetic_run

FAKE_GH = """#!{python}
import json, sys
args = sys.argv[1:]
with open({log!r}, "a") as f:
    f.write(json.dumps(args) + "\\n")
if args[:2] == ["auth", "status"]:
    sys.exit({auth})
if args[:2] == ["pr", "create"]:
    print("https://github.com/example/dlbench/pull/1")
    sys.exit(0)
sys.exit(3)
"""


@pytest.fixture(scope="module")
def upstream(tmp_path_factory) -> tuple[Path, str]:
    """(a bare repository holding the project on main, main's commit)."""
    tmp = tmp_path_factory.mktemp("submit")
    src = make_project_repo(tmp / "src")
    bare = tmp / "project" / "upstream.git"
    git(tmp, "clone", "-q", "--bare", str(src), str(bare))
    return bare, git(bare, "rev-parse", "main").stdout.strip()


@pytest.fixture
def world(upstream, tmp_path):
    """(work checkout with remotes origin=upstream and fork, the fork's bare repository, main's commit)."""
    bare, head = upstream
    fork = tmp_path / "contributor" / "fork.git"
    git(tmp_path, "clone", "-q", "--bare", str(bare), str(fork))
    work = tmp_path / "work"
    git(tmp_path, "clone", "-q", str(bare), str(work))
    git(work, "remote", "add", "fork", str(fork))
    return work, fork, head


def fragment(work: Path, head: str, i: int = 3, **prov) -> str:
    """A synthetic measured run of commit `head`, untracked in work/data/fragments/, with the fields a runner
    takes from the repository as the code at `head` computes them (the check recomputes those)."""
    run = copy.deepcopy(synthetic_run(i))
    run.pop("run_id")
    run["provenance"].update(git_commit=head, **prov)
    try:
        from dlbench.store import pr_recompute
    except ImportError:  # a checker that recomputes nothing
        pr_recompute = None
    if pr_recompute is not None:
        catalogue = pr_recompute.catalogue_at(str(work), head)
        assert not isinstance(catalogue, str), catalogue
        for result in run["results"]:
            for name, value in (pr_recompute.expected(catalogue, result) or {}).items():
                if value is None:
                    result.pop(name, None)
                else:
                    result[name] = value
    return add_fragment(work, with_run_id(run))


def fake_gh(tmp_path: Path, auth: int = 0) -> tuple[Path, Path]:
    """(a folder holding the fake `gh`, the file it records its calls to)."""
    bin_dir, log = tmp_path / "bin", tmp_path / "gh-calls.jsonl"
    bin_dir.mkdir(exist_ok=True)
    script = bin_dir / "gh"
    script.write_text(FAKE_GH.format(python=sys.executable, log=str(log), auth=auth))
    script.chmod(0o755)
    return bin_dir, log


def submit(work: Path, *args: str, path: str) -> subprocess.CompletedProcess:
    env = {**os.environ, **GIT_ENV, "PATH": path}
    env.pop("GITHUB_ACTIONS", None)
    return subprocess.run([sys.executable, str(REPO / "tools" / "submit.py"), *args], cwd=work, env=env,
                          capture_output=True, text=True, timeout=300)


def refs(bare: Path) -> str:
    return git(bare, "for-each-ref").stdout


def results_branches(bare: Path) -> list[str]:
    return git(bare, "for-each-ref", "--format=%(refname:short)", "refs/heads/results/").stdout.split()


def test_a_valid_fragment_becomes_a_pull_request_branch_on_the_fork(world, upstream, tmp_path):
    work, fork, head = world
    bare, _ = upstream
    rel = fragment(work, head)
    bin_dir, log = fake_gh(tmp_path)
    path = f"{bin_dir}{os.pathsep}{os.environ['PATH']}"
    before_up, status_before = refs(bare), git(work, "status", "--porcelain", "--untracked-files=all").stdout

    dry = submit(work, "--dry-run", path=path)
    assert dry.returncode == 0, dry.stdout + dry.stderr
    assert "would run: git push fork refs/heads/results/apple-m1-" in dry.stdout
    assert results_branches(fork) == [] and not log.exists()

    res = submit(work, path=path)
    assert res.returncode == 0, res.stdout + res.stderr
    assert "Traceback" not in res.stderr
    (branch,) = results_branches(fork)
    assert re.fullmatch(r"results/apple-m1-\d{4}-\d{2}-\d{2}", branch), branch
    assert git(fork, "rev-list", "--count", f"main..{branch}").stdout.strip() == "1"
    assert git(fork, "diff", "--name-only", "main", branch).stdout.split() == [rel]
    assert git(fork, "log", "-1", "--format=%s", branch).stdout.strip() == \
        "Results: Apple M1, fashion-mnist-lenet5 (torch 2.13.0)"
    assert refs(bare) == before_up                                   # the upstream is untouched
    assert git(work, "rev-parse", "--abbrev-ref", "HEAD").stdout.strip() == "main"
    assert git(work, "status", "--porcelain", "--untracked-files=all").stdout == status_before
    calls = [json.loads(line) for line in log.read_text().splitlines()]
    assert calls[0] == ["auth", "status"]
    create = calls[1]
    assert create[:8] == ["pr", "create", "--repo", "project/upstream", "--head", f"contributor:{branch}",
                          "--base", "main"]
    assert create[8:10] == ["--title", "Results: Apple M1, fashion-mnist-lenet5 (torch 2.13.0)"]
    assert create[10] == "--body" and rel.split("/")[-1].removesuffix(".toml") in create[11]
    assert "pull request: https://github.com/example/dlbench/pull/1" in res.stdout

    # The pull-request check as CI runs it: main's checker on the pull request's checkout, provenance required.
    ci = tmp_path / "ci"
    git(tmp_path, "clone", "-q", "-b", branch, str(fork), str(ci))
    git(ci, "branch", "main", "origin/main")
    git(ci, "worktree", "add", "-q", str(tmp_path / "base"), "main")
    checked = check_pr(ci, tmp_path / "base", "--require-provenance")
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert "1 added fragment(s) valid" in checked.stdout

    again = submit(work, "--dry-run", path=path)                     # submitted already: not taken again
    assert again.returncode == 1 and f"skipped: {rel} (already submitted on {branch};" in again.stdout
    again = submit(work, "--dry-run", rel, path=path)                # named: the same day's branch is taken
    assert f"branch:  {branch}-2 " in again.stdout, again.stdout + again.stderr


def test_a_fragment_the_check_rejects_is_refused_and_nothing_is_pushed(world, upstream, tmp_path):
    work, fork, head = world
    bare, _ = upstream
    rel = fragment(work, head, git_dirty=True)
    bin_dir, log = fake_gh(tmp_path)
    before_up, before_fork = refs(bare), refs(fork)
    res = submit(work, path=f"{bin_dir}{os.pathsep}{os.environ['PATH']}")
    assert res.returncode == 1, res.stdout + res.stderr
    assert f"{rel}: provenance.git_dirty: the run was made from a working tree with uncommitted" in res.stderr
    assert "refused" in res.stderr and "Traceback" not in res.stderr
    assert refs(bare) == before_up and refs(fork) == before_fork
    assert git(work, "branch", "--list", "results/*").stdout == ""
    assert not log.exists()


def test_without_gh_it_prints_the_address_and_the_commands(world, tmp_path):
    work, fork, head = world
    fragment(work, head)
    bin_dir = tmp_path / "only-git"
    bin_dir.mkdir()
    (bin_dir / "git").symlink_to(shutil.which("git"))
    res = submit(work, path=str(bin_dir))
    assert res.returncode == 0, res.stdout + res.stderr
    (branch,) = results_branches(fork)
    assert "(no address can be formed:" in res.stdout
    assert "  gh auth login\n" in res.stdout
    assert f"gh pr create --repo project/upstream --head contributor:{branch} --base main --title" in res.stdout


def test_it_never_pushes_to_the_upstream(world, tmp_path):
    work, _, head = world
    fragment(work, head)
    res = submit(work, "--fork-remote", "origin", path=os.environ["PATH"])
    assert res.returncode == 2
    assert "never pushes to the upstream" in res.stderr
    git(work, "remote", "set-url", "fork", git(work, "remote", "get-url", "origin").stdout.strip())
    assert submit(work, path=os.environ["PATH"]).returncode == 2


def test_nothing_new_is_said(world):
    work, _, _ = world
    res = submit(work, path=os.environ["PATH"])
    assert res.returncode == 1 and "nothing to submit" in res.stderr


@pytest.mark.parametrize("url", ["https://github.com/alice/dlbench.git", "https://github.com/alice/dlbench",
                                 "git@github.com:alice/dlbench.git", "ssh://git@github.com/alice/dlbench.git"])
def test_github_addresses_in_every_form(url):
    assert github_repo(url) == ("alice", "dlbench")
    up = Remote("upstream", "https://github.com/lab/dlbench.git", "https://github.com/lab/dlbench.git")
    assert compare_url(up, Remote("fork", url, url), "results/x-2026-12-03", "main") == \
        "https://github.com/lab/dlbench/compare/main...alice:results/x-2026-12-03"
    assert github_repo("/tmp/upstream.git") is None
