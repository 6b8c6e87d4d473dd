"""tools/predict.py and dlbench.analysis.predict: predictions from the other devices, and their evaluation.

The datasets are JSON API folders written here in the documented shape (docs/api.md): index.json,
devices.json and one part per workload, whose throughputs follow a known law, throughput = efficiency x
peak / FLOPs (x a little noise), so that what the evaluation must recover is known.
"""

from __future__ import annotations

import csv
import io
import json
import math
import random
from pathlib import Path

import pytest

from dlbench.analysis.predict import Predictor, power_cap
from dlbench.analysis.predict_data import Devices, cells_of, observations
from dlbench.analysis.predict_eval import evaluate
from dlbench.analysis.predict_report import errors_json, rows_csv
from dlbench.store.api_rows import Api, load_catalogue, load_index, workload_rows

from conftest import run_tool

# name, fp16 peak TFLOP/s, fp32 peak, bandwidth GB/s, extra names the entry matches
GPUS = [("Synth A", 60, 30, 500, []), ("Synth B", 120, 40, 900, []), ("Synth C", 200, 70, 1000, []),
        ("Synth D", 320, 80, 2000, ["Synth D 80GB"]), ("Synth E", 90, 45, 700, []),
        ("Synth F", 400, 100, 3000, []), ("Synth G", 150, 60, 1500, [])]
WORKLOADS = 12
NOISE = 0.02
# the same, with a TDP each: C, E and F cannot hold their fp16 peak within CAP_K x TDP (TFLOP/s per watt)
CAP_K = 0.5
TDPS = {"Synth A": 300, "Synth B": 300, "Synth C": 250, "Synth D": 700, "Synth E": 120, "Synth F": 400,
        "Synth G": 500}
CAPPED = ("Synth C", "Synth E", "Synth F")


def _row(workload: str, device: str, kind: str, value: float, flops: float, peak: float | None, i: int) -> dict:
    row = {"benchmark": workload, "run_id": f"{i:016x}", "result_index": 0, "device": device, "device_kind": kind,
           "device_count": 1, "precision": "fp16", "framework": "torch", "framework_version": "2.4.0",
           "scenario": "infer", "compile": "eager", "batch_size": 64, "flops_per_sample": flops, "status": "ok",
           "metrics": {"throughput_samples_per_s": round(value, 4)}, "provenance": {"kind": "measured"}}
    if peak:
        row["peak_fraction_catalogue"] = value * flops / (peak * 1e12)
    return row


def write_api(folder: Path, drop: set[str] = frozenset(), seed: int = 0,
              cap: float | None = None) -> dict[str, list[dict]]:
    """A synthetic API: GPUs following the law, one with two names, and a CPU the catalogue lacks. Each
    result's noise depends on its workload and device only, so that dropping a device changes no other row.
    With `cap`, the GPUs have the TDPS and none runs faster than at `cap` x TDP TFLOP/s (the law's peak is
    min(fp16 peak, cap x TDP))."""
    tdp = TDPS if cap else {}
    devices = [{"name": n, "kind": "cuda", "vendor": "Synth", "matches": [n, *extra],
                "peak_tflops": {"fp16": p16, "fp32": p32}, "bandwidth_gb_s": bw, "memory_gb": 24,
                "tdp_w": tdp.get(n, 300)} for n, p16, p32, bw, extra in GPUS]
    devices.append({"name": "Synth Unmeasured", "kind": "cuda", "vendor": "Synth", "matches": [],
                    "peak_tflops": {"fp16": 250, "fp32": 75}, "bandwidth_gb_s": 1800})
    # (name, the law's peak, the datasheet peak) of every name of every GPU
    names = [(alias, min(p16, cap * tdp[n]) if cap else p16, p16) for n, p16, _, _, extra in GPUS
             for alias in [n, *extra]]
    parts: dict[str, list[dict]] = {}
    i = 0
    for w in range(WORKLOADS):
        name = f"synth-w{w:02d}"
        flops = 1e9 * (1 + w)
        eff = 0.1 + 0.03 * w
        rows = []
        for device, law, peak in names:
            if device in drop:
                continue
            i += 1
            noise = random.Random(f"{seed}/{name}/{device}").gauss(0, NOISE)
            value = eff * law * 1e12 / flops * math.exp(noise)
            rows.append(_row(name, device, "cuda", value, flops, peak, i))
        if "Synth CPU" not in drop:
            i += 1
            rows.append(_row(name, "Synth CPU", "cpu", 50.0 / (1 + w), flops, None, i))
        parts[name] = rows
    (folder / "workloads").mkdir(parents=True, exist_ok=True)
    index = {"api_version": 1, "schema_version": 1, "source_sha256": f"synthetic-{seed}",
             "catalogue": {"file": "devices.json", "sha256": "synthetic", "device_count": len(devices)},
             "result_count": sum(len(r) for r in parts.values()), "workloads": []}
    for name, rows in parts.items():
        (folder / "workloads" / name).mkdir(exist_ok=True)
        (folder / "workloads" / name / "1.json").write_text(json.dumps(
            {"api_version": 1, "benchmark": name, "part": 1, "result_count": len(rows), "results": rows}))
        index["workloads"].append({"name": name, "family": "dlbench", "files": [f"workloads/{name}/1.json"],
                                   "outlier_metric": "throughput_samples_per_s", "result_count": len(rows)})
    (folder / "index.json").write_text(json.dumps(index))
    (folder / "devices.json").write_text(json.dumps({"api_version": 1, "devices": devices}))
    return parts


