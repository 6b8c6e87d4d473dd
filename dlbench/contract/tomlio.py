"""Reading TOML input safely, and the TOML/JSON type bridge.

TOML has types that JSON lacks (dates and times, `nan`, `inf`) and integers beyond what JavaScript can
hold. A generic JSON Schema validator cannot see these, so they are checked here, before the schema,
and datetimes are turned into the ISO-8601 strings that the schema and `benchmark.json` use.
"""

from __future__ import annotations

import datetime as _dt
import errno
import math
import os
import re
import stat
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import tomli
import tomli_w

from .problems import Problem
from .tomlfast import certified_loads

try:  # a compiled parser, about four times faster than tomli; optional, tomli gives the same data
    import rtoml as _fast_toml
except ImportError:  # pragma: no cover - rtoml is a dependency, but a missing wheel must not break validation
    _fast_toml = None

MAX_FILE_BYTES = 256 * 1024  # a fragment holds one run of at most 100 results: a few KiB each
# Deepest nesting of arrays and tables accepted (a fragment needs 5: results[].stats.<metric>.samples[]; the
# merged dataset one more). Deeper input is refused before any recursive step can fail on it.
MAX_DEPTH = 16
# What the bracket scan skips: strings and comments (a bracket inside them does not nest anything). Without
# a multi-line string in the text (no `"""` or `'''`), the first two alternatives can never match and the
# shorter pattern finds the same strings and comments, faster.
_SKIPPED = (
    r'"""(?:[^\\]|\\.)*?"""',   # multi-line basic string
    r"'''.*?'''",                # multi-line literal string
    r'"[^"\\\n]*(?:\\.[^"\\\n]*)*"',   # basic string (unrolled: the same strings as "(?:[^"\\\n]|\\.)*")
    r"'[^'\n]*'",                # literal string
    r"#[^\n]*",                  # comment
)
_STRINGS_AND_COMMENTS = re.compile("|".join(_SKIPPED), re.DOTALL)
_ONE_LINE_STRINGS_AND_COMMENTS = re.compile("|".join(_SKIPPED[2:]), re.DOTALL)
_BRACKETS = re.compile(r"[\[\]{}]")
MAX_SAFE_INTEGER = 2**53 - 1
_NOFOLLOW = getattr(os, "O_NOFOLLOW", 0)
# Fields that are TOML datetimes in a record (kept as such when written back to TOML).
DATETIME_FIELDS = ("started_at", "finished_at")


@dataclass
class Loaded:
    """A TOML file read as JSON-compatible data, with its text for locating fields."""

    path: str
    data: dict[str, Any] | None
    text: str = ""
    problems: list[Problem] = field(default_factory=list)

    def line_of(self, path: tuple) -> int | None:
        return line_of(self.text, path)


def read_toml(path: Path, display: str, max_bytes: int | None = MAX_FILE_BYTES, fast: bool = False) -> Loaded:
    """Read one TOML file; never raises for bad content, returns problems instead (`fast`: see
    `parse_toml_bytes`)."""
    if path.suffix != ".toml":
        return Loaded(display, None, problems=[Problem(
            display, None, None,
            "not a .toml file: results are TOML files (fragments are named <run_id>.toml); "
            "rename it or remove it from data/fragments/", "not-toml")])
    symlink = Loaded(display, None, problems=[Problem(
        display, None, None, "is a symbolic link: a fragment must be a regular file; commit the file itself",
        "symlink")])
    if not _NOFOLLOW and path.is_symlink():  # with O_NOFOLLOW, opening a link fails and is reported below
        return symlink
    try:
        raw = _read_limited(path, max_bytes)
    except OSError as exc:
        if path.is_symlink():
            return symlink
        return Loaded(display, None, problems=[Problem(
            display, None, None, f"cannot read the file: {exc.strerror or exc}", "unreadable")])
    if raw is None:
        return Loaded(display, None, problems=[Problem(
            display, None, None,
            f"file is larger than {max_bytes // 1024} KiB: a fragment holds one run; split it or remove bulky fields",
            "too-large")])
    return parse_toml_bytes(raw, display, fast)


