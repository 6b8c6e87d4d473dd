"""MLPerf Inference summaries (dlbench/importers/mlperf.py) through tools/import_published.py, on small files
written in the real formats, and MLPerf rows kept out of every comparison with non-MLPerf rows.

The v6.1 rows are verbatim rows of mlcommons/inference_results_v6.1 summary.csv at the pinned commit; the v4.1
records have the keys and values of summary_results.json at its pinned commit.
"""

from __future__ import annotations

import copy
import json
import tomllib
from pathlib import Path

import pytest

from conftest import run_tool, snapshot, write_fragment
from dlbench.importers import mlperf
from dlbench.importers.published import InputError, Pin
from dlbench.store.synthetic import synthetic_run

V41_COMMIT, V61_COMMIT = mlperf.V41_PINNED, mlperf.V61_PINNED

_AMD = {"ID": "v4.1-0001", "Submitter": "AMD", "Availability": "available", "Category": "closed", "Suite": "datacenter",
        "System": "Supermicro AS-8125GS-TNMR2", "Platform": "1xMI300X_2xEPYC-9374F", "UsedModel": "llama2-70b-99",
        "Model": "llama2-70b-99", "Scenario": "Offline",
        "Accuracy": "ROUGE1: 44.5321  ROUGE2: 22.1191  ROUGEL: 28.7225  TOKENS_PER_SAMPLE: 293.7", "Nodes": 1,
        "Processor": "2xAMD EPYC 9374F", "host_processors_per_node": 2, "host_processor_core_count": 32.0,
        "Accelerator": "AMD Instinct MI300X-NPS1-SPX-192GB-750W", "a#": 1.0,
        "Location": "closed/AMD/results/1xMI300X_2xEPYC-9374F/llama2-70b-99/Offline",
        "Software": "vLLM 0.4.3+rocm614, PyTorch 2.3.0, ROCm 6.1.2",
        "operating_system": "Ubuntu 22.04.4 LTS (Jammy Jellyfish)", "Notes": "", "compliance": 1, "errors": 0,
        "version": "v4.1", "inferred": 0, "has_power": False, "weight_data_types": "fp8", "p#": 2,
        "Details": "https://github.com/gateoverflow/inference_results_v4.1/tree/main/closed/AMD/results/"
                   "1xMI300X_2xEPYC-9374F",
        "Code": "https://github.com/gateoverflow/inference_results_v4.1/tree/main/closed/AMD/code",
        "Unique ID (e.g. for Audit)": "datacenter/closed/AMD/1xMI300X_2xEPYC-9374F", "ColorKey": "availableAMD",
        "Performance_Result": 3062.72, "Performance_Units": "Tokens/s"}
# The 2-node system: a# counts one node's accelerators.
_JUNIPER = _AMD | {"ID": "v4.1-0035", "Submitter": "JuniperNetworks", "System": "2x8xH100-SXM-80GB",
                   "Platform": "DGX-H100_H100-SXM-80GBx16_TRT", "Nodes": 2,
                   "Processor": "AMD EPYC 7763 64-Core Processor",
                   "Accelerator": "NVIDIA H100-SXM-80GB", "a#": 8.0, "Software": "TensorRT 9.3.0, CUDA 12.2",
                   "weight_data_types": "fp16", "Performance_Result": 41672.4}
_CISCO_CPU = _AMD | {"ID": "v4.1-0006", "Submitter": "Cisco", "System": "C240M7-1-node-2S-EMR-PyTorch",
                     "Platform": "C240M7-1-node-2S-EMR-PyTorch", "Model": "3d-unet-99.9", "UsedModel": "3d-unet-99.9",
                     "Accuracy": "DICE: 0.86175", "Processor": "INTEL(R) XEON(R) PLATINUM 8592+", "Accelerator": "",
                     "a#": "", "Software": "PyTorch", "Notes": "Cisco UCS C240 M7. N/A", "weight_data_types": "int8",
                     "Performance_Result": 1.93148, "Performance_Units": "Samples/s"}
_ORIN = _AMD | {"ID": "v4.1-0012", "Submitter": "ConnectTechInc", "Suite": "edge", "Model": "gptj-99",
                "UsedModel": "gptj-99", "Scenario": "SingleStream", "Processor": "12-core ARM Cortex-A78AE CPU",
                "host_processors_per_node": 1, "Accelerator": "NVIDIA Jetson AGX Orin 64G",
                "Software": "Jetpack 6.0, TensorRT 10.1, CUDA 12.2", "weight_data_types": "fp16", "p#": 1,
                "Performance_Result": 4145.572039, "Performance_Units": "Latency (ms)"}

