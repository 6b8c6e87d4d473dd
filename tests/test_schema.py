"""The schemas themselves: valid draft 2020-12, documented on every property, and usable by third-party
validators on our real files."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import jsonschema
import pytest
from referencing import Registry, Resource

from conftest import REPO, field_parent, merge_synthetic, run_tool
from dlbench.contract import fragment, schema
from dlbench.store.synthetic import synthetic_run

SCHEMAS = [REPO / "schema" / name for name in schema.SCHEMA_FILES]


@pytest.mark.parametrize("path", SCHEMAS, ids=lambda p: p.name)
def test_schema_is_valid_against_the_2020_12_meta_schema(path: Path) -> None:
    doc = json.loads(path.read_text())
    assert doc["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    jsonschema.Draft202012Validator.check_schema(doc)
    meta = jsonschema.Draft202012Validator.META_SCHEMA
    assert jsonschema.Draft202012Validator(meta).is_valid(doc)
    bad = dict(doc, type="no-such-type")
    with pytest.raises(jsonschema.SchemaError):
        jsonschema.Draft202012Validator.check_schema(bad)


def _walk(node, path=""):
    if isinstance(node, dict):
        for key in ("properties", "$defs"):
            for name, sub in node.get(key, {}).items():
                yield f"{path}/{key}/{name}", sub
                yield from _walk(sub, f"{path}/{key}/{name}")
        for key in ("items", "additionalProperties"):
            if isinstance(node.get(key), dict):
                yield from _walk(node[key], f"{path}/{key}")


@pytest.mark.parametrize("path", SCHEMAS, ids=lambda p: p.name)
def test_every_property_has_a_description_and_objects_are_closed(path: Path) -> None:
    doc = json.loads(path.read_text())
    assert doc["$id"].startswith("https://") and doc["title"] and doc["description"]
    undocumented = [p for p, sub in _walk(doc) if not sub.get("description")]
    assert undocumented == []
    open_objects = [p for p, sub in _walk(doc) if sub.get("type") == "object" and "additionalProperties" not in sub]
    assert open_objects == []


def _third_party_registry() -> Registry:
    resources = [(json.loads(p.read_text())["$id"], Resource.from_contents(json.loads(p.read_text()))) for p in SCHEMAS]
    return Registry().with_resources(resources)


def test_fragment_and_benchmark_json_validate_with_python_jsonschema(repo: Path) -> None:
    """python-jsonschema used directly, as any consumer would, without our code in between."""
    import tomllib
    run = fragment.with_run_id(synthetic_run(3))
    path = fragment.write(run, repo / "data" / "fragments")
    with path.open("rb") as f:
        parsed = tomllib.load(f)
    as_json = json.loads(json.dumps(parsed, default=lambda d: d.isoformat().replace("+00:00", "Z")))
    run_schema = json.loads(SCHEMAS[0].read_text())
    validator = jsonschema.Draft202012Validator(
        run_schema, registry=_third_party_registry(), format_checker=jsonschema.FormatChecker())
    assert list(validator.iter_errors(as_json)) == []
    as_json["results"][0]["metrics"]["accuracy"] = 1.5
    assert not validator.is_valid(as_json)

    merge_synthetic(repo, 3)
    doc = json.loads((repo / "data" / "benchmark.json").read_text())
    dataset_schema = json.loads(SCHEMAS[1].read_text())
    validator = jsonschema.Draft202012Validator(dataset_schema, registry=_third_party_registry())
    assert list(validator.iter_errors(doc)) == []
    assert doc["run_count"] == 4 and len(doc["runs"]) == 4


def test_fragment_and_benchmark_json_validate_with_check_jsonschema(repo: Path, tmp_path: Path) -> None:
    """check-jsonschema (a separate CLI) on a real fragment file and a real benchmark.json."""
    cli = str(Path(sys.executable).parent / "check-jsonschema")
    merge_synthetic(repo, 3)
    frag = fragment.write(synthetic_run(9), tmp_path)
    r = subprocess.run([cli, "--schemafile", str(SCHEMAS[0]), str(frag)], capture_output=True, text=True)
    assert r.returncode == 0, r.stdout + r.stderr
    # The dataset schema refers to run.schema.json relative to its $id: resolve it from the local folder, offline.
    base = ["--base-uri", (REPO / "schema").as_uri() + "/"]
    r = subprocess.run([cli, *base, "--schemafile", str(SCHEMAS[1]), str(repo / "data" / "benchmark.json")],
                       capture_output=True, text=True)
    assert r.returncode == 0, r.stdout + r.stderr
    broken = tmp_path / "broken.json"
    doc = json.loads((repo / "data" / "benchmark.json").read_text())
    doc["runs"][0]["results"][0]["status"] = "exploded"
    broken.write_text(json.dumps(doc))
    r = subprocess.run([cli, *base, "--schemafile", str(SCHEMAS[1]), str(broken)], capture_output=True, text=True)
    assert r.returncode == 1


def test_negative_fixtures_fail_and_positive_pass() -> None:
    examples = sorted((REPO / "schema" / "examples").glob("*.toml"))
    r = run_tool("validate", *map(str, examples), "--root", str(REPO / "schema" / "examples"))
    assert r.returncode == 0, r.stderr
    run = synthetic_run(0)
    for path, value in ((("results", 0, "status"), "exploded"), (("results", 0, "device_kind"), "gpu"),
                        (("provenance", "kind"), "guessed")):
        bad = json.loads(json.dumps(run))
        node, key = field_parent(bad, path)
        node[key] = value
        assert not schema.fast_validator(schema.RUN_SCHEMA).is_valid(bad)
        assert not schema.detailed_validator(schema.RUN_SCHEMA).is_valid(bad)


def test_schema_reference_is_generated_and_current() -> None:
    from dlbench.contract.schema_docs import render_reference
    text = (REPO / "schema" / "README.md").read_text()
    assert text == render_reference()
    assert "`provenance.kind` **required**" in text
    assert "| `metrics.accuracy` |" in text
