"""The certified fast path of reading fragments (contract/tomlfast.py): rtoml's data is taken only for a text that
tomli reads as exactly that data, so a fragment's verdict never depends on the parser.

Every case compares with tomli itself: the data in JSON form (key order included) and the problems found."""

from __future__ import annotations

import copy
import json
import random
import re

import tomli

from dlbench.contract import fragment, tomlfast, tomlio
from dlbench.contract.fragment import with_run_id
from dlbench.store.synthetic import synthetic_run


def _json_form(doc: dict, text: str) -> tuple[str, list]:
    loaded = tomlio.Loaded("f.toml", None, text)
    try:
        data = tomlio._to_json_form(doc, (), loaded)
    except tomlio._TooDeep:
        return "too deep", []
    return json.dumps(data, ensure_ascii=False), [(p.line, p.field, p.message) for p in loaded.problems]


def _texts(n: int) -> list[str]:
    return [fragment.to_toml(with_run_id(synthetic_run(i))) for i in range(n)]


def test_fragments_the_runner_writes_are_certified_and_read_as_tomli_reads_them():
    for text in _texts(12):
        doc = tomlfast.certified_loads(text, tomlio.MAX_DEPTH)
        assert doc is not None
        assert _json_form(doc, text) == _json_form(tomli.loads(text), text)
        expected = json.loads(_json_form(tomli.loads(text), text)[0])
        assert tomlio.parse_toml_bytes(text.encode(), "f.toml").data == expected


def test_other_layouts_are_left_to_tomli():
    text = _texts(1)[0]
    others = {
        "a comment": text.replace("\n[provenance]", "\n# note\n[provenance]", 1),
        "CRLF line ends": text.replace("\n", "\r\n"),
        "a Z datetime": text.replace("+00:00", "Z", 1),
        "a quoted key": text.replace("\nkind = ", '\n"kind" = ', 1),
        "an inline table": text.replace("[system.software.packages]\n", "", 1).replace(
            '[system.software]\n', '[system.software]\npackages = { torch = "2.13.0" }\n', 1),
        "a nan value": text.replace("accuracy = ", "accuracy = nan\nx = ", 1),
        "DEL in a string": text.replace('kind = "measured"', 'kind = "meas\x7fured"', 1),
        "an escape written otherwise": text.replace('kind = "measured"', 'kind = "m\\u0065asured"', 1),
        "a float written otherwise": re.sub(r"(\naccuracy = [0-9.]+)\n", r"\g<1>0\n", text, count=1),
    }
    for what, other in others.items():
        assert other != text, what
        assert tomlfast.certified_loads(other, tomlio.MAX_DEPTH) is None, what


def test_edited_fragments_are_certified_only_when_tomli_reads_the_same_data():
    rng = random.Random(14)
    texts = _texts(4)
    pieces = ['"', "'", "#", "[", "]", "{", "}", "\\", "\n", " ", ",", "=", ".", "0", "1e5", "inf", "nan", "-",
              "\x7f", "\t", "Z", "\r\n", "é", "[[x]]\n", "[x]\n", "y = 1\n", "\\u0041", '"""', "1979-05-27", ":"]
    certified = 0
    for _ in range(1500):
        text = rng.choice(texts)
        for _ in range(rng.randint(1, 3)):
            at = rng.randrange(len(text) + 1)
            if rng.random() < 0.6:
                text = text[:at] + rng.choice(pieces) + text[at:]
            else:
                text = text[:at] + text[at + rng.randint(1, 4):]
        doc = tomlfast.certified_loads(text, tomlio.MAX_DEPTH)
        if doc is not None:
            certified += 1
            assert _json_form(doc, text) == _json_form(tomli.loads(text), text), text
    assert certified > 100  # edits inside values and strings keep the layout


def test_values_at_the_edges_read_the_same():
    base = tomli.loads(_texts(1)[0])
    for value in (-0.0, 1e-7, 1.5e300, float("inf"), float("-inf"), 2**53 + 1, -(2**63), "", "[[[#'''",
                  'a "quoted" \\ path\twith tab', "é\u2028", True, [], [1, 2], ["a", "b"]):
        doc = copy.deepcopy(base)
        doc["results"][0]["model"] = value
        text = tomlfast.canonical(doc, tomlio.MAX_DEPTH)
        assert text is not None, value
        certified = tomlfast.certified_loads(text, tomlio.MAX_DEPTH)
        if certified is not None:
            assert _json_form(certified, text) == _json_form(tomli.loads(text), text), value
