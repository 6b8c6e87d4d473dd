#!/usr/bin/env python3
"""Benchmark: does `runners/run.py --devices 2` (PyTorch, DistributedDataParallel in processes started by torchrun,
gloo on the CPU) time a data-parallel training step as fast as a minimal, independent torchrun loop?

It starts, as subprocesses and interleaved (runner, bare, bare, runner, ...), PAIRS times each:

- the runner command, `runners/run.py fwdbwd-lenet5 --framework torch --device cpu --devices N --batch-size B
  --warmup K --iterations I` (the fragment goes to a temporary folder; the N-device result's
  `throughput_samples_per_s` (global batch x I / the timed loop) and `step_ms` are read back), and
- `python -m torch.distributed.run --standalone --nproc_per_node N benchmarks/bare_ddp_step.py`, which imports
  nothing from dlbench: the same LeNet-5, per-process batch, optimizer, warm-up and iterations, DDP with its
  defaults, the timed loop framed by barriers.

Both sides get the same OMP_NUM_THREADS (logical CPUs / N, as the runner gives its processes). It compares the
time of one step of the whole system, global batch / throughput for the runner and timed loop / I for the bare
loop, and prints every trial, then the ratio runner / bare of the fastest trials and of the medians. Target:
both <= 1.05. Exit status 0 when both meet it, 1 when one misses it (or a trial failed), 2 for a usage error.
Run it on an otherwise idle machine: the N processes of each trial compete for the same cores.
"""

from __future__ import annotations

import argparse
import os
import sys

import _pairs
from _pairs import REPO, RUNNER_MALLOC

PROG = "ddp_step.py"
BARE = REPO / "benchmarks" / "bare_ddp_step.py"
WORKLOAD = "fwdbwd-lenet5"
TARGET_RATIO = 1.05


def build_parser() -> argparse.ArgumentParser:
    p = _pairs.parser(PROG, __doc__)
    _pairs.add_pairs(p, "runner/bare pairs (default 5, at least 5 for a reported figure)")
    p.add_argument("--devices", type=int, default=2, metavar="N", help="processes (CPU devices) (default 2)")
    p.add_argument("--batch-size", type=int, default=256, metavar="B", help="batch per process (default 256)")
    p.add_argument("--warmup", type=int, default=10, metavar="K", help="untimed steps (default 10)")
    p.add_argument("--iterations", type=int, default=50, metavar="I", help="timed steps (default 50)")
    return p


def threads(devices: int) -> str:
    try:
        cpus = len(os.sched_getaffinity(0))
    except AttributeError:
        cpus = os.cpu_count() or 1
    return str(max(1, cpus // devices))


def run_runner(args: argparse.Namespace, seed: int, env: dict[str, str]) -> tuple[float, float]:
    """(ms per step of the whole system, rank 0's median step_ms)."""
    options = [WORKLOAD, "--framework", "torch", "--device", "cpu", "--devices", str(args.devices),
               "--batch-size", str(args.batch_size), "--warmup", str(args.warmup), "--iterations",
               str(args.iterations), "--seed", str(seed)]
    result = _pairs.run_fragment(options, env)["results"][0]
    m = result["metrics"]
    return result["global_batch_size"] / m["throughput_samples_per_s"] * 1000.0, float(m["step_ms"])


def run_bare(args: argparse.Namespace, seed: int, env: dict[str, str]) -> tuple[float, float]:
    cmd = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node", str(args.devices),
           str(BARE), "--batch-size", str(args.batch_size), "--warmup", str(args.warmup), "--iterations",
           str(args.iterations), "--seed", str(seed)]
    out = _pairs.run_json(cmd, "bare_ddp_step.py", env)
    steps = sorted(out["step_s"])
    return out["loop_s"] / len(out["step_s"]) * 1000.0, steps[len(steps) // 2] * 1000.0


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.pairs < 1 or args.batch_size < 1 or args.iterations < 1 or args.warmup < 0 or args.devices < 2:
        return _pairs.usage_error(PROG, "--pairs, --batch-size and --iterations must be at least 1, --warmup at "
                                        "least 0, --devices at least 2")
    env = _pairs.child_env(OMP_NUM_THREADS=threads(args.devices))
    bare_env = _pairs.child_env(OMP_NUM_THREADS=threads(args.devices), **RUNNER_MALLOC)
    print(f"torch: {WORKLOAD} on {args.devices} CPU processes (gloo), batch {args.batch_size} per process, "
          f"{args.warmup} + {args.iterations} steps, OMP_NUM_THREADS={env['OMP_NUM_THREADS']}, {args.pairs} pairs",
          flush=True)

    def measure(_: str) -> bool:
        trials = _pairs.interleave(args.pairs, {"runner": lambda pair: run_runner(args, pair, env),
                                                "bare": lambda pair: run_bare(args, pair, bare_env)},
                                   show=lambda t: f"system step {t[0]:9.3f} ms  (rank 0 median step {t[1]:9.3f} ms)")
        found = _pairs.ratios([t[0] for t in trials["runner"]], [t[0] for t in trials["bare"]])
        ok = all(r <= TARGET_RATIO for r in found)
        print(_pairs.summary("torch DDP", "system step time", ("runner", "bare"), "fastest", found,
                             f"<= {TARGET_RATIO}", ok), flush=True)
        return ok

    return _pairs.each(PROG, ("torch",), measure)


if __name__ == "__main__":
    sys.exit(main())
