"""Comparing imported published results as a user would: import small tables in the sources' real layouts
(the rows are the published ones), merge, then `tools/compare.py`.

- timm's ResNet-50 at 224 px, inference, fp16 autocast, NCHW, eager: the RTX 3090, 4090 and 5090 side by side
  with speedups over the RTX 4090 (torch.compile and channels-last figures are other settings);
- Lambda's 8-GPU H100 row: device count 8, the published total, and a per-device figure labelled derived;
- MLPerf results never share a comparison with other results.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from conftest import run_tool
from test_import_mlperf import _JUNIPER

HEADER = "model,infer_img_size,infer_samples_per_sec,infer_step_time,infer_batch_size,param_count,infer_gmacs,infer_macts\n"
TIMM = {   # the published resnet50 rows of the pinned files (aa4b5850)
    "benchmark-infer-amp-nchw-pt240-cu124-rtx3090.csv": "resnet50,224,3219.06,318.095,1024,25.56,4.11,11.11\n",
    "benchmark-infer-amp-nchw-pt240-cu124-rtx4090.csv": "resnet50,224,4217.6,242.763,1024,25.56,4.11,11.11\n",
    "benchmark-infer-amp-nchw-pt291-cu128-4090.csv": "resnet50,224,4302.84,237.959,1024,25.56,4.11,11.11\n",
    "benchmark-infer-amp-nchw-pt291-cu128-4090-dynamo.csv": "resnet50,224,8039.05,127.355,1024,25.56,4.11,11.11\n",
    "benchmark-infer-amp-nchw-pt291-cu130-5090.csv": "resnet50,224,6356.02,161.077,1024,25.56,4.11,11.11\n",
}
LAMBDA_HEADER = "name_gpu,num_gpu,watt,price,ssd,bert_base_squad,bert_large_squad,gnmt,resnet50,tacotron2,waveglow\n"
LAMBDA = {"throughput": ["A100 80GB SXM4,1,400,16250,458,443,152,243500,1582,59716,244438",
                         "RTX 4090,1,450,2125,379,297,93,159511,1301,32661,160816",
                         "LambdaCloud 8x H100 80GB SXM5,8,5600,293750,6763,9320,2340,3724477,22059,494127,3665963"],
          "bs": ["A100 80GB SXM4,1,400,16250,448,320,112,1520,1280,256,48",
                 "RTX 4090,1,450,2125,140,96,28,464,448,88,18",
                 "LambdaCloud 8x H100 80GB SXM5,8,5600,293750,3584,2560,896,12160,10240,2048,384"]}


def _ok(res):
    assert res.returncode == 0, res.stdout + res.stderr
    assert "Traceback" not in res.stderr
    return res


@pytest.fixture(scope="module")
def dataset(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("published")
    (root / "data" / "fragments").mkdir(parents=True)
    timm = tmp_path_factory.mktemp("timm")
    (timm / "results").mkdir()
    for name, row in TIMM.items():
        (timm / "results" / name).write_text(HEADER + row, encoding="utf-8")
    lam = tmp_path_factory.mktemp("lambda")
    (lam / "pytorch" / "csv_v1_v2").mkdir(parents=True)
    for kind in ("throughput", "bs"):
        for precision in ("fp16", "fp32"):
            rows = LAMBDA[kind] if precision == "fp16" else []
            (lam / "pytorch" / "csv_v1_v2" / f"pytorch-train-{kind}-{precision}.csv").write_text(
                LAMBDA_HEADER + "".join(r + "\n" for r in rows), encoding="utf-8")
    older = "name_gpu,num_gpu,watt,price,ssd,bert_base_squad,bert_large_squad,gnmt,ncf,resnet50,tacotron2," \
            "transformerxlbase,transformerxllarge,waveglow\n"
    for kind in ("throughput", "bs"):
        for precision in ("fp16", "fp32"):
            (lam / "pytorch" / f"pytorch-train-{kind}-{precision}.csv").write_text(older, encoding="utf-8")
    mlperf = tmp_path_factory.mktemp("mlperf")
    (mlperf / "summary_results.json").write_text(json.dumps([_JUNIPER]), encoding="utf-8")
    for source, folder in (("timm", timm), ("lambda-pytorch", lam), ("mlperf-v4.1", mlperf)):
        _ok(run_tool("import_published", source, str(folder), "--commit", "a" * 40, "--root", str(root)))
    _ok(run_tool("merge", "--root", str(root)))
    return root


def _compare(root: Path, *args: str):
    return run_tool("compare", "--root", str(root), *args)


def test_timm_resnet50_on_three_geforce_cards_against_the_4090(dataset):
    args = ("--workload", "timm-infer-resnet50-224", "--precision", "mixed-fp16", "--baseline", "RTX 4090",
            "--min-results", "1")
    doc = json.loads(_ok(_compare(dataset, *args, "--format", "json")).stdout)
    assert doc["metric"] == "throughput_samples_per_s" and doc["source_unit"] == "images/s"
    eager = {r["device"]: r for r in doc["rows"] if r["setting"]["compile"] == "eager"}
    assert set(eager) == {"NVIDIA RTX 3090", "NVIDIA RTX 4090", "NVIDIA RTX 5090"}
    assert all(r["setting"]["channels_last"] is False and r["setting"]["batch_size"] == 1024 for r in eager.values())
    base = (4217.6 + 4302.84) / 2          # two PyTorch versions of the 4090: their median
    assert eager["NVIDIA RTX 4090"]["median"] == pytest.approx(base) and eager["NVIDIA RTX 4090"]["is_baseline"]
    assert eager["NVIDIA RTX 3090"]["speedup"] == pytest.approx(3219.06 / base)
    assert eager["NVIDIA RTX 5090"]["speedup"] == pytest.approx(6356.02 / base)
    compiled = [r for r in doc["rows"] if r["setting"]["compile"] == "torch.compile"]
    assert [r["median"] for r in compiled] == [8039.05]       # another setting, never pooled with eager
    text = _ok(_compare(dataset, *args)).stdout
    assert "throughput_samples_per_s in samples/s (images/s, as the source states it)" in text
    assert ("timm-infer-resnet50-224 (benchmark version -), framework torch, precision mixed-fp16, batch 1024, "
            "eager, NCHW") in text.splitlines()
    line = next(ln for ln in text.splitlines() if ln.startswith("NVIDIA RTX 5090"))
    assert "1.49x" in line


def test_lambdas_eight_h100s_keep_the_published_total_and_a_derived_per_device_figure(dataset):
    doc = json.loads(_ok(_compare(dataset, "--workload", "lambda-pytorch-resnet50", "--format", "json",
                                  "--min-results", "1")).stdout)
    [h100] = [r for r in doc["rows"] if r["device"] == "NVIDIA H100 80GB HBM3"]
    assert h100["setting"]["device_count"] == 8 and h100["median"] == 22059
    assert h100["per_device"] == pytest.approx(22059 / 8) and h100["setting"]["batch_size"] == 10240 // 8
    assert all(r["per_device"] is None for r in doc["rows"] if r["setting"]["device_count"] == 1)
    text = _ok(_compare(dataset, "--workload", "lambda-pytorch-resnet50", "--min-results", "1")).stdout
    assert "per device (derived)" in text
    assert "8 devices (figures are the system's totals)" in text


def test_mlperf_results_never_share_a_comparison_with_others(dataset):
    res = _compare(dataset, "--workload", "timm-infer-resnet50-224",
                   "--workload", "mlperf-inference-v4-1-closed-llama2-70b-99-offline")
    assert res.returncode == 2 and "Traceback" not in res.stderr
    assert "MLPerf results may not be compared with non-MLPerf results" in res.stderr
    res = _compare(dataset, "--metric", "throughput_samples_per_s")      # everything: refused the same way
    assert res.returncode == 2 and "MLPerf" in res.stderr
    doc = json.loads(_ok(_compare(dataset, "--workload", "mlperf-inference-v4-1-closed-llama2-70b-99-offline",
                                  "--format", "json", "--min-results", "1")).stdout)
    assert {r["benchmark"] for r in doc["rows"]} == {"mlperf-inference-v4-1-closed-llama2-70b-99-offline"}
    [row] = doc["rows"]
    assert row["setting"]["device_count"] == 16 and doc["metric"] == "throughput_tokens_per_s"
    text = _ok(_compare(dataset, "--workload", "mlperf-inference-v4-1-closed-llama2-70b-99-offline",
                        "--min-results", "1")).stdout
    assert "per device (derived, not an official MLPerf result)" in text
