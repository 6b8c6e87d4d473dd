"""The memory tracker: peak host resident memory and the framework's peak device memory.

Host: the kernel's own high-water mark of the process's resident set (`getrusage` ru_maxrss; the peak working
set on Windows), which costs nothing while the workload runs: no sampling thread competes with it. It is the
peak of the whole process (framework import, dataset and training included).
Device: the framework's allocator statistics, reset at the start of each repeat (PyTorch:
`torch.cuda.max_memory_allocated` / `max_memory_reserved`; TensorFlow: `get_memory_info(...)["peak"]`).
"""

from __future__ import annotations

import sys
from typing import Any

import psutil


def peak_host_rss_bytes() -> int:
    """Peak resident set size of this process so far, in bytes."""
    try:
        import resource
    except ImportError:  # Windows
        info = psutil.Process().memory_info()
        return int(getattr(info, "peak_wset", info.rss))
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    # Linux reports kibibytes, macOS bytes.
    return int(peak if sys.platform == "darwin" else peak * 1024)


class MemoryTracker:
    """Resets the backend's device peak at `start()`; `metrics()` gives the peaks as schema metrics."""

    def __init__(self, backend: Any):
        self._backend = backend

    def start(self) -> None:
        self._backend.reset_peak_memory()

    def metrics(self) -> dict[str, int]:
        out = {"peak_host_rss_bytes": peak_host_rss_bytes()}
        out.update(self._backend.peak_memory())
        return out
