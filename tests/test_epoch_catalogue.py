"""Epoch AI's hardware table as the device catalogue's imported part (dlbench/importers/epoch.py), and the
committed catalogue it made: counts, sources, corrections, the attribution, the peaks results are checked against.

The importer runs on small files in Epoch's layout (both known header spellings, values copied from real
rows); the real export is not in CI, so the committed catalogue/epoch-ai.toml stands for it.
"""

from __future__ import annotations

import csv
import shutil
from pathlib import Path

import pytest

from conftest import REPO, run_tool, snapshot
from dlbench.contract import catalogue_files
from dlbench.contract import device_catalogue as dc
from dlbench.importers import epoch
from dlbench.importers.published import InputError, Pin

COMMIT = "2af77743b2cb18e8a9a0dc4efb49eadc43802805"
PIN = Pin("joshyou/clod", COMMIT, None)

# The header of the December 2025 export (joshyou/clod) and of the older one (sr3-k/data): the same columns,
# in another order, `Memory (bytes)` spelled `Memory size per board (Byte)`.
CURRENT = ("Hardware name,Manufacturer,Type,Notes,Release date,Release price (USD),Tensor-FP16/BF16 performance "
           "(FLOP/s),FP8 performance (FLOP/s),FP4 performance (FLOP/s),Memory (bytes),Memory bandwidth (byte/s),"
           "Intranode bandwidth (byte/s),Internode bandwidth (bit/s),TDP (W),FP64 (double precision) performance "
           "(FLOP/s),FP32 (single precision) performance (FLOP/s),TF32 (TensorFloat-32) performance (FLOP/s),FP16 "
           "(half precision) performance (FLOP/s),INT16 performance (OP/s),INT8 performance (OP/s),INT4 "
           "performance (OP/s),Foundry,Die Size (mm^2),Base clock (MHz),Boost clock (MHz),Memory clock (MHz),"
           "Memory bus (bit),Tensor cores,Process size (nm),Transistors (millions),Link to datasheet,Source for "
           "the price,ML models,Last modified,Max performance,Energy efficiency,Total processing performance "
           "(bit-OP/s),Price-performance,ML OP/s").split(",")
OLDER = ("Hardware name,Manufacturer,Type,Notes,Release date,Release price (USD),FP64 (double precision) "
         "performance (FLOP/s),FP32 (single precision) performance (FLOP/s),FP16 (half precision) performance "
         "(FLOP/s),TF32 (TensorFloat-32) performance (FLOP/s),Tensor-FP16/BF16 performance (FLOP/s),INT16 "
         "performance (OP/s),INT8 performance (OP/s),INT4 performance (OP/s),Memory size per board (Byte),Memory "
         "bandwidth (byte/s),Intranode bandwidth (byte/s),Internode bandwidth (bit/s),Die Size (mm^2),TDP (W),"
         "Base clock (MHz),Boost clock (MHz),Memory clock (MHz),Memory bus (bit),Tensor cores,Process size (nm),"
         "Foundry,Transistors (millions),Link to datasheet,Source for the price,ML models,Last modified,Max "
         "performance,Energy efficiency,FP8 performance (FLOP/s),FP4 performance (FLOP/s),Total processing "
         "performance (bit-OP/s),Price-performance,ML OP/s").split(",")
MEMORY = {"Memory (bytes)", "Memory size per board (Byte)"}

