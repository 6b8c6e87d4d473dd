"""What the runner records about the machine, the software and itself (the schema's `system` and `provenance`).

Privacy: nothing here records a host name, user name, home path, serial number, GPU UUID or network
address. Paths in command lines and environment values are rewritten by `privacy.py` (repository paths
relative, the home folder as `~`, any other path as a placeholder), and free text given on the command line
is not repeated in the command.
"""

from __future__ import annotations

import importlib.metadata
import os
import platform
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import psutil

import dlbench
from dlbench.contract.device_names import cpu_name
from dlbench.contract.paths import REPO_ROOT
from dlbench.runner.system import container
from dlbench.runner.system.devices import framework_devices, group_accelerators, nvml_devices
from dlbench.runner.system.privacy import public_command, scrub

# CPU instruction-set extensions recorded (the schema's list); cpuinfo spells some differently.
CPU_FLAGS = ("avx", "avx2", "fma", "avx512f", "avx512_bf16", "avx512_vnni", "amx_bf16", "amx_int8", "amx_tile",
             "neon", "asimd", "sve", "sve2")
_FLAG_ALIASES = {"avx512bf16": "avx512_bf16", "avx512vnni": "avx512_vnni", "avx1.0": "avx"}
CONTAINER_CGROUP = re.compile(r"docker|kubepods|containerd|libpod|podman|lxc|garden|crio")
VM_VENDORS = re.compile(r"KVM|QEMU|VMware|VirtualBox|Xen|Amazon EC2|Google Compute Engine|Virtual Machine|"
                        r"OpenStack|Bochs|Parallels|BHYVE|Cloud Hypervisor|Firecracker", re.IGNORECASE)
ENVIRONMENT = ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "CUDA_VISIBLE_DEVICES", "TF_ENABLE_ONEDNN_OPTS", "XLA_FLAGS",
               "PYTORCH_CUDA_ALLOC_CONF", "TF_GPU_ALLOCATOR", "MALLOC_MMAP_THRESHOLD_", "MALLOC_TRIM_THRESHOLD_")
FRAMEWORK_PACKAGES = {"torch": ("torch", "torchvision", "numpy"),
                      "tensorflow": ("tensorflow", "tensorflow-cpu", "tensorflow-macos", "keras", "numpy")}
FRAMEWORK_ALIASES = {"pytorch": "torch", "tf": "tensorflow"}


# ---------------------------------------------------------------- system


def probe_system(device_kind: str | None = None, framework: str | None = None) -> dict[str, Any]:
    """The schema's `system` object for this machine.

    `framework` ("torch" or "tensorflow"; default: whichever is already imported) adds its versions
    to `software` and is asked for accelerators when NVML finds none. Accelerators of `device_kind`
    (the kind the run uses) are listed first.
    """
    framework = framework or _imported_framework()
    system: dict[str, Any] = {"os": os_info(), "cpu": cpu_info(), "memory_bytes": int(psutil.virtual_memory().total)}
    found = accelerators(framework)
    if found:
        system["accelerators"] = sorted(found, key=lambda a: a["kind"] != device_kind)
    system["software"] = software(framework)
    return system


def os_info(root: Path = Path("/")) -> dict[str, Any]:
    info: dict[str, Any] = {"arch": platform.machine() or "unknown"}
    if sys.platform.startswith("linux"):
        release = _os_release(root)
        distro = " ".join(p for p in (release.get("NAME"), release.get("VERSION_ID")) if p)
        info["name"] = f"Linux ({distro})" if distro else "Linux"
        if release.get("VERSION_ID"):
            info["version"] = release["VERSION_ID"]
    elif sys.platform == "darwin":
        info["name"], info["version"] = "macOS", platform.mac_ver()[0] or None
    elif sys.platform == "win32":
        info["name"], info["version"] = "Windows", platform.release() or None
    else:
        info["name"] = platform.system() or sys.platform
    info["kernel"] = platform.release() if sys.platform != "win32" else platform.version()
    info["virtualization"] = detect_virtualization(root, shutil.which("systemd-detect-virt"))
    order = ("name", "version", "kernel", "arch", "virtualization")
    return {k: info[k] for k in order if info.get(k)}