V61_HEADER = ("Organization,Availability,Division,SystemType,SystemName,Platform,Model,MlperfModel,Scenario,Result,"
              "Accuracy,number_of_nodes,host_processor_model_name,host_processors_per_node,host_processor_core_count,"
              "accelerator_model_name,accelerators_per_node,total_accelerators,Location,framework,operating_system,"
              "notes,compliance,errors,version,inferred,has_power,Units,weight_data_types,design_power_watts,"
              "PrivateID")
V61_ROWS = [
    '"AMD","available","closed","datacenter","8xMI350X_2xEPYC_9575F","8xMI350X_2xEPYC_9575F","dlrm-v3","dlrm-v3",'
    '"Offline","10891.1","DLRM_NE: 0.8677294228203597  DLRM_ACC: 0.6964170290002015  DLRM_AUC: 0.7862871466027813",'
    '"1","AMD EPYC 9575F","2","64","AMD Instinct MI350X 288GB HBM3e","8","8",'
    '"./closed/AMD/results/8xMI350X_2xEPYC_9575F/dlrm-v3/Offline/performance/run_1",'
    '"PyTorch 2.10.0+rocm7.2.3, Triton 3.6.0, ROCm 7.2.3","Ubuntu 24.04 LTS (Noble Numbat), kernel 6.8.0-38-generic",'
    '"","closed","0","v6.1","0","False","Samples/s","fp16,bf16,fp8","None",""',
    '"AMD","available","closed","datacenter","Quanta Grand Teton 1.5 MI350","8xMI350X_2xEPYC_9655","wan-2.2-t2v-a14b",'
    '"text_to_video","SingleStream","20.603024726","vbench_score: 70.1582","1","AMD EPYC 9655","2","96",'
    '"AMD Instinct MI350X 288GB HBM3e","8","8",'
    '"./closed/AMD/results/8xMI350X_2xEPYC_9655/wan-2.2-t2v-a14b/SingleStream/performance/run_1",'
    '"xDiT, xfuser 0.4.5, PyTorch 2.9.1+gitff65f5b, ROCm 7.13.0","Ubuntu 24.04.4 LTS","","closed","0","v6.1","0",'
    '"False","Latency (s)","bf16, fp8, fp4","None",""',
    '"ASUSTeK","available","closed","datacenter","XA NB3I-E12","XA_NB3I-E12_B300x8_TRT","gpt-oss-120b","gpt-oss-120b",'
    '"Offline","109368.0","exact_match: 83.572","1","Intel(R) Xeon(R) 6767P","2","64","NVIDIA B300-SXM-270GB","8","8",'
    '"./closed/ASUSTeK/results/XA_NB3I-E12_B300x8_TRT/gpt-oss-120b/Offline/performance/run_1",'
    '"TensorRT 10.14, CUDA 13.1","Ubuntu 22.04","","closed","0","v6.1","0","False","Tokens/s","fp4","None",""',
    '"Azure","available","closed","datacenter","Azure GB200 NVL72 (288x GB200-186GB_aarch64, TensorRT)",'
    '"Azure-GB200-NVL72_186GBx288","deepseek-r1","deepseek-r1","Server","1598510.0",'
    '"exact_match: 80.85688240656336  TOKENS_PER_SAMPLE: 3746.623518687329","72","NVIDIA Grace CPU","2","144",'
    '"NVIDIA GB200","4","288",'
    '"./closed/Azure/results/Azure-GB200-NVL72_186GBx288/deepseek-r1/Server/performance/run_1",'
    '"TensorRT 10.14, CUDA 13.1, cuDNN 9.17, TensorRT-LLM feat/1.2-mlpinf","Ubuntu 24.04",'
    '"NVIDIA GB200 NVL72, 1200W TGP Per GPU","closed","0","v6.1","0","False","Tokens/s","fp4","None",""',
    # a CPU-only system, an edge row in lower case, and a system of two kinds of accelerator (skipped)
    '"Intel","available","closed","datacenter","1-node-2S-GNR_128C","1-node-2S-GNR_128C","whisper","whisper",'
    '"Offline","2319.02","ACCURACY: 97.89143156192017","1","Intel(R) Xeon(R) 6980P","2","128","N/A","0","0",'
    '"./closed/Intel/results/1-node-2S-GNR_128C/whisper/Offline/performance/run_1","PyTorch","CentOS Stream 9","N/A",'
    '"closed","0","v6.1","0","False","Samples/s","INT8","None",""',
    '"Dell","available","closed","edge","Dell Pro Max (1x GB10)","Dell_Pro_Max_GB10x1","yolo-95","yolo-95",'
    '"multistream","105.162072","mAP: 53.113","1","Cortex-X925","20","1","NVIDIA GB10","1","1",'
    '"./closed/Dell/results/Dell_Pro_Max_GB10x1/yolo-95/multistream/performance/run_1","CUDA 13.0",'
    '"Ubuntu 24.04.3 LTS","Dell Pro Max with GB10","closed","0","v6.1","1","False","Latency (ms)","fp4","None",""',
    '"Cisco","available","closed","datacenter","Cisco UCS H200 x8 + MI350X x8 G200 2x2 TOR",'
    '"Cisco_UCS_H200x8_MI350Xx8_G200_2x2_TOR","gpt-oss-120b","gpt-oss-120b","Offline","94249.3",'
    '"exact_match: 83.57105741751104","2","AMD EPYC","2","128","NVIDIA H200-SXM-141GB + AMD Instinct MI350X 288GB '
    'HBM3e","8","16","./closed/Cisco/results/Cisco_UCS_H200x8_MI350Xx8_G200_2x2_TOR/gpt-oss-120b/Offline/performance/'
    'run_1","vLLM","Ubuntu 22.04","","closed","0","v6.1","0","False","Tokens/s","mxfp4","None",""',
]


