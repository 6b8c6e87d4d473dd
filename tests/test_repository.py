"""The repository's own data: every fragment and the dataset validate, and every generated file (benchmark.json,
the sharded API, schema/README.md, the README's results table) is current with data/benchmark.toml."""

from __future__ import annotations

from conftest import REPO, run_tool


def test_data_validates() -> None:
    r = run_tool("validate", cwd=REPO)
    assert r.returncode == 0, r.stdout + r.stderr


def test_generated_files_are_current() -> None:
    r = run_tool("merge", "--check", cwd=REPO)
    assert r.returncode == 0, (r.stderr + "\nrun `python tools/merge.py` and commit the result")
    assert r.stdout.strip() == "generated files are up to date"


def test_published_results_are_in_the_dataset_with_their_sources() -> None:
    import json
    doc = json.loads((REPO / "data" / "benchmark.json").read_text(encoding="utf-8"))
    imported = [run for run in doc["runs"] if run["provenance"]["kind"] == "imported"]
    titles = {run["provenance"]["source"]["title"] for run in imported}
    assert len(imported) >= 15 and all(title.strip() for title in titles)
    devices = {res.get("device_name") for run in imported for res in run["results"]}
    assert {"NVIDIA RTX 3050", "Apple M1", "NVIDIA Titan X", "NVIDIA RTX 2060"} <= devices
