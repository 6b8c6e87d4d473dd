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
BARE = REPO / "benchmarks" / "bare_step.py"
WORKLOAD = "fwdbwd-lenet5"
TARGET_RATIO = 1.03
FRAMEWORKS = ("torch", "tensorflow")
# The settings dlbench.runner.allocator applies (repeated here: this script imports nothing from dlbench).
RUNNER_MALLOC = {"MALLOC_MMAP_THRESHOLD_": str(32 * 1024 * 1024), "MALLOC_TRIM_THRESHOLD_": str(1024 ** 3)}


class TrialFailed(Exception):
    pass


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="step_vs_bare.py", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--framework", choices=(*FRAMEWORKS, "both"), default="both",
                   help="framework to measure (default: both, one after the other)")
    p.add_argument("--pairs", type=int, default=5, metavar="N",
                   help="runner/bare pairs per framework, alternating which goes first (default 5, at least 5 "
                        "for a reported figure)")
    p.add_argument("--batch-size", type=int, default=512, metavar="B", help="batch size (default 512)")
    p.add_argument("--warmup", type=int, default=10, metavar="K", help="untimed steps (default 10)")
    p.add_argument("--iterations", type=int, default=50, metavar="N", help="timed steps (default 50)")
    p.add_argument("--precision", choices=("fp32", "fp16", "bf16"), default="fp32", help="precision (default fp32)")
    p.add_argument("--device", default="cpu", help="device, as runners/run.py takes it (default cpu)")
    return p


def run_runner(framework: str, args: argparse.Namespace, seed: int, env: dict[str, str]) -> tuple[float, float]:
    with tempfile.TemporaryDirectory(prefix="dlbench-bench-") as out:
        cmd = [sys.executable, str(RUNNER), WORKLOAD, "--framework", framework, "--batch-size", str(args.batch_size),
               "--warmup", str(args.warmup), "--iterations", str(args.iterations), "--device", args.device,
               "--seed", str(seed), "--out", out]
        if args.precision != "fp32":
            cmd += ["--precision", args.precision]
        done = subprocess.run(cmd, capture_output=True, text=True, env=env)
        fragments = list(Path(out).glob("*.toml"))
        if done.returncode != 0 or len(fragments) != 1:
            raise TrialFailed(f"runner exited {done.returncode}: {done.stderr.strip()[-2000:]}")
        m = tomllib.loads(fragments[0].read_text())["results"][0]["metrics"]
        return float(m["step_ms"]), float(m["throughput_samples_per_s"])


def run_bare(framework: str, args: argparse.Namespace, seed: int, env: dict[str, str]) -> tuple[float, float]:
    device = "cuda" if args.device.startswith("cuda") else args.device
    cmd = [sys.executable, str(BARE), "--framework", framework, "--batch-size", str(args.batch_size),
           "--warmup", str(args.warmup), "--iterations", str(args.iterations), "--precision", args.precision,
           "--seed", str(seed), "--device", device]
    done = subprocess.run(cmd, capture_output=True, text=True, env=env)
    if done.returncode != 0:
        raise TrialFailed(f"bare_step.py exited {done.returncode}: {done.stderr.strip()[-2000:]}")
    out = json.loads(done.stdout.strip().splitlines()[-1])
    return statistics.median(out["step_s"]) * 1000.0, out["batch"] * len(out["step_s"]) / out["loop_s"]


def measure(framework: str, args: argparse.Namespace) -> bool:
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2")
    bare_env = dict(env, **RUNNER_MALLOC)
    trials: dict[str, list[tuple[float, float]]] = {"runner": [], "bare": []}
    print(f"{framework}: {WORKLOAD}, batch {args.batch_size}, {args.warmup} + {args.iterations} steps, "
          f"{args.precision}, device {args.device}, {args.pairs} pairs", flush=True)
    for pair in range(args.pairs):
        order = ("runner", "bare") if pair % 2 == 0 else ("bare", "runner")
        for which in order:
            if which == "runner":
                step_ms, rate = run_runner(framework, args, pair, env)
            else:
                step_ms, rate = run_bare(framework, args, pair, bare_env)
            trials[which].append((step_ms, rate))
            print(f"  pair {pair + 1} {which:6s} step {step_ms:9.3f} ms  {rate:10.1f} samples/s", flush=True)
    runner = [t[0] for t in trials["runner"]]
    bare = [t[0] for t in trials["bare"]]
    fastest = min(runner) / min(bare)
    median = statistics.median(runner) / statistics.median(bare)
    rates = statistics.median(t[1] for t in trials["bare"]) / statistics.median(t[1] for t in trials["runner"])
    ok = fastest <= TARGET_RATIO and median <= TARGET_RATIO
    print(f"{framework}: step time runner / bare: fastest {fastest:.3f}, median {median:.3f} "
          f"(target <= {TARGET_RATIO}: {'met' if ok else 'MISSED'}); throughput bare / runner {rates:.3f}", flush=True)
    return ok


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.pairs < 1 or args.batch_size < 1 or args.iterations < 1 or args.warmup < 0:
        print("step_vs_bare.py: --pairs, --batch-size and --iterations must be at least 1, --warmup at least 0",
              file=sys.stderr)
        return 2
    ok = True
    for framework in FRAMEWORKS if args.framework == "both" else (args.framework,):
        try:
            ok = measure(framework, args) and ok
        except TrialFailed as exc:
            print(f"step_vs_bare.py: {framework}: {exc}", file=sys.stderr)
            return 1
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
