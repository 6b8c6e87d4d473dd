"""The scripts the GitHub workflows call (tools/ci/), run for real in throw-away git repositories.

Each test copies the project's own tools, package, schema and data (its own runs: `own_data`) into a
temporary repository, commits
it as `main`, and plays a pull request, a merge on main (against a bare remote), or a site build.
"""

from __future__ import annotations

import atexit
import functools
import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

from conftest import REPO, snapshot
from dlbench.contract.fragment import with_run_id, write
from dlbench.store import merge as merging
from dlbench.store.dataset import Layout
from dlbench.store.synthetic import synthetic_run

PROJECT_PARTS = ["dlbench", "tools", "schema", "data", "pyproject.toml", ".gitignore"]
GIT_ENV = {"GIT_AUTHOR_NAME": "Test", "GIT_AUTHOR_EMAIL": "test@example.org", "GIT_COMMITTER_NAME": "Test",
           "GIT_COMMITTER_EMAIL": "test@example.org", "GIT_CONFIG_GLOBAL": os.devnull,
           "GIT_CONFIG_NOSYSTEM": "1"}


def git(cwd: Path, *args: str, check: bool = True) -> subprocess.CompletedProcess:
    env = {**os.environ, **GIT_ENV}
    proc = subprocess.run(["git", *args], cwd=cwd, env=env, capture_output=True, text=True)
    if check and proc.returncode != 0:
        raise AssertionError(f"git {' '.join(args)} failed: {proc.stderr}")
    return proc


def commit_all(repo: Path, message: str) -> None:
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", message)


@functools.lru_cache(maxsize=1)
def own_data() -> Path:
    """This project's `data/` without the imported published record (`data/imported/`, some 30,000 runs in
    120 MB that these tests of the CI scripts do not need and that would make every copy slow), its
    generated files regenerated for what is left: made once per test session, copied by each test."""
    root = Path(tempfile.mkdtemp(prefix="dlbench-own-data-"))
    atexit.register(shutil.rmtree, root, True)
    shutil.copytree(REPO / "data", root / "data",
                    ignore=lambda folder, names: [n for n in names if n in ("imported", "api", "__pycache__")
                                                  and Path(folder) == REPO / "data"])
    report = merging.merge(Layout(root))
    assert report.ok, report.problems
    return root / "data"


def copy_project(dest: Path, parts: list[str] = PROJECT_PARTS) -> None:
    """Copy `parts` of this project (code, schema, data) into the new folder `dest` (`data` as `own_data`)."""
    dest.mkdir(parents=True)
    for part in parts:
        src = own_data() if part == "data" else REPO / part
        if src.is_dir():
            shutil.copytree(src, dest / part, ignore=shutil.ignore_patterns("__pycache__", ".merge.lock"))
        else:
            shutil.copy2(src, dest / part)


def make_project_repo(dest: Path) -> Path:
    """A git repository at `dest` holding a copy of this project's code and data, committed on main."""
    copy_project(dest)
    git(dest, "init", "-q", "-b", "main")
    commit_all(dest, "base")
    return dest


def tool_env() -> dict[str, str]:
    env = {**os.environ, **GIT_ENV}
    env.pop("GITHUB_ACTIONS", None)
    return env


def add_fragment(repo: Path, run: dict) -> str:
    """Write the run as a fragment of `repo`; return its path relative to the repository."""
    return write(run, repo / "data" / "fragments").relative_to(repo).as_posix()


def pr_checkouts(tmp: Path, branch: str = "pr") -> tuple[Path, Path]:
    """(pr_repo, base_checkout) under `tmp`: the project's repository on `branch` off `main`, and main checked
    out apart (CI's base/)."""
    repo = make_project_repo(tmp / "pr")
    git(repo, "checkout", "-q", "-b", branch)
    base = tmp / "base"
    git(repo, "worktree", "add", "-q", str(base), "main")
    return repo, base


@pytest.fixture
def pr(tmp_path: Path):
    """(pr_repo, base_checkout): a repository on branch `pr` off `main`, and main checked out apart."""
    return pr_checkouts(tmp_path)


