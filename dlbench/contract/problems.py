"""Problems found in input files, and how they are reported.

Every check returns `Problem`s instead of raising, so that every problem in every file is reported at
once. A problem names the file, the line where it is known, otherwise the field path, and says what to do.
"""

from __future__ import annotations

import os
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

    def format(self) -> str:
        """`FILE:LINE: field: message`, or `FILE: field: message` when the line is not known."""
        where = f"{self.file}:{self.line}:" if self.line else f"{self.file}:"
        field = f" {self.field}:" if self.field else ""
        return f"{where}{field} {self.message}"

    def github(self) -> str:
        """The same problem as a GitHub Actions annotation."""
        props = [f"file={_escape_property(self.file)}"]
        if self.line:
            props.append(f"line={self.line}")
        props.append(f"title={_escape_property(self.code)}")
        text = f"{self.field}: {self.message}" if self.field else self.message
        return f"::error {','.join(props)}::{_escape_data(text)}"


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
