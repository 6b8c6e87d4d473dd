"""Energy over the timed part (dlbench.runner.energy): RAPL read from powercap trees written here (several
packages, a counter that wraps, an unreadable domain), the NVML arithmetic (counter difference, trapezoid), the
summary over repeats, and two runner runs: one whose powercap tree a thread here advances (a reading, in a
fragment that validates) and one on this machine's own sensors (a reading, or missing with the reason)."""

from __future__ import annotations

import os
import threading
from pathlib import Path

import pytest

from conftest import run_tool
from dlbench.contract.tomlio import read_toml
from dlbench.runner import energy
from dlbench.runner.backends.base import Device
from dlbench.runner.system import nvml_energy, powercap
from dlbench.runner.timing import PhaseTimer

BIG = 262_143_328_850  # a usual max_energy_range_uj


def domain(root: Path, folder: str, name: str, energy_uj: int = 0, max_uj: int = BIG) -> Path:
    d = root / folder
    d.mkdir(parents=True)
    (d / "name").write_text(name + "\n")
    (d / "energy_uj").write_text(f"{energy_uj}\n")
    (d / "max_energy_range_uj").write_text(f"{max_uj}\n")
    return d


def set_uj(d: Path, value: int) -> None:
    """Write the counter as the kernel shows it: the whole new value at once."""
    tmp = d / "energy_uj.new"
    tmp.write_text(f"{value}\n")
    os.replace(tmp, d / "energy_uj")


@pytest.fixture
def tree(tmp_path, monkeypatch) -> Path:
    """A two-package machine as /sys/class/powercap lists it: packages, their sub-domains, an MMIO duplicate,
    a platform (psys) domain and the control-type folder; DLBENCH_POWERCAP_ROOT points at it."""
    root = tmp_path / "powercap"
    (root / "intel-rapl").mkdir(parents=True)
    domain(root, "intel-rapl:0", "package-0", 1_000_000)
    domain(root, "intel-rapl:0:0", "core", 5_000)
    domain(root, "intel-rapl:0:1", "dram", 7_000)
    domain(root, "intel-rapl:1", "package-1", 2_000_000, max_uj=10_000_000)
    domain(root, "intel-rapl:2", "psys", 9_000_000)
    domain(root, "intel-rapl-mmio:0", "package-0", 3_000)
    monkeypatch.setenv(powercap.ROOT_ENV, str(root))
    return root


CPU = Device("cpu", None)


def test_package_domains_only_and_what_they_cover(tree):
    found = powercap.packages()
    assert [(d.path.name, d.package, d.max_range_uj) for d in found] == [
        ("intel-rapl:0", 0, BIG), ("intel-rapl:1", 1, 10_000_000)]
    assert powercap.covers(found).startswith("CPU packages 0, 1 (RAPL package domains")
    assert "DRAM" in powercap.covers(found)


def test_packages_summed_with_a_counter_that_wraps_between_the_reads(tree):
    meter = energy.meter_for(CPU, platform="linux")
    assert meter.missing is None and meter.sensor.sensor == "rapl"
    meter.start()
    set_uj(tree / "intel-rapl:0", 1_000_000 + 3_000_000)   # +3 J
    set_uj(tree / "intel-rapl:1", 500_000)                 # wrapped: +8 J to the top, +0.5 J after
    set_uj(tree / "intel-rapl:0:1", 99_000_000)            # DRAM: not counted
    meter.stop(0.5, samples=1150)
    meter.close()
    metrics, entry = meter.reading()
    assert metrics == {"energy_j": 11.5, "average_power_w": 23.0, "samples_per_joule": 100.0}
    assert entry["sensor"] == "rapl" and entry["timed_s"] == 0.5 and "packages 0, 1" in entry["covers"]
    assert "sample_interval_ms" not in entry and "missing" not in entry


def test_reads_in_between_count_several_wraps_in_one_lap(tree):
    meter = energy.meter_for(CPU, platform="linux")
    meter.start()
    pkg1 = tree / "intel-rapl:1"
    for value in (9_000_000, 1_000_000, 9_500_000, 2_000_000):  # two wraps, each seen by a read in between
        set_uj(pkg1, value)
        meter.sensor._read()  # what the lap's polling thread does every RAPL_POLL_S
    meter.stop(2.0)
    meter.close()
    metrics, _ = meter.reading()
    # package 1: 2 -> 9 (+7), -> 1 (+2 wrapped), -> 9.5 (+8.5), -> 2 (+2.5 wrapped) = 20 J; package 0 still
    assert metrics["energy_j"] == 20.0 and "samples_per_joule" not in metrics


