"""`python tools/import_seeds.py`: the seed documents' published result tables as imported fragments."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from ..contract.problems import display_path
from ..importers.common import ImportResult, write_valid
from ..importers.seeds import SEEDS, import_seed, seed_files
from ..store.dataset import Layout
from .common import add_root, guarded

DESCRIPTION = f"""Import the result tables of the seed documents (the Markdown READMEs this project grew
from) as fragments with provenance.kind = "imported": the source is named in provenance.source, the raw
published cells are kept in provenance.original, and nothing the source did not publish is filled in.
A document is recognised by its first heading (known: {', '.join(repr('# ' + k) for k in SEEDS)}).
Every fragment is validated before it is written; one that cannot be valid (for instance because the
schema requires a value the source does not publish) is reported and not written. What could not be
mapped is reported on stderr as FILE:LINE: warning: .... Run `python tools/merge.py` afterwards.
Exit status: 0 at least one fragment written (or, with --dry-run, would be); 1 nothing imported; 2 a
usage error."""


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="import_seeds.py", description=DESCRIPTION)
    p.add_argument("paths", nargs="+", type=Path, metavar="SEED",
                   help="seed Markdown files, or folders whose *.md files (except README.md) are read")
    add_root(p)
    p.add_argument("--out", type=Path, default=None, metavar="DIR",
                   help="where to write the fragments (default: ROOT/data/fragments)")
    p.add_argument("--dry-run", action="store_true", help="report what would be written, write nothing")
    return p


def run(argv: list[str] | None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    missing = [str(p) for p in args.paths if not p.exists()]
    if missing:
        parser.error(f"no such file or folder: {', '.join(missing)}")
    files = seed_files(args.paths)
    if not files:
        parser.error("no *.md seed document in the folder(s) given")
    total = ImportResult()
    for path in files:
        total.extend(import_seed(path, display_path(path)))
    out_dir = args.out if args.out is not None else Layout(args.root).fragments
    if write_valid(total, out_dir, args.dry_run) == 0:
        print("nothing imported: see the warnings above", file=sys.stderr)
        return 1
    return 0


def main(argv: list[str] | None = None) -> int:
    return guarded(lambda: run(argv))


if __name__ == "__main__":
    sys.exit(main())
