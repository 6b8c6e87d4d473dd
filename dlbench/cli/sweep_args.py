"""The batch-size sweep options of `runners/run.py` (--batch-sweep and its bounds) and their usage errors."""

from __future__ import annotations

import argparse
from typing import Any

from ..runner.memory_limit import parse_bytes
from ..runner.sweep import SweepFailed, SweepOptions, summary
from ..runner.sweep import measure_sweep as measure
from ..runner.sweep_search import DEFAULT_RESOLUTION, parse_resolution
from .common import argument_type, positive_int

__all__ = ["SweepFailed", "add_options", "check", "measure", "options", "summary"]

SWEEP_OPTIONS = (("--batch-start", "batch_start"), ("--max-batch", "max_batch"),
                 ("--sweep-resolution", "sweep_resolution"), ("--memory-limit", "memory_limit"))
SCENARIOS = ("step", "infer")


_bytes = argument_type(parse_bytes)
_resolution = argument_type(parse_resolution)


def add_options(p: argparse.ArgumentParser) -> None:
    g = p.add_argument_group("batch-size sweep (step and infer workloads)")
    g.add_argument("--batch-sweep", action="store_true",
                   help="find the largest batch that fits: the batch doubles from --batch-start until a batch "
                        "runs out of memory (or --max-batch fits), then bisects between the last batch that fitted "
                        "and the first that did not until they are --sweep-resolution apart; each batch (point) "
                        "runs in a fresh process, measured as a plain run at that batch is. One result: that of the "
                        "largest batch that fitted, with the whole curve (throughput, step time, peak device and "
                        "host memory, ok/oom/error per point) and memory per sample and fixed memory fitted by "
                        "least squares (with its RMS residual)")
    g.add_argument("--batch-start", type=positive_int, metavar="B",
                   help="--batch-sweep: the first batch tried (default 1)")
    g.add_argument("--max-batch", type=positive_int, metavar="M",
                   help="--batch-sweep: the largest batch tried (default: no bound; the doubling's last step is "
                        "cut to M, and the sweep ends there if M fits)")
    g.add_argument("--sweep-resolution", type=_resolution, metavar="R",
                   help="--batch-sweep: bisect until the largest batch that fitted and the smallest that did not "
                        "are at most R samples apart (1: the exact largest batch), or R%% of the last batch that "
                        "fitted when the doubling stopped, at least 1 (default "
                        f"{DEFAULT_RESOLUTION.replace('%', '%%')}: about five bisection points); the resolution used "
                        "is recorded")
    g.add_argument("--memory-limit", type=_bytes, metavar="BYTES",
                   help="--batch-sweep: the memory each point may use, e.g. 6GiB, 512MiB, 2G (K/M/G/T powers of "
                        "1000, KiB/MiB/GiB/TiB of 1024). On a CPU (Linux): the address space of each point's process "
                        "(RLIMIT_AS, set before the framework is imported; larger than the resident memory "
                        "recorded, as libraries and thread stacks count; default: the memory available when the "
                        "sweep starts); on a CUDA or ROCm GPU: the framework allocator's cap "
                        "(torch.cuda.set_per_process_memory_fraction, TensorFlow's logical device memory_limit; "
                        "default: none, the whole device). More than the machine or device has, or too little "
                        "for the framework to start, is a usage error")


def check(parser: argparse.ArgumentParser, args: argparse.Namespace, workload: Any) -> None:
    """Usage errors of the sweep options (before any import)."""
    if not args.batch_sweep:
        for option, name in SWEEP_OPTIONS:
            if getattr(args, name) is not None:
                parser.error(f"{option}: only with --batch-sweep (it bounds a batch-size sweep)")
        return
    if workload.scenario not in SCENARIOS:
        parser.error(f"--batch-sweep: the {workload.scenario} scenario of {workload.name} has no batch-size sweep "
                     f"(the step and infer workloads have: see --list)")
    if args.batch_size is not None:
        parser.error("--batch-size: a sweep chooses the batches itself; give its first batch with --batch-start "
                     "instead")
    if getattr(args, "devices", None):
        parser.error("--batch-sweep: a sweep runs on one device; drop --devices (or sweep each count apart)")
    if args.batch_start is not None and args.max_batch is not None and args.batch_start > args.max_batch:
        parser.error(f"--batch-start {args.batch_start} is above --max-batch {args.max_batch}")


def options(args: argparse.Namespace) -> SweepOptions:
    """The SweepOptions the arguments ask for."""
    return SweepOptions(start=args.batch_start or 1, max_batch=args.max_batch,
                        resolution=args.sweep_resolution or parse_resolution(DEFAULT_RESOLUTION),
                        memory_limit_bytes=args.memory_limit)