def check_pr(repo: Path, base: Path, *args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    """Run the BASE checkout's tools/ci/check_pr.py against the pull request's repository, as CI does."""
    return subprocess.run([sys.executable, str(base / "tools" / "ci" / "check_pr.py"), "--root", str(repo),
                           "--base-ref", "main", *args], env={**tool_env(), **(env or {})},
                          capture_output=True, text=True, timeout=300)


def test_pr_adding_a_valid_fragment_passes(pr):
    repo, base = pr
    rel = add_fragment(repo, synthetic_run(1))
    commit_all(repo, "add a run")
    res = check_pr(repo, base)
    assert res.returncode == 0, res.stderr
    assert "1 added fragment(s) valid" in res.stdout
    assert "the merge would add 1 run(s)" in res.stdout
    assert (repo / rel).exists()  # a dry run: nothing merged, nothing removed
    assert not (repo / "data" / "benchmark.toml").read_text().count(synthetic_run(1)["run_id"])


@pytest.mark.parametrize("generated", ["data/benchmark.toml", "data/benchmark.json", "data/api/v1/index.json"])
def test_pr_editing_a_generated_file_fails_with_the_message(pr, generated):
    repo, base = pr
    add_fragment(repo, synthetic_run(1))
    path = repo / generated
    path.write_text(path.read_text() + "\n")
    commit_all(repo, "edit a generated file")
    res = check_pr(repo, base)
    assert res.returncode == 1
    assert f"{generated}: {generated} is generated: add a fragment to data/fragments/ instead" in res.stderr
    assert "pull request check failed: 1 problem(s)" in res.stderr


def test_pr_adding_an_invalid_fragment_fails_naming_file_and_field(pr):
    repo, base = pr
    run = synthetic_run(2)
    run["results"][0]["metrics"]["accuracy"] = 1.5
    rel = add_fragment(repo, with_run_id(run))
    commit_all(repo, "add a bad run")
    res = check_pr(repo, base)
    assert res.returncode == 1
    line = next(ln for ln in res.stderr.splitlines() if ln.startswith(rel))
    assert "results[0].metrics.accuracy" in line and "must be <= 1" in line


def test_a_pr_that_loosens_the_schema_is_still_checked_with_the_base_schema(pr):
    repo, base = pr
    schema_path = repo / "schema" / "run.schema.json"
    schema = json.loads(schema_path.read_text())
    assert schema["$defs"]["fraction"]["maximum"] == 1
    schema["$defs"]["fraction"]["maximum"] = 2  # the PR's loosening
    schema_path.write_text(json.dumps(schema, indent=2) + "\n")
    run = synthetic_run(2)
    run["results"][0]["metrics"]["accuracy"] = 1.5  # valid only under the loosened schema
    rel = add_fragment(repo, with_run_id(run))
    commit_all(repo, "loosen the schema and add a run only it accepts")

    own = subprocess.run([sys.executable, str(repo / "tools" / "validate.py"), rel], cwd=repo, env=tool_env(),
                         capture_output=True, text=True, timeout=300)
    assert own.returncode == 0, own.stderr  # the PR's own tools would let it through ...

    res = check_pr(repo, base)
    assert res.returncode == 1  # ... the base branch's do not
    assert any(ln.startswith(rel) and "results[0].metrics.accuracy" in ln for ln in res.stderr.splitlines())
    # and a pull request that adds fragments may change nothing else
    assert "schema/run.schema.json: a pull request that adds fragments must change nothing else" in res.stderr


def test_a_pr_that_guts_the_checker_is_still_checked_with_the_base_checker(pr):
    repo, base = pr
    (repo / "dlbench" / "store" / "pr_check.py").write_text("def check_pr(root, base_ref):\n    raise SystemExit(0)\n")
    (repo / "tools" / "ci" / "check_pr.py").write_text("raise SystemExit(0)\n")
    path = repo / "data" / "benchmark.toml"
    path.write_text(path.read_text() + "# hand edit\n")
    commit_all(repo, "disable the checks")
    res = check_pr(repo, base)
    assert res.returncode == 1
    assert "data/benchmark.toml is generated" in res.stderr


@pytest.mark.parametrize("change, message", [
    ("edit", "a submitted fragment must not be edited"),
    ("delete", "a pull request must not delete or rename a fragment"),
    ("rename", "a pull request must not delete or rename a fragment"),
])
def test_pr_changing_a_submitted_fragment_fails(tmp_path, change, message):
    repo = make_project_repo(tmp_path / "pr")
    rel = add_fragment(repo, synthetic_run(3))
    commit_all(repo, "a fragment awaiting its merge")
    git(repo, "checkout", "-q", "-b", "pr")
    git(repo, "worktree", "add", "-q", str(tmp_path / "base"), "main")
    if change == "edit":
        (repo / rel).write_text((repo / rel).read_text().replace("AMD Ryzen", "Intel Core"))
    elif change == "delete":
        (repo / rel).unlink()
    else:
        (repo / rel).rename(repo / "data" / "fragments" / "renamed.toml")
    commit_all(repo, change)
    res = check_pr(repo, tmp_path / "base")
    assert res.returncode == 1
    assert f"{rel}: {message}" in res.stderr


def test_pr_adding_something_else_to_fragments_fails(pr):
    repo, base = pr
    (repo / "data" / "fragments" / "notes.txt").write_text("hello\n")
    (repo / "data" / "fragments" / "sub").mkdir()
    (repo / "data" / "fragments" / "sub" / "x.toml").write_text("schema_version = 1\n")
    commit_all(repo, "stray files")
    res = check_pr(repo, base)
    assert res.returncode == 1
    for rel in ("data/fragments/notes.txt", "data/fragments/sub/x.toml"):
        assert f"{rel}: only <run_id>.toml files may be added directly in data/fragments/" in res.stderr


def test_pr_resubmitting_a_merged_run_fails(tmp_path):
    repo = make_project_repo(tmp_path / "pr")
    run = synthetic_run(4)
    add_fragment(repo, run)
    merged = subprocess.run([sys.executable, "tools/merge.py"], cwd=repo, env=tool_env(), capture_output=True,
                            text=True, timeout=300)
    assert merged.returncode == 0, merged.stderr
    commit_all(repo, "merged")
    git(repo, "checkout", "-q", "-b", "pr")
    git(repo, "worktree", "add", "-q", str(tmp_path / "base"), "main")
    rel = add_fragment(repo, run)
    commit_all(repo, "the same run again")
    res = check_pr(repo, tmp_path / "base")
    assert res.returncode == 1
    assert f"{rel}: run_id: run {run['run_id']} is already in data/benchmark.toml" in res.stderr


def test_github_annotations_when_running_in_actions(pr):
    repo, base = pr
    path = repo / "data" / "benchmark.json"
    path.write_text(path.read_text() + "\n")
    commit_all(repo, "edit")
    res = check_pr(repo, base, env={"GITHUB_ACTIONS": "true"})
    assert res.returncode == 1
    assert "::error file=data/benchmark.json,title=generated-file::data/benchmark.json is generated" in res.stderr


def test_an_unknown_base_ref_is_a_usage_error(pr):
    repo, base = pr
    res = subprocess.run([sys.executable, str(base / "tools" / "ci" / "check_pr.py"), "--root", str(repo),
                          "--base-ref", "no-such-branch"], env=tool_env(), capture_output=True, text=True)
    assert res.returncode == 2
    assert "no-such-branch: not a commit" in res.stderr
    assert "Traceback" not in res.stderr


# ---- merge_and_commit.sh: the merge workflow on main, against a bare remote ----

def remote_with_fragments(tmp_path: Path, runs: list[dict]) -> tuple[Path, Path]:
    """(bare remote, clone): main on the remote holds the given runs as fragments."""
    seed = make_project_repo(tmp_path / "seed")
    for run in runs:
        add_fragment(seed, run)
    commit_all(seed, "fragments landed from pull requests")
    remote = tmp_path / "remote.git"
    git(tmp_path, "clone", "-q", "--bare", str(seed), str(remote))
    work = tmp_path / "work"
    git(tmp_path, "clone", "-q", str(remote), str(work))
    return remote, work


def merge_and_commit(work: Path) -> subprocess.CompletedProcess:
    env = {**tool_env(), "PYTHON": sys.executable}
    env.pop("GH_TOKEN", None)
    return subprocess.run(["bash", "tools/ci/merge_and_commit.sh", "origin", "main"], cwd=work, env=env,
                          capture_output=True, text=True, timeout=300)


def remote_tree(remote: Path, tmp_path: Path, name: str) -> Path:
    out = tmp_path / name
    git(tmp_path, "clone", "-q", str(remote), str(out))
    return out


def test_merge_and_commit_merges_commits_pushes_then_has_nothing_to_do(tmp_path):
    runs = [synthetic_run(5), synthetic_run(6)]
    remote, work = remote_with_fragments(tmp_path, runs)
    before = git(remote, "rev-parse", "main").stdout.strip()

    res = merge_and_commit(work)
    assert res.returncode == 0, res.stderr
    assert "merged 2 run(s)" in res.stdout and "pushed" in res.stdout
    after = git(remote, "rev-parse", "main").stdout.strip()
    assert after != before
    assert git(remote, "log", "-1", "--format=%an <%ae>|%s", "main").stdout.strip() == (
        "github-actions[bot] <41898282+github-actions[bot]@users.noreply.github.com>|"
        "data: merge fragments into the dataset")

    published = remote_tree(remote, tmp_path, "published")
    assert sorted(p.name for p in (published / "data" / "fragments").iterdir()) == [".gitkeep"]
    toml = (published / "data" / "benchmark.toml").read_text()
    assert all(f'run_id = "{r["run_id"]}"' in toml for r in runs)
    check = subprocess.run([sys.executable, "tools/merge.py", "--check"], cwd=published, env=tool_env(),
                           capture_output=True, text=True, timeout=300)
    assert check.returncode == 0, check.stderr

    again = merge_and_commit(work)
    assert again.returncode == 0, again.stderr
    assert "nothing to commit" in again.stdout
    assert git(remote, "rev-parse", "main").stdout.strip() == after


def test_merge_and_commit_starts_again_when_main_moved_on(tmp_path):
    remote, work = remote_with_fragments(tmp_path, [synthetic_run(7)])
    other = remote_tree(remote, tmp_path, "other")  # another pull request lands meanwhile
    add_fragment(other, synthetic_run(8))
    commit_all(other, "another fragment")
    git(other, "push", "-q", "origin", "HEAD:main")

    res = merge_and_commit(work)
    assert res.returncode == 0, res.stderr
    assert "push refused (attempt 1)" in res.stderr
    published = remote_tree(remote, tmp_path, "published")
    toml = (published / "data" / "benchmark.toml").read_text()
    assert synthetic_run(7)["run_id"] in toml and synthetic_run(8)["run_id"] in toml
    assert sorted(p.name for p in (published / "data" / "fragments").iterdir()) == [".gitkeep"]


def test_merge_and_commit_refuses_a_dirty_tree(tmp_path):
    _, work = remote_with_fragments(tmp_path, [synthetic_run(9)])
    (work / "stray.txt").write_text("x\n")
    res = merge_and_commit(work)
    assert res.returncode == 1
    assert "uncommitted changes" in res.stderr


def test_merge_and_commit_with_an_invalid_fragment_changes_nothing(tmp_path):
    run = synthetic_run(10)
    run["results"][0]["metrics"]["accuracy"] = 1.5
    remote, work = remote_with_fragments(tmp_path, [with_run_id(run)])
    before = git(remote, "rev-parse", "main").stdout.strip()
    res = merge_and_commit(work)
    assert res.returncode == 1
    assert "results[0].metrics.accuracy" in res.stderr
    assert git(remote, "rev-parse", "main").stdout.strip() == before


# ---- build_site.sh: the folder GitHub Pages publishes ----

def build_site(checkout: Path, out: Path) -> subprocess.CompletedProcess:
    """Run the checkout's build_site.sh with this Python (which has pyarrow) for its publish step."""
    return subprocess.run(["bash", str(checkout / "tools" / "ci" / "build_site.sh"), str(out)],
                          capture_output=True, text=True, timeout=120, env={**os.environ, "PYTHON": sys.executable})


def test_build_site_puts_the_site_at_the_root_and_the_data_under_data(tmp_path):
    checkout = make_project_repo(tmp_path / "checkout")
    add_fragment(checkout, synthetic_run(11))  # unmerged: must not be published
    (checkout / "site").mkdir(exist_ok=True)
    (checkout / "site" / "index.html").write_text("<!doctype html><title>results</title>\n")
    (checkout / "site" / "app.js").write_text("export const api = 'data/api/v1/index.json';\n")

    res = build_site(checkout, tmp_path / "out")
    assert res.returncode == 0, res.stderr
    files = snapshot(tmp_path / "out")
    assert files["index.html"] == (checkout / "site" / "index.html").read_bytes()
    assert "app.js" in files
    assert files["data/benchmark.json"] == (checkout / "data" / "benchmark.json").read_bytes()
    assert files["data/api/v1/index.json"] == (checkout / "data" / "api" / "v1" / "index.json").read_bytes()
    assert "data/benchmark.toml" in files
    assert not any(name.startswith("data/fragments") for name in files)

    assert build_site(checkout, tmp_path / "again").returncode == 0
    assert snapshot(tmp_path / "again") == files  # deterministic


def test_build_site_without_a_site_folder_publishes_an_index_of_the_data(tmp_path):
    checkout = make_project_repo(tmp_path / "checkout")
    shutil.rmtree(checkout / "site", ignore_errors=True)
    res = build_site(checkout, tmp_path / "out")
    assert res.returncode == 0, res.stderr
    assert "site/: missing" in res.stderr
    assert 'href="data/benchmark.json"' in (tmp_path / "out" / "index.html").read_text()
    assert (tmp_path / "out" / "data" / "benchmark.json").is_file()


def test_build_site_refuses_a_non_empty_outdir_and_bad_usage(tmp_path):
    checkout = make_project_repo(tmp_path / "checkout")
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / "keep.txt").write_text("x")
    res = build_site(checkout, tmp_path / "out")
    assert res.returncode == 2 and "not an empty folder" in res.stderr
    assert (tmp_path / "out" / "keep.txt").read_text() == "x"
    usage = subprocess.run(["bash", str(checkout / "tools" / "ci" / "build_site.sh")], capture_output=True,
                           text=True)
    assert usage.returncode == 2 and "usage:" in usage.stderr


