"""The plan behind `tools/setup.sh`: which accelerator this machine has, and the install commands that fit it.

Runs with the system `python3` and the standard library only, before `.venv/` exists
(`python3 -m dlbench.cli.setup_plan`, from the repository root; `dlbench/__init__` and `dlbench/cli/__init__`
import nothing). It never installs anything itself: it prints what it found, what it chose and why, and the
commands; `tools/setup.sh` runs them (or, with `--dry-run`, only shows them).

Detection (`--accelerator auto`, the default), first match wins:
- CUDA: `nvidia-smi` is on PATH, answers and lists a GPU; its header's "CUDA Version" (the newest CUDA the
  driver runs) picks the newest PyTorch CUDA wheel index not above it (`CUDA_WHEELS`);
- ROCm: `rocm-smi --showproductname` answers and lists a GPU; the ROCm release in
  `$ROCM_PATH/.info/version` (default /opt/rocm) picks the ROCm wheel index (`ROCM_WHEELS`);
- MPS: macOS on Apple silicon (Darwin arm64), where PyPI's default wheel has Metal;
- CPU otherwise.

PyTorch comes from the configured package index for CPU and MPS (`torch==2.13.0`: on Linux x86-64 the index
this project's CI uses holds the CPU build), and from download.pytorch.org only for CUDA and ROCm, so the CPU
path never needs that site. TensorFlow: `tensorflow-cpu` (the project's `tensorflow` extra) for CPU,
`tensorflow[and-cuda]` for CUDA, `tensorflow` + `tensorflow-metal` for MPS; for ROCm the CPU build, because
`tensorflow-rocm` on PyPI stops below the project's TensorFlow 2.15.

A PyTorch already in the virtual environment is kept under `auto` (the plan then follows that build, and says
so, with a warning when the machine has an accelerator the build cannot use); an explicit `--accelerator`
replaces a build that does not match it.
"""

from __future__ import annotations

import argparse
import ast
import os
import platform
import re
import shlex
import shutil
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

TORCH_VERSION = "2.13.0"
TORCH_INDEX = "https://download.pytorch.org/whl/"
# The CUDA and ROCm builds download.pytorch.org offers for TORCH_VERSION, newest first, with the lowest
# CUDA / ROCm release each needs. Update together with TORCH_VERSION. (download.pytorch.org cannot be reached
# where this was written: the CUDA builds are those public install logs and environment dumps show for 2.13.0,
# `2.13.0+cu126`, `+cu128`, `+cu129` and `+cu130`.)
CUDA_WHEELS = (((13, 0), "cu130"), ((12, 9), "cu129"), ((12, 8), "cu128"), ((12, 6), "cu126"))
ROCM_WHEELS = (((6, 4), "rocm6.4"), ((6, 3), "rocm6.3"))
DEFAULT_CUDA = "cu128"  # --accelerator cuda where no driver answers (say, building a container image)
CHOICES = ("auto", "cpu", "cuda", "rocm", "mps")
EXTRAS_CPU = ".[torch,tensorflow,analysis,test]"
EXTRAS_NO_TF = ".[torch,analysis,test]"  # the tensorflow extra names tensorflow-cpu; GPU plans add their own
TF_SPEC = "tensorflow>=2.15"
TF_CUDA_SPEC = "tensorflow[and-cuda]>=2.15"
# Debian packages the tests use, with a path that shows each is installed (None: found on PATH, see make_plan):
# Fashion-MNIST and chromium (end-to-end and page tests), podman with runc and mmdebstrap (tests/test_container.py
# builds a Debian base image and the project's image, and runs it).
DEBIAN_PACKAGES = (("dataset-fashion-mnist", "/usr/share/datasets/fashion-mnist"), ("chromium", None),
                   ("podman", "/usr/bin/podman"), ("runc", "/usr/sbin/runc"), ("mmdebstrap", "/usr/bin/mmdebstrap"))