# Values of real rows of the December 2025 export (a few columns each).
ROWS = [
    {"Hardware name": "NVIDIA H100 SXM5 80GB", "Manufacturer": "NVIDIA", "Type": "GPU",
     "Notes": "Listed performance figures are without sparsity.", "Release date": "2022-09-20",
     "Release price (USD)": "33600.0", "Tensor-FP16/BF16 performance (FLOP/s)": "989400000000000.0",
     "memory": "80000000000.0", "Memory bandwidth (byte/s)": "3350000000000.0", "TDP (W)": "700.0",
     "FP64 (double precision) performance (FLOP/s)": "33450000000000.0",
     "FP32 (single precision) performance (FLOP/s)": "66910000000000.0",
     "TF32 (TensorFloat-32) performance (FLOP/s)": "494700000000000.0",
     "FP16 (half precision) performance (FLOP/s)": "133800000000000.0",
     "INT8 performance (OP/s)": "1979000000000000.0",
     "Link to datasheet": "https://resources.nvidia.com/en-us-tensor-core/nvidia-tensor-core-gpu-datasheet; "
                          "https://www.techpowerup.com/gpu-specs/h100-sxm5.c3900",
     "Last modified": "2025-11-14 18:27:23+00:00", "Max performance": "1979000000000000.0"},
    {"Hardware name": "NVIDIA GeForce RTX 2080 Ti 11GB", "Manufacturer": "NVIDIA", "Type": "GPU",
     "Release date": "2018-09-20", "Release price (USD)": "999.0",
     "Tensor-FP16/BF16 performance (FLOP/s)": "113800000000000.0", "memory": "11000000000.0",
     "Memory bandwidth (byte/s)": "616000000000.0", "TDP (W)": "250.0",
     "FP32 (single precision) performance (FLOP/s)": "13450000000000.0",
     "Link to datasheet": "https://www.techpowerup.com/gpu-specs/geforce-rtx-2080-ti.c3305",
     "Last modified": "2025-07-21 09:53:50+00:00"},
    {"Hardware name": "Google TPU v4", "Manufacturer": "Google", "Type": "TPU",
     "Notes": "Google does not officially state TPUv4's TDP.", "Release date": "2021-05-20",
     "Tensor-FP16/BF16 performance (FLOP/s)": "275000000000000.0", "memory": "32000000000.0",
     "Memory bandwidth (byte/s)": "1200000000000.0", "TDP (W)": "340.0", "INT8 performance (OP/s)": "275000000000000.0",
     "Last modified": "2025-12-12 22:51:16+00:00"},
    {"Hardware name": "MT-3000", "Manufacturer": "National University of Defense Technology", "Type": "Hybrid CPU",
     "Release date": "2022-07-01", "TDP (W)": "256.0",
     "FP64 (double precision) performance (FLOP/s)": "12870000000000.0",
     "Last modified": "2025-07-21 09:21:04+00:00"},
]


def export(folder: Path, header: list[str], rows: list[dict] = ROWS) -> Path:
    """A small `ml_hardware.csv` in Epoch's layout with `header`; returns its folder."""
    folder.mkdir(parents=True, exist_ok=True)
    with (folder / "ml_hardware.csv").open("w", newline="", encoding="utf-8") as f:
        out = csv.writer(f)
        out.writerow(header)
        for row in rows:
            out.writerow([row.get("memory" if h in MEMORY else h, "") for h in header])
    return folder


def imported(root: Path) -> catalogue_files.DeviceFile:
    return catalogue_files.read_device_file(root / epoch.OUT, epoch.OUT, imported=True)


def test_both_header_layouts_import_to_the_same_entries(tmp_path):
    lines = epoch.apply(export(tmp_path / "new", CURRENT), PIN, tmp_path / "a")
    assert lines[0].startswith("epoch: 3 accelerators read from ml_hardware.csv") and "retrieved 2025-12-12" in lines[0]
    assert "left out 1: MT-3000 (Type 'Hybrid CPU')" in lines[0] and lines[1] == "wrote catalogue/epoch-ai.toml"
    epoch.apply(export(tmp_path / "old", OLDER), PIN, tmp_path / "b")
    a, b = imported(tmp_path / "a"), imported(tmp_path / "b")
    assert a.problems == b.problems == []
    strip = lambda devices: [{k: v for k, v in d.items() if k != "sources"} for d in devices]  # noqa: E731
    assert strip(a.devices) == strip(b.devices)
    h100, rtx, tpu = a.devices
    assert h100 == {
        "name": "NVIDIA H100 SXM5 80GB", "kind": "cuda", "vendor": "NVIDIA", "release_date": "2022-09-20",
        "price_usd": 33600, "tdp_w": 700, "memory_gb": 80, "bandwidth_gb_s": 3350,
        "peak_tflops": {"fp64": 33.45, "fp32": 66.91, "tf32": 494.7, "fp16": 989.4, "bf16": 989.4,
                        "fp16_plain": 133.8, "int8": 1979},
        "datasheet": ["https://resources.nvidia.com/en-us-tensor-core/nvidia-tensor-core-gpu-datasheet",
                      "https://www.techpowerup.com/gpu-specs/h100-sxm5.c3900"],
        "sources": [{"title": "Epoch AI, 'Data on Machine Learning Hardware'",
                     "url": "https://epoch.ai/data/machine-learning-hardware", "repository": "joshyou/clod",
                     "path": "ml_hardware.csv", "commit": COMMIT,
                     "sha256": h100["sources"][0]["sha256"], "retrieved": "2025-12-12", "license": "CC-BY-4.0",
                     "covers": ["peak_tflops", "memory_gb", "bandwidth_gb_s", "release_date", "price_usd", "tdp_w"]}]}
    assert rtx["peak_tflops"] == {"fp32": 13.45, "fp16": 113.8}           # Turing: no BF16
    assert tpu["kind"] == "tpu" and tpu["peak_tflops"] == {"bf16": 275, "int8": 275}   # a TPU: no FP16 path
    # Epoch's notes discuss the TPU's TDP: an estimate, covered by a source of its own, unconfirmed.
    assert [(s["covers"], s.get("unconfirmed")) for s in tpu["sources"]] == [
        (["peak_tflops", "memory_gb", "bandwidth_gb_s", "release_date"], None), (["tdp_w"], True)]
    assert a.attribution == ("Epoch AI, 'Data on Machine Learning Hardware' (https://epoch.ai/data/machine-learning-"
                             "hardware), CC-BY 4.0, retrieved 2025-12-12, via "
                             "joshyou/clod@2af77743b2cb:ml_hardware.csv")
    text = (tmp_path / "a" / epoch.OUT).read_text(encoding="utf-8")
    assert text.startswith("# GENERATED FILE: do not edit.")
    assert f"python tools/import_published.py epoch FOLDER --commit {COMMIT} --retrieved 2025-12-12" in text


