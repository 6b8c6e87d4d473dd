"""The limits of what a contribution may hold, in one place: enforced by the schema (per field), the TOML
reader (per file), the pull-request check (per pull request), and documented in schema/README.md.

They bound what one pull request can add to `data/` for ever (the dataset is append-only): at most
MAX_FRAGMENTS_PER_PR fragments of at most MAX_FILE_BYTES each, which the merge renders into about as many
bytes of benchmark.toml and roughly twice that of JSON (benchmark.json and the API shards).
"""

from __future__ import annotations

from .tomlio import MAX_DEPTH, MAX_FILE_BYTES

MAX_FRAGMENTS_PER_PR = 50
MAX_RESULTS_PER_FRAGMENT = 100   # the schema's results.maxItems (checked by a test)


def growth_bound_bytes() -> int:
    """Upper bound of what one pull request adds to data/: its TOML, plus benchmark.json and the API shards."""
    return 3 * MAX_FRAGMENTS_PER_PR * MAX_FILE_BYTES


def describe() -> str:
    """The limits as a Markdown paragraph for schema/README.md."""
    return (f"Limits: a fragment is at most {MAX_FILE_BYTES // 1024} KiB, holds at most {MAX_RESULTS_PER_FRAGMENT} "
            f"results, and nests arrays and tables at most {MAX_DEPTH} deep; a pull request adds at most "
            f"{MAX_FRAGMENTS_PER_PR} fragments, so it grows `data/` by at most about "
            f"{growth_bound_bytes() // (1024 * 1024)} MiB (TOML, `benchmark.json` and the API). Every text field "
            "has a length limit (shown with its type below) and may not hold control characters, bidi controls or "
            "line separators (`notes` may keep line breaks); arrays and tables have item limits. A value over its "
            "limit is reported by its length, never echoed.\n")