def _os_release(root: Path) -> dict[str, str]:
    for path in (root / "etc/os-release", root / "usr/lib/os-release"):
        try:
            text = path.read_text()
        except OSError:
            continue
        pairs = (line.split("=", 1) for line in text.splitlines() if "=" in line and not line.startswith("#"))
        return {k.strip(): v.strip().strip("\"'") for k, v in pairs}
    return {}


def detect_virtualization(root: Path = Path("/"), detect_virt: str | None = None) -> str:
    """`container`, `vm`, `none` or `unknown` (see the schema), from files under `root`.

    Container: /.dockerenv, /run/.containerenv, /run/systemd/container, a container runtime in
    /proc/1/cgroup, or `systemd-detect-virt --container` (the `detect_virt` program, if given).
    VM: `systemd-detect-virt --vm`, a known hypervisor vendor in /sys/class/dmi/id, or the
    `hypervisor` CPU flag. A container inside a VM is reported as `container`.
    """
    if sys.platform == "darwin" and root == Path("/"):
        return "vm" if _sysctl("kern.hv_vmm_present") == "1" else "none"
    if not sys.platform.startswith("linux"):
        return "unknown"
    if any((root / p).exists() for p in (".dockerenv", "run/.containerenv", "run/systemd/container")):
        return "container"
    if CONTAINER_CGROUP.search(_read(root / "proc/1/cgroup")):
        return "container"
    if detect_virt and _run([detect_virt, "--container"]) not in (None, "none"):
        return "container"
    if detect_virt and _run([detect_virt, "--vm"]) not in (None, "none"):
        return "vm"
    dmi = " ".join(_read(root / "sys/class/dmi/id" / f) for f in ("sys_vendor", "product_name", "board_vendor"))
    if VM_VENDORS.search(dmi):
        return "vm"
    if "hypervisor" in parse_cpuinfo(_read(root / "proc/cpuinfo")).get("raw_flags", ()):
        return "vm"
    return "none"


def cpu_info(root: Path = Path("/")) -> dict[str, Any]:
    info = parse_cpuinfo(_read(root / "proc/cpuinfo")) if sys.platform.startswith("linux") else {}
    if sys.platform == "darwin":
        info = _darwin_cpu()
    model = info.get("model") or _lscpu_model() or platform.processor() or f"unknown {platform.machine()} CPU"
    cpu: dict[str, Any] = {"model": cpu_name(model)}
    if info.get("vendor"):
        cpu["vendor"] = info["vendor"]
    if info.get("sockets"):
        cpu["sockets"] = info["sockets"]
    logical = _visible_cpus()
    physical = psutil.cpu_count(logical=False)
    if physical:
        cpu["physical_cores"] = min(physical, logical) if logical else physical
    if logical:
        cpu["logical_cores"] = logical
    mhz = _max_mhz(root, model)
    if mhz:
        cpu["max_frequency_mhz"] = mhz
    cpu["flags"] = info.get("flags", [])
    return cpu


def parse_cpuinfo(text: str) -> dict[str, Any]:
    """Model, vendor, socket count and recorded ISA flags from the text of /proc/cpuinfo."""
    fields: dict[str, str] = {}
    sockets: set[str] = set()
    for line in text.splitlines():
        key, sep, value = line.partition(":")
        if not sep:
            continue
        key, value = key.strip(), value.strip()
        if key == "physical id":
            sockets.add(value)
        fields.setdefault(key, value)
    raw_flags = set((fields.get("flags") or fields.get("Features") or "").split())
    found = {_FLAG_ALIASES.get(f, f) for f in raw_flags}
    info: dict[str, Any] = {
        "model": fields.get("model name") or fields.get("Model Name") or fields.get("Hardware") or fields.get("cpu model"),
        "vendor": fields.get("vendor_id") or fields.get("vendor"),
        "flags": [f for f in CPU_FLAGS if f in found],
        "raw_flags": raw_flags,
    }
    if sockets:
        info["sockets"] = len(sockets)
    return info


