"""The exports the site publishes (data/exports/: results.csv, results.parquet, datapackage.json), built by
tools/ci/build_site.sh through tools/publish.py from a small merged dataset, then read back over a loopback HTTP
server by the README's own pandas and DuckDB snippets; `frictionless validate`; byte-identical rebuilds; the
command's errors; CITATION.cff against the Citation File Format schema."""

from __future__ import annotations

import contextlib
import functools
import http.server
import json
import os
import re
import shutil
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any, Iterator

import pytest

import capacitydata
import sitedata
from conftest import REPO, run_tool, snapshot
from dlbench.contract import fragment

SITE_URL = "https://dlbench.github.io/dlbench"   # the published site, as the README's snippets name it
BIN = Path(sys.executable).parent
EXPORTS = ("results.csv", "results.parquet", "datapackage.json")


TIMM = "huggingface--pytorch-image-models/results--benchmark-infer-"
IMPORTED = {   # real imported runs of the dataset (data/imported/), each as it was merged: (file, which run)
    "timm": (f"{TIMM}amp-nchw-pt113-cu117-rtx3090.json", 0),
    "timm-nhwc": (f"{TIMM}amp-nhwc-pt240-cu124-rtx4090.json", 0),
    "timm-compiled": (f"{TIMM}amp-nchw-pt240-cu124-rtx4090-dynamo.json", 0),
    "mlperf": ("mlcommons--inference_results_v4.1/summary_results.json", 0),
    "lambda-8-gpus": ("lambdal--deeplearning-benchmark/pytorch--csv_v1_v2--pytorch-train-throughput-fp16.json", None),
}


@functools.lru_cache(maxsize=None)
def imported_run(name: str) -> dict[str, Any]:
    path, which = IMPORTED[name]
    runs = json.loads((REPO / "data" / "imported" / path).read_text(encoding="utf-8"))["runs"]
    if which is None:   # the first run of several devices
        return next(r for r in runs if any(res["device_count"] > 1 for res in r["results"]))
    return runs[which]


def _runs() -> list[dict[str, Any]]:
    """The page tests' dataset (an out-of-memory failure, an imported result without a pinned source, a run on
    part of its dataset, an outlier, a device name that is an HTML injection string), real imported runs of
    pinned, licensed sources (timm in three settings, MLPerf, a Lambda run of 8 GPUs with several results), and
    batch-size sweeps, a 1-vs-2-device pair and energy readings (tests/capacitydata.py)."""
    return sitedata.runs() + [imported_run(name) for name in IMPORTED] + capacitydata.runs()


def build_site(checkout: Path, out: Path, python: str = sys.executable) -> subprocess.CompletedProcess:
    return subprocess.run(["bash", str(checkout / "tools" / "ci" / "build_site.sh"), str(out)], capture_output=True,
                          text=True, timeout=300, env={**os.environ, "PYTHON": python})


@pytest.fixture(scope="module")
def site(tmp_path_factory) -> dict[str, Any]:
    """A checkout (this project's code) holding the merged test dataset, and the site build_site.sh built from it."""
    checkout = tmp_path_factory.mktemp("checkout")
    for part in ("dlbench", "tools", "schema"):
        shutil.copytree(REPO / part, checkout / part, ignore=shutil.ignore_patterns("__pycache__"))
    runs = _runs()
    for run in runs:
        fragment.write(run, checkout / "data" / "fragments")
    merged = run_tool("merge", "--root", str(checkout))
    assert merged.returncode == 0, merged.stderr
    out = tmp_path_factory.mktemp("site") / "_site"
    res = build_site(checkout, out)
    assert res.returncode == 0, res.stderr
    index = json.loads((out / "data" / "api" / "v1" / "index.json").read_text())
    return {"checkout": checkout, "out": out, "runs": runs, "index": index, "stdout": res.stdout,
            "exports": out / "data" / "exports"}


def _result(runs: list[dict[str, Any]], test) -> tuple[dict[str, Any], dict[str, Any]]:
    found = [(run, res) for run in runs for res in run["results"] if test(run, res)]
    assert len(found) == 1, found
    return found[0]


