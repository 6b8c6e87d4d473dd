"""A certified fast path for reading fragments: rtoml proposes the data, and the text must be what tomli reads
back as exactly that data.

Contributed files are judged by what tomli reads (`tomlio.parse_toml_bytes`): the verdict must not depend on
which parsers are installed. tomli is the larger part of the cost of validating a fragment, though, and rtoml
(compiled) reads the same text about four times faster. `certified_loads(text)` takes rtoml's data only when
the text is, byte for byte, `canonical(data)`: this module's own rendering of the data in the layout that
`tomli_w` writes (so that every fragment the runner writes qualifies). `canonical` renders only what tomli
reads back unambiguously, and as the same data:

- keys: bare keys only (ASCII letters, digits, `-`, `_`), never dotted;
- strings: basic strings escaped as JSON escapes them (`\\"`, `\\\\`, `\\n`, `\\t`, `\\uXXXX`...: TOML's basic
  string escapes mean the same); a text holding DEL (U+007F, which JSON leaves raw and TOML forbids) is
  never certified;
- integers as `repr` writes them; floats as `repr` writes them (`1e-05`, `-0.0`, `inf`: TOML floats, and
  `float()` of them is the same value; a NaN's sign would be lost, so a text holding a `nan` value, which
  `canonical` writes as `= nan` or `    nan,` at the end of a line, is never certified); `true` / `false`;
- datetimes in UTC only, as `str` writes them (`2026-11-09 16:36:00+00:00`, with microseconds when any);
- arrays of one scalar type, one item a line, each followed by a comma, the closing bracket on its own line;
- tables as `[a.b]` headers and arrays of tables as `[[a.b]]` headers, parents before children, a table's
  plain values before its sub-tables (the data's key order is the text's), no deeper than `max_depth`.

So tomli reads a certified text as the same keys in the same order with the same values and types (datetimes
carry another tzinfo class with the same offset, which `tomlio` turns into the same string); its strings hold
no unescaped quote, so their brackets are skipped by the bracket scan as tomli's tokenizer skips them, and
headers and arrays nest at most 2 deep. Anything else (a comment, `\\r\\n`, a quoted key, an inline table, a
local datetime, another layout) returns None, and the caller parses with tomli as before.
"""

from __future__ import annotations

import datetime as _dt
import operator
from json.encoder import encode_basestring
from typing import Any

try:  # compiled; optional: without it every text goes to tomli
    import rtoml as _rtoml
except ImportError:  # pragma: no cover - rtoml is a dependency
    _rtoml = None

_BARE_KEY_CHARS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_")
_UTC_OFFSET = _dt.timedelta(0)


class _NotCanonical(Exception):
    """The data has something `canonical` does not render."""


class _ArrayOfTables(Exception):
    """An array of tables met among a table's plain values."""


def certified_loads(text: str, max_depth: int) -> dict[str, Any] | None:
    """rtoml's data of `text` when `text == canonical(data)` (tomli reads it as the same data), else None."""
    if _rtoml is None or "\x7f" in text or "= nan\n" in text or " nan,\n" in text:
        return None
    try:
        doc = _rtoml.loads(text)
    except Exception:  # not TOML rtoml reads: tomli decides and describes it
        return None
    except BaseException as exc:  # a panic inside rtoml (pyo3's PanicException) must not end the validation
        if isinstance(exc, (KeyboardInterrupt, SystemExit)):
            raise
        return None
    return doc if type(doc) is dict and canonical(doc, max_depth) == text else None


def canonical(doc: dict[str, Any], max_depth: int) -> str | None:
    """The text `tomli_w.dumps` writes for `doc` (arrays of tables always as `[[...]]` headers, where tomli_w
    writes short ones inline), for the data described in the module docstring; else None."""
    out: list[str] = []
    try:
        _table(doc, "", False, out, 1, max_depth)
    except _NotCanonical:
        return None
    return "".join(out)


def _datetime(value: _dt.datetime) -> str:
    if value.tzinfo is None or value.utcoffset() != _UTC_OFFSET:
        raise _NotCanonical
    return str(value)


def _array(values: list) -> str:
    if not values:
        return "[]"
    kind = type(values[0])
    if kind is dict:
        raise _ArrayOfTables
    render = _SCALARS.get(kind)
    if render is None or set(map(type, values)) != {kind}:
        raise _NotCanonical
    return "[\n    " + ",\n    ".join(map(render, values)) + ",\n]"


# Exact types only: a subclass (or a type rtoml never returns) is not canonical.
_SCALARS: dict[type, Any] = {
    str: encode_basestring, int: int.__repr__, float: float.__repr__,
    bool: {True: "true", False: "false"}.__getitem__, _dt.datetime: _datetime}
_LITERALS: dict[type, Any] = {**_SCALARS, list: _array}
_LINE = "{} = {}\n".format
_call = getattr(operator, "call", None) or (lambda render, value: render(value))  # operator.call: Python 3.11+


def _table(table: dict[str, Any], name: str, in_array: bool, out: list[str], level: int, max_depth: int) -> None:
    """Append the lines of one table (its header, plain values, then sub-tables) as tomli_w writes them."""
    if level > max_depth or "" in table or not _BARE_KEY_CHARS.issuperset("".join(table)):
        raise _NotCanonical
    keys, values = list(table), list(table.values())
    types = list(map(type, values))
    first_table = types.index(dict) if dict in types else len(types)
    try:  # the plain values before the first table, rendered in C loops
        rendered = map(_call, map(_LITERALS.__getitem__, types[:first_table]), values[:first_table])
        lines = "\n".join(map(" = ".join, zip(keys[:first_table], rendered))) + "\n" if first_table else ""
    except KeyError:
        raise _NotCanonical from None
    except _ArrayOfTables:  # an array of tables before the first table: sort the values out one by one
        lines, first_table = "", 0
    tables: list[tuple[str, dict[str, Any], bool]] = []
    for k, v, t in zip(keys[first_table:], values[first_table:], types[first_table:]):
        if t is dict:
            tables.append((k, v, False))
        elif t is list and v and type(v[0]) is dict:
            if set(map(type, v)) != {dict}:
                raise _NotCanonical
            tables += [(k, sub, True) for sub in v]
        elif tables or t not in _LITERALS:  # a plain value after a table would be read into that table
            raise _NotCanonical
        else:
            lines += _LINE(k, _LITERALS[t](v))
    # tomli_w: a header for an element of an array of tables, and for a table with plain values or no sub-tables
    header = in_array or bool(name) and bool(lines or not tables)
    if header:
        out.append(f"[[{name}]]\n" if in_array else f"[{name}]\n")
    if lines:
        out.append(lines)
    blank = header or bool(lines)
    for k, sub, sub_in_array in tables:
        if blank:
            out.append("\n")
        blank = True
        _table(sub, f"{name}.{k}" if name else k, sub_in_array, out, level + 1, max_depth)
