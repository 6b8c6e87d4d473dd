"""tools/import_published.py timm on small tables written here in timm's real layouts (results/benchmark-*.csv)."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest
import tomli

from dlbench.importers.published import NOT_RUN, InputError, number
from dlbench.importers.timm import parse_name, workload_id

from conftest import run_tool, snapshot

COMMIT_A = "1a2b3c4d5e6f708192a3b4c5d6e7f8091a2b3c4d"
COMMIT_B = "9f8e7d6c5b4a392817f6e5d4c3b2a1908f7e6d5c"

# Every benchmark file of huggingface/pytorch-image-models at the pinned commit aa4b5850.
REAL_NAMES = (
    "benchmark-infer-amp-nchw-pt113-cu117-rtx3090.csv",
    "benchmark-infer-amp-nchw-pt210-cu121-rtx3090.csv",
    "benchmark-infer-amp-nchw-pt240-cu124-rtx3090.csv",
    "benchmark-infer-amp-nchw-pt240-cu124-rtx4090-dynamo.csv",
    "benchmark-infer-amp-nchw-pt240-cu124-rtx4090.csv",
    "benchmark-infer-amp-nchw-pt291-cu128-4090-dynamo.csv",
    "benchmark-infer-amp-nchw-pt291-cu128-4090.csv",
    "benchmark-infer-amp-nchw-pt291-cu130-5090-dynamo.csv",
    "benchmark-infer-amp-nchw-pt291-cu130-5090.csv",
    "benchmark-infer-amp-nchw-pt291-cu130-pro6000maxq-dynamo.csv",
    "benchmark-infer-amp-nchw-pt291-cu130-pro6000maxq.csv",
    "benchmark-infer-amp-nhwc-pt113-cu117-rtx3090.csv",
    "benchmark-infer-amp-nhwc-pt210-cu121-rtx3090.csv",
    "benchmark-infer-amp-nhwc-pt240-cu124-rtx3090.csv",
    "benchmark-infer-amp-nhwc-pt240-cu124-rtx4090.csv",
    "benchmark-infer-amp_bf16-nchw-pt291-cu130-pro6000maxq-dynamo.csv",
    "benchmark-infer-bf16-nchw-pt291-cu130-pro6000maxq-dynamo.csv",
    "benchmark-infer-fp32-nchw-pt221-cpu-i9_10940x-dynamo.csv",
    "benchmark-infer-fp32-nchw-pt240-cpu-i7_12700h-dynamo.csv",
    "benchmark-infer-fp32-nchw-pt240-cpu-i9_10940x-dynamo.csv",
    "benchmark-train-amp-nchw-pt112-cu113-rtx3090.csv",
    "benchmark-train-amp-nhwc-pt112-cu113-rtx3090.csv",
)

# Columns in another order than the real files, a batch size written `1024.0`, a `0` and a `-1` throughput,
# one model at two resolutions, a model name with a '.'.
COMPILED_4090 = """\
infer_batch_size,param_count,model,infer_gmacs,infer_img_size,infer_step_time,infer_samples_per_sec,infer_macts
1024.0,25.56,resnet50,4.11,224,341.3,3000.5,11.11
1024.0,25.56,resnet50,6.79,288,560.1,1828.2,18.37
1024.0,86.57,vit_base_patch16_224.augreg_in21k,16.87,224,1200.0,853.3,16.49
1024.0,5.0,tiny_a,0.5,224,0,0,1.0
1024.0,5.0,tiny_b,0.5,224,-1,-1,1.0
"""
# Real rows of the pinned files, as written (the 2024 RTX 3090 table, the 2022 training table, the CPU table
# without GMACs columns).
REAL_3090 = """\
model,infer_img_size,infer_samples_per_sec,infer_step_time,infer_batch_size,param_count,infer_gmacs,infer_macts
resnet101d,256,1576.21,649.647,1024,44.57,10.55,22.25
"""
TRAIN_3090 = """\
model,train_samples_per_sec,train_step_time,train_batch_size,train_img_size,param_count
tinynet_e,10001.12,50.423,512,106,2.04
"""
CPU_I9 = """\
model,infer_samples_per_sec,infer_step_time,infer_batch_size,infer_img_size,param_count
resnet18,120.5,8.3,1,224,11.69
"""


def _checkout(folder: Path, files: dict[str, str]) -> Path:
    (folder / "results").mkdir(parents=True, exist_ok=True)
    for name, text in files.items():
        (folder / "results" / name).write_text(text, encoding="utf-8")
    return folder


def _import(folder: Path, commit: str, root: Path):
    return run_tool("import_published", "timm", str(folder), "--commit", commit, "--root", str(root))


def _fragments(root: Path) -> dict[str, dict]:
    runs = [tomli.loads(p.read_text(encoding="utf-8")) for p in sorted((root / "data" / "fragments").glob("*.toml"))]
    return {r["results"][0]["benchmark"]: r for r in runs}


def test_real_file_names_parse() -> None:
    settings = {name: parse_name(name, name) for name in REAL_NAMES}
    assert {s.device_name for s in settings.values()} == {
        "NVIDIA RTX 3090", "NVIDIA RTX 4090", "NVIDIA RTX 5090",
        "NVIDIA RTX PRO 6000 Blackwell Max-Q Workstation Edition", "Intel Core i9-10940X", "Intel Core i7-12700H"}
    s = settings["benchmark-infer-amp_bf16-nchw-pt291-cu130-pro6000maxq-dynamo.csv"]
    assert (s.mode, s.precision, s.channels_last, s.compile, s.torch, s.cuda, s.token) == \
        ("infer", "mixed-bf16", False, "torch.compile", "2.9.1", "13.0", "pro6000maxq")
    s = settings["benchmark-train-amp-nhwc-pt112-cu113-rtx3090.csv"]
    assert (s.mode, s.precision, s.channels_last, s.compile, s.torch, s.cuda) == \
        ("train", "mixed-fp16", True, "eager", "1.12", "11.3")
    s = settings["benchmark-infer-fp32-nchw-pt221-cpu-i9_10940x-dynamo.csv"]
    assert (s.device.kind, s.precision, s.torch, s.cuda) == ("cpu", "fp32", "2.2.1", None)
    assert settings["benchmark-infer-bf16-nchw-pt291-cu130-pro6000maxq-dynamo.csv"].precision == "bf16"
    assert settings["benchmark-infer-amp-nchw-pt291-cu128-4090.csv"].device_name == "NVIDIA RTX 4090"
    for bad, said in (("benchmark-infer-amp-nchw-pt240-cu124-a100.csv", "'a100'"),
                      ("benchmark-infer-amp-nchw-pt999-cu124-rtx4090.csv", "pt999"),
                      ("benchmark-infer-amp-nchw-pt240-cpu-rtx4090.csv", "contradicts"),
                      ("benchmark-infer-fp8-nchw-pt240-cu124-rtx4090.csv", "not of the form")):
        with pytest.raises(InputError) as err:
            parse_name(bad, f"results/{bad}")
        assert f"results/{bad}:" in str(err.value) and said in str(err.value)
    assert workload_id("infer", "vit_base_patch16_224.augreg_in21k", 224) == \
        "timm-infer-vit-base-patch16-224-augreg-in21k-224"


def test_import_reimport_and_new_commit(tmp_path: Path, repo: Path) -> None:
    files = {"benchmark-infer-amp-nhwc-pt240-cu124-rtx4090-dynamo.csv": COMPILED_4090,
             "benchmark-infer-amp-nchw-pt240-cu124-rtx3090.csv": REAL_3090,
             "benchmark-train-amp-nchw-pt112-cu113-rtx3090.csv": TRAIN_3090,
             "benchmark-infer-fp32-nchw-pt221-cpu-i9_10940x-dynamo.csv": CPU_I9}
    src = _checkout(tmp_path / "timm", files)
    res = _import(src, COMMIT_A, repo)
    assert res.returncode == 0, res.stderr
    assert "6 runs read; wrote 6" in res.stdout
    # the 0 and -1 rows are reported as not results, by file and line
    assert sum(ln.startswith("not a result: ") and "_samples_per_sec is" in ln for ln in res.stdout.splitlines()) == 2
    runs = _fragments(repo)
    assert sorted(runs) == ["timm-infer-resnet101d-256", "timm-infer-resnet18-224", "timm-infer-resnet50-224",
                            "timm-infer-resnet50-288", "timm-infer-vit-base-patch16-224-augreg-in21k-224",
                            "timm-train-tinynet-e-106"]   # the 0 and -1 rows are not results

    run = runs["timm-infer-resnet50-224"]
    r = run["results"][0]
    assert {k: r[k] for k in ("scenario", "framework", "framework_version", "model", "parameters",
                              "flops_per_sample", "dataset", "device_kind", "device_name", "device_count",
                              "precision", "compile", "channels_last", "batch_size", "status")} == {
        "scenario": "infer", "framework": "torch", "framework_version": "2.4.0", "model": "resnet50",
        "parameters": 25_560_000, "flops_per_sample": 8_220_000_000, "dataset": "synthetic", "device_kind": "cuda",
        "device_name": "NVIDIA RTX 4090", "device_count": 1, "precision": "mixed-fp16", "compile": "torch.compile",
        "channels_last": True, "batch_size": 1024, "status": "ok"}
    assert r["metrics"] == {"throughput_samples_per_s": 3000.5, "forward_ms": 341.3,
                            "achieved_flops_per_s": round(8.22e9 * 3000.5)}
    assert r["units"]["throughput_samples_per_s"] == "images/s"
    assert run["system"] == {"accelerators": [{"kind": "cuda", "vendor": "NVIDIA", "name": "NVIDIA GeForce RTX 4090",
                                               "normalized_name": "NVIDIA RTX 4090", "count": 1}],
                             "software": {"cuda": "12.4"}}
    source = run["provenance"]["source"]
    path = "results/benchmark-infer-amp-nhwc-pt240-cu124-rtx4090-dynamo.csv"
    assert (source["repository"], source["path"], source["commit"], source["row"], source["device"],
            source["license"]) == ("huggingface/pytorch-image-models", path, COMMIT_A,
                                   "model=resnet50, img_size=224", "rtx4090", "Apache-2.0")
    assert source["sha256"] == hashlib.sha256((src / path).read_bytes()).hexdigest()
    assert "Ross Wightman" in source["attribution"]
    assert run["provenance"]["original"]["infer_batch_size"] == "1024.0"
    assert run["provenance"]["original"]["file"] == path.split("/")[1]

    real = runs["timm-infer-resnet101d-256"]["results"][0]
    assert (real["parameters"], real["flops_per_sample"], real["batch_size"], real["metrics"]["forward_ms"],
            real["precision"], real["channels_last"], real["compile"]) == \
        (44_570_000, 21_100_000_000, 1024, 649.647, "mixed-fp16", False, "eager")
    train = runs["timm-train-tinynet-e-106"]["results"][0]
    assert (train["scenario"], train["batch_size"], train["parameters"], train["framework_version"]) == \
        ("step", 512, 2_040_000, "1.12")
    assert train["metrics"] == {"throughput_samples_per_s": 10001.12, "step_ms": 50.423}
    assert "flops_per_sample" not in train
    cpu = runs["timm-infer-resnet18-224"]
    assert (cpu["results"][0]["device_kind"], cpu["results"][0]["device_name"], cpu["results"][0]["precision"]) == \
        ("cpu", "Intel Core i9-10940X", "fp32")
    assert cpu["system"] == {"cpu": {"model": "Intel Core i9-10940X", "vendor": "Intel"}}
    assert "achieved_flops_per_s" not in cpu["results"][0]["metrics"]
    old_id = run["run_id"]

    # Merged, then imported again: nothing changes.
    merged = run_tool("merge", "--root", str(repo))
    assert merged.returncode == 0, merged.stderr
    before = snapshot(repo)
    again = _import(src, COMMIT_A, repo)
    assert again.returncode == 0, again.stderr
    assert "wrote 0" in again.stdout and "6 already in the dataset, unchanged" in again.stdout
    assert snapshot(repo) == before

    # One figure changed at a new commit: one run, naming the run it replaces.
    (src / path).write_text(COMPILED_4090.replace("341.3,3000.5", "340.0,3012.0"), encoding="utf-8")
    newer = _import(src, COMMIT_B, repo)
    assert newer.returncode == 0, newer.stderr
    assert "wrote 1" in newer.stdout and "5 already in the dataset, unchanged" in newer.stdout
    assert f"replaces {old_id}" in newer.stdout
    [changed] = _fragments(repo).values()
    assert changed["provenance"]["source"]["replaces"] == old_id
    assert changed["provenance"]["source"]["commit"] == COMMIT_B
    assert changed["results"][0]["metrics"]["throughput_samples_per_s"] == 3012.0


def test_bad_input_names_file_line_field_and_writes_nothing(tmp_path: Path, repo: Path) -> None:
    good_header = "model,infer_img_size,infer_samples_per_sec,infer_step_time,infer_batch_size,param_count," \
                  "infer_gmacs,infer_macts\n"
    files = {
        "benchmark-infer-amp-nchw-pt240-cu124-h100.csv": good_header + "resnet50,224,3000.5,341.3,1024,25.56,4.11,11.11\n",
        "benchmark-infer-amp-nchw-pt240-cu124-rtx4090.csv":
            good_header.replace("infer_samples_per_sec", "infer_samples_per_second")
            + "resnet50,224,3000.5,341.3,1024,25.56,4.11,11.11\n",
        "benchmark-infer-amp-nhwc-pt240-cu124-rtx4090.csv":
            good_header + "resnet50,224,3000.5,341.3,1024,25.56,4.11,11.11\nresnet18,224,9000.1,fast,1024,11.69,1.82,2.48\n",
        "benchmark-infer-amp-nchw-pt291-cu128-4090.csv":
            good_header + "resnet50,224,3000.5,341.3,1024,25.56,4.11,11.11\nresnet18,224,9000.1,113.8,1024,11.69,1.82,2.48\n"
            "resnet50,224.0,2999.0,341.4,1024,25.56,4.11,11.11\n",
        "benchmark-infer-amp-nchw-240-rtx4090.csv": good_header,
    }
    src = _checkout(tmp_path / "timm", files)
    before = snapshot(repo)
    res = _import(src, COMMIT_A, repo)
    assert res.returncode == 1
    err = res.stderr
    results = src / "results"
    assert f"{results / 'benchmark-infer-amp-nchw-pt240-cu124-h100.csv'}: device: unknown device string 'h100'" in err
    renamed = results / "benchmark-infer-amp-nchw-pt240-cu124-rtx4090.csv"
    assert f"{renamed}:1: infer_samples_per_second: unknown column" in err
    assert f"{renamed}:1: infer_samples_per_sec: missing column" in err
    assert f"{results / 'benchmark-infer-amp-nhwc-pt240-cu124-rtx4090.csv'}:3: infer_step_time: 'fast' is not a " \
           "number" in err
    assert f"{results / 'benchmark-infer-amp-nchw-pt291-cu128-4090.csv'}:4: model: model 'resnet50' at " \
           "infer_img_size 224 already appears on line 2" in err
    assert f"{results / 'benchmark-infer-amp-nchw-240-rtx4090.csv'}: file name" in err
    assert "nothing written" in err and "Traceback" not in err
    assert res.stdout == ""
    assert snapshot(repo) == before


@pytest.mark.parametrize("cell, expected", [("1024.0", 1024.0), ("1,024", 1024.0), ("1e3", 1000.0), (" 0 ", "not run"),
                                            ("0.0", "not run"), ("-1", "not run"), ("-1e0", "not run")])
def test_a_published_cell_is_a_number_or_not_run(cell, expected) -> None:
    got = number(cell, "t.csv", 3, "x")
    assert ("not run" if got is NOT_RUN else got) == expected


@pytest.mark.parametrize("cell, said", [("1e999", "not a finite number"), ("-5", "negative"), ("fast", "not a number"),
                                        ("nan", "not a number")])
def test_a_cell_that_is_no_figure_is_an_error_naming_file_line_and_field(cell, said) -> None:
    with pytest.raises(InputError) as err:
        number(cell, "t.csv", 3, "infer_batch_size")
    assert f"t.csv:3: infer_batch_size: '{cell}'" in str(err.value) and said in str(err.value)
