"""Reading the generated JSON API back: the index, the catalogue (`devices.json`) and every row.

The consumers that must agree with the page (`tools/versus.py`, `tools/predict.py`, the exports) read the
same rows the page reads, from a folder (`data/api/v1` of a checkout, or the published site's copy) or an
http(s) base URL. Rows are returned as the parts hold them, each tagged with its `benchmark` (the part's
workload), in the index's workload order and each workload's part order.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Iterable

try:                     # orjson parses the API's 64 MB twice as fast as the standard library (analysis extra)
    from orjson import loads as _loads
except ImportError:      # the core install (merge, CI checks) has no need of it
    _loads = json.loads

from .dataset import DatasetError
from .labels import device_label
from .shards import API_DIR, DEVICES_NAME, INDEX_NAME

BY_DEVICE_NAME = "by-device.json"     # written with the site only (`by_device.py`), never committed


@dataclass
class Api:
    """Where an API is: a local folder or an http(s) base URL (no trailing slash)."""

    base: str

    @classmethod
    def at(cls, where: str | Path) -> "Api":
        """The API of a repository root (its `data/api/v1`), an API folder, or a URL."""
        text = str(where)
        if text.startswith(("http://", "https://")):
            return cls(text.rstrip("/"))
        path = Path(where)
        if (path / API_DIR / INDEX_NAME).is_file():
            path = path / API_DIR
        return cls(str(path))

    @property
    def remote(self) -> bool:
        return self.base.startswith(("http://", "https://"))

    def read(self, name: str) -> Any:
        """A JSON file of the API by its path relative to the API folder; DatasetError saying what to do."""
        where = f"{self.base}/{name}"
        try:
            if self.remote:
                import urllib.request  # only here: slow to import

                with urllib.request.urlopen(where, timeout=60) as resp:
                    raw = resp.read()
            else:
                raw = Path(where).read_bytes()
        except FileNotFoundError:
            raise DatasetError(f"{where}: missing: generate the API with `python tools/merge.py` (or point "
                               "--data at a repository root or a data/api/v1 folder)") from None
        except OSError as exc:
            raise DatasetError(f"{where}: cannot read: {getattr(exc, 'strerror', None) or exc}") from exc
        try:
            return _loads(raw)
        except ValueError as exc:      # orjson.JSONDecodeError is a ValueError too
            raise DatasetError(f"{where}: not valid JSON ({exc}): regenerate it with `python tools/merge.py`") from exc

    def exists(self, name: str) -> bool:
        if self.remote:
            try:
                self.read(name)
            except DatasetError:
                return False
            return True
        return Path(self.base, name).is_file()


def load_index(api: Api) -> dict[str, Any]:
    index = api.read(INDEX_NAME)
    if not isinstance(index, dict) or index.get("api_version") != 1 or not isinstance(index.get("workloads"), list):
        raise DatasetError(f"{api.base}/{INDEX_NAME}: not a version 1 dlbench API index")
    return index


def load_catalogue(api: Api, index: dict[str, Any]) -> dict[str, Any]:
    """`devices.json` (the device catalogue), or an empty one when the API has none."""
    name = (index.get("catalogue") or {}).get("file", DEVICES_NAME)
    if not api.exists(name):
        return {"devices": []}
    return api.read(name)


def _rows_of(api: Api, files: Iterable[str], benchmark: str | None) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    for name in files:
        part = api.read(name)
        tag = benchmark or part.get("benchmark")
        if benchmark is not None and part.get("benchmark") != benchmark:
            raise DatasetError(f"{api.base}/{name}: holds results of {part.get('benchmark')}, not of {benchmark}")
        for row in part["results"]:
            row.setdefault("benchmark", tag)
        rows.extend(part["results"])
    return rows


def workload_rows(api: Api, index: dict[str, Any],
                  keep: Callable[[dict[str, Any]], bool] | None = None) -> list[dict[str, Any]]:
    """Every row of the workloads `keep` accepts (an index entry -> bool; default all), tagged with `benchmark`."""
    rows: list[dict[str, Any]] = []
    for workload in index["workloads"]:
        if keep is None or keep(workload):
            rows.extend(_rows_of(api, workload["files"], workload["name"]))
    return rows


def device_rows(api: Api, index: dict[str, Any], labels: Iterable[str]) -> list[dict[str, Any]]:
    """The rows of the devices with these labels (`device (kind)`): from the site's per-device files when the
    API has them (`by-device.json`), else every workload's parts, filtered. Same rows, same order per device."""
    wanted = set(labels)
    if api.exists(BY_DEVICE_NAME):
        listing = api.read(BY_DEVICE_NAME)
        rows: list[dict[str, Any]] = []
        for entry in listing["devices"]:
            if entry["label"] in wanted:
                rows.extend(_rows_of(api, entry["files"], None))
        return rows
    return [r for r in workload_rows(api, index) if label_of(r) in wanted]


def label_of(row: dict[str, Any]) -> str:
    """A row's device label, as `compare` and the page show it: `name (kind)`."""
    return device_label(row["device"], row.get("device_kind"))
