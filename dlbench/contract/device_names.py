"""Canonical device names: part of the data contract (the runner, the importers and analysis all use them).

Canonical names make the same hardware compare equal across drivers, frameworks and imports. Finding the
devices (NVML, else the framework) is `dlbench.runner.system.devices`.

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
from typing import Iterable

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
