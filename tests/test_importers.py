"""tools/import_seeds.py and tools/import_legacy.py on fixtures written here (plus the real files when present)."""

from __future__ import annotations

from pathlib import Path

import pytest
import tomli

from dlbench.contract.validate import validate_run
from dlbench.importers.common import accelerator, cpu_identity
from dlbench.importers.legacy import import_legacy, line_map
from dlbench.importers.units import UnitError, parse_bandwidth, parse_count, parse_frequency_mhz, parse_size

from conftest import run_tool

SEEDS = Path("/work/shared/seeds")
LEGACY = Path("/work/shared/reference/legacy-benchmark.toml")

SUMMARY_SEED = """\
# Awesome-Benchmarks-DeepLearning

Intro text.

### MNIST
LeNet-5 on MNIST.

| Dataset   | GPU           | CPU                   | RAM  | Epoch / Batch | Total s | Load s | Calc s | Acc  |
|-----------|---------------|-----------------------|------|---------------|---------|-------|--------|------|
| MNIST     |               | M1 2020 x8            | 8GB  | 40 / 512      | 227.3   | 0.0   | 164.4  | .987 |
| MNIST     | Metal         | M1 2020 x8            | 8GB  | 40 / 512      | 106.0   | 20.0  | 21.6   | .989 |
| MNIST     | RTX 3050 8GB  | AMD Ryzen5 3.6GHz x12 | 32GB | 40 / 512      | 36.4    | 3.7   | 10.9   | .989 |
| MNIST     | RTX 3050 8GB  | AMD Ryzen5 3.6GHz x12 | 32GB | 40 / 512      | fast    | 3.7   | 10.9   | .989 |

Copyright 2025 <br />
"""

MACHINES_SEED = """\
# Benchmark-ImageNet
Intro.

### Benchmark results
___Single GPU___ <br />
Training: ??.?? s <br />

# Benchmark-MNIST
LeNet on MNIST.

### Workflow used here
Training was performed using SGD with 100 images per batch over 20,000 iterations. <br />

### Hardware used here
___Machine 1___ <br />
CPU: Pentium G4400 <br />
RAM: 8GB DDR4 <br />
GPU: 1x GTX 1050 <br />
HDD: HGST 5400rpm <br />

### Benchmark results
___Caffe 2___ <br />
Machine 1 <br />
Training: 267.68 s <br />
Accuracy: 98.77 % <br />

In both cases, Ubuntu 16.04 LTS with Cuda 8.0 + cuDNN 5.1 + NCCL 2 was used. <br />
"""

TESTS_SEED = """\
# Deep-Learning-Hardware-Benchmark

## Results
Component | Description
| ------------ | ------------- |
| CPU | Intel(R) Core(TM) i7-10750H @2.60 GHz |
| GPU | NVIDIA GeForce RTX 2060 5980 MB |
| Memory | 16384 MB RAM |

Test | Execution Time (s) | Inference Time (s) | Error
| ------------ | ------------- | ------------- | ------------- |
|Original MNIST | 3553 | No error |
| Fashion MNIST | 3770 | Out of memory |
"""


def write(tmp: Path, name: str, text: str) -> Path:
    path = tmp / name
    path.write_text(text, encoding="utf-8")
    return path


def fragments(folder: Path) -> list[dict]:
    return [tomli.loads(p.read_text()) for p in sorted(folder.glob("*.toml"))]


def by_device(runs: list[dict]) -> dict[str, dict]:
    return {f"{r['results'][0]['device_name']} ({r['results'][0]['device_kind']})": r for r in runs}


# --- units and names --------------------------------------------------------------------------------

def test_units():
    assert parse_size("8GB") == 8 * 2**30 and parse_size("1750MB") == 1750 * 2**20
    assert parse_size("5980 MB") == 5980 * 2**20 and parse_size("12GiB") == 12 * 2**30 and parse_size(512) == 512
    assert parse_size("8MB") == parse_size("8MiB") == 8 * 2**20 and parse_size("1KB") == 1024
    assert parse_bandwidth("336.5GB/s") == 336.5e9 and parse_bandwidth("10GiB/s") == 10 * 2**30
    assert parse_frequency_mhz("3.6GHz") == 3600.0 and parse_frequency_mhz("3400 MHz") == 3400.0
    assert parse_count("3072") == 3072 and parse_count(2) == 2
    for bad, parse in (("8 parsecs", parse_size), ("GB", parse_size), ("336.5GB", parse_bandwidth),
                       ("fast", parse_frequency_mhz), ("0", parse_count), ("3.5", parse_count), (True, parse_size)):
        with pytest.raises(UnitError):
            parse(bad)


