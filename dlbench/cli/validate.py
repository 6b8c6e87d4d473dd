"""`python tools/validate.py`: check fragments and the merged dataset against the schema and the rules."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from ..contract.problems import Problem, display_path, github_wanted, report
from ..contract.validate import FileResult, validate_dataset, validate_fragments
from ..store.dataset import DatasetError, Layout, fragment_paths, ids_in
from ..store.parts import canonical_files
from .common import add_github, add_root, guarded

DESCRIPTION = """Validate benchmark result files. With no FILE, validates every file in data/fragments/
and every canonical file of the dataset (data/benchmark.toml, its closed parts, data/imported/**.toml). A
fragment must follow schema/run.schema.json, be named <run_id>.toml with a run_id that matches its content,
have no time in the future, phases that fit in the total, and must not repeat a run already in the dataset. Every problem is printed to stderr as FILE:LINE: message
(or FILE: field: message). Exit status: 0 all valid, 1 a problem found, 2 a usage error."""


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="validate.py", description=DESCRIPTION)
    p.add_argument("files", nargs="*", type=Path, metavar="FILE",
                   help="fragment files (or a benchmark.toml) to check; default: all of data/")
    add_root(p)
    add_github(p)
    p.add_argument("--jobs", type=int, default=None, metavar="N",
                   help="worker processes for many files (default: one per CPU)")
    p.add_argument("-q", "--quiet", action="store_true", help="print nothing when all files are valid")
    return p


def run(argv: list[str] | None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    layout = Layout(args.root)
    missing = [f for f in args.files if not f.exists()]
    if missing:
        parser.error(f"no such file: {', '.join(map(str, missing))}")
    if args.jobs is not None and args.jobs < 1:
        parser.error("--jobs must be at least 1")
    if not args.files and not layout.data.is_dir():
        parser.error(f"{layout.data}: no data/ folder here; run from the repository root, pass --root or FILEs")
    canonical = [layout.root / rel for rel in canonical_files(layout.root)]
    parts = {p.resolve() for p in canonical}
    if args.files:
        datasets = [f for f in args.files if f.name == "benchmark.toml" or f.resolve() in parts]
        fragments = [f for f in args.files if f not in datasets]
    else:      # every fragment and every canonical file: told apart by where they are, no path resolved
        datasets, fragments = canonical, fragment_paths(layout)
    files = args.files or fragments + datasets
    results: list[FileResult] = [validate_dataset(f) for f in datasets]
    known: dict[str, str] = {}
    if fragments:
        dataset_name = display_path(layout.toml)
        checked = {f.resolve(): r for r, f in zip(results, datasets) if f.resolve() in parts}
        if parts and set(checked) == parts:      # every part was read just now: its ids are known
            for path, res in checked.items():
                known.update(dict.fromkeys(res.ids, display_path(path)))
        else:
            try:
                known = ids_in(layout)
            except DatasetError as exc:
                results.append(FileResult(dataset_name, problems=[Problem(
                    dataset_name, None, None, f"cannot read the dataset to look for repeated runs: {exc}", "dataset")]))
    results += validate_fragments(fragments, known, jobs=args.jobs, keep_runs=False)
    problems = [p for r in results for p in r.problems]
    report([p for r in results for p in r.notices], sys.stderr, github_wanted(args.github))
    n = report(problems, sys.stderr, github_wanted(args.github))
    bad_files = len({p.file for p in problems})
    if n:
        print(f"{n} problem{'s' * (n != 1)} in {bad_files} of {len(files)} file{'s' * (len(files) != 1)}")
        return 1
    if not args.quiet:
        print(f"{len(files)} file{'s' * (len(files) != 1)} valid")
    return 0


def main(argv: list[str] | None = None) -> int:
    return guarded(lambda: run(argv))


if __name__ == "__main__":
    sys.exit(main())
