"""The sharded JSON API (dlbench.store.shards): size limit, counts, determinism and append stability at 100,000 runs."""

from __future__ import annotations

import copy
import hashlib
import json
from collections import Counter

import pytest

from conftest import merge_synthetic, run_tool
from dlbench.contract.fragment import with_run_id
from dlbench.store import shards
from dlbench.store.synthetic import synthetic_run

N_RUNS = 100_000
N_EARLIER = 90_000
API = shards.API_DIR


@pytest.fixture(scope="session")
def big_runs() -> list[dict]:
    return [synthetic_run(i) for i in range(N_RUNS)]


@pytest.fixture(scope="session")
def big_api(big_runs) -> dict[str, bytes]:
    return shards.build(big_runs, "f" * 64)


def parts_of(files: dict[str, bytes], workload: dict) -> list[dict]:
    return [json.loads(files[f"{API}/{name}"]) for name in workload["files"]]


def test_every_file_is_under_the_limit_and_the_index_names_them_all(big_api):
    index = json.loads(big_api[f"{API}/index.json"])
    assert index["max_file_bytes"] == shards.MAX_SHARD_BYTES == 1024 * 1024
    too_big = {path: len(data) for path, data in big_api.items() if len(data) > shards.MAX_SHARD_BYTES}
    assert too_big == {}
    named = {f"{API}/{name}" for w in index["workloads"] for name in w["files"]}
    assert named | {f"{API}/index.json"} == set(big_api)
    assert all(len(w["files"]) > 10 for w in index["workloads"])    # 100,000 runs do need several parts
    # Parts are filled: each but the last holds more than 90 % of the limit.
    for w in index["workloads"]:
        assert all(len(big_api[f"{API}/{n}"]) > 0.9 * shards.MAX_SHARD_BYTES for n in w["files"][:-1])


def test_index_counts_match_the_runs_and_the_parts(big_runs, big_api):
    index = json.loads(big_api[f"{API}/index.json"])
    results = [(run, res) for run in big_runs for res in run["results"]]
    assert (index["run_count"], index["result_count"]) == (N_RUNS, len(results))
    assert (index["api_version"], index["schema_version"], index["source_sha256"]) == (1, 1, "f" * 64)
    by_workload = Counter(res["benchmark"] for _, res in results)
    assert {w["name"]: w["result_count"] for w in index["workloads"]} == by_workload
    for w in index["workloads"]:
        parts = parts_of(big_api, w)
        assert [p["part"] for p in parts] == list(range(1, len(parts) + 1))
        assert all(p["benchmark"] == w["name"] and p["result_count"] == len(p["results"]) for p in parts)
        rows = [row for p in parts for row in p["results"]]
        assert len(rows) == w["result_count"]
        # Every result once, in merge order.
        assert [r["run_id"] for r in rows] == [run["run_id"] for run, res in results if res["benchmark"] == w["name"]]
        assert w["statuses"] == {"ok": w["result_count"]}
        assert w["device_count"] == len({r["device"] for r in rows}) == 5
    devices = Counter(res["device_name"] for _, res in results)
    assert {d["name"]: d["result_count"] for d in index["devices"]} == devices
    assert [f["name"] for f in index["frameworks"]] == ["torch"]
    assert index["frameworks"][0]["run_count"] == N_RUNS


def test_output_is_deterministic(big_runs, big_api):
    again = shards.build(copy.copy(big_runs), "f" * 64)
    assert list(again) == list(big_api)
    assert again == big_api


JUDGED = ("outlier", "corroborated_by")      # what new runs of the same groups change in earlier rows


def _rows(files: dict[str, bytes], workload: dict) -> list[dict]:
    return [row for part in parts_of(files, workload) for row in part["results"]]


def _unjudged(rows: list[dict]) -> list[dict]:
    return [{k: v for k, v in row.items() if k not in JUDGED} for row in rows]


def test_appending_runs_keeps_earlier_rows_in_order_and_changes_only_their_judgements(big_runs, big_api):
    earlier = shards.build(big_runs[:N_EARLIER], "e" * 64)
    old_index = json.loads(earlier[f"{API}/index.json"])
    new_index = {w["name"]: w for w in json.loads(big_api[f"{API}/index.json"])["workloads"]}
    for w in old_index["workloads"]:
        old_rows, new_rows = _rows(earlier, w), _rows(big_api, new_index[w["name"]])
        assert len(new_rows) > len(old_rows)
        assert _unjudged(new_rows[:len(old_rows)]) == _unjudged(old_rows)
        # New runs of the same devices and setting agree with earlier ones: their corroboration grows.
        assert sum(a["corroborated_by"] < b["corroborated_by"] for a, b in zip(old_rows, new_rows)) > len(old_rows) / 2


