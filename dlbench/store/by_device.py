"""The API's rows regrouped by device, for the page's "compare two devices" view (written with the site).

A comparison of two devices needs every row of each, which the per-workload parts scatter over thousands
of files. The site build (`tools/publish.py`) writes, beside the API it copies, the same rows grouped by
device label (`name (kind)`):

    data/api/v1/by-device.json                      {"api_version", "source_sha256", "devices": [entry, ...]}
    data/api/v1/by-device/<slug>/<n>.json           {"api_version", "device", "part", "result_count", "results"}

An entry is `{label, device, kind, result_count, files}`, and `predicted` (`by-device/<slug>/predicted.json`) when the
site build gives predictions for the device (`dlbench.analysis.site_predictions`: `{"api_version", "device",
"errors", "units", "predictions"}`); rows are exactly the workload parts' rows plus the
`benchmark` they belong to, in the index's workload order, parts filled greedily up to the API's 1 MiB limit.
They are derived, never committed: the committed API stays the one source, and `tools/versus.py` reads the
same rows from the workload parts when these files are absent.
"""

from __future__ import annotations

import hashlib
import re
from collections import defaultdict
from pathlib import Path
from typing import Any

from ..contract.atomic import write_bytes_atomic
from .api_rows import BY_DEVICE_NAME, Api, label_of, load_index, workload_rows
from .shards import API_VERSION, MAX_SHARD_BYTES, ShardError, _encode

FOLDER = "by-device"


def slug(label: str) -> str:
    """A file-system-safe, unique folder name for a device label: readable letters and a short hash."""
    readable = re.sub(r"[^a-z0-9]+", "-", label.lower()).strip("-")[:60] or "device"
    return f"{readable}-{hashlib.sha256(label.encode('utf-8')).hexdigest()[:8]}"


def _parts(label: str, lines: list[str], max_bytes: int) -> list[bytes]:
    def render(part: int, chunk: list[str]) -> bytes:
        head = _encode({"api_version": API_VERSION, "device": label, "part": part, "result_count": len(chunk)})[:-1]
        return (head + ',"results":[\n' + ",\n".join(chunk) + "\n]}\n").encode("utf-8")

    parts: list[bytes] = []
    chunk: list[str] = []
    size = 0
    for line in lines:
        n = len(line.encode("utf-8")) + 2
        if chunk and len(render(len(parts) + 1, [])) + size + n + 16 > max_bytes:
            parts.append(render(len(parts) + 1, chunk))
            chunk, size = [], 0
        if len(render(len(parts) + 1, [line])) > max_bytes:
            raise ShardError(f"a result of {label} needs more than the {max_bytes}-byte file limit")
        chunk.append(line)
        size += n
    if chunk:
        parts.append(render(len(parts) + 1, chunk))
    return parts


def build(api_dir: Path, max_bytes: int = MAX_SHARD_BYTES,
          predicted: dict[str, dict[str, Any]] | None = None) -> dict[str, bytes]:
    """{path relative to the API folder: bytes} of the per-device files for the API at `api_dir`; `predicted`:
    {label: the body of its predictions file} (written as one compact file per device, listed in its entry)."""
    api = Api.at(api_dir)
    index = load_index(api)
    by_label: dict[str, list[str]] = defaultdict(list)
    kinds: dict[str, tuple[str, str]] = {}
    for row in workload_rows(api, index):
        label = label_of(row)
        kinds.setdefault(label, (row["device"], row.get("device_kind") or "other"))
        by_label[label].append(_encode(row))
    files: dict[str, bytes] = {}
    entries = []
    for label in sorted(by_label):
        folder = f"{FOLDER}/{slug(label)}"
        names = []
        for i, data in enumerate(_parts(label, by_label[label], max_bytes), start=1):
            names.append(f"{folder}/{i}.json")
            files[names[-1]] = data
        device, kind = kinds[label]
        entry = {"label": label, "device": device, "kind": kind, "result_count": len(by_label[label]),
                 "files": names}
        if predicted and label in predicted:
            entry["predicted"] = f"{folder}/predicted.json"
            files[entry["predicted"]] = (_encode({"api_version": API_VERSION, "device": label, **predicted[label]})
                                         + "\n").encode("utf-8")
        entries.append(entry)
    listing = {"api_version": API_VERSION, "source_sha256": index.get("source_sha256", ""), "devices": entries}
    files[BY_DEVICE_NAME] = ("{\n" + ",\n".join(
        f" {_encode(k)}: " + ("[\n  " + ",\n  ".join(_encode(e) for e in v) + "\n ]" if k == "devices" else _encode(v))
        for k, v in sorted(listing.items())) + "\n}\n").encode("utf-8")
    return files


def write(api_dir: Path, out_api_dir: Path | None = None,
          predicted: dict[str, dict[str, Any]] | None = None) -> list[Path]:
    """Write the per-device files into `out_api_dir` (default: beside the API itself); the paths written."""
    out = out_api_dir or api_dir
    written = []
    for name, data in sorted(build(api_dir, predicted=predicted).items()):
        path = out / name
        path.parent.mkdir(parents=True, exist_ok=True)
        write_bytes_atomic(path, data)
        written.append(path)
    return written
