"""The memory tracker: peak host resident memory and the framework's peak device memory.

Host: the kernel's own high-water mark of the process's resident set (on Linux VmHWM of /proc/self/status,
elsewhere `getrusage` ru_maxrss; the peak working set on Windows), which costs nothing while the workload runs:
no sampling thread competes with it. It is the peak of the whole process (framework import, dataset and training
included). On Linux ru_maxrss is kept across execve, so a process started by a large one (the workers of
`--devices`, started by the runner or by torchrun) would report its parent's resident set; VmHWM is the
high-water mark of this process's own memory image only.
Device: the framework's allocator statistics, reset at the start of each repeat (PyTorch:
`torch.cuda.max_memory_allocated` / `max_memory_reserved`; TensorFlow: `get_memory_info(...)["peak"]`).
"""

from __future__ import annotations

import sys
from typing import Any

import psutil


def peak_host_rss_bytes() -> int:
    """Peak resident set size of this process so far, in bytes."""
    if sys.platform.startswith("linux"):
        try:
            with open("/proc/self/status", encoding="ascii", errors="replace") as f:
                for line in f:
                    if line.startswith("VmHWM:"):
                        return int(line.split()[1]) * 1024  # kB
        except (OSError, ValueError, IndexError):
            pass
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
