"""tools/merge.py: folding fragments into data/benchmark.toml, regenerating the generated files, append-only,
deterministic, idempotent, `--check`, refusal on invalid input, the lock, and safety against kill -9."""

from __future__ import annotations

import hashlib
import json
import os
import random
import re
import shutil
import signal
import subprocess
import sys
import time
import tomllib
from pathlib import Path

import pytest

from conftest import REPO, run_tool, snapshot, write_fragment
from dlbench.contract import fragment
from dlbench.store import api, outputs
from dlbench.store.dataset import Layout, fragment_paths
from dlbench.store.synthetic import synthetic_run, write_dataset

ISO_UTC = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{6})?Z$")
LOCK_NAME = Layout(Path(".")).lock.name


def _add(repo: Path, indices, seed: int = 0) -> list[dict]:
    """Write synthetic fragments i (for i in indices) into repo's data/fragments/; return the runs."""
    runs = [synthetic_run(i, seed=seed) for i in indices]
    for run in runs:
        write_fragment(repo, run)
    return runs


def _merge(repo: Path, *args: str) -> subprocess.CompletedProcess:
    return run_tool("merge", "--root", str(repo), *args, cwd=repo)


def _merged(repo: Path, *args: str) -> subprocess.CompletedProcess:
    r = _merge(repo, *args)
    assert r.returncode == 0, r.stdout + r.stderr
    assert "Traceback" not in r.stderr
    return r


def _state(repo: Path) -> dict[str, bytes]:
    """Every file of the repository except the lock file (which a merge may leave behind, empty)."""
    return {k: v for k, v in snapshot(repo).items() if k != LOCK_NAME}


def _toml_runs(repo: Path) -> list[dict]:
    with (repo / "data" / "benchmark.toml").open("rb") as f:
        return tomllib.load(f)["runs"]


def _json_doc(repo: Path) -> dict:
    return json.loads((repo / "data" / "benchmark.json").read_bytes())


def _fragments(repo: Path) -> list[str]:
    return sorted(p.name for p in (repo / "data" / "fragments").iterdir())


def test_merge_folds_fragments_removes_them_and_writes_every_generated_file(repo: Path) -> None:
    runs = _add(repo, [4, 1, 3, 0, 2])
    r = _merged(repo)
    assert "merged 5 run(s)" in r.stdout
    assert _fragments(repo) == []
    # Start-time order (synthetic run i starts 7*i minutes after run 0), whatever the file names.
    by_start = sorted(runs, key=lambda run: run["started_at"])
    assert [run["run_id"] for run in _toml_runs(repo)] == [run["run_id"] for run in by_start]
    doc = _json_doc(repo)
    assert doc["runs"] == by_start  # the JSON form of each fragment, unchanged
    assert (doc["run_count"], doc["result_count"]) == (5, 5)
    toml_bytes = (repo / "data" / "benchmark.toml").read_bytes()
    assert doc["source_sha256"] == hashlib.sha256(toml_bytes).hexdigest()
    expected = outputs.generate(outputs.Dataset(Layout(repo), toml_bytes, by_start))
    assert {"data/benchmark.json", "schema/README.md"} <= set(expected)
    for rel, data in expected.items():
        assert (repo / rel).read_bytes() == data, rel
        assert f"wrote {rel}" in r.stdout
    assert _merged(repo, "--check").stdout.strip() == "generated files are up to date"


