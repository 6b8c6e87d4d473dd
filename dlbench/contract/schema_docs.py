"""`schema/README.md`: the field reference, generated from the schemas' descriptions."""

from __future__ import annotations

from typing import Any

from . import limits, schema

INTRO = """# Record reference (generated)

Generated from `schema/*.json` by `python tools/merge.py`; do not edit by hand (`merge.py --check` fails
when it is out of date). Every field of a fragment (`data/fragments/<run_id>.toml`, one run) and of the
merged files is listed with its type and meaning, and so is every field of the device catalogue
(`catalogue/epoch-ai.toml`, `catalogue/devices.toml` and `catalogue/device-map.toml`: the peaks that results
are read against). Required fields are marked **required**.

Versioning: `schema_version` changes whenever a change would make an older validator or consumer
misread a record (a field removed, renamed, retyped or given a new meaning, or a new required field);
adding an optional field or an enumeration value is not such a change. See `CHANGELOG.md` here.
"""


# Rules a schema cannot state, printed after its field table (the device catalogue's three files).
NOTES = {
    "devices.schema.json": """The catalogue's files and how they merge (`dlbench/contract/catalogue_files.py`):

- `catalogue/epoch-ai.toml` is generated from Epoch AI's "Data on Machine Learning Hardware" (CC-BY 4.0)
  by `python tools/import_published.py epoch FOLDER --commit SHA` (`dlbench/importers/epoch.py`): every
  accelerator of the table, each figure citing the copy it was read from (repository, path, commit, SHA-256)
  and the retrieval date; never edit it by hand. Its `attribution` is carried by `devices.json`.
- `catalogue/devices.toml` is kept by hand: devices Epoch does not list, Apple chips, and corrections. An
  entry with the same `name` as an imported entry, or naming one in `corrects`, is a correction: it must give
  `correction` (why, citing its source), overrides the imported entry field by field (precision by precision
  in `peak_tflops`), and may leave out every field it does not change. The merged entry takes the hand
  entry's name, keeps the imported name in `corrects`, and the imported sources keep covering only the
  figures the correction left alone. Any other entry is one of its own (`kind` and `vendor` required).
- `catalogue/device-map.toml` is the one mapping from the device names results carry to entries:
  `schema_version = 1` and a `[names]` table of `"<normalized device name>" = "<entry name>"`. Every key is
  a normalized name (`dlbench.contract.device_names.normalize_name`), every value the name of a merged entry
  that lists peaks and is of the vendor the key names. A device with results and no line here has no entry
  (no peak, no fraction) and is reported by the merge.
- Every figure field of an entry (`peak_tflops` or one of its precisions, `memory_gb`, `bandwidth_gb_s`,
  `release_date`, `price_usd`, `tdp_w`) is covered by a source, and a source covers only fields the entry
  has; names are unique in the merged catalogue.
""",
}


def render_reference() -> str:
    lines = [INTRO, limits.describe()]
    for name in schema.SCHEMA_FILES:
        doc = schema.load(name)
        lines.append(f"## `{name}`: {doc['title']}\n")
        lines.append(f"`$id`: `{doc['$id']}`\n")
        lines.append(doc["description"] + "\n")
        lines.append("| field | type | description |")
        lines.append("| --- | --- | --- |")
        _rows(doc, doc, "", lines, set(doc.get("required", [])))
        lines.append("")
        if name in NOTES:
            lines.append(NOTES[name])
        defs = doc.get("$defs", {})
        for def_name in sorted(defs):
            node = defs[def_name]
            if node.get("type") == "object":
                lines.append(f"### `{def_name}`\n")
                lines.append(node["description"] + "\n")
                lines.append("| field | type | description |")
                lines.append("| --- | --- | --- |")
                _rows(doc, node, "", lines, set(node.get("required", [])))
                lines.append("")
    return "\n".join(lines).rstrip("\n") + "\n"


def _rows(root: dict, node: dict, prefix: str, lines: list[str], required: set[str]) -> None:
    for key, prop in node.get("properties", {}).items():
        path = f"{prefix}{key}"
        resolved = _resolve(root, prop)
        req = " **required**" if key in required else ""
        desc = prop.get("description") or resolved.get("description", "")
        lines.append(f"| `{path}`{req} | {_type(root, prop)} | {_cell(desc)} |")
        if resolved.get("type") == "object" and "properties" in resolved and "$ref" not in prop:
            _rows(root, resolved, path + ".", lines, set(resolved.get("required", [])))


def _resolve(root: dict, prop: dict) -> dict:
    ref = prop.get("$ref", "")
    if ref.startswith("#/$defs/"):
        return root["$defs"][ref.split("/")[-1]]
    return prop


def _type(root: dict, prop: dict) -> str:
    ref = prop.get("$ref")
    if ref and not ref.startswith("#/$defs/"):
        return f"see `{ref}`"
    node = _resolve(root, prop)
    if "const" in node:
        return f"`{node['const']}`"
    if "enum" in node:
        return "one of " + ", ".join(f"`{v}`" for v in node["enum"])
    t = node.get("type", "any")
    if t == "array":
        items = node.get("items", {})
        inner = f"`{items['$ref'].split('/')[-1]}`" if "$ref" in items else _type(root, items)
        most = f" (at most {node['maxItems']:,} items)" if "maxItems" in node else ""
        return f"array of {inner}{most}"
    if t == "object" and ref:
        return f"[`{ref.split('/')[-1]}`](#{ref.split('/')[-1].replace('_', '')})"
    bounds = []
    if "minimum" in node:
        bounds.append(f">= {node['minimum']}")
    if "exclusiveMinimum" in node:
        bounds.append(f"> {node['exclusiveMinimum']}")
    if "maximum" in node and node["maximum"] < 2**53 - 1:
        bounds.append(f"<= {node['maximum']}")
    if "maxLength" in node:
        bounds.append(f"at most {node['maxLength']:,} characters")
    if "maxProperties" in node:
        bounds.append(f"at most {node['maxProperties']:,} fields")
    text = t if isinstance(t, str) else " or ".join(t)
    return text + (f" ({', '.join(bounds)})" if bounds else "")


def _cell(text: Any) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")
