"""How results are labelled for people: metric values, devices and sources.

Shared by the README table (`readme_table`, generated on every merge) and analysis (`dlbench.analysis.frame`,
`dlbench.analysis.compare_output`); it lives in the store so that the README table needs nothing from analysis.
"""

from __future__ import annotations

from typing import Any


def format_value(value: float, unit: str = "") -> str:
    """A metric value for people: 4 significant digits, whole numbers from 10,000, bytes in MiB."""
    if unit == "bytes":
        return f"{value / 2**20:.0f} MiB"
    return f"{value:.0f}" if abs(value) >= 10_000 else f"{value:.4g}"


def device_label(device: str, kind: str | None) -> str:
    """How a device is shown and grouped: its normalized name and kind, e.g. `Apple M1 (mps)`.

    The kind keeps apart the CPU and the GPU of one chip (Apple M1's CPU and its Metal GPU).
    """
    return f"{device} ({kind or 'other'})"


def source_label(run: dict[str, Any]) -> str:
    """`measured`, or the title of the publication an imported result comes from."""
    prov = run.get("provenance", {})
    if prov.get("kind") == "imported":
        return prov.get("source", {}).get("title", "imported")
    return "measured"
