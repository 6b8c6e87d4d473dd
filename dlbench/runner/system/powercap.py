"""The CPU package energy from Linux powercap (RAPL): finding the package domains and reading their counters.

Linux exposes Intel's (and, from kernel 5.8, AMD Zen's) Running Average Power Limit counters under
`/sys/class/powercap/intel-rapl:N/`: `name` (`package-N` for a CPU package; `psys`, the platform, on some
laptops), `energy_uj` (microjoules since an arbitrary origin) and `max_energy_range_uj` (the value after which
the counter wraps around to 0). Sub-domains `intel-rapl:N:M` (`core`, `uncore`, `dram`) are parts of a package
or, for `dram`, outside it: only the package domains are summed, so a reading covers the CPU packages (every
core of them, not only the run's) and never the memory. `intel-rapl-mmio:N` duplicates a package through
another interface and is not read.

Since 2020 (CVE-2020-8694) `energy_uj` is readable by root only on most distributions; such a domain is
reported as unreadable with that reason, as is a machine without powercap. The root folder is
`/sys/class/powercap`, or `$DLBENCH_POWERCAP_ROOT` (tests point it at a tree they write).

A counter read twice gives the energy between the reads (`advance`, wrap-around included); a reading longer
than a wrap period (max_energy_range_uj is about 262 kJ on most CPUs: over 20 minutes at 200 W) must read in
between, which dlbench.runner.energy does every few seconds.
"""

from __future__ import annotations

import errno
import os
import re
from dataclasses import dataclass
from pathlib import Path

ROOT_ENV = "DLBENCH_POWERCAP_ROOT"
DEFAULT_ROOT = "/sys/class/powercap"
_PACKAGE_DIR = re.compile(r"intel-rapl:(\d+)")
_PACKAGE_NAME = re.compile(r"package-(\d+)")


class Unreadable(Exception):
    """No package energy can be read here; `reason` says why, in words for the result's `energy.missing`."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class Domain:
    """One CPU package's RAPL domain: its folder, package number and wrap-around value (µJ)."""

    path: Path
    package: int
    max_range_uj: int

    def read_uj(self) -> int:
        """The counter now, in µJ (Unreadable with the reason when it cannot be read)."""
        return _read_int(self.path / "energy_uj")


def root() -> Path:
    """The powercap folder: $DLBENCH_POWERCAP_ROOT, else /sys/class/powercap."""
    return Path(os.environ.get(ROOT_ENV) or DEFAULT_ROOT)


def packages(base: Path | None = None) -> list[Domain]:
    """The package domains under `base` (default: `root()`), by package number, each read once to check that
    it can be; Unreadable when there is none or one of them cannot be read (a sum over some packages only
    would understate the CPU's energy)."""
    base = root() if base is None else Path(base)
    if not base.is_dir():
        raise Unreadable(f"no readable sensor: {base} does not exist (no Linux powercap on this machine)")
    domains = []
    try:
        entries = sorted(base.iterdir())
    except OSError as exc:
        raise Unreadable(_why(base, exc)) from None
    for folder in entries:
        if not _PACKAGE_DIR.fullmatch(folder.name):
            continue
        try:
            name = (folder / "name").read_text(encoding="ascii").strip()
        except (OSError, UnicodeDecodeError):
            continue  # not a domain this reader knows
        package = _PACKAGE_NAME.fullmatch(name)
        if package is None:
            continue  # psys (the platform) or another top-level domain: not a CPU package
        domains.append(Domain(folder, int(package.group(1)), _read_int(folder / "max_energy_range_uj")))
    if not domains:
        raise Unreadable(f"no readable sensor: {base} has no intel-rapl package domain")
    for domain in domains:
        domain.read_uj()
    return sorted(domains, key=lambda d: d.package)


def covers(domains: list[Domain]) -> str:
    """What a sum over `domains` covers, in words (the result's `energy.covers`)."""
    numbers = ", ".join(str(d.package) for d in domains)
    plural = "s" if len(domains) > 1 else ""
    return (f"CPU package{plural} {numbers} (RAPL package domain{plural}: all cores of the package{plural}, "
            "not only the run's; DRAM and the rest of the machine not included)")


def advance(before_uj: int, after_uj: int, max_range_uj: int) -> int:
    """The energy between two reads of one counter, in µJ: a counter lower than before wrapped around (once:
    the caller reads often enough for no second wrap)."""
    if after_uj >= before_uj:
        return after_uj - before_uj
    return after_uj + max_range_uj - before_uj


def _read_int(path: Path) -> int:
    try:
        text = path.read_text(encoding="ascii")
    except (OSError, UnicodeDecodeError) as exc:
        raise Unreadable(_why(path, exc)) from None
    try:
        return int(text.strip())
    except ValueError:
        raise Unreadable(f"{path} does not hold a whole number ({text.strip()[:40]!r})") from None


def _why(path: Path, exc: BaseException) -> str:
    """Why `path` could not be read, as recorded: a permission error says root only (the usual case)."""
    if isinstance(exc, PermissionError) or getattr(exc, "errno", None) in (errno.EACCES, errno.EPERM):
        return f"{path} is readable by root only (permission denied): run as root or make it readable"
    if isinstance(exc, FileNotFoundError):
        return f"no readable sensor: {path} does not exist"
    return f"cannot read {path}: {type(exc).__name__}: {getattr(exc, 'strerror', None) or exc}"