def _darwin_cpu() -> dict[str, Any]:
    model = _sysctl("machdep.cpu.brand_string")
    features = " ".join(_sysctl(k) or "" for k in ("machdep.cpu.features", "machdep.cpu.leaf7_features")).lower()
    found = {_FLAG_ALIASES.get(f, f) for f in features.split()}
    if _sysctl("hw.optional.neon") == "1":
        found |= {"neon", "asimd"}
    vendor = _sysctl("machdep.cpu.vendor") or ("Apple" if (model or "").startswith("Apple") else None)
    return {"model": model, "vendor": vendor, "flags": [f for f in CPU_FLAGS if f in found]}


def _visible_cpus() -> int | None:
    try:
        return len(psutil.Process().cpu_affinity())
    except (AttributeError, psutil.Error, OSError):
        return psutil.cpu_count()


def _max_mhz(root: Path, model: str) -> float | None:
    try:
        freq = psutil.cpu_freq()
    except (AttributeError, NotImplementedError, OSError):
        freq = None
    if freq and freq.max and freq.max > 0:
        return round(float(freq.max), 1)
    khz = _read(root / "sys/devices/system/cpu/cpu0/cpufreq/cpuinfo_max_freq").strip()
    if khz.isdigit() and int(khz) > 0:
        return round(int(khz) / 1000, 1)
    rated = re.search(r"@\s*([\d.]+)\s*GHz", model)
    return round(float(rated.group(1)) * 1000, 1) if rated else None


def _lscpu_model() -> str | None:
    out = _run(["lscpu"]) if shutil.which("lscpu") else None
    match = re.search(r"^Model name:\s*(.+)$", out or "", re.MULTILINE)
    return match.group(1).strip() if match and match.group(1).strip() != "-" else None


# ---------------------------------------------------------------- software


def software(framework: str | None = None) -> dict[str, Any]:
    """The schema's `software` object: Python, and the framework's versions when `framework` is given."""
    soft: dict[str, Any] = {"python": platform.python_version(), "python_implementation": platform.python_implementation()}
    packages = _versions(("numpy",))
    if framework:
        extra = framework_software(framework)
        packages.update(extra.pop("packages", {}))
        soft.update(extra)
    if packages:
        soft["packages"] = dict(sorted(packages.items()))
    return soft


def framework_software(framework: str) -> dict[str, Any]:
    """`packages` (framework, numpy, ... by distribution name) and the `cuda`, `cudnn`, `rocm` versions the
    framework was built with, when it has them. Imports the framework."""
    framework = FRAMEWORK_ALIASES.get(framework, framework)
    if framework not in FRAMEWORK_PACKAGES:
        raise ValueError(f"unknown framework {framework!r}; expected one of {', '.join(FRAMEWORK_PACKAGES)}")
    out: dict[str, Any] = {"packages": _versions(FRAMEWORK_PACKAGES[framework])}
    if framework == "torch":
        import torch

        out["cuda"] = torch.version.cuda
        out["rocm"] = getattr(torch.version, "hip", None)
        if torch.backends.cudnn.is_available():
            out["cudnn"] = cudnn_version(torch.backends.cudnn.version())
    else:
        import tensorflow as tf

        build = tf.sysconfig.get_build_info()
        if build.get("is_cuda_build"):
            out["cuda"], out["cudnn"] = build.get("cuda_version"), build.get("cudnn_version")
        if build.get("is_rocm_build"):
            out["rocm"] = build.get("rocm_version")
    return {k: str(v) if k != "packages" else v for k, v in out.items() if v}


