"""The README's JavaScript example, run with Node against a loopback copy of a merged dataset."""

from __future__ import annotations

import json
import re
import shutil
import subprocess

import pytest

import sitedata
from conftest import REPO

README_BASE = 'const BASE = "https://raw.githubusercontent.com/dlbench/dlbench/main/data";'


def readme_js_block() -> str:
    text = (REPO / "README.md").read_text(encoding="utf-8")
    heading = re.search(r"^#+ Use the data from JavaScript[ \t]*$", text, re.M)
    assert heading, "README.md: no heading 'Use the data from JavaScript'"
    block = re.compile(r"^```js\n(.*?)^```[ \t]*$", re.M | re.S).search(text, heading.end())
    assert block, "README.md: no ```js block after the heading 'Use the data from JavaScript'"
    between = text[heading.end():block.start()]
    assert not re.search(r"^#", between, re.M), "the ```js block must follow the heading, before the next one"
    code = block.group(1)
    assert code.splitlines()[0] == README_BASE, "the block's first line must set BASE to the raw-file URL"
    return code


@pytest.fixture(scope="module")
def data_server(tmp_path_factory):
    www, runs = sitedata.published(tmp_path_factory)
    with sitedata.serve(www) as base:
        yield f"{base}/data", runs


def test_readme_javascript_example_runs_and_prints_the_data(data_server, tmp_path):
    node = shutil.which("node")
    assert node, "node is missing: install Node.js 20 or later (tools/setup.sh does)"
    base, runs = data_server
    script = tmp_path / "example.mjs"
    script.write_text(readme_js_block().replace(README_BASE, f"const BASE = {json.dumps(base)};", 1),
                      encoding="utf-8")
    done = subprocess.run([node, str(script)], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert f"schema 1: {len(runs)} runs" in lines
    results = [res for run in runs for res in run["results"]]
    for res in results:   # one line per result: workload, device, status, total time
        total = res["metrics"].get("total_s", "")
        assert f"{res['benchmark']}\t{res['device_name']}\t{res['status']}\t{total}" in lines
    assert f"mnist-lenet5\t{sitedata.INJECTION}\tok\t" in done.stdout   # strings arrive unchanged
    for name in ("mnist-lenet5", "fashion-mnist-lenet5"):
        count = sum(res["benchmark"] == name for res in results)
        assert f"{name}: {count} results in 1 file(s)" in lines