def _read_limited(path: Path, max_bytes: int | None) -> bytes | None:
    """The file's bytes (None when over `max_bytes`), opened without following a symbolic link: a link in a
    pull request could point anywhere on the machine that checks it (OSError ELOOP, reported as such)."""
    fd = os.open(path, os.O_RDONLY | _NOFOLLOW)
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise IsADirectoryError(errno.EISDIR, "not a regular file")
        limit = None if max_bytes is None else max_bytes + 1
        chunks, size = [], 0
        while limit is None or size < limit:  # until the end of the file (an empty read), or past the limit
            want = max(info.st_size + 1 - size, 1 << 16)
            chunk = os.read(fd, want if limit is None else min(want, limit - size))
            if not chunk:
                break
            chunks.append(chunk)
            size += len(chunk)
    finally:
        os.close(fd)
    raw = chunks[0] if len(chunks) == 1 else b"".join(chunks)
    return None if max_bytes is not None and len(raw) > max_bytes else raw


def parse_toml_bytes(raw: bytes, display: str, fast: bool = False) -> Loaded:
    """Parse TOML bytes into a `Loaded` (problems instead of exceptions).

    Contributed files (`fast=False`) are judged by what tomli reads, so the verdict never depends on which
    parsers are installed: rtoml's reading is taken only where `tomlfast.certified_loads` shows the text to be
    what tomli reads as the same data (the layout the runner writes); `fast=True` lets rtoml parse files this
    project wrote itself (the merged dataset). A leading byte-order mark is ignored by both. Nesting deeper
    than MAX_DEPTH is refused.
    """
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        return Loaded(display, None, problems=[Problem(
            display, line, None,
            f"not valid UTF-8 (byte 0x{raw[exc.start]:02x} at offset {exc.start}): save the file as UTF-8",
            "not-utf8")])
    text = text.removeprefix("\ufeff")
    if not text.strip():
        return Loaded(display, None, text, [Problem(
            display, None, None, "file is empty: a fragment must hold one run as written by runners/run.py", "empty")])
    too_deep = Loaded(display, None, text, [Problem(
        display, None, None, f"arrays or tables are nested more than {MAX_DEPTH} levels deep: a fragment needs "
        "at most 5; write the run as runners/run.py does", "too-deep")])
    # A text in the layout the runner writes is read by rtoml and certified to be what tomli reads (tomlfast);
    # its brackets nest at most 2 deep, so the scan below would pass it.
    doc = None if fast else certified_loads(text, MAX_DEPTH)
    if doc is None:
        if not fast and _bracket_depth(text) > MAX_DEPTH:
            return too_deep
        try:
            doc = loads(text, fast)
        except RecursionError:
            return too_deep
        except tomli.TOMLDecodeError as exc:
            line = getattr(exc, "lineno", None)
            col = getattr(exc, "colno", None)
            msg = getattr(exc, "msg", None) or str(exc)
            where = f" (column {col})" if col else ""
            return Loaded(display, None, text, [Problem(
                display, line, None, f"TOML syntax error{where}: {msg}; fix the TOML syntax", "toml-syntax")])
    loaded = Loaded(display, None, text)
    try:
        loaded.data = _to_json_form(doc, (), loaded)
    except _TooDeep:  # dotted keys (a.b.c...) nest without brackets
        return too_deep
    return loaded


def _bracket_depth(text: str) -> int:
    """The deepest nesting of `[` and `{` in TOML text, strings and comments skipped (no recursion).

    Strings and comments are removed first (scanning from the left, as a tokenizer does: a bracket is never
    the start of one), then the brackets left are counted."""
    skipped = _STRINGS_AND_COMMENTS if '"""' in text or "'''" in text else _ONE_LINE_STRINGS_AND_COMMENTS
    depth = deepest = 0
    for c in _BRACKETS.findall(skipped.sub("", text)):
        if c == "[" or c == "{":
            depth += 1
            if depth > deepest:
                deepest = depth
        elif depth:
            depth -= 1
    return deepest


def loads(text: str, fast: bool = True) -> dict[str, Any]:
    """Parse TOML text: with rtoml when `fast` and it accepts the text, otherwise with tomli.

    tomli decides every document rtoml rejects (and values rtoml cannot hold, such as 1e400), so a
    syntax error always comes from tomli, with its line and column. Both keep the document's key order.
    """
    if fast and _fast_toml is not None:
        try:
            return _fast_toml.loads(text)
        except Exception:  # rtoml's errors lack line numbers: let tomli find and describe the problem
            pass
    return tomli.loads(text)


class _TooDeep(Exception):
    """Tables and arrays nest deeper than MAX_DEPTH (raised before the walk recurses any further)."""


_INF = math.inf
_FLOATS_ONLY = {float}