# podman cannot set the default rlimits inside some virtual machines (runc: "error setting rlimits ... operation
# not permitted"): `default_ulimits = []` under [containers] lets containers inherit podman's own instead.
CONTAINERS_CONF = Path("/etc/containers/containers.conf")
ULIMITS_LINE = "default_ulimits = []"
PROBE_TIMEOUT_S = 20


@dataclass
class Found:
    """What the machine and the virtual environment hold."""
    nvidia: list[str] = field(default_factory=list)   # GPU names
    cuda: tuple[int, int] | None = None                # newest CUDA the driver runs
    driver: str | None = None
    rocm: list[str] = field(default_factory=list)
    rocm_version: tuple[int, int] | None = None
    apple: bool = False
    torch: str | None = None                           # version in the venv, None when absent
    torch_kind: str | None = None                      # cpu | cuda | rocm | mps (PyPI's default Apple build)
    dists: set[str] = field(default_factory=set)       # tensorflow distributions in the venv


def _run(argv: list[str]) -> str | None:
    """stdout of a probe, or None when it is missing, fails or hangs."""
    if not shutil.which(argv[0]):
        return None
    try:
        res = subprocess.run(argv, capture_output=True, text=True, timeout=PROBE_TIMEOUT_S, check=False)
    except (OSError, subprocess.SubprocessError):
        return None
    return res.stdout if res.returncode == 0 else None


def _version(text: str | None) -> tuple[int, int] | None:
    m = re.search(r"(\d+)\.(\d+)", text or "")
    return (int(m.group(1)), int(m.group(2))) if m else None


def probe_nvidia(found: Found) -> None:
    """GPU names and driver from `nvidia-smi --query-gpu`, the CUDA version from the plain header."""
    rows = _run(["nvidia-smi", "--query-gpu=name,driver_version", "--format=csv,noheader"])
    for line in (rows or "").splitlines():
        name, _, driver = line.partition(",")
        if name.strip():
            found.nvidia.append(name.strip())
            found.driver = driver.strip() or found.driver
    if found.nvidia:
        header = re.search(r"CUDA Version:\s*(\d+\.\d+)", _run(["nvidia-smi"]) or "")
        found.cuda = _version(header.group(1)) if header else None


def probe_rocm(found: Found) -> None:
    """GPU names from `rocm-smi --showproductname`, the ROCm release from $ROCM_PATH/.info/version."""
    out = _run(["rocm-smi", "--showproductname"])
    for line in (out or "").splitlines():
        m = re.match(r"GPU\[(\d+)\]\s*:\s*Card (?:Series|series)\s*:\s*(.+)", line.strip())
        if m:
            found.rocm.append(m.group(2).strip())
    if found.rocm:
        info = Path(os.environ.get("ROCM_PATH", "/opt/rocm")) / ".info" / "version"
        found.rocm_version = _version(info.read_text(errors="replace")) if info.is_file() else None


def probe_venv(found: Found, venv: Path) -> None:
    """The PyTorch build and TensorFlow distributions in the venv, read from its files (nothing imported)."""
    for site in sorted(venv.glob("lib/python3*/site-packages")):
        version_py = site / "torch" / "version.py"
        if version_py.is_file():
            values = {}
            for node in ast.parse(version_py.read_text(errors="replace")).body:
                target = node.targets[0] if isinstance(node, ast.Assign) else getattr(node, "target", None)
                if isinstance(target, ast.Name) and isinstance(getattr(node, "value", None), ast.Constant):
                    values[target.id] = node.value.value
            found.torch = str(values.get("__version__", "unknown"))
            found.torch_kind = ("cuda" if values.get("cuda") else "rocm" if values.get("hip")
                                else "mps" if found.apple else "cpu")
        for dist in ("tensorflow", "tensorflow_cpu", "tensorflow_metal"):
            if any(site.glob(f"{dist}-[0-9]*.dist-info")):
                found.dists.add(dist.replace("_", "-"))


