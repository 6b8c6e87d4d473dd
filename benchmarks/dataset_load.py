#!/usr/bin/env python3
"""Benchmark: loading an MNIST-sized dataset from local files with `dlbench.runner.data.datasets.load`.

Measures, in seconds, --repeats loads (default 5) of --dataset (default fashion-mnist) from the files
already on disk: its system folder (Debian's /usr/share/datasets/fashion-mnist/) or, failing that, the
cache under --data-dir. Downloading is disabled, so a missing dataset is an error, not a download.
Each load reads, decompresses, verifies (SHA-256) and decodes all four files.

Prints each time, the median, and the target (median < 0.5 s). Exit status 0 when the target is met,
1 when it is missed or the dataset cannot be loaded, 2 for a usage error.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from dlbench.runner.data import datasets  # noqa: E402

TARGET_S = 0.5


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--dataset", default="fashion-mnist", choices=sorted(datasets.SPECS),
                        help="dataset to load (default: fashion-mnist)")
    parser.add_argument("--data-dir", type=Path, default=None,
                        help="cache folder holding <dataset>/ (default: the user cache folder); "
                             "the dataset's system folder is searched first")
    parser.add_argument("--repeats", type=int, default=5, help="number of timed loads (default: 5)")
    args = parser.parse_args(argv)
    if args.repeats < 1:
        parser.error("--repeats must be at least 1")

    times = []
    for _ in range(args.repeats):
        start = time.perf_counter()
        try:
            arrays = datasets.load(args.dataset, args.data_dir, mirrors=[])
        except datasets.DatasetError as exc:
            print(f"error: {exc}", file=sys.stderr)
            return 1
        times.append(time.perf_counter() - start)
    median = statistics.median(times)
    print(f"dataset {arrays.name} from {arrays.source}/: train {arrays.train_x.shape}, test {arrays.test_x.shape}, "
          f"sha256 {arrays.sha256}")
    print("load times (s): " + " ".join(f"{t:.3f}" for t in times))
    verdict = "met" if median < TARGET_S else "MISSED"
    print(f"median load time: {median:.3f} s (target < {TARGET_S} s: {verdict})")
    return 0 if median < TARGET_S else 1


if __name__ == "__main__":
    sys.exit(main())