def cudnn_version(number: int | None) -> str | None:
    """cuDNN's integer version as text: 90100 -> 9.1.0 (cuDNN 9+), 8902 -> 8.9.2 (before 9)."""
    if not number:
        return None
    if number >= 10000:
        return f"{number // 10000}.{number % 10000 // 100}.{number % 100}"
    return f"{number // 1000}.{number % 1000 // 100}.{number % 100}"


def _versions(names: tuple[str, ...]) -> dict[str, str]:
    found = {}
    for name in names:
        try:
            found[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            pass
    return found


def _imported_framework() -> str | None:
    return next((f for f in ("torch", "tensorflow") if f in sys.modules), None)


# ---------------------------------------------------------------- accelerators


def accelerators(framework: str | None = None) -> list[dict[str, Any]]:
    """Schema accelerator entries: NVML when it finds devices, else `framework`'s view (CUDA, ROCm, XPU
    devices); plus the GPU of Apple silicon. Identical devices are grouped with a count."""
    devices = nvml_devices()
    if not devices and framework:
        devices = framework_devices(FRAMEWORK_ALIASES.get(framework, framework))
    devices += _apple_gpu()
    return group_accelerators(devices)


def _apple_gpu() -> list[dict[str, Any]]:
    if sys.platform != "darwin" or platform.machine() != "arm64":
        return []
    chip = _sysctl("machdep.cpu.brand_string") or "Apple silicon"
    return [{"kind": "mps", "vendor": "Apple", "name": chip, "memory_bytes": int(psutil.virtual_memory().total)}]


# ---------------------------------------------------------------- provenance


def provenance(argv: list[str], seed: int | None) -> dict[str, Any]:
    """The schema's `provenance` for a measured run started with `argv` (program first).

    In the project's container image (no git checkout), the commit and dirty flag are the image's build
    arguments, and `container` says which image ran (`container.py`)."""
    prov: dict[str, Any] = {"kind": "measured", "runner_version": dlbench.__version__}
    prov.update(git_state(REPO_ROOT) or container.baked_source())
    box = container.container_provenance()
    if box is not None:
        prov["container"] = box
    prov["command"] = public_command(argv) or ["unknown"]
    if seed is not None:
        prov["seed"] = seed
    env = {k: scrub(os.environ[k]) for k in ENVIRONMENT if os.environ.get(k)}
    if "CUDA_VISIBLE_DEVICES" in env and not re.fullmatch(r"[0-9,\s-]*", env["CUDA_VISIBLE_DEVICES"]):
        del env["CUDA_VISIBLE_DEVICES"]  # device UUIDs identify hardware units
    if env:
        prov["environment"] = env
    return prov


def git_state(repo: Path) -> dict[str, Any]:
    """`git_commit` and `git_dirty` of `repo` when it is the top of a git checkout, else {}.

    Dirty means tracked files changed outside `data/` (results written there do not taint the code).
    """
    top = _run(["git", "-C", str(repo), "rev-parse", "--show-toplevel"])
    if top is None or Path(top).resolve() != Path(repo).resolve():
        return {}
    commit = _run(["git", "-C", str(repo), "rev-parse", "HEAD"])
    status = _run(["git", "-C", str(repo), "status", "--porcelain", "--untracked-files=no", "--", ".",
                   ":(exclude)data"])
    if not commit or not re.fullmatch(r"[0-9a-f]{40}([0-9a-f]{24})?", commit) or status is None:
        return {}
    return {"git_commit": commit, "git_dirty": bool(status)}


# ---------------------------------------------------------------- helpers


def _read(path: Path) -> str:
    try:
        return path.read_text(errors="replace")
    except OSError:
        return ""


def _run(cmd: list[str]) -> str | None:
    """stdout of `cmd` stripped, or None when it fails or is missing."""
    try:
        done = subprocess.run(cmd, capture_output=True, text=True, timeout=10, stdin=subprocess.DEVNULL)
    except (OSError, subprocess.SubprocessError):
        return None
    return done.stdout.strip() if done.returncode == 0 else None


def _sysctl(key: str) -> str | None:
    return _run(["sysctl", "-n", key]) if shutil.which("sysctl") else None
