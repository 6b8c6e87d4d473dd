"""Lambda's PyTorch and TensorFlow tables through `tools/import_published.py`, on small files written in the
published layouts (the sample rows of shared/reference/published-sources.md among them)."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest

from conftest import run_tool, snapshot
from dlbench.importers.lambda_pytorch import device
from dlbench.importers.published import InputError

COMMIT = "aa5addb6a53675a649a80036dad548f1c27cbcc4"
CUR = "name_gpu,num_gpu,watt,price,ssd,bert_base_squad,bert_large_squad,gnmt,resnet50,tacotron2,waveglow"
CURRENT_FP16 = [CUR,
                "A100 80GB SXM4,1,400,16250,458,443,152,243500,1582,59716,244438",
                "RTX 4090,1,450,2125,379,297,93,159511,1301,32661,160816",
                "LambdaCloud 8x H100 80GB SXM5,8,5600,293750,6763,9320,2340,3724477,22059,494127,3665963"]
CURRENT_BS16 = [CUR,
                "A100 80GB SXM4,1,400,16250,448,320,112,1520,1280,256,48",
                "RTX 4090,1,450,2125,140,96,28,464,448,88,18",
                "LambdaCloud 8x H100 80GB SXM5,8,5600,293750,3584,2560,896,12160,10240,2048,384"]
CURRENT_FP32 = [CUR, "Quadro RTX 8000,1,260,6037.5,81,41,12,21616,274,17717,44068",
                "LambdaCloud 2x B200 192GB SXM5,2,2000,100000,2071,1687,556,847482,5876,289580,1731591"]
CURRENT_BS32 = [CUR, "Quadro RTX 8000,1,260,6037.5,144,96,32,576,496,136,32",
                "LambdaCloud 2x B200 192GB SXM5,2,2000,100000,1280,768,256,5376,3328,1280,176"]
# The older tables, columns in another order, counts written 1.0, a 0.0 and a -1 cell.
OLD = "num_gpu,name_gpu,resnet50,price,watt,ncf,ssd,gnmt,transformerxllarge,bert_large_squad,bert_base_squad," \
      "tacotron2,transformerxlbase,waveglow"
OLDER_FP16 = [OLD, "1.0,Dell H100 80GB SXM5,2776.0,36718.75,700.0,70240500.0,865.0,477105.0,0.0,307.0,867.0,"
                   "87324.0,-1,470288.0",
              "4.0,LambdaCloud 4xV100 16GB,3107.0,39750.0,1200.0,87282928.0,871.0,205663.0,24082.0,157.0,637.0,"
              "45505.0,81267.0,165996.0"]
OLDER_BS16 = [OLD, "1,Dell H100 80GB SXM5,1280,36718.75,700,10000000,448,1520,48,112,320,256,104,48",
              "4,LambdaCloud 4xV100 16GB,1024,39750.0,1200,10240000,384,1024,16,64,192,192,64,32"]
OLDER_FP32 = [OLD, "1.0,RTX 3090,513.0,2750.0,350.0,14714953.0,144.0,44869.0,4165.0,24.0,85.0,25350.0,12101.0,"
                   "97404.0"]
OLDER_BS32 = [OLD, "1,RTX 3090,224,2750,350,2516582,80,288,4,16,48,88,14,18"]


def write(folder: Path, files: dict[str, list[str]]) -> Path:
    for path, lines in files.items():
        (folder / path).parent.mkdir(parents=True, exist_ok=True)
        (folder / path).write_text("\n".join(lines) + "\n", encoding="utf-8")
    return folder


def pytorch_checkout(folder: Path, changed: dict[str, list[str]] | None = None) -> Path:
    """The eight files of `lambda-pytorch` (current and older tables), `changed` ones replaced by path."""
    files = {"pytorch/csv_v1_v2/pytorch-train-throughput-fp16.csv": CURRENT_FP16,
             "pytorch/csv_v1_v2/pytorch-train-bs-fp16.csv": CURRENT_BS16,
             "pytorch/csv_v1_v2/pytorch-train-throughput-fp32.csv": CURRENT_FP32,
             "pytorch/csv_v1_v2/pytorch-train-bs-fp32.csv": CURRENT_BS32,
             "pytorch/pytorch-train-throughput-fp16.csv": OLDER_FP16, "pytorch/pytorch-train-bs-fp16.csv": OLDER_BS16,
             "pytorch/pytorch-train-throughput-fp32.csv": OLDER_FP32, "pytorch/pytorch-train-bs-fp32.csv": OLDER_BS32}
    return write(folder, files | (changed or {}))


def imported(source: str, folder: Path, root: Path, commit: str = COMMIT):
    (root / "data").mkdir(parents=True, exist_ok=True)
    return run_tool("import_published", source, str(folder), "--commit", commit, "--root", str(root))


def runs_in(root: Path) -> list[dict]:
    return [tomllib.loads(p.read_text(encoding="utf-8")) for p in sorted((root / "data" / "fragments").glob("*.toml"))]


def by_device(runs: list[dict], device_string: str, path_part: str) -> dict:
    [run] = [r for r in runs if r["provenance"]["source"]["device"] == device_string
             and path_part in r["provenance"]["source"]["path"]]
    return run


def result(run: dict, benchmark: str) -> dict:
    [res] = [r for r in run["results"] if r["benchmark"] == benchmark]
    return res


def test_published_rows_import_as_totals_with_batch_per_device_and_a_second_import_changes_nothing(tmp_path):
    folder, root = pytorch_checkout(tmp_path / "src"), tmp_path / "root"
    done = imported("lambda-pytorch", folder, root)
    assert done.returncode == 0, done.stderr
    runs = runs_in(root)
    assert len(runs) == 8          # one run per throughput row of the four tables

    h100 = by_device(runs, "LambdaCloud 8x H100 80GB SXM5", "csv_v1_v2/pytorch-train-throughput-fp16")
    resnet = result(h100, "lambda-pytorch-resnet50")
    assert resnet["device_count"] == 8 and resnet["device_name"] == "NVIDIA H100 80GB HBM3"
    assert resnet["metrics"] == {"throughput_samples_per_s": 22059} and resnet["units"] == {
        "throughput_samples_per_s": "images/s"}
    assert resnet["batch_size"] == 1280 and resnet["precision"] == "mixed-fp16" and resnet["scenario"] == "step"
    assert result(h100, "lambda-pytorch-gnmt")["metrics"] == {"throughput_tokens_per_s": 3724477}
    assert result(h100, "lambda-pytorch-bert-large-squad")["precision"] == "fp16"
    assert h100["system"]["accelerators"] == [{"kind": "cuda", "vendor": "NVIDIA", "name": "H100 80GB SXM5",
                                               "normalized_name": "NVIDIA H100 80GB HBM3", "count": 8}]
    prov = h100["provenance"]
    assert prov["original"]["watt"] == "5600" and prov["original"]["price"] == "293750"
    assert prov["original"]["bs_resnet50"] == "10240" and prov["cloud"] == "Lambda Cloud"
    src = prov["source"]
    assert (src["repository"], src["commit"], src["license"]) == ("lambdal/deeplearning-benchmark", COMMIT,
                                                                 "none declared")
    assert src["row"] == "name_gpu=LambdaCloud 8x H100 80GB SXM5, num_gpu=8"
    assert [a["path"] for a in src["also"]] == ["pytorch/csv_v1_v2/pytorch-train-bs-fp16.csv"]
    a100 = by_device(runs, "A100 80GB SXM4", "csv_v1_v2")
    assert result(a100, "lambda-pytorch-bert-large-squad")["metrics"]["throughput_samples_per_s"] == 152
    assert result(a100, "lambda-pytorch-bert-large-squad")["batch_size"] == 112
    assert by_device(runs, "RTX 4090", "csv_v1_v2")["results"][0]["device_name"] == "NVIDIA RTX 4090"
    b200 = by_device(runs, "LambdaCloud 2x B200 192GB SXM5", "fp32")
    assert result(b200, "lambda-pytorch-waveglow")["batch_size"] == 88 and "TF32" in b200["provenance"]["notes"]

    # The older table: read by header name, 1.0 counts, the 0.0 and -1 cells are no result but stay in original.
    dell = by_device(runs, "Dell H100 80GB SXM5", "pytorch/pytorch-train-throughput-fp16")
    benchmarks = {r["benchmark"] for r in dell["results"]}
    assert not {"lambda-pytorch-transformerxllarge", "lambda-pytorch-transformerxlbase"} & benchmarks
    assert len(dell["results"]) == 8 and result(dell, "lambda-pytorch-ncf")["batch_size"] == 10000000
    assert dell["provenance"]["original"]["transformerxllarge"] == "0.0"
    assert dell["provenance"]["original"]["transformerxlbase"] == "-1"
    assert dell["provenance"]["source"]["row"] == "older table: name_gpu=Dell H100 80GB SXM5, num_gpu=1"
    v100 = by_device(runs, "LambdaCloud 4xV100 16GB", "pytorch/pytorch-train-throughput-fp16")
    assert result(v100, "lambda-pytorch-resnet50")["device_count"] == 4
    assert result(v100, "lambda-pytorch-resnet50")["device_name"] == "NVIDIA V100 SXM2 16GB"
    assert result(v100, "lambda-pytorch-ncf")["batch_size"] == 2560000

    before = snapshot(root)
    again = imported("lambda-pytorch", folder, root)
    assert again.returncode == 0, again.stderr
    assert "wrote 0" in again.stdout and snapshot(root) == before


def test_bad_input_names_file_line_and_field_and_writes_nothing(tmp_path):
    cur, older = "pytorch/csv_v1_v2/pytorch-train-", "pytorch/pytorch-train-"
    folder = pytorch_checkout(tmp_path / "src", {
        f"{cur}throughput-fp16.csv": CURRENT_FP16 + ["RTX 9999 Turbo,1,450,2125,1,1,1,1,1,1,1"],
        f"{cur}bs-fp16.csv": CURRENT_BS16 + ["RTX 9999 Turbo,1,450,2125,1,1,1,1,1,1,1"],
        f"{cur}throughput-fp32.csv": [
            CUR, "Quadro RTX 8000,1,260,6037.5,81,41,12,21616,fast,17717,44068",
            "LambdaCloud 2x B200 192GB SXM5,4,2000,100000,2071,1687,556,847482,5876,289580,1731591"],
        f"{older}throughput-fp16.csv": OLDER_FP16 + [OLDER_FP16[1].replace("Dell ", "SMC ")],
        f"{older}bs-fp32.csv": [OLD.replace("resnet50", "resnet_50"), OLDER_BS32[1]]})
    root = tmp_path / "root"
    (root / "data" / "fragments").mkdir(parents=True)
    before = snapshot(root)
    done = imported("lambda-pytorch", folder, root)
    assert done.returncode == 1
    err = done.stderr
    cur_dir = folder / "pytorch" / "csv_v1_v2"
    assert f"{cur_dir / 'pytorch-train-throughput-fp16.csv'}:5: name_gpu: unknown device string 'RTX 9999 Turbo'" in err
    assert f"{cur_dir / 'pytorch-train-throughput-fp32.csv'}:2: resnet50: 'fast' is not a number" in err
    assert f"{cur_dir / 'pytorch-train-throughput-fp32.csv'}:3: num_gpu: num_gpu 4 disagrees with the 2 GPU(s)" in err
    older = folder / "pytorch"
    assert (f"{older / 'pytorch-train-throughput-fp16.csv'}:4: name_gpu: 'SMC H100 80GB SXM5' (num_gpu 1) has no "
            "row in the batch-size table") in err
    assert f"{older / 'pytorch-train-bs-fp32.csv'}:1: resnet_50: unknown column 'resnet_50'" in err
    assert f"{older / 'pytorch-train-bs-fp32.csv'}:1: resnet50: missing column 'resnet50'" in err
    assert "Traceback" not in err and "nothing written" in err
    assert snapshot(root) == before


def test_2022_table_is_a_suite_of_its_own_and_matches_its_batch_rows_by_system(tmp_path):
    head = "name_gpu,num_gpu,watt,price,ssd,bert_base_squad,bert_large_squad,gnmt,maskrcnn,resnet50,tacotron2," \
           "transformerxlbase,transformerxllarge,waveglow"
    tput = [head, "2x RTX Quadro 8000 NVLink,2.0,520.0,13800.0,355.0,228.0,74.0,147566.0,20.0,1274.0,67019.0,"
                  "18334.0,8085.0,141257.0",
            "RTX 3070,1.0,220.0,1035.0,71.0,29.0,3.0,12668.0,7.0,246.0,3789.0,2147.0,0.0,0.0",
            "p4d.24xlarge,8.0,3200.0,116568.0,3129.0,2616.0,755.0,1479962.0,136.0,9476.0,187374.0,265662.0,"
            "129164.0,1209590.0"]
    bs = [head, "2x Quadro RTX 8000 NVLink,2,520,13800,512,216,72,1936,64,1856,592,128,64,104",
          "RTX 3070,1,220,1035,16,8,0,40,2,64,16,0,0,0",
          "p4d.24xlarge,8,3200,116568,1792,704,256,6080,200,5760,1024,416,192,192"]
    files = {f"pytorch/pytorch-train-{kind}-{p}.csv": rows for p in ("fp16", "fp32")
             for kind, rows in (("throughput", tput), ("bs", bs))}
    folder, root = write(tmp_path / "src", files), tmp_path / "root"
    done = imported("lambda-pytorch-2022", folder, root, "67a9bb5128d51299376bc72e02ec7459f82efe38")
    assert done.returncode == 0, done.stderr
    runs = runs_in(root)
    assert len(runs) == 6
    quadro = by_device(runs, "2x RTX Quadro 8000 NVLink", "fp16")
    assert result(quadro, "lambda-pytorch-2022-resnet50")["precision"] == "fp16"     # the --fp16 task, not AMP
    assert result(quadro, "lambda-pytorch-2022-ssd")["precision"] == "mixed-fp16"
    assert result(quadro, "lambda-pytorch-2022-resnet50")["batch_size"] == 928
    assert quadro["system"]["accelerators"][0]["normalized_name"] == "NVIDIA Quadro RTX 8000"
    assert quadro["provenance"]["source"]["row"].startswith("2022 table: ")
    rtx3070 = by_device(runs, "RTX 3070", "fp32")
    large = result(rtx3070, "lambda-pytorch-2022-bert-large-squad")     # a figure beside a 0 batch
    assert large["metrics"] == {"throughput_samples_per_s": 3} and "batch_size" not in large
    assert all(r["precision"] == "fp32" for r in rtx3070["results"]) and len(rtx3070["results"]) == 8
    p4d = by_device(runs, "p4d.24xlarge", "fp16")
    assert p4d["provenance"]["cloud"] == "aws p4d.24xlarge"
    assert result(p4d, "lambda-pytorch-2022-maskrcnn")["device_name"] == "NVIDIA A100 SXM4 40GB"
    assert result(p4d, "lambda-pytorch-2022-maskrcnn")["batch_size"] == 25


def test_tensorflow_tables_are_mixed_precision_images_per_second_under_bsd_3_clause(tmp_path):
    head = "name_gpu,num_gpu,alexnet,inception3,inception4,resnet152,resnet50,vgg16"
    files = {"tf-train-throughput-fp16.csv": [head, "8x V100 32GB,8,70869,3414,1449,2301,4677,3759"],
             "tf-train-bs-fp16.csv": [head, "8x V100 32GB,8,24576,3072,768,1536,3072,3072"],
             "tf-train-throughput-fp32.csv": [head.replace("alexnet,inception3", "inception3,alexnet"),
                                              "RTX 2080 MAX-Q,1,115,2220,0,69,164,0"],
             "tf-train-bs-fp32.csv": [head, "RTX 2080 MAX-Q,1,384,48,12,32,44,48"]}
    folder, root = write(tmp_path / "src", files), tmp_path / "root"
    done = imported("lambda-tensorflow", folder, root, "c17619db95dca6819821bed1260b9d544ddcb948")
    assert done.returncode == 0, done.stderr
    runs = runs_in(root)
    v100 = by_device(runs, "8x V100 32GB", "fp16")
    res = result(v100, "lambda-tf-resnet50")
    assert (res["framework"], res["precision"], res["dataset"], res["device_count"]) == (
        "tensorflow", "mixed-fp16", "synthetic", 8)
    assert res["metrics"] == {"throughput_samples_per_s": 4677} and res["batch_size"] == 384
    assert res["device_name"] == "NVIDIA V100 PCIe 32GB"
    src = v100["provenance"]["source"]
    assert src["license"] == "BSD-3-Clause" and src["attribution"].startswith("Copyright (c) 2018, Lambda Labs")
    maxq = by_device(runs, "RTX 2080 MAX-Q", "fp32")
    assert {r["benchmark"] for r in maxq["results"]} == {"lambda-tf-alexnet", "lambda-tf-inception3",
                                                         "lambda-tf-resnet152", "lambda-tf-resnet50"}
    assert result(maxq, "lambda-tf-alexnet")["metrics"]["throughput_samples_per_s"] == 2220
    assert maxq["results"][0]["device_name"] == "NVIDIA RTX 2080 with Max-Q Design"


@pytest.mark.parametrize("raw, normalized, count", [
    ("LambdaCloud 8x B200 192GB SXM5", "NVIDIA B200", 8), ("LambdaCloud 1x GH200 96GB", "NVIDIA GH200 480GB", 1),
    ("LambdaCloud 1x H100 80GB PCIe", "NVIDIA H100 PCIe", 1), ("H100 80GB PCIe Gen5", "NVIDIA H100 PCIe", None),
    ("A100 80GB PCIe", "NVIDIA A100 80GB PCIe", None), ("Lambda Cloud — 4x GTX 1080Ti", "NVIDIA GTX 1080 Ti", 4),
    ("RTX 6000 Ada", "NVIDIA RTX 6000 Ada Generation", None), ("16x RTX A4000", "NVIDIA RTX A4000", 16),
    ("RTX A40", "NVIDIA A40", None), ("p3.16xlarge", "NVIDIA V100 SXM2 16GB", 8),
    ("RTX 3080 Max-Q", "NVIDIA RTX 3080 Laptop GPU", None), ("Titan RTX", "NVIDIA TITAN RTX", None)])
def test_device_strings_map_through_the_explicit_table(raw, normalized, count):
    dev = device(raw, "f.csv", 2)
    assert (dev.normalized, dev.count) == (normalized, count)


def test_an_unknown_host_prefix_is_not_guessed():
    with pytest.raises(InputError, match="unknown device string 'Acme 8x H100 80GB SXM5'"):
        device("Acme 8x H100 80GB SXM5", "f.csv", 2)
