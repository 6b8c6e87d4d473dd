"""The JSON Schemas in `schema/`: loading them and validating records against them.

Validation has two paths: a compiled validator (jsonschema-rs) decides quickly whether a record is
valid, and only a record that is not valid is walked by python-jsonschema to collect every error with
its field path. Messages are rewritten to say what to do.
"""

from __future__ import annotations

import json
from functools import lru_cache
from typing import TYPE_CHECKING, Any, Iterable

import jsonschema_rs

from .paths import schema_dir
from .problems import Problem
from .tomlio import Loaded, dotted

if TYPE_CHECKING:  # python-jsonschema is imported when a record is invalid: it costs most of a tool's start-up
    import jsonschema
    from referencing import Registry

RUN_SCHEMA = "run.schema.json"
DATASET_SCHEMA = "dataset.schema.json"
DEVICES_SCHEMA = "devices.schema.json"     # catalogue/devices.toml (dlbench.contract.device_catalogue)
SCHEMA_FILES = (RUN_SCHEMA, DATASET_SCHEMA, DEVICES_SCHEMA)
SUPPORTED_SCHEMA_VERSIONS = (1,)
SCHEMA_VERSION = max(SUPPORTED_SCHEMA_VERSIONS)


@lru_cache(maxsize=None)
def load(name: str) -> dict[str, Any]:
    with (schema_dir() / name).open(encoding="utf-8") as f:
        return json.load(f)


@lru_cache(maxsize=None)
def _registry() -> Registry:
    from referencing import Registry, Resource
    resources = [(load(n)["$id"], Resource.from_contents(load(n))) for n in SCHEMA_FILES]
    return Registry().with_resources(resources)


@lru_cache(maxsize=None)
def detailed_validator(name: str) -> jsonschema.Draft202012Validator:
    import jsonschema
    return jsonschema.Draft202012Validator(
        load(name), registry=_registry(), format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER)


@lru_cache(maxsize=None)
def fast_validator(name: str):
    schemas = {load(n)["$id"]: load(n) for n in SCHEMA_FILES}
    registry = jsonschema_rs.Registry(list(schemas.items()))
    return jsonschema_rs.validator_for(load(name), validate_formats=True, registry=registry)


def enum(def_name: str) -> list[str]:
    """The allowed values of an enumeration in the run schema's `$defs` (one vocabulary for all code)."""
    return list(load(RUN_SCHEMA)["$defs"][def_name]["enum"])



def check(loaded: Loaded, instance: Any, name: str = RUN_SCHEMA, prefix: tuple = ()) -> list[Problem]:
    """Validate `instance` against schema `name`; problems name `loaded`'s file and the field path."""
    if fast_validator(name).is_valid(instance):
        return []
    problems = [_problem(loaded, err, prefix) for err in _leaf_errors(detailed_validator(name).iter_errors(instance))]
    if not problems:  # the two validators disagree: report the fast one's view rather than nothing
        problems = [Problem(loaded.path, None, dotted(prefix + tuple(e.instance_path)), e.message, "schema")
                    for e in fast_validator(name).iter_errors(instance)]
    return problems


def _leaf_errors(errors: Iterable[jsonschema.ValidationError]) -> Iterable[jsonschema.ValidationError]:
    """Errors with `if/then` and `$ref` wrappers replaced by the errors inside them."""
    for err in errors:
        if err.validator in ("anyOf", "oneOf", "allOf", "then", "else") and err.context:
            yield from _leaf_errors(err.context)
        else:
            yield err


