"""Workload families: whose protocol a workload follows, read from its id.

A workload id (`results[].benchmark`) starts with its family's prefix: `timm-infer-resnet50-224` is a workload
of timm's inference benchmark, `mlperf-inference-v4-1-closed-resnet-offline` one of MLPerf Inference v4.1.
Ids with no registered prefix are this project's own workloads (`runners/run.py --list`). A family says what
a consumer needs to read its rows: whose protocol it is, the source it comes from, its license, and its
*namespace*: rows of different namespaces are never compared, judged against each other, charted or ranked
together. MLPerf's results messaging guidelines forbid comparing MLPerf results with non-MLPerf ones, so every
MLPerf family lives in the `mlperf` namespace; everything else is `open`.

A new published source is one `Family` here (and one importer module in `dlbench/importers/`).
An imported family's workloads may only be written by an import of one of its `repositories`
(`check_result`): a contributor cannot file a measured result, or another source's figures, under MLPerf's or
timm's name.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

OPEN = "open"
MLPERF = "mlperf"


@dataclass(frozen=True)
class Family:
    id: str                         # also the workload-id prefix, without its trailing '-'
    title: str                      # what a reader sees: whose protocol, which table
    source: str                     # the source, short ('timm', 'Lambda', 'MLPerf Inference v4.1', 'dlbench')
    namespace: str = OPEN
    repositories: tuple[str, ...] = ()   # the only repositories an import of its workloads may come from
    note: str | None = None         # what a reader must know before comparing its rows

    @property
    def prefix(self) -> str:
        return f"{self.id}-"

    @property
    def imported(self) -> bool:
        return bool(self.repositories)

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"id": self.id, "title": self.title, "source": self.source, "namespace": self.namespace}
        if self.repositories:
            out["repositories"] = list(self.repositories)
        if self.note:
            out["note"] = self.note
        return out


OWN = Family("dlbench", "This project's own workloads (runners/run.py), and the seed and legacy tables imported "
             "into them", "dlbench")

_MLPERF_NOTE = ("MLPerf results: not comparable with non-MLPerf results. Values are system totals; per-chip "
                "figures are derived, not official MLPerf results.")

FAMILIES: tuple[Family, ...] = (
    Family("timm-infer", "timm inference benchmark (results/benchmark-infer-*.csv): images/s at the file's "
           "batch size, precision, layout and compile mode", "timm", repositories=("huggingface/pytorch-image-models",)),
    Family("timm-train", "timm training benchmark (results/benchmark-train-*.csv): training images/s at the "
           "file's batch size", "timm", repositories=("huggingface/pytorch-image-models",)),
    Family("lambda-pytorch-2022", "Lambda PyTorch training benchmark, 2022 table (NVIDIA DeepLearningExamples "
           "in NGC 20.x containers): not comparable with the newer Lambda tables", "Lambda",
           repositories=("lambdal/deeplearning-benchmark",)),
    Family("lambda-pytorch", "Lambda PyTorch training benchmark (NVIDIA DeepLearningExamples models in NGC "
           "containers): system throughput at the batch sizes of its batch-size tables", "Lambda",
           repositories=("lambdal/deeplearning-benchmark",)),
    Family("lambda-tf", "Lambda TensorFlow training benchmark (tf_cnn_benchmarks, synthetic data): system "
           "images/s", "Lambda", repositories=("lambdal/lambda-tensorflow-benchmark",)),
    Family("mlperf-inference-v4-1", "MLPerf Inference v4.1 results (summary_results.json)", "MLPerf Inference v4.1",
           MLPERF, ("mlcommons/inference_results_v4.1",), _MLPERF_NOTE),
    Family("mlperf-inference-v6-1", "MLPerf Inference v6.1 results (summary.csv)", "MLPerf Inference v6.1",
           MLPERF, ("mlcommons/inference_results_v6.1",), _MLPERF_NOTE),
)
# Longest prefix first, so that `lambda-pytorch-2022-` wins over `lambda-pytorch-`.
_BY_PREFIX = sorted(FAMILIES, key=lambda f: -len(f.prefix))
RESERVED_PREFIXES = ("mlperf-",)   # no workload outside a registered MLPerf family may start so


def family_of(benchmark: str) -> Family:
    """The family of a workload id: the registered family whose prefix it starts with, else OWN."""
    for family in _BY_PREFIX:
        if benchmark.startswith(family.prefix):
            return family
    return OWN


def namespace_of(benchmark: str) -> str:
    return family_of(benchmark).namespace


def comparable(benchmark_a: str, benchmark_b: str) -> bool:
    """Whether rows of two workloads may ever stand side by side (same namespace)."""
    return namespace_of(benchmark_a) == namespace_of(benchmark_b)


def check_result(run: dict[str, Any], result: dict[str, Any]) -> str | None:
    """Why a result may not carry its workload id, or None when it may.

    An imported family's workload must come from an import (`provenance.kind = "imported"`) whose
    `provenance.source.repository` is one of the family's repositories; an id under a reserved prefix
    (`mlperf-`) must belong to a registered family.
    """
    benchmark = result.get("benchmark")
    if not isinstance(benchmark, str):
        return None
    family = family_of(benchmark)
    if family is OWN:
        reserved = next((p for p in RESERVED_PREFIXES if benchmark.startswith(p)), None)
        if reserved:
            known = ", ".join(f.prefix for f in FAMILIES if f.prefix.startswith(reserved))
            return (f"workload '{benchmark}' starts with the reserved prefix '{reserved}' but is in no registered "
                    f"family (known: {known})")
        return None
    prov = run.get("provenance") or {}
    repository = (prov.get("source") or {}).get("repository") if isinstance(prov.get("source"), dict) else None
    if prov.get("kind") != "imported" or repository not in family.repositories:
        said = f"an import from {repository}" if prov.get("kind") == "imported" and repository else \
            ("an import without provenance.source.repository" if prov.get("kind") == "imported" else "a measured run")
        return (f"workload '{benchmark}' belongs to the {family.source} family ({family.id}): only an import from "
                f"{', '.join(family.repositories)} may carry it, and this is {said}; measured results use this "
                "project's own workload ids (runners/run.py --list)")
    return None
