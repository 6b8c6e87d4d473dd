"""What the importers of published tables share: the pinned source file, reading CSV and JSON tables by
header name, cells, and the errors that stop an import.

A published table is read all or nothing: a missing or renamed column, an unknown device string, a
non-numeric cell or a file of another layout is an `InputError` naming the file, the line and the field, and
nothing is written. Every record an importer makes names its pinned source (`SourceFile.record`): the
repository, the file's path and commit, the file's SHA-256, the row's key in it, the device string as
written, the license and the attribution it asks for.

Cells: `0`, `0.0` and `-1` mean "not run or failed" in these tables (often out of memory), never a measured
zero: `number` returns NOT_RUN for them, and an importer leaves that result out (the cell stays in the
record's `provenance.original`). An empty cell is absent.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import math
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable

from ..contract.problems import Problem

NOT_RUN = object()          # a `0` / `-1` cell: a run that did not happen or failed
_NUMBER = re.compile(r"^\s*[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?\s*$")


@dataclass
class Reading:
    """What a source's `read` gives: its runs, and what it left out as not a result, one line each
    (`FILE:LINE: why`, or `N rows: why`), for the command to report."""

    runs: list[dict[str, Any]]
    skipped: list[str] = field(default_factory=list)


class InputError(Exception):
    """The input cannot be imported; `problems` say where and why (nothing is written)."""

    def __init__(self, problems: list[Problem]):
        self.problems = problems
        super().__init__("\n".join(p.format() for p in problems))


def problem(file: str, line: int | None, field_name: str | None, message: str) -> Problem:
    return Problem(file, line, field_name, message, "import-error")


@dataclass(frozen=True)
class Pin:
    """Where a source's files were read: a repository at a commit (or an address and a retrieval date)."""

    repository: str                 # owner/name
    commit: str | None = None       # 40 hex digits
    retrieved: str | None = None    # YYYY-MM-DD

    def url(self, path: str) -> str:
        ref = self.commit or "HEAD"
        return f"https://github.com/{self.repository}/blob/{ref}/{path}"


@dataclass(frozen=True)
class SourceFile:
    """One file of a source, read: its text, path in the repository, SHA-256 and the source's terms."""

    pin: Pin
    path: str                        # inside the repository, '/'-separated
    display: str                     # how messages name it (the local path)
    text: str
    sha256: str
    title: str
    license: str
    attribution: str
    published: str | None = None

    def record(self, row: str, device: str | None = None, section: str | None = None,
               also: Iterable["SourceFile"] = (), also_what: str | None = None,
               replaces: str | None = None) -> dict[str, Any]:
        """`provenance.source` of a record read from row `row` of this file."""
        out: dict[str, Any] = {"title": self.title, "url": self.pin.url(self.path), "repository": self.pin.repository,
                               "path": self.path}
        if self.pin.commit:
            out["commit"] = self.pin.commit
        if self.pin.retrieved:
            out["retrieved"] = self.pin.retrieved
        out["sha256"] = self.sha256
        if section:
            out["section"] = section
        if self.published:
            out["published"] = self.published
        out.update({"license": self.license, "attribution": self.attribution, "row": row})
        if device is not None:
            out["device"] = device
        extra = [{"path": f.path, "sha256": f.sha256} | ({"what": also_what} if also_what else {}) for f in also]
        if extra:
            out["also"] = extra
        if replaces:
            out["replaces"] = replaces
        return out


def read_source(folder: Path, path: str, pin: Pin, title: str, license: str, attribution: str,
                published: str | None = None) -> SourceFile:
    """Read `folder/path` as UTF-8 (a byte-order mark is dropped); InputError when it cannot be read."""
    local = folder / path
    display = str(local)
    try:
        raw = local.read_bytes()
    except OSError as exc:
        raise InputError([problem(display, None, None, f"cannot read the file ({exc.strerror or exc}): give a "
                                  "checkout of the source at the pinned commit")]) from None
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw[:exc.start].count(b"\n") + 1
        raise InputError([problem(display, line, None, "not UTF-8 text: is this the published table?")]) from None
    return SourceFile(pin, path, display, text, hashlib.sha256(raw).hexdigest(), title, license, attribution,
                      published)


@dataclass
class Row:
    """One data row of a table: its line in the file and its cells by canonical column name."""

    line: int
    cells: dict[str, str]
    raw: dict[str, str] = field(default_factory=dict)   # by the header as written (for provenance.original)

    def get(self, name: str) -> str | None:
        value = self.cells.get(name)
        return None if value is None or not value.strip() else value.strip()