def _problem(loaded: Loaded, err: jsonschema.ValidationError, prefix: tuple) -> Problem:
    path = prefix + tuple(err.absolute_path)
    v, value, inst = err.validator, err.validator_value, err.instance
    desc = err.schema.get("description") if isinstance(err.schema, dict) else None
    if v == "required":
        missing = [k for k in value if isinstance(inst, dict) and k not in inst]
        field_path = path + (missing[0],) if len(missing) == 1 else path
        what = ", ".join(f"'{k}'" for k in missing)
        return Problem(loaded.path, loaded.line_of(path) if path else None, dotted(field_path),
                       f"missing required field {what}: add it (see schema/README.md)", "missing-field")
    if v == "additionalProperties":
        allowed = sorted(err.schema.get("properties", {}))
        extra = [k for k in inst if k not in err.schema.get("properties", {})]
        hint = f"; allowed here: {', '.join(allowed)}" if allowed else ""
        return Problem(loaded.path, loaded.line_of(path + (extra[0],)) if extra else None,
                       dotted(path + (extra[0],)) if len(extra) == 1 else dotted(path),
                       f"unknown field {', '.join(repr(k) for k in extra)}: remove it or fix its spelling{hint}",
                       "unknown-field")
    if v == "propertyNames":
        return Problem(loaded.path, loaded.line_of(path), dotted(path),
                       f"field name {inst!r} is not allowed here: {err.message}", "unknown-field")
    line = loaded.line_of(path)
    field = dotted(path)
    if v == "type":
        expected = value if isinstance(value, str) else " or ".join(value)
        msg = f"must be of type {expected}, got {_json_type(inst)} {_short(inst)}"
    elif v == "minLength" and value == 1 and inst == "":
        msg = "must not be empty: give a value or leave the field out if it is optional"
    elif v in ("minimum", "exclusiveMinimum", "maximum", "exclusiveMaximum"):
        op = {"minimum": ">=", "exclusiveMinimum": ">", "maximum": "<=", "exclusiveMaximum": "<"}[v]
        msg = f"must be {op} {value}, got {_short(inst)}"
    elif v == "enum":
        msg = f"must be one of {', '.join(map(repr, value))}; got {_short(inst)}"
    elif v == "const":
        if path and path[-1] == "schema_version":
            msg = (f"schema_version {_short(inst)} is not supported (this validator knows "
                   f"{', '.join(map(str, SUPPORTED_SCHEMA_VERSIONS))}): regenerate the fragment with the current runner "
                   "or update the tools")
        else:
            msg = f"must be {value!r}, got {_short(inst)}"
    elif v == "maxLength":
        msg = f"is {len(inst):,} characters long; at most {value:,} are allowed: shorten it"
    elif v in ("maxItems", "maxProperties"):
        what = "items" if v == "maxItems" else "fields"
        msg = f"has {len(inst):,} {what}; at most {value:,} are allowed"
    elif v == "pattern" and value in (PRINTABLE_PATTERN, NOTES_PATTERN):
        bad = next((c for c in inst if not _allowed_char(c, value == NOTES_PATTERN)), "")
        at = inst.find(bad) if bad else -1
        msg = (f"holds the character U+{ord(bad):04X} at position {at}: control characters, bidi controls and "
               "line separators are not allowed in text (notes may keep line breaks); remove it") if bad else \
            "holds a character that is not allowed in text"
    elif v == "pattern":
        msg = f"{_short(inst)} has the wrong form (must match {value})"
    else:
        msg = err.message
    if desc and v not in ("const",):
        msg += f" [{field.rsplit('.', 1)[-1]}: {desc.split('. ')[0].rstrip('.')}]"
    return Problem(loaded.path, line, field, msg, "schema")


# Text fields may not hold C0/C1 control characters, DEL, bidi controls or line/paragraph separators (they
# would reach terminals, logs and pages); notes may keep line breaks. The run schema writes these patterns.
PRINTABLE_PATTERN = "^[^\\u0000-\\u001f\\u007f-\\u009f\\u200e\\u200f\\u061c\\u2028\\u2029\\u202a-\\u202e\\u2066-\\u2069]*$"
NOTES_PATTERN = "^[^\\u0000-\\u0009\\u000b-\\u001f\\u007f-\\u009f\\u200e\\u200f\\u061c\\u2028\\u2029\\u202a-\\u202e\\u2066-\\u2069]*$"
_FORBIDDEN = set(range(0x20)) | set(range(0x7F, 0xA0)) | {0x200E, 0x200F, 0x061C, 0x2028, 0x2029} | \
    set(range(0x202A, 0x202F)) | set(range(0x2066, 0x206A))


def _allowed_char(c: str, notes: bool) -> bool:
    return ord(c) not in _FORBIDDEN or (notes and c == "\n")


def _json_type(v: Any) -> str:
    return {bool: "boolean", int: "integer", float: "number", str: "string", list: "array",
            dict: "table", type(None): "null"}.get(type(v), type(v).__name__)


def _short(v: Any) -> str:
    s = json.dumps(v, ensure_ascii=False) if not isinstance(v, (dict, list)) else _json_type(v)
    return s if len(s) <= 60 else s[:57] + "..."
