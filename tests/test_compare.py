"""tools/compare.py and dlbench.analysis (frame, compare) on small, hand-made datasets merged by tools/merge.py."""

from __future__ import annotations

import copy
import datetime
import csv
import http.server
import io
import json
import threading
import urllib.request
import xml.etree.ElementTree as ET
from pathlib import Path

import pandas as pd
import pytest

from dlbench.analysis.frame import COLUMNS, load_results
from dlbench.contract.fragment import with_run_id, write
from dlbench.contract.tomlio import format_datetime, parse_datetime
from dlbench.contract.validate import validate_run
from dlbench.store.synthetic import synthetic_run

from conftest import run_tool

CPU = "AMD Ryzen 5 3600 6-Core Processor"


def make_run(i: int, kind: str, name: str | None, compute: float, version: int = 1, status: str = "ok",
             imported: bool = False, batch: int = 512, epochs: int = 40, precision: str = "fp32") -> dict:
    """A valid run of mnist-lenet5 on one device with the given compute time (total = compute + 5 s)."""
    run = copy.deepcopy(synthetic_run(i))
    run.pop("run_id")
    result = run["results"][0]
    result.update(benchmark="mnist-lenet5", dataset="mnist", benchmark_version=version, device_kind=kind,
                  device_name=name or CPU, status=status, batch_size=batch, epochs=epochs, precision=precision)
    result["metrics"] = {"total_s": compute + 5, "compute_s": compute,
                         "throughput_samples_per_s": 60000 * epochs / compute}
    started = parse_datetime(run["started_at"])  # the run lasts as long as its parts (plausibility)
    run["finished_at"] = format_datetime(started + datetime.timedelta(seconds=compute + 10))
    if status != "ok":
        result["metrics"] = {}
        result["message"] = "CUDA out of memory"
    if kind == "cpu":
        run["system"].pop("accelerators", None)
    else:
        run["system"]["accelerators"] = [{"kind": kind, "name": name, "normalized_name": name, "count": 1}]
    if imported:
        run["provenance"] = {"kind": "imported", "source": {"title": "Some Blog", "url": "https://example.org/b"}}
        for key in ("started_at", "finished_at"):
            run.pop(key)
        result.pop("benchmark_version")
    run = with_run_id(run)
    assert validate_run(run) == []
    return run


