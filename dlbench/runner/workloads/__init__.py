"""The registry of workloads. A new workload is one new module with a `WORKLOAD` and one line here."""

from __future__ import annotations

from . import fashion_mnist_lenet5, mnist_lenet5
from .base import Workload

WORKLOADS: dict[str, Workload] = {w.name: w for w in (
    mnist_lenet5.WORKLOAD,
    fashion_mnist_lenet5.WORKLOAD,
)}


def get(name: str) -> Workload:
    """The workload called `name`; KeyError when there is none."""
    return WORKLOADS[name]


__all__ = ["WORKLOADS", "Workload", "get"]