@pytest.mark.parametrize("script", ["build_site.sh", "merge_and_commit.sh", "push_merge.sh", "install_core.sh",
                                    "bootstrap_debian.sh", "check_pr.py", "hook.py"])
def test_every_ci_script_explains_itself(script):
    cmd = [sys.executable] if script.endswith(".py") else ["bash"]
    res = subprocess.run([*cmd, str(REPO / "tools" / "ci" / script), "--help"], capture_output=True, text=True,
                         timeout=60)
    assert res.returncode == 0, res.stderr
    assert len(res.stdout.strip().splitlines()) >= 2


def test_install_core_chooses_its_lock_and_refuses_an_unknown_one(tmp_path):
    script = str(REPO / "tools" / "ci" / "install_core.sh")
    bad = subprocess.run(["bash", script, "--lock", "everything"], capture_output=True, text=True, timeout=60)
    assert bad.returncode == 2 and "--lock core|site" in bad.stderr
    # A checkout without the site lock: the error names the file it looked for, and nothing is installed.
    (tmp_path / "tools" / "ci").mkdir(parents=True)
    missing = subprocess.run(["bash", script, "--lock", "site", str(tmp_path)], capture_output=True, text=True,
                             timeout=60)
    assert missing.returncode == 2 and "requirements-site.txt: missing" in missing.stderr
    assert (REPO / "tools" / "ci" / "requirements-site.txt").read_text().count("--hash=sha256:") > 10