class _Recording(http.server.SimpleHTTPRequestHandler):
    """Serves a folder and notes every path asked for (so a test can tell that a reader went through HTTP)."""

    def __init__(self, *args, seen: list[str], **kwargs) -> None:
        self.seen = seen
        super().__init__(*args, **kwargs)

    def log_message(self, *args) -> None:
        pass

    def send_head(self):
        self.seen.append(f"{self.command} {self.path}")
        return super().send_head()


@contextlib.contextmanager
def serve(folder: Path) -> Iterator[tuple[str, list[str]]]:
    """A loopback HTTP server for `folder` while in the block: (base URL, the requests it has answered)."""
    seen: list[str] = []
    server = http.server.ThreadingHTTPServer(
        ("127.0.0.1", 0), functools.partial(_Recording, directory=str(folder), seen=seen))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", seen
    finally:
        server.shutdown()
        server.server_close()


def readme_python_block(heading: str) -> str:
    """The first ```python block under the README heading `heading` (before any other heading)."""
    text = (REPO / "README.md").read_text(encoding="utf-8")
    found = re.search(rf"^#+ {re.escape(heading)}[ \t]*$", text, re.M)
    assert found, f"README.md: no heading {heading!r}"
    block = re.compile(r"^```python\n(.*?)^```[ \t]*$", re.M | re.S).search(text, found.end())
    assert block and not re.search(r"^#", text[found.end():block.start()], re.M), \
        f"README.md: no ```python block right under {heading!r}"
    assert SITE_URL in block.group(1), f"the snippet under {heading!r} must read from {SITE_URL}"
    return block.group(1)


def run_python(code: str, tmp_path: Path, home: Path | None = None) -> subprocess.CompletedProcess:
    script = tmp_path / "snippet.py"
    script.write_text(code, encoding="utf-8")
    env = {**os.environ, **({"HOME": str(home)} if home else {})}
    return subprocess.run([sys.executable, str(script)], capture_output=True, text=True, timeout=180, env=env,
                          cwd=tmp_path)


# ---- the site build writes them ----

def test_build_site_publishes_the_exports_and_the_per_device_files(site):
    out, index = site["out"], site["index"]
    assert sorted(p.name for p in site["exports"].iterdir()) == sorted(EXPORTS)
    assert f"{index['result_count']:,} results exported" in site["stdout"]
    listing = json.loads((out / "data" / "api" / "v1" / "by-device.json").read_text())
    assert sum(entry["result_count"] for entry in listing["devices"]) == index["result_count"]
    assert all((out / "data" / "api" / "v1" / name).is_file() for e in listing["devices"] for name in e["files"])
    assert 'href="data/exports/results.parquet"' in (out / "index.html").read_text()   # the plain index (no site/)
    checkout_api = site["checkout"] / "data" / "api" / "v1"
    assert not (checkout_api / "by-device.json").exists() and not (site["checkout"] / "data" / "exports").exists()


def test_the_columns_are_described_typed_and_in_one_order(site):
    import pyarrow.parquet as pq

    package = json.loads((site["exports"] / "datapackage.json").read_text())
    assert [r["name"] for r in package["resources"]] == ["results", "results-parquet"]
    fields = package["resources"][0]["schema"]["fields"]
    names = [f["name"] for f in fields]
    assert (site["exports"] / "results.csv").read_text().splitlines()[0] == ",".join(f'"{n}"' for n in names)
    arrow = pq.read_schema(site["exports"] / "results.parquet")
    assert arrow.names == names
    types = {"string": "string", "integer": "int64", "number": "double", "boolean": "bool"}
    assert [str(t) for t in arrow.types] == [types[f["type"]] for f in fields]
    assert names[:6] == ["device", "device_kind", "catalogue_name", "device_label", "workload", "family"]
    by_name = {f["name"]: f for f in fields}
    for metric, rule in site["index"]["metrics"].items():
        if metric in by_name:   # a derived metric (forward_backward_ms) has no column: it is not recorded
            assert by_name[metric]["unit"] == rule["unit"]
            assert by_name[metric]["higher_is_better"] is rule["higher_is_better"]
    assert by_name["throughput_samples_per_s"]["higher_is_better"] is True and by_name["total_s"]["unit"] == "s"
    assert "lower is better" in by_name["forward_ms"]["description"]
    assert by_name["peak_host_rss_bytes"]["type"] == "integer" and by_name["channels_last"]["type"] == "boolean"
    assert package["resources"][0]["schema"]["primaryKey"] == ["run_id", "result_index"]
    assert package["dlbench"]["result_count"] == site["index"]["result_count"]
    assert package["dlbench"]["source_sha256"] == site["index"]["source_sha256"]


