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
import sys

import _pairs
from _pairs import REPO, RUNNER_MALLOC

PROG = "runner_vs_bare.py"
BARE = REPO / "benchmarks" / "bare_train.py"
WORKLOAD = "fashion-mnist-lenet5"
TARGET_RATIO = 1.05


def build_parser() -> argparse.ArgumentParser:
    p = _pairs.parser(PROG, __doc__)
    _pairs.add_framework(p)
    _pairs.add_pairs(p)
    p.add_argument("--epochs", type=int, default=3, metavar="E",
                   help="epochs per process (default 3: one cold epoch, two warm ones); at least 2")
    p.add_argument("--batch-size", type=int, default=512, metavar="B", help="batch size (default 512)")
    p.add_argument("--device", default="auto", help="device, as runners/run.py takes it (default auto)")
    p.add_argument("--bare-env", choices=("same", "plain"), default="same",
                   help="allocator settings of the bare process: 'same' as the runner's (default) or 'plain' "
                        "(the environment as it is)")
    return p


def run_runner(framework: str, args: argparse.Namespace, seed: int, env: dict[str, str]) -> list[float]:
    fragment = _pairs.run_fragment([WORKLOAD, "--framework", framework, "--epochs", str(args.epochs),
                                    "--batch-size", str(args.batch_size), "--device", args.device,
                                    "--seed", str(seed)], env)
    return [float(t) for t in fragment["results"][0]["metrics"]["epoch_s"]]


def run_bare(framework: str, args: argparse.Namespace, seed: int, env: dict[str, str]) -> list[float]:
    cmd = [sys.executable, str(BARE), "--framework", framework, "--epochs", str(args.epochs),
           "--batch-size", str(args.batch_size), "--seed", str(seed), "--device", _pairs.bare_device(args.device)]
    return [float(t) for t in _pairs.run_json(cmd, "bare_train.py", env)["epoch_s"]]


def ratios(runner: list[list[float]], bare: list[list[float]]) -> tuple[float, float]:
    """(fastest warm epoch runner / bare, median warm epoch runner / bare); warm = every epoch but the first."""
    return _pairs.ratios([t for trial in runner for t in trial[1:]], [t for trial in bare for t in trial[1:]])


def measure(framework: str, args: argparse.Namespace) -> bool:
    env = _pairs.child_env()
    bare_env = _pairs.child_env(**RUNNER_MALLOC) if args.bare_env == "same" else env
    print(f"{framework}: {WORKLOAD}, {args.epochs} epochs, batch {args.batch_size}, device {args.device}, "
          f"{args.pairs} pairs, bare allocator: {args.bare_env}", flush=True)
    times = _pairs.interleave(args.pairs, {"runner": lambda pair: run_runner(framework, args, pair, env),
                                           "bare": lambda pair: run_bare(framework, args, pair, bare_env)},
                              show=lambda epochs: "epoch_s " + " ".join(f"{t:7.3f}" for t in epochs))
    found = ratios(times["runner"], times["bare"])
    ok = all(r <= TARGET_RATIO for r in found)
    print(_pairs.summary(framework, "warm epochs", ("runner", "bare"), "fastest", found, f"<= {TARGET_RATIO}", ok),
          flush=True)
    return ok


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.pairs < 1 or args.epochs < 2 or args.batch_size < 1:
        return _pairs.usage_error(PROG, "--pairs and --batch-size must be at least 1, --epochs at least 2")
    return _pairs.each(PROG, _pairs.frameworks(args.framework), lambda framework: measure(framework, args))


if __name__ == "__main__":
    sys.exit(main())
