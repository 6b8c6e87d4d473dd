"""`bash tools/setup.sh --dry-run` plans the build for the accelerator it finds (dlbench/cli/setup_plan.py).

Fake `nvidia-smi` / `rocm-smi` executables, printing what the real ones print, are written into a directory
put first on PATH; without them PATH holds neither. The planner runs for real through setup.sh, against an
empty virtual-environment directory (so no PyTorch is found) unless a test builds one.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent

NVIDIA_SMI = r'''#!/bin/sh
# What nvidia-smi 570 prints on a two-H200 machine (the table shows GPU 0 only), for the two calls the planner makes.
case "$*" in
  *--query-gpu=name,driver_version*) printf 'NVIDIA H200, 570.124.06\nNVIDIA H200, 570.124.06\n' ;;
  "") cat <<'EOF'
Thu Dec  3 18:25:52 2026
+-----------------------------------------------------------------------------------------+
| NVIDIA-SMI 570.124.06             Driver Version: 570.124.06     CUDA Version: CUDAVER     |
|-----------------------------------------+------------------------+----------------------+
| GPU  Name                 Persistence-M | Bus-Id          Disp.A | Volatile Uncorr. ECC |
| Fan  Temp   Perf          Pwr:Usage/Cap |           Memory-Usage | GPU-Util  Compute M. |
|                                         |                        |               MIG M. |
|=========================================+========================+======================|
|   0  NVIDIA H200                    On  |   00000000:19:00.0 Off |                    0 |
| N/A   27C    P0             76W /  700W |       0MiB / 143771MiB |      0%      Default |
|                                         |                        |             Disabled |
+-----------------------------------------+------------------------+----------------------+
EOF
  ;;
  *) echo "unexpected arguments: $*" >&2; exit 2 ;;
esac
'''

ROCM_SMI = r'''#!/bin/sh
[ "$1" = "--showproductname" ] || { echo "unexpected arguments: $*" >&2; exit 2; }
cat <<'EOF'
============================ ROCm System Management Interface ============================
====================================== Product Info ======================================
GPU[0]		: Card Series: 		AMD Instinct MI300X OAM
GPU[0]		: Card Model: 		0x74a1
GPU[0]		: Card Vendor: 		Advanced Micro Devices, Inc. [AMD/ATI]
==========================================================================================
================================== End of ROCm SMI Log ===================================
EOF
'''


def _clean_path() -> str:
    """PATH without any directory holding a real nvidia-smi or rocm-smi."""
    dirs = os.environ.get("PATH", "").split(os.pathsep)
    return os.pathsep.join(d for d in dirs if d and not any((Path(d) / t).exists()
                                                             for t in ("nvidia-smi", "rocm-smi")))


def setup(tmp_path: Path, *args: str, fakes: dict[str, str] | None = None,
          venv: Path | None = None) -> subprocess.CompletedProcess:
    bin_dir = tmp_path / "fakebin"
    bin_dir.mkdir(exist_ok=True)
    for name, text in (fakes or {}).items():
        (bin_dir / name).write_text(text)
        (bin_dir / name).chmod(0o755)
    env = {**os.environ, "PATH": f"{bin_dir}{os.pathsep}{_clean_path()}", "ROCM_PATH": str(tmp_path / "rocm")}
    venv = venv or tmp_path / "venv"
    return subprocess.run(["bash", "tools/setup.sh", "--dry-run", "--venv", str(venv), *args], cwd=REPO, env=env,
                          capture_output=True, text=True, timeout=60)


def commands(res: subprocess.CompletedProcess) -> list[str]:
    return [line.removeprefix("setup: would run: ") for line in res.stdout.splitlines()
            if line.startswith("setup: would run: ")]


def torch_install(res: subprocess.CompletedProcess) -> str:
    [line] = [c for c in commands(res) if " install -q torch==" in c]
    return line


def fake_venv(tmp_path: Path, version: str, cuda: str | None) -> Path:
    """A venv directory holding only what the planner reads: torch/version.py and a dist-info."""
    site = tmp_path / "venv" / "lib" / "python3.11" / "site-packages"
    (site / "torch").mkdir(parents=True)
    (site / "torch" / "version.py").write_text(
        f"from typing import Optional\n__version__ = '{version}'\ndebug = False\n"
        f"cuda: Optional[str] = {cuda!r}\nhip: Optional[str] = None\n")
    (site / "tensorflow_cpu-2.21.0.dist-info").mkdir()
    return tmp_path / "venv"


@pytest.mark.parametrize(("cuda", "wheel"), [("12.8", "cu128"), ("12.9", "cu129"), ("13.0", "cu130"),
                                             ("12.6", "cu126")])
def test_fake_nvidia_driver_plans_the_cuda_build(tmp_path, cuda, wheel):
    res = setup(tmp_path, fakes={"nvidia-smi": NVIDIA_SMI.replace("CUDAVER", cuda)})
    assert res.returncode == 0, res.stderr
    assert f"setup: found: 2 NVIDIA GPU(s): NVIDIA H200, NVIDIA H200 (driver 570.124.06, CUDA {cuda})" in res.stdout
    assert "setup: chose: cuda (detected)" in res.stdout
    assert torch_install(res).endswith(
        f"-m pip install -q torch==2.13.0+{wheel} --index-url https://download.pytorch.org/whl/{wheel}")
    assert commands(res)[-2].endswith("-m pip install -q -e '.[torch,analysis,test]' 'tensorflow[and-cuda]>=2.15'")
    assert "setup: dry run: nothing was run" in res.stdout
    assert not (tmp_path / "venv").exists()


def test_driver_too_old_falls_back_to_cpu_under_auto_and_refuses_when_asked(tmp_path):
    fakes = {"nvidia-smi": NVIDIA_SMI.replace("CUDAVER", "12.2")}
    res = setup(tmp_path, fakes=fakes)
    assert res.returncode == 0, res.stderr
    assert "setup: chose: cpu (driver too old for a CUDA build)" in res.stdout
    assert "the NVIDIA driver runs 12.2, below the 12.6" in res.stdout
    assert torch_install(res).endswith("-m pip install -q torch==2.13.0")
    asked = setup(tmp_path, "--accelerator", "cuda", fakes=fakes)
    assert asked.returncode == 2
    assert "setup.sh: the NVIDIA driver runs 12.2; PyTorch 2.13.0's CUDA builds need 12.6 or newer" in asked.stderr


def test_no_driver_plans_the_cpu_build_from_the_configured_index(tmp_path):
    res = setup(tmp_path)
    assert res.returncode == 0, res.stderr
    assert "setup: found: no GPU (neither nvidia-smi nor rocm-smi answered)" in res.stdout
    assert "setup: chose: cpu (detected)" in res.stdout
    assert torch_install(res).endswith("-m pip install -q torch==2.13.0")
    assert "download.pytorch.org" not in res.stdout
    assert commands(res)[:2] == [f"python3 -m venv {tmp_path / 'venv'}",
                                 f"{tmp_path / 'venv'}/bin/python -m pip install -q --upgrade pip"]
    assert f"{tmp_path / 'venv'}/bin/python -m pip install -q -e '.[torch,tensorflow,analysis,test]'" in commands(res)


def test_fake_rocm_smi_plans_the_rocm_build(tmp_path):
    (tmp_path / "rocm" / ".info").mkdir(parents=True)
    (tmp_path / "rocm" / ".info" / "version").write_text("6.3.1-48\n")
    res = setup(tmp_path, fakes={"rocm-smi": ROCM_SMI})
    assert res.returncode == 0, res.stderr
    assert "setup: found: 1 AMD GPU(s): AMD Instinct MI300X OAM (ROCm 6.3)" in res.stdout
    assert "setup: chose: rocm (detected)" in res.stdout
    assert torch_install(res).endswith(
        "-m pip install -q torch==2.13.0+rocm6.3 --index-url https://download.pytorch.org/whl/rocm6.3")
    assert "tensorflow-rocm on PyPI stops below" in res.stdout
    assert any(c.endswith("'.[torch,tensorflow,analysis,test]'") for c in commands(res))


def test_accelerator_cpu_forces_the_cpu_build_with_a_driver_present(tmp_path):
    res = setup(tmp_path, "--accelerator", "cpu", fakes={"nvidia-smi": NVIDIA_SMI.replace("CUDAVER", "12.8")})
    assert res.returncode == 0, res.stderr
    assert "setup: found: 2 NVIDIA GPU(s)" in res.stdout
    assert "setup: chose: cpu (asked with --accelerator)" in res.stdout
    assert torch_install(res).endswith("-m pip install -q torch==2.13.0")
    assert "download.pytorch.org" not in res.stdout


def test_bad_accelerator_is_a_usage_error(tmp_path):
    res = setup(tmp_path, "--accelerator", "tpu")
    assert res.returncode == 2
    assert "tools/setup.sh: error: argument --accelerator: invalid choice: 'tpu'" in res.stderr
    mps = setup(tmp_path, "--accelerator", "mps")
    assert mps.returncode == 2
    assert "setup.sh: --accelerator mps needs macOS on Apple silicon" in mps.stderr


def test_auto_keeps_the_pytorch_in_the_venv_and_warns_when_it_misses_the_gpu(tmp_path):
    venv = fake_venv(tmp_path, "2.13.0+cpu", None)
    res = setup(tmp_path, fakes={"nvidia-smi": NVIDIA_SMI.replace("CUDAVER", "12.8")}, venv=venv)
    assert res.returncode == 0, res.stderr
    assert f"setup: found: PyTorch 2.13.0+cpu (cpu build), tensorflow-cpu in {venv}" in res.stdout
    assert f"setup: chose: cpu (auto follows the PyTorch build already in {venv})" in res.stdout
    assert "warning: this machine has CUDA but" in res.stdout
    assert "run `bash tools/setup.sh --accelerator cuda`" in res.stdout
    assert not any(" install -q torch" in c or "uninstall" in c for c in commands(res))


def test_explicit_accelerator_replaces_a_build_that_does_not_match(tmp_path):
    venv = fake_venv(tmp_path, "2.13.0+cpu", None)
    res = setup(tmp_path, "--accelerator", "cuda", fakes={"nvidia-smi": NVIDIA_SMI.replace("CUDAVER", "12.8")},
                venv=venv)
    assert res.returncode == 0, res.stderr
    cmds = commands(res)
    assert f"{venv}/bin/python -m pip uninstall -q -y torch" in cmds
    assert f"{venv}/bin/python -m pip uninstall -q -y tensorflow-cpu" in cmds
    assert cmds.index(f"{venv}/bin/python -m pip uninstall -q -y torch") < cmds.index(torch_install(res))
    matching = setup(tmp_path, "--accelerator", "cuda", venv=fake_venv(tmp_path / "b", "2.13.0+cu128", "12.8"))
    assert matching.returncode == 0, matching.stderr
    assert "is a cuda build: kept" in matching.stdout
    assert not any(" install -q torch" in c for c in commands(matching))
