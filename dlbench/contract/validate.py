"""Validating fragments and the merged dataset: every problem in every file, never an exception."""

from __future__ import annotations

import os
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable

from . import plausibility, schema
from .checks import check_run
from .fragment import file_name
from .problems import Problem, display_path
from .tomlio import Loaded, line_of, read_toml

# Below this many files, starting worker processes costs more than it saves.
PARALLEL_THRESHOLD = 400


@dataclass
class FileResult:
    """What validating one file found: its runs (JSON form) when valid, and its problems."""

    path: str
    runs: list[dict[str, Any]] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    ids: list[str] = field(default_factory=list)
    notices: list[Problem] = field(default_factory=list)     # warnings: reported, never a failure


def validate_fragment(path: Path, display: str | None = None) -> FileResult:
    """Validate one fragment file on its own (no look-up in the dataset)."""
    display = display or display_path(path)
    loaded = read_toml(path, display)
    res = FileResult(display, problems=list(loaded.problems))
    if loaded.data is None:
        return res
    run = loaded.data
    if isinstance(run.get("run_id"), str):
        res.ids.append(run["run_id"])
    problems = _check_version(loaded, run) or schema.check(loaded, run, schema.RUN_SCHEMA)
    if not problems:
        problems = check_run(run, display, loaded.line_of)
        more, res.notices = plausibility.check(run, display, loaded.line_of)
        problems += more
        expected = file_name(run["run_id"])
        if path.name != expected and not any(p.code == "id-mismatch" for p in problems):
            problems.append(Problem(display, None, "run_id",
                                    f"file name does not match run_id: rename the file to {expected}", "file-name"))
    res.problems += problems
    if not res.problems:
        res.runs.append(run)
    return res


def _check_version(loaded: Loaded, doc: dict[str, Any]) -> list[Problem]:
    """A record of an unknown schema version gets one clear problem instead of a cascade."""
    version = doc.get("schema_version")
    if version is None or version in schema.SUPPORTED_SCHEMA_VERSIONS or isinstance(version, bool):
        return []
    if not isinstance(version, int):
        return []
    return [Problem(loaded.path, loaded.line_of(("schema_version",)), "schema_version",
                    f"schema_version {version} is not supported (this validator knows "
                    f"{', '.join(map(str, schema.SUPPORTED_SCHEMA_VERSIONS))}): regenerate the fragment with the "
                    "current runner, or update the tools if the schema has moved on", "schema-version")]


def validate_dataset(path: Path, display: str | None = None) -> FileResult:
    """Validate the merged `benchmark.toml`: the file's shape, every run, and unique run ids."""
    display = display or display_path(path)
    loaded = read_toml(path, display, max_bytes=None, fast=True)  # the merged dataset: written by merge.py
    res = FileResult(display, problems=list(loaded.problems))
    if loaded.data is None:
        return res
    doc = loaded.data
    for key in ("run_count", "result_count", "source_sha256"):
        if key in doc:
            res.problems.append(Problem(display, loaded.line_of((key,)), key,
                                        f"{key} belongs to benchmark.json only: remove it from the TOML", "json-only"))
    runs = doc.get("runs")
    shell = {k: v for k, v in doc.items() if k != "runs"}
    if isinstance(runs, list):
        shell["runs"] = []
    vproblems = _check_version(loaded, doc)
    if vproblems:
        res.problems += vproblems
        return res
    res.problems += schema.check(loaded, shell, schema.DATASET_SCHEMA)
    if not isinstance(runs, list):
        return res
    starts = _run_header_lines(loaded.text)
    seen: dict[str, int] = {}
    for i, run in enumerate(runs):
        block = _RunView(loaded, i, starts)
        problems = schema.check(block, run, schema.RUN_SCHEMA, prefix=("runs", i))
        if not problems:
            problems = check_run(run, display, block.line_of, prefix=("runs", i))
            more, notices = plausibility.check(run, display, block.line_of, prefix=("runs", i))
            problems += more
            res.notices += notices
        res.problems += problems
        rid = run.get("run_id") if isinstance(run, dict) else None
        if isinstance(rid, str):
            if rid in seen:
                res.problems.append(Problem(display, block.line_of(("run_id",)), f"runs[{i}].run_id",
                                            f"run {rid} appears twice (first as runs[{seen[rid]}]): remove the later copy",
                                            "duplicate-run"))
            else:
                seen[rid] = i
            res.ids.append(rid)
    if not res.problems:
        res.runs = runs
    return res


def _run_header_lines(text: str) -> list[int]:
    return [n for n, line in enumerate(text.splitlines(), 1) if line.strip() == "[[runs]]"]


class _RunView(Loaded):
    """One run of the merged file: field lines are looked up within that run's block."""

    def __init__(self, loaded: Loaded, index: int, starts: list[int]):
        super().__init__(loaded.path, None)
        self._full = loaded.text
        self._index = index
        self._starts = starts

    def line_of(self, path: tuple) -> int | None:
        if self._index >= len(self._starts):
            return None
        first = self._starts[self._index]
        lines = self._full.splitlines()
        last = self._starts[self._index + 1] - 1 if self._index + 1 < len(self._starts) else len(lines)
        inner = line_of("\n".join(lines[first - 1:last]), path)
        return first + inner - 1 if inner else first


def _problems_only(path: Path) -> FileResult:
    """`validate_fragment` without the run itself (cheaper to send back from a worker process)."""
    res = validate_fragment(path)
    res.runs = []
    return res


def validate_fragments(paths: Iterable[Path], known_ids: dict[str, str] | None = None,
                       jobs: int | None = None, keep_runs: bool = True) -> list[FileResult]:
    """Validate many fragments (in parallel when there are many); flag runs already known or given twice.

    `known_ids` maps run ids already in the dataset to where they are (for the message). With
    `keep_runs=False` the results hold problems and run ids only (enough for checking).
    """
    paths = list(paths)
    jobs = jobs or (os.cpu_count() or 1)
    one = validate_fragment if keep_runs else _problems_only
    if len(paths) >= PARALLEL_THRESHOLD and jobs > 1:
        with ProcessPoolExecutor(max_workers=jobs) as pool:
            results = list(pool.map(one, paths, chunksize=max(1, len(paths) // (jobs * 32))))
    else:
        results = [one(p) for p in paths]
    known = dict(known_ids or {})
    for res in results:
        for rid in res.ids:
            if rid in known:
                res.problems.append(Problem(
                    res.path, None, "run_id",
                    f"run {rid} is already in {known[rid]}: a pull request must not resubmit a run; remove this file",
                    "duplicate-run"))
                res.runs = []
            else:
                known[rid] = res.path
    return results


def validate_run(run: dict[str, Any], name: str = "<run>") -> list[Problem]:
    """Problems of a run held in memory (JSON form), as a runner checks it before writing it."""
    loaded = Loaded(name, run)
    problems = _check_version(loaded, run) or schema.check(loaded, run, schema.RUN_SCHEMA)
    return problems or check_run(run, name, lambda path: None)