def detect(venv: Path) -> Found:
    found = Found(apple=platform.system() == "Darwin" and platform.machine() == "arm64")
    probe_nvidia(found)
    if not found.nvidia:
        probe_rocm(found)
    probe_venv(found, venv)
    return found


def machine_accelerator(found: Found) -> str:
    return "cuda" if found.nvidia else "rocm" if found.rocm else "mps" if found.apple else "cpu"


def _wheel(table: tuple, have: tuple[int, int] | None) -> str | None:
    return next((tag for need, tag in table if have is not None and have >= need), None)


@dataclass
class Plan:
    accelerator: str
    reason: str
    commands: list[list[str]]
    notes: list[str]


class Refused(Exception):
    """The asked accelerator cannot be installed here (exit 2, with the message)."""


def make_plan(found: Found, asked: str, venv: Path, *, is_root: bool, has_apt: bool, has_npm: bool,
              has_chromium: bool, containers_conf: Path = CONTAINERS_CONF) -> Plan:
    """The accelerator chosen, why, and every command that installs for it, in order."""
    py = str(venv / "bin" / "python")
    pip = [py, "-m", "pip", "install", "-q"]
    notes: list[str] = []
    machine = machine_accelerator(found)
    if asked == "auto" and found.torch_kind:
        chosen = found.torch_kind
        reason = f"auto follows the PyTorch build already in {venv}"
        if chosen != machine:
            notes.append(f"warning: this machine has {machine.upper()} but {venv}'s PyTorch is a {chosen} build, "
                         f"kept; run `bash tools/setup.sh --accelerator {machine}` to install the {machine} build")
    elif asked == "auto":
        chosen, reason = machine, "detected"
    else:
        chosen, reason = asked, "asked with --accelerator"
    if chosen == "mps" and not found.apple:
        raise Refused("--accelerator mps needs macOS on Apple silicon (Darwin arm64); this machine is "
                      f"{platform.system()} {platform.machine()}: use --accelerator cpu|cuda|rocm|auto")

    torch_spec, index = f"torch=={TORCH_VERSION}", None
    if chosen == "cuda":
        tag = _wheel(CUDA_WHEELS, found.cuda) if found.nvidia else DEFAULT_CUDA
        if tag is None:
            lowest = ".".join(map(str, CUDA_WHEELS[-1][0]))
            have = ".".join(map(str, found.cuda)) if found.cuda else "an unknown CUDA version"
            if asked == "cuda":
                raise Refused(f"the NVIDIA driver runs {have}; PyTorch {TORCH_VERSION}'s CUDA builds need "
                              f"{lowest} or newer: update the driver, or use --accelerator cpu")
            notes.append(f"warning: the NVIDIA driver runs {have}, below the {lowest} PyTorch {TORCH_VERSION}'s "
                         "CUDA builds need: installing the CPU build; update the driver to measure the GPU")
            chosen, reason = "cpu", "driver too old for a CUDA build"
        else:
            if not found.nvidia:
                notes.append(f"no NVIDIA driver answered: installing the default CUDA build {tag}")
            torch_spec, index = f"torch=={TORCH_VERSION}+{tag}", TORCH_INDEX + tag
    elif chosen == "rocm":
        tag = _wheel(ROCM_WHEELS, found.rocm_version) or ROCM_WHEELS[0][1]
        if found.rocm_version is None:
            notes.append(f"ROCm release unknown (no $ROCM_PATH/.info/version): installing {tag}")
        torch_spec, index = f"torch=={TORCH_VERSION}+{tag}", TORCH_INDEX + tag
        notes.append("TensorFlow: the CPU build (tensorflow-cpu): tensorflow-rocm on PyPI stops below the "
                     "project's TensorFlow 2.15; install AMD's build from repo.radeon.com into the venv by hand")

    commands = [["python3", "-m", "venv", str(venv)], [py, "-m", "pip", "install", "-q", "--upgrade", "pip"]]
    keep = found.torch_kind == chosen
    if found.torch and keep:
        notes.append(f"PyTorch {found.torch} in {venv} is a {chosen} build: kept")
    elif found.torch:
        notes.append(f"PyTorch {found.torch} in {venv} is a {found.torch_kind} build: replaced by the {chosen} build")
        commands.append([py, "-m", "pip", "uninstall", "-q", "-y", "torch"])
    if not keep:
        commands.append(pip + [torch_spec] + (["--index-url", index] if index else []))

    tf_wanted = {"cuda": {"tensorflow"}, "mps": {"tensorflow", "tensorflow-metal"}}.get(chosen, {"tensorflow-cpu"})
    stale = sorted(found.dists - tf_wanted)
    if stale:
        commands.append([py, "-m", "pip", "uninstall", "-q", "-y", *stale])
    if chosen == "cuda":
        commands.append(pip + ["-e", EXTRAS_NO_TF, TF_CUDA_SPEC])
    elif chosen == "mps":
        commands.append(pip + ["-e", EXTRAS_NO_TF, TF_SPEC, "tensorflow-metal"])
    else:
        commands.append(pip + ["-e", EXTRAS_CPU])

    missing = [pkg for pkg, path in DEBIAN_PACKAGES if not (Path(path).exists() if path else has_chromium)]
    if missing and has_apt and is_root:
        commands[:0] = [["apt-get", "update", "-qq"],
                        ["env", "DEBIAN_FRONTEND=noninteractive", "apt-get", "install", "-y", "-qq",
                         "--no-install-recommends", *missing]]
    elif missing:
        notes.append(f"please install the Debian packages: {' '.join(missing)} (needed by some tests)")
    if is_root and has_apt and needs_default_ulimits(containers_conf):
        # After the Debian packages (podman's package makes /etc/containers) and the venv's first two steps.
        at = 2 if commands[0][0] == "apt-get" else 0
        commands.insert(at + 2, ["python3", "-m", "dlbench.cli.setup_plan", "--containers-conf", str(containers_conf)])
    if has_npm and Path("package-lock.json").is_file():
        commands.append(["npm", "ci", "--no-audit", "--no-fund", "--loglevel=error"])
    return Plan(chosen, reason, commands, notes)


