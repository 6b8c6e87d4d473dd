"""tools/validate.py as a command: what it validates by default, exit statuses, GitHub annotations, every
problem of every file, and the parallel path. (The list of bad inputs is in test_validate_bad_input.py.)"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from conftest import field_parent, run_tool, snapshot, write_fragment
from dlbench.contract.validate import PARALLEL_THRESHOLD
from dlbench.store.synthetic import synthetic_run


def _bad(i: int, **changes) -> dict:
    run = synthetic_run(i)
    for dotted, value in changes.items():
        node, key = field_parent(run, dotted.split("__"))
        node[key] = value
    return run


def _validate(repo: Path, *args: str, env: dict | None = None):
    r = run_tool("validate", *args, cwd=repo, env=env)
    assert "Traceback" not in r.stdout + r.stderr
    return r


def test_no_arguments_validates_every_fragment_and_the_dataset(merged_repo: Path) -> None:
    (merged_repo / "data" / "fragments" / ".gitkeep").write_text("")
    good = [write_fragment(merged_repo, synthetic_run(i)) for i in (5, 6)]
    r = _validate(merged_repo)  # from the repository root, no options at all
    assert (r.returncode, r.stdout.strip(), r.stderr) == (0, "3 files valid", "")

    toml = merged_repo / "data" / "benchmark.toml"
    toml.write_text(toml.read_text().replace("accuracy = 0.", "accuracy = 1.", 1), encoding="utf-8")
    bad = write_fragment(merged_repo, _bad(7, results__0__batch_size=0))
    r = _validate(merged_repo)
    assert r.returncode == 1
    assert "data/benchmark.toml:" in r.stderr and "runs[0].results[0].metrics.accuracy: must be <= 1" in r.stderr
    assert f"data/fragments/{bad.name}:" in r.stderr and "results[0].batch_size: must be >= 1" in r.stderr
    assert not any(g.name in r.stderr for g in good)
    assert r.stdout.strip() == "2 problems in 2 of 4 files"


@pytest.mark.parametrize("args,message", [
    (["--no-such-option"], "unrecognized arguments"),
    (["--jobs", "0"], "--jobs must be at least 1"),
    (["--jobs", "many"], "invalid int value"),
    (["missing.toml"], "no such file: missing.toml"),
    (["--root", "elsewhere"], "no data/ folder here"),
])
def test_usage_errors_exit_2_with_the_usage_line(repo: Path, args: list[str], message: str) -> None:
    write_fragment(repo, synthetic_run(1))
    before = snapshot(repo)
    r = _validate(repo, *args)
    assert r.returncode == 2
    assert r.stderr.startswith("usage: validate.py") and message in r.stderr
    assert r.stdout == ""
    assert snapshot(repo) == before


def test_github_annotations_with_the_flag_or_in_github_actions(repo: Path) -> None:
    bad = write_fragment(repo, _bad(3, provenance__seed=-3))
    rel = f"data/fragments/{bad.name}"
    line = next(n for n, text in enumerate(bad.read_text().splitlines(), 1) if text.startswith("seed ="))
    plain = f"{rel}:{line}: provenance.seed: must be >= 0, got -3"
    annotation = f"::error file={rel},line={line},title=schema::provenance.seed: must be >= 0, got -3"
    # Both forms go on with a hint taken from the schema's description of the field.
    for args, env, annotated in (([], {}, False), ([], {"GITHUB_ACTIONS": "false"}, False),
                                 (["--github"], {}, True), ([], {"GITHUB_ACTIONS": "true"}, True)):
        r = _validate(repo, *args, env=env)
        assert r.returncode == 1
        lines = r.stderr.splitlines()
        assert any(text.startswith(plain) for text in lines)
        assert any(text.startswith(annotation) for text in lines) is annotated, (args, env, r.stderr)
        assert ("::error" in r.stderr) is annotated


def test_every_problem_in_every_file_is_reported_in_a_stable_order(repo: Path) -> None:
    for i in (10, 11):
        write_fragment(repo, synthetic_run(i))
    bad = [write_fragment(repo, _bad(20, results__0__metrics__accuracy=1.5, results__0__model="")),
           write_fragment(repo, _bad(21, provenance__bogus=True)),
           write_fragment(repo, _bad(22, results__0__status="exploded", results__0__epochs=-1))]
    r = _validate(repo)
    assert r.returncode == 1
    expected = {bad[0].name: ["results[0].metrics.accuracy", "results[0].model"],
                bad[1].name: ["provenance.bogus"],
                bad[2].name: ["results[0].status", "results[0].epochs", "results[0].message"]}  # non-ok needs one
    for name, fields in expected.items():
        for field in fields:
            assert any(name in line and field in line for line in r.stderr.splitlines()), (name, field)
    assert r.stdout.strip() == "6 problems in 3 of 5 files"
    assert len(r.stderr.splitlines()) == 6
    assert _validate(repo).stderr == r.stderr  # deterministic order


def test_many_files_are_validated_in_parallel_with_the_same_report(repo: Path) -> None:
    n = PARALLEL_THRESHOLD + 20
    for i in range(n):
        write_fragment(repo, synthetic_run(i, seed=4))
    bad = [write_fragment(repo, _bad(1000 + k, results__0__batch_size=0)) for k in range(3)]
    serial = _validate(repo, "--jobs", "1")
    parallel = _validate(repo, "--jobs", "2")
    assert parallel.returncode == serial.returncode == 1
    assert (parallel.stdout, parallel.stderr) == (serial.stdout, serial.stderr)
    assert parallel.stdout.strip() == f"3 problems in 3 of {n + 3} files"
    assert all(b.name in parallel.stderr for b in bad)


def test_the_same_run_given_twice_is_reported_once_as_a_repeat(repo: Path, tmp_path: Path) -> None:
    first = write_fragment(repo, synthetic_run(30))
    other = tmp_path / "elsewhere"
    other.mkdir()
    second = Path(shutil.copy(first, other / first.name))
    r = _validate(repo, str(first), str(second))
    assert r.returncode == 1
    lines = [line for line in r.stderr.splitlines() if "already in" in line]
    assert len(lines) == 1
    assert lines[0].startswith(f"elsewhere/{first.name}: run_id: run ")
    assert f"already in data/fragments/{first.name}" in lines[0]


def test_quiet_prints_nothing_when_valid(repo: Path) -> None:
    write_fragment(repo, synthetic_run(40))
    r = _validate(repo, "-q")
    assert (r.returncode, r.stdout, r.stderr) == (0, "", "")
    write_fragment(repo, _bad(41, results__0__batch_size=0))
    r = _validate(repo, "-q")
    assert r.returncode == 1 and "batch_size" in r.stderr