def test_sweeps_scaling_and_energy_are_columns_with_their_unit_and_direction(site):
    import pyarrow.parquet as pq

    package = json.loads((site["exports"] / "datapackage.json").read_text())
    by_name = {f["name"]: f for f in package["resources"][0]["schema"]["fields"]}
    for name, unit, higher, kind in (("energy_j", "J", False, "number"), ("average_power_w", "W", False, "number"),
                                     ("samples_per_joule", "samples/J", True, "number"),
                                     ("scaling_efficiency", "", True, "number"),
                                     ("largest_fitting_batch", "samples", True, "integer"),
                                     ("memory_per_sample_bytes", "bytes", False, "number")):
        assert (by_name[name]["unit"], by_name[name]["higher_is_better"], by_name[name]["type"]) == (unit, higher, kind)
    assert by_name["global_batch_size"]["type"] == "integer"
    assert by_name["energy_sensor"]["constraints"]["enum"] == ["nvml-energy", "nvml-power", "rapl"]
    table = pq.read_table(site["exports"] / "results.parquet").to_pylist()
    rows = {(r["device"], r["batch_size"], r["device_count"]): r for r in table if r["workload"] == capacitydata.WORKLOAD}
    h100 = rows[(capacitydata.H100, 832, 1)]
    assert (h100["largest_fitting_batch"], h100["sweep_largest_fit"], h100["sweep_smallest_oom"]) == (832, 832, 864)
    assert (h100["sweep_points"], h100["sweep_resolution"], h100["sweep_memory"]) == (15, 32, "device")
    assert h100["sweep_fixed_bytes"] == capacitydata.FIT[capacitydata.H100][0] and h100["sweep_residual_bytes"] == 0
    assert (h100["energy_sensor"], h100["energy_covers"], h100["energy_missing"]) == ("nvml-energy", "GPU 0 board", None)
    assert h100["energy_j"] == 9100.0 and h100["average_power_w"] == 650.0
    rtx = rows[(capacitydata.RTX4090, 192, 1)]
    assert rtx["energy_missing"] == capacitydata.ENERGY_MISSING and rtx["energy_j"] is None
    assert rtx["energy_sensor"] is None and rtx["memory_per_sample_bytes"] == 100 * 2**20
    two = rows[(capacitydata.H100, capacitydata.SCALING_BATCH, 2)]
    assert (two["global_batch_size"], two["scaling_efficiency"], two["strategy"]) == (512, 0.9, "data-parallel")
    assert two["sweep_points"] is None and rows[(capacitydata.H100, capacitydata.SCALING_BATCH, 1)]["scaling_efficiency"] == 1.0


# ---- the README's snippets, over HTTP ----

PANDAS_CHECKS = '''
import json as _json
import pandas as _pd
_pd.testing.assert_frame_equal(df, csv)   # the CSV, typed by the descriptor, is the same table as the Parquet
def _row(run_id):
    row = df[df.run_id == run_id].iloc[0]
    return {k: (None if _pd.isna(v) else v.item() if hasattr(v, "item") else v) for k, v in row.items()}
print("CHECKS " + _json.dumps({"rows": len(df), "csv_rows": len(csv),
                              "dtypes": {c: str(t) for c, t in df.dtypes.items()},
                              "picked": {r: _row(r) for r in PICKED}}))
'''


