"""The pre-commit configuration and the hook manifest, run for real (offline) in a copy of the project."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import REPO
from test_ci_scripts import PROJECT_PARTS as CI_PARTS, copy_project, tool_env
from dlbench.contract.fragment import with_run_id, write
from dlbench.store.synthetic import synthetic_run

PRE_COMMIT = Path(sys.executable).parent / "pre-commit"
PROJECT_PARTS = CI_PARTS + [".pre-commit-config.yaml", ".pre-commit-hooks.yaml"]


def env_for(tmp_path: Path) -> dict[str, str]:
    env = tool_env()
    env.update(PRE_COMMIT_HOME=str(tmp_path / "pre-commit-home"),
               PATH=f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}")  # `python` = this venv's
    return env


def run(cmd: list[str], cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True, timeout=300)


@pytest.fixture
def project(tmp_path: Path) -> tuple[Path, dict[str, str]]:
    """A git repository holding a copy of the project (its generated files brought up to date), committed."""
    repo = tmp_path / "repo"
    copy_project(repo, PROJECT_PARTS)
    env = env_for(tmp_path)
    merged = run([sys.executable, "tools/merge.py"], repo, env)  # whatever other work is in progress
    assert merged.returncode == 0, merged.stderr
    for cmd in (["git", "init", "-q", "-b", "main"], ["git", "add", "-A"], ["git", "commit", "-q", "-m", "base"]):
        assert run(cmd, repo, env).returncode == 0
    return repo, env


def test_config_and_manifest_are_valid(tmp_path):
    env = env_for(tmp_path)
    res = run([str(PRE_COMMIT), "validate-config", ".pre-commit-config.yaml"], REPO, env)
    assert res.returncode == 0, res.stdout + res.stderr
    res = run([str(PRE_COMMIT), "validate-manifest", ".pre-commit-hooks.yaml"], REPO, env)
    assert res.returncode == 0, res.stdout + res.stderr


def test_manifest_offers_the_validate_console_script():
    import tomli
    import yaml
    hooks = {h["id"]: h for h in yaml.safe_load((REPO / ".pre-commit-hooks.yaml").read_text())}
    hook = hooks["dlbench-validate"]
    assert (hook["entry"], hook["language"], hook["files"]) == ("dlbench-validate", "python",
                                                                r"^data/fragments/[^/]+\.toml$")
    scripts = tomli.loads((REPO / "pyproject.toml").read_text())["project"]["scripts"]
    assert scripts["dlbench-validate"] == "dlbench.cli.validate:main"


def test_hooks_pass_on_a_good_fragment(project):
    repo, env = project
    rel = write(synthetic_run(1), repo / "data" / "fragments").relative_to(repo).as_posix()
    res = run([str(PRE_COMMIT), "run", "--files", rel, "data/benchmark.toml"], repo, env)
    assert res.returncode == 0, res.stdout + res.stderr
    assert "validate benchmark fragments" in res.stdout and "generated files up to date" in res.stdout
    assert "Failed" not in res.stdout
    all_files = run([str(PRE_COMMIT), "run", "--all-files"], repo, env)
    assert all_files.returncode == 0, all_files.stdout + all_files.stderr


def test_hooks_fail_on_a_bad_fragment(project):
    repo, env = project
    bad = synthetic_run(2)
    bad["results"][0]["metrics"]["accuracy"] = 1.5
    rel = write(with_run_id(bad), repo / "data" / "fragments").relative_to(repo).as_posix()
    res = run([str(PRE_COMMIT), "run", "--files", rel], repo, env)
    assert res.returncode == 1
    assert "validate benchmark fragments" in res.stdout and "Failed" in res.stdout
    assert f"{rel}:" in res.stdout and "results[0].metrics.accuracy" in res.stdout


def test_hooks_fail_on_a_hand_edited_generated_file(project):
    repo, env = project
    path = repo / "data" / "benchmark.json"
    path.write_bytes(path.read_bytes() + b"\n")
    res = run([str(PRE_COMMIT), "run", "--files", "data/benchmark.json"], repo, env)
    assert res.returncode == 1
    assert "data/benchmark.json: out of date with data/benchmark.toml" in res.stdout
