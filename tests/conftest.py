"""Shared test fixtures: a throw-away repository layout and a way to run the tools as a user does."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any, Sequence

import pytest

from dlbench.contract import fragment
from dlbench.store.synthetic import synthetic_run

REPO = Path(__file__).resolve().parent.parent


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    """An empty dataset repository: data/fragments/ and nothing merged yet."""
    (tmp_path / "data" / "fragments").mkdir(parents=True)
    return tmp_path


def run_tool(tool: str, *args: str, cwd: Path | None = None, env: dict | None = None,
             timeout: float = 300) -> subprocess.CompletedProcess:
    """Run `python tools/<tool>.py ARGS` (or `runners/<tool>.py`) in a subprocess, as a user would."""
    script = REPO / "tools" / f"{tool}.py"
    if not script.exists():
        script = REPO / "runners" / f"{tool}.py"
    full_env = dict(os.environ)
    full_env.pop("GITHUB_ACTIONS", None)
    full_env.update(env or {})
    return subprocess.run([sys.executable, str(script), *args], cwd=cwd, env=full_env, capture_output=True,
                          text=True, timeout=timeout)


def signal_after_first_line(cmd: list[str], sig: int, pause: float = 0.0,
                            **popen: object) -> tuple[str, str, str, int]:
    """Start `cmd`, wait for its first line on stdout, send it `sig` (after `pause` seconds), and return (that
    line, the rest of stdout, stderr, exit status); the process is killed should the test fail on the way."""
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, **popen)
    try:
        first = proc.stdout.readline()
        time.sleep(pause)
        proc.send_signal(sig)
        stdout, stderr = proc.communicate(timeout=300)
    finally:
        if proc.poll() is None:
            proc.kill()
    return first, stdout, stderr, proc.returncode


def snapshot(root: Path) -> dict[str, bytes]:
    """Every file below `root` (paths relative to it) with its bytes: for 'nothing changed' assertions."""
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def write_fragment(repo: Path, run: dict, name: str | None = None) -> Path:
    """Write `run` (its run_id set from its content) as a fragment of `repo`, named by its id unless `name`.

    As `fragment.write` does, without its fsync (thousands of files in some tests).
    """
    run = fragment.with_run_id(run)
    path = repo / "data" / "fragments" / (name or fragment.file_name(run["run_id"]))
    path.write_text(fragment.to_toml(run), encoding="utf-8")
    return path


def merge_synthetic(repo: Path, n: int) -> Path:
    """Merge synthetic runs 0 .. n-1 into `repo` with tools/merge.py."""
    for i in range(n):
        write_fragment(repo, synthetic_run(i))
    r = run_tool("merge", "--root", str(repo))
    assert r.returncode == 0, r.stderr
    return repo


@pytest.fixture
def merged_repo(repo: Path) -> Path:
    """A repository whose dataset holds two synthetic runs, merged with tools/merge.py."""
    return merge_synthetic(repo, 2)


def field_parent(run: dict, keys: Sequence[str | int]) -> tuple[Any, str | int]:
    """The table or array holding the field at `keys` of `run` (a digit string indexes an array), and its key."""
    node: Any = run
    for k in keys[:-1]:
        node = node[int(k)] if str(k).isdigit() else node[k]
    return node, keys[-1]
