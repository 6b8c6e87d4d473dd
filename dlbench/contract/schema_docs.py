"""`schema/README.md`: the field reference, generated from the schemas' descriptions."""

from __future__ import annotations

from typing import Any

from . import limits, schema

INTRO = """# Record reference (generated)

Generated from `schema/*.json` by `python tools/merge.py`; do not edit by hand (`merge.py --check` fails
when it is out of date). Every field of a fragment (`data/fragments/<run_id>.toml`, one run) and of the
merged files is listed with its type and meaning, and so is every field of the device catalogue
(`catalogue/devices.toml`, the peaks that results are read against). Required fields are marked **required**.

Versioning: `schema_version` changes whenever a change would make an older validator or consumer
misread a record (a field removed, renamed, retyped or given a new meaning, or a new required field);
adding an optional field or an enumeration value is not such a change. See `CHANGELOG.md` here.
"""


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