def csv_rows(source: SourceFile, columns: dict[str, tuple[str, ...]], required: Iterable[str],
             extra: str = "error") -> tuple[list[str], list[Row]]:
    """The header (as written) and the rows of a CSV source, with cells named by `columns`.

    `columns` maps each canonical name to the header spellings accepted for it (the first is the current
    one); the columns are found by name, in any order. A missing required column, a header that is in no
    spelling (with `extra="error"`), a duplicate header or a row of another length is an InputError.
    """
    reader = csv.reader(io.StringIO(source.text, newline=""))
    try:
        header = next(reader)
    except StopIteration:
        raise InputError([problem(source.display, 1, None, "the file is empty: expected a header line")]) from None
    except csv.Error as exc:
        raise InputError([problem(source.display, 1, None, f"not a CSV table ({exc})")]) from None
    spelled = {alias.strip().lower(): name for name, aliases in columns.items() for alias in aliases}
    problems = []
    where: dict[str, int] = {}
    for i, cell in enumerate(header):
        key = cell.strip().lower()
        name = spelled.get(key)
        if name is None:
            if extra == "error":
                problems.append(problem(source.display, 1, cell, f"unknown column {cell!r}: this importer reads "
                                        f"{', '.join(repr(a[0]) for a in columns.values())}; a renamed column "
                                        "means a new layout of the table: add its name to the importer"))
            continue
        if name in where:
            problems.append(problem(source.display, 1, cell, f"column {cell!r} appears twice"))
        where[name] = i
    for name in required:
        if name not in where:
            problems.append(problem(source.display, 1, name, f"missing column {columns[name][0]!r} (accepted "
                                    f"spellings: {', '.join(repr(a) for a in columns[name])}): is this a file of "
                                    "another layout?"))
    if problems:
        raise InputError(problems)
    rows = []
    try:
        for record in reader:
            line = reader.line_num
            if not record or all(not c.strip() for c in record):
                continue
            if len(record) != len(header):
                problems.append(problem(source.display, line, None, f"{len(record)} cells where the header has "
                                        f"{len(header)}: a broken row"))
                continue
            rows.append(Row(line, {name: record[i] for name, i in where.items()},
                            {header[i]: record[i] for i in range(len(header))}))
    except csv.Error as exc:
        problems.append(problem(source.display, reader.line_num, None, f"not a CSV table ({exc})"))
    if problems:
        raise InputError(problems)
    return header, rows


def json_records(source: SourceFile) -> list[dict[str, Any]]:
    """The records of a JSON source that is a list of objects; InputError otherwise."""
    try:
        data = json.loads(source.text)
    except ValueError as exc:
        line = getattr(exc, "lineno", None)
        raise InputError([problem(source.display, line, None, f"not JSON ({exc}): is this the published "
                                  "summary file?")]) from None
    if not isinstance(data, list) or not all(isinstance(r, dict) for r in data):
        raise InputError([problem(source.display, 1, None, "expected a JSON list of objects (one per result)")])
    return data


def json_record_lines(text: str) -> list[int]:
    """The line of each top-level object of a JSON list, for messages (best effort: 1 when not found)."""
    lines, depth, line, in_str, esc = [], 0, 1, False, False
    for ch in text:
        if ch == "\n":
            line += 1
        if in_str:
            if esc:
                esc = False
            elif ch == "\\":
                esc = True
            elif ch == '"':
                in_str = False
            continue
        if ch == '"':
            in_str = True
        elif ch in "[{":
            depth += 1
            if ch == "{" and depth == 2:
                lines.append(line)
        elif ch in "]}":
            depth -= 1
    return lines


def number(raw: Any, file: str, line: int | None, field_name: str) -> Any:
    """A cell as a float (`1024.0`, `1e3`, `1,024` with a thousands comma are read), NOT_RUN for `0`/`-1`;
    InputError for anything that is not a number."""
    if isinstance(raw, bool):
        raise InputError([problem(file, line, field_name, f"{raw!r} is not a number")])
    if isinstance(raw, (int, float)):
        value = float(raw)
    else:
        text = str(raw).strip().replace(",", "") if re.fullmatch(r"\s*[0-9]{1,3}(,[0-9]{3})+(\.[0-9]*)?\s*",
                                                                      str(raw)) else str(raw).strip()
        if not _NUMBER.match(text):
            raise InputError([problem(file, line, field_name, f"{str(raw)!r} is not a number: a published cell "
                                      "must be a number, or 0 / -1 for a run that did not happen")])
        value = float(text)
    if value in (0.0, -1.0):
        return NOT_RUN
    if not math.isfinite(value):
        raise InputError([problem(file, line, field_name, f"{str(raw)!r} is not a finite number: a published "
                                  "figure cannot be infinite")])
    if value < 0:
        raise InputError([problem(file, line, field_name, f"{str(raw)!r}: a negative figure other than -1 "
                                  "cannot be a throughput or a time")])
    return value


def whole(value: float, file: str, line: int | None, field_name: str) -> int:
    """A count cell (`1024.0` is 1024); InputError when it has a fraction."""
    if value != int(value) or value < 1:
        raise InputError([problem(file, line, field_name, f"{value:g} is not a whole positive count")])
    return int(value)


def collect(items: Iterable[Any], step) -> tuple[list[Any], list[Problem]]:
    """Apply `step` to each item, gathering the InputErrors' problems instead of stopping at the first."""
    out, problems = [], []
    for item in items:
        try:
            got = step(item)
        except InputError as exc:
            problems += exc.problems
            continue
        if got is not None:
            out.append(got)
    return out, problems


def files_matching(folder: Path, pattern: str) -> list[str]:
    """Paths (relative, '/'-separated, sorted) of the files under `folder` matching a glob `pattern`."""
    return sorted(p.relative_to(folder).as_posix() for p in folder.glob(pattern) if p.is_file())


def device_table(table: dict[str, str], raw: str, file: str, line: int | None, field_name: str) -> str:
    """The normalized device name of a source's device string through the importer's explicit `table`
    (exact string, surrounding spaces ignored); an unknown string is an InputError, never a guess."""
    key = " ".join(raw.split())
    found = table.get(key)
    if found is None:
        raise InputError([problem(file, line, field_name, f"unknown device string {raw!r}: add it to the "
                                  "importer's device table with the device's normalized name (never guessed)")])
    return found

