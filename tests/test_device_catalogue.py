"""The device catalogue (catalogue/: epoch-ai.toml, devices.toml, device-map.toml): validation, look-up through
the map, and results read as fractions of peak.

Fractions are joined when the dataset is read (the analysis frame, tools/compare.py, the sharded API),
never stored: the tests merge synthetic measured fragments (the runner that writes such results is not
needed) and read them back.
"""

from __future__ import annotations

import copy
import json
import shutil
from pathlib import Path

import pytest

from conftest import REPO, merge_synthetic, run_tool, snapshot
from dlbench.analysis.frame import load_results, result_rows
from dlbench.contract import device_catalogue as dc
from dlbench.contract.fragment import with_run_id, write
from dlbench.contract.schema_docs import render_reference
from dlbench.contract.validate import validate_run
from dlbench.store import shards
from dlbench.store.synthetic import synthetic_run

H100 = "NVIDIA H100 80GB HBM3"          # what CUDA calls the H100 SXM5, normalized
H100_TF32 = 494.7e12
H100_BF16 = 989.4e12
CATALOGUE = REPO / "catalogue" / "devices.toml"
DEVICE_MAP = REPO / "catalogue" / "device-map.toml"
API = shards.API_DIR
TITAN_X = "NVIDIA GeForce GTX TITAN X"    # Epoch's name of the Maxwell Titan X, the imported rows' device


def catalogue_copy(root: Path, **texts: str) -> Path:
    """The checkout's three catalogue files copied into root/catalogue, with some replaced by `texts`
    (`devices=`, `device_map=`)."""
    folder = root / "catalogue"
    folder.mkdir(parents=True, exist_ok=True)
    for name in ("devices.toml", "epoch-ai.toml", "device-map.toml"):
        shutil.copyfile(REPO / "catalogue" / name, folder / name)
    for key, text in texts.items():
        (folder / f"{key.replace('_', '-')}.toml").write_text(text, encoding="utf-8")
    return folder


def step_run(i: int, device: str = H100, precision: str = "tf32", achieved: float | None = None,
             benchmark: str = "fwdbwd-alexnet", framework: str = "torch", count: int = 1,
             fwd: float = 4.0, bwd: float = 8.0, bandwidth: float | None = None, status: str = "ok") -> dict:
    """A valid measured run with one result as the step runner writes it (or a `peak-*` result)."""
    run = copy.deepcopy(synthetic_run(i))
    run.pop("run_id")
    result = run["results"][0]
    peak = benchmark.startswith("peak-")
    result.update(benchmark=benchmark, model=benchmark.split("-", 1)[1], dataset="synthetic", device_kind="cuda",
                  device_name=device, device_count=count, precision=precision, batch_size=128,
                  scenario="peak" if peak else "step", framework=framework, status=status)
    result.pop("epochs")
    metrics = {} if peak else {"forward_ms": fwd, "backward_ms": bwd, "step_ms": fwd + bwd + 1.0,
                               "throughput_samples_per_s": 128 / ((fwd + bwd + 1.0) / 1000)}
    if achieved is not None:
        metrics["achieved_flops_per_s"] = achieved
    if bandwidth is not None:
        metrics["bandwidth_bytes_per_s"] = bandwidth
    result["metrics"] = metrics if status == "ok" else {}
    if status != "ok":
        result["message"] = "CUDA out of memory"
    run["system"]["accelerators"] = [{"kind": "cuda", "name": device, "normalized_name": device, "count": count}]
    run = with_run_id(run)
    assert validate_run(run) == []
    return run


def only_fractions(row: dict) -> dict:
    return {k: row[k] for k in dc.FRACTION_FIELDS if k in row}


# ------------------------------------------------------------------------------------------- the catalogue

