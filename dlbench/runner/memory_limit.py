"""`--memory-limit BYTES` of a batch-size sweep: reading the size, and bounding one point's process by it.

On a CPU the bound is the process's address space (`RLIMIT_AS`, Linux): every mapping the process makes
counts (shared libraries, thread stacks, allocator arenas, tensors), so the address space is larger than the
resident memory the sweep records (`peak_host_rss_bytes`). An allocation past the limit fails as it would on
a full machine: PyTorch raises "DefaultCPUAllocator: can't allocate memory", TensorFlow logs "OOM when
allocating tensor" (and may then abort). Importing the framework alone maps about 630 MiB (PyTorch 2.13) and
1.2 GiB (TensorFlow 2.21) here: CPU_FLOOR_BYTES refuses a limit below what no framework can start in.

On an accelerator the bound is the framework allocator's cap: PyTorch's
`torch.cuda.set_per_process_memory_fraction(limit / total)` (the caching allocator refuses to reserve more,
raising torch.cuda.OutOfMemoryError), TensorFlow's logical device with `memory_limit` in MiB (its BFC
allocator then raises ResourceExhaustedError). The CUDA context and libraries live outside either cap.
"""

from __future__ import annotations

import math
import os
import re
import sys
from typing import Any

from .backends.base import UsageError

MiB = 2**20
GiB = 2**30
# Below these no framework can even be imported (address space, measured with PyTorch 2.13 / TensorFlow 2.21 on
# Linux x86-64: 630 MiB / 1.2 GiB right after the import): a usage error, not a sweep that runs out at batch 1.
CPU_FLOOR_BYTES = {"torch": 512 * MiB, "tensorflow": 1 * GiB}

_UNITS = {"": 1, "b": 1, "k": 10**3, "kb": 10**3, "m": 10**6, "mb": 10**6, "g": 10**9, "gb": 10**9,
          "t": 10**12, "tb": 10**12, "kib": 2**10, "mib": 2**20, "gib": 2**30, "tib": 2**40}
_SIZE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([a-zA-Z]*)\s*$")


def parse_bytes(text: str) -> int:
    """A size such as `6GiB`, `512MiB`, `2G`, `1.5GB` or `1073741824`, in bytes (ValueError saying what is
    accepted otherwise). K, M, G, T (with or without B) are powers of 1000; KiB, MiB, GiB, TiB powers of 1024."""
    m = _SIZE.match(text)
    unit = m.group(2).lower() if m else ""
    if not m or unit not in _UNITS:
        raise ValueError(f"{text!r} is not a size: give a number of bytes, optionally with a unit such as 6GiB, "
                         "512MiB or 2G (K, M, G, T are powers of 1000; KiB, MiB, GiB, TiB powers of 1024)")
    value = float(m.group(1)) * _UNITS[unit]
    if value < 1 or not math.isfinite(value) or value > 2**53:
        raise ValueError(f"{text!r}: the size must be between 1 byte and 8 PiB")
    return int(value)


def format_bytes(n: float) -> str:
    """A size for people: `6 GiB`, `1.5 GiB`, `512 MiB`, `300 B`."""
    for unit, scale in (("TiB", 2**40), ("GiB", GiB), ("MiB", MiB), ("KiB", 2**10)):
        if abs(n) >= scale:
            return f"{n / scale:.4g} {unit}"
    return f"{n:.0f} B"


# ---------------------------------------------------------------- the host: RLIMIT_AS


def address_space_limit_supported() -> bool:
    """Whether RLIMIT_AS is enforced here (Linux; macOS accepts it and ignores it, Windows has none)."""
    return sys.platform.startswith("linux")


def limit_address_space(limit: int) -> None:
    """Bound this process's address space (soft and hard, so nothing it starts can lift it) to `limit`."""
    import resource

    resource.setrlimit(resource.RLIMIT_AS, (limit, limit))


