"""The published sources this project imports, registered in one place.

A source is one module of `dlbench/importers/` that exposes `SOURCES`, a tuple of `Source`: its name on the
command line (`tools/import_published.py NAME FOLDER`), the repository it reads, the files it reads inside a
checkout of that repository, and `read`, which turns the checkout into runs (all or nothing: InputError).
A catalogue source (Epoch AI's hardware table) has `kind = "catalogue"` and writes the device catalogue's
imported part instead of fragments (`apply`).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from .published import Pin, Reading


@dataclass(frozen=True)
class Source:
    name: str                                    # command-line name, e.g. "timm"
    repository: str                              # owner/name it reads
    description: str                             # one line for --help
    files: str                                   # which files of the checkout it reads (for --help)
    pinned: str                                  # the commit this project's dataset was imported from
    # The runs (JSON form, run_id set) and what was left out; InputError with every problem.
    read: Callable[[Path, Pin], Reading] | None = None
    kind: str = "runs"                           # or "catalogue"
    # A catalogue source: apply(folder, pin, root, dry_run) -> lines to print; InputError on bad input.
    apply: Callable[..., list[str]] | None = None


def registry() -> dict[str, Source]:
    """Every registered source by name (modules imported on first use: each is independent)."""
    from . import epoch, lambda_pytorch, lambda_tensorflow, mlperf, timm
    found: dict[str, Source] = {}
    for module in (timm, lambda_pytorch, lambda_tensorflow, mlperf, epoch):
        for source in module.SOURCES:
            found[source.name] = source
    return found