def test_several_laps_add_up_through_the_phase_timer(tree):
    meter = energy.meter_for(CPU, platform="linux")
    timer = PhaseTimer(lambda: None, clock=iter([0.0, 1.0, 1.0, 3.0]).__next__)
    timer.meters["compute"] = meter
    value = 1_000_000
    for epoch in range(2):
        with timer.phase("compute", samples=600):
            value += 4_000_000
            set_uj(tree / "intel-rapl:0", value)
    with pytest.raises(RuntimeError):
        with timer.phase("compute", samples=600):  # a lap that raises adds nothing
            set_uj(tree / "intel-rapl:0", value + 50_000_000)
            raise RuntimeError("boom")
    meter.close()
    assert timer.laps["compute"] == [1.0, 2.0]
    metrics, entry = meter.reading()
    assert metrics == {"energy_j": 8.0, "average_power_w": round(8 / 3, 6), "samples_per_joule": 150.0}
    assert entry["timed_s"] == 3.0


def test_a_counter_that_did_not_move_and_a_short_timed_part_are_missing(tree):
    still = energy.meter_for(CPU, platform="linux")
    still.start()
    still.stop(1.0, 100)
    assert still.reading() == ({}, {"missing": "the rapl counter did not advance over the 1.000 s timed part"})
    short = energy.meter_for(CPU, platform="linux")
    short.start()
    set_uj(tree / "intel-rapl:0", 9_000_000)
    short.stop(0.02, 100)
    metrics, entry = short.reading()
    assert metrics == {} and entry["missing"].startswith("the timed part lasted 0.020 s, shorter than the 0.1 s")
    assert energy.EnergyMeter(missing="x").reading() == ({}, {"missing": "x"})
    assert energy.meter_for(CPU, platform="linux").reading() == ({}, {"missing": "the timed part did not complete"})


def test_an_unreadable_domain_makes_the_energy_missing_with_the_reason(tree):
    (tree / "intel-rapl:1" / "energy_uj").unlink()
    (tree / "intel-rapl:1" / "energy_uj").mkdir()
    meter = energy.meter_for(CPU, platform="linux")
    assert meter.sensor is None and meter.missing.startswith(f"cannot read {tree / 'intel-rapl:1' / 'energy_uj'}")
    assert meter.reading() == ({}, {"missing": meter.missing})


@pytest.mark.skipif(not hasattr(os, "geteuid") or os.geteuid() == 0, reason="root reads files whatever their mode")
def test_a_root_only_counter_says_so(tree):
    (tree / "intel-rapl:0" / "energy_uj").chmod(0)
    missing = energy.meter_for(CPU, platform="linux").missing
    assert missing.endswith("is readable by root only (permission denied): run as root or make it readable")


def test_the_permission_reason_in_words(tmp_path):
    path = tmp_path / "energy_uj"
    assert powercap._why(path, PermissionError(13, "Permission denied")) == (
        f"{path} is readable by root only (permission denied): run as root or make it readable")


def test_no_powercap_or_no_package_domain(tmp_path, monkeypatch):
    monkeypatch.setenv(powercap.ROOT_ENV, str(tmp_path / "absent"))
    assert energy.meter_for(CPU, platform="linux").missing == (
        f"no readable sensor: {tmp_path / 'absent'} does not exist (no Linux powercap on this machine)")
    domain(tmp_path / "empty", "intel-rapl:0", "psys")
    monkeypatch.setenv(powercap.ROOT_ENV, str(tmp_path / "empty"))
    assert energy.meter_for(CPU, platform="linux").missing == (
        f"no readable sensor: {tmp_path / 'empty'} has no intel-rapl package domain")


def test_apple_and_other_devices_are_missing_with_the_reason():
    assert energy.meter_for(Device("mps", None), platform="darwin").missing == energy.APPLE
    assert energy.meter_for(CPU, platform="darwin").missing == energy.APPLE
    assert energy.APPLE.startswith("Apple: powermetrics, the only energy reader on macOS, needs root")
    assert energy.meter_for(CPU, platform="win32").missing.endswith("Linux powercap (RAPL) only, not on win32")
    assert energy.meter_for(Device("rocm", None)).missing == "no energy sensor is read for rocm devices"


def test_a_cuda_device_gets_nvml_or_the_reason_it_cannot():
    """Real NVML where there is a driver (a sensor), else the reason (no pynvml, no driver, no such GPU)."""
    meter = energy.meter_for(Device("cuda", None, index=0))
    try:
        assert (meter.missing or "") != "" or meter.sensor.sensor in ("nvml-energy", "nvml-power")
    finally:
        meter.close()


