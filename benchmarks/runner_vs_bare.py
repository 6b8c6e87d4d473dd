#!/usr/bin/env python3
"""Benchmark: does the runner command train as fast as a minimal, independent training process?

Measures what users run. For each framework it starts, as subprocesses and interleaved (runner, bare, bare,
runner, ...), PAIRS times each:

- the runner command, `runners/run.py fashion-mnist-lenet5 --framework F --epochs E --batch-size B` (probe,
  dataset loads, every phase; the fragment goes to a temporary folder and its `epoch_s` is read back), and
- `benchmarks/bare_train.py`, a minimal training script that imports nothing from dlbench: the same LeNet-5,
  optimizer, batch size and epochs, the whole training set as one device tensor, a fresh order per epoch.

The first epoch of each process carries one-time costs (tracing, first kernel launches, first page faults), so
the comparison is of the warm epochs (2 to E). It prints every trial's epoch times, then per framework the
ratio runner / bare of the fastest warm epoch and of the median warm epoch. Target: both <= 1.05. Exit
status 0 when every ratio meets it, 1 when one misses it, 2 for a usage error.

The runner fixes glibc's malloc thresholds before training (see dlbench/runner/allocator.py) and records them
in the fragment. `--bare-env same` (the default) starts the bare script with those settings too, so that only
the code differs; `--bare-env plain` starts it with the environment as it is, the allocator left to its
history, as an unaware script runs.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import tomllib
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
RUNNER = REPO / "runners" / "run.py"
BARE = REPO / "benchmarks" / "bare_train.py"
WORKLOAD = "fashion-mnist-lenet5"
TARGET_RATIO = 1.05
FRAMEWORKS = ("torch", "tensorflow")
# The settings dlbench.runner.allocator applies (repeated here: this script imports nothing from dlbench).
RUNNER_MALLOC = {"MALLOC_MMAP_THRESHOLD_": str(32 * 1024 * 1024), "MALLOC_TRIM_THRESHOLD_": str(1024 ** 3)}


class TrialFailed(Exception):
    pass


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="runner_vs_bare.py", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--framework", choices=(*FRAMEWORKS, "both"), default="both",
                   help="framework to measure (default: both, one after the other)")
    p.add_argument("--pairs", type=int, default=5, metavar="N",
                   help="runner/bare pairs per framework, alternating which goes first (default 5, at least 5 "
                        "for a reported figure)")
    p.add_argument("--epochs", type=int, default=3, metavar="E",
                   help="epochs per process (default 3: one cold epoch, two warm ones); at least 2")
    p.add_argument("--batch-size", type=int, default=512, metavar="B", help="batch size (default 512)")
    p.add_argument("--device", default="auto", help="device, as runners/run.py takes it (default auto)")
    p.add_argument("--bare-env", choices=("same", "plain"), default="same",
                   help="allocator settings of the bare process: 'same' as the runner's (default) or 'plain' "
                        "(the environment as it is)")
    return p


def run_runner(framework: str, args: argparse.Namespace, seed: int, env: dict[str, str]) -> list[float]:
    with tempfile.TemporaryDirectory(prefix="dlbench-bench-") as out:
        cmd = [sys.executable, str(RUNNER), WORKLOAD, "--framework", framework, "--epochs", str(args.epochs),
               "--batch-size", str(args.batch_size), "--device", args.device, "--seed", str(seed), "--out", out]
        done = subprocess.run(cmd, capture_output=True, text=True, env=env)
        fragments = list(Path(out).glob("*.toml"))
        if done.returncode != 0 or len(fragments) != 1:
            raise TrialFailed(f"runner exited {done.returncode}: {done.stderr.strip()[-2000:]}")
        result = tomllib.loads(fragments[0].read_text())["results"][0]
        return [float(t) for t in result["metrics"]["epoch_s"]]


def run_bare(framework: str, args: argparse.Namespace, seed: int, env: dict[str, str]) -> list[float]:
    device = "cuda" if args.device.startswith("cuda") else args.device
    cmd = [sys.executable, str(BARE), "--framework", framework, "--epochs", str(args.epochs),
           "--batch-size", str(args.batch_size), "--seed", str(seed), "--device", device]
    done = subprocess.run(cmd, capture_output=True, text=True, env=env)
    if done.returncode != 0:
        raise TrialFailed(f"bare_train.py exited {done.returncode}: {done.stderr.strip()[-2000:]}")
    return [float(t) for t in json.loads(done.stdout.strip().splitlines()[-1])["epoch_s"]]


def ratios(runner: list[list[float]], bare: list[list[float]]) -> tuple[float, float]:
    """(fastest warm epoch runner / bare, median warm epoch runner / bare); warm = every epoch but the first."""
    r = [t for trial in runner for t in trial[1:]]
    b = [t for trial in bare for t in trial[1:]]
    return min(r) / min(b), statistics.median(r) / statistics.median(b)


def measure(framework: str, args: argparse.Namespace) -> bool:
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2")
    bare_env = dict(env, **RUNNER_MALLOC) if args.bare_env == "same" else env
    times: dict[str, list[list[float]]] = {"runner": [], "bare": []}
    print(f"{framework}: {WORKLOAD}, {args.epochs} epochs, batch {args.batch_size}, device {args.device}, "
          f"{args.pairs} pairs, bare allocator: {args.bare_env}", flush=True)
    for pair in range(args.pairs):
        order = ("runner", "bare") if pair % 2 == 0 else ("bare", "runner")
        for which in order:
            if which == "runner":
                epochs = run_runner(framework, args, pair, env)
            else:
                epochs = run_bare(framework, args, pair, bare_env)
            times[which].append(epochs)
            print(f"  pair {pair + 1} {which:6s} epoch_s " + " ".join(f"{t:7.3f}" for t in epochs), flush=True)
    fastest, median = ratios(times["runner"], times["bare"])
    ok = fastest <= TARGET_RATIO and median <= TARGET_RATIO
    print(f"{framework}: warm epochs runner / bare: fastest {fastest:.3f}, median {median:.3f} "
          f"(target <= {TARGET_RATIO}: {'met' if ok else 'MISSED'})", flush=True)
    return ok


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.pairs < 1 or args.epochs < 2 or args.batch_size < 1:
        print("runner_vs_bare.py: --pairs and --batch-size must be at least 1, --epochs at least 2",
              file=sys.stderr)
        return 2
    ok = True
    for framework in FRAMEWORKS if args.framework == "both" else (args.framework,):
        try:
            ok = measure(framework, args) and ok
        except TrialFailed as exc:
            print(f"runner_vs_bare.py: {framework}: {exc}", file=sys.stderr)
            return 1
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
