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
import sys

import _pairs

PROG = "peak_vs_matmul.py"
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


def build_parser() -> argparse.ArgumentParser:
    p = _pairs.parser(PROG, __doc__)
    p.add_argument("--precision", action="append", choices=("fp32", "tf32", "fp16", "bf16"),
                   help="precision to compare (repeatable; default fp32)")
    _pairs.add_pairs(p, "runner/plain pairs per precision (default 5)")
    p.add_argument("--warmup", type=int, default=5, metavar="K", help="untimed products (default 5)")
    p.add_argument("--iterations", type=int, default=20, metavar="N", help="timed products (default 20)")
    p.add_argument("--device", default="cpu", help="cpu, cuda, cuda:N or mps (default cpu)")
    return p


def run_runner(precision: str, args: argparse.Namespace) -> float:
    results = _pairs.run_fragment(["peak", "--framework", "torch", "--precision", precision, "--device", args.device,
                                   "--warmup", str(args.warmup), "--iterations", str(args.iterations)])["results"]
    (matmul,) = [r for r in results if r["benchmark"] == "peak-matmul"]
    return float(matmul["metrics"]["achieved_flops_per_s"])


def run_plain(precision: str, args: argparse.Namespace) -> float:
    cmd = [sys.executable, "-c", PLAIN, precision, args.device, str(args.warmup), str(args.iterations)]
    return float(_pairs.run_json(cmd, "plain loop")["flops_per_s"])


def measure(precision: str, args: argparse.Namespace) -> bool:
    print(f"{precision}: peak-matmul vs torch.matmul, device {args.device}, {args.warmup} + {args.iterations} "
          f"products, {args.pairs} pairs", flush=True)
    trials = _pairs.interleave(args.pairs, {"runner": lambda pair: run_runner(precision, args),
                                            "plain": lambda pair: run_plain(precision, args)},
                               show=lambda flops: f"{flops / 1e12:10.4f} TFLOP/s")
    found = _pairs.ratios(trials["runner"], trials["plain"], best=max)
    ok = all(abs(r - 1) <= TOLERANCE for r in found)
    print(_pairs.summary(precision, "FLOP/s", ("runner", "plain"), "best", found, f"within {TOLERANCE:.0%}", ok),
          flush=True)
    return ok


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.pairs < 1 or args.iterations < 1 or args.warmup < 0:
        return _pairs.usage_error(PROG, "--pairs and --iterations must be at least 1, --warmup at least 0")
    return _pairs.each(PROG, args.precision or ["fp32"], lambda precision: measure(precision, args))


if __name__ == "__main__":
    sys.exit(main())
