"""tools/versus.py: device A against device B on a dataset with known answers (tests/versusdata.py)."""

from __future__ import annotations

import csv
import io
import json
import math
import re
from pathlib import Path

import pytest

import versusdata as vd
from conftest import run_tool
from dlbench.analysis.versus import VersusError, compare_devices, resolve
from dlbench.store.api_rows import Api, device_rows, load_catalogue, load_index, workload_rows


@pytest.fixture(scope="module")
def root(tmp_path_factory) -> Path:
    return vd.write(tmp_path_factory.mktemp("versus"))


def versus_json(root: Path, *args: str) -> dict:
    r = run_tool("versus", "A100", "V100", "--root", str(root), "--format", "json", "--measured-only", *args)
    assert r.returncode == 0, r.stderr
    return json.loads(r.stdout)


def by_workload(v: dict, nearest: bool = False) -> dict[str, dict]:
    return {p["workload"]: p for p in v["workloads"] if bool(p["nearest"]) == nearest}


def test_summary_is_the_geometric_mean_of_the_comparable_settings_with_wins_ties_losses(root):
    v = versus_json(root)
    s = v["summary"]
    assert v["a"]["label"] == vd.A_LABEL and v["b"]["label"] == vd.B_LABEL
    assert s["geomean"] == pytest.approx(vd.GEOMEAN, rel=1e-12)
    assert (s["comparable"], s["wins"], s["ties"], s["losses"], s["nearest"]) == (3, 2, 1, 0, 2)
    assert s["shared"] == 5                       # workloads both devices have an ok result of
    assert s["union"] == 9                        # settings either device ran
    lo, hi = s["interval"]
    assert lo < s["geomean"] < hi                 # measurement interval, stated apart from the spread
    logs = [math.log(2.0), math.log(300 / 306), math.log(2.0)]
    mean = sum(logs) / 3
    gsd = math.exp(math.sqrt(sum((x - mean) ** 2 for x in logs) / 2))
    assert s["spread"]["gsd"] == pytest.approx(gsd, rel=1e-12)
    assert s["spread"]["min"] == pytest.approx(300 / 306) and s["spread"]["max"] == pytest.approx(2.0)
    assert s["per_watt"] == pytest.approx(vd.GEOMEAN * 300 / 400)      # TDP 400 W vs 300 W (catalogue)
    assert s["per_dollar"] is None                                    # the V100 SXM2 16GB has no price


def test_a_pair_with_repeats_has_its_interval_and_single_results_say_so(root):
    pairs = by_workload(versus_json(root))
    lenet = pairs["mnist-lenet5"]
    assert (lenet["a_value"], lenet["b_value"], lenet["ratio"], lenet["n_a"], lenet["n_b"]) == (200, 100, 2.0, 3, 3)
    assert lenet["interval"] == pytest.approx([2 * math.exp(-vd.PAIR_HALF), 2 * math.exp(vd.PAIR_HALF)], rel=1e-9)
    assert lenet["outcome"] == "win" and not lenet["tie"] and lenet["single"] is False
    fashion = pairs["fashion-mnist-lenet5"]
    assert fashion["interval"] is None and fashion["single"] is True
    assert fashion["tie"] is True and fashion["mark"] == "=" and fashion["outcome"] == "tie"
    assert fashion["ratio"] == pytest.approx(300 / 306)


def test_a_lower_is_better_metric_is_inverted_so_above_one_means_a_is_better(root):
    vgg = by_workload(versus_json(root))["fwdbwd-vgg16"]
    assert vgg["metric"] == "compute_s" and vgg["higher_is_better"] is False
    assert (vgg["a_value"], vgg["b_value"], vgg["ratio"]) == (10.0, 20.0, 2.0)
    assert vgg["unit"] == "s"


def test_nearest_comparable_pairs_say_what_differs_and_stay_out_of_the_summary(root):
    v = versus_json(root)
    near = by_workload(v, nearest=True)
    assert set(near) == {"cifar10-cnn", "imagenet32-cnn"}
    assert near["cifar10-cnn"]["nearest"]["differs"] == {"batch_size": [256, 128]}
    assert near["cifar10-cnn"]["ratio"] == 4.0
    assert v["summary"]["spread"]["max"] == pytest.approx(2.0)        # the 4x nearest pair is not in it


