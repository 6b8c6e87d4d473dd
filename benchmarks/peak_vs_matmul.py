#!/usr/bin/env python3
"""Benchmark: does the `peak` workload's matrix-multiply FLOP/s match a plain `torch.matmul` loop?

For each precision it starts, as subprocesses and interleaved (runner, plain, plain, runner, ...), PAIRS times each:

- the runner command, `runners/run.py peak --framework torch --precision P --device D --warmup K --iterations N`
  (the fragment goes to a temporary folder; the `peak-matmul` result's `achieved_flops_per_s` is read back), and
- a plain loop that imports nothing from dlbench: two random n x n matrices of that precision on the device,
  K untimed then N timed `torch.matmul(a, b)`, the device synchronized at both ends, 2 n^3 N / time; n is the
  runner's size for the device (8192 on CUDA, 4096 on MPS, 2048 on the CPU), TF32 on only for tf32.

It prints every trial's TFLOP/s, then per precision the ratio runner / plain of the best trials and of the
medians. Target: both within 5% (0.95 to 1.05). Exit status 0 when every ratio meets it, 1 when one misses it
(or a trial failed), 2 for a usage error. Do not run it while the machine is busy with other work.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import tomllib
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
RUNNER = REPO / "runners" / "run.py"
TOLERANCE = 0.05

PLAIN = r"""
import json, sys, time
import torch
precision, device, warmup, iterations = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
dev = torch.device(device)
n = 8192 if dev.type == "cuda" else 4096 if dev.type == "mps" else 2048
torch.backends.cuda.matmul.allow_tf32 = torch.backends.cudnn.allow_tf32 = precision == "tf32"
dtype = {"fp16": torch.float16, "bf16": torch.bfloat16}.get(precision, torch.float32)
sync = (lambda: torch.cuda.synchronize(dev)) if dev.type == "cuda" else torch.mps.synchronize if dev.type == "mps" \
    else (lambda: None)
a = torch.randn((n, n), device=dev, dtype=dtype)
b = torch.randn((n, n), device=dev, dtype=dtype)
for _ in range(warmup):
    c = torch.matmul(a, b)
sync()
start = time.perf_counter()
for _ in range(iterations):
    c = torch.matmul(a, b)
sync()
print(json.dumps({"flops_per_s": 2 * n ** 3 * iterations / (time.perf_counter() - start), "n": n}))
"""


class TrialFailed(Exception):
    pass


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="peak_vs_matmul.py", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--precision", action="append", choices=("fp32", "tf32", "fp16", "bf16"),
                   help="precision to compare (repeatable; default fp32)")
    p.add_argument("--pairs", type=int, default=5, metavar="N", help="runner/plain pairs per precision (default 5)")
    p.add_argument("--warmup", type=int, default=5, metavar="K", help="untimed products (default 5)")
    p.add_argument("--iterations", type=int, default=20, metavar="N", help="timed products (default 20)")
    p.add_argument("--device", default="cpu", help="cpu, cuda, cuda:N or mps (default cpu)")
    return p


def run_runner(precision: str, args: argparse.Namespace) -> float:
    with tempfile.TemporaryDirectory(prefix="dlbench-bench-") as out:
        cmd = [sys.executable, str(RUNNER), "peak", "--framework", "torch", "--precision", precision,
               "--device", args.device, "--warmup", str(args.warmup), "--iterations", str(args.iterations),
               "--out", out]
        done = subprocess.run(cmd, capture_output=True, text=True)
        fragments = list(Path(out).glob("*.toml"))
        if done.returncode != 0 or len(fragments) != 1:
            raise TrialFailed(f"runner exited {done.returncode}: {done.stderr.strip()[-2000:]}")
        results = tomllib.loads(fragments[0].read_text())["results"]
        (matmul,) = [r for r in results if r["benchmark"] == "peak-matmul"]
        return float(matmul["metrics"]["achieved_flops_per_s"])


def run_plain(precision: str, args: argparse.Namespace) -> float:
    device = "cuda" if args.device == "cuda" else args.device
    done = subprocess.run([sys.executable, "-c", PLAIN, precision, device, str(args.warmup), str(args.iterations)],
                          capture_output=True, text=True)
    if done.returncode != 0:
        raise TrialFailed(f"plain loop exited {done.returncode}: {done.stderr.strip()[-2000:]}")
    return float(json.loads(done.stdout.strip().splitlines()[-1])["flops_per_s"])


def measure(precision: str, args: argparse.Namespace) -> bool:
    trials: dict[str, list[float]] = {"runner": [], "plain": []}
    print(f"{precision}: peak-matmul vs torch.matmul, device {args.device}, {args.warmup} + {args.iterations} "
          f"products, {args.pairs} pairs", flush=True)
    for pair in range(args.pairs):
        for which in (("runner", "plain") if pair % 2 == 0 else ("plain", "runner")):
            flops = run_runner(precision, args) if which == "runner" else run_plain(precision, args)
            trials[which].append(flops)
            print(f"  pair {pair + 1} {which:6s} {flops / 1e12:10.4f} TFLOP/s", flush=True)
    best = max(trials["runner"]) / max(trials["plain"])
    median = statistics.median(trials["runner"]) / statistics.median(trials["plain"])
    ok = all(abs(r - 1) <= TOLERANCE for r in (best, median))
    print(f"{precision}: FLOP/s runner / plain: best {best:.3f}, median {median:.3f} "
          f"(target within {TOLERANCE:.0%}: {'met' if ok else 'MISSED'})", flush=True)
    return ok


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.pairs < 1 or args.iterations < 1 or args.warmup < 0:
        print("peak_vs_matmul.py: --pairs and --iterations must be at least 1, --warmup at least 0", file=sys.stderr)
        return 2
    ok = True
    for precision in args.precision or ["fp32"]:
        try:
            ok = measure(precision, args) and ok
        except TrialFailed as exc:
            print(f"peak_vs_matmul.py: {precision}: {exc}", file=sys.stderr)
            return 1
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
