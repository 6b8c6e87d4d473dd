"""dlbench.runner.allocator: glibc's malloc thresholds fixed before training, in fresh processes.

The probe reproduces, with plain malloc/free, the history effect that made the runner command and a minimal
training script train at different speeds: once glibc has freed one mapped 10 MiB block, its trim threshold
is 20 MiB, so a step that frees 27 MiB hands it back to the kernel and the next step faults every page in
again. With the thresholds fixed, the same steps reuse the memory and fault nothing.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from dlbench.runner import allocator
from conftest import REPO

pytestmark = pytest.mark.skipif(not allocator.is_glibc(), reason="glibc only")

PROBE = """
import ctypes, json, resource, sys
from dlbench.runner import allocator
applied = allocator.fix_thresholds() if sys.argv[1] == "fixed" else {}
libc = ctypes.CDLL(None)
libc.malloc.restype, libc.malloc.argtypes = ctypes.c_void_p, (ctypes.c_size_t,)
libc.free.argtypes = (ctypes.c_void_p,)
MB = 1 << 20
def step(sizes):
    blocks = [libc.malloc(s) for s in sizes]
    for b, s in zip(blocks, sizes):
        ctypes.memset(b, 1, s)
    for b in blocks:
        libc.free(b)
step([10 * MB])
step([9 * MB] * 3)
before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
for _ in range(20):
    step([9 * MB] * 3)
faults = resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before
env = {k: v for k, v in __import__("os").environ.items() if k.startswith("MALLOC_")}
print(json.dumps({"faults": faults, "applied": applied, "env": env}))
"""


def _probe(mode: str, **env: str) -> dict:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("MALLOC_")}
    done = subprocess.run([sys.executable, "-c", PROBE, mode], cwd=REPO, env={**clean, **env},
                          capture_output=True, text=True, check=True)
    return json.loads(done.stdout)


def test_left_to_glibc_every_step_faults_its_memory_in_again():
    out = _probe("plain")
    # 20 steps x 27 MiB / 4 KiB pages = 138,240 pages; allow for pages glibc keeps.
    assert out["faults"] > 100_000, out


def test_fixed_thresholds_make_the_steps_reuse_memory_and_are_recorded_in_the_environment():
    out = _probe("fixed")
    assert out["faults"] < 100, out
    expected = {"MALLOC_MMAP_THRESHOLD_": str(32 * 1024 * 1024), "MALLOC_TRIM_THRESHOLD_": str(1024 ** 3)}
    assert out["applied"] == expected
    assert out["env"] == expected  # inherited by child processes, read by the probe into the fragment


def test_a_threshold_the_user_set_is_kept_and_recorded_as_given():
    out = _probe("fixed", MALLOC_TRIM_THRESHOLD_="4096")
    assert out["applied"] == {"MALLOC_MMAP_THRESHOLD_": str(32 * 1024 * 1024), "MALLOC_TRIM_THRESHOLD_": "4096"}
    assert out["faults"] > 100_000  # a 4 KiB trim threshold hands every step's memory back, as asked