def _to_json_form(value: Any, path: tuple, loaded: Loaded, level: int = 1) -> Any:
    """Check TOML-only values and convert datetimes to ISO strings; record problems on `loaded`.

    Tables and arrays are converted in place (they come fresh from the parser); plain values (a string,
    boolean, finite float or safe integer: JSON holds them as they are) are passed over without building
    their field path, which keeps this cheap for large files.
    A table or array nested deeper than MAX_DEPTH (`value` is at `level`, the document at 1) raises
    `_TooDeep`, so the recursion never goes further than that.
    """
    t = type(value)
    if t is dict or t is list:
        if level > MAX_DEPTH:
            raise _TooDeep
        if t is list:
            # An array of floats (epoch times, samples): their sum is finite only when every one is.
            if value and set(map(type, value)) == _FLOATS_ONLY:
                total = sum(value)
                if -_INF < total < _INF:
                    return value
            items: Any = enumerate(value)
        else:
            items = value.items()
        for k, v in items:
            tv = type(v)
            if not (tv is str or tv is bool or (tv is float and -_INF < v < _INF)
                    or (tv is int and -MAX_SAFE_INTEGER <= v <= MAX_SAFE_INTEGER)):
                value[k] = _to_json_form(v, path + (k,), loaded, level + 1)
        return value
    if isinstance(value, bool):
        return value
    if isinstance(value, float):
        if not math.isfinite(value):
            loaded.problems.append(Problem(
                loaded.path, loaded.line_of(path), dotted(path),
                f"{value!r} is not allowed (JSON has no NaN or Infinity): leave the field out when there is no value",
                "non-finite"))
        return value
    if isinstance(value, int):
        if abs(value) > MAX_SAFE_INTEGER:
            loaded.problems.append(Problem(
                loaded.path, loaded.line_of(path), dotted(path),
                f"integer {value} is beyond JavaScript's safe range (±{MAX_SAFE_INTEGER}): "
                "check the value or its unit", "unsafe-integer"))
        return value
    if isinstance(value, _dt.datetime):
        if value.tzinfo is None or value.utcoffset() != _dt.timedelta(0):
            loaded.problems.append(Problem(
                loaded.path, loaded.line_of(path), dotted(path),
                f"datetime {value.isoformat()} must be in UTC with a trailing Z, e.g. 2026-11-23T09:30:00Z",
                "datetime-not-utc"))
        return format_datetime(value)
    if isinstance(value, (_dt.date, _dt.time)):
        loaded.problems.append(Problem(
            loaded.path, loaded.line_of(path), dotted(path),
            f"a TOML {type(value).__name__} ({value.isoformat()}) is not allowed here: "
            "write a UTC datetime such as 2026-11-23T09:30:00Z, or a string", "toml-only-type"))
        return value.isoformat()
    return value


def format_datetime(value: _dt.datetime) -> str:
    """ISO-8601 UTC with a Z, seconds always present, microseconds only when non-zero."""
    if value.tzinfo is not None:
        value = value.astimezone(_dt.timezone.utc).replace(tzinfo=None)
    return value.isoformat(timespec="microseconds" if value.microsecond else "seconds") + "Z"


def parse_datetime(text: str) -> _dt.datetime:
    return _dt.datetime.fromisoformat(text.replace("Z", "+00:00"))


def to_toml_form(run: dict[str, Any]) -> dict[str, Any]:
    """The record as it is written to TOML: its datetime fields as TOML datetimes."""
    out = dict(run)
    for key in DATETIME_FIELDS:
        if isinstance(out.get(key), str):
            out[key] = parse_datetime(out[key])
    return out


def dumps_table(data: dict[str, Any]) -> str:
    return tomli_w.dumps(data)


def dotted(path: tuple) -> str:
    """`('results', 0, 'metrics', 'accuracy')` -> `results[0].metrics.accuracy`."""
    out = ""
    for part in path:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += ("." if out else "") + str(part)
    return out or "(top level)"


def line_of(text: str, path: tuple) -> int | None:
    """Line where the field at `path` is written, when its key appears exactly once in the file."""
    keys = [p for p in path if isinstance(p, str)]
    if not keys or not text:
        return None
    key = keys[-1]
    pattern = re.compile(rf'^[ \t]*(?:"{re.escape(key)}"|{re.escape(key)})[ \t]*=', re.MULTILINE)
    hits = [m.start() for m in pattern.finditer(text)]
    if len(hits) != 1:
        header = re.compile(rf'^[ \t]*\[\[?[^\]\n]*\b{re.escape(key)}\]\]?[ \t]*(#.*)?$', re.MULTILINE)
        hits = [m.start() for m in header.finditer(text)]
        if len(hits) != 1:
            return None
    return text.count("\n", 0, hits[0]) + 1
