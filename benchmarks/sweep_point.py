#!/usr/bin/env python3
"""Benchmark: does a point of a batch-size sweep measure a batch as a single run at that batch does?

For each framework it starts, as subprocesses and interleaved (sweep, single, single, sweep, ...), PAIRS times
each:

- a sweep of one point, `runners/run.py fwdbwd-lenet5 --framework F --batch-sweep --batch-start B --max-batch B
  --warmup K --iterations N` (the point runs in its own process under the sweep's memory limit, RLIMIT_AS on a
  CPU: the memory available, or --memory-limit); the fragment's result is that point's run, and its `step_ms`
  (the median over the N timed steps) equals the point's `batch_sweep.points[0].step_ms`, which is checked;
- a single run, `runners/run.py fwdbwd-lenet5 --framework F --batch-size B --warmup K --iterations N`.

It prints every trial's median step time and throughput, then per framework the ratio sweep point / single
run of the fastest trial's median step time and of the median over the trials. Target: both within 3 %
(0.97 to 1.03). Exit status 0 when every ratio meets it, 1 when one misses it (or a trial failed), 2 for a usage
error. Do not run it while the machine is busy with other work: the trials compete for the same cores.
"""

from __future__ import annotations

import argparse
import statistics
import sys

import _pairs

PROG = "sweep_point.py"
WORKLOAD = "fwdbwd-lenet5"
TOLERANCE = 0.03


def build_parser() -> argparse.ArgumentParser:
    p = _pairs.parser(PROG, __doc__)
    _pairs.add_framework(p)
    _pairs.add_pairs(p, "sweep/single pairs per framework, alternating which goes first (default 5, at least 5 for "
                        "a reported figure)")
    p.add_argument("--batch-size", type=int, default=512, metavar="B", help="the batch of both (default 512)")
    p.add_argument("--warmup", type=int, default=10, metavar="K", help="untimed steps (default 10)")
    p.add_argument("--iterations", type=int, default=50, metavar="N", help="timed steps (default 50)")
    p.add_argument("--memory-limit", metavar="BYTES",
                   help="the sweep's --memory-limit (default: none given, so the memory available on a CPU)")
    p.add_argument("--device", default="cpu", help="device, as runners/run.py takes it (default cpu)")
    return p


def common(framework: str, args: argparse.Namespace, seed: int) -> list[str]:
    return [WORKLOAD, "--framework", framework, "--warmup", str(args.warmup), "--iterations", str(args.iterations),
            "--device", args.device, "--seed", str(seed)]


def run_sweep(framework: str, args: argparse.Namespace, seed: int, env: dict[str, str]) -> tuple[float, float]:
    options = common(framework, args, seed) + ["--batch-sweep", "--batch-start", str(args.batch_size),
                                               "--max-batch", str(args.batch_size)]
    if args.memory_limit:
        options += ["--memory-limit", args.memory_limit]
    result = _pairs.run_fragment(options, env)["results"][0]
    (point,) = result["batch_sweep"]["points"]
    if point["status"] != "ok" or point["step_ms"] != result["metrics"]["step_ms"]:
        raise _pairs.TrialFailed(f"the sweep's point is not its result: {point}")
    return float(point["step_ms"]), float(point["throughput_samples_per_s"])


def run_single(framework: str, args: argparse.Namespace, seed: int, env: dict[str, str]) -> tuple[float, float]:
    options = common(framework, args, seed) + ["--batch-size", str(args.batch_size)]
    m = _pairs.run_fragment(options, env)["results"][0]["metrics"]
    return float(m["step_ms"]), float(m["throughput_samples_per_s"])


def measure(framework: str, args: argparse.Namespace) -> bool:
    env = _pairs.child_env()
    print(f"{framework}: {WORKLOAD}, batch {args.batch_size}, {args.warmup} + {args.iterations} steps, device "
          f"{args.device}, memory limit {args.memory_limit or 'default'}, {args.pairs} pairs", flush=True)
    trials = _pairs.interleave(args.pairs, {"sweep": lambda pair: run_sweep(framework, args, pair, env),
                                            "single": lambda pair: run_single(framework, args, pair, env)},
                               show=lambda t: f"step {t[0]:9.3f} ms  {t[1]:10.1f} samples/s")
    found = _pairs.ratios([t[0] for t in trials["sweep"]], [t[0] for t in trials["single"]])
    medians = {side: statistics.median(t[0] for t in trials[side]) for side in trials}
    ok = all(abs(r - 1.0) <= TOLERANCE for r in found)
    print(f"{framework}: median step sweep point {medians['sweep']:.3f} ms, single run {medians['single']:.3f} ms",
          flush=True)
    print(_pairs.summary(framework, "step time", ("sweep point", "single run"), "fastest", found,
                         f"within {TOLERANCE:.0%}", ok), flush=True)
    return ok


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.pairs < 1 or args.batch_size < 1 or args.iterations < 1 or args.warmup < 0:
        return _pairs.usage_error(PROG, "--pairs, --batch-size and --iterations must be at least 1, --warmup at "
                                        "least 0")
    return _pairs.each(PROG, _pairs.frameworks(args.framework), lambda framework: measure(framework, args))


if __name__ == "__main__":
    sys.exit(main())
