"""The registry of workloads. A new workload is a `Workload` in a module (one per workload or per family) and
its module named here.

Each declares its scenario (train, step, infer, peak: dlbench.runner.scenarios), dataset (`synthetic` for
input generated on the device), model, input (kind, shape, classes or vocabulary), default batch, epochs,
warm-up and iterations, and version.
"""

from __future__ import annotations

from . import cifar, fashion_mnist_lenet5, fwdbwd, infer, mnist_lenet5, peak, thesis
from .base import InputSpec, Preprocess, Workload

WORKLOADS: dict[str, Workload] = {w.name: w for w in (
    mnist_lenet5.WORKLOAD,
    fashion_mnist_lenet5.WORKLOAD,
    *cifar.WORKLOADS,
    *thesis.WORKLOADS,
    *fwdbwd.WORKLOADS,
    *infer.WORKLOADS,
    peak.WORKLOAD,
)}


def get(name: str) -> Workload:
    """The workload called `name`; KeyError when there is none."""
    return WORKLOADS[name]


__all__ = ["WORKLOADS", "InputSpec", "Preprocess", "Workload", "get"]