def test_append_only_old_bytes_are_a_prefix_and_no_run_changes(repo: Path) -> None:
    _add(repo, [10, 11, 12])
    _merged(repo)
    toml_before = (repo / "data" / "benchmark.toml").read_bytes()
    runs_before = _toml_runs(repo)
    json_before = _json_doc(repo)["runs"]
    late = _add(repo, [2, 20, 5])  # run 2 and 5 started before every merged run: appended all the same
    r = _merged(repo)
    assert "merged 3 run(s)" in r.stdout
    toml_after = (repo / "data" / "benchmark.toml").read_bytes()
    assert toml_after.startswith(toml_before) and len(toml_after) > len(toml_before)
    runs_after = _toml_runs(repo)
    assert runs_after[:3] == runs_before
    assert [run["run_id"] for run in runs_after[3:]] == [late[0]["run_id"], late[2]["run_id"], late[1]["run_id"]]
    doc = _json_doc(repo)
    assert doc["runs"][:3] == json_before and doc["run_count"] == 6
    # benchmark.json was extended in place of a full rewrite: regenerating it from the TOML gives the same bytes.
    _merged(repo, "--check")


def test_a_run_already_merged_is_skipped_with_a_notice_next_to_new_ones(repo: Path) -> None:
    _add(repo, [0, 1])
    _merged(repo)
    toml_before = (repo / "data" / "benchmark.toml").read_bytes()
    again = _add(repo, [1])[0]
    new = _add(repo, [2])[0]
    r = _merged(repo)
    assert f"{again['run_id']}.toml: notice: run already in data/benchmark.toml; skipped" in r.stderr
    assert f"merged 1 run(s): {new['run_id']}" in r.stdout
    assert _fragments(repo) == []
    ids = [run["run_id"] for run in _toml_runs(repo)]
    assert ids.count(again["run_id"]) == 1 and ids[-1] == new["run_id"]
    assert (repo / "data" / "benchmark.toml").read_bytes().startswith(toml_before)


def test_same_fragments_give_byte_identical_repositories_whatever_the_creation_order(tmp_path: Path) -> None:
    states = []
    for name, order in (("a", [0, 1, 2, 3, 4, 5]), ("b", [5, 3, 1, 4, 2, 0])):
        repo = tmp_path / name
        (repo / "data" / "fragments").mkdir(parents=True)
        for k, i in enumerate(order):
            path = fragment.write(synthetic_run(i), repo / "data" / "fragments")
            os.utime(path, (1_700_000_000 + 1000 * k, 1_700_000_000 + 1000 * k))
        _merged(repo)
        _add(repo, [9, 7] if name == "a" else [7, 9], seed=3)
        _merged(repo)
        states.append(_state(repo))
    assert states[0] == states[1]
    assert len(states[0]) >= 4  # benchmark.toml, benchmark.json, schema/README.md, the API files


def test_a_second_merge_with_nothing_new_changes_nothing(repo: Path) -> None:
    _add(repo, range(4))
    _merged(repo)
    before = _state(repo)
    r = _merged(repo)
    assert "merged 0 run(s)" in r.stdout and "nothing changed" in r.stdout
    assert _state(repo) == before
    _add(repo, [8])
    r = _merged(repo, "--dry-run")
    assert "would merge 1 run(s)" in r.stdout
    assert set(_state(repo)) - set(before) == {f"data/fragments/{synthetic_run(8)['run_id']}.toml"}


def test_a_merge_without_a_usable_benchmark_json_gives_the_same_result(tmp_path: Path) -> None:
    """benchmark.json stale or missing: the runs are read from the TOML instead, with the same outcome."""
    states = []
    for damage in (None, "delete", "stale"):
        repo = tmp_path / str(damage)
        (repo / "data" / "fragments").mkdir(parents=True)
        _add(repo, range(3))
        _merged(repo)
        js = repo / "data" / "benchmark.json"
        if damage == "delete":
            js.unlink()
        elif damage == "stale":
            js.write_bytes(js.read_bytes().replace(b'"run_count":3', b'"run_count":2'))
        _add(repo, [3, 4])
        _merged(repo)
        states.append(_state(repo))
    assert states[0] == states[1] == states[2]