def test_names():
    assert accelerator("RTX 3050 8GB").normalized_name == "NVIDIA RTX 3050"
    assert accelerator("NVIDIA GeForce RTX 2060 5980 MB").normalized_name == "NVIDIA RTX 2060"
    assert accelerator("Nvidia Titan X").normalized_name == "NVIDIA Titan X"
    assert accelerator("GTX 1080 Ti").kind == "cuda"
    assert accelerator("Radeon RX 6800").normalized_name == "AMD Radeon RX 6800"
    assert accelerator("Mystery Card").kind == "other"
    assert cpu_identity("M1 2020") == ("Apple M1", "Apple")
    assert cpu_identity("AMD Ryzen5 3.6GHz") == ("AMD Ryzen 5 3.6GHz", "AMD")
    assert cpu_identity("Pentium G4400") == ("Pentium G4400", None)
    assert cpu_identity("Intel(R) Core(TM) i7-2600K CPU @ 3.40GHz") == ("Intel Core i7-2600K", "Intel")


# --- seeds ------------------------------------------------------------------------------------------

def test_summary_table_seed(tmp_path):
    seed = write(tmp_path, "awesome.md", SUMMARY_SEED)
    out = tmp_path / "out"
    res = run_tool("import_seeds", str(seed), "--out", str(out))
    assert res.returncode == 0, res.stderr
    assert "awesome.md:13: warning: 'fast' is not a number" in res.stderr    # the bad row, by line
    runs = fragments(out)
    assert len(runs) == 3
    devices = by_device(runs)
    assert set(devices) == {"Apple M1 (cpu)", "Apple M1 (mps)", "NVIDIA RTX 3050 (cuda)"}
    gpu = devices["NVIDIA RTX 3050 (cuda)"]
    assert gpu["results"][0]["metrics"] == {"total_s": 36.4, "load_s": 3.7, "compute_s": 10.9, "accuracy": 0.989}
    assert (gpu["results"][0]["batch_size"], gpu["results"][0]["epochs"]) == (512, 40)
    assert gpu["results"][0]["benchmark"] == "mnist-lenet5" and gpu["results"][0]["precision"] == "unknown"
    assert gpu["system"]["accelerators"] == [{"kind": "cuda", "name": "RTX 3050", "normalized_name": "NVIDIA RTX 3050",
                                              "count": 1, "vendor": "NVIDIA", "memory_bytes": 8 * 2**30}]
    assert gpu["system"]["cpu"] == {"model": "AMD Ryzen 5 3.6GHz", "vendor": "AMD", "logical_cores": 12}
    assert gpu["system"]["memory_bytes"] == 32 * 2**30
    prov = gpu["provenance"]
    assert prov["kind"] == "imported"
    assert prov["source"] == {"title": "Awesome-Benchmarks-DeepLearning", "published": "2025", "section": "MNIST"}
    assert prov["original"]["CPU"] == "AMD Ryzen5 3.6GHz x12" and prov["original"]["Acc"] == ".989"
    for run in runs:   # nothing invented: no timestamps, seed or command
        assert not {"started_at", "finished_at"} & set(run) and not {"seed", "command"} & set(run["provenance"])
        assert validate_run(run) == []
    m1 = devices["Apple M1 (mps)"]
    assert m1["system"]["accelerators"][0]["kind"] == "mps" and m1["results"][0]["metrics"]["compute_s"] == 21.6
    # The same input gives the same fragments (content-derived names): a re-import changes nothing.
    names = sorted(p.name for p in out.iterdir())
    assert run_tool("import_seeds", str(seed), "--out", str(out)).returncode == 0
    assert sorted(p.name for p in out.iterdir()) == names
    res = run_tool("validate", "--root", str(tmp_path), *[str(p) for p in out.iterdir()])
    assert res.returncode == 0, res.stderr


