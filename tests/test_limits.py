"""Limits of a fragment (schema/README.md): results, array items, characters per string, bytes per file, and
no control or bidi characters in text. An over-long value is reported by its length, never echoed."""

from __future__ import annotations

from pathlib import Path

import pytest

from conftest import run_tool, snapshot, write_fragment
from dlbench.store.synthetic import synthetic_run


def _validate(repo: Path, run: dict):
    path = write_fragment(repo, run)
    before = snapshot(repo)
    done = run_tool("validate", str(path), cwd=repo)
    assert snapshot(repo) == before and "Traceback" not in done.stderr
    return path, done


def test_more_than_100_results_in_one_fragment_is_refused(repo: Path):
    run = synthetic_run(1)
    run["results"] = run["results"] * 101
    _, done = _validate(repo, run)
    assert done.returncode == 1 and "results: has 101 items; at most 100 are allowed" in done.stderr


@pytest.mark.parametrize("where,size,limit", [
    (("provenance", "notes"), 100_000, 2000),
    (("provenance", "command", 1), 5_000, 1000),
    (("provenance", "environment", "XLA_FLAGS"), 5_000, 1000),
    (("system", "cpu", "model"), 5_000, 500),
    (("provenance", "source", "url"), 5_000, 500),
    (("provenance", "original", "memory"), 5_000, 500),
])
def test_an_over_long_string_is_reported_by_its_length_and_not_echoed(repo: Path, where, size, limit):
    run = synthetic_run(2)
    node = run
    for key in where[:-1]:
        node = node.setdefault(key, {}) if isinstance(key, str) else node[key]
    value = ("https://example.org/" if where[-1] == "url" else "") + "q" * size
    node[where[-1]] = value
    _, done = _validate(repo, run)
    assert done.returncode == 1
    assert f"is {len(value):,} characters long; at most {limit:,} are allowed" in done.stderr, done.stderr
    assert "q" * 100 not in done.stderr and len(done.stderr) < 5000


@pytest.mark.parametrize("where,value", [
    (("system", "cpu", "model"), "AMD \x1b]0;pwned\x07 EPYC"),
    (("results", 0, "device_name"), "NVIDIA \u202eH100"),
    (("provenance", "notes"), "ring the bell \x07"),
    (("provenance", "notes"), "one\u2028two"),
    (("results", 0, "message"), "line one\nline two"),
])
def test_control_and_bidi_characters_in_text_are_refused(repo: Path, where, value):
    run = synthetic_run(3)
    node = run
    for key in where[:-1]:
        node = node[key]
    node[where[-1]] = value
    if where[-1] == "message":
        run["results"][0]["status"] = "error"
    _, done = _validate(repo, run)
    assert done.returncode == 1
    assert "control characters, bidi controls and line separators are not allowed" in done.stderr, done.stderr
    assert "\x1b" not in done.stderr and "\x07" not in done.stderr and "\u202e" not in done.stderr


def test_notes_may_keep_line_breaks(repo: Path):
    run = synthetic_run(4)
    run["provenance"]["notes"] = "liquid-cooled\nroom at 18 C"
    _, done = _validate(repo, run)
    assert done.returncode == 0, done.stderr


def test_the_documented_limits_are_the_enforced_ones():
    from dlbench.contract import limits, schema

    run_schema = schema.load(schema.RUN_SCHEMA)
    assert run_schema["properties"]["results"]["maxItems"] == limits.MAX_RESULTS_PER_FRAGMENT
    assert f"at most {limits.MAX_RESULTS_PER_FRAGMENT} results" in limits.describe()