def test_appending_runs_of_new_groups_leaves_earlier_parts_byte_identical():
    runs = [synthetic_run(i) for i in range(3000)]
    bf16 = [_run_with(i, lambda r: r["results"][0].update(precision="bf16")) for i in range(2000, 3000)]
    earlier = shards.build(runs[:2000], max_bytes=64 * 1024)
    later = shards.build(runs[:2000] + bf16, max_bytes=64 * 1024)     # another setting: other groups
    same_groups = shards.build(runs, max_bytes=64 * 1024)
    old_index = json.loads(earlier[f"{API}/index.json"])
    for w in old_index["workloads"]:
        *full, last = [f"{API}/{n}" for n in w["files"]]
        assert len(full) > 3 and all(earlier[path] == later[path] for path in full)
        # The last part only grows: its rows are a prefix of the same part after the append.
        old_rows = json.loads(earlier[last])["results"]
        new_rows = json.loads(later[last])["results"]
        assert len(new_rows) > len(old_rows) and new_rows[:len(old_rows)] == old_rows
        # Runs of the same groups do change earlier parts: the corroboration of their rows.
        assert any(earlier[path] != same_groups[path] for path in full)


def _run_with(i: int, change) -> dict:
    run = copy.deepcopy(synthetic_run(i))
    change(run)
    return with_run_id(run)


def test_a_row_carries_the_device_configuration_metrics_and_provenance():
    run = synthetic_run(0)
    row = shards.flatten(run, 0)
    res = run["results"][0]
    assert row["device"] == "NVIDIA RTX 3050"
    assert {k: row[k] for k in ("framework", "batch_size", "precision", "status")} == \
        {"framework": "torch", "batch_size": 512, "precision": "fp32", "status": "ok"}
    assert row["metrics"] == {k: v for k, v in res["metrics"].items() if k != "epoch_s"}
    assert row["provenance"] == {"kind": "measured", "git_commit": run["provenance"]["git_commit"], "git_dirty": False,
                                 "runner_version": "0.1.0", "command": run["provenance"]["command"]}
    assert (row["run_id"], row["result_index"], row["started_at"]) == (run["run_id"], 0, run["started_at"])


def test_imported_rows_name_their_source_and_long_commands_are_cut():
    source = {"title": "A blog post", "url": "https://example.org/post", "published": "2019"}
    imported = _run_with(4, lambda r: r.update(provenance={"kind": "imported", "source": source}))
    assert shards.flatten(imported, 0)["provenance"] == {"kind": "imported", "source": source}
    long = _run_with(0, lambda r: r["provenance"].update(command=["run.py"] + ["x" * 500] * 10))
    prov = shards.flatten(long, 0)["provenance"]
    assert prov["command_truncated"] is True
    assert prov["command"] == ["run.py"] + ["x" * 500] * 3


def test_device_falls_back_to_the_accelerator_or_cpu_model():
    def drop_name(r):
        del r["results"][0]["device_name"]
    assert shards.flatten(_run_with(1, drop_name), 0)["device"] == "NVIDIA RTX 3090"
    assert shards.flatten(_run_with(4, drop_name), 0)["device"] == "AMD Ryzen 5 3600 6-Core Processor"

    def two_gpus(r):
        drop_name(r)
        r["system"]["accelerators"].append(dict(r["system"]["accelerators"][0], normalized_name="Other GPU"))
    assert shards.flatten(_run_with(1, two_gpus), 0)["device"] == "unknown cuda"


def test_limits_that_cannot_be_met_raise_a_clear_error():
    runs = [synthetic_run(i) for i in range(3)]
    with pytest.raises(shards.ShardError, match=r"needs \d+ bytes, more than the 500-byte shard limit"):
        shards.build(runs, max_bytes=500)
    with pytest.raises(shards.ShardError, match="index.json would be"):
        shards.build(runs, max_bytes=1000)
    small = shards.build([synthetic_run(i) for i in range(40)], max_bytes=4000)
    assert max(len(v) for v in small.values()) <= 4000
    parts = [json.loads(v) for k, v in small.items() if not k.endswith("index.json")]
    assert len(parts) > 5 and sum(p["result_count"] for p in parts) == 40