@pytest.fixture(scope="module")
def dataset(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("cmp")
    frags = root / "data" / "fragments"
    frags.mkdir(parents=True)
    runs = [make_run(0, "cuda", "NVIDIA RTX 3050", c) for c in (10, 12, 14)]
    runs += [make_run(1, "cpu", None, c) for c in (100, 120, 130)]
    runs += [make_run(2, "mps", "Apple M1", 30.0), make_run(3, "mps", "Apple M1", 1.0, status="oom")]
    runs += [make_run(4, "cuda", "NVIDIA RTX 3050", 6.0, version=2)]            # a newer benchmark version
    runs += [make_run(5, "cuda", "NVIDIA RTX 3050", 20.0, imported=True)]       # published, not measured
    for run in runs:
        write(run, frags)
    res = run_tool("merge", "--root", str(root))
    assert res.returncode == 0, res.stderr
    return root


def compare_json(root: Path, *args: str) -> dict:
    res = run_tool("compare", "--root", str(root), "--format", "json", *args)
    assert res.returncode == 0, res.stderr
    return json.loads(res.stdout)


def row(doc: dict, label: str, version=1, kind="measured") -> dict:
    [found] = [r for r in doc["rows"] if r["device_label"] == label and r["benchmark_version"] == version
               and r["kind"] == kind]
    return found


def test_medians_spread_and_speedup_lower_is_better(dataset):
    doc = compare_json(dataset, "--workload", "mnist-lenet5", "--metric", "compute_s", "--baseline", "Ryzen 5")
    assert doc["baseline"] == f"{CPU} (cpu)" and doc["higher_is_better"] is False and doc["unit"] == "s"
    gpu = row(doc, "NVIDIA RTX 3050 (cuda)")
    assert (gpu["n"], gpu["median"], gpu["min"], gpu["max"], gpu["iqr"]) == (3, 12.0, 10.0, 14.0, 2.0)
    assert gpu["speedup"] == pytest.approx(10.0)          # 120 s / 12 s: the GPU is 10x faster
    cpu = row(doc, f"{CPU} (cpu)")
    assert cpu["is_baseline"] and cpu["speedup"] == 1.0 and cpu["median"] == 120.0
    m1 = row(doc, "Apple M1 (mps)")
    assert m1["speedup"] == pytest.approx(4.0) and m1["few_results"] and "few results (n=1 < 3)" in m1["note"]
    assert "failed: 1 oom" not in m1["note"]              # failures are not selected by default (--status ok)


def test_higher_is_better_metric_is_oriented_the_same_way(dataset):
    doc = compare_json(dataset, "--metric", "throughput_samples_per_s", "--baseline", CPU)
    assert doc["higher_is_better"] is True
    assert row(doc, "NVIDIA RTX 3050 (cuda)")["speedup"] == pytest.approx(10.0)
    assert row(doc, "NVIDIA RTX 3050 (cuda)")["median"] == pytest.approx(200000.0)


def test_versions_and_imported_results_are_not_pooled(dataset):
    doc = compare_json(dataset, "--metric", "compute_s", "--baseline", "Ryzen")
    rtx = [r for r in doc["rows"] if r["device_label"] == "NVIDIA RTX 3050 (cuda)"]
    # The imported result states no benchmark version (none ever does): it is not pooled with either
    # version's results, but stands beside each, flagged, its own version left unknown.
    assert sorted((r["setting"]["benchmark_version"], r["benchmark_version"] or 0, r["kind"], r["n"], r["median"])
                  for r in rtx) == [(1, 0, "imported", 1, 20.0), (1, 1, "measured", 3, 12.0),
                                    (2, 0, "imported", 1, 20.0), (2, 2, "measured", 1, 6.0)]
    v2 = row(doc, "NVIDIA RTX 3050 (cuda)", version=2)
    assert v2["speedup"] is None and v2["few_results"]    # no CPU result of version 2: no speedup
    imported = [r for r in rtx if r["kind"] == "imported"]
    assert all(r["source"] == "Some Blog" and r["unknown"] == ["benchmark_version", "compile", "channels_last"]
               for r in imported)
    assert all("compared across unknown settings" in r["note"] for r in imported)
    by_version = {r["setting"]["benchmark_version"]: r for r in imported}
    assert by_version[1]["speedup"] == pytest.approx(120 / 20) and by_version[2]["speedup"] is None


def test_failed_results_are_shown_when_selected(dataset):
    doc = compare_json(dataset, "--status", "any", "--metric", "compute_s", "--device", "M1")
    [m1] = doc["rows"]
    assert m1["n"] == 1 and m1["failed"] == "1 oom" and "failed: 1 oom" in m1["note"]


def test_min_results_marks_rows(dataset):
    doc = compare_json(dataset, "--metric", "compute_s", "--min-results", "1")
    assert not any(r["few_results"] for r in doc["rows"])
    doc = compare_json(dataset, "--metric", "compute_s", "--min-results", "4")
    assert all(r["few_results"] for r in doc["rows"])


def test_table_markdown_and_csv(dataset):
    args = ("--root", str(dataset), "--metric", "compute_s", "--baseline", "ryzen", "--kind", "measured")
    text = run_tool("compare", *args)
    assert text.returncode == 0, text.stderr
    lines = text.stdout.splitlines()
    assert lines[0].startswith("compute_s in s, lower is better")
    assert "mnist-lenet5 (benchmark version 1), framework torch, precision fp32, batch 512, epochs 40, NCHW" \
        in lines
    [gpu] = [ln for ln in lines if ln.startswith("NVIDIA RTX 3050 (cuda)") and " 3 " in ln]
    assert gpu.split()[5:11] == ["3", "12", "10", "14", "2", "10.00x"]
    assert any("(no AMD Ryzen 5 3600 6-Core Processor (cpu) result in this setting: no speedups)" in ln
               for ln in lines)
    md = run_tool("compare", *args, "--format", "markdown")
    assert "| NVIDIA RTX 3050 (cuda) | measured | 3 | 12 | 10 | 14 | 2 | 10.00x |  |" in md.stdout.splitlines()
    assert "| device | source | n | median | min | max | IQR | speedup | note |" in md.stdout
    out = run_tool("compare", *args, "--format", "csv")
    rows = list(csv.DictReader(io.StringIO(out.stdout)))
    by = {(r["device_label"], r["benchmark_version"]): r for r in rows}
    assert float(by[("NVIDIA RTX 3050 (cuda)", "1")]["speedup"]) == pytest.approx(10.0)
    assert by[(f"{CPU} (cpu)", "1")]["is_baseline"] == "True"
    assert len(rows) == 4 and {r["metric"] for r in rows} == {"compute_s"}


@pytest.mark.parametrize("suffix", [".png", ".svg"])
def test_plot_files(dataset, tmp_path, suffix):
    target = tmp_path / f"cmp{suffix}"
    res = run_tool("compare", "--root", str(dataset), "--metric", "compute_s", "--baseline", "ryzen",
                   "--plot", str(target))
    assert res.returncode == 0, res.stderr
    data = target.read_bytes()
    if suffix == ".png":
        assert data.startswith(b"\x89PNG\r\n\x1a\n") and len(data) > 5000
    else:
        root = ET.fromstring(data)
        assert root.tag.endswith("svg")
        assert b"NVIDIA RTX 3050 (cuda)" in data and b"10.00x" in data
        again = tmp_path / "again.svg"
        run_tool("compare", "--root", str(dataset), "--metric", "compute_s", "--baseline", "ryzen",
                 "--plot", str(again))
        assert again.read_bytes() == data                 # deterministic output


def test_errors(dataset, tmp_path):
    root = ("--root", str(dataset))
    res = run_tool("compare", *root, "--baseline", "Titan")
    assert res.returncode == 2 and "known devices:" in res.stderr and "NVIDIA RTX 3050 (cuda)" in res.stderr
    res = run_tool("compare", *root, "--metric", "compute_s", "--baseline", "NVIDIA")
    assert res.returncode == 0                            # one NVIDIA device: a unique part is enough
    res = run_tool("compare", *root, "--metric", "compute_s", "--baseline", "(")
    assert res.returncode == 2 and "ambiguous" in res.stderr
    res = run_tool("compare", *root, "--workload", "mnist-lenet5", "--framework", "jax")
    assert res.returncode == 1 and "--framework 'jax'" in res.stderr and "known framework values: torch" in res.stderr
    res = run_tool("compare", *root, "--plot", str(tmp_path / "x.gif"))
    assert res.returncode == 2 and ".png or .svg" in res.stderr
    res = run_tool("compare", "--root", str(tmp_path))
    assert res.returncode == 2 and "no data/ folder" in res.stderr
    assert "Traceback" not in res.stderr


def test_list_devices(dataset):
    res = run_tool("compare", "--root", str(dataset), "--list")
    assert res.returncode == 0
    assert "mnist-lenet5\n" in res.stdout and "  NVIDIA RTX 3050 (cuda): 5 result(s)" in res.stdout


def test_load_results_from_root_json_and_url(dataset):
    df = load_results(dataset)
    assert list(df.columns) == list(COLUMNS) and len(df) == 10
    assert df.loc[df.kind == "imported", "source_title"].tolist() == ["Some Blog"]
    assert df["compute_s"].dtype == "float64" and str(df["batch_size"].dtype) == "Int64"
    assert set(df["device_label"]) == {"NVIDIA RTX 3050 (cuda)", f"{CPU} (cpu)", "Apple M1 (mps)"}
    from_json = load_results(dataset / "data" / "benchmark.json")
    pd.testing.assert_frame_equal(df, from_json)
    with serve(dataset / "data") as base:
        from_url = load_results(f"{base}/benchmark.json")
        pd.testing.assert_frame_equal(df, from_url)


def test_readme_pandas_one_liner_against_a_loopback_server(dataset):
    with serve(dataset / "data") as base:
        url = f"{base}/benchmark.json"
        # The README's one-liner, with the raw-file URL replaced by the loopback server's:
        df = pd.json_normalize(json.load(urllib.request.urlopen(url))["runs"], "results",
                               ["run_id", ["provenance", "kind"]])
    assert len(df) == 10
    assert {"benchmark", "device_name", "metrics.compute_s", "run_id", "provenance.kind"} <= set(df.columns)
    gpu = df[(df.device_name == "NVIDIA RTX 3050") & (df["provenance.kind"] == "measured")
             & (df.benchmark_version == 1)]
    assert sorted(gpu["metrics.compute_s"]) == [10, 12, 14]


class serve:
    """A loopback HTTP server for a folder, as a context manager giving its base URL."""

    def __init__(self, folder: Path):
        handler = lambda *a, **kw: _Quiet(*a, directory=str(folder), **kw)  # noqa: E731
        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)

    def __enter__(self) -> str:
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def __exit__(self, *exc) -> None:
        self.server.shutdown()
        self.server.server_close()


