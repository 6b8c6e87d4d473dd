"""The system probe and provenance: schema-valid, private, and right about this machine."""

from __future__ import annotations

import getpass
import importlib.metadata
import json
import os
import re
import socket
import subprocess
import sys
from pathlib import Path

import psutil
import pytest

from conftest import REPO
from dlbench.contract.fragment import with_run_id
from dlbench.contract.validate import validate_run
from dlbench.runner.system import probe
from dlbench.runner.system.probe import CPU_FLAGS, detect_virtualization, parse_cpuinfo

linux_only = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads Linux /proc and /sys layouts")

X86_CPUINFO = """processor\t: 0
vendor_id\t: GenuineIntel
model name\t: Intel(R) Xeon(R) Platinum 8480+ CPU @ 2.00GHz
physical id\t: 0
flags\t\t: fpu sse4_2 avx avx2 fma avx512f avx512_bf16 avx512_vnni amx_bf16 amx_tile amx_int8 hypervisor

processor\t: 1
vendor_id\t: GenuineIntel
model name\t: Intel(R) Xeon(R) Platinum 8480+ CPU @ 2.00GHz
physical id\t: 1
flags\t\t: fpu sse4_2 avx avx2 fma avx512f avx512_bf16 avx512_vnni amx_bf16 amx_tile amx_int8 hypervisor
"""
ARM_CPUINFO = """processor\t: 0
BogoMIPS\t: 243.75
Features\t: fp asimd evtstrm aes pmull sha1 sha2 crc32 atomics sve sve2
CPU implementer\t: 0x41
"""


def minimal_run(system: dict, prov: dict) -> dict:
    return with_run_id({
        "schema_version": 1, "started_at": "2025-01-01T00:00:00Z", "finished_at": "2025-01-01T00:00:05Z",
        "provenance": prov, "system": system,
        "results": [{"benchmark": "mnist-lenet5", "framework": "torch", "dataset": "mnist", "device_kind": "cpu",
                     "device_name": system["cpu"]["model"], "model": "lenet5", "device_count": 1, "precision": "fp32",
                     "batch_size": 64, "status": "ok", "metrics": {"total_s": 5.0}}],
    })


def test_probe_output_validates_in_a_run():
    system = probe.probe_system("cpu", framework="torch")
    prov = probe.provenance([sys.executable, str(REPO / "runners" / "run.py"), "mnist-lenet5"], 0)
    assert validate_run(minimal_run(system, prov)) == []
    assert system["software"]["packages"]["torch"] == importlib.metadata.version("torch")


def _strings(value, path=""):
    if isinstance(value, dict):
        for k, v in value.items():
            yield from _strings(v, f"{path}.{k}")
    elif isinstance(value, list):
        for i, v in enumerate(value):
            yield from _strings(v, f"{path}[{i}]")
    elif isinstance(value, str):
        yield path, value


ENUM_FIELDS = re.compile(r"^\.(os\.virtualization|accelerators\[\d+\]\.kind|kind)$")


def test_probe_never_records_host_user_or_home(monkeypatch):
    monkeypatch.setenv("XLA_FLAGS", f"--xla_dump_to={Path.home()}/dumps")
    system = probe.probe_system(framework="torch")
    prov = probe.provenance([str(REPO / "runners" / "run.py"), "--data-dir", str(Path.home() / "data")], 1)
    secrets = [socket.gethostname(), getpass.getuser(), str(Path.home())]
    for path, value in [*_strings(system), *_strings(prov)]:
        if ENUM_FIELDS.match(path):
            continue  # fixed vocabulary: a host called "vm" is not leaked by `virtualization = "vm"`
        for secret in secrets:
            # whole tokens only: a user "amd" is not leaked by "AuthenticAMD"
            assert not re.search(rf"(?<![A-Za-z0-9]){re.escape(secret)}(?![A-Za-z0-9])", value), (path, value)
    assert prov["command"] == ["runners/run.py", "--data-dir", "~/data"]
    assert prov["environment"]["XLA_FLAGS"] == "--xla_dump_to=~/dumps"