def test_check_passes_when_in_sync_and_names_each_edited_or_missing_file(repo: Path) -> None:
    _add(repo, range(3))
    _merged(repo)
    r = _merged(repo, "--check")
    assert r.stdout.strip() == "generated files are up to date"
    api_files = sorted(p.relative_to(repo).as_posix() for p in (repo / "data" / "api").rglob("*.json"))
    assert api_files, "the merge writes the sharded API"
    damages = {
        "data/benchmark.json": lambda p: p.write_bytes(p.read_bytes().replace(b'"run_count":3', b'"run_count":4')),
        "schema/README.md": lambda p: p.write_text(p.read_text() + "\nhand-written line\n"),
        api_files[0]: lambda p: p.unlink(),
        "data/api/v1/stray.json": lambda p: p.write_text("{}\n"),
    }
    for rel, damage in damages.items():
        path = repo / rel
        good = path.read_bytes() if path.exists() else None
        damage(path)
        before = _state(repo)
        r = _merge(repo, "--check")
        assert r.returncode == 1, rel
        assert f"{rel}: out of date with data/benchmark.toml" in r.stderr
        assert "Traceback" not in r.stderr
        assert _state(repo) == before, "--check must change nothing"
        if good is None:
            path.unlink()
        else:
            path.write_bytes(good)
    (repo / "data" / "benchmark.json").unlink()
    r = _merge(repo, "--check")
    assert r.returncode == 1 and "data/benchmark.json: out of date" in r.stderr
    _merged(repo)  # a merge regenerates what --check found missing
    _merged(repo, "--check")


def test_an_invalid_fragment_is_left_named_and_the_valid_ones_are_merged(repo: Path) -> None:
    _add(repo, range(2))
    _merged(repo)
    good = _add(repo, [5, 6])
    bad = synthetic_run(7)
    bad["results"][0]["metrics"]["accuracy"] = 1.5
    bad["provenance"]["bogus"] = True
    bad_path = fragment.write(fragment.with_run_id(bad), repo / "data" / "fragments")
    v = run_tool("validate", "--root", str(repo), cwd=repo)
    assert v.returncode == 1
    problem_lines = [line for line in v.stderr.splitlines() if line.startswith("data/fragments/")]
    assert len(problem_lines) == 2
    r = _merge(repo)
    assert r.returncode == 1
    assert all(line in r.stderr.splitlines() for line in problem_lines)
    assert f"1 invalid fragment(s) left in data/fragments/ (2 problem(s)): data/fragments/{bad_path.name}" in r.stderr
    assert "merged 2 run(s): " in r.stdout and all(run["run_id"] in r.stdout for run in good)
    assert bad_path.exists() and [p.name for p in fragment_paths(Layout(repo))] == [bad_path.name]
    r = _merge(repo)  # the next merge reports it again and changes nothing else
    assert r.returncode == 1 and "merged 0 run(s)" in r.stdout and "nothing changed" in r.stdout


def test_temporary_files_of_a_killed_merge_are_removed_by_the_next(repo: Path) -> None:
    _add(repo, range(2))
    _merged(repo)
    leftovers = [repo / "data" / ".benchmark.json.k1ll3d_x.tmp", repo / "data" / ".benchmark.toml.abcd1234.tmp",
                 repo / "data" / "api" / "v1" / ".index.json.zz99zz99.tmp"]
    for path in leftovers:
        path.write_bytes(b"half a file")
    keep = repo / "data" / "notes.tmp"  # not a name the merge's writes use: left alone
    keep.write_text("mine")
    _merged(repo)
    assert [p for p in leftovers if p.exists()] == []
    assert keep.read_text() == "mine"


HOLD_LOCK = """
import sys, filelock
lock = filelock.FileLock(sys.argv[1])
lock.acquire()
print("held", flush=True)
sys.stdin.read()
"""


