"""Analysis: the dataset as a results table, and comparisons of devices on a metric.

Imports the contract, the store and analysis: never the runner, the importers or the cli. pandas,
matplotlib and tabulate are imported only where they are used, inside functions.

- `frame.py`: the results frame (one row per result; `result_rows`, `load_results`);
- `compare.py`: comparing devices on one metric (selection, grouping, medians, speedups);
- `compare_output.py`: a comparison as text, Markdown, CSV, JSON and a bar chart.
"""

from __future__ import annotations

from typing import Any

_FRAME_NAMES = ("load_results", "result_rows", "read_runs_from")


def __getattr__(name: str) -> Any:
    """`from dlbench.analysis import load_results` (the notebook one-liner) without importing pandas here."""
    if name in _FRAME_NAMES:
        import importlib

        return getattr(importlib.import_module(f"{__name__}.frame"), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