def test_environment_whitelist_and_device_uuids(monkeypatch):
    monkeypatch.setenv("OMP_NUM_THREADS", "2")
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "0,1")
    monkeypatch.setenv("SOME_OTHER_VAR", "x")
    for name in ("MKL_NUM_THREADS", "TF_ENABLE_ONEDNN_OPTS", "XLA_FLAGS", "PYTORCH_CUDA_ALLOC_CONF", "TF_GPU_ALLOCATOR",
                 "MALLOC_MMAP_THRESHOLD_", "MALLOC_TRIM_THRESHOLD_"):
        monkeypatch.delenv(name, raising=False)
    assert probe.provenance(["run.py"], 3)["environment"] == {"OMP_NUM_THREADS": "2", "CUDA_VISIBLE_DEVICES": "0,1"}
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "GPU-8f4c2a1e-0000-1111-2222-333344445555")
    assert probe.provenance(["run.py"], 3)["environment"] == {"OMP_NUM_THREADS": "2"}


def test_provenance_fields():
    prov = probe.provenance(["run.py", "x"], 7)
    assert prov["kind"] == "measured" and prov["seed"] == 7 and prov["command"] == ["run.py", "x"]
    import dlbench
    assert prov["runner_version"] == dlbench.__version__
    assert "seed" not in probe.provenance(["run.py"], None)


def _git(repo: Path, *args: str) -> str:
    return subprocess.run(["git", "-C", str(repo), "-c", "user.name=t", "-c", "user.email=t@example.org", *args],
                          check=True, capture_output=True, text=True).stdout.strip()


def test_git_state(tmp_path):
    assert probe.git_state(tmp_path) == {}  # not a checkout
    _git(tmp_path, "init", "-q")
    (tmp_path / "code.py").write_text("a = 1\n")
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "benchmark.toml").write_text("")
    _git(tmp_path, "add", ".")
    _git(tmp_path, "commit", "-q", "-m", "init")
    head = _git(tmp_path, "rev-parse", "HEAD")
    assert probe.git_state(tmp_path) == {"git_commit": head, "git_dirty": False}
    (tmp_path / "data" / "benchmark.toml").write_text("changed results\n")
    (tmp_path / "new-untracked.py").write_text("")
    assert probe.git_state(tmp_path)["git_dirty"] is False
    (tmp_path / "code.py").write_text("a = 2\n")
    assert probe.git_state(tmp_path) == {"git_commit": head, "git_dirty": True}
    (tmp_path / "sub").mkdir()
    assert probe.git_state(tmp_path / "sub") == {}  # only the top of a checkout counts


def test_parse_cpuinfo_x86():
    info = parse_cpuinfo(X86_CPUINFO)
    assert info["model"] == "Intel(R) Xeon(R) Platinum 8480+ CPU @ 2.00GHz"
    assert info["vendor"] == "GenuineIntel"
    assert info["sockets"] == 2
    assert info["flags"] == ["avx", "avx2", "fma", "avx512f", "avx512_bf16", "avx512_vnni", "amx_bf16", "amx_int8",
                             "amx_tile"]


def test_parse_cpuinfo_arm():
    info = parse_cpuinfo(ARM_CPUINFO)
    assert info["flags"] == ["asimd", "sve", "sve2"]
    assert info["model"] is None and "sockets" not in info


@linux_only
def test_cpu_info_of_this_machine():
    cpu = probe.cpu_info()
    text = Path("/proc/cpuinfo").read_text()
    raw_model = re.search(r"^model name\s*:\s*(.+)$", text, re.MULTILINE)
    if raw_model:
        from dlbench.contract.device_names import cpu_name
        assert cpu["model"] == cpu_name(raw_model.group(1))
    assert cpu["logical_cores"] == len(os.sched_getaffinity(0))
    flags = set(re.search(r"^(?:flags|Features)\s*:(.*)$", text, re.MULTILINE).group(1).split())
    assert set(cpu["flags"]) <= set(CPU_FLAGS)
    assert set(cpu["flags"]) == {f for f in CPU_FLAGS if f in flags}


def test_memory_is_the_machine_total():
    assert probe.probe_system()["memory_bytes"] == psutil.virtual_memory().total


def _root(tmp_path: Path, files: dict[str, str]) -> Path:
    for rel, text in files.items():
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_text(text)
    return tmp_path


