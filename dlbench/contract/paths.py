"""Where the repository's files live."""

from __future__ import annotations

from pathlib import Path

PACKAGE_DIR = Path(__file__).resolve().parent.parent   # dlbench/ (this module is dlbench/contract/paths.py)
REPO_ROOT = PACKAGE_DIR.parent


def schema_dir() -> Path:
    """The folder holding the JSON Schemas: the repository's `schema/`, or the copy inside an installed wheel."""
    repo = REPO_ROOT / "schema"
    if (repo / "run.schema.json").is_file():
        return repo
    return PACKAGE_DIR / "_schema"


def data_dir(root: Path | None = None) -> Path:
    return (root or REPO_ROOT) / "data"
