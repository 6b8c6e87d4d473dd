"""Workload families (dlbench/contract/families.py): whose protocol a workload id names, and who may file it.

A contributor's fragment cannot put a measured result, or another source's figures, under an imported
family's workload id: tools/validate.py rejects it with `workload-family`, naming the file, and changes nothing.
"""

from __future__ import annotations

import copy

import pytest

from test_dataset_parts import validate as _verdict   # validate.py on one fragment: (status, stderr), nothing changed
from dlbench.contract.families import FAMILIES, MLPERF, OPEN, OWN, comparable, family_of, namespace_of
from dlbench.store.synthetic import synthetic_run


def _run(benchmark: str, kind: str = "measured", repository: str | None = None) -> dict:
    run = copy.deepcopy(synthetic_run(0))
    run.pop("run_id")
    run["results"][0]["benchmark"] = benchmark
    if kind == "imported":
        run["provenance"] = {"kind": "imported", "source": {"title": "a table"}}
        if repository:
            run["provenance"]["source"]["repository"] = repository
    return run


@pytest.mark.parametrize("benchmark, family, namespace", [
    ("timm-infer-resnet50-224", "timm-infer", OPEN),
    ("timm-train-resnet50-224", "timm-train", OPEN),
    ("lambda-pytorch-resnet50", "lambda-pytorch", OPEN),
    ("lambda-pytorch-2022-resnet50", "lambda-pytorch-2022", OPEN),
    ("lambda-tf-resnet50", "lambda-tf", OPEN),
    ("mlperf-inference-v4-1-closed-resnet-offline", "mlperf-inference-v4-1", MLPERF),
    ("mlperf-inference-v6-1-closed-llama2-70b-99-9-server", "mlperf-inference-v6-1", MLPERF),
    ("fwdbwd-alexnet", "dlbench", OPEN),
    ("timm", "dlbench", OPEN),
])
def test_a_workload_id_names_its_family(benchmark, family, namespace):
    assert family_of(benchmark).id == family
    assert namespace_of(benchmark) == namespace


def test_mlperf_workloads_are_never_comparable_with_others():
    assert not comparable("mlperf-inference-v4-1-closed-resnet-offline", "timm-infer-resnet50-224")
    assert not comparable("mlperf-inference-v4-1-closed-resnet-offline", "fwdbwd-resnet50")
    assert comparable("mlperf-inference-v4-1-closed-resnet-offline", "mlperf-inference-v6-1-closed-resnet-offline")
    assert comparable("timm-infer-resnet50-224", "fwdbwd-resnet50")


def test_every_imported_family_names_its_repositories_and_own_workloads_none():
    assert all(f.repositories and f.imported for f in FAMILIES)
    assert not OWN.imported
    assert len({f.id for f in FAMILIES}) == len(FAMILIES)


def test_a_measured_result_under_an_mlperf_id_is_rejected(repo):
    status, err = _verdict(repo, _run("mlperf-inference-v4-1-closed-resnet-offline"))
    assert status == 1
    assert "title=workload-family::" in err
    assert "a measured run" in err and "mlcommons/inference_results_v4.1" in err


def test_an_unregistered_mlperf_prefix_is_rejected(repo):
    status, err = _verdict(repo, _run("mlperf-training-v5-0-bert"))
    assert status == 1
    assert "reserved prefix 'mlperf-'" in err


def test_another_sources_figures_under_timms_name_are_rejected(repo):
    status, err = _verdict(repo, _run("timm-infer-resnet50-224", "imported", "someone/else"))
    assert status == 1
    assert "an import from someone/else" in err and "huggingface/pytorch-image-models" in err


def test_an_import_from_the_familys_repository_passes_the_family_rule(repo):
    status, err = _verdict(repo, _run("timm-infer-resnet50-224", "imported", "huggingface/pytorch-image-models"))
    assert "workload-family" not in err
