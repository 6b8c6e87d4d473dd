"""Accelerators: finding them (NVML, else the framework) and grouping them into schema accelerator entries.

The names are made canonical by `dlbench.contract.device_names` (`normalize_name`, `cpu_name`, `vendor_of`).
"""

from __future__ import annotations

from typing import Any, Callable, Iterable

from ...contract.device_names import normalize_name, vendor_of


def group_accelerators(devices: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    """One schema accelerator entry per distinct device, with `count` = how many identical ones there are.

    Each input dict describes ONE device (`kind`, `name` and optional schema fields; `count` is ignored);
    `normalized_name` and, when missing, `vendor` are filled in. Devices are identical when every field
    is equal. Entries keep the order in which each kind of device was first seen; absent (None) fields
    are dropped.
    """
    grouped: dict[tuple, dict[str, Any]] = {}
    for device in devices:
        entry = {k: v for k, v in device.items() if v is not None and k != "count"}
        entry.setdefault("normalized_name", normalize_name(entry["name"]))
        vendor = vendor_of(entry["normalized_name"])
        if vendor and "vendor" not in entry:
            entry["vendor"] = vendor
        key = tuple(sorted((k, repr(v)) for k, v in entry.items()))
        if key in grouped:
            grouped[key]["count"] += 1
        else:
            grouped[key] = {**entry, "count": 1}
    return [_ordered(entry) for entry in grouped.values()]


# Field name -> its place in an accelerator entry (the schema's order); other fields follow, by name.
_FIELD_RANK = {k: i for i, k in enumerate((
    "kind", "vendor", "name", "normalized_name", "count", "memory_bytes", "driver_version", "compute_capability",
    "power_limit_w", "pcie_id", "cores", "memory_bandwidth_bytes_per_s"))}


def _ordered(entry: dict[str, Any]) -> dict[str, Any]:
    return dict(sorted(entry.items(), key=lambda kv: (_FIELD_RANK.get(kv[0], len(_FIELD_RANK)), kv[0])))


# ---------------------------------------------------------------- finding devices


def nvml_devices() -> list[dict[str, Any]]:
    """One dict per NVIDIA GPU through NVML (nvidia-ml-py), or [] when NVML is missing."""
    try:
        import pynvml
    except ImportError:
        return []
    try:
        pynvml.nvmlInit()
    except pynvml.NVMLError:
        return []
    try:
        driver = _text(_try(pynvml.nvmlSystemGetDriverVersion))
        devices = []
        for i in range(pynvml.nvmlDeviceGetCount()):
            h = pynvml.nvmlDeviceGetHandleByIndex(i)
            memory = _try(lambda: pynvml.nvmlDeviceGetMemoryInfo(h).total)
            cc = _try(lambda: pynvml.nvmlDeviceGetCudaComputeCapability(h))
            power_mw = _try(lambda: pynvml.nvmlDeviceGetEnforcedPowerLimit(h))
            pci = _try(lambda: pynvml.nvmlDeviceGetPciInfo(h).pciDeviceId)
            cores = _try(lambda: pynvml.nvmlDeviceGetNumGpuCores(h))
            devices.append({
                "kind": "cuda", "vendor": "NVIDIA", "name": _text(pynvml.nvmlDeviceGetName(h)),
                "memory_bytes": int(memory) if memory else None, "driver_version": driver,
                "compute_capability": f"{cc[0]}.{cc[1]}" if cc else None,
                "power_limit_w": power_mw / 1000 if power_mw else None,
                "pcie_id": pcie_id(pci) if pci else None, "cores": int(cores) if cores else None,
            })
        return devices
    except pynvml.NVMLError:
        return []
    finally:
        _try(pynvml.nvmlShutdown)


def pcie_id(combined: int) -> str:
    """NVML's combined PCI id (device << 16 | vendor) as `vendor:device`, e.g. 0x250710DE -> 10de:2507."""
    return f"{combined & 0xFFFF:04x}:{combined >> 16 & 0xFFFF:04x}"


def framework_devices(framework: str) -> list[dict[str, Any]]:
    """One dict per CUDA, ROCm or XPU device as `framework` ("torch" or "tensorflow") sees it (imports it)."""
    if framework == "torch":
        return _torch_devices()
    if framework == "tensorflow":
        return _tf_devices()
    return []


def _torch_devices() -> list[dict[str, Any]]:
    import torch

    devices = []
    if torch.cuda.is_available():
        hip = getattr(torch.version, "hip", None)
        for i in range(torch.cuda.device_count()):
            p = torch.cuda.get_device_properties(i)
            arch = (getattr(p, "gcnArchName", "") or "").split(":")[0] if hip else f"{p.major}.{p.minor}"
            devices.append({"kind": "rocm" if hip else "cuda", "vendor": "AMD" if hip else "NVIDIA", "name": p.name,
                            "memory_bytes": int(p.total_memory), "compute_capability": arch or None})
    xpu = getattr(torch, "xpu", None)
    if xpu is not None and xpu.is_available():
        for i in range(xpu.device_count()):
            p = xpu.get_device_properties(i)
            devices.append({"kind": "xpu", "vendor": "Intel", "name": p.name,
                            "memory_bytes": int(getattr(p, "total_memory", 0)) or None})
    return devices


def _tf_devices() -> list[dict[str, Any]]:
    import tensorflow as tf

    rocm = tf.test.is_built_with_rocm()
    devices = []
    for gpu in tf.config.list_physical_devices("GPU"):
        details = tf.config.experimental.get_device_details(gpu)
        cc = details.get("compute_capability")
        devices.append({"kind": "rocm" if rocm else "cuda", "vendor": "AMD" if rocm else "NVIDIA",
                        "name": details.get("device_name") or gpu.name,
                        "compute_capability": f"{cc[0]}.{cc[1]}" if isinstance(cc, tuple) else cc})
    return devices


def _try(call: Callable[[], Any]) -> Any:
    try:
        return call()
    except Exception:  # noqa: BLE001 - NVML raises many NVMLError subclasses for unsupported queries
        return None


def _text(value: Any) -> str | None:
    return value.decode() if isinstance(value, bytes) else value