def test_a_second_run_changes_nothing_and_a_dry_run_writes_nothing(tmp_path):
    folder = export(tmp_path / "src", CURRENT)
    epoch.apply(folder, PIN, tmp_path / "root")
    before = snapshot(tmp_path / "root")
    assert epoch.apply(folder, PIN, tmp_path / "root")[1] == "catalogue/epoch-ai.toml unchanged"
    assert snapshot(tmp_path / "root") == before
    assert epoch.apply(folder, PIN, tmp_path / "dry", dry_run=True)[1] == "would write catalogue/epoch-ai.toml"
    assert not (tmp_path / "dry").exists()


def test_an_unknown_header_stops_the_import_naming_file_line_and_header(tmp_path):
    folder = export(tmp_path / "src", CURRENT[:5] + ["Memory per chip (GB)"] + CURRENT[5:])
    (tmp_path / "root").mkdir()
    res = run_tool("import_published", "epoch", str(folder), "--commit", COMMIT, "--root", str(tmp_path / "root"))
    assert res.returncode == 1, res.stderr
    assert f"{folder / 'ml_hardware.csv'}:1: Memory per chip (GB): unknown column 'Memory per chip (GB)'" in res.stderr
    assert "nothing written" in res.stderr and "Traceback" not in res.stderr
    assert snapshot(tmp_path / "root") == {}


def test_a_bad_cell_and_an_unknown_type_are_reported_with_their_lines(tmp_path):
    rows = [dict(ROWS[0], **{"TDP (W)": "about 700"}), dict(ROWS[1], Type="Quantum")]
    with pytest.raises(InputError) as err:
        epoch.apply(export(tmp_path / "src", CURRENT, rows), PIN, tmp_path / "root")
    shown = [p.format() for p in err.value.problems]
    assert any(":2: TDP (W): 'about 700' is not a positive number" in s for s in shown), shown
    assert any(":3: Type: unknown Type 'Quantum'" in s for s in shown), shown
    assert not (tmp_path / "root").exists()


def test_an_import_that_would_lose_a_mapped_entry_writes_nothing(tmp_path):
    root = tmp_path / "root"
    (root / "catalogue").mkdir(parents=True)
    for name in ("devices.toml", "device-map.toml", "epoch-ai.toml"):
        shutil.copyfile(REPO / "catalogue" / name, root / "catalogue" / name)
    before = snapshot(root)
    with pytest.raises(InputError) as err:
        epoch.apply(export(tmp_path / "src", CURRENT), PIN, root)      # three rows: the map's entries are gone
    # The hand-kept corrections lose the entries they correct (the map's lines would be next).
    shown = [p.format() for p in err.value.problems]
    assert any(s.startswith("catalogue/devices.toml:") and "'NVIDIA A100 PCIe', which catalogue/epoch-ai.toml "
               "does not list" in s for s in shown), shown
    assert snapshot(root) == before


# ------------------------------------------------------------------------------ the committed catalogue