def _v41(folder: Path, records: list[dict]) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "summary_results.json").write_text(json.dumps(records, indent=2), encoding="utf-8")
    return folder


def _v61(folder: Path, rows: list[str], header: str = V61_HEADER) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "summary.csv").write_text("\n".join([header, *rows]) + "\n", encoding="utf-8")
    return folder


def _import(source: str, folder: Path, root: Path, commit: str):
    return run_tool("import_published", source, str(folder), "--commit", commit, "--root", str(root))


def _runs(root: Path) -> dict[str, dict]:
    """The written fragments by their source row key."""
    runs = [tomllib.loads(p.read_text(encoding="utf-8")) for p in (root / "data" / "fragments").glob("*.toml")]
    return {r["provenance"]["source"]["row"]: r for r in runs}


def test_v41_summary_through_the_cli_and_a_second_import_writes_nothing(repo, tmp_path):
    zero = _AMD | {"Scenario": "Server", "Performance_Result": 0.0, "Performance_Units": "Tokens/s"}
    folder = _v41(tmp_path / "v41", [_AMD, _JUNIPER, _CISCO_CPU, _ORIN, zero])
    res = _import("mlperf-v4.1", folder, repo, V41_COMMIT)
    assert res.returncode == 0, res.stderr
    assert "4 runs read; wrote 4" in res.stdout
    runs = _runs(repo)
    assert set(runs) == {"v4.1-0001/llama2-70b-99/Offline", "v4.1-0035/llama2-70b-99/Offline",
                         "v4.1-0006/3d-unet-99.9/Offline", "v4.1-0012/gptj-99/SingleStream"}   # the 0 is skipped
    amd = runs["v4.1-0001/llama2-70b-99/Offline"]
    (r,) = amd["results"]
    assert r["benchmark"] == "mlperf-inference-v4-1-closed-llama2-70b-99-offline"
    assert (r["device_kind"], r["device_name"], r["device_count"], r["precision"]) == \
        ("rocm", "AMD Instinct MI300X", 1, "fp8")
    assert (r["framework"], r["framework_version"]) == ("vllm", "0.4.3+rocm614")
    assert r["metrics"] == {"throughput_tokens_per_s": 3062.72}
    assert r["units"] == {"throughput_tokens_per_s": "Tokens/s"}
    src = amd["provenance"]["source"]
    assert (src["repository"], src["commit"], src["license"]) == (mlperf.V41_REPOSITORY, V41_COMMIT, "Apache-2.0")
    assert "not official" in src["attribution"] and "not comparable with non-MLPerf" in amd["provenance"]["notes"]
    assert amd["provenance"]["original"]["ID"] == "v4.1-0001" and "ColorKey" not in amd["provenance"]["original"]
    h100 = runs["v4.1-0035/llama2-70b-99/Offline"]["results"][0]
    assert (h100["device_name"], h100["device_count"]) == ("NVIDIA H100 80GB HBM3", 16)   # a# 8 x 2 nodes
    cpu = runs["v4.1-0006/3d-unet-99.9/Offline"]
    assert (cpu["results"][0]["device_kind"], cpu["results"][0]["device_name"], cpu["results"][0]["device_count"]) \
        == ("cpu", "Intel Xeon Platinum 8592+", 2)
    assert cpu["system"]["cpu"]["model"] == "Intel Xeon Platinum 8592+" and "accelerators" not in cpu["system"]
    orin = runs["v4.1-0012/gptj-99/SingleStream"]["results"][0]
    assert orin["metrics"] == {"latency_ms": 4145.572039} and orin["framework"] == "tensorrt"
    before = snapshot(repo)
    again = _import("mlperf-v4.1", folder, repo, V41_COMMIT)
    assert again.returncode == 0 and "wrote 0" in again.stdout
    assert snapshot(repo) == before