@linux_only
@pytest.mark.parametrize("files, expected", [
    ({}, "none"),
    ({".dockerenv": ""}, "container"),
    ({"run/.containerenv": ""}, "container"),
    ({"proc/1/cgroup": "0::/kubepods/besteffort/pod1234\n"}, "container"),
    ({"proc/1/cgroup": "0::/init.scope\n"}, "none"),
    ({"sys/class/dmi/id/sys_vendor": "QEMU\n", "sys/class/dmi/id/product_name": "Standard PC\n"}, "vm"),
    ({"sys/class/dmi/id/product_name": "Google Compute Engine\n"}, "vm"),
    ({"sys/class/dmi/id/sys_vendor": "Dell Inc.\n"}, "none"),
    ({"proc/cpuinfo": X86_CPUINFO}, "vm"),
    ({".dockerenv": "", "proc/cpuinfo": X86_CPUINFO}, "container"),
])
def test_detect_virtualization_from_files(tmp_path, files, expected):
    assert detect_virtualization(_root(tmp_path, files)) == expected


@linux_only
@pytest.mark.parametrize("container, vm, expected", [("none", "kvm", "vm"), ("docker", "none", "container"),
                                                     ("none", "none", "none")])
def test_detect_virtualization_with_systemd_detect_virt(tmp_path, container, vm, expected):
    script = tmp_path / "systemd-detect-virt"
    script.write_text(f"#!/bin/sh\n"
                      f"if [ \"$1\" = --container ]; then echo {container}; [ {container} != none ]; exit $?; fi\n"
                      f"echo {vm}; [ {vm} != none ]\n")
    script.chmod(0o755)
    assert detect_virtualization(_root(tmp_path / "root", {}), str(script)) == expected


@linux_only
def test_os_info_from_os_release(tmp_path):
    root = _root(tmp_path, {"etc/os-release": 'PRETTY_NAME="Ubuntu 22.04.4 LTS"\nNAME="Ubuntu"\nVERSION_ID="22.04"\n'})
    info = probe.os_info(root)
    assert info["name"] == "Linux (Ubuntu 22.04)" and info["version"] == "22.04"
    assert info["kernel"] == os.uname().release
    assert info["arch"] == os.uname().machine


def test_cudnn_version():
    assert probe.cudnn_version(90100) == "9.1.0"
    assert probe.cudnn_version(8902) == "8.9.2"
    assert probe.cudnn_version(None) is None


def test_framework_software_torch():
    import torch

    soft = probe.framework_software("torch")
    assert soft["packages"]["torch"] == importlib.metadata.version("torch")
    assert soft["packages"]["numpy"] == importlib.metadata.version("numpy")
    assert soft.get("cuda") == torch.version.cuda
    assert ("cudnn" in soft) == bool(torch.backends.cudnn.is_available() and torch.backends.cudnn.version())
    with pytest.raises(ValueError, match="unknown framework 'jax'"):
        probe.framework_software("jax")


def test_framework_software_tensorflow():
    # In a subprocess: importing TensorFlow next to torch in the test process is slow and noisy.
    code = ("import json; from dlbench.runner.system import probe; "
            "print(json.dumps(probe.framework_software('tensorflow')))")
    done = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, timeout=300,
                          env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"})
    assert done.returncode == 0, done.stderr
    soft = json.loads(done.stdout.strip().splitlines()[-1])
    installed = 0
    for dist in ("tensorflow", "tensorflow-cpu"):
        try:
            version = importlib.metadata.version(dist)
        except importlib.metadata.PackageNotFoundError:
            assert dist not in soft["packages"]
            continue
        assert soft["packages"][dist] == version
        installed += 1
    assert installed >= 1
    assert "keras" in soft["packages"]


def test_no_accelerators_means_no_field_and_counts_are_positive():
    system = probe.probe_system()
    for acc in system.get("accelerators", []):
        assert acc["count"] >= 1 and acc["normalized_name"]
    assert "accelerators" not in system or system["accelerators"]


def test_nvml_shaped_devices_give_a_valid_run():
    # What dlbench.runner.system.devices.nvml_devices() returned on an NVIDIA H100 machine (driver 580), grouped as
    # the probe does.
    nvml = {"kind": "cuda", "vendor": "NVIDIA", "name": "NVIDIA H100 80GB HBM3", "memory_bytes": 85520809984,
            "driver_version": "580.159.04", "compute_capability": "9.0", "power_limit_w": 700.0,
            "pcie_id": "10de:2330", "cores": 16896}
    from dlbench.runner.system.devices import group_accelerators

    system = probe.probe_system("cpu")
    system["accelerators"] = group_accelerators([dict(nvml), dict(nvml)])
    assert system["accelerators"][0]["count"] == 2
    assert system["accelerators"][0]["normalized_name"] == "NVIDIA H100 80GB HBM3"
    assert validate_run(minimal_run(system, probe.provenance(["run.py"], 0))) == []
