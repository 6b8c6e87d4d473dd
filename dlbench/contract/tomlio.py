"""Reading TOML input safely, and the TOML/JSON type bridge.

TOML has types that JSON lacks (dates and times, `nan`, `inf`) and integers beyond what JavaScript can
hold. A generic JSON Schema validator cannot see these, so they are checked here, before the schema,
and datetimes are turned into the ISO-8601 strings that the schema and `benchmark.json` use.
"""

from __future__ import annotations

import datetime as _dt
import math
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import tomli
import tomli_w

from .problems import Problem

try:  # a compiled parser, about four times faster than tomli; optional, tomli gives the same data
    import rtoml as _fast_toml
except ImportError:  # pragma: no cover - rtoml is a dependency, but a missing wheel must not break validation
    _fast_toml = None

MAX_FILE_BYTES = 1024 * 1024
MAX_SAFE_INTEGER = 2**53 - 1
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


def read_toml(path: Path, display: str, max_bytes: int | None = MAX_FILE_BYTES) -> Loaded:
    """Read one TOML file; never raises for bad content, returns problems instead."""
    if path.suffix != ".toml":
        return Loaded(display, None, problems=[Problem(
            display, None, None,
            "not a .toml file: results are TOML files (fragments are named <run_id>.toml); "
            "rename it or remove it from data/fragments/", "not-toml")])
    try:
        raw = path.read_bytes() if max_bytes is None else _read_limited(path, max_bytes)
    except OSError as exc:
        return Loaded(display, None, problems=[Problem(display, None, None, f"cannot read the file: {exc.strerror or exc}", "unreadable")])
    if raw is None:
        return Loaded(display, None, problems=[Problem(
            display, None, None,
            f"file is larger than {max_bytes // 1024} KiB: a fragment holds one run; split it or remove bulky fields",
            "too-large")])
    return parse_toml_bytes(raw, display)


def _read_limited(path: Path, max_bytes: int) -> bytes | None:
    with path.open("rb") as f:
        raw = f.read(max_bytes + 1)
    return None if len(raw) > max_bytes else raw


def parse_toml_bytes(raw: bytes, display: str) -> Loaded:
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        return Loaded(display, None, problems=[Problem(
            display, line, None,
            f"not valid UTF-8 (byte 0x{raw[exc.start]:02x} at offset {exc.start}): save the file as UTF-8",
            "not-utf8")])
    if not text.strip():
        return Loaded(display, None, text, [Problem(
            display, None, None, "file is empty: a fragment must hold one run as written by runners/run.py", "empty")])
    try:
        doc = loads(text)
    except tomli.TOMLDecodeError as exc:
        line = getattr(exc, "lineno", None)
        col = getattr(exc, "colno", None)
        msg = getattr(exc, "msg", None) or str(exc)
        where = f" (column {col})" if col else ""
        return Loaded(display, None, text, [Problem(
            display, line, None, f"TOML syntax error{where}: {msg}; fix the TOML syntax", "toml-syntax")])
    loaded = Loaded(display, None, text)
    loaded.data = _to_json_form(doc, (), loaded)
    return loaded


def loads(text: str) -> dict[str, Any]:
    """Parse TOML text: with rtoml when it accepts the text, otherwise with tomli.

    tomli decides every document rtoml rejects (and values rtoml cannot hold, such as 1e400), so a
    syntax error always comes from tomli, with its line and column. Both keep the document's key order.
    """
    if _fast_toml is not None:
        try:
            return _fast_toml.loads(text)
        except Exception:  # rtoml's errors lack line numbers: let tomli find and describe the problem
            pass
    return tomli.loads(text)


def _plain(v: Any) -> bool:
    """A value that JSON holds as it is: a string, boolean, finite float or safe integer."""
    t = type(v)
    return (t is str or t is bool or (t is float and -math.inf < v < math.inf)
            or (t is int and -MAX_SAFE_INTEGER <= v <= MAX_SAFE_INTEGER))


def _to_json_form(value: Any, path: tuple, loaded: Loaded) -> Any:
    """Check TOML-only values and convert datetimes to ISO strings; record problems on `loaded`.

    Tables and arrays are converted in place (they come fresh from the parser); plain values are
    passed over without building their field path, which keeps this cheap for large files.
    """
    if type(value) is dict:
        for k, v in value.items():
            if not _plain(v):
                value[k] = _to_json_form(v, path + (k,), loaded)
        return value
    if type(value) is list:
        for i, v in enumerate(value):
            if not _plain(v):
                value[i] = _to_json_form(v, path + (i,), loaded)
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