def test_v61_rows_through_the_cli(repo, tmp_path):
    res = _import("mlperf-v6.1", _v61(tmp_path / "v61", V61_ROWS), repo, V61_COMMIT)
    assert res.returncode == 0, res.stderr
    runs = _runs(repo)
    assert len(runs) == 6 and not any("Cisco" in key for key in runs)     # the mixed system is skipped
    dlrm = runs["v6.1/closed/AMD/8xMI350X_2xEPYC_9575F/dlrm-v3/Offline"]
    assert dlrm["results"][0]["benchmark"] == "mlperf-inference-v6-1-closed-dlrm-v3-offline"
    assert (dlrm["results"][0]["precision"], dlrm["results"][0]["framework"]) == ("unknown", "torch")
    assert dlrm["provenance"]["original"]["weight_data_types"] == "fp16,bf16,fp8"
    wan = runs["v6.1/closed/AMD/8xMI350X_2xEPYC_9655/wan-2.2-t2v-a14b/SingleStream"]["results"][0]
    assert wan["metrics"] == {"latency_ms": 20603.024726} and "Latency (s)" in wan["units"]["latency_ms"]
    assert wan["framework"] == "xdit"
    b300 = runs["v6.1/closed/ASUSTeK/XA_NB3I-E12_B300x8_TRT/gpt-oss-120b/Offline"]["results"][0]
    assert (b300["device_name"], b300["device_count"], b300["precision"], b300["framework"]) == \
        ("NVIDIA B300 SXM6 AC", 8, "fp4", "tensorrt")
    gb200 = runs["v6.1/closed/Azure/Azure-GB200-NVL72_186GBx288/deepseek-r1/Server"]
    assert (gb200["results"][0]["device_name"], gb200["results"][0]["device_count"]) == ("NVIDIA GB200", 288)
    assert gb200["results"][0]["metrics"] == {"throughput_tokens_per_s": 1598510.0}
    assert gb200["system"]["cpu"]["model"] == "NVIDIA Grace"
    cpu = runs["v6.1/closed/Intel/1-node-2S-GNR_128C/whisper/Offline"]["results"][0]
    assert (cpu["device_kind"], cpu["device_name"], cpu["device_count"], cpu["precision"]) == \
        ("cpu", "Intel Xeon 6980P", 2, "int8")
    gb10 = runs["v6.1/closed/Dell/Dell_Pro_Max_GB10x1/yolo-95/multistream"]["results"][0]
    assert gb10["benchmark"] == "mlperf-inference-v6-1-closed-yolo-95-multistream" and gb10["framework"] == "cuda"


def _problems(read, folder: Path) -> str:
    with pytest.raises(InputError) as err:
        read(folder, Pin("x/y", "0" * 40))
    return str(err.value)


def test_bad_v41_input_names_the_line_and_the_field(tmp_path):
    renamed = [{("Result" if k == "Performance_Result" else k): v for k, v in r.items()} for r in (_AMD, _JUNIPER)]
    said = _problems(mlperf.inspect_v41, _v41(tmp_path / "a", renamed))
    assert "summary_results.json:2: Performance_Result: no record has the key" in said
    said = _problems(mlperf.inspect_v41, _v41(tmp_path / "b", [_AMD, _JUNIPER | {"Performance_Result": "fast"}]))
    assert "summary_results.json:38: Performance_Result: 'fast' is not a number" in said
    said = _problems(mlperf.inspect_v41, _v41(tmp_path / "c", [_AMD, _AMD | {"Scenario": "Server",
                                                                              "Accelerator": "NVIDIA X9000"}]))
    assert "summary_results.json:38: Accelerator: unknown device string 'NVIDIA X9000'" in said
    said = _problems(mlperf.inspect_v41, _v41(tmp_path / "d", [_AMD, _AMD]))
    assert "summary_results.json:38: key: result 'v4.1-0001/llama2-70b-99/Offline' appears twice (first on line 2)" \
        in said
    (tmp_path / "e").mkdir()
    (tmp_path / "e" / "summary_results.json").write_text('{"ID": "v4.1-0001"}', encoding="utf-8")
    assert "expected a JSON list of objects" in _problems(mlperf.inspect_v41, tmp_path / "e")


