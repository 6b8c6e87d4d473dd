#!/usr/bin/env python3
"""Benchmark: does the runner's `step` scenario time a training step as fast as a minimal, independent loop?

For each framework it starts, as subprocesses and interleaved (runner, bare, bare, runner, ...), PAIRS times each:

- the runner command, `runners/run.py fwdbwd-lenet5 --framework F --batch-size B --warmup K --iterations N`
  (the fragment goes to a temporary folder; its `step_ms`, the median over the N timed steps, and its
  `throughput_samples_per_s` are read back), and
- `benchmarks/bare_step.py`, which imports nothing from dlbench: the same LeNet-5 written out plainly, the same
  synthetic batch shape, optimizer (SGD, momentum 0.9), batch, warm-up, iterations and precision.

It prints every trial's median step time and throughput, then per framework the ratio runner / bare of the
fastest trial's median step time and of the median over the trials. Target: both <= 1.03. Exit status 0 when
every ratio meets it, 1 when one misses it (or a trial failed), 2 for a usage error. Do not run it while the
machine is busy with other work: the trials compete for the same cores.
"""

from __future__ import annotations

import argparse
import statistics
import sys

import _pairs
from _pairs import REPO, RUNNER_MALLOC

PROG = "step_vs_bare.py"
BARE = REPO / "benchmarks" / "bare_step.py"
WORKLOAD = "fwdbwd-lenet5"
TARGET_RATIO = 1.03


def build_parser() -> argparse.ArgumentParser:
    p = _pairs.parser(PROG, __doc__)
    _pairs.add_framework(p)
    _pairs.add_pairs(p)
    p.add_argument("--batch-size", type=int, default=512, metavar="B", help="batch size (default 512)")
    p.add_argument("--warmup", type=int, default=10, metavar="K", help="untimed steps (default 10)")
    p.add_argument("--iterations", type=int, default=50, metavar="N", help="timed steps (default 50)")
    p.add_argument("--precision", choices=("fp32", "fp16", "bf16"), default="fp32", help="precision (default fp32)")
    p.add_argument("--device", default="cpu", help="device, as runners/run.py takes it (default cpu)")
    return p


def run_runner(framework: str, args: argparse.Namespace, seed: int, env: dict[str, str]) -> tuple[float, float]:
    options = [WORKLOAD, "--framework", framework, "--batch-size", str(args.batch_size), "--warmup", str(args.warmup),
               "--iterations", str(args.iterations), "--device", args.device, "--seed", str(seed)]
    if args.precision != "fp32":
        options += ["--precision", args.precision]
    m = _pairs.run_fragment(options, env)["results"][0]["metrics"]
    return float(m["step_ms"]), float(m["throughput_samples_per_s"])


def run_bare(framework: str, args: argparse.Namespace, seed: int, env: dict[str, str]) -> tuple[float, float]:
    cmd = [sys.executable, str(BARE), "--framework", framework, "--batch-size", str(args.batch_size),
           "--warmup", str(args.warmup), "--iterations", str(args.iterations), "--precision", args.precision,
           "--seed", str(seed), "--device", _pairs.bare_device(args.device)]
    out = _pairs.run_json(cmd, "bare_step.py", env)
    return statistics.median(out["step_s"]) * 1000.0, out["batch"] * len(out["step_s"]) / out["loop_s"]


def measure(framework: str, args: argparse.Namespace) -> bool:
    env = _pairs.child_env()
    bare_env = _pairs.child_env(**RUNNER_MALLOC)
    print(f"{framework}: {WORKLOAD}, batch {args.batch_size}, {args.warmup} + {args.iterations} steps, "
          f"{args.precision}, device {args.device}, {args.pairs} pairs", flush=True)
    trials = _pairs.interleave(args.pairs, {"runner": lambda pair: run_runner(framework, args, pair, env),
                                            "bare": lambda pair: run_bare(framework, args, pair, bare_env)},
                               show=lambda t: f"step {t[0]:9.3f} ms  {t[1]:10.1f} samples/s")
    found = _pairs.ratios([t[0] for t in trials["runner"]], [t[0] for t in trials["bare"]])
    rates = statistics.median(t[1] for t in trials["bare"]) / statistics.median(t[1] for t in trials["runner"])
    ok = all(r <= TARGET_RATIO for r in found)
    print(_pairs.summary(framework, "step time", ("runner", "bare"), "fastest", found, f"<= {TARGET_RATIO}", ok)
          + f"; throughput bare / runner {rates:.3f}", flush=True)
    return ok


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.pairs < 1 or args.batch_size < 1 or args.iterations < 1 or args.warmup < 0:
        return _pairs.usage_error(PROG, "--pairs, --batch-size and --iterations must be at least 1, --warmup at "
                                        "least 0")
    return _pairs.each(PROG, _pairs.frameworks(args.framework), lambda framework: measure(framework, args))


if __name__ == "__main__":
    sys.exit(main())
