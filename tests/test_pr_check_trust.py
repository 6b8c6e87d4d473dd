"""What a pull request can and cannot get past the checks, played for real: a throw-away git repository holding
a copy of this project, a branch per case, and the BASE checkout's tools/ci/check_pr.py run against it, as
validate.yml runs it. Also: the local command's account of whose rules it used, the worktree recipe that runs
main's, the entry points without the virtual environment, the Pages allow-list, and how the merge job's push
reports a refusal (against a bare repository on disk whose pre-receive hook refuses, like a protected branch).
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import REPO, snapshot
from test_ci_scripts import (add_fragment, build_site, check_pr, commit_all, copy_project, git, make_project_repo,
                             merge_and_commit, pr_checkouts, remote_tree, remote_with_fragments, tool_env)
from dlbench.store.synthetic import synthetic_run

BARE_PYTHON = [getattr(sys, "_base_executable", None) or sys.executable, "-I", "-S"]  # no site-packages at all
RECIPE = ("git worktree add ../dlbench-main origin/main && .venv/bin/python ../dlbench-main/tools/ci/check_pr.py "
          "--root . --base-ref origin/main")


@pytest.fixture
def pr(tmp_path: Path):
    """(pr_repo, base_checkout): branch `pr` off `main`, and main checked out apart (CI's base/)."""
    return pr_checkouts(tmp_path)


def ci_check(repo: Path, base: Path) -> subprocess.CompletedProcess:
    """check_pr.py as validate.yml runs it: base's copy, in Actions (annotations on, GITHUB_BASE_REF=main)."""
    return check_pr(repo, base, env={"GITHUB_ACTIONS": "true", "GITHUB_BASE_REF": "main"})


# ---- 1. a pull request that adds fragments contains nothing else ----

@pytest.mark.parametrize("other", ["data/evil.html", "README.md"])
def test_a_data_pr_with_any_other_file_fails_naming_it(pr, other):
    repo, base = pr
    add_fragment(repo, synthetic_run(1))
    target = repo / other
    target.write_text((target.read_text() if target.exists() else "") + "<script>alert(1)</script>\n")
    commit_all(repo, "a run, and something else")
    data_before = snapshot(repo / "data")
    res = ci_check(repo, base)
    assert res.returncode == 1, res.stdout + res.stderr
    assert f"{other}: a pull request that adds fragments must change nothing else" in res.stderr
    assert f"::error file={other},title=not-only-fragments::" in res.stderr
    assert "checked with main's rules" in res.stderr
    assert snapshot(repo / "data") == data_before


# ---- 2. a pull request without fragments is a code change: no data judged, a maintainer must review ----

def test_a_pr_without_fragments_is_reported_as_a_code_change(pr):
    repo, base = pr
    (repo / "data" / "evil.html").write_text("<script>alert(1)</script>\n")
    commit_all(repo, "not data")
    data_before = snapshot(repo / "data")
    res = ci_check(repo, base)
    assert res.returncode == 0, res.stderr
    assert ("no data checked: this pull request adds no fragment to data/fragments/, so it is a code change and "
            "needs a maintainer's review (CODEOWNERS) before it is merged; 1 file(s) changed: data/evil.html"
            ) in res.stdout
    assert "::warning title=code-change::no data checked" in res.stdout
    assert "fragment(s) valid" not in res.stdout
    assert snapshot(repo / "data") == data_before


EVIL_DOC = "docs/x\n::notice title=dlbench maintainers::Reviewed and approved - safe to merge\n.md"


@pytest.mark.parametrize("with_fragment", [True, False], ids=["data-pr", "code-change"])
def test_a_file_name_cannot_write_a_workflow_command(pr, with_fragment):
    repo, base = pr
    if with_fragment:
        add_fragment(repo, synthetic_run(1))
    (repo / EVIL_DOC).parent.mkdir(exist_ok=True)
    (repo / EVIL_DOC).write_text("hello\n")
    commit_all(repo, "a file name holding a workflow command")
    res = ci_check(repo, base)
    assert res.returncode == (1 if with_fragment else 0), res.stdout + res.stderr
    lines = (res.stdout + res.stderr).splitlines()
    assert not [line for line in lines if line.startswith(("::notice", "::stop-commands"))], lines
    assert any("docs/x\\n::notice title=dlbench maintainers::" in line for line in lines), lines  # shown, escaped


# ---- 3. only regular files in data/fragments/ ----

def test_a_symbolic_link_in_fragments_is_rejected(pr):
    repo, base = pr
    (repo / "data" / "fragments" / "link.toml").symlink_to("../benchmark.toml")
    commit_all(repo, "a link")
    data_before = snapshot(repo / "data")
    res = ci_check(repo, base)
    assert res.returncode == 1
    assert ("data/fragments/link.toml: a symbolic link is not allowed in data/fragments/: add the fragment itself, "
            "as a regular <run_id>.toml file") in res.stderr
    assert "::error file=data/fragments/link.toml,title=not-a-regular-file::" in res.stderr
    assert snapshot(repo / "data") == data_before


def test_a_submodule_in_fragments_is_rejected(pr):
    repo, base = pr
    head = git(repo, "rev-parse", "HEAD").stdout.strip()
    git(repo, "update-index", "--add", "--cacheinfo", f"160000,{head},data/fragments/sub")
    git(repo, "commit", "-q", "-m", "a submodule")
    res = ci_check(repo, base)
    assert res.returncode == 1
    assert "data/fragments/sub: a submodule (gitlink) is not allowed in data/fragments/" in res.stderr
    assert "title=not-a-regular-file" in res.stderr


# ---- 4. the same run twice in one pull request ----

def test_two_copies_of_a_run_are_duplicates_within_the_pr(pr):
    repo, base = pr
    rel = add_fragment(repo, synthetic_run(2))
    copy = "data/fragments/copy.toml"
    shutil.copy(repo / rel, repo / copy)
    commit_all(repo, "the same run twice")
    res = ci_check(repo, base)
    assert res.returncode == 1
    lines = [ln for ln in res.stderr.splitlines()
             if "duplicates within this pull request" in ln and not ln.startswith("::")]
    assert lines, res.stderr
    assert all(ln.startswith((rel, copy)) and (rel in ln.split(": ", 1)[1] or copy in ln.split(": ", 1)[1])
               for ln in lines)
    assert "resubmit" not in res.stderr
    assert "title=duplicate-in-pr" in res.stderr


def test_more_fragments_than_the_limit_are_refused_before_any_is_read(pr):
    from dlbench.contract.limits import MAX_FRAGMENTS_PER_PR

    repo, base = pr
    for i in range(MAX_FRAGMENTS_PER_PR + 1):
        add_fragment(repo, synthetic_run(100 + i))
    commit_all(repo, "too many runs")
    data_before = snapshot(repo / "data")
    res = ci_check(repo, base)
    assert res.returncode == 1
    assert (f"data/fragments: the pull request adds {MAX_FRAGMENTS_PER_PR + 1} fragments; at most "
            f"{MAX_FRAGMENTS_PER_PR} are accepted in one pull request: split it") in res.stderr
    assert "title=too-many-fragments" in res.stderr
    assert snapshot(repo / "data") == data_before


# ---- 5. run locally: files that are not committed are named ----

def test_a_fragment_that_is_not_committed_is_named(pr):
    repo, base = pr
    rel = add_fragment(repo, synthetic_run(3))  # written, never `git add`ed
    res = check_pr(repo, base)
    assert res.returncode == 1
    assert f"{rel}: not committed: git add it and commit" in res.stderr
    assert "the merge would add" not in res.stdout

    git(repo, "add", rel)  # staged is not committed either
    res = check_pr(repo, base)
    assert res.returncode == 1 and f"{rel}: not committed: git add it and commit" in res.stderr

    git(repo, "commit", "-q", "-m", "now committed")
    res = check_pr(repo, base)
    assert res.returncode == 0, res.stderr
    assert "1 added fragment(s) valid with main's rules" in res.stdout


# ---- 6. whose rules: this checkout's (run locally), or main's (CI, or the worktree recipe) ----

def test_the_local_command_says_it_used_this_checkouts_rules_and_how_to_use_mains(pr):
    repo, _ = pr
    add_fragment(repo, synthetic_run(4))
    commit_all(repo, "a run")
    own = subprocess.run([sys.executable, "tools/ci/check_pr.py", "--base-ref", "main"], cwd=repo, env=tool_env(),
                         capture_output=True, text=True, timeout=300)
    assert own.returncode == 0, own.stderr
    head = git(repo, "rev-parse", "HEAD").stdout.strip()[:12]
    assert f"check_pr.py: checked with the rules of this checkout ({head}), not main's" in own.stdout
    assert ("to check with main's rules, as CI does, run from this checkout: git worktree add ../dlbench-main main "
            "&& .venv/bin/python ../dlbench-main/tools/ci/check_pr.py --root . --base-ref main") in own.stdout
    assert f"1 added fragment(s) valid with the rules of this checkout ({head}), not main's" in own.stdout


def test_ci_says_it_used_mains_rules(pr):
    repo, base = pr
    add_fragment(repo, synthetic_run(5))
    commit_all(repo, "a run")
    res = ci_check(repo, base)
    assert res.returncode == 0, res.stderr
    main_sha = git(repo, "rev-parse", "main").stdout.strip()[:12]
    assert f"check_pr.py: checked with main's rules (commit {main_sha})" in res.stdout
    assert "to check with" not in res.stdout


def test_the_documented_worktree_recipe_runs_mains_checker(tmp_path):
    seed = make_project_repo(tmp_path / "seed")
    git(tmp_path, "clone", "-q", "--bare", str(seed), str(tmp_path / "origin.git"))
    clone = tmp_path / "dlbench"
    git(tmp_path, "clone", "-q", str(tmp_path / "origin.git"), str(clone))
    git(clone, "checkout", "-q", "-b", "my-run")
    (clone / "dlbench" / "store" / "pr_check.py").write_text("raise SystemExit(0)\n")  # the branch's own code ...
    rel = add_fragment(clone, synthetic_run(6))
    commit_all(clone, "a run, and a gutted checker")
    assert RECIPE in (REPO / "docs" / "ci.md").read_text()  # the commands documented are the ones tested

    add, run = RECIPE.split(" && ")
    git(clone, *add.split()[1:])
    cmd = run.split()
    cmd[0] = sys.executable  # the contributor's .venv/bin/python
    res = subprocess.run(cmd, cwd=clone, env=tool_env(), capture_output=True, text=True, timeout=300)
    assert res.returncode == 1  # ... is not what judged it: main's checker refuses the mixed pull request
    assert "dlbench/store/pr_check.py: a pull request that adds fragments must change nothing else" in res.stderr
    assert f"{rel}" not in res.stderr
    origin_main = git(clone, "rev-parse", "origin/main").stdout.strip()[:12]
    assert f"check_pr.py: checked with main's rules (commit {origin_main})" in res.stdout


# ---- 7. without the virtual environment: one line saying how, exit 2, no traceback ----

def test_check_pr_without_the_environment_says_how_to_run_it(tmp_path):
    res = subprocess.run([*BARE_PYTHON, str(REPO / "tools" / "ci" / "check_pr.py"), "--base-ref", "main"],
                         cwd=tmp_path, capture_output=True, text=True, timeout=60, env={"PATH": os.environ["PATH"]})
    assert res.returncode == 2
    assert "Traceback" not in res.stderr and len(res.stderr.strip().splitlines()) == 1
    assert res.stderr.startswith("check_pr.py: needs the project's environment")
    assert "run `bash tools/setup.sh`, then `.venv/bin/python tools/ci/check_pr.py" in res.stderr


@pytest.mark.parametrize("tool", [["validate", "data/fragments/x.toml"], ["merge", "--check"]])
def test_the_hook_entry_without_the_environment_says_how_to_run_it(tmp_path, tool):
    res = subprocess.run([*BARE_PYTHON, str(REPO / "tools" / "ci" / "hook.py"), *tool], cwd=tmp_path,
                         capture_output=True, text=True, timeout=60, env={"PATH": os.environ["PATH"]})
    assert res.returncode == 2
    assert "Traceback" not in res.stderr and len(res.stderr.strip().splitlines()) == 1
    assert "dlbench pre-commit hook: needs the project's environment" in res.stderr
    assert "run `bash tools/setup.sh`, then `. .venv/bin/activate`" in res.stderr


def test_pre_commit_with_a_python_that_lacks_the_packages(tmp_path):
    repo = tmp_path / "repo"
    copy_project(repo, ["dlbench", "tools", "schema", "data", "pyproject.toml", ".gitignore",
                        ".pre-commit-config.yaml"])
    git(repo, "init", "-q", "-b", "main")
    commit_all(repo, "base")
    shim = tmp_path / "bin"
    shim.mkdir()
    (shim / "python").write_text(f"#!/bin/sh\nexec {' '.join(BARE_PYTHON)} \"$@\"\n")
    (shim / "python").chmod(0o755)
    rel = add_fragment(repo, synthetic_run(7))
    env = {**tool_env(), "PATH": f"{shim}{os.pathsep}{os.environ['PATH']}",
           "PRE_COMMIT_HOME": str(tmp_path / "pre-commit-home")}
    pre_commit = Path(sys.executable).parent / "pre-commit"
    res = subprocess.run([str(pre_commit), "run", "--files", rel], cwd=repo, env=env, capture_output=True,
                         text=True, timeout=300)
    assert res.returncode == 1
    assert "needs the project's environment" in res.stdout and "Traceback" not in res.stdout


# ---- 8. the hooks look at fragments only ----

@pytest.mark.parametrize("config", [".pre-commit-hooks.yaml", ".pre-commit-config.yaml"])
def test_the_validate_hooks_match_fragments_only(config):
    import yaml
    doc = yaml.safe_load((REPO / config).read_text())
    hooks = doc if isinstance(doc, list) else [h for r in doc["repos"] for h in r["hooks"]]
    pattern = next(h["files"] for h in hooks if "validate" in h["id"])
    assert pattern == r"^data/fragments/[^/]+\.toml$"
    for path, hit in [("data/fragments/0123abcd.toml", True), ("pyproject.toml", False),
                      ("data/benchmark.toml", False), ("data/fragments/sub/x.toml", False),
                      ("other/data/fragments/x.toml", False)]:
        assert bool(re.search(pattern, path)) is hit, path


# ---- 9. Pages publishes an allow-list ----

def test_pages_publishes_only_the_site_and_the_dataset(tmp_path):
    checkout = make_project_repo(tmp_path / "checkout")
    (checkout / "data" / "evil.html").write_text("<script>alert(1)</script>\n")
    (checkout / "data" / "notes").mkdir()
    (checkout / "data" / "notes" / "x.txt").write_text("x\n")
    res = build_site(checkout, tmp_path / "out")
    assert res.returncode == 0, res.stderr
    names = set(snapshot(tmp_path / "out"))
    data = {n for n in names if n.startswith("data/")}
    assert "data/evil.html" not in names and not any(n.startswith("data/notes") for n in names)
    exports = {"data/exports/results.csv", "data/exports/results.parquet", "data/exports/datapackage.json"}
    api = {n for n in data if n.startswith("data/api/")}
    assert data == {"data/benchmark.json", "data/benchmark.toml"} | exports | api
    assert any(n.startswith("data/api/") for n in data)


def test_pages_refuses_a_link_in_what_it_publishes(tmp_path):
    checkout = make_project_repo(tmp_path / "checkout")
    (checkout / "data" / "api" / "leak.json").symlink_to("/etc/passwd")
    res = build_site(checkout, tmp_path / "out")
    assert res.returncode == 1
    assert "data/api/leak.json: not a regular file (a link?): the site publishes regular files only" in res.stderr


# ---- 10. the merge job's push: a refusal is reported as what it is ----

def refuse_pushes(remote: Path, *lines: str) -> None:
    """A pre-receive hook on the bare `remote` that prints `lines` and refuses every push (a protected branch)."""
    hook = remote / "hooks" / "pre-receive"
    hook.write_text("#!/bin/sh\n" + "".join(f"echo '{ln}' >&2\n" for ln in lines) + "exit 1\n")
    hook.chmod(0o755)


def push(work: Path, *args: str) -> subprocess.CompletedProcess:
    env = tool_env()
    env.pop("GH_TOKEN", None)
    env.pop("MERGE_DEPLOY_KEY", None)
    return subprocess.run(["bash", "tools/ci/push_merge.sh", *args], cwd=work, env=env, capture_output=True,
                          text=True, timeout=120)


def test_a_push_refused_by_branch_protection_says_so(tmp_path):
    remote, work = remote_with_fragments(tmp_path, [synthetic_run(8)])
    refuse_pushes(remote, "error: GH006: Protected branch update failed for refs/heads/main.",
                  "error: Changes must be made through a pull request.")
    before = git(remote, "rev-parse", "main").stdout.strip()
    res = merge_and_commit(work)
    assert res.returncode == 1
    assert ("push refused by branch protection: GH006: Protected branch update failed for refs/heads/main.; "
            "Changes must be made through a pull request.") in res.stderr
    assert "docs/ci.md" in res.stderr
    assert "moved on" not in res.stderr
    assert git(remote, "rev-parse", "main").stdout.strip() == before


def test_a_push_refused_by_any_hook_is_not_called_moved_on(tmp_path):
    remote, work = remote_with_fragments(tmp_path, [synthetic_run(9)])
    refuse_pushes(remote, "pushes to main are not allowed")
    res = merge_and_commit(work)
    assert res.returncode == 1
    assert "push refused by branch protection: pushes to main are not allowed" in res.stderr
    assert "moved on" not in res.stderr


def test_a_push_to_a_missing_remote_is_a_plain_failure(tmp_path):
    _, work = remote_with_fragments(tmp_path, [synthetic_run(10)])
    commit = subprocess.run(["bash", "tools/ci/merge_and_commit.sh", "--no-push", "origin", "main"], cwd=work,
                            env={**tool_env(), "PYTHON": sys.executable}, capture_output=True, text=True,
                            timeout=300)
    assert commit.returncode == 0, commit.stderr
    git(work, "remote", "set-url", "origin", str(tmp_path / "no-such-remote.git"))
    res = push(work, "origin", "main")
    assert res.returncode == 1
    assert res.stderr.strip().splitlines()[-1].startswith("push failed: ")
    assert "branch protection" not in res.stderr and "moved on" not in res.stderr


def test_the_split_merge_then_push_and_main_moving_on(tmp_path):
    remote, work = remote_with_fragments(tmp_path, [synthetic_run(11)])
    commit = subprocess.run(["bash", "tools/ci/merge_and_commit.sh", "--no-push", "origin", "main"], cwd=work,
                            env={**tool_env(), "PYTHON": sys.executable, "GH_TOKEN": "secret"},
                            capture_output=True, text=True, timeout=300)
    assert commit.returncode == 0, commit.stderr
    assert "committed" in commit.stdout
    before = git(remote, "rev-parse", "main").stdout.strip()

    other = remote_tree(remote, tmp_path, "other")  # meanwhile, a change that is not data lands
    (other / "NOTES.md").write_text("notes\n")
    commit_all(other, "notes")
    git(other, "push", "-q", "origin", "HEAD:main")
    res = push(work, "origin", "main")
    assert res.returncode == 0, res.stderr
    assert "main moved on: someone pushed to origin main" in res.stderr
    assert "replaying the merge commit" in res.stderr
    published = remote_tree(remote, tmp_path, "published")
    assert (published / "NOTES.md").exists() and synthetic_run(11)["run_id"] in (
        published / "data" / "benchmark.toml").read_text()
    assert git(remote, "rev-parse", "main~1").stdout.strip() != before

    again = push(work, "origin", "main")  # HEAD is now what the remote has
    assert again.returncode == 0 and "nothing to push" in again.stdout


def test_push_reports_a_stale_merge_when_main_moved_on_with_new_data(tmp_path):
    remote, work = remote_with_fragments(tmp_path, [synthetic_run(12)])
    subprocess.run(["bash", "tools/ci/merge_and_commit.sh", "--no-push"], cwd=work,
                   env={**tool_env(), "PYTHON": sys.executable}, capture_output=True, text=True, timeout=300,
                   check=True)
    other = remote_tree(remote, tmp_path, "other")
    add_fragment(other, synthetic_run(13))
    commit_all(other, "another fragment")
    git(other, "push", "-q", "origin", "HEAD:main")
    tip = git(remote, "rev-parse", "main").stdout.strip()
    res = push(work, "origin", "main")
    assert res.returncode == 3
    assert "main moved on: someone pushed" in res.stderr
    assert "this merge is stale and is not pushed" in res.stderr
    assert git(remote, "rev-parse", "main").stdout.strip() == tip