def test_bad_v61_input_names_the_line_and_the_field(tmp_path):
    said = _problems(mlperf.inspect_v61, _v61(tmp_path / "a", V61_ROWS[:1], V61_HEADER.replace(",Units,", ",Unit,")))
    assert "summary.csv:1: Unit: unknown column 'Unit'" in said and "missing column 'Units'" in said
    timm = "model,infer_samples_per_sec,infer_step_time,infer_batch_size,infer_img_size,param_count"
    said = _problems(mlperf.inspect_v61, _v61(tmp_path / "b", ["resnet50,2000.5,64.1,256,224,25.56"], timm))
    assert "summary.csv:1: Organization: missing column 'Organization'" in said
    said = _problems(mlperf.inspect_v61, _v61(tmp_path / "c", [V61_ROWS[2].replace('"109368.0"', '"n/a"')]))
    assert "summary.csv:2: Result: 'n/a' is not a number" in said
    said = _problems(mlperf.inspect_v61, _v61(tmp_path / "d", [V61_ROWS[2].replace("B300-SXM-270GB", "B900")]))
    assert "summary.csv:2: accelerator_model_name: unknown device string 'NVIDIA B900'" in said
    zero = V61_ROWS[2].replace('"Offline","109368.0"', '"Server","0"')
    reading = mlperf.inspect_v61(_v61(tmp_path / "e", [V61_ROWS[2], zero, V61_ROWS[6]]), Pin("x/y", "0" * 40))
    assert len(reading.runs) == 1 and reading.skipped == {"result 0 or -1": 1, "two kinds of accelerator": 1}


def test_an_unknown_device_through_the_cli_writes_nothing(repo, tmp_path):
    folder = _v41(tmp_path / "v41", [_AMD, _AMD | {"Scenario": "Server", "Accelerator": "NVIDIA X9000"}])
    before = snapshot(repo)
    res = _import("mlperf-v4.1", folder, repo, V41_COMMIT)
    assert res.returncode == 1 and "Traceback" not in res.stderr
    assert "summary_results.json:38: Accelerator: unknown device string 'NVIDIA X9000'" in res.stderr
    assert "nothing written" in res.stderr and snapshot(repo) == before


def test_mlperf_rows_never_share_a_comparison_with_other_rows(repo, tmp_path):
    """A non-MLPerf result forced under an MLPerf workload id is rejected (workload-family); the comparison
    of an MLPerf workload lists only the MLPerf rows, beside a dataset that holds others."""
    assert _import("mlperf-v6.1", _v61(tmp_path / "v61", V61_ROWS), repo, V61_COMMIT).returncode == 0
    workload = "mlperf-inference-v6-1-closed-gpt-oss-120b-offline"
    borrowed = copy.deepcopy(_runs(repo)["v6.1/closed/ASUSTeK/XA_NB3I-E12_B300x8_TRT/gpt-oss-120b/Offline"])
    write_fragment(repo, synthetic_run(0))                   # a measured run of this project's own workload
    forced = copy.deepcopy(synthetic_run(1))
    forced.pop("run_id")
    forced["results"][0]["benchmark"] = workload
    forced_path = write_fragment(repo, forced)
    borrowed.pop("run_id")
    borrowed["provenance"]["source"]["repository"] = "lambdal/deeplearning-benchmark"
    borrowed["results"][0]["device_name"] = borrowed["system"]["accelerators"][0]["normalized_name"] = "NVIDIA X1"
    borrowed_path = write_fragment(repo, borrowed)
    merged = run_tool("merge", "--root", str(repo), "--github")
    assert merged.returncode == 1 and "Traceback" not in merged.stderr
    assert merged.stderr.count("title=workload-family::") == 2
    assert "and this is a measured run" in merged.stderr
    assert "and this is an import from lambdal/deeplearning-benchmark" in merged.stderr
    assert forced_path.exists() and borrowed_path.exists()   # left in data/fragments/, not merged
    listed = run_tool("compare", "--root", str(repo), "--workload", workload, "--metric", "throughput_tokens_per_s",
                      "--format", "json")
    assert listed.returncode == 0, listed.stderr
    text = listed.stdout
    assert "NVIDIA B300 SXM6 AC" in text
    assert "NVIDIA X1" not in text and synthetic_run(1)["results"][0]["device_name"] not in text
    rows = json.loads(text)["rows"]
    assert [(r["device"], r["kind"], r["source"], r["median"]) for r in rows] == \
        [("NVIDIA B300 SXM6 AC", "imported", "MLPerf Inference v6.1 results (summary.csv)", 109368.0)]
