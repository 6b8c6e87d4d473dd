"""`data/benchmark.json`: the dataset as JSON for web pages and scripts (the raw-URL API).

Deterministic: keys sorted, one run per line, no timestamps of its own. Values are already JSON-safe
(validation rejects NaN, infinities and integers beyond 2^53 - 1; datetimes are ISO-8601 strings).
"""

from __future__ import annotations

import json
from typing import Any

from ..contract.schema import SCHEMA_VERSION


def dumps_compact(obj: Any) -> str:
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False)


RUNS_OPEN = ',"runs":[\n'
END = "\n]}\n"


def _head(runs: list[dict[str, Any]], source_sha256: str) -> str:
    header = {
        "schema_version": SCHEMA_VERSION,
        "source_sha256": source_sha256,
        "run_count": len(runs),
        "result_count": sum(len(r.get("results", [])) for r in runs),
    }
    return dumps_compact(header)[:-1]  # without the closing brace


def render_json(runs: list[dict[str, Any]], source_sha256: str) -> bytes:
    head = _head(runs, source_sha256)
    body = ",\n".join(dumps_compact(r) for r in runs)
    text = f"{head}{RUNS_OPEN}{body}{END}" if runs else f'{head},"runs":[]}}\n'
    return text.encode("utf-8")


def render_json_appended(previous: bytes, runs: list[dict[str, Any]], old_count: int,
                         source_sha256: str) -> bytes | None:
    """`render_json(runs, source_sha256)`, reusing the lines of `previous`, the rendering of `runs[:old_count]`.

    Appending to a large dataset then costs a copy of the old lines instead of encoding every run again.
    Returns None when `previous` does not have the shape `render_json` gives for `old_count` runs.
    """
    if old_count == 0:
        return render_json(runs, source_sha256)
    opened = RUNS_OPEN.encode()
    start = previous.find(opened, 0, 4096)
    if start < 0 or not previous.endswith(END.encode()):
        return None
    body = previous[start + len(opened):len(previous) - len(END)]
    if body.count(b"\n") != old_count - 1 or f'"run_count":{old_count},'.encode() not in previous[:start]:
        return None
    added = "".join(",\n" + dumps_compact(r) for r in runs[old_count:]).encode("utf-8")
    return b"".join((_head(runs, source_sha256).encode("utf-8"), opened, body, added, END.encode()))
