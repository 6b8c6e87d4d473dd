#!/usr/bin/env python3
"""Benchmark: validating many fragments, and merging one new fragment into a large dataset.

Generates synthetic valid runs (dlbench.store.synthetic) in a temporary folder, then measures, in seconds:

  (a) validating --fragments fragment files (default 10,000) with `tools/validate.py` in a subprocess
      (what a user or CI runs, interpreter start included), and in-process through the same CLI code;
  (b) merging ONE new fragment into a dataset of each --runs size (default 25,000, 50,000, 100,000) with
      `tools/merge.py` in a subprocess: validate, append to data/benchmark.toml, regenerate the JSON beside
      each canonical file and every other generated file (dlbench.store.outputs.GENERATORS). The synthetic
      dataset is a mix as the published imports make it: 70 % imported runs spread over 20 source files
      (data/imported/, `synthetic.imported_run`) and 30 % measured runs (data/benchmark.toml,
      `synthetic.synthetic_run`), written with the size cap (dlbench.store.parts.MAX_PART_BYTES), and the
      largest committed file below data/ (path and bytes) is printed for each size;
  (c) how (b) grows with the dataset size (seconds per 1,000 runs), and, for the largest dataset, the
      share of each phase of the merge (measured in-process on a copy).

  (d) with --real-root PATH: merging one measured fragment into a copy of that repository's dataset
      (its data/, catalogue/ and schema/ copied to the temporary folder): "the dataset with every import in it".

Prints a table with the measured wall-clock and CPU seconds and their ratio to the targets. Targets (2-core machine):
validate 10,000 fragments < 3 s; merge one fragment into 100,000 runs < 15 s, with no committed file over
50 MB; merge one fragment into the real dataset < 5 s. Exit status 0 when every target is met, 1 when one is
missed, 2 for a usage error. Setting up a 100,000-run dataset takes a minute or two and about 1 GB of disk in
the temporary folder (removed at the end unless --keep).
"""

from __future__ import annotations

import argparse
import cProfile
import os
import pstats
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from dlbench.cli import validate as validate_cli  # noqa: E402
from dlbench.contract import fragment  # noqa: E402
from dlbench.store import merge as merging  # noqa: E402
from dlbench.store import outputs  # noqa: E402
from dlbench.store.dataset import Layout  # noqa: E402
from dlbench.store.synthetic import imported_run, synthetic_run, write_dataset  # noqa: E402

VALIDATE_TARGET_S = 3.0
VALIDATE_TARGET_FILES = 10_000
MERGE_TARGET_S = 15.0
MERGE_TARGET_RUNS = 100_000
REAL_MERGE_TARGET_S = 5.0
FILE_LIMIT_BYTES = 50_000_000          # GitHub warns at 50 MB (and refuses 100 MB)
IMPORTED_SHARE = 0.7                   # of the synthetic dataset's runs, over IMPORTED_SOURCES source files
IMPORTED_SOURCES = 20
# Seeds keep the three sets of runs apart (distinct run ids): the dataset, the fragments to validate,
# and the one fragment merged.
DATASET_SEED, FRAGMENT_SEED, NEW_RUN_SEED = 0, 1, 2


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="validate_merge.py", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--runs", type=int, nargs="+", default=[25_000, 50_000, 100_000], metavar="N",
                   help="dataset sizes (runs) to merge one fragment into (default: 25000 50000 100000)")
    p.add_argument("--fragments", type=int, default=VALIDATE_TARGET_FILES, metavar="N",
                   help="fragment files to validate (default: 10000; 0 skips the validation benchmark)")
    p.add_argument("--repeat", type=int, default=1, metavar="K",
                   help="time each measurement K times and report the fastest (default: 1)")
    p.add_argument("--workdir", type=Path, default=None, metavar="DIR",
                   help="where to build the data (default: a new temporary folder)")
    p.add_argument("--keep", action="store_true", help="keep the generated data instead of deleting it")
    p.add_argument("--no-phases", action="store_true",
                   help="skip the in-process merge that times each phase (and the profile)")
    p.add_argument("--profile", action="store_true",
                   help="also print a cProfile of the in-process merge into the largest dataset (top 25)")
    p.add_argument("--real-root", type=Path, default=None, metavar="PATH",
                   help="also merge one measured fragment into a copy of the dataset of the repository at PATH "
                        "(its data/, catalogue/ and schema/; target 5 s)")
    return p