def _containers_section(lines: list[str]) -> tuple[int | None, int]:
    """(index of the `[containers]` header or None, index where that section ends)."""
    start = next((i for i, line in enumerate(lines) if line.strip() == "[containers]"), None)
    if start is None:
        return None, len(lines)
    end = next((i for i in range(start + 1, len(lines)) if lines[i].lstrip().startswith("[")), len(lines))
    return start, end


def needs_default_ulimits(conf: Path) -> bool:
    """True when `conf` sets no `default_ulimits` under [containers] (a value already there is the admin's: kept)."""
    try:
        lines = conf.read_text().splitlines()
    except FileNotFoundError:
        return True
    except OSError:
        return False
    start, end = _containers_section(lines)
    return start is None or not any(re.match(r"\s*default_ulimits\s*=", line) for line in lines[start + 1:end])


def add_default_ulimits(conf: Path) -> bool:
    """Add `default_ulimits = []` under [containers] in `conf` (made if missing); False when already set.

    Idempotent; the rest of the file is kept as it is, and the new file replaces the old in one rename."""
    if not needs_default_ulimits(conf):
        return False
    lines = conf.read_text().splitlines() if conf.exists() else []
    start, _ = _containers_section(lines)
    if start is None:
        lines += ([""] if lines else []) + ["[containers]", ULIMITS_LINE]
    else:
        lines.insert(start + 1, ULIMITS_LINE)
    conf.parent.mkdir(parents=True, exist_ok=True)
    tmp = conf.with_name(conf.name + ".dlbench-tmp")
    tmp.write_text("\n".join(lines) + "\n")
    os.replace(tmp, conf)
    return True


