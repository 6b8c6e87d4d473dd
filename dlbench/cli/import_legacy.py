"""`python tools/import_legacy.py`: a legacy-layout benchmark.toml as imported fragments."""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path

from ..contract.problems import display_path
from ..importers.common import write_valid
from ..importers.legacy import import_legacy
from ..store.dataset import Layout
from .common import add_root, guarded

DESCRIPTION = """Convert a benchmark file in the legacy layout (top-level tables keyed by a hardware slug,
each with name, type, a host table, devices and models with frameworks and libraries; the layout of
autumnai/deep-learning-benchmarks) into fragments with provenance.kind = "imported": one fragment per
hardware slug and framework setting (framework, version, libraries), one result per model with
forward_ms, backward_ms and the stated memory as peak_device_used_bytes. Units: memory sizes such as
8GB or 1750MB are binary (GiB, MiB: as RAM and GPU memory are sold and nvidia-smi reports them);
bandwidths such as 336.5GB/s are decimal (10^9 bytes/s, as vendors rate them). Every published value is
kept in provenance.original; what has no field in the schema is reported on stderr as FILE:LINE:
warning: ..., as is a fragment that could not be valid (then not written). The source is read from a
URL in the file's leading comments unless --source-title/--source-url are given; with neither, the
title says the source is unknown. Exit status: 0 fragments written (or, with --dry-run, would be);
1 the file is unusable (unreadable, not TOML, nothing importable); 2 a usage error."""


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="import_legacy.py", description=DESCRIPTION)
    p.add_argument("file", type=Path, metavar="FILE", help="the legacy benchmark.toml to import")
    add_root(p)
    p.add_argument("--out", type=Path, default=None, metavar="DIR",
                   help="where to write the fragments (default: ROOT/data/fragments)")
    p.add_argument("--source-title", default=None, metavar="TEXT",
                   help="name of the publication the file comes from (default: from the URL in its comments)")
    p.add_argument("--source-url", default=None, metavar="URL", help="address of the source (http or https)")
    p.add_argument("--published", default=None, metavar="DATE",
                   help="when the source published the figures: YYYY, YYYY-MM or YYYY-MM-DD (default: absent)")
    p.add_argument("--dry-run", action="store_true", help="report what would be written, write nothing")
    return p


def run(argv: list[str] | None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.source_url is not None and not re.fullmatch(r"https?://\S+", args.source_url):
        parser.error(f"--source-url {args.source_url!r}: give an http:// or https:// address")
    if args.published is not None and not re.fullmatch(r"[0-9]{4}(-[0-9]{2}(-[0-9]{2})?)?", args.published):
        parser.error(f"--published {args.published!r}: write YYYY, YYYY-MM or YYYY-MM-DD")
    if args.source_title is not None and not args.source_title.strip():
        parser.error("--source-title must not be empty")
    if args.file.is_dir():
        parser.error(f"{args.file} is a folder: give the legacy .toml file")
    display = display_path(args.file)
    result = import_legacy(args.file, display, args.source_title, args.source_url, args.published)
    out_dir = args.out if args.out is not None else Layout(args.root).fragments
    if write_valid(result, out_dir, args.dry_run) == 0:
        print(f"{display}: nothing imported: see the warnings above", file=sys.stderr)
        return 1
    return 0


def main(argv: list[str] | None = None) -> int:
    return guarded(lambda: run(argv))


if __name__ == "__main__":
    sys.exit(main())
