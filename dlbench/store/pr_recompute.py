"""What a measured fragment says about the repository, recomputed from the commit it cites.

A runner takes some fields of a result from the repository alone, not from the machine it measures: the
workload's `benchmark_version`, `model`, `dataset` and `scenario` (dlbench/runner/workloads/), the model's
`parameters` and `flops_per_sample` (the model catalogue, dlbench/runner/models/) and, where the dataset's
specification fixes it, `dataset_sha256` (dlbench/runner/data/). The pull-request check (with
--require-provenance, once the cited commit is known to be one of the base branch) materialises that
commit's `dlbench/` apart (`git archive`), asks it for those values in a child Python, and compares: a
contributor controls every byte of a fragment, but not what the published code at its commit computes.

The child runs only code of a commit of the base branch (published, reviewed code), with the checker's own
Python and without the network; the answer is cached per commit for the check's duration.
"""

from __future__ import annotations

import functools
import io
import json
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path
from typing import Any

from ..contract.problems import Problem

CODE = "provenance-contradicts-commit"
# The fields recomputed, in the order they are reported (docs/ci.md lists them with their rules).
FIELDS = ("benchmark_version", "model", "dataset", "scenario", "parameters", "flops_per_sample", "dataset_sha256")
# The scenario whose results are parts named `<workload>-<part>` (peak-matmul, peak-bandwidth of `peak`).
PART_SCENARIOS = ("peak",)
TIMEOUT_S = 120

# Run in a child Python with the commit's dlbench/ first on sys.path. Importing the registries imports no
# framework; the dataset specifications import numpy and platformdirs at the top but use neither to define a
# specification, so where the checker's environment lacks them (CI's core requirements) empty stand-ins are
# put in their place.
_CHILD = r"""
import importlib.util, json, sys, types
root = sys.argv[1]
sys.path.insert(0, root)
import dlbench
if not dlbench.__file__.startswith(root):
    raise SystemExit(f"imported {dlbench.__file__}, not the commit's dlbench")
from dlbench.runner import models, workloads
out = {"workloads": {}, "datasets": {}}
for name, w in workloads.WORKLOADS.items():
    entry = {"version": w.version, "model": w.model or "-", "dataset": w.dataset, "scenario": w.scenario}
    try:
        cost = models.model_cost(w.model) if w.model else None
    except Exception:
        cost = None
    if cost is not None:
        entry["parameters"] = cost.parameters
        entry["flops_per_sample"] = cost.flops
    out["workloads"][name] = entry
for mod in ("numpy", "platformdirs"):
    if importlib.util.find_spec(mod) is None:
        sys.modules[mod] = types.ModuleType(mod)
try:
    from dlbench.runner.data import datasets
except Exception as exc:
    out["datasets_error"] = f"{type(exc).__name__}: {exc}"
else:
    for name, spec in datasets.SPECS.items():
        if all(f.raw_sha256 for f in spec.files):
            out["datasets"][name] = datasets.combined_sha256({f.raw_filename: f.raw_sha256 for f in spec.files})
    for mod in ("cifar10", "imagenet32"):
        try:
            spec = __import__(f"dlbench.runner.data.{mod}", fromlist=["SPEC"]).SPEC
        except Exception:
            continue
        if getattr(spec, "dataset_sha256", None):
            out["datasets"][spec.name] = spec.dataset_sha256
print(json.dumps(out, sort_keys=True))
"""


