#!/usr/bin/env python3
"""Benchmark: `tools/versus.py A B` as a user runs it (a subprocess, interpreter start-up included).

Runs the command --repeats times (default 5) on this checkout's API (or --root), for the two devices given
(default: "RTX 5090" and "RTX 4090", which share over 1,500 workloads), once with predictions (the default
command) and once with --measured-only, interleaved (default, measured-only, measured-only, default, ...).
Prints each time, the best and the median, how many workloads the two share, and the ratio of the median to the
target (<= 2 s for the default command). Exit status 0 when the target is met, 1 when missed or the command
fails, 2 a usage error.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
TARGET_S = 2.0


def once(root: Path, a: str, b: str, extra: list[str]) -> tuple[float, dict]:
    start = time.perf_counter()
    r = subprocess.run([sys.executable, str(REPO / "tools" / "versus.py"), a, b, "--root", str(root), "--format",
                        "json", *extra], capture_output=True, text=True)
    elapsed = time.perf_counter() - start
    if r.returncode != 0:
        sys.exit(f"versus.py failed ({r.returncode}): {r.stderr.strip()}")
    return elapsed, json.loads(r.stdout)


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--root", type=Path, default=REPO, help="repository root whose data/api/v1 is read (default: this one)")
    p.add_argument("--a", default="RTX 5090", help="device A (default: RTX 5090)")
    p.add_argument("--b", default="RTX 4090", help="device B (default: RTX 4090)")
    p.add_argument("--repeats", type=int, default=5, help="pairs of runs (default: 5)")
    args = p.parse_args()
    if args.repeats < 1:
        p.error("--repeats must be at least 1")
    times: dict[str, list[float]] = {"default": [], "measured-only": []}
    shared = None
    for i in range(args.repeats):
        order = ("default", "measured-only") if i % 2 == 0 else ("measured-only", "default")
        for name in order:
            elapsed, v = once(args.root, args.a, args.b, ["--measured-only"] if name == "measured-only" else [])
            times[name].append(elapsed)
            shared = v["summary"]["shared"]
    print(f"{args.a} vs {args.b}: {shared} workloads both ran")
    for name, ts in times.items():
        print(f"{name:14s} " + " ".join(f"{t:.2f}" for t in ts)
              + f"  best {min(ts):.2f} s, median {statistics.median(ts):.2f} s")
    median = statistics.median(times["default"])
    print(f"default command: median {median:.2f} s = {median / TARGET_S:.2f} x the {TARGET_S:g} s target")
    return 0 if median <= TARGET_S else 1


if __name__ == "__main__":
    sys.exit(main())
