"""Plausibility checks (contract/plausibility.py), played through tools/validate.py as a contributor meets them:
every tester's case is a re-hashed fragment, rejected with its check code, its file named, nothing changed."""

from __future__ import annotations

import copy
import json
import subprocess
import sys

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from conftest import REPO, run_tool, snapshot, write_fragment
from dlbench.contract.plausibility import cpu_ceiling
from dlbench.store.synthetic import synthetic_run

CPU_RUN, GPU_RUN = 4, 0     # synthetic runs: index 4 is a CPU run, index 0 an RTX 3050 run


def edited(i: int, edit) -> dict:
    run = copy.deepcopy(synthetic_run(i))
    run.pop("run_id")
    edit(run)
    return run


def rejected(repo, run, code: str) -> str:
    path = write_fragment(repo, run)
    before = snapshot(repo)
    res = run_tool("validate", "--github", str(path.relative_to(repo)), cwd=repo)
    assert res.returncode == 1, res.stdout + res.stderr
    assert "Traceback" not in res.stderr
    assert f"title={code}::" in res.stderr, res.stderr
    assert f"data/fragments/{path.name}" in res.stderr
    assert snapshot(repo) == before
    return res.stderr


def metrics(run):
    return run["results"][0]["metrics"]


def test_valid_synthetic_runs_pass(repo):
    for i in range(5):
        write_fragment(repo, synthetic_run(i))
    res = run_tool("validate", cwd=repo)
    assert res.returncode == 0, res.stderr


def test_the_dataset_and_its_h100_run_pass():
    res = run_tool("validate", "data/benchmark.toml", cwd=REPO)
    assert res.returncode == 0, res.stderr
    assert run_tool("merge", "--check", cwd=REPO).returncode == 0


def test_accuracy_in_half_a_second(repo):
    def edit(run):
        metrics(run).update(accuracy=0.9994, compute_s=0.5)
    err = rejected(repo, edited(CPU_RUN, edit), "epoch-sum-mismatch")
    assert "title=throughput-mismatch::" in err


def test_half_a_second_with_a_matching_throughput_is_physics(repo):
    def edit(run):
        m = metrics(run)
        m.update(accuracy=0.9994, compute_s=0.5, throughput_samples_per_s=60000 * 40 / 0.5,
                 epoch_s=[0.0125] * 40)
    rejected(repo, edited(CPU_RUN, edit), "flops-exceed-peak")


def test_1e15_samples_per_s_on_a_cpu(repo):
    rejected(repo, edited(CPU_RUN, lambda r: metrics(r).update(throughput_samples_per_s=1e15)),
             "flops-exceed-universal")


def test_peak_rss_of_9e15_bytes(repo):
    err = rejected(repo, edited(CPU_RUN, lambda r: metrics(r).update(peak_host_rss_bytes=9 * 10**15)),
                   "host-memory-universal")
    assert "title=host-memory-exceeds::" in err


def test_epochs_summing_to_99999_s(repo):
    def edit(run):
        metrics(run).update(compute_s=0.5, epoch_s=[99_999 / 40] * 40)
    err = rejected(repo, edited(CPU_RUN, edit), "epoch-sum-mismatch")
    assert "title=phase-exceeds-total::" in err


def test_a_start_in_1970(repo):
    def edit(run):
        run.update(started_at="1970-01-01T00:00:00Z", finished_at="1970-01-01T00:10:00Z")
    rejected(repo, edited(CPU_RUN, edit), "date-too-early")


def test_a_million_devices(repo):
    err = rejected(repo, edited(GPU_RUN, lambda r: r["results"][0].update(device_count=1_000_000)),
                   "device-count-exceeds-system")
    assert "NVIDIA RTX 3050" in err


def test_cpu_only_system_claiming_eight_h100s(repo):
    def edit(run):
        run["results"][0].update(device_kind="cuda", device_name="NVIDIA H100 80GB HBM3", device_count=8)
    rejected(repo, edited(CPU_RUN, edit), "device-not-in-system")


def test_device_kind_must_match_the_accelerator(repo):
    rejected(repo, edited(GPU_RUN, lambda r: r["results"][0].update(device_kind="rocm")), "device-kind-mismatch")


def test_elapsed_shorter_than_the_repeats(repo):
    def edit(run):
        run["finished_at"] = run["started_at"]
    rejected(repo, edited(CPU_RUN, edit), "elapsed-too-short")


def test_steps_must_follow_from_the_data(repo):
    rejected(repo, edited(CPU_RUN, lambda r: r["results"][0].update(steps=3)), "steps-mismatch")