def test_the_readme_pandas_snippet_reads_the_exports_over_http(site, tmp_path):
    runs, index = site["runs"], site["index"]
    oom_run, _ = _result(runs, lambda run, res: res["status"] == "oom")
    blog_run, _ = _result(runs, lambda run, res: run["provenance"].get("source", {}).get("title")
                          == sitedata.SOURCE_TITLE)
    part_run, _ = _result(runs, lambda run, res: res.get("train_samples") == sitedata.PART[0])
    outlier_run, outlier_res = _result(runs, lambda run, res: run["provenance"].get("git_commit") == "c" * 40)
    timm, nhwc, compiled, mlperf = (imported_run(n) for n in ("timm", "timm-nhwc", "timm-compiled", "mlperf"))
    picked = [r["run_id"] for r in (oom_run, blog_run, part_run, outlier_run, timm, nhwc, compiled, mlperf)]
    with serve(site["out"]) as (base, seen):
        code = readme_python_block("Use the data from pandas").replace(SITE_URL, base)
        done = run_python(f"{code}\nPICKED = {picked!r}\n{PANDAS_CHECKS}", tmp_path)
    assert done.returncode == 0, done.stderr
    assert {"GET /data/exports/results.parquet", "GET /data/exports/results.csv",
            "GET /data/exports/datapackage.json"} <= set(seen)
    checks = json.loads(done.stdout.split("CHECKS ", 1)[1])
    assert checks["rows"] == checks["csv_rows"] == index["result_count"] == sum(len(r["results"]) for r in runs)
    assert checks["dtypes"]["batch_size"] == "Int64" and checks["dtypes"]["channels_last"] == "boolean"
    assert checks["dtypes"]["throughput_samples_per_s"] == "Float64" and checks["dtypes"]["outlier"] == "boolean"
    got = dict(zip(("oom", "blog", "part", "outlier", "timm", "nhwc", "compiled", "mlperf"),
                   (checks["picked"][r] for r in picked)))
    oom = got["oom"]
    assert (oom["status"], oom["message"], oom["batch_size"]) == ("oom", sitedata.OOM_MESSAGE, 65536)
    assert oom["throughput_samples_per_s"] is None and oom["corroborated_by"] is None
    assert oom["device_label"] == "NVIDIA A100 SXM4 40GB (cuda)" and oom["family"] == "dlbench"
    assert oom["peak_host_rss_bytes"] == oom_run["results"][0]["metrics"]["peak_host_rss_bytes"]
    catalogue = {d["name"]: d.get("catalogue_name") for d in index["devices"]}
    assert oom["catalogue_name"] == catalogue["NVIDIA A100 SXM4 40GB"] is not None
    blog = got["blog"]
    assert (blog["source_kind"], blog["source_title"], blog["source_url"]) == ("imported", sitedata.SOURCE_TITLE,
                                                                              sitedata.SOURCE_URL)
    assert (blog["total_s"], blog["accuracy"]) == (200.5, 0.985)
    assert blog["runner_commit"] is None and blog["source_license"] is None
    assert (got["part"]["train_samples"], got["part"]["test_samples"]) == sitedata.PART
    assert got["outlier"]["outlier"] is True and got["outlier"]["total_s"] == outlier_res["metrics"]["total_s"]
    assert got["outlier"]["runner_commit"] == "c" * 40 and got["outlier"]["source_kind"] == "measured"
    for name, run in (("timm", timm), ("nhwc", nhwc), ("compiled", compiled), ("mlperf", mlperf)):
        row, res, source = got[name], run["results"][0], run["provenance"]["source"]
        assert row["workload"] == res["benchmark"] and row["device_count"] == res["device_count"]
        assert row["throughput_samples_per_s"] == res["metrics"]["throughput_samples_per_s"]
        assert (row["source_repository"], row["source_path"], row["source_commit"], row["source_row"]) == \
            (source["repository"], source["path"], source["commit"], source["row"])
        assert (row["source_license"], row["source_attribution"]) == (source["license"], source["attribution"])
    assert (got["timm"]["compile"], got["timm"]["channels_last"]) == ("eager", False)
    assert got["timm"]["family"] == "timm-infer"
    assert got["nhwc"]["channels_last"] is True and got["compiled"]["compile"] == "torch.compile"
    assert got["timm"]["flops_per_sample"] == timm["results"][0]["flops_per_sample"]
    assert got["timm"]["source_units"] == json.dumps(timm["results"][0]["units"], separators=(",", ":"), sort_keys=True)
    assert got["mlperf"]["family"] == "mlperf-inference-v4-1" and got["mlperf"]["source_row"].startswith("v4.1-")