class _Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args) -> None:
        pass


@pytest.fixture
def mixed(repo: Path) -> Path:
    """CPU runs of 40 epochs in fp32; GPU runs of 1 epoch in tf32 (what the runner records on Ampere and later)."""
    runs = [make_run(10 + i, "cpu", None, c) for i, c in enumerate((100.0, 120.0))]
    runs += [make_run(20 + i, "cuda", "NVIDIA H100", c, epochs=1, precision="tf32") for i, c in enumerate((0.2, 0.3))]
    for run in runs:
        write(run, repo / "data" / "fragments")
    res = run_tool("merge", "--root", str(repo))
    assert res.returncode == 0, res.stderr
    return repo


def test_whole_run_times_of_different_epochs_are_not_compared(mixed: Path) -> None:
    doc = compare_json(mixed, "--metric", "compute_s", "--baseline", "ryzen", "--across", "precision")
    by_label = {r["device_label"]: r for r in doc["rows"]}
    assert by_label["NVIDIA H100 (cuda)"]["epochs"] == 1 and by_label["NVIDIA H100 (cuda)"]["speedup"] is None
    assert by_label[f"{CPU} (cpu)"]["epochs"] == 40 and by_label[f"{CPU} (cpu)"]["is_baseline"]


def test_across_precision_puts_tf32_gpu_beside_fp32_cpu(mixed: Path) -> None:
    # Throughput does not depend on the epoch count, so the 1-epoch GPU and 40-epoch CPU runs compare.
    args = ("--metric", "throughput_samples_per_s", "--baseline", "ryzen")
    strict = compare_json(mixed, *args)
    assert all(r["speedup"] is None for r in strict["rows"] if r["device_kind"] == "cuda")  # fp32 vs tf32: apart
    doc = compare_json(mixed, *args, "--across", "precision")
    gpu = next(r for r in doc["rows"] if r["device_kind"] == "cuda")
    gpu_median = (60000 / 0.2 + 60000 / 0.3) / 2           # medians of the throughputs: 250,000 and 22,000
    cpu_median = (60000 * 40 / 100 + 60000 * 40 / 120) / 2
    assert gpu["precision"] == "tf32" and gpu["speedup"] == pytest.approx(gpu_median / cpu_median)
    text = run_tool("compare", "--root", str(mixed), *args, "--across", "precision")
    assert "NVIDIA H100 (cuda) [tf32]" in text.stdout and "compared across precision" in text.stdout
    bad = run_tool("compare", "--root", str(mixed), *args, "--across", "device")
    assert bad.returncode == 2 and "invalid choice" in bad.stderr
