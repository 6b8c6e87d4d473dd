"""A small dataset with known device-vs-device answers, for tools/versus.py and the page's comparison view.

Device A is an NVIDIA A100 SXM4 40GB, device B an NVIDIA V100 SXM2 16GB (both in the repository's catalogue:
the V100's entry lists no bf16 peak). Per workload (all on throughput_samples_per_s unless said):

- mnist-lenet5, fp32, batch 512: A 190, 200, 210 and B 95, 100, 105 (three runs each, from other commits):
  ratio 2 with an interval (cv 5 % on each side, n = 3: t(2) = 4.303).
- fashion-mnist-lenet5, fp32, batch 512: A 300, B 306, one result each: a tie (|r - 1| < 5 %), "single result".
- cifar10-cnn, fp32: A at batch 256 (400), B at batch 128 (100) only: a nearest-comparable pair, not in the summary.
- imagenet32-cnn, fp32: A at batch 1024 (50); B out of memory at 1024 and ok at 512 (30): A can, B cannot (oom,
  largest fit 512); B's batch 512 is a setting A did not measure; the nearest pair is 1024 vs 512.
- fwdbwd-resnet50, mixed-bf16, batch 64: A only (800): B cannot (its catalogue entry has no bf16 peak).
- fwdbwd-vgg16, fp32, batch 32: compute_s only (no throughput: its headline metric is a time), A 10 s, B 20 s:
  ratio 2 (lower is better, inverted).
- fwdbwd-alexnet, fp32, batch 128: A 1000 and a third device, an NVIDIA RTX 3090, 700; B none: not measured, with
  a prediction for B (the RTX 3090 also has mnist-lenet5 at 150).

The summary: geometric mean of 2, 300/306 and 2 over 3 comparable settings; wins / ties / losses 2 / 1 / 0.
"""

from __future__ import annotations

import copy
import math
from pathlib import Path
from typing import Any

from dlbench.contract.fragment import with_run_id
from dlbench.store.synthetic import synthetic_run, write_dataset

A = "NVIDIA A100 SXM4 40GB"
B = "NVIDIA V100 SXM2 16GB"
C = "NVIDIA RTX 3090"              # a third device: what a prediction of B is fitted on, with A
A_LABEL, B_LABEL = f"{A} (cuda)", f"{B} (cuda)"
GEOMEAN = math.exp((math.log(2.0) + math.log(300 / 306) + math.log(2.0)) / 3)
PAIR_HALF = 4.302652730 * math.sqrt(2 * 0.05 ** 2 / 3)     # log half-width of mnist-lenet5's interval


def _run(i: int, device: str, workload: str, precision: str, batch: int, status: str = "ok",
         throughput: float | None = None, compute_s: float | None = None) -> dict[str, Any]:
    run = copy.deepcopy(synthetic_run(i))
    acc = {"kind": "cuda", "vendor": "NVIDIA", "name": device, "normalized_name": device, "count": 1,
           "memory_bytes": 16 * 2**30, "compute_capability": "8.0", "driver_version": "550.54.15"}
    run["system"]["accelerators"] = [acc]
    res = run["results"][0]
    res.update(benchmark=workload, device_kind="cuda", device_name=device, precision=precision, batch_size=batch,
               status=status)
    metrics = {}
    if throughput is not None:
        metrics["throughput_samples_per_s"] = throughput
    if compute_s is not None:
        metrics["compute_s"] = compute_s
    res["metrics"] = metrics
    if status == "oom":
        res["message"] = "CUDA out of memory. Tried to allocate 2.00 GiB"
        res["metrics"] = {}
    run["provenance"]["git_commit"] = f"{i + 1:040x}"
    return with_run_id(run)


def runs() -> list[dict[str, Any]]:
    spec = [
        (A, "mnist-lenet5", "fp32", 512, "ok", 190, None), (A, "mnist-lenet5", "fp32", 512, "ok", 200, None),
        (A, "mnist-lenet5", "fp32", 512, "ok", 210, None),
        (B, "mnist-lenet5", "fp32", 512, "ok", 95, None), (B, "mnist-lenet5", "fp32", 512, "ok", 100, None),
        (B, "mnist-lenet5", "fp32", 512, "ok", 105, None),
        (A, "fashion-mnist-lenet5", "fp32", 512, "ok", 300, None), (B, "fashion-mnist-lenet5", "fp32", 512, "ok", 306, None),
        (A, "cifar10-cnn", "fp32", 256, "ok", 400, None), (B, "cifar10-cnn", "fp32", 128, "ok", 100, None),
        (A, "imagenet32-cnn", "fp32", 1024, "ok", 50, None), (B, "imagenet32-cnn", "fp32", 1024, "oom", None, None),
        (B, "imagenet32-cnn", "fp32", 512, "ok", 30, None),
        (A, "fwdbwd-resnet50", "mixed-bf16", 64, "ok", 800, None),
        (A, "fwdbwd-vgg16", "fp32", 32, "ok", None, 10.0), (B, "fwdbwd-vgg16", "fp32", 32, "ok", None, 20.0),
        (A, "fwdbwd-alexnet", "fp32", 128, "ok", 1000, None), (C, "fwdbwd-alexnet", "fp32", 128, "ok", 700, None),
        (C, "mnist-lenet5", "fp32", 512, "ok", 150, None),
    ]
    return [_run(i, *s) for i, s in enumerate(spec)]


def write(root: Path) -> Path:
    """The dataset as `tools/merge.py` writes it, under `root` (data/ and its API)."""
    write_dataset(root, runs())
    return root