@pytest.fixture(scope="module")
def catalogue() -> dc.Catalogue:
    return dc.read_catalogue(REPO / dc.CATALOGUE_FILE).checked()


def test_the_committed_import_holds_every_accelerator_each_figure_with_its_source():
    part = imported(REPO)
    assert part.problems == []
    assert len(part.devices) >= 150
    assert part.attribution.startswith("Epoch AI, 'Data on Machine Learning Hardware' "
                                       "(https://epoch.ai/data/machine-learning-hardware), CC-BY 4.0, retrieved ")
    for entry in part.devices:
        assert entry["kind"] in ("cuda", "rocm", "tpu", "xpu", "other")
        for source in entry["sources"]:
            assert source["title"] == "Epoch AI, 'Data on Machine Learning Hardware'"
            assert {"repository", "path", "commit", "sha256", "retrieved"} <= set(source)
            assert source["license"] == "CC-BY-4.0"
        covered = set().union(*(catalogue_files.expand_covers(s["covers"], entry) for s in entry["sources"]))
        assert catalogue_files.figures_of(entry) == covered, entry["name"]
    names = {e["name"] for e in part.devices}
    assert {"NVIDIA H100 SXM5 80GB", "NVIDIA B200", "NVIDIA GB200", "AMD Instinct MI300X", "Google TPU v5p",
            "NVIDIA GeForce RTX 4090"} <= names
    assert "MT-3000" not in names and "Sunway SW26010-Pro" not in names    # CPUs


def test_corrections_carry_their_reason_and_keep_the_other_imported_figures(catalogue):
    imported_names = {e["name"] for e in imported(REPO).devices}
    hand = catalogue_files.read_device_file(REPO / dc.CATALOGUE_FILE, dc.CATALOGUE_FILE, imported=False)
    corrections = [h for h in hand.devices if h["name"] in imported_names or "corrects" in h]
    assert len(corrections) >= 10
    assert all(len(h["correction"]) > 20 for h in corrections)
    rtx = catalogue.entry_for("NVIDIA RTX 4090")
    assert rtx["corrects"] == "NVIDIA GeForce RTX 4090" and "FP32 accumulation" in rtx["correction"]
    assert rtx["peak_tflops"]["fp16"] == 165.2 and rtx["peak_tflops"]["fp32"] == 82.6     # Epoch's, kept
    epoch_source = rtx["sources"][0]
    assert "peak_tflops.fp16" not in epoch_source["covers"] and "peak_tflops.fp32" in epoch_source["covers"]
    renamed = catalogue.entry_for("NVIDIA A100 80GB PCIe")
    assert (renamed["name"], renamed["corrects"], renamed["memory_gb"]) == \
        ("NVIDIA A100 PCIe 80GB", "NVIDIA A100 PCIe", 80)


def test_devices_json_carries_the_attribution(catalogue):
    doc = catalogue.to_json()
    assert doc["attribution"] == ("Device figures: " + imported(REPO).attribution + "; hand-kept entries as cited")
    assert doc["files"] == ["catalogue/devices.toml", "catalogue/epoch-ai.toml", "catalogue/device-map.toml"]
    assert all("matches" in d for d in doc["devices"])


# Dense peaks (TFLOP/s) at least this high, from the vendors' documents: a lower catalogue peak would make the
# plausibility rule `flops-exceed-peak` reject real results.
FLOORS = {
    "NVIDIA RTX 3090": (35.5, 71, 71), "NVIDIA RTX 4090": (82.5, 165, 165), "NVIDIA RTX 5090": (104, 209, 209),
    "NVIDIA A100 SXM4 80GB": (19.4, 312, 312), "NVIDIA A100 SXM4 40GB": (19.4, 312, 312),
    "NVIDIA A100 PCIe 80GB": (19.4, 312, 312), "NVIDIA H100 80GB HBM3": (66.9, 989, 989),
    "NVIDIA H100 PCIe": (51, 756, 756), "NVIDIA H200": (66.9, 989, 989), "NVIDIA B200": (80, 2250, 2250),
    "NVIDIA GB200": (80, 2500, 2500), "AMD Instinct MI300X": (163, 1307, 1307),
}


@pytest.mark.parametrize("device", sorted(FLOORS))
def test_the_peaks_results_are_checked_against_are_not_too_low(catalogue, device):
    for precision, floor in zip(("fp32", "fp16", "bf16"), FLOORS[device]):
        assert catalogue.peak_flops_per_s(device, precision) >= floor * 1e12, (device, precision)
