"""`tools/compare.py` on batch-size sweeps, several devices and energy (tests/capacitydata.py): the capacity
metrics across devices, energy in its setting, the context columns, and `--curve` in every format."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest

import capacitydata as cap
from conftest import run_tool
from dlbench.analysis.compare import compare, setting_keys
from dlbench.analysis.frame import load_results
from dlbench.store.synthetic import write_dataset


@pytest.fixture(scope="module")
def root(tmp_path_factory) -> Path:
    where = tmp_path_factory.mktemp("capacity")
    write_dataset(where, cap.runs())
    return where


@pytest.fixture(scope="module")
def df(root):
    return load_results(root)


def test_the_frame_has_the_sweep_energy_and_global_batch_columns(df):
    sweep = df[df["sweep_points"].notna()].set_index("device")
    assert sweep.loc[cap.H100, "sweep_points"] == 15 and sweep.loc[cap.RTX4090, "sweep_smallest_oom"] == 208
    assert sweep.loc[cap.H100, "sweep_largest_fit"] == sweep.loc[cap.H100, "largest_fitting_batch"] == 832
    assert sweep.loc[cap.H100, "energy_sensor"] == "nvml-energy" and sweep.loc[cap.RTX4090, "energy_missing"] == cap.ENERGY_MISSING
    assert str(df["memory_per_sample_bytes"].dtype) == "float64" and str(df["largest_fitting_batch"].dtype) == "Int64"
    assert df["global_batch_size"].dropna().tolist() == [512]


def test_capacity_is_compared_across_batch_sizes_and_energy_only_at_equal_steps(df):
    assert "batch_size" not in setting_keys("largest_fitting_batch") and "steps" not in setting_keys("largest_fitting_batch")
    assert {"epochs", "steps", "batch_size"} <= set(setting_keys("energy_j"))
    c = compare(df, "largest_fitting_batch", baseline="4090")
    assert c.higher_is_better and c.unit == "samples" and len(c.settings()) == 1
    by = {r["device_label"]: r for r in c.rows}
    assert by[cap.H100_LABEL]["median"] == 832 and by[cap.H100_LABEL]["speedup"] == pytest.approx(832 / 192)
    memory = compare(df, "memory_per_sample_bytes", baseline="4090")
    assert not memory.higher_is_better and memory.unit == "bytes"
    assert {r["device_label"]: r["speedup"] for r in memory.rows}[cap.H100_LABEL] == pytest.approx(100 / 90)
    energy = compare(df, "energy_j")
    assert energy.unit == "J" and not energy.higher_is_better
    assert all(r["setting"]["steps"] == 50 for r in energy.rows)


def test_the_table_shows_capacity_scaling_and_energy_beside_any_metric(root):
    done = run_tool("compare", "--root", str(root), "--metric", "throughput_samples_per_s", "--format", "csv")
    assert done.returncode == 0, done.stderr
    rows = list(csv.DictReader(io.StringIO(done.stdout)))
    two = next(r for r in rows if r["device_count"] == "2")
    assert (two["scaling_efficiency"], two["samples_per_joule"], two["average_power_w"]) == ("0.9", "3.6", "1200.0")
    assert float(two["per_device"]) == pytest.approx(float(two["median"]) / 2)   # throughput: a system total
    text = run_tool("compare", "--root", str(root), "--metric", "largest_fitting_batch", "--baseline", "4090")
    assert text.returncode == 0, text.stderr
    lines = text.stdout.splitlines()
    assert lines[0].startswith("largest_fitting_batch in samples, higher is better") and "across batch sizes" in lines[0]
    assert "samples/J" in text.stdout and "average power (W)" in text.stdout
    h100 = next(line for line in lines if line.startswith(cap.H100_LABEL))
    assert h100[len(cap.H100_LABEL):].split()[:8] == ["measured", "1", "832", "832", "832", "0", "4.33x", "4.286"]


def test_curve_shows_every_point_of_each_sweep(root, tmp_path):
    text = run_tool("compare", "--root", str(root), "--curve")
    assert text.returncode == 0, text.stderr
    assert (f"{cap.H100_LABEL}, measured, run " in text.stdout
            and "largest batch that fits 832, out of memory at 864 (resolution 32)" in text.stdout)
    assert "device memory = 3072 MiB + 90 MiB per sample (least squares over 12 points, residual 0 MiB)" in text.stdout
    as_json = json.loads(run_tool("compare", "--root", str(root), "--curve", "--format", "json").stdout)
    curves = {c["device_label"]: c for c in as_json["curves"]}
    assert list(curves) == [cap.H100_LABEL, cap.RTX4090_LABEL]
    for device, label in ((cap.H100, cap.H100_LABEL), (cap.RTX4090, cap.RTX4090_LABEL)):
        order, ooms, _ = cap.SWEEPS[device]
        points = curves[label]["points"]
        assert [p["batch_size"] for p in points] == sorted(order)
        assert [p["tried"] for p in points] == [order.index(b) + 1 for b in sorted(order)]
        assert {p["batch_size"] for p in points if p["status"] == "oom"} == ooms
    out = run_tool("compare", "--root", str(root), "--curve", "--format", "csv", "--device", "4090",
                   "--plot", str(tmp_path / "a.svg"))
    assert out.returncode == 0, out.stderr
    lines = list(csv.DictReader(io.StringIO(out.stdout)))
    assert len(lines) == 12 and {r["device_label"] for r in lines} == {cap.RTX4090_LABEL}
    assert lines[-1]["batch_size"] == "256" and lines[-1]["status"] == "oom" and lines[-1]["result_status"] == "ok"
    again = run_tool("compare", "--root", str(root), "--curve", "--device", "4090", "--plot", str(tmp_path / "b.svg"))
    svg = (tmp_path / "a.svg").read_bytes()
    assert svg == (tmp_path / "b.svg").read_bytes() and b"NVIDIA RTX 4090 (cuda)" in svg and again.returncode == 0
    none = run_tool("compare", "--root", str(root), "--curve", "--batch-size", str(cap.COMMON_BATCH))
    assert none.returncode == 1 and "none of the selected results is a batch-size sweep" in none.stderr
    assert "Traceback" not in none.stderr
