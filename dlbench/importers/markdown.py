"""Just enough Markdown for the seed documents: headed sections, pipe tables and `Key: value` lines.

Every piece keeps its 1-based line number so that importers can say where a problem is.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass, field

_HEADING = re.compile(r"^(#{1,6})\s+(.*?)\s*#*\s*$")
_SEPARATOR_CELL = re.compile(r"^:?-{2,}:?$")
_BREAK = re.compile(r"<br\s*/?>", re.I)
_KEY_VALUE = re.compile(r"^([A-Za-z][A-Za-z0-9 ]*?)\s*:\s*(.+)$")
_EMPHASIS = re.compile(r"^(?:___|\*\*\*|\*\*|__)(.+?)(?:___|\*\*\*|\*\*|__)$")


@dataclass
class Line:
    number: int
    text: str


@dataclass
class Section:
    level: int            # 0 for the text before the first heading
    title: str
    line: int
    lines: list[Line] = field(default_factory=list)


@dataclass
class Row:
    line: int
    cells: list[str]


@dataclass
class Table:
    line: int
    header: list[str]
    rows: list[Row]


def sections(text: str) -> list[Section]:
    """The document split at every ATX heading (`#` to `######`), outside fenced code blocks."""
    out = [Section(0, "", 1)]
    fenced = False
    for i, raw in enumerate(text.splitlines(), start=1):
        if raw.lstrip().startswith("```"):
            fenced = not fenced
        m = None if fenced else _HEADING.match(raw)
        if m:
            out.append(Section(len(m.group(1)), m.group(2).strip(), i))
        else:
            out[-1].lines.append(Line(i, raw))
    return out


def split_cells(line: str) -> list[str]:
    """The cells of one pipe-table line; `\\|` is a literal pipe."""
    body = line.strip()
    if body.startswith("|"):
        body = body[1:]
    if body.endswith("|") and not body.endswith("\\|"):
        body = body[:-1]
    return [c.strip().replace("\\|", "|") for c in re.split(r"(?<!\\)\|", body)]


def _is_separator(line: str) -> bool:
    cells = split_cells(line)
    return "|" in line and bool(cells) and all(_SEPARATOR_CELL.match(c.replace(" ", "")) for c in cells)


def tables(lines: list[Line]) -> list[Table]:
    """Pipe tables: a header line, a `---` separator line, then rows up to the first line without a pipe."""
    found: list[Table] = []
    i = 0
    while i + 1 < len(lines):
        head, sep = lines[i], lines[i + 1]
        if "|" in head.text and _is_separator(sep.text) and not _is_separator(head.text):
            table = Table(head.number, split_cells(head.text), [])
            i += 2
            while i < len(lines) and "|" in lines[i].text and lines[i].text.strip():
                table.rows.append(Row(lines[i].number, split_cells(lines[i].text)))
                i += 1
            found.append(table)
        else:
            i += 1
    return found


def plain(text: str) -> str:
    """A line without `<br />`, HTML entities or surrounding emphasis markers."""
    text = html.unescape(_BREAK.sub("", text)).strip()
    m = _EMPHASIS.match(text)
    return m.group(1).strip() if m else text


def blocks(lines: list[Line]) -> list[tuple[Line, list[Line]]]:
    """Lines grouped under emphasised labels such as `___Machine 1___`: (label line, following lines)."""
    out: list[tuple[Line, list[Line]]] = []
    for line in lines:
        raw = html.unescape(_BREAK.sub("", line.text)).strip()
        if _EMPHASIS.match(raw):
            out.append((Line(line.number, plain(raw)), []))
        elif out and raw:
            out[-1][1].append(Line(line.number, raw))
    return out


def key_value(line: Line) -> tuple[str, str] | None:
    """`CPU: Core i7 7700` -> ('CPU', 'Core i7 7700'); None for another line."""
    m = _KEY_VALUE.match(plain(line.text))
    return (m.group(1).strip(), m.group(2).strip()) if m else None