def _load(folder: Path) -> tuple[list[dict], dict]:
    api = Api.at(folder)
    index = load_index(api)
    return workload_rows(api, index), load_catalogue(api, index)


@pytest.fixture(scope="module")
def api_dir(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("api") / "data" / "api" / "v1"
    write_api(folder)
    return folder


@pytest.fixture(scope="module")
def evaluated(api_dir: Path):
    rows, catalogue = _load(api_dir)
    return evaluate(rows, catalogue)


def test_evaluation_recovers_the_law(evaluated) -> None:
    summary, rows = evaluated
    board = summary["boards"]["gpu-compute"]
    # every GPU name is held out and scored (efficiencies 10-43 % of peak: compute-bound)
    assert board["devices"] == len(GPUS) + 1 and board["rows"] == (len(GPUS) + 1) * WORKLOADS
    roof, model = board["methods"]["roofline"], board["methods"]["dlbench"]
    assert roof["mape"] < 4 and roof["within_10"] == 100 and roof["order_accuracy"] == 100
    assert model["mape"] < 6 and model["within_15"] >= 95 and model["order_accuracy"] >= 95
    # the bandwidth ratio ignores the law's peak: far worse
    assert board["methods"]["bandwidth_ratio"]["mape"] > 3 * model["mape"]
    # every GPU's TDP is 300 W and none is limited by it: the model caps no peak
    assert board["power_cap"] == {"min": None, "max": None, "uncapped": len(GPUS) + 1}
    # the CPU has no catalogue entry: nothing predicts it, and it is said so
    assert summary["boards"]["cpu"]["rows"] == 0 and summary["boards"]["cpu"]["held_out_rows"] == WORKLOADS
    assert rows[rows["board"] == "cpu"]["dlbench"].isna().all()


def test_a_catalogue_entry_is_held_out_with_all_its_names(evaluated) -> None:
    _, rows = evaluated
    both = rows[rows["label"].isin(["Synth D (cuda)", "Synth D 80GB (cuda)"])]
    assert set(both["group"]) == {"Synth D (cuda)"}
    # fitted on the 6 other GPUs and the CPU: neither name of D is among the fit devices
    assert set(both["fit_devices"]) == {len(GPUS) - 1 + 1}
    one = both.pivot_table(index="workload", columns="label", values="dlbench")
    assert (one["Synth D (cuda)"] == one["Synth D 80GB (cuda)"]).all()


def test_a_power_cap_is_learned_from_the_other_devices(tmp_path: Path) -> None:
    """Three GPUs cannot hold their datasheet peak within their TDP (the law's peak is min(peak, 0.5 x TDP)):
    the model's cap, fitted without the device held out, is found again, and the capped devices are predicted
    where the datasheet peak alone overshoots them."""
    folder = tmp_path / "api"
    write_api(folder, cap=CAP_K)
    rows, catalogue = _load(folder)
    _, cells, _ = cells_of(observations(rows), Devices.of(catalogue))
    for name in CAPPED:            # two capped devices are left to learn it from
        assert abs(power_cap(cells[cells["group"] != f"{name} (cuda)"]) / CAP_K - 1) < 0.06
    summary, held = evaluate(rows, catalogue)
    board = summary["boards"]["gpu-compute"]
    assert board["power_cap"]["uncapped"] == 0 and 0.47 < board["power_cap"]["min"] <= board["power_cap"]["max"] < 0.53
    capped = held[held["label"].isin([f"{n} (cuda)" for n in CAPPED])]
    model = (capped["dlbench"] / capped["value"] - 1).abs().mean()
    assert len(capped) == len(CAPPED) * WORKLOADS and model < 0.06
    assert (capped["roofline"] / capped["value"] - 1).abs().mean() > 5 * model
    assert board["methods"]["dlbench"]["mape"] < 6 and board["methods"]["dlbench"]["order_accuracy"] >= 95


def test_no_held_out_device_leaks(tmp_path: Path, api_dir: Path) -> None:
    """Predicting a device from a dataset without its rows gives the evaluation's rows file, exactly."""
    out = tmp_path / "held-out.csv"
    r = run_tool("predict", "--evaluate", "--data", str(api_dir), "--rows-out", str(out), "--format", "json")
    assert r.returncode == 0, r.stderr
    summary = json.loads(r.stdout)
    assert summary["boards"]["gpu-compute"]["methods"]["dlbench"]["mape"] < 6
    assert "Not comparable with" in summary["notes"]["comparable"]
    held = [row for row in csv.DictReader(io.StringIO(out.read_text())) if row["device"] == "Synth B (cuda)"]
    assert len(held) == WORKLOADS
    without = tmp_path / "without"
    write_api(without, drop={"Synth B"})
    rows, catalogue = _load(without)
    predictor = Predictor.fit(rows, catalogue, errors={})
    answers = predictor.predict_many("Synth B (cuda)", [(row["workload"], "fp16") for row in held])
    for row, answer in zip(held, answers):
        assert answer["method"] == "dlbench"
        assert f"{answer['value']:.10g}" == row["dlbench"]
    # and the command says the same for one of them
    r = run_tool("predict", "--device", "synth b", "--workload", held[0]["workload"], "--data", str(without),
                 "--format", "json")
    assert r.returncode == 0, r.stderr
    assert f"{json.loads(r.stdout)['value']:.10g}" == held[0]["dlbench"]


def test_evaluation_is_deterministic(api_dir: Path, evaluated) -> None:
    rows, catalogue = _load(api_dir)
    again = evaluate(rows, catalogue)
    assert rows_csv(again[1]) == rows_csv(evaluated[1])
    assert errors_json(again[0]) == errors_json(evaluated[0])


def test_predictor_interface_and_stored_errors(api_dir: Path, evaluated) -> None:
    rows, catalogue = _load(api_dir)
    errors = json.loads(errors_json({**evaluated[0], "dataset": {"source_sha256": "synthetic-0"}}))
    p = Predictor.fit(rows, catalogue, errors=errors)
    answer = p.predict("Synth Unmeasured (cuda)", "synth-w03")     # a catalogue entry without results
    assert set(answer) >= {"value", "metric", "unit", "method", "error"}
    assert answer["metric"] == "throughput_samples_per_s" and answer["unit"] == "samples/s"
    expected = (0.1 + 0.03 * 3) * 250e12 / 4e9
    assert abs(answer["value"] / expected - 1) < 0.1
    assert answer["error"]["scoreboard"] == "gpu-compute"
    assert answer["error"]["mape"] == errors["boards"]["gpu-compute"]["methods"]["dlbench"]["mape"]
    many = p.predict_many("Synth Unmeasured (cuda)", [("synth-w01", None), ("no-such-workload", None),
                                                        ("synth-w01", "int8")])
    assert many[0] is not None and many[1] is None and many[2] is None
    assert p.predict("Synth CPU (cpu)", "synth-w01") is None            # no catalogue entry


def test_command_prediction_and_its_errors(tmp_path: Path, api_dir: Path) -> None:
    errors = tmp_path / "errors.json"
    r = run_tool("predict", "--evaluate", "--data", str(api_dir), "--write-errors", str(errors))
    assert r.returncode == 0, r.stderr
    assert "== gpu-compute" in r.stdout and "dlbench vs loglinear" in r.stdout and "noise floor" in r.stdout
    for method in ("roofline", "flops_ratio", "bandwidth_ratio", "sqrt_rule", "loglinear", "dlbench"):
        assert method in r.stdout
    r = run_tool("predict", "--device", "Synth Unmeasured", "--workload", "synth-w02", "--data", str(api_dir),
                 "--errors", str(errors))
    assert r.returncode == 0, r.stderr
    assert "predicted throughput_samples_per_s" in r.stdout and "method: dlbench" in r.stdout
    assert "measured error of dlbench on gpu-compute rows" in r.stdout


def test_command_errors(tmp_path: Path, api_dir: Path) -> None:
    r = run_tool("predict", "--help")
    assert r.returncode == 0 and "--evaluate" in r.stdout and "--rows-out" in r.stdout
    r = run_tool("predict", "--device", "Synth D", "--workload", "synth-w01", "--data", str(api_dir))
    assert r.returncode == 2
    assert "ambiguous" in r.stderr and "Synth D (cuda)" in r.stderr and "Synth D 80GB (cuda)" in r.stderr
    r = run_tool("predict", "--device", "Synth A", "--workload", "synth-w1", "--data", str(api_dir))
    assert r.returncode == 2 and "not a workload" in r.stderr and "synth-w01" in r.stderr
    r = run_tool("predict", "--device", "Nonesuch 9000", "--workload", "synth-w01", "--data", str(api_dir))
    assert r.returncode == 1 and "no device of that name" in r.stderr and "Traceback" not in r.stderr
    r = run_tool("predict", "--device", "Synth CPU", "--workload", "synth-w01", "--data", str(api_dir))
    assert r.returncode == 1 and "no catalogue entry" in r.stderr
    r = run_tool("predict", "--evaluate", "--device", "Synth A", "--data", str(api_dir))
    assert r.returncode == 2 and "--evaluate" in r.stderr
    r = run_tool("predict", "--evaluate", "--data", str(tmp_path / "nowhere"))
    assert r.returncode == 1 and "index.json" in r.stderr and "Traceback" not in r.stderr
