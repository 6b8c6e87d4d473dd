"""Problems found in input files, and how they are reported.

Every check returns `Problem`s instead of raising, so that every problem in every file is reported at
once. A problem names the file, the line where it is known, otherwise the field path, and says what to do.
"""

from __future__ import annotations

import os
import unicodedata
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, TextIO


@dataclass(frozen=True, order=True)
class Problem:
    file: str
    line: int | None
    field: str | None
    message: str
    code: str = "invalid"
    severity: str = "error"   # "warning": reported, never a failure (such as `unverified-device`)

    def format(self) -> str:
        """`FILE:LINE: field: message`, or `FILE: field: message` when the line is not known; always one line
        of printable text (see `printable`), whatever the file name or an echoed value holds."""
        file = printable_path(self.file)
        where = f"{file}:{self.line}:" if self.line else f"{file}:"
        field = f" {printable(self.field)}:" if self.field else ""
        level = " warning:" if self.severity == "warning" else ""
        return f"{where}{field}{level} {printable(self.message)}"

    def github(self) -> str:
        """The same problem as a GitHub Actions annotation."""
        props = [f"file={_escape_property(printable_path(self.file))}"]
        if self.line:
            props.append(f"line={self.line}")
        props.append(f"title={_escape_property(self.code)}")
        text = f"{self.field}: {self.message}" if self.field else self.message
        return f"::{'warning' if self.severity == 'warning' else 'error'} {','.join(props)}::{_escape_data(printable(text))}"


_NAMED = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}
_HIDDEN = frozenset({"Cc", "Cf", "Zl", "Zp", "Cs", "Co", "Cn"})


def printable(text: str) -> str:
    """`text` safe to print on a terminal or in a CI log: control characters (ESC, BEL, NUL, newlines),
    format characters (bidi overrides, zero-width marks), line and paragraph separators and unassigned code
    points are written as escapes (`\\n`, `\\u202e`), so a value can neither start a new log line (a GitHub
    workflow command such as `::error`) nor drive the terminal."""
    if text.isprintable():
        return text
    return "".join(_NAMED.get(c) or (f"\\u{ord(c):04x}" if ord(c) < 0x10000 else f"\\U{ord(c):08x}")
                   if unicodedata.category(c) in _HIDDEN else c for c in text)


def printable_path(path: str) -> str:
    """A path for a diagnostic line: `printable`, and prefixed `./` when it would start with `::` (a line that
    starts with `::` is a GitHub workflow command)."""
    text = printable(path)
    return f"./{text}" if text.startswith("::") else text


def _escape_data(s: str) -> str:
    return s.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _escape_property(s: str) -> str:
    return _escape_data(s).replace(":", "%3A").replace(",", "%2C")


def display_path(path: Path | str) -> str:
    """A path as the user would type it: relative to the working directory when below it."""
    cwd = os.getcwd()  # already free of symbolic links
    full = os.path.abspath(path)
    if full == cwd:
        return "."
    base = cwd if cwd.endswith(os.sep) else cwd + os.sep
    return full[len(base):] if full.startswith(base) else str(path)


def github_wanted(flag: bool) -> bool:
    return flag or os.environ.get("GITHUB_ACTIONS") == "true"


def report(problems: Iterable[Problem], stream: TextIO, github: bool = False) -> int:
    """Write problems to `stream` (sorted, one a line); return how many there were."""
    n = 0
    for p in sorted(problems, key=lambda p: (p.file, p.line or 0, p.field or "", p.message)):
        stream.write(p.format() + "\n")
        if github:
            stream.write(p.github() + "\n")
        n += 1
    return n