def test_the_real_catalogue_validates_and_looks_devices_up_through_the_map():
    cat = dc.read_catalogue(CATALOGUE)
    assert cat.ok, [p.format() for p in cat.problems]
    assert len(cat.devices) >= 150
    for entry in cat.devices:
        assert all(cat.entry_for(m) is entry for m in entry["matches"])
    assert dc.entry_for(H100)["name"] == "NVIDIA H100 SXM5 80GB"
    assert dc.entry_for("NVIDIA Titan X")["name"] == TITAN_X                  # the imported rows' device
    assert dc.entry_for("NVIDIA GeForce RTX 3090") is None      # an entry's name, but no result's: only the map
    assert dc.entry_for("NVIDIA RTX 3090")["name"] == "NVIDIA GeForce RTX 3090"
    assert dc.entry_for("NVIDIA H100") is None                  # PCIe or SXM5? never a guess
    assert dc.entry_for("NVIDIA H100 PCIe")["name"] == "NVIDIA H100 PCIe"     # another card, its own figures
    assert dc.peak_flops_per_s("NVIDIA H100 PCIe", "tf32") == 378e12
    assert dc.peak_flops_per_s(H100, "tf32") == H100_TF32        # exactly the decimal the catalogue writes
    assert dc.peak_flops_per_s(H100, "fp32") == 66.91e12
    assert dc.default_catalogue().unmapped(["NVIDIA RTX 3090", "NVIDIA Unknown GPU", None, "NVIDIA Unknown GPU"]) == ["NVIDIA Unknown GPU"]
    assert dc.peak_flops_per_s(H100, "mixed-bf16") == dc.peak_flops_per_s(H100, "bf16") == H100_BF16
    assert dc.peak_flops_per_s(H100, "mixed-fp16") == dc.peak_flops_per_s(H100, "fp16") == 989.4e12
    for precision in ("unknown", "int8", None, ""):
        assert dc.peak_flops_per_s(H100, precision) is None
    assert dc.peak_flops_per_s("NVIDIA V100 SXM2 16GB", "tf32") is None    # no TF32 on Volta: not the fp32 rate
    assert dc.peak_flops_per_s("NVIDIA Unknown GPU", "fp32") is None
    assert cat.bandwidth_bytes_per_s(H100) == 3350e9


def test_the_catalogue_schema_is_documented_in_the_generated_reference():
    text = render_reference()
    assert "## `devices.schema.json`: dlbench device catalogue" in text
    for field in ("`name` **required**", "`matches`", "`peak_tflops.tf32`", "`peak_tflops.int4`", "`correction`",
                  "`release_date`", "`price_usd`", "`tdp_w`", "`datasheet`", "### `source`", "`covers` **required**",
                  "`unconfirmed`", "`sha256`", "`license`", "`attribution`", "catalogue/device-map.toml` is the one"):
        assert field in text


def _line(text: str, needle: str) -> int:
    """The number of the one line that is `needle`, else of the one line that holds it."""
    lines = list(enumerate(text.splitlines(), 1))
    [n] = [i for i, line in lines if line == needle] or [i for i, line in lines if needle in line]
    return n


BROKEN = {
    # name: (text to replace, replacement, line holding this text after the change, field, message part)
    "bad type": ('bandwidth_gb_s = 864', 'bandwidth_gb_s = "864"', 'bandwidth_gb_s = "864"',
                 "bandwidth_gb_s", 'must be of type number, got string "864"'),
    "bad type inside an inline table": ('peak_tflops = { fp32 = 1.86 }', 'peak_tflops = { fp32 = "fast" }',
                                        'fp32 = "fast"', "peak_tflops.fp32", "must be of type number"),
    "matches in the hand file": ('name = "NVIDIA L40S"\n', 'name = "NVIDIA L40S"\nmatches = ["NVIDIA L40S"]\n',
                                 'matches = ["NVIDIA L40S"]', "matches", "moved to catalogue/device-map.toml"),
    "correction without a reason": (
        'correction = "Epoch\'s row gives no memory size: the H200 SXM has 141 GB of HBM3e (NVIDIA H200 datasheet)"\n',
        '', 'name = "NVIDIA H200 SXM"', "name", "say why in `correction`"),
    "corrects an unknown entry": ('corrects = "NVIDIA A100 PCIe"', 'corrects = "NVIDIA A100 PCIe 80 GB"',
                                  'corrects = "NVIDIA A100 PCIe 80 GB"', "corrects", "does not list"),
    "uncovered figure": ('covers = ["peak_tflops", "bandwidth_gb_s"] }]',
                         'covers = ["peak_tflops"] }]', 'bandwidth_gb_s = 100', "bandwidth_gb_s",
                         "no source covers bandwidth_gb_s"),
    "unknown field": ('tdp_w = 280', 'tdp_watts = 280', 'tdp_watts = 280', "tdp_watts", "unknown field 'tdp_watts'"),
}


