"""`data/benchmark.json`: the dataset as JSON for web pages and scripts (the raw-URL API).

Deterministic: keys sorted, one run per line, no timestamps of its own. Values are already JSON-safe
(validation rejects NaN, infinities and integers beyond 2^53 - 1; datetimes are ISO-8601 strings).
"""

from __future__ import annotations

import json
from typing import Any

from .schema import SCHEMA_VERSION


def dumps_compact(obj: Any) -> str:
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False)


def render_json(runs: list[dict[str, Any]], source_sha256: str) -> bytes:
    header = {
        "schema_version": SCHEMA_VERSION,
        "source_sha256": source_sha256,
        "run_count": len(runs),
        "result_count": sum(len(r.get("results", [])) for r in runs),
    }
    head = dumps_compact(header)[:-1]  # without the closing brace
    body = ",\n".join(dumps_compact(r) for r in runs)
    text = f'{head},"runs":[\n{body}\n]}}\n' if runs else f'{head},"runs":[]}}\n'
    return text.encode("utf-8")