def test_machines_seed_and_unpublished_figures(tmp_path):
    seed = write(tmp_path, "bench.md", MACHINES_SEED)
    out = tmp_path / "out"
    res = run_tool("import_seeds", str(seed), "--out", str(out))
    assert res.returncode == 0, res.stderr
    assert "bench.md:5: warning: 'Single GPU': figures not published (??.??): nothing imported" in res.stderr
    [run] = fragments(out)
    result = run["results"][0]
    assert (result["benchmark"], result["framework"], result["device_name"]) == ("mnist-lenet", "caffe2",
                                                                                  "NVIDIA GTX 1050")
    assert result["metrics"] == {"compute_s": 267.68, "accuracy": 0.9877}
    assert (result["batch_size"], result["steps"]) == (100, 20000) and "epochs" not in result
    assert run["system"]["software"] == {"cuda": "8.0", "cudnn": "5.1"}
    assert run["system"]["os"] == {"name": "Linux (Ubuntu 16.04 LTS)", "version": "16.04"}
    assert run["system"]["storage"] == "HGST 5400rpm" and run["system"]["memory_bytes"] == 8 * 2**30
    assert run["provenance"]["original"]["Training"] == "267.68 s"
    assert run["provenance"]["source"] == {"title": "Benchmark-MNIST", "section": "Benchmark results"}


def test_tests_seed_with_short_rows(tmp_path):
    seed = write(tmp_path, "dlhb.md", TESTS_SEED)
    out = tmp_path / "out"
    res = run_tool("import_seeds", str(seed), "--out", str(out))
    assert "dlhb.md:12: warning: row has 3 cells for 4 columns: read 'No error' as 'Error'" in res.stderr
    from dlbench.importers.seeds import import_seed
    cands = {c.line: c.run for c in import_seed(seed, "dlhb.md").candidates}
    ok, oom = cands[12]["results"][0], cands[13]["results"][0]
    assert ok["status"] == "ok" and ok["metrics"] == {"total_s": 3553.0} and ok["benchmark"] == "mnist-thesis-cnn"
    assert oom["status"] == "oom" and oom["message"] == "Out of memory"
    assert "batch_size" not in ok                          # not published: absent, never invented
    acc = cands[12]["system"]["accelerators"][0]
    assert (acc["normalized_name"], acc["memory_bytes"]) == ("NVIDIA RTX 2060", 5980 * 2**20)
    if validate_run(cands[12]):   # the schema requires a batch size the source does not publish
        assert res.returncode == 1 and not out.exists()
        assert "not imported: not schema-valid: results[*].batch_size" in res.stderr
    else:
        assert res.returncode == 0 and len(fragments(out)) == 2


def test_seed_errors(tmp_path):
    other = write(tmp_path, "notes.md", "# Shopping list\n\n| a | b |\n|---|---|\n| 1 | 2 |\n")
    res = run_tool("import_seeds", str(other), "--out", str(tmp_path / "out"))
    assert res.returncode == 1
    assert "notes.md:1: warning: not a known seed document (its first heading is '# Shopping list'" in res.stderr
    res = run_tool("import_seeds", str(tmp_path / "missing.md"))
    assert res.returncode == 2 and "no such file" in res.stderr
    binary = tmp_path / "bin.md"
    binary.write_bytes(b"\xff\xfe\x00")
    res = run_tool("import_seeds", str(binary), "--out", str(tmp_path / "out"))
    assert res.returncode == 1 and "cannot read the file" in res.stderr and "Traceback" not in res.stderr


@pytest.mark.skipif(not SEEDS.is_dir(), reason="the seed documents are not on this machine")
def test_real_seeds(tmp_path):
    res = run_tool("import_seeds", str(SEEDS), "--out", str(tmp_path))
    assert res.returncode == 0, res.stderr
    runs = fragments(tmp_path)
    lenet5 = {k: r for k, r in by_device(runs).items() if r["results"][0]["benchmark"] == "mnist-lenet5"}
    assert sorted(lenet5) == ["AMD Ryzen 5 3.6GHz (cpu)", "Apple M1 (cpu)", "Apple M1 (mps)", "NVIDIA RTX 3050 (cuda)"]
    assert lenet5["Apple M1 (cpu)"]["results"][0]["metrics"]["total_s"] == 227.3
    lenet = [r for r in runs if r["results"][0]["benchmark"] == "mnist-lenet"]
    assert sorted((r["results"][0]["framework"], r["results"][0]["device_name"], r["results"][0]["metrics"]["compute_s"])
                  for r in lenet) == [("caffe2", "NVIDIA GTX 1050", 267.68), ("caffe2", "NVIDIA GTX 1080 Ti", 91.68),
                                      ("tensorflow", "NVIDIA GTX 1050", 282.46), ("tensorflow", "NVIDIA GTX 1080 Ti", 106.55)]


