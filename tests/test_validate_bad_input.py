"""The issue's bad-input list: each case exits 1 with a message naming the file and the field, prints no
traceback, and leaves data/ byte-identical (through both validate.py and merge.py)."""

from __future__ import annotations

from pathlib import Path
from typing import Callable

import pytest

from conftest import REPO, field_parent, run_tool, snapshot, write_fragment
from dlbench.contract import fragment
from dlbench.store.synthetic import synthetic_run


def _edit(change: Callable[[dict], None], name: str | None = None):
    def make(repo: Path) -> Path:
        run = synthetic_run(100)
        change(run)
        return write_fragment(repo, run, name)
    return make


def _raw(text: bytes, name: str = "0123456789abcdef.toml"):
    def make(repo: Path) -> Path:
        path = repo / "data" / "fragments" / name
        path.write_bytes(text)
        return path
    return make


def _toml_text(change: Callable[[str], str]):
    """Fragment written as TOML text, then edited as text (for values a JSON-form run cannot hold)."""
    def make(repo: Path) -> Path:
        run = fragment.with_run_id(synthetic_run(100))
        text = change(fragment.to_toml(run))
        path = repo / "data" / "fragments" / f"{run['run_id']}.toml"
        path.write_text(text, encoding="utf-8")
        return path
    return make


def _set(path: str, value):
    def change(run: dict) -> None:
        node, key = field_parent(run, path.split("."))
        node[key] = value
    return change


def _delete(path: str):
    def change(run: dict) -> None:
        node, key = field_parent(run, path.split("."))
        del node[key]
    return change


def _oversized(repo: Path) -> Path:
    run = synthetic_run(100)
    run["provenance"]["notes"] = "x" * 2000
    run["results"] = run["results"] * 1500
    return write_fragment(repo, run)


def _wrong_name(repo: Path) -> Path:
    return write_fragment(repo, synthetic_run(100), name="fedcba9876543210.toml")


def _tampered(repo: Path) -> Path:
    run = fragment.with_run_id(synthetic_run(100))
    run["results"][0]["metrics"]["accuracy"] = 0.999  # edited after the id was computed
    path = repo / "data" / "fragments" / f"{run['run_id']}.toml"
    path.write_text(fragment.to_toml(run), encoding="utf-8")
    return path


def _resubmitted(repo: Path) -> Path:
    return write_fragment(repo, synthetic_run(0))  # run 0 is already merged by the fixture