def test_merge_writes_the_api_and_removes_parts_no_longer_produced(repo):
    merge_synthetic(repo, 6)
    index = json.loads((repo / API / "index.json").read_text())
    whole = json.loads((repo / "data" / "benchmark.json").read_text())
    assert index["run_count"] == whole["run_count"] == 6
    # One canonical file: the index lists it with its hash, and its source_sha256 hashes the "path sha256" lines.
    assert index["parts"] == [{"path": "data/benchmark.toml", "json": "data/benchmark.json",
                               "sha256": whole["source_sha256"], "run_count": 6}]
    line = f"data/benchmark.toml {whole['source_sha256']}\n".encode()
    assert index["source_sha256"] == hashlib.sha256(line).hexdigest()
    assert index["replaced_count"] == 0
    for w in index["workloads"]:
        assert [json.loads((repo / API / f).read_text())["result_count"] for f in w["files"]] == [3]
    stray = repo / API / "workloads" / "mnist-lenet5" / "2.json"
    stray.write_text("{}")
    check = run_tool("merge", "--root", str(repo), "--check")
    assert check.returncode == 1 and "workloads/mnist-lenet5/2.json" in check.stdout + check.stderr
    assert run_tool("merge", "--root", str(repo)).returncode == 0
    assert not stray.exists()
    assert run_tool("merge", "--root", str(repo), "--check").returncode == 0


def test_rows_carry_the_sweep_the_global_batch_and_the_energy_and_the_index_reads_their_metrics():
    import capacitydata as cap

    runs = cap.runs()
    files = shards.build(runs)
    index = json.loads(files[f"{shards.API_DIR}/index.json"])
    part = json.loads(files[f"{shards.API_DIR}/workloads/{cap.WORKLOAD}/1.json"])
    rows = {(r["device"], r["batch_size"], r["device_count"]): r for r in part["results"]}
    sweep = rows[(cap.H100, 832, 1)]
    assert sweep["batch_sweep"] == cap.sweep_of(cap.H100) and sweep["energy"] == cap.ENERGY_H100
    assert sweep["metrics"]["largest_fitting_batch"] == 832 and "global_batch_size" not in sweep
    assert rows[(cap.RTX4090, 192, 1)]["energy"] == {"missing": cap.ENERGY_MISSING}
    assert "energy_j" not in rows[(cap.RTX4090, 192, 1)]["metrics"]            # missing, never 0
    two = rows[(cap.H100, cap.SCALING_BATCH, 2)]
    assert (two["global_batch_size"], two["metrics"]["scaling_efficiency"], two["strategy"]) == (512, 0.9, "data-parallel")
    assert "batch_sweep" not in two
    assert {m: index["metrics"][m] for m in ("energy_j", "average_power_w", "samples_per_joule", "scaling_efficiency",
                                              "largest_fitting_batch", "memory_per_sample_bytes")} == {
        "energy_j": {"unit": "J", "higher_is_better": False}, "average_power_w": {"unit": "W", "higher_is_better": False},
        "samples_per_joule": {"unit": "samples/J", "higher_is_better": True},
        "scaling_efficiency": {"unit": "", "higher_is_better": True},
        "largest_fitting_batch": {"unit": "samples", "higher_is_better": True},
        "memory_per_sample_bytes": {"unit": "bytes", "higher_is_better": False}}
    assert shards.build(runs) == files


def test_the_largest_sweep_the_schema_allows_fits_in_one_part():
    import capacitydata as cap
    from dlbench.contract.validate import validate_run

    run = copy.deepcopy(cap.sweep_run(0, cap.H100))
    sweep = run["results"][0]["batch_sweep"]
    point = {"batch_size": 1, "status": "oom", "message": "m" * 500, "throughput_samples_per_s": 1.0e6,
             "step_ms": 123.456789, "peak_device_bytes": 2**52, "peak_host_rss_bytes": 2**52}
    sweep["points"] = [dict(point, batch_size=b + 1) for b in range(200)]
    run = with_run_id(run)
    assert validate_run(run) == []
    files = shards.build([run])
    size = len(files[f"{shards.API_DIR}/workloads/{cap.WORKLOAD}/1.json"])
    assert 100_000 < size < shards.MAX_SHARD_BYTES / 4