def test_cannot_lists_out_of_memory_with_the_largest_fit_and_a_missing_precision(root):
    v = versus_json(root)
    only_a = {(i["workload"], i["reason"]): i for i in v["only_a"]}
    oom = only_a[("imagenet32-cnn", "oom")]
    assert oom["largest_fit"] == 512 and oom["setting"]["batch_size"] == 1024
    assert "ran out of memory at batch 1024" in oom["detail"] and "largest batch measured to fit is 512" in oom["detail"]
    assert oom["evidence"]["can"] and oom["evidence"]["cannot"][0].startswith("run ")
    bf16 = only_a[("fwdbwd-resnet50", "precision")]
    assert "no bf16 peak" in bf16["detail"] and bf16["evidence"]["cannot"] == ["catalogue: NVIDIA Tesla V100 SXM2 16 GB"]
    device_level = {i["detail"].split(" has a ")[1].split(" peak")[0] for i in v["only_a"] if i["workload"] is None}
    assert device_level == {"tf32", "bf16", "int8"}
    assert only_a[("cifar10-cnn", "not_measured")]["value"] == 400
    assert {(i["workload"], i["reason"]) for i in v["only_b"]} == {("cifar10-cnn", "not_measured"),
                                                                    ("imagenet32-cnn", "not_measured")}
    assert not any(i["reason"] == "oom" for i in v["only_b"])


def test_capacity_and_datasheet_side_by_side(root):
    v = versus_json(root)
    cap = {c["workload"]: c for c in v["capacity"]["workloads"]}
    assert (cap["imagenet32-cnn"]["a_fit"], cap["imagenet32-cnn"]["b_fit"], cap["imagenet32-cnn"]["b_oom"]) == (1024, 512, 1024)
    assert v["capacity"]["memory_gb"] == {"a": 40, "b": 16}
    sheet = {d["field"]: d for d in v["datasheet"]}
    assert sheet["peak_tflops.bf16"]["a"] == 312 and sheet["peak_tflops.bf16"]["b"] is None
    assert sheet["memory_gb"]["ratio"] == 2.5 and sheet["memory_gb"]["differs"] is True


def test_the_json_form_has_the_documented_keys(root):
    v = versus_json(root)
    assert {"a", "b", "summary", "workloads", "only_a", "only_b", "predicted"} <= set(v)
    assert {"geomean", "interval", "spread", "shared", "comparable", "wins", "ties", "losses"} <= set(v["summary"])
    for p in v["workloads"]:
        assert {"workload", "setting", "metric", "unit", "higher_is_better", "a_value", "b_value", "ratio", "interval",
                "n_a", "n_b", "tie"} <= set(p)
    for item in v["only_a"] + v["only_b"]:
        assert {"workload", "reason", "evidence"} <= set(item)
    doc = (Path(__file__).resolve().parent.parent / "docs" / "versus.md").read_text(encoding="utf-8")
    for key in ("geomean", "interval", "spread", "workloads", "only_a", "evidence", "largest_fit", "predicted", "nearest"):
        assert f"`{key}`" in doc


def test_swapping_a_and_b_inverts_the_answer(root):
    r = run_tool("versus", "V100", "A100", "--root", str(root), "--format", "json", "--measured-only")
    v = json.loads(r.stdout)
    assert v["summary"]["geomean"] == pytest.approx(1 / vd.GEOMEAN, rel=1e-12)
    assert (v["summary"]["wins"], v["summary"]["losses"]) == (0, 2)
    assert {i["reason"] for i in v["only_b"]} >= {"oom", "precision"}


def test_filters_narrow_the_workloads(root):
    v = versus_json(root, "--precision", "fp32")
    assert not any(i["workload"] == "fwdbwd-resnet50" for i in v["only_a"])
    r = run_tool("versus", "A100", "V100", "--root", str(root), "--framework", "tensorflow", "--measured-only")
    assert r.returncode == 1 and "share no comparable result" in r.stderr


def test_text_markdown_and_csv_forms(root):
    r = run_tool("versus", "A100", "V100", "--root", str(root), "--measured-only")
    assert r.returncode == 0, r.stderr
    assert f"A is {vd.GEOMEAN:.3g}x B" in r.stdout and "2 / 1 / 0" in r.stdout
    assert "out of memory" in r.stdout and "single result" in r.stdout
    md = run_tool("versus", "A100", "V100", "--root", str(root), "--measured-only", "--format", "markdown").stdout
    assert md.startswith(f"# {vd.A_LABEL} vs {vd.B_LABEL}") and re.search(r"\| mnist-lenet5 +\|", md)
    rows = list(csv.DictReader(io.StringIO(
        run_tool("versus", "A100", "V100", "--root", str(root), "--measured-only", "--format", "csv").stdout)))
    sections = {r["section"] for r in rows}
    assert sections == {"compared", "nearest", "only_a", "only_b", "datasheet"}
    lenet = next(r for r in rows if r["workload"] == "mnist-lenet5")
    assert float(lenet["ratio"]) == 2.0 and lenet["n_a"] == "3"