CASES = {
    # name: (make the bad file, expected field or location text, expected message text)
    "toml-syntax": (_raw(b'schema_version = 1\nrun_id = "abc\n'), ":2:", "TOML syntax error (column"),
    "empty-file": (_raw(b""), "0123456789abcdef.toml:", "file is empty"),
    "not-utf8": (_raw(b'schema_version = 1\nnotes = "caf\xe9"\n'), ":2:", "not valid UTF-8"),
    "over-256-kib": (_oversized, ".toml:", "larger than 256 KiB"),
    "missing-field": (_edit(_delete("results.0.status")), "results[0].status", "missing required field 'status'"),
    "wrong-type": (_edit(_set("results.0.batch_size", "512")), "results[0].batch_size", "must be of type integer"),
    "empty-string": (_edit(_set("results.0.model", "")), "results[0].model", "must not be empty"),
    "unknown-field": (_edit(_set("results.0.metrics.acuracy", 0.9)), "results[0].metrics.acuracy",
                      "unknown field 'acuracy'"),
    "nan": (_toml_text(lambda t: t.replace("eval_s = ", "eval_s = nan #")), "results[0].metrics.eval_s",
            "nan is not allowed"),
    "inf": (_toml_text(lambda t: t.replace("eval_s = ", "eval_s = inf #")), "results[0].metrics.eval_s",
            "inf is not allowed"),
    "negative-time": (_edit(_set("results.0.metrics.compute_s", -1.5)), "results[0].metrics.compute_s",
                      "must be >= 0, got -1.5"),
    "accuracy-1.5": (_edit(_set("results.0.metrics.accuracy", 1.5)), "results[0].metrics.accuracy",
                     "must be <= 1, got 1.5"),
    "integer-over-2^53": (_edit(_set("system.memory_bytes", 2**53 + 1)), "system.memory_bytes",
                          "beyond JavaScript's safe range"),
    "file-name-mismatch": (_wrong_name, "fedcba9876543210.toml: run_id", "rename the file to"),
    "id-mismatch": (_tampered, "run_id", "does not match the content"),
    "resubmitted-run": (_resubmitted, "run_id", "is already in data/benchmark.toml"),
    "schema-version": (_edit(_set("schema_version", 2)), "schema_version", "schema_version 2 is not supported"),
    "not-toml": (_raw(b"{}", name="result.json"), "result.json:", "not a .toml file"),
    "future-time": (_edit(_set("finished_at", "2999-01-01T00:00:00Z")), "finished_at", "is in the future"),
    "phases-exceed-total": (_edit(_set("results.0.metrics.total_s", 1.0)), "results[0].metrics.total_s",
                            "exceeds total_s"),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_bad_input_is_reported_and_changes_nothing(merged_repo: Path, case: str) -> None:
    make, where, what = CASES[case]
    bad = make(merged_repo)
    before = snapshot(merged_repo)
    tools = [("validate", []), ("validate", [str(bad)])]
    if case != "resubmitted-run":  # merge skips a known run with a notice: tested below
        tools.append(("merge", []))
    for tool, args in tools:
        r = run_tool(tool, "--root", str(merged_repo), *args, cwd=merged_repo)
        assert r.returncode == 1, (tool, r.stdout, r.stderr)
        assert "Traceback" not in r.stderr + r.stdout
        lines = [line for line in r.stderr.splitlines() if bad.name in line]
        assert lines, (tool, r.stderr)
        assert any(where in line and what in line for line in lines), (tool, case, r.stderr)
        assert snapshot(merged_repo) == before, f"{tool} changed files for {case}"


def test_merge_skips_a_resubmitted_run_with_a_notice(merged_repo: Path) -> None:
    bad = _resubmitted(merged_repo)
    data = merged_repo / "data"
    before = {p: (data / p).read_bytes() for p in ("benchmark.toml", "benchmark.json")}
    r = run_tool("merge", "--root", str(merged_repo), cwd=merged_repo)
    assert r.returncode == 0, r.stderr
    assert f"{bad.name}: notice: run already in data/benchmark.toml" in r.stderr
    assert "merged 0 run(s)" in r.stdout
    assert {p: (data / p).read_bytes() for p in before} == before
    assert not bad.exists()


def test_every_problem_is_reported_not_only_the_first(repo: Path) -> None:
    run = synthetic_run(5)
    run["results"][0]["metrics"]["accuracy"] = 1.5
    run["results"][0]["model"] = ""
    run["results"][0]["batch_size"] = 0
    run["provenance"]["bogus"] = True
    bad = write_fragment(repo, run)
    r = run_tool("validate", str(bad), "--root", str(repo))
    assert r.returncode == 1
    for text in ("metrics.accuracy", "results[0].model", "results[0].batch_size", "provenance.bogus"):
        assert text in r.stderr, r.stderr
    assert "4 problems in 1 of 1 file" in r.stdout


def test_problems_carry_line_numbers_where_known(repo: Path) -> None:
    run = synthetic_run(5)
    run["provenance"]["seed"] = -3
    bad = write_fragment(repo, run)
    r = run_tool("validate", str(bad), "--root", str(repo))
    line_no = next(n for n, line in enumerate(bad.read_text().splitlines(), 1) if line.startswith("seed ="))
    assert f"{bad.name}:{line_no}: provenance.seed: must be >= 0, got -3" in r.stderr


def test_github_annotations(repo: Path) -> None:
    bad = write_fragment(repo, {**synthetic_run(5), "extra": 1})
    r = run_tool("validate", str(bad), "--root", str(repo), env={"GITHUB_ACTIONS": "true"})
    assert r.returncode == 1
    assert f"::error file={bad}" in r.stderr or "::error file=" in r.stderr
    assert "unknown field 'extra'" in r.stderr


def test_valid_files_pass_and_usage_errors_exit_2(repo: Path) -> None:
    good = write_fragment(repo, synthetic_run(7))
    r = run_tool("validate", "--root", str(repo))
    assert (r.returncode, r.stdout.strip()) == (0, "1 file valid")
    r = run_tool("validate", str(good), "--root", str(repo))
    assert r.returncode == 0
    r = run_tool("validate", str(repo / "nope.toml"), "--root", str(repo))
    assert r.returncode == 2 and "no such file" in r.stderr
    r = run_tool("validate", "--bogus-option")
    assert r.returncode == 2
    r = run_tool("merge", "--check", "--dry-run", "--root", str(repo))
    assert r.returncode == 2


def test_broken_dataset_file_is_reported_with_run_lines(merged_repo: Path) -> None:
    toml = merged_repo / "data" / "benchmark.toml"
    text = toml.read_text()
    toml.write_text(text.replace("accuracy = 0.", "accuracy = 1.", 1), encoding="utf-8")
    r = run_tool("validate", "--root", str(merged_repo))
    assert r.returncode == 1
    assert "data/benchmark.toml:" in r.stderr and "runs[0]." in r.stderr
    r = run_tool("merge", "--check", "--root", str(merged_repo))
    assert r.returncode == 1 and "Traceback" not in r.stderr


def test_fragment_from_json_form_matches_schema_examples() -> None:
    """The shipped example fragment validates (positive fixture)."""
    examples = sorted((REPO / "schema" / "examples").glob("*.toml"))
    assert examples
    r = run_tool("validate", *map(str, examples), "--root", str(REPO / "schema" / "examples"))
    assert r.returncode == 0, r.stderr