# --- legacy layout ----------------------------------------------------------------------------------

LEGACY_FIXTURE = """\
# Benchmarks. More information can be found at https://github.com/example/old-benchmarks

[gpu-box]
  name = "Nvidia Titan X"
  type = "GPU"

  [gpu-box.host]
    os = "linux/arch"
    cpu = "Intel(R) Core(TM) i7-2600K CPU @ 3.40GHz"
    cores = "8"
    cache = "8MB"
    ram = "8 parsecs"

  [[gpu-box.devices]]
    name = "Nvidia Titan X"
    memory = "12GB"
    cores = "3072"
    memory_bandwith = "336.5GB/s"
    quantity = 1

  [[gpu-box.models]]
    name = "Alexnet"
    type = "model"

    [[gpu-box.models.frameworks]]
      name = "Leaf"
      version = "0.2"
      forward = 31
      backward = 71
      memory = "1750MB"

      [[gpu-box.models.frameworks.libraries]]
        name = "cuDNN"
        version = "3"

    [[gpu-box.models.frameworks]]
      name = "Torch"
      version = "19.01.2016"
      forward = 33
      backward = 66
      memory = "a lot"

      [[gpu-box.models.frameworks.libraries]]
        name = "cuDNN"
        version = "3"

      [[gpu-box.models.frameworks.libraries]]
        name = "NCCL"
        version = "1"

  [[gpu-box.models]]
    name = "VGG [A]"
    type = "model"

    [[gpu-box.models.frameworks]]
      name = "Leaf"
      version = "0.2"
      forward = 180
      backward = 418
      memory = "8300MB"

      [[gpu-box.models.frameworks.libraries]]
        name = "cuDNN"
        version = "3"

[no-devices]
  name = "Lonely CPU"
  type = "CPU"
"""


def test_line_map():
    lines = line_map(LEGACY_FIXTURE)
    assert lines[("gpu-box", "host", "ram")] == 12
    assert lines[("gpu-box", "models", 0, "frameworks", 1, "memory")] == 41
    assert lines[("gpu-box", "models", 1, "frameworks", 0)] == 55


def test_legacy_conversion(tmp_path):
    path = write(tmp_path, "old.toml", LEGACY_FIXTURE)
    res = import_legacy(path, "old.toml")
    warnings = {}
    for w in res.warnings:
        warnings[(w.line, w.field)] = warnings.get((w.line, w.field), "") + w.message + "\n"
    assert "'8 parsecs' is not a size" in warnings[(12, None)]
    assert "CPU cache size has no field in the schema" in warnings[(11, None)]
    assert "'a lot' is not a size" in warnings[(41, None)]
    assert "library 'NCCL' has no field in the schema" in warnings[(47, None)]
    assert "no [host] table" in warnings[(66, None)] and "no [[devices]] entries" in warnings[(66, None)]
    by_label = {c.label: c.run for c in res.candidates}
    assert sorted(by_label) == ["gpu-box: leaf 0.2, cuDNN 3", "gpu-box: torch 19.01.2016, cuDNN 3, NCCL 1"]
    leaf = by_label["gpu-box: leaf 0.2, cuDNN 3"]
    assert [r["benchmark"] for r in leaf["results"]] == ["fwdbwd-alexnet", "fwdbwd-vgg-a"]
    assert leaf["results"][1]["metrics"] == {"forward_ms": 180.0, "backward_ms": 418.0,
                                             "peak_device_used_bytes": 8300 * 2**20}
    assert leaf["results"][0]["framework_version"] == "0.2" and "batch_size" not in leaf["results"][0]
    assert leaf["system"]["accelerators"] == [{
        "kind": "cuda", "name": "Nvidia Titan X", "normalized_name": "NVIDIA Titan X", "count": 1, "vendor": "NVIDIA",
        "memory_bytes": 12 * 2**30, "cores": 3072, "memory_bandwidth_bytes_per_s": 336.5e9}]
    assert leaf["system"]["cpu"]["logical_cores"] == 8 and "memory_bytes" not in leaf["system"]   # bad ram: absent
    assert leaf["system"]["software"] == {"cudnn": "3"} and leaf["system"]["os"] == {"name": "Linux (arch)"}
    prov = leaf["provenance"]
    assert prov["source"] == {"title": "example/old-benchmarks", "url": "https://github.com/example/old-benchmarks",
                              "section": "[gpu-box]"}
    assert prov["original"]["host.ram"] == "8 parsecs" and prov["original"]["results[1].memory"] == "8300MB"
    assert prov["original"]["results[1].model"] == "VGG [A]" and prov["original"]["device.memory_bandwith"] == "336.5GB/s"
    torch = by_label["gpu-box: torch 19.01.2016, cuDNN 3, NCCL 1"]
    assert torch["results"][0]["metrics"] == {"forward_ms": 33.0, "backward_ms": 66.0}   # bad memory: left out