@functools.lru_cache(maxsize=32)
def catalogue_at(root: str, commit: str) -> dict[str, Any] | str:
    """{"workloads": {name: {version, model, dataset, scenario[, parameters, flops_per_sample]}},
    "datasets": {name: dataset_sha256}} as the code at `commit` of the repository at `root` computes them, or
    the reason it cannot be computed (a string)."""
    try:
        archive = subprocess.run(["git", "-C", root, "archive", "--format=tar", commit, "dlbench"],
                                 capture_output=True, check=False)
    except OSError as exc:
        return f"cannot run git: {exc}"
    if archive.returncode != 0:
        detail = archive.stderr.decode(errors="replace").strip().splitlines()
        return f"git archive {commit[:12]} dlbench failed" + (f" ({detail[-1]})" if detail else "")
    with tempfile.TemporaryDirectory(prefix="dlbench-commit-") as tmp:
        with tarfile.open(fileobj=io.BytesIO(archive.stdout)) as tar:
            tar.extractall(tmp, filter="data")
        try:
            child = subprocess.run([sys.executable, "-I", "-B", "-c", _CHILD, tmp], capture_output=True,
                                   text=True, check=False, timeout=TIMEOUT_S, cwd=tmp)
        except subprocess.TimeoutExpired:
            return f"the code at {commit[:12]} did not answer within {TIMEOUT_S} s"
    if child.returncode != 0:
        lines = child.stderr.strip().splitlines()
        return f"the code at {commit[:12]} could not list its workloads" + (f" ({lines[-1]})" if lines else "")
    try:
        return json.loads(child.stdout)
    except ValueError:
        return f"the code at {commit[:12]} gave no readable answer"


def _workload(catalogue: dict[str, Any], benchmark: Any) -> tuple[dict[str, Any] | None, bool]:
    """(the workload that wrote a result named `benchmark`, whether the result is one of its parts)."""
    workloads = catalogue["workloads"]
    if benchmark in workloads:
        return workloads[benchmark], False
    if isinstance(benchmark, str):
        parents = [n for n, w in workloads.items()
                   if w["scenario"] in PART_SCENARIOS and benchmark.startswith(n + "-")]
        if parents:
            return workloads[max(parents, key=len)], True
    return None, False


def expected(catalogue: dict[str, Any], result: dict[str, Any]) -> dict[str, Any] | None:
    """What the code at the commit puts in `result`'s recomputed fields ({field: value}; None: absent), or
    None when no workload of the commit writes a result of that name. `model` is not fixed for a part (its
    size is chosen on the machine), nor `dataset_sha256` where the commit's specification does not fix it."""
    w, part = _workload(catalogue, result.get("benchmark"))
    if w is None:
        return None
    out: dict[str, Any] = {"benchmark_version": w["version"], "dataset": w["dataset"], "scenario": w["scenario"]}
    if not part:
        out["model"] = w["model"]
    out["parameters"] = None if part else w.get("parameters")
    out["flops_per_sample"] = None if part else w.get("flops_per_sample")
    sha = catalogue["datasets"].get(w["dataset"])
    if sha is not None:
        out["dataset_sha256"] = sha
    return out


def contradictions(root: Path, commit: str, run: dict[str, Any], rel: str) -> list[Problem]:
    """Problems (code `provenance-contradicts-commit`) for each recomputed field of `run`'s results that the
    code at `commit` computes otherwise; one problem when it cannot be computed at all."""
    catalogue = catalogue_at(str(Path(root).resolve()), commit)
    short = commit[:12]
    redo = (f"run the benchmark again from a clean checkout of commit {short} (or of main) with runners/run.py "
            "and submit the fragment it writes, unedited")
    if isinstance(catalogue, str):
        return [Problem(rel, None, "provenance.git_commit",
                        f"the fields a run takes from the repository cannot be recomputed at commit {short}: "
                        f"{catalogue}; {redo}", CODE)]
    out = []
    for i, result in enumerate(run.get("results", [])):
        want = expected(catalogue, result)
        if want is None:
            out.append(Problem(rel, None, f"results[{i}].benchmark",
                               f"{result.get('benchmark')!r} is not a workload of commit {short} "
                               f"(dlbench/runner/workloads/); {redo}", CODE))
            continue
        for name in FIELDS:
            if name not in want:
                continue
            stated, value = result.get(name), want[name]
            if name not in result or (stated == value and type(stated) is type(value)):
                continue
            if value is None:
                what = f"{name} is {stated!r}, but the code at commit {short} records none for this result"
            else:
                what = f"{name} is {stated!r}, but the code at commit {short} computes {value!r}"
            out.append(Problem(rel, None, f"results[{i}].{name}", f"{what} ({_source(name)}); {redo}", CODE))
    return out


def _source(name: str) -> str:
    if name in ("parameters", "flops_per_sample"):
        return "the model catalogue, dlbench/runner/models/"
    if name == "dataset_sha256":
        return "the dataset's specification, dlbench/runner/data/"
    return "the workload, dlbench/runner/workloads/"