@pytest.mark.parametrize("case", sorted(BROKEN))
def test_a_broken_catalogue_is_reported_with_file_line_field_and_message(tmp_path, case):
    old, new, at, field, message = BROKEN[case]
    text = CATALOGUE.read_text(encoding="utf-8")
    assert text.count(old) == 1
    broken = text.replace(old, new)
    catalogue_copy(tmp_path, devices=broken)
    cat = dc.for_root(tmp_path)
    assert not cat.ok and cat.devices == ()
    formatted = [p.format() for p in cat.problems]
    line = _line(broken, at)
    hits = [f for f in formatted if f.startswith(f"catalogue/devices.toml:{line}: devices[")
            and f".{field}: " in f and message in f]
    assert hits, formatted
    with pytest.raises(dc.CatalogueError, match="catalogue/devices.toml:"):
        cat.checked()


BROKEN_MAP = {
    # name: (text to replace, replacement, message part)
    "not normalized": ('"NVIDIA GTX 1050" = ', '"NVIDIA GeForce GTX 1050" = ', "not a normalized device name"),
    "no such entry": ('"NVIDIA RTX 3090" = "NVIDIA GeForce RTX 3090"', '"NVIDIA RTX 3090" = "NVIDIA RTX 3090 Turbo"',
                      "'NVIDIA RTX 3090 Turbo' is no entry of the catalogue"),
    "renamed by a correction": ('"NVIDIA A100 80GB PCIe" = "NVIDIA A100 PCIe 80GB"',
                                '"NVIDIA A100 80GB PCIe" = "NVIDIA A100 PCIe"', "map to 'NVIDIA A100 PCIe 80GB'"),
    "vendor mismatch": ('"AMD Radeon RX 7900 XTX" = "AMD Radeon RX 7900 XTX"',
                        '"AMD Radeon RX 7900 XTX" = "NVIDIA GeForce RTX 4090"', "names vendor AMD"),
    "an entry without peaks": ('"Intel Data Center GPU Max 1100" = "Intel Data Center GPU Max 1100"',
                               '"Intel Data Center GPU Max 1100" = "Intel Habana GAUDI HL-205"',
                               "lists no peak FLOP/s"),
}


@pytest.mark.parametrize("case", sorted(BROKEN_MAP))
def test_a_broken_device_map_is_reported_with_its_line(tmp_path, case):
    old, new, message = BROKEN_MAP[case]
    text = DEVICE_MAP.read_text(encoding="utf-8")
    assert text.count(old) == 1
    broken = text.replace(old, new)
    catalogue_copy(tmp_path, device_map=broken)
    cat = dc.for_root(tmp_path)
    assert not cat.ok and cat.devices == ()
    line = _line(broken, new.split(" = ")[0] + " = ")
    hits = [p.format() for p in cat.problems if p.file == "catalogue/device-map.toml" and p.line == line
            and message in p.message]
    assert hits, [p.format() for p in cat.problems]


def test_merge_and_check_refuse_an_invalid_catalogue_and_change_nothing(repo):
    merge_synthetic(repo, 2)
    text = DEVICE_MAP.read_text(encoding="utf-8").replace('"NVIDIA RTX 3090" = "NVIDIA GeForce RTX 3090"',
                                                          '"NVIDIA RTX 3090" = "NVIDIA RTX 3090 Turbo"')
    catalogue_copy(repo, device_map=text)
    line = _line(text, '"NVIDIA RTX 3090" = ')
    before = snapshot(repo)
    check = run_tool("merge", "--root", str(repo), "--check")
    assert check.returncode == 1
    assert f"catalogue/device-map.toml:{line}: names.\"NVIDIA RTX 3090\": 'NVIDIA RTX 3090 Turbo'" in check.stderr
    assert "catalogue/device-map.toml is invalid" in check.stderr and "Traceback" not in check.stderr
    assert snapshot(repo) == before
    fragment = write(step_run(3, achieved=H100_TF32 / 2), repo / "data" / "fragments")
    before = snapshot(repo)
    merged = run_tool("merge", "--root", str(repo))
    assert merged.returncode == 1 and f"catalogue/device-map.toml:{line}:" in merged.stderr
    assert "nothing was changed" in merged.stderr
    assert snapshot(repo) == before and fragment.exists()


# --------------------------------------------------------------------------------------------- fractions