def test_usage_errors_exit_2_and_name_the_candidates(root):
    r = run_tool("versus", "Z9000", "V100", "--root", str(root))
    assert r.returncode == 2 and "not a device of the dataset" in r.stderr and vd.A_LABEL in r.stderr
    r = run_tool("versus", "V100", "v100 sxm2 16gb", "--root", str(root))
    assert r.returncode == 2 and "same device" in r.stderr
    r = run_tool("versus", "A100", "V100", "--root", str(root), "--family", "nope")
    assert r.returncode == 2 and "no such workload family" in r.stderr
    r = run_tool("versus", "A100", "--root", str(root))
    assert r.returncode == 2
    r = run_tool("versus", "A100", "V100", "--root", str(root / "missing"))
    assert r.returncode == 2 and "no data/ folder" in r.stderr
    assert "Traceback" not in r.stderr


def test_an_ambiguous_name_takes_the_device_with_most_results_and_names_the_others():
    labels = {"NVIDIA H100 80GB HBM3 (cuda)": 756, "NVIDIA H100 PCIe (cuda)": 184, "Apple M1 (cpu)": 3,
              "Apple M1 (mps)": 3}
    assert resolve(labels, "H100", "A") == ("NVIDIA H100 80GB HBM3 (cuda)", ["NVIDIA H100 PCIe (cuda)"])
    assert resolve(labels, "nvidia h100 pcie", "A") == ("NVIDIA H100 PCIe (cuda)", [])
    with pytest.raises(VersusError, match="ambiguous.*Apple M1 \\(cpu\\).*Apple M1 \\(mps\\)"):
        resolve(labels, "Apple M1", "A")


def test_the_two_devices_rows_alone_give_the_same_answer_as_every_row(root):
    api = Api.at(root)
    index = load_index(api)
    catalogue = load_catalogue(api, index)
    every = compare_devices(workload_rows(api, index), index, catalogue, "A100", "V100")
    two = compare_devices(device_rows(api, index, [vd.A_LABEL, vd.B_LABEL]), index, catalogue, "A100", "V100")
    assert every == two


def test_a_prediction_fills_what_was_not_measured_apart_from_the_summary_as_the_site_files_do(root):
    r = run_tool("versus", "A100", "V100", "--root", str(root), "--format", "json")
    assert r.returncode == 0, r.stderr
    v = json.loads(r.stdout)
    assert v["summary"]["geomean"] == pytest.approx(vd.GEOMEAN, rel=1e-12)      # predictions never enter it
    [predicted] = v["predicted"]
    assert (predicted["device"], predicted["workload"], predicted["label"]) == ("b", "fwdbwd-alexnet", vd.B_LABEL)
    assert predicted["value"] > 0 and predicted["method"] and predicted["unit"] == "samples/s"
    item = next(i for i in v["only_a"] if i["workload"] == "fwdbwd-alexnet")
    assert item["reason"] == "not_measured" and item["prediction"]["value"] == predicted["value"]
    assert "predicted" in run_tool("versus", "A100", "V100", "--root", str(root)).stdout
    # The page reads the same answer from the site build's file of B's predictions.
    from dlbench.analysis.site_predictions import expand, predictions

    api = Api.at(root)
    index = load_index(api)
    files = predictions(workload_rows(api, index), load_catalogue(api, index))
    answer = expand(files[vd.B_LABEL])[("fwdbwd-alexnet", "fp32")]
    assert (answer["value"], answer["method"], answer["unit"]) == (predicted["value"], predicted["method"], "samples/s")
    assert answer["error"] == {k: predicted["error"][k] for k in answer["error"]}


def test_on_a_published_api_the_command_reads_its_per_device_and_prediction_files_and_agrees(root, tmp_path):
    import shutil

    site_data = tmp_path / "site" / "data"
    shutil.copytree(root / "data" / "api", site_data / "api")
    r = run_tool("publish", str(site_data))
    assert r.returncode == 0, r.stderr
    api = site_data / "api" / "v1"
    listing = json.loads((api / "by-device.json").read_text())
    assert any(e.get("predicted") for e in listing["devices"])
    published = run_tool("versus", "A100", "V100", "--data", str(api), "--format", "json")
    checkout = run_tool("versus", "A100", "V100", "--root", str(root), "--format", "json")
    assert published.returncode == checkout.returncode == 0, published.stderr + checkout.stderr
    assert json.loads(published.stdout) == json.loads(checkout.stdout)