def check_host_limit(limit: int, framework: str, machine_bytes: int) -> None:
    """UsageError when `limit` cannot bound a CPU point: more than the machine has, below the framework's floor,
    or an OS where RLIMIT_AS is not enforced."""
    if not address_space_limit_supported():
        raise UsageError(f"--memory-limit {format_bytes(limit)}: on a CPU it is an address-space limit "
                         f"(RLIMIT_AS), which {sys.platform} does not enforce; drop it and bound the sweep with "
                         "--max-batch")
    if limit > machine_bytes:
        raise UsageError(f"--memory-limit {format_bytes(limit)} ({limit} bytes): this machine has "
                         f"{format_bytes(machine_bytes)} ({machine_bytes} bytes) of memory; give at most that")
    floor = CPU_FLOOR_BYTES.get(framework, 512 * MiB)
    if limit < floor:
        raise UsageError(f"--memory-limit {format_bytes(limit)} ({limit} bytes) is too small for {framework} to "
                         f"start: importing it alone maps more than {format_bytes(floor)} of address space; give "
                         "at least that, and room for the model and its batch")


# ---------------------------------------------------------------- accelerators: the allocator's cap


def check_device_limit(limit: int, total: int | None, where: str) -> None:
    """UsageError when `limit` is more than the device's `total` memory (unknown total: no check)."""
    if total is not None and limit > total:
        raise UsageError(f"--memory-limit {format_bytes(limit)} ({limit} bytes): {where} has "
                         f"{format_bytes(total)} ({total} bytes) of memory; give at most that")


def torch_fraction(limit: int, total: int) -> float:
    """The fraction of the device's memory `torch.cuda.set_per_process_memory_fraction` takes for `limit` bytes:
    rounded down (at 1e-9 of the device), so that the cap never exceeds the limit; at most 1."""
    if total <= 0:
        raise ValueError("the device's total memory must be positive")
    return min(1.0, math.floor(limit / total * 1e9) / 1e9)


def tf_memory_limit_mib(limit: int) -> int:
    """TensorFlow's `LogicalDeviceConfiguration(memory_limit=...)` for `limit` bytes: whole MiB, rounded down
    (so that the cap never exceeds the limit), at least 1."""
    return max(1, limit // MiB)


def nvml_total(devices: list[dict[str, Any]], index: int, visible: str | None) -> int | None:
    """The memory of the framework's GPU `index` from NVML's list (which ignores CUDA_VISIBLE_DEVICES: a
    numeric `visible` list maps the framework's index to NVML's); None when it cannot be told."""
    if visible is not None and visible.strip():
        try:
            order = [int(part) for part in visible.split(",")]
        except ValueError:  # UUIDs or MIG names: no mapping to NVML's order
            return None
        if index >= len(order):
            return None
        index = order[index]
    if not 0 <= index < len(devices):
        return None
    return devices[index].get("memory_bytes")


def cap_accelerator(backend: Any, limit: int) -> None:
    """Cap the allocator of the backend's accelerator (cuda or rocm) at `limit` bytes, before the workload
    allocates anything; UsageError for a limit over the device's memory, or a device the cap cannot bound."""
    device = backend.device
    where = f"{device.kind}:{device.index} ({device.raw_name or 'the device'})"
    if device.kind not in ("cuda", "rocm"):
        raise UsageError(f"--memory-limit: {backend.name} has no memory cap for a {device.kind} device; drop it "
                         "and bound the sweep with --max-batch")
    if backend.name == "torch":
        import torch

        total = int(torch.cuda.get_device_properties(device.index).total_memory)
        check_device_limit(limit, total, where)
        torch.cuda.set_per_process_memory_fraction(torch_fraction(limit, total), device.index)
    elif backend.name == "tensorflow":
        import tensorflow as tf

        from .system.devices import nvml_devices

        check_device_limit(limit, nvml_total(nvml_devices(), device.index, os.environ.get("CUDA_VISIBLE_DEVICES")),
                           where)
        gpu = tf.config.list_physical_devices("GPU")[device.index]
        # A logical device configuration makes TensorFlow ignore set_memory_growth and reserve the whole limit up
        # front (and every other GPU whole): growth forced on keeps the allocator growing as needed, as in a plain
        # run, up to the limit. Read when TensorFlow creates its devices, after this.
        os.environ["TF_FORCE_GPU_ALLOW_GROWTH"] = "true"
        # Before TensorFlow initializes its devices (the backend has only listed them): afterwards it refuses.
        tf.config.set_logical_device_configuration(
            gpu, [tf.config.LogicalDeviceConfiguration(memory_limit=tf_memory_limit_mib(limit))])
    else:
        raise UsageError(f"--memory-limit: no accelerator memory cap is known for {backend.name}")