def test_catalogue_fractions_are_exact_and_absent_when_not_known():
    cat = dc.read_catalogue(CATALOGUE)
    join = dc.FractionJoin(cat)

    def fractions(**kw) -> dict:
        run = step_run(0, **kw)
        return join.fractions(run["results"][0]["device_name"], run["results"][0])

    assert fractions(achieved=H100_TF32 * 0.5) == {"peak_fraction_catalogue": 0.5}
    assert fractions(achieved=H100_TF32 * 0.5, count=2) == {"peak_fraction_catalogue": 0.25}   # peak x devices
    assert fractions(achieved=H100_BF16 * 0.25, precision="mixed-bf16") == {"peak_fraction_catalogue": 0.25}
    assert fractions(achieved=H100_TF32 * 0.5, precision="unknown") == {}
    assert fractions(achieved=1e12, device="NVIDIA Unknown GPU") == {}
    assert fractions(achieved=1e12, device="NVIDIA V100 SXM2 16GB", precision="tf32") == {}
    assert fractions() == {}                                   # no achieved_flops_per_s: nothing to divide
    # An Apple M1's CPU and GPU share a name: the catalogue entry (kind mps) is for the GPU only.
    m1 = {"device_kind": "mps", "device_count": 1, "precision": "fp32", "status": "ok",
          "metrics": {"achieved_flops_per_s": 1.3e12}}
    assert join.fractions("Apple M1", m1) == {"peak_fraction_catalogue": 0.5}
    assert join.fractions("Apple M1", dict(m1, device_kind="cpu")) == {}
    assert fractions(benchmark="peak-bandwidth", precision="fp32", bandwidth=3350e9 * 0.75) == {
        "bandwidth_fraction_catalogue": 0.75}
    # The frame joins the same figures (with the checkout's catalogue by default).
    [row] = result_rows([step_run(0, achieved=H100_TF32 * 0.5)])
    assert only_fractions(row) == {"peak_fraction_catalogue": 0.5}
    assert row["forward_backward_ms"] == 12.0


def test_the_measured_ceiling_is_the_median_of_matching_peak_matmul_results():
    runs = [step_run(1, benchmark="peak-matmul", achieved=v) for v in (400e12, 500e12, 650e12)]
    runs += [step_run(2, benchmark="peak-matmul", precision="bf16", achieved=800e12),
             step_run(3, benchmark="peak-matmul", framework="tensorflow", achieved=100e12),   # other framework
             step_run(4, benchmark="peak-matmul", count=2, achieved=900e12),                 # other device count
             step_run(5, benchmark="peak-matmul", device="NVIDIA RTX 3090", achieved=30e12),  # other device
             step_run(6, benchmark="peak-matmul", status="oom")]                             # failed: ignored
    train = step_run(10, achieved=250e12)
    mixed = step_run(11, precision="mixed-bf16", achieved=200e12)   # the same math as the bf16 matmul
    fp32 = step_run(12, precision="fp32", achieved=20e12)           # no fp32 matmul measured
    tf = step_run(13, framework="tensorflow", achieved=50e12)
    rows = {r["run_id"]: r for r in result_rows(runs + [train, mixed, fp32, tf])}
    assert only_fractions(rows[train["run_id"]]) == {"peak_fraction_catalogue": 250e12 / H100_TF32,
                                                     "peak_fraction_measured": 0.5}
    assert rows[mixed["run_id"]]["peak_fraction_measured"] == 0.25
    assert "peak_fraction_measured" not in rows[fp32["run_id"]]
    assert rows[tf["run_id"]]["peak_fraction_measured"] == 0.5
    peak = rows[runs[0]["run_id"]]
    assert "peak_fraction_measured" not in peak                     # no fraction of itself
    assert peak["peak_fraction_catalogue"] == 400e12 / H100_TF32     # against the datasheet: yes
    assert "peak_fraction_measured" not in rows[runs[4]["run_id"]]
    # The ceiling is read from the whole dataset, so shards that do not hold the peak results get it too.
    files = shards.build(runs + [train], catalogue=dc.read_catalogue(CATALOGUE))
    [row] = json.loads(files[f"{API}/workloads/fwdbwd-alexnet/1.json"])["results"]
    assert only_fractions(row) == only_fractions(rows[train["run_id"]])


# ------------------------------------------------------------------- a copy of the real dataset, measured rows