def test_legacy_cli(tmp_path):
    path = write(tmp_path, "old.toml", LEGACY_FIXTURE)
    out = tmp_path / "out"
    res = run_tool("import_legacy", str(path), "--out", str(out), "--source-title", "Old benchmarks")
    assert "Traceback" not in res.stderr
    assert "old.toml:12: warning: '8 parsecs' is not a size" in res.stderr
    if validate_run(import_legacy(path, "old.toml").candidates[0].run):   # schema requires batch_size
        assert res.returncode == 1 and "batch_size" in res.stderr and "nothing imported" in res.stderr
    else:
        assert res.returncode == 0, res.stderr
        runs = fragments(out)
        assert len(runs) == 2 and {r["provenance"]["source"]["title"] for r in runs} == {"Old benchmarks"}
        assert run_tool("validate", "--root", str(tmp_path), *[str(p) for p in out.iterdir()]).returncode == 0


@pytest.mark.parametrize("text, message", [
    ("[a\nname = 1\n", "old.toml:1: warning: TOML syntax error"),
    ("title = \"nothing here\"\n", "no hardware table"),
])
def test_legacy_unusable_files(tmp_path, text, message):
    path = write(tmp_path, "old.toml", text)
    res = run_tool("import_legacy", str(path), "--out", str(tmp_path / "out"))
    assert res.returncode == 1 and message in res.stderr and "Traceback" not in res.stderr
    assert not (tmp_path / "out").exists()


def test_legacy_usage_errors(tmp_path):
    res = run_tool("import_legacy", str(tmp_path / "none.toml"))
    assert res.returncode == 1 and "cannot read the file" in res.stderr
    path = write(tmp_path, "old.toml", LEGACY_FIXTURE)
    res = run_tool("import_legacy", str(path), "--source-url", "ftp://x")
    assert res.returncode == 2 and "http" in res.stderr
    res = run_tool("import_legacy", "--help")
    assert res.returncode == 0 and "binary" in res.stdout and "decimal" in res.stdout


@pytest.mark.skipif(not LEGACY.is_file(), reason="the legacy benchmark file is not on this machine")
def test_real_legacy_file():
    res = import_legacy(LEGACY, "legacy-benchmark.toml")
    runs = [c.run for c in res.candidates]
    assert len(runs) == 5 and sum(len(r["results"]) for r in runs) == 16
    tf = [r for r in runs if r["results"][0]["framework"] == "tensorflow"][0]
    vgg = [x for x in tf["results"] if x["model"] == "vgg-a"][0]
    assert vgg["metrics"] == {"forward_ms": 228.0, "backward_ms": 1142.0, "peak_device_used_bytes": 11000 * 2**20}
    assert tf["provenance"]["source"]["url"] == "https://github.com/autumnai/deep-learning-benchmarks"
    assert {r["system"]["software"]["cudnn"] for r in runs} == {"3", "4"}