def mixed_run(i: int) -> dict:
    """Run i of the synthetic dataset: imported (70 %, over 20 source files) or measured (30 %)."""
    share = round(IMPORTED_SHARE * 10)
    if i % 10 < share:     # the k-th imported run: spread evenly over the source files
        return imported_run(i // 10 * share + i % 10, sources=IMPORTED_SOURCES, seed=DATASET_SEED)
    return synthetic_run(i, seed=DATASET_SEED)


def largest_file(root: Path) -> tuple[str, int]:
    """The largest committed file below root/data (fragments aside): (path, bytes)."""
    return outputs.sizes(root)[0]


def _cpu_seconds() -> float:
    """CPU time (user + system) of this process and of its finished child processes (and theirs)."""
    own = resource.getrusage(resource.RUSAGE_SELF)
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


@contextmanager
def stopwatch() -> Iterator[list[float]]:
    """Yields a list that receives [wall seconds, CPU seconds] of the block."""
    box: list[float] = []
    start, cpu = time.perf_counter(), _cpu_seconds()
    yield box
    box += [time.perf_counter() - start, _cpu_seconds() - cpu]


def tool(name: str, *args: str) -> tuple[list[float], subprocess.CompletedProcess]:
    with stopwatch() as took:
        proc = subprocess.run([sys.executable, str(REPO / "tools" / f"{name}.py"), *args],
                              capture_output=True, text=True)
    return took, proc


def checked(proc: subprocess.CompletedProcess, what: str) -> None:
    if proc.returncode != 0:
        sys.exit(f"validate_merge.py: {what} failed (exit {proc.returncode}):\n{proc.stdout}{proc.stderr}")


def bench_validate(work: Path, n: int, repeat: int) -> list[tuple[str, float, float | None]]:
    root = work / "validate"
    frag_dir = root / "data" / "fragments"
    frag_dir.mkdir(parents=True)
    for i in range(n):  # fragment.write's fsync per file would only slow the set-up down
        run = synthetic_run(i, seed=FRAGMENT_SEED)
        (frag_dir / fragment.file_name(run["run_id"])).write_text(fragment.to_toml(run), encoding="utf-8")
    target = VALIDATE_TARGET_S if n == VALIDATE_TARGET_FILES else None
    sub, inproc = [], []
    for _ in range(repeat):
        took, proc = tool("validate", "--root", str(root), "-q")
        checked(proc, "tools/validate.py")
        sub.append(took)
        with stopwatch() as t:
            code = validate_cli.main(["--root", str(root), "-q"])
        if code != 0:
            sys.exit("validate_merge.py: in-process validation failed")
        inproc.append(t)
    return [(f"validate {n:,} fragments: tools/validate.py (subprocess)", *min(sub), target),
            (f"validate {n:,} fragments: dlbench.cli.validate.main (in-process)", *min(inproc), target)]


def fresh_copy(base: Path, dest: Path) -> Layout:
    if dest.exists():
        shutil.rmtree(dest)
    # Hard links: a merge never writes into an existing file (it renames a new one over it).
    shutil.copytree(base, dest, copy_function=os.link)
    fragment.write(synthetic_run(0, seed=NEW_RUN_SEED), dest / "data" / "fragments")
    return Layout(dest)


def bench_merge(work: Path, sizes: list[int], repeat: int) -> tuple[list, dict[int, Path]]:
    largest = max(sizes)
    print(f"set-up: generating {largest:,} synthetic runs ({IMPORTED_SHARE:.0%} imported) ...", file=sys.stderr,
          flush=True)
    runs = [mixed_run(i) for i in range(largest)]
    rows, bases = [], {}
    for n in sorted(sizes):
        print(f"set-up: writing a {n:,}-run dataset ...", file=sys.stderr, flush=True)
        base = work / f"dataset-{n}"
        write_dataset(base, runs[:n])  # set-up, not timed
        bases[n] = base
        times = []
        for _ in range(repeat):
            layout = fresh_copy(base, work / "merge")
            took, proc = tool("merge", "--root", str(layout.root))
            checked(proc, "tools/merge.py")
            if "merged 1 run(s)" not in proc.stdout:
                sys.exit(f"validate_merge.py: unexpected merge output:\n{proc.stdout}{proc.stderr}")
            times.append(took)
        target = MERGE_TARGET_S if n == MERGE_TARGET_RUNS else None
        rows.append((f"merge 1 fragment into {n:,} runs: tools/merge.py (subprocess)", *min(times), target))
        path, size = largest_file(layout.root)
        files = sum(1 for _ in (layout.root / "data").rglob("*.toml"))
        LARGEST[n] = (path, size, files)
    del runs
    return rows, bases


LARGEST: dict[int, tuple[str, int, int]] = {}   # dataset size -> (largest file, its bytes, canonical files)


def bench_real(real: Path, work: Path, repeat: int) -> tuple[str, float, float, float]:
    """Merge one measured fragment into a copy of the repository at `real` (data/, catalogue/, schema/)."""
    base = work / "real"
    for folder in ("data", "catalogue", "schema"):
        if (real / folder).is_dir():
            shutil.copytree(real / folder, base / folder, ignore=shutil.ignore_patterns("fragments"))
    (base / "data" / "fragments").mkdir(parents=True, exist_ok=True)
    times = []
    for _ in range(repeat):
        layout = fresh_copy(base, work / "merge-real")
        took, proc = tool("merge", "--root", str(layout.root))
        checked(proc, "tools/merge.py on the real dataset")
        times.append(took)
    path, size = largest_file(layout.root)
    LARGEST[0] = (path, size, sum(1 for _ in (layout.root / "data").rglob("*.toml")))
    return (f"merge 1 fragment into {real}'s dataset: tools/merge.py", *min(times), REAL_MERGE_TARGET_S)


def phase_shares(base: Path, work: Path, profile: bool) -> list[tuple[str, float]]:
    """Seconds spent in each phase of one in-process merge (each generator timed on its own)."""
    layout = fresh_copy(base, work / "merge")
    spent: dict[str, float] = {}

    def timed(name, fn):
        def wrapper(*args, **kwargs):
            start = time.perf_counter()
            try:
                return fn(*args, **kwargs)
            finally:
                spent[name] = spent.get(name, 0.0) + time.perf_counter() - start
        return wrapper

    saved = (list(outputs.GENERATORS), merging.read_existing, merging.validate_fragments, outputs.write_changed)
    outputs.GENERATORS[:] = [timed(f"generate {g.__name__.lstrip('_')}", g) for g in saved[0]]
    merging.read_existing = timed("read existing runs", merging.read_existing)
    merging.validate_fragments = timed("validate the new fragment", merging.validate_fragments)
    outputs.write_changed = timed("compare and write generated files", outputs.write_changed)
    profiler = cProfile.Profile() if profile else None
    try:
        with stopwatch() as total:
            if profiler:
                profiler.enable()
            report = merging.merge(layout)
            if profiler:
                profiler.disable()
    finally:
        outputs.GENERATORS[:] = saved[0]
        merging.read_existing, merging.validate_fragments, outputs.write_changed = saved[1:]
    if not report.ok or len(report.merged) != 1:
        sys.exit(f"validate_merge.py: in-process merge failed: {report.problems}")
    if profiler:
        pstats.Stats(profiler, stream=sys.stdout).sort_stats("cumulative").print_stats(25)
    rows = list(spent.items())
    rows.append(("other (TOML append and write, fragment removal)", total[0] - sum(spent.values())))
    rows.append(("total (in-process)", total[0]))
    rows.append(("  of which CPU (user + system)", total[1]))
    return rows


def print_table(rows: list[tuple[str, float, float, float | None]]) -> bool:
    """Wall-clock seconds (what the targets are about), CPU seconds, target and ratio."""
    width = max(len(r[0]) for r in rows)
    print(f"{'measurement':<{width}}  {'wall s':>7}  {'CPU s':>6}  {'target':>6}  {'ratio':>5}")
    ok = True
    for name, seconds, cpu, target in rows:
        if target is None:
            print(f"{name:<{width}}  {seconds:7.2f}  {cpu:6.2f}  {'-':>6}  {'-':>5}")
        else:
            ok &= seconds < target
            print(f"{name:<{width}}  {seconds:7.2f}  {cpu:6.2f}  {target:6.1f}  {seconds / target:5.2f}"
                  + ("" if seconds < target else "  MISSED"))
    return ok


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.fragments < 0 or args.repeat < 1 or any(n < 1 for n in args.runs):
        parser.error("--fragments must be >= 0, --repeat and every --runs size >= 1")
    if args.real_root is not None and not (args.real_root / "data").is_dir():
        parser.error(f"--real-root {args.real_root}: no data/ folder there")
    if max(args.runs) > 140_000:
        parser.error("--runs sizes above 140000 would give synthetic start times in the future")
    work = args.workdir or Path(tempfile.mkdtemp(prefix="dlbench-bench-"))
    work.mkdir(parents=True, exist_ok=True)
    if any(work.iterdir()):
        parser.error(f"--workdir {work} is not empty")
    try:
        rows = bench_validate(work, args.fragments, args.repeat) if args.fragments else []
        merge_rows, bases = bench_merge(work, args.runs, args.repeat)
        rows += merge_rows
        if args.real_root is not None:
            rows.append(bench_real(args.real_root, work, args.repeat))
        print()
        ok = print_table(rows)
        print("\nlargest committed file after the merge (limit 50,000,000 bytes; canonical files are closed at "
              "40,000,000):")
        for n, (path, size, files) in sorted(LARGEST.items()):
            what = f"{n:,} runs" if n else f"{args.real_root}"
            flag = "" if size <= FILE_LIMIT_BYTES else "  MISSED"
            ok &= size <= FILE_LIMIT_BYTES
            print(f"  {what}: {path} {size:,} bytes ({files} canonical files){flag}")
        sizes = sorted(bases)
        if len(sizes) > 1:
            print("\ngrowth (merge wall seconds per 1,000 runs):",
                  ", ".join(f"{n:,}: {s / n * 1000:.3f}" for (_, s, _, _), n in zip(merge_rows, sizes)))
        largest = sizes[-1]
        if args.no_phases:
            return 0 if ok else 1
        print(f"\nphases of one in-process merge into {largest:,} runs:")
        phases = phase_shares(bases[largest], work, args.profile)
        whole = dict(phases)["total (in-process)"]
        for name, seconds in phases:
            print(f"  {name:<50} {seconds:7.2f} s  {seconds / whole:6.1%}")
    finally:
        if args.keep:
            print(f"\ndata kept in {work}", file=sys.stderr)
        else:
            shutil.rmtree(work, ignore_errors=True)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