@pytest.fixture(scope="module")
def real_plus_measured(tmp_path_factory) -> Path:
    """The real dataset (imported Titan X fwdbwd rows and all) with measured step and peak results merged in."""
    root = tmp_path_factory.mktemp("real")
    (root / "data" / "fragments").mkdir(parents=True)
    for name in ("benchmark.toml", "benchmark.json"):
        shutil.copy(REPO / "data" / name, root / "data" / name)
    runs = [step_run(1, achieved=H100_TF32 * 0.5, fwd=4.0, bwd=8.0),
            step_run(2, achieved=H100_TF32 * 0.4, fwd=4.4, bwd=8.4),
            step_run(3, precision="mixed-bf16", achieved=H100_BF16 * 0.3, fwd=2.0, bwd=4.0),
            step_run(4, benchmark="peak-matmul", achieved=400e12),
            step_run(5, benchmark="peak-matmul", precision="bf16", achieved=700e12)]
    for run in runs:
        write(run, root / "data" / "fragments")
    res = run_tool("merge", "--root", str(root))
    assert res.returncode == 0, res.stderr
    return root


def test_the_api_rows_carry_the_fractions_and_devices_json_the_catalogue(real_plus_measured):
    root = real_plus_measured
    index = json.loads((root / API / "index.json").read_text())
    cat = dc.read_catalogue(CATALOGUE)
    assert index["catalogue"] == {"file": "devices.json", "sha256": cat.sha256, "device_count": len(cat.devices)}
    devices = {d["name"]: d for d in index["devices"]}
    assert devices[H100]["catalogue_name"] == "NVIDIA H100 SXM5 80GB"
    assert devices["NVIDIA Titan X"]["catalogue_name"] == TITAN_X
    doc = json.loads((root / API / "devices.json").read_text())
    assert doc == {"api_version": 1, "catalogue_sha256": cat.sha256, "source": "catalogue/devices.toml",
                   "files": ["catalogue/devices.toml", "catalogue/epoch-ai.toml", "catalogue/device-map.toml"],
                   "attribution": cat.attribution, "devices": list(cat.devices)}
    assert doc["attribution"].startswith("Device figures: Epoch AI, 'Data on Machine Learning Hardware' "
                                         "(https://epoch.ai/data/machine-learning-hardware), CC-BY 4.0, retrieved ")
    rows = [r for f in next(w for w in index["workloads"] if w["name"] == "fwdbwd-alexnet")["files"]
            for r in json.loads((root / API / f).read_text())["results"]]
    measured = [r for r in rows if r["provenance"]["kind"] == "measured" and r["device"] == H100]
    by_fraction = sorted(only_fractions(r)["peak_fraction_catalogue"] for r in measured)
    assert by_fraction == [0.3, 0.4, 0.5]
    tf32 = next(r for r in measured if r["peak_fraction_catalogue"] == 0.5)
    assert tf32["peak_fraction_measured"] == H100_TF32 * 0.5 / 400e12
    assert all(only_fractions(r) == {} for r in rows if r["provenance"]["kind"] == "imported")
    assert "peak_fraction" not in (root / "data" / "benchmark.json").read_text()     # mirrors the TOML only
    assert "peak_fraction" not in (root / "data" / "benchmark.toml").read_text()
    assert max(p.stat().st_size for p in (root / API).rglob("*.json")) <= shards.MAX_SHARD_BYTES
    assert run_tool("merge", "--root", str(root), "--check").returncode == 0


def test_a_corrected_catalogue_changes_the_fractions_and_no_run(real_plus_measured, tmp_path):
    root = tmp_path / "repo"
    shutil.copytree(real_plus_measured, root)
    toml_before = (root / "data" / "benchmark.toml").read_bytes()
    correction = ('\n[[devices]]\nname = "NVIDIA H100 SXM5 80GB"\ncorrection = "a test: a corrected TF32 rate"\n'
                  'peak_tflops = { tf32 = 989.4 }\nsources = [{ title = "a test", covers = ["peak_tflops"] }]\n')
    catalogue_copy(root, devices=CATALOGUE.read_text(encoding="utf-8") + correction)
    check = run_tool("merge", "--root", str(root), "--check")
    assert check.returncode == 1 and "data/api/v1/workloads/fwdbwd-alexnet/1.json: out of date" in check.stderr
    assert run_tool("merge", "--root", str(root)).returncode == 0
    assert (root / "data" / "benchmark.toml").read_bytes() == toml_before
    rows = json.loads((root / API / "workloads/fwdbwd-alexnet/1.json").read_text())["results"]
    assert sorted(r["peak_fraction_catalogue"] for r in rows if r.get("precision") == "tf32") == [0.2, 0.25]
    df = load_results(root)
    steps = df[(df.precision == "tf32") & (df.benchmark == "fwdbwd-alexnet")]
    assert sorted(steps["peak_fraction_catalogue"]) == [0.2, 0.25]


