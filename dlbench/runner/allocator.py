"""The host memory allocator's settings, fixed before a measurement so that they do not depend on history.

Why: glibc's malloc serves a large request with a fresh `mmap` and hands it back on `free`; it also returns
free memory at the top of its heap to the kernel once more than a trim threshold is free. Both thresholds
move by themselves ("dynamic mmap threshold"): each time a mapped block of up to 32 MiB is freed, the mmap
threshold rises to its size and the trim threshold to twice that. So whether a training step's temporary
tensors are recycled in place or mapped, zero-filled by the kernel page by page and unmapped again at every
step depends on which blocks the process happened to free before training (dataset decoding, earlier
phases, imports). Measured with LeNet-5 in PyTorch on a 2-core CPU (benchmarks/bare_train.py, 3 epochs): on
the unlucky side the process took 3.85 million page faults (about 11,000 per step) and 14.2 s of system time
in 39.6 s, with epochs of 11.0-11.4 s; with the thresholds fixed, 0.28 million faults, 1.6 s of system time
and epochs of 7.9-8.7 s, about 1.4x faster. A runner invocation and a
user's minimal script can fall on either side, which is what made the runner command slower than a minimal
process.

What: before the framework is imported, the runner fixes both thresholds (`mallopt`, which also switches the
dynamic adjustment off): blocks up to 32 MiB (glibc's largest mmap threshold) come from the heap, and the heap
keeps up to 1 GiB of free memory instead of trimming it, so steps reuse memory that is already mapped. A value
the user set in the environment (`MALLOC_MMAP_THRESHOLD_`, `MALLOC_TRIM_THRESHOLD_`, glibc's own names, read
by glibc at start-up) is kept. The values in force are put into the environment under those names, so the
fragment records them (`provenance.environment`) and child processes inherit the same allocator. Nothing is
done where the C library is not glibc (macOS, Windows, musl).
"""

from __future__ import annotations

import ctypes
import os
import platform

# glibc's mallopt parameter numbers (malloc.h).
M_TRIM_THRESHOLD = -1
M_MMAP_THRESHOLD = -3

MMAP_THRESHOLD_BYTES = 32 * 1024 * 1024   # glibc's DEFAULT_MMAP_THRESHOLD_MAX on 64-bit systems
TRIM_THRESHOLD_BYTES = 1024 * 1024 * 1024

# environment name -> (mallopt parameter, the runner's value)
SETTINGS = {
    "MALLOC_MMAP_THRESHOLD_": (M_MMAP_THRESHOLD, MMAP_THRESHOLD_BYTES),
    "MALLOC_TRIM_THRESHOLD_": (M_TRIM_THRESHOLD, TRIM_THRESHOLD_BYTES),
}


def is_glibc() -> bool:
    return platform.system() == "Linux" and platform.libc_ver()[0] == "glibc"


def fix_thresholds() -> dict[str, str]:
    """Fix glibc's mmap and trim thresholds (the user's values when set, else the runner's) and return the
    settings in force as environment entries; {} where the C library is not glibc or refuses."""
    if not is_glibc():
        return {}
    try:
        mallopt = ctypes.CDLL(None).mallopt
    except (OSError, AttributeError):
        return {}
    mallopt.argtypes, mallopt.restype = (ctypes.c_int, ctypes.c_int), ctypes.c_int
    applied: dict[str, str] = {}
    for name, (param, default) in SETTINGS.items():
        given = os.environ.get(name, "").strip()
        if given:  # glibc applied it at start-up; keep it and record it
            applied[name] = given
            continue
        if mallopt(param, default) == 1:
            os.environ[name] = applied[name] = str(default)
    return applied