def test_the_nvml_arithmetic():
    assert nvml_energy.counter_joules(1_000, 251_500) == 250.5
    assert nvml_energy.counter_joules(5_000, 4_000) is None  # driver reloaded: no reading
    # 0-1 s at 100 -> 200 W (150 J), 1-1.5 s at 200 W (100 J), 1.5-3.5 s at 200 -> 0 W (200 J)
    assert nvml_energy.trapezoid_joules([(0.0, 100.0), (1.0, 200.0), (1.5, 200.0), (3.5, 0.0)]) == 450.0
    assert nvml_energy.trapezoid_joules([(2.0, 300.0)]) == 0.0
    assert nvml_energy.nvml_target(1, None) == 1
    assert nvml_energy.nvml_target(1, "3,2") == 2
    assert nvml_energy.nvml_target(0, "GPU-8d2c1b1e-0000") == "GPU-8d2c1b1e-0000"
    with pytest.raises(nvml_energy.Unavailable, match="MIG instance"):
        nvml_energy.nvml_target(0, "MIG-1234")
    with pytest.raises(nvml_energy.Unavailable, match="lists no device 2"):
        nvml_energy.nvml_target(2, "0,1")


def test_summary_over_repeats():
    read = lambda t: {"sensor": "rapl", "covers": "CPU package 0", "timed_s": t}  # noqa: E731
    metrics = {"energy_j": 10.0, "average_power_w": 5.0, "samples_per_joule": 3.0, "step_ms": 1.0}
    assert energy.summary([read(2.0), read(1.0), read(4.0)], dict(metrics)) == {**read(2.0)}
    stats = {"energy_j": {}, "step_ms": {}}
    kept = dict(metrics)
    assert energy.summary([read(2.0), {"missing": "too short"}], kept, stats) == {"missing": "too short"}
    assert kept == {"step_ms": 1.0} and stats == {"step_ms": {}}
    assert energy.summary([None], {}) is None
    some = energy.summary([read(1.0), None], {"energy_j": 1.0})
    assert some == {"missing": "the energy was read in some repeats only"}
    assert energy.summary([read(1.0)], {})["missing"].startswith("the result failed after its timed part")


def _writer(folder: Path, stop: threading.Event) -> None:
    """Advance a package counter by 1 J every 10 ms (at most 100 W), as the kernel would."""
    value = 0
    while not stop.wait(0.01):
        value += 1_000_000
        set_uj(folder, value)


def _step(out: Path, env: dict | None = None, iterations: str = "60"):
    done = run_tool("run", "fwdbwd-lenet5", "--framework", "torch", "--device", "cpu", "--batch-size", "256",
                    "--warmup", "1", "--iterations", iterations, "--out", str(out), env=env, timeout=300)
    assert done.returncode == 0, done.stdout + done.stderr
    fragment = next(out.iterdir())
    checked = run_tool("validate", str(fragment))
    assert checked.returncode == 0, checked.stdout + checked.stderr
    return done, read_toml(fragment, "fragment").data["results"][0]


def test_a_run_records_the_energy_of_its_timed_steps(tmp_path):
    root = tmp_path / "powercap"
    pkg = domain(root, "intel-rapl:0", "package-0", 0)
    stop = threading.Event()
    writer = threading.Thread(target=_writer, args=(pkg, stop), daemon=True)
    writer.start()
    try:
        done, r = _step(tmp_path / "out", {powercap.ROOT_ENV: str(root)})
    finally:
        stop.set()
        writer.join()
    e, m = r["energy"], r["metrics"]
    if "missing" in e:  # only on a machine about 8x faster than this one (0.8 s)
        assert e["missing"].startswith("the timed part lasted") and "energy_j" not in m
        return
    assert e["sensor"] == "rapl" and e["covers"].startswith("CPU package 0 (") and e["timed_s"] > 0
    assert 0 < m["energy_j"] and m["average_power_w"] < 200  # the writer's 100 W, and the meter's reads
    assert m["average_power_w"] == pytest.approx(m["energy_j"] / e["timed_s"], rel=1e-4)
    assert m["samples_per_joule"] == pytest.approx(256 * 60 / m["energy_j"], rel=1e-4)
    assert e["timed_s"] == pytest.approx(256 * 60 / m["throughput_samples_per_s"], rel=1e-2)
    assert "(energy, fwdbwd-lenet5: " in done.stdout


def test_a_run_on_this_machine_records_a_reading_or_why_not(tmp_path):
    done, r = _step(tmp_path / "out", iterations="2")
    e = r["energy"]
    if "missing" in e:
        assert e["missing"] and "energy_j" not in r["metrics"]
        assert f"(energy not recorded: {e['missing']})" in done.stdout
    else:
        assert e["sensor"] == "rapl" and r["metrics"]["energy_j"] > 0