def compare_json(root: Path, *args: str) -> dict:
    res = run_tool("compare", "--root", str(root), "--format", "json", *args)
    assert res.returncode == 0, res.stderr
    return json.loads(res.stdout)


def test_compare_lists_measured_fwdbwd_rows_beside_the_imported_titan_x(real_plus_measured):
    root = real_plus_measured
    text = run_tool("compare", "--root", str(root), "--workload", "fwdbwd-alexnet", "--baseline", "Titan X")
    assert text.returncode == 0, text.stderr
    assert "comparing forward_backward_ms (the default" in text.stderr   # the imported rows have no step_ms
    out = text.stdout
    block = ("fwdbwd-alexnet (benchmark version 1), framework torch, precision tf32, batch 128, NCHW; "
             "compared across unknown settings (? marks an imported row whose source does not state its benchmark "
             "version, precision, batch, compile, layout)")
    assert block in out.splitlines()
    assert "NVIDIA Titan X (cuda) [precision ?, batch ?, compile ?, layout ?]" in out
    doc = compare_json(root, "--workload", "fwdbwd-alexnet", "--baseline", "Titan X")
    assert doc["metric"] == "forward_backward_ms"
    tf32 = [r for r in doc["rows"] if r["setting"].get("precision") == "tf32"]
    assert {(r["device"], r["kind"]) for r in tf32} == {(H100, "measured"), ("NVIDIA Titan X", "imported")}
    h100 = next(r for r in tf32 if r["kind"] == "measured")
    titan = next(r for r in tf32 if r["kind"] == "imported")
    # The Torch row of the source: forward 33 ms + backward 66 ms; nothing filled in.
    assert (titan["framework"], titan["precision"], titan["batch_size"], titan["benchmark_version"]) == \
        ("torch", "unknown", None, None)
    assert titan["median"] == 99.0 and titan["is_baseline"]
    assert titan["unknown"] == ["benchmark_version", "precision", "batch_size", "compile", "channels_last"]
    assert "compared across unknown settings" in titan["note"]
    assert h100["median"] == pytest.approx(12.4) and h100["speedup"] == pytest.approx(99.0 / 12.4)
    assert h100["unknown"] is None and h100["peak_fraction_catalogue"] == pytest.approx(0.45)
    bf16 = [r for r in doc["rows"] if r["setting"].get("precision") == "mixed-bf16"]
    assert {r["kind"] for r in bf16} == {"measured", "imported"}
    # No measured leaf or caffe results: those imported rows keep their own settings, unflagged, as before.
    leaf = [r for r in doc["rows"] if r["framework"] == "leaf"]
    assert leaf and all(r["setting"]["precision"] == "unknown" and r["unknown"] is None for r in leaf)


def test_compare_shows_the_fractions_as_columns(real_plus_measured):
    root = real_plus_measured
    res = run_tool("compare", "--root", str(root), "--workload", "fwdbwd-alexnet", "--metric", "achieved_flops_per_s")
    assert res.returncode == 0, res.stderr
    lines = res.stdout.splitlines()
    assert lines[0].startswith("achieved_flops_per_s in FLOP/s, higher is better")
    header = next(ln for ln in lines if ln.startswith("device"))
    assert "of peak (catalogue)" in header and "of peak (measured)" in header
    [bf16] = [ln for ln in lines if ln.startswith("NVIDIA H100 80GB HBM3 (cuda)") and "296.8 T" in ln]
    assert "30.0%" in bf16 and f"{H100_BF16 * 0.3 / 700e12 * 100:.1f}%" in bf16
    plain = run_tool("compare", "--root", str(root), "--workload", "fwdbwd-alexnet", "--metric", "step_ms")
    assert "of peak" not in plain.stdout
    shown = run_tool("compare", "--root", str(root), "--workload", "fwdbwd-alexnet", "--metric", "step_ms",
                     "--fractions", "--format", "markdown")
    assert shown.returncode == 0, shown.stderr
    assert "| device | source | n | median | min | max | IQR | speedup | of peak (catalogue) | of peak (measured) | note |" \
        in shown.stdout
    doc = compare_json(root, "--workload", "peak-matmul", "--metric", "achieved_flops_per_s")
    assert all(r["peak_fraction_measured"] is None and r["peak_fraction_catalogue"] for r in doc["rows"])