DUCKDB_CHECKS = '''
import json as _json
_types = dict(duckdb.sql("SELECT column_name, column_type FROM (DESCRIBE results)").fetchall())
_oom = duckdb.sql("SELECT status, message, batch_size, throughput_samples_per_s FROM results "
                  "WHERE status = 'oom'").fetchall()
_total = duckdb.sql("SELECT count(*) FROM results WHERE workload = 'mnist-lenet5'").fetchone()[0]
print("CHECKS " + _json.dumps({"types": _types, "oom": _oom, "mnist": _total}))
'''


def test_the_readme_duckdb_snippet_reads_the_parquet_over_http(site, tmp_path):
    """DuckDB reads https:// (and http://) URLs with its httpfs extension, which it downloads on first use: here,
    offline, it is installed from PyPI's duckdb-extension-httpfs (DuckDB checks its signature when loading it),
    as the README says, into a HOME of the test's own; the snippet itself runs unchanged."""
    home = tmp_path / "home"
    home.mkdir()
    setup = run_python("import duckdb_extensions\nduckdb_extensions.import_extension('httpfs')\n", tmp_path, home)
    assert setup.returncode == 0, setup.stderr
    index = site["index"]
    with serve(site["out"]) as (base, seen):
        code = readme_python_block("Use the data from DuckDB").replace(SITE_URL, base)
        done = run_python(code + DUCKDB_CHECKS, tmp_path, home)
    assert done.returncode == 0, done.stderr
    assert any(r.endswith(" /data/exports/results.parquet") for r in seen), seen
    assert not any("results.csv" in r for r in seen)
    assert done.stdout.splitlines()[0] == f"{index['result_count']} results"
    assert "images_per_s" in done.stdout    # the snippet's table
    checks = json.loads(done.stdout.split("CHECKS ", 1)[1])
    assert checks["types"]["batch_size"] == "BIGINT" and checks["types"]["channels_last"] == "BOOLEAN"
    assert checks["types"]["total_s"] == "DOUBLE" and checks["types"]["device"] == "VARCHAR"
    assert checks["oom"] == [["oom", sitedata.OOM_MESSAGE, 65536, None]]
    assert checks["mnist"] == next(w["result_count"] for w in index["workloads"] if w["name"] == "mnist-lenet5")


# ---- Frictionless ----

