"""Fragments: one run as one TOML file named after its content-derived id."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

from .atomic import write_text_atomic
from .tomlio import dumps_table, to_toml_form

RUN_ID_LENGTH = 16


def canonical_json(run: dict[str, Any]) -> bytes:
    """The run without `run_id` as canonical JSON: sorted keys, no spaces, UTF-8."""
    body = {k: v for k, v in run.items() if k != "run_id"}
    return json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False).encode("utf-8")


def compute_run_id(run: dict[str, Any]) -> str:
    """First 16 hex digits of the SHA-256 of the run's canonical JSON (JSON form: datetimes as strings)."""
    return hashlib.sha256(canonical_json(run)).hexdigest()[:RUN_ID_LENGTH]


def with_run_id(run: dict[str, Any]) -> dict[str, Any]:
    """The run with its `run_id` set from its content, placed after `schema_version`."""
    out: dict[str, Any] = {}
    run_id = compute_run_id(run)
    for key, value in run.items():
        if key == "run_id":
            continue
        out[key] = value
        if key == "schema_version":
            out["run_id"] = run_id
    out.setdefault("run_id", run_id)
    return out


def file_name(run_id: str) -> str:
    return f"{run_id}.toml"


def to_toml(run: dict[str, Any]) -> str:
    """The fragment file's text for a run in JSON form."""
    return dumps_table(to_toml_form(run))


def write(run: dict[str, Any], out_dir: Path) -> Path:
    """Write the run (in JSON form, `run_id` set) as `<out_dir>/<run_id>.toml`, atomically."""
    path = Path(out_dir) / file_name(run["run_id"])
    write_text_atomic(path, to_toml(run))
    return path
