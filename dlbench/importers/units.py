"""Unit strings of published tables ("8GB", "1750MB", "3.6GHz", "336.5GB/s") as numbers.

Conventions (chosen once, applied everywhere):

- Memory sizes are binary: `KB`, `MB`, `GB`, `TB` mean 1024-based units, exactly like `KiB`, `MiB`, `GiB`,
  `TiB`. RAM and GPU memory are sold in these units ("8GB" of RAM is 8 GiB) and tools such as
  nvidia-smi print MiB as "MB", so a decimal reading would under-count every published figure.
- Bandwidths are decimal: `KB/s`, `MB/s`, `GB/s`, `TB/s` mean 10^3 ... 10^12 bytes per second, as vendors
  rate memory bandwidth (336.5 GB/s = 336.5e9 B/s); `KiB/s`, `MiB/s`, `GiB/s` are binary.
- Frequencies: `Hz`, `kHz`, `MHz`, `GHz`, returned in MHz.

Parsing is strict: a string that is not a positive number followed by a known unit raises UnitError with a
message naming the expected forms, so an importer can report it instead of guessing.
"""

from __future__ import annotations

import re

_NUMBER = r"(?P<num>[0-9]+(?:\.[0-9]+)?|\.[0-9]+)"
_SIZE_RE = re.compile(rf"^\s*{_NUMBER}\s*(?P<unit>[A-Za-z]*)\s*$")
_RATE_RE = re.compile(rf"^\s*{_NUMBER}\s*(?P<unit>[A-Za-z]+)\s*(?:/\s*s|ps)\s*$")

_BINARY = {"": 1, "B": 1, "K": 2**10, "KB": 2**10, "KIB": 2**10, "M": 2**20, "MB": 2**20, "MIB": 2**20,
           "G": 2**30, "GB": 2**30, "GIB": 2**30, "T": 2**40, "TB": 2**40, "TIB": 2**40}
_RATE = {"B": 1, "KB": 10**3, "MB": 10**6, "GB": 10**9, "TB": 10**12,
         "KIB": 2**10, "MIB": 2**20, "GIB": 2**30, "TIB": 2**40}
_FREQ_MHZ = {"HZ": 1e-6, "KHZ": 1e-3, "MHZ": 1.0, "GHZ": 1e3}


class UnitError(ValueError):
    """A unit string that cannot be read; the message says which forms are accepted."""


def _scaled(text: object, pattern: re.Pattern[str], units: dict[str, float], what: str, examples: str,
            positive: bool = False) -> float:
    """The number in `text` times the factor of its unit in `units`; UnitError naming `examples` otherwise."""
    m = pattern.match(str(text))
    unit = m.group("unit").upper() if m else None
    if not m or unit not in units:
        raise UnitError(f"{text!r} is not a {what}: write a number and a unit such as {examples}")
    value = float(m.group("num")) * units[unit]
    if positive and value <= 0:
        raise UnitError(f"{text!r}: a {what} must be greater than 0")
    return value


def parse_size(text: str | int) -> int:
    """A memory size in bytes: '8GB' -> 8589934592, '1750MB' -> 1835008000, '5980 MB', '12GiB'.

    A bare number is bytes. KB/MB/GB/TB are binary (see the module docstring).
    """
    if isinstance(text, bool):
        raise UnitError(f"{text!r} is not a size: write a number and a unit such as 8GB or 1750MB")
    if isinstance(text, int):
        if text < 0:
            raise UnitError(f"{text} is negative: a size cannot be")
        return text
    return round(_scaled(text, _SIZE_RE, _BINARY, "size", "512KB, 1750MB, 8GB or 12GiB"))


def parse_bandwidth(text: str) -> float:
    """A bandwidth in bytes per second: '336.5GB/s' -> 336.5e9 (decimal GB/s), '10GiB/s' binary."""
    return _scaled(text, _RATE_RE, _RATE, "bandwidth", "336.5GB/s or 900MB/s", positive=True)


def parse_frequency_mhz(text: str) -> float:
    """A clock frequency in MHz: '3.6GHz' -> 3600.0, '3400 MHz' -> 3400.0."""
    return round(_scaled(text, _SIZE_RE, _FREQ_MHZ, "frequency", "3.6GHz or 3400MHz", positive=True), 6)


def parse_count(text: str | int) -> int:
    """A whole, positive count written as a number or a string: '3072' -> 3072."""
    if isinstance(text, bool):
        raise UnitError(f"{text!r} is not a count: write a whole number such as 8")
    if isinstance(text, int):
        value = text
    elif isinstance(text, str) and re.fullmatch(r"\s*[0-9]+\s*", text):
        value = int(text)
    else:
        raise UnitError(f"{text!r} is not a count: write a whole number such as 8")
    if value < 1:
        raise UnitError(f"{text!r}: a count must be at least 1")
    return value


def parse_number(text: str | int | float) -> float:
    """A plain non-negative number from a table cell: '227.3' -> 227.3, '.987' -> 0.987."""
    if isinstance(text, bool):
        raise UnitError(f"{text!r} is not a number")
    if isinstance(text, (int, float)):
        value = float(text)
    elif isinstance(text, str) and re.fullmatch(rf"\s*{_NUMBER}\s*", text):
        value = float(text)
    else:
        raise UnitError(f"{text!r} is not a number: write digits such as 227.3")
    if value < 0:
        raise UnitError(f"{text!r}: a negative value is not a time, size or count")
    return value