def _dotted(version: tuple[int, int] | None) -> str:
    return ".".join(map(str, version)) if version else "unknown"


def describe(found: Found, venv: Path) -> list[str]:
    """What was found, as the `found:` lines of the report."""
    if found.nvidia:
        gpu = f"{len(found.nvidia)} NVIDIA GPU(s): {', '.join(found.nvidia)} (driver {found.driver}, CUDA {_dotted(found.cuda)})"
    elif found.rocm:
        gpu = f"{len(found.rocm)} AMD GPU(s): {', '.join(found.rocm)} (ROCm {_dotted(found.rocm_version)})"
    else:
        gpu = "Apple silicon (Metal)" if found.apple else "no GPU (neither nvidia-smi nor rocm-smi answered)"
    torch = f"PyTorch {found.torch} ({found.torch_kind} build)" if found.torch else "no PyTorch"
    tf = f", {', '.join(sorted(found.dists))}" if found.dists else ""
    return [f"found: {gpu}", f"found: {torch}{tf} in {venv}"]


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="tools/setup.sh", description=(
        "Set up .venv with the PyTorch and TensorFlow builds for this machine's accelerator, the project and its "
        "test tools (and, as root, Debian's dataset-fashion-mnist and chromium; and the npm tools)."))
    p.add_argument("--accelerator", default="auto", choices=CHOICES,
                   help="which build to install: auto (default) detects nvidia-smi, rocm-smi, Apple silicon, "
                        "else CPU, and keeps a PyTorch already in the venv; an explicit value replaces a "
                        "PyTorch build that does not match it")
    p.add_argument("--dry-run", action="store_true",
                   help="print what was found, what was chosen and the exact commands, and run nothing")
    p.add_argument("--venv", type=Path, default=Path(".venv"), metavar="DIR",
                   help="the virtual environment to create or complete (default: .venv)")
    p.add_argument("--containers-conf", type=Path, metavar="FILE",
                   help="only add `default_ulimits = []` under [containers] in FILE (podman's containers.conf) "
                        "when it sets none, and exit: a step of the plan, run as root")
    p.add_argument("--emit-shell", action="store_true",
                   help=argparse.SUPPRESS)  # for tools/setup.sh: report on stderr, commands on stdout
    return p


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.containers_conf is not None:
        try:
            changed = add_default_ulimits(args.containers_conf)
        except OSError as exc:
            print(f"setup.sh: cannot update {args.containers_conf}: {exc}", file=sys.stderr)
            return 1
        print(f"setup: {args.containers_conf}: " + (f"added {ULIMITS_LINE} under [containers]" if changed
                                                     else "default_ulimits already set: kept"), file=sys.stderr)
        return 0
    found = detect(args.venv)
    try:
        plan = make_plan(found, args.accelerator, args.venv, is_root=hasattr(os, "geteuid") and os.geteuid() == 0,
                         has_apt=bool(shutil.which("apt-get")), has_npm=bool(shutil.which("npm")),
                         has_chromium=bool(shutil.which("chromium")))
    except Refused as exc:
        print(f"setup.sh: {exc}", file=sys.stderr)
        return 2
    report = sys.stderr if args.emit_shell else sys.stdout
    lines = describe(found, args.venv) + [f"chose: {plan.accelerator} ({plan.reason})"]
    lines += [f"note: {n}" for n in plan.notes]
    verb = "would run" if args.dry_run else "will run"
    lines += [f"{verb}: {shlex.join(cmd)}" for cmd in plan.commands]
    print("\n".join(f"setup: {line}" for line in lines), file=report, flush=True)
    if args.dry_run:
        print("setup: dry run: nothing was run", file=report)
    elif args.emit_shell:
        print("\n".join(shlex.join(cmd) for cmd in plan.commands))
    return 0


if __name__ == "__main__":
    sys.exit(main())