def frictionless(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    exe = BIN / "frictionless"
    assert exe.exists(), "frictionless is missing: install the test extra (bash tools/setup.sh)"
    return subprocess.run([str(exe), *args], capture_output=True, text=True, timeout=180, cwd=cwd)


def test_frictionless_validates_the_data_package_and_catches_a_bad_cell(site, tmp_path):
    res = frictionless("validate", "datapackage.json", cwd=site["exports"])
    assert res.returncode == 0, res.stdout + res.stderr
    assert re.search(r"results\s.*results\.csv\s.*VALID", res.stdout) and "INVALID" not in res.stdout
    assert re.search(r"results-parquet\s.*results\.parquet\s.*VALID", res.stdout)

    broken = tmp_path / "exports"
    shutil.copytree(site["exports"], broken)
    csv = (broken / "results.csv").read_text()
    assert ",65536," in csv
    (broken / "results.csv").write_text(csv.replace(",65536,", ",lots,", 1))
    res = frictionless("validate", "datapackage.json", cwd=broken)
    assert res.returncode != 0
    assert "type-error" in res.stdout and "batch_size" in res.stdout and "hash-count" in res.stdout


# ---- determinism and errors ----

def test_two_builds_are_byte_identical(site, tmp_path):
    res = build_site(site["checkout"], tmp_path / "again")
    assert res.returncode == 0, res.stderr
    assert snapshot(tmp_path / "again") == snapshot(site["out"])


def test_publish_errors_exit_1_with_a_clear_message_and_write_nothing(site, tmp_path):
    usage = run_tool("publish")
    assert usage.returncode == 2 and "usage:" in usage.stderr
    helped = run_tool("publish", "--help")
    assert helped.returncode == 0 and "datapackage.json" in helped.stdout and "Exit status" in helped.stdout
    missing = run_tool("publish", str(tmp_path / "nowhere"))
    assert missing.returncode == 1 and "Traceback" not in missing.stderr
    assert f"{tmp_path / 'nowhere' / 'api' / 'v1'}: no JSON API here (index.json missing)" in missing.stderr
    no_api = run_tool("publish", str(site["out"] / "data"), "--api", str(tmp_path / "nowhere"))
    assert no_api.returncode == 1 and "no JSON API here" in no_api.stderr

    data = tmp_path / "data"
    shutil.copytree(site["out"] / "data" / "api", data / "api", ignore=shutil.ignore_patterns("by-device*"))
    part = data / "api" / "v1" / "workloads" / "mnist-lenet5" / "1.json"
    part.write_text(part.read_text()[:-40])
    torn = run_tool("publish", str(data))
    assert torn.returncode == 1 and "Traceback" not in torn.stderr
    assert f"{part}: not valid JSON" in torn.stderr
    assert not (data / "exports").exists() and not (data / "api" / "v1" / "by-device.json").exists()


def test_build_site_says_when_its_python_lacks_pyarrow(site, tmp_path):
    bare = tmp_path / "bare"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(bare)], check=True, timeout=120)
    res = build_site(site["checkout"], tmp_path / "out", python=str(bare / "bin" / "python"))
    assert res.returncode == 1
    assert "cannot import pyarrow" in res.stderr and "requirements-site.txt" in res.stderr
    assert not (tmp_path / "out").exists()


# ---- CITATION.cff ----

def check_cff(path: Path) -> subprocess.CompletedProcess:
    exe = BIN / "check-jsonschema"
    assert exe.exists(), "check-jsonschema is missing: install the test extra (bash tools/setup.sh)"
    return subprocess.run([str(exe), "--builtin-schema", "vendor.citation-file-format", str(path)],
                          capture_output=True, text=True, timeout=120)


def test_citation_cff_is_valid_cff_1_2_0(tmp_path):
    import tomli
    import yaml

    res = check_cff(REPO / "CITATION.cff")
    assert res.returncode == 0, res.stdout + res.stderr
    cff = yaml.safe_load((REPO / "CITATION.cff").read_text(encoding="utf-8"))
    project = tomli.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    assert cff["cff-version"] == "1.2.0" and cff["version"] == project["version"]
    assert cff["license"] == project["license"]
    broken = tmp_path / "CITATION.cff"
    text = (REPO / "CITATION.cff").read_text(encoding="utf-8")
    broken.write_text(text.replace("  - type: data\n", "  - type: x\n", 1))
    assert check_cff(broken).returncode == 1   # the schema really is checked


# ---- the site build's pinned requirements ----

def _pins(name: str) -> dict[str, str]:
    lock = (REPO / "tools" / "ci" / name).read_text(encoding="utf-8")
    blocks = [b for b in re.split(r"\n(?=[a-z0-9])", lock) if re.match(r"[a-z0-9_.-]+==", b)]
    assert blocks and all("--hash=sha256:" in b for b in blocks), f"{name}: every requirement needs its hashes"
    return dict(re.findall(r"^([a-z0-9_.-]+)==(\S+) \\$", lock, re.M))


def test_the_site_lock_pins_pyarrow_pandas_and_the_core_at_the_core_lock_versions():
    core, site_lock = _pins("requirements-core.txt"), _pins("requirements-site.txt")
    assert {"pyarrow", "numpy", "pandas"} <= set(site_lock)
    assert {name: site_lock.get(name) for name in core} == core
    # pyarrow needs nothing else; pandas (the predictions) brings numpy, python-dateutil (six) and tzdata.
    assert set(site_lock) - set(core) <= {"pyarrow", "numpy", "pandas", "python-dateutil", "six", "tzdata"}