def test_device_memory_beyond_the_device(repo):
    rejected(repo, edited(GPU_RUN, lambda r: metrics(r).update(peak_device_allocated_bytes=80 * 2**30)),
             "device-memory-exceeds")


def test_unknown_accelerator_is_unverified_not_rejected(repo):
    def edit(run):
        acc = run["system"]["accelerators"][0]
        acc.update(name="Example NPU 9", normalized_name="Example NPU 9")
        run["results"][0]["device_name"] = "Example NPU 9"
    path = write_fragment(repo, edited(GPU_RUN, edit))
    res = run_tool("validate", "--github", str(path.relative_to(repo)), cwd=repo)
    assert res.returncode == 0, res.stderr
    assert "::warning" in res.stderr and "title=unverified-device::" in res.stderr
    assert "UNVERIFIED" in res.stderr


def test_cpu_ceiling_is_generous_but_finite():
    amd = {"physical_cores": 6, "logical_cores": 12, "max_frequency_mhz": 3600.0, "flags": ["avx2", "fma"]}
    assert cpu_ceiling(amd, "fp32") == 12 * 3.6e9 * 32 * 2
    assert 1e12 < cpu_ceiling({}, "fp32") < 1e15


# ---- property-based: no mutation of a valid fragment crashes validate or merge, or changes data/ when rejected

_leaf = st.one_of(st.none(), st.booleans(), st.integers(-2**70, 2**70),
                  st.floats(allow_nan=False), st.text(max_size=20))
_value = st.recursive(_leaf, lambda inner: st.one_of(st.lists(inner, max_size=3),
                                                     st.dictionaries(st.text(max_size=8), inner, max_size=3)),
                      max_leaves=12)


def _paths(node, prefix=()):
    yield prefix
    if isinstance(node, dict):
        for k, v in node.items():
            yield from _paths(v, prefix + (k,))
    elif isinstance(node, list):
        for i, v in enumerate(node):
            yield from _paths(v, prefix + (i,))


@st.composite
def mutated(draw):
    run = copy.deepcopy(synthetic_run(draw(st.integers(0, 9))))
    run.pop("run_id")
    for _ in range(draw(st.integers(1, 3))):
        paths = [p for p in _paths(run) if p]
        path = draw(st.sampled_from(paths))
        node = run
        for k in path[:-1]:
            node = node[k]
        op = draw(st.sampled_from(["set", "delete", "add", "nest", "scale"]))
        key = path[-1]
        if op == "delete" and isinstance(node, dict):
            del node[key]
        elif op == "add" and isinstance(node, dict):
            node[draw(st.text(min_size=1, max_size=8))] = draw(_value)
        elif op == "nest":
            deep = draw(_leaf)
            for _ in range(draw(st.integers(1, 40))):
                deep = [deep] if draw(st.booleans()) else {"k": deep}
            node[key] = deep
        elif op == "scale" and isinstance(node[key], (int, float)) and not isinstance(node[key], bool):
            node[key] = node[key] * draw(st.sampled_from([-1, 0, 1e-9, 1e9, 1e300]))
        else:
            node[key] = draw(_value)
    return run


def _write_any(repo, run) -> "Path":
    try:
        return write_fragment(repo, run)
    except Exception:  # not TOML-writable (or not hashable): write what a hand edit might leave
        path = repo / "data" / "fragments" / "0123456789abcdef.toml"
        path.write_text("# hand-written\n" + json.dumps(run, default=str)[:5000], encoding="utf-8")
        return path


@settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck))
@given(run=mutated())
def test_mutated_fragments_never_crash_validate_or_merge(tmp_path_factory, run):
    repo = tmp_path_factory.mktemp("fuzz")
    (repo / "data" / "fragments").mkdir(parents=True)
    path = _write_any(repo, run)
    before = snapshot(repo)
    for tool in ("validate", "merge"):
        args = [str(path.relative_to(repo))] if tool == "validate" else ["--root", str(repo)]
        res = run_tool(tool, *args, cwd=repo)
        assert "Traceback" not in res.stderr, res.stderr
        assert res.returncode in (0, 1), (tool, res.returncode, res.stderr)
        if res.returncode == 1:
            assert path.name in res.stderr, res.stderr
            after = snapshot(repo)
            # a rejected fragment stays as it was; merge may still (re)write the generated files of the valid rest
            assert after[f"data/fragments/{path.name}"] == before[f"data/fragments/{path.name}"]
            if tool == "validate":
                assert after == before
        if tool == "merge":
            break
