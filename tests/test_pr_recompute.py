"""Fragments cannot contradict the repository: with --require-provenance the pull-request check recomputes, from
the cited commit's code, every field a runner takes from the repository alone (docs/ci.md lists them), and a
fragment whose field disagrees is refused, naming the field. One pull request holds a valid fragment and one
fragment per mutated field; the base checkout's check_pr.py runs once on it, as CI runs it."""

from __future__ import annotations

import copy

import pytest

from test_ci_scripts import add_fragment, check_pr, commit_all, git, pr_checkouts
from dlbench.contract.fragment import with_run_id
from dlbench.store import pr_recompute
from dlbench.store.synthetic import synthetic_run

FASHION_MNIST_SHA256 = "bd7794149301a1b0e306f972a49fdeaa6d8b48e2b83645b6abdd1f6511c61ab9"
# field -> (a value the code at the commit does not compute, the field named in the problem)
MUTATIONS = {
    "benchmark_version": (2, "results[0].benchmark_version"),
    "model": ("alexnet", "results[0].model"),
    "dataset": ("mnist", "results[0].dataset"),
    "scenario": ("step", "results[0].scenario"),
    "parameters": (61707, "results[0].parameters"),
    "flops_per_sample": (846_000, "results[0].flops_per_sample"),
    "dataset_sha256": ("0" * 64, "results[0].dataset_sha256"),
    "benchmark": ("no-such-workload", "results[0].benchmark"),
}


def _valid(head: str) -> dict:
    """A fashion-mnist-lenet5 train run of commit `head`, its repository-derived fields as that code has them."""
    run = copy.deepcopy(synthetic_run(3))
    run.pop("run_id")
    run["provenance"]["git_commit"] = head
    result = run["results"][0]
    assert result["benchmark"] == "fashion-mnist-lenet5"
    result.update(flops_per_sample=833_040, scenario="train", dataset_sha256=FASHION_MNIST_SHA256)
    return run


@pytest.fixture(scope="module")
def checked(tmp_path_factory):
    """(the check's result, {case: fragment path}) for one pull request holding every case."""
    repo, base = pr_checkouts(tmp_path_factory.mktemp("recompute"), "mutations")
    head = git(repo, "rev-parse", "main").stdout.strip()
    paths = {"valid": add_fragment(repo, with_run_id(_valid(head)))}
    for name, (value, _) in MUTATIONS.items():
        run = _valid(head)
        run["results"][0][name] = value
        paths[name] = add_fragment(repo, with_run_id(run))
    commit_all(repo, "one fragment per mutated field")
    res = check_pr(repo, base, "--require-provenance", "--github")
    assert "Traceback" not in res.stderr, res.stderr
    return res, paths


def _lines(res, rel: str) -> list[str]:
    return [line for line in res.stderr.splitlines() if line.startswith(f"{rel}:")]


def test_the_unmutated_fragment_passes(checked):
    res, paths = checked
    assert res.returncode == 1  # the mutated ones fail
    assert _lines(res, paths["valid"]) == []
    assert f"file={paths['valid']}," not in res.stderr


@pytest.mark.parametrize("name", list(MUTATIONS))
def test_a_mutated_field_is_refused_naming_it(checked, name):
    res, paths = checked
    value, field = MUTATIONS[name]
    lines = _lines(res, paths[name])
    assert lines, res.stderr
    ours = [line for line in lines if f" {field}: " in line]
    assert ours, lines
    assert repr(value) in ours[0] and "commit" in ours[0] and "runners/run.py" in ours[0], ours[0]
    assert f"file={paths[name]},title={pr_recompute.CODE}::" in res.stderr


CATALOGUE = {"workloads": {"peak": {"version": 3, "model": "-", "dataset": "synthetic", "scenario": "peak"},
                           "fwdbwd-lenet5": {"version": 1, "model": "lenet5", "dataset": "synthetic",
                                             "scenario": "step", "parameters": 61706, "flops_per_sample": 833040}},
             "datasets": {}}


def test_a_part_of_the_peak_workload_is_checked_against_its_workload():
    want = pr_recompute.expected(CATALOGUE, {"benchmark": "peak-matmul", "model": "matmul-4096"})
    assert want == {"benchmark_version": 3, "dataset": "synthetic", "scenario": "peak", "parameters": None,
                    "flops_per_sample": None}
    assert pr_recompute.expected(CATALOGUE, {"benchmark": "fwdbwd-lenet5-x"}) is None
    assert pr_recompute.expected(CATALOGUE, {"benchmark": "fwdbwd-lenet5"})["flops_per_sample"] == 833040


def test_a_commit_that_cannot_be_materialised_is_a_problem(tmp_path):
    git(tmp_path, "init", "-q")
    problems = pr_recompute.contradictions(tmp_path, "f" * 40, {"results": []}, "x.toml")
    assert [p.code for p in problems] == [pr_recompute.CODE]
    assert "cannot be recomputed at commit ffffffffffff" in problems[0].message
