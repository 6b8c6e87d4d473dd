"""Accelerators: finding them (NVML, else the framework) and naming them canonically.

Canonical names make the same hardware compare equal across drivers, frameworks and imports.

Accelerators (`normalize_name`), applied in order:

1. trademark marks go: `(R)`, `(TM)`, `(C)`, `®`, `™`;
2. brand words that drivers add or drop for the same chip go: `GeForce`, `Tesla`
   (`NVIDIA GeForce RTX 3090`, `GeForce RTX 3090` -> `NVIDIA RTX 3090`; `Tesla V100-SXM2-16GB` ->
   `NVIDIA V100 SXM2 16GB`); product-line words that distinguish chips stay (`Quadro`, `TITAN`, `Laptop GPU`);
3. data-centre variant suffixes are spaced, not hyphenated (`A100-SXM4-40GB` -> `A100 SXM4 40GB`),
   `PCIE` is spelled `PCIe`, memory sizes are written `40GB` (`40 GB`, `40GiB` -> `40GB`);
4. whitespace is collapsed, and the vendor (`NVIDIA`, `AMD`, `Intel`, `Apple`) is put in front when the
   name lacks it (`RTX 3050` -> `NVIDIA RTX 3050`, `Radeon RX 7900 XTX` -> `AMD Radeon RX 7900 XTX`,
   `M2 Pro` -> `Apple M2 Pro`).

CPUs (`cpu_name`): the same trademark and whitespace rules, and the parts of brand strings that vary for
one chip go: the clock (`CPU @ 3.70GHz`), `N-Core Processor`, `Processor`, the word `CPU`, and
`with Radeon Graphics` (`Intel(R) Core(TM) i7-8700K CPU @ 3.70GHz` -> `Intel Core i7-8700K`,
`AMD Ryzen 5 3600 6-Core Processor` -> `AMD Ryzen 5 3600`).
"""

from __future__ import annotations

import re
from typing import Any, Callable, Iterable

_MARKS = (r"\((?:R|TM|C)\)|[®™]", "")

# (pattern, replacement) applied in order to accelerator names.
GPU_RULES: list[tuple[str, str]] = [
    _MARKS,
    (r"\b(?:GeForce|Tesla)\b", ""),
    (r"-(?=(?:SXM\d*|PCIE|NVL|LS|HBM\d*e?|\d+\s?Gi?B)\b)", " "),
    (r"\bPCIE\b", "PCIe"),
    (r"(\d+)\s?Gi?B\b", r"\1GB"),
    (r"^nvidia\b", "NVIDIA"),
    (r"\s+", " "),
]

# (pattern matching a name without its vendor, vendor to put in front).
VENDOR_RULES: list[tuple[str, str]] = [
    (r"^M\d(?: (?:Pro|Max|Ultra))?$", "Apple"),
    (r"^(?:RTX|GTX|GT|TITAN|Quadro|NVS|Jetson|GH\d+|GB\d+|(?:[ABHLKPTV]\d{1,3}|M\d{2,3})[A-Z]{0,2})\b", "NVIDIA"),
    (r"^(?:Radeon|Instinct|FirePro)\b", "AMD"),
    (r"^(?:Arc|Iris|Data Center GPU|UHD Graphics)\b", "Intel"),
]
VENDORS = ("NVIDIA", "AMD", "Intel", "Apple")

# (pattern, replacement) applied in order to CPU brand strings.
CPU_RULES: list[tuple[str, str]] = [
    _MARKS,
    (r"\s*@\s*[\d.]+\s*[GM]Hz.*$", ""),
    (r"\s+with Radeon\b.*$", ""),
    (r"\b\d+-Core Processor\b", ""),
    (r"\bProcessor\b", ""),
    (r"\bCPU\b", ""),
    (r"\s+", " "),
]


def _apply(rules: Iterable[tuple[str, str]], text: str) -> str:
    for pattern, replacement in rules:
        text = re.sub(pattern, replacement, text, flags=re.IGNORECASE)
    return text.strip()


def normalize_name(raw: str) -> str:
    """The canonical name of an accelerator (see the module documentation for the rules)."""
    name = _apply(GPU_RULES, raw)
    if not name:
        return raw.strip()
    if name.split(" ", 1)[0] not in VENDORS:
        for pattern, vendor in VENDOR_RULES:
            if re.match(pattern, name):
                return f"{vendor} {name}"
    return name


def cpu_name(raw: str) -> str:
    """The canonical name of a CPU model (see the module documentation for the rules)."""
    name = _apply(CPU_RULES, raw)
    return name or raw.strip()


def vendor_of(normalized: str) -> str | None:
    """The vendor word a normalized name starts with, if it is a known one."""
    first = normalized.split(" ", 1)[0]
    return first if first in VENDORS else None


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