def test_the_lock_refuses_a_second_merge_or_waits_for_it_with_wait(repo: Path) -> None:
    run = _add(repo, [0])[0]
    holder = subprocess.Popen([sys.executable, "-c", HOLD_LOCK, str(Layout(repo).lock)], stdin=subprocess.PIPE,
                              stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "held"
        before = _state(repo)
        r = _merge(repo)
        assert r.returncode == 1
        assert "another merge is running; wait for it or pass --wait SECONDS" in r.stderr
        start = time.monotonic()
        r = _merge(repo, "--wait", "0.5")
        assert r.returncode == 1 and "another merge is running" in r.stderr
        assert time.monotonic() - start >= 0.5
        assert _state(repo) == before
        waiting = subprocess.Popen([sys.executable, str(REPO / "tools" / "merge.py"), "--root", str(repo),
                                    "--wait", "120"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        time.sleep(1.5)
        assert waiting.poll() is None, "merge --wait must wait while the lock is held"
        assert _state(repo) == before
        holder.stdin.close()
        holder.wait(timeout=30)
        out, err = waiting.communicate(timeout=120)
        assert waiting.returncode == 0, out + err
        assert f"merged 1 run(s): {run['run_id']}" in out
    finally:
        if holder.poll() is None:
            holder.kill()
            holder.wait()


def test_benchmark_json_is_strict_utf8_json_with_iso_datetimes(repo: Path) -> None:
    runs = _add(repo, range(3))
    special = synthetic_run(3)
    special["provenance"]["notes"] = 'Zoë Ångström 测试: quotes " and \\ backslash, newline\n, emoji 🚀'
    special = fragment.with_run_id(special)
    fragment.write(special, repo / "data" / "fragments")
    _merged(repo)
    raw = (repo / "data" / "benchmark.json").read_bytes()
    text = raw.decode("utf-8", errors="strict")
    assert "Zoë Ångström 测试" in text and "🚀" in text  # UTF-8 as is, not \u escapes

    def refuse(name: str):
        raise AssertionError(f"{name} in benchmark.json")

    doc = json.loads(text, parse_constant=refuse)
    assert isinstance(doc, dict) and doc["schema_version"] == 1
    assert doc["runs"] == sorted(runs + [special], key=lambda run: run["started_at"])
    for run in doc["runs"]:
        assert ISO_UTC.match(run["started_at"]) and ISO_UTC.match(run["finished_at"])
    assert text.endswith("\n") and "NaN" not in text and "Infinity" not in text


@pytest.mark.parametrize("old,new", [(0, 0), (0, 2), (1, 0), (1, 1), (3, 2)])
def test_appending_to_benchmark_json_equals_rendering_it_whole(old: int, new: int) -> None:
    runs = [synthetic_run(i) for i in range(old + new)]
    previous = api.render_json(runs[:old], "a" * 64)
    assert api.render_json_appended(previous, runs, old, "b" * 64) == api.render_json(runs, "b" * 64)


def test_appending_to_a_benchmark_json_of_another_shape_is_refused() -> None:
    runs = [synthetic_run(i) for i in range(3)]
    previous = api.render_json(runs[:2], "a" * 64)
    assert api.render_json_appended(previous, runs, 1, "b" * 64) is None  # claims 1 run, holds 2
    assert api.render_json_appended(previous.replace(b"\n", b" "), runs, 2, "b" * 64) is None
    assert api.render_json_appended(previous[:-1], runs, 2, "b" * 64) is None


# --- kill -9 at random moments ---------------------------------------------------------------------------

DATASET_RUNS = 10_000
NEW_FRAGMENTS = 1_000
KILLS_WANTED = 12        # kills that must hit a running merge, spread over the whole merge
KILLS_PER_ROUND = 3      # each round: up to this many kills on top of each other, then a merge to the end
MAX_ATTEMPTS = 60        # a bound by count, not by time: every miss also shortens the next delays
LEFTOVER = re.compile(r"(^|/)\.[^/]+\.[A-Za-z0-9_]{8}\.tmp$")


def _clone(src: Path, dest: Path) -> None:
    """A copy made of hard links: free, and safe because a merge never writes into an existing file (it
    writes a new file and renames it over the old one, or unlinks it). A merge that wrote in place would
    change the pristine copy and fail the old-or-new check of the next round."""
    shutil.copytree(src, dest, copy_function=os.link)


def _start_merge(repo: Path) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, str(REPO / "tools" / "merge.py"), "--root", str(repo)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, start_new_session=True)


def _kill_after(repo: Path, delay: float) -> bool:
    """Start a merge, SIGKILL it and its worker processes after `delay` s; True if it was still running."""
    proc = _start_merge(repo)
    try:
        proc.wait(timeout=delay)
        return False
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
        return True
    finally:
        proc.stderr.close()


class _Parsed:
    """Parses each distinct file version once (the dataset files are large)."""

    def __init__(self) -> None:
        self.seen: set[tuple[str, bytes]] = set()

    def check(self, rel: str, data: bytes) -> None:
        key = (rel, hashlib.sha256(data).digest())
        if key in self.seen:
            return
        if rel.endswith(".toml"):
            tomllib.loads(data.decode("utf-8"))
        elif rel.endswith(".json"):
            json.loads(data)
        self.seen.add(key)


def _assert_old_or_new(repo: Path, old: dict[str, bytes], new: dict[str, bytes], parsed: _Parsed) -> None:
    now = _state(repo)
    for rel, data in now.items():
        if LEFTOVER.search(rel):
            continue  # a temporary file the killed merge had not yet renamed: removed by the next merge
        assert data == old.get(rel) or data == new.get(rel), f"{rel} is neither its old nor its new version"
        parsed.check(rel, data)
    for rel in set(old) & set(new):
        assert rel in now, f"{rel} disappeared"
    for rel in set(old) - set(new):
        assert rel.startswith("data/fragments/") or rel.startswith("data/api/"), rel


@pytest.mark.timeout(900)
def test_kill_9_at_random_moments_leaves_old_or_new_files_and_the_next_merge_completes(tmp_path: Path) -> None:
    pristine = tmp_path / "pristine"
    write_dataset(pristine, [synthetic_run(i) for i in range(DATASET_RUNS)])
    _add(pristine, range(NEW_FRAGMENTS), seed=1)
    old = _state(pristine)

    reference = tmp_path / "reference"
    _clone(pristine, reference)
    start = time.monotonic()
    r = _merged(reference)
    duration = time.monotonic() - start
    assert f"merged {NEW_FRAGMENTS} run(s)" in r.stdout
    new = _state(reference)
    assert not any(LEFTOVER.search(rel) for rel in new)

    # A kill lands at a delay drawn from its slot of the reference merge's duration, slots spread over the whole
    # merge (start-up, reading, validating, writing, removing). The machine may run faster or slower than it
    # did for the reference: a kill that comes after the merge has finished is a miss, which ends its round
    # (the merge completed, so later kills would hit a no-op) and shortens every later delay, so the count of
    # kills that hit a running merge is reached whatever the load, within a bounded number of attempts.
    rng = random.Random(20261123)
    parsed = _Parsed()
    hits = attempts = rounds = 0
    scale = 1.0
    while hits < KILLS_WANTED:
        repo = tmp_path / f"round-{rounds}"
        _clone(pristine, repo)
        for _ in range(KILLS_PER_ROUND):
            assert attempts < MAX_ATTEMPTS, f"only {hits} of {attempts} kills hit a running merge"
            attempts += 1
            slot = (hits + rng.random()) / KILLS_WANTED
            hit = _kill_after(repo, 0.05 + slot * duration * scale)
            _assert_old_or_new(repo, old, new, parsed)
            if not hit:
                scale *= 0.7
                break
            hits += 1
            if hits == KILLS_WANTED:
                break
        _merged(repo)
        assert _state(repo) == new, f"round {rounds}: the merge after the kills did not reach the final state"
        shutil.rmtree(repo)
        rounds += 1
    assert hits == KILLS_WANTED
