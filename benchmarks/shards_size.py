"""Time the sharded JSON API's generation and report its file sizes (docs/api.md states the 1 MiB limit).

    python benchmarks/shards_size.py [--runs 100000] [--repeats 3]

Builds N synthetic runs in memory (not timed), then times `dlbench.store.shards.build` (the step every merge
runs) and prints the best and median time, the number of files, the largest file and the index size.
Target (2-core machine): under 3 s for 100,000 runs. Exit status 0 when the target is met and no file is
over the limit, 1 otherwise, 2 for a usage error.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from dlbench.store import shards  # noqa: E402
from dlbench.store.synthetic import synthetic_run  # noqa: E402


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--runs", type=int, default=100_000, help="synthetic runs in the dataset (default 100000)")
    p.add_argument("--repeats", type=int, default=3, help="timed builds; the best and median are shown (default 3)")
    p.add_argument("--target", type=float, default=3.0, metavar="SECONDS",
                   help="exit 1 when the best build takes longer than this (default 3.0, meant for 100000 runs)")
    args = p.parse_args()
    if args.runs < 1 or args.repeats < 1:
        p.error("--runs and --repeats must be at least 1")
    runs = [synthetic_run(i) for i in range(args.runs)]
    times = []
    for _ in range(args.repeats):
        t0 = time.perf_counter()
        files = shards.build(runs, "0" * 64)
        times.append(time.perf_counter() - t0)
    index = files[f"{shards.API_DIR}/{shards.INDEX_NAME}"]
    largest = max(files.items(), key=lambda kv: len(kv[1]))
    print(f"runs:               {args.runs}")
    print(f"build time:         best {min(times):.2f} s, median {statistics.median(times):.2f} s "
          f"({args.repeats} builds)")
    print(f"files:              {len(files)} ({sum(map(len, files.values())) / 2**20:.1f} MiB in all)")
    print(f"largest file:       {len(largest[1])} bytes ({largest[0]}; limit {shards.MAX_SHARD_BYTES})")
    print(f"index.json:         {len(index)} bytes")
    met = min(times) <= args.target and len(largest[1]) <= shards.MAX_SHARD_BYTES
    print(f"target:             build < {args.target:g} s, every file <= {shards.MAX_SHARD_BYTES} bytes: "
          f"{'met' if met else 'MISSED'}")
    return 0 if met else 1


if __name__ == "__main__":
    sys.exit(main())
