"""Lambda's TensorFlow training benchmark (lambdal/lambda-tensorflow-benchmark), as imported runs.

Source `lambda-tensorflow` (pinned c17619db, April 2021): `tf-train-throughput-{fp16,fp32}.csv` with their
batch-size twins `tf-train-bs-{fp16,fp32}.csv`, columns `name_gpu,num_gpu,alexnet,inception3,inception4,
resnet152,resnet50,vgg16` in any order. Read as `lambda_pytorch` reads Lambda's PyTorch tables (one run per
row, a result per model cell, the device strings through the same explicit tables, the twin row by system,
0 / -1 cells no result): see that module. Differences:

- The workloads are tf_cnn_benchmarks' CNNs trained on SYNTHETIC data (dataset `synthetic`, replicated
  variables), a fixed number of timed batches after warm-up: the `step` scenario. Workload ids
  `lambda-tf-<model>`, framework `tensorflow`; figures are images/s, system totals over `num_gpu`
  (`device_count` = `num_gpu`).
- Batch sizes: the batch table gives the GLOBAL batch (the per-GPU `--batch_size` times `num_gpu`);
  `batch_size` is global / num_gpu when it divides, and the global batch stays in `provenance.original` as
  `bs_<column>`.
- Precision: the fp16 table ran `--use_fp16`, which keeps FP32 variables and computes in FP16 with loss
  scaling: automatic mixed precision in effect, so `mixed-fp16`; the fp32 table is `fp32` (on Ampere GPUs the
  TensorFlow of the time very likely used TF32 for it: UNCONFIRMED, said in `provenance.notes`).
- No `watt` or `price` columns.
- License: the repository's LICENSE is the BSD 3-Clause text (with the organization's name left blank in the
  third clause), `Copyright (c) 2018, Lambda Labs, Inc.`: SPDX `BSD-3-Clause`, attributed as it asks
  (the copyright notice and the license's conditions kept with redistributed figures).
"""

from __future__ import annotations

from pathlib import Path
from .lambda_pytorch import Model, Table, read_tables
from .published import Pin, Reading
from .sources import Source

REPOSITORY = "lambdal/lambda-tensorflow-benchmark"
PINNED = "c17619db95dca6819821bed1260b9d544ddcb948"
TITLE = "Lambda deep learning benchmarks (TensorFlow)"
LICENSE = "BSD-3-Clause"
ATTRIBUTION = ("Copyright (c) 2018, Lambda Labs, Inc. All rights reserved. lambdal/lambda-tensorflow-benchmark, "
               "used under the BSD 3-Clause license (redistributions retain this notice, the license's "
               "conditions and its disclaimer)")

_IMAGES = "throughput_samples_per_s"
MODELS: dict[str, Model] = {
    "alexnet": Model("AlexNet", _IMAGES, "images/s", "synthetic"),
    "inception3": Model("Inception v3", _IMAGES, "images/s", "synthetic"),
    "inception4": Model("Inception v4", _IMAGES, "images/s", "synthetic"),
    "resnet152": Model("ResNet-152", _IMAGES, "images/s", "synthetic"),
    "resnet50": Model("ResNet-50", _IMAGES, "images/s", "synthetic"),
    "vgg16": Model("VGG-16", _IMAGES, "images/s", "synthetic"),
}


def tables() -> list[Table]:
    return [Table(f"tf-train-throughput-{p}.csv", f"tf-train-bs-{p}.csv", p, tuple(MODELS), "lambda-tf", None,
                  f"TensorFlow training table, {p}",
                  "Lambda TensorFlow benchmark: tf_cnn_benchmarks, synthetic data; figures are totals over "
                  "num_gpu; batch sizes are global (batch-size table)",
                  framework="tensorflow", extra=(), mixed=frozenset(MODELS), models_info=MODELS,
                  tf32_note="fp32 table on an Ampere GPU: TensorFlow very likely used TF32 for FP32 matrix math "
                            "(UNCONFIRMED); recorded as fp32, as published")
            for p in ("fp16", "fp32")]


def read(folder: Path, pin: Pin) -> Reading:
    """`lambda-tensorflow`: the fp16 and fp32 training tables of a checkout."""
    return read_tables(folder, pin, tables(), title=TITLE, license=LICENSE, attribution=ATTRIBUTION)


SOURCES = (
    Source("lambda-tensorflow", REPOSITORY, "Lambda TensorFlow training throughput (tf_cnn_benchmarks, "
           "synthetic data) with its batch-size tables", "tf-train-{throughput,bs}-{fp16,fp32}.csv", PINNED,
           read=read),
)
