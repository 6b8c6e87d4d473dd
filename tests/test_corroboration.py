"""Outliers and corroboration (dlbench.store.corroboration): the rule on hand-made groups, the keys the API's
rows carry after tools/merge.py, the results frame's columns, and tools/compare.py --no-outliers."""

from __future__ import annotations

import copy
import datetime
import json
from pathlib import Path

import pytest

from conftest import run_tool, write_fragment
from dlbench.analysis.frame import load_results
from dlbench.contract.fragment import with_run_id
from dlbench.contract.tomlio import format_datetime, parse_datetime
from dlbench.store import corroboration as co
from dlbench.store.synthetic import synthetic_run

TPUT = "throughput_samples_per_s"


def item(x: float | None, run_id: str, commit: str | None = "a", contributor: str | None = None,
         source: dict | None = None, metrics: dict | None = None, status: str = "ok", **setting) -> tuple:
    """A (run, result, device) item of workload `w` on `GPU` with `x` as its throughput; `source`: imported."""
    prov: dict = {"kind": "imported", "source": source} if source else {"kind": "measured", "git_commit": commit}
    if contributor:
        prov["contributor"] = contributor
    result = {"benchmark": "w", "benchmark_version": 1, "framework": "torch", "precision": "fp32", "batch_size": 64,
              "device_kind": "cuda", "device_count": 1, "epochs": 1, "status": status,
              "metrics": metrics if metrics is not None else ({} if x is None else {TPUT: x})}
    result.update(setting)
    return {"run_id": run_id, "provenance": prov}, result, "GPU"


def verdicts(items) -> list:
    return co.judge(items)


# --- the outlier rule ---------------------------------------------------------------------------------------

def test_one_far_value_of_five_is_an_outlier():
    # median 101, |x - 101| = 1, 1, 3, 0, 49: MAD 1, so the limit is 3.5 x 1.4826 x 1 = 5.19
    assert co.outliers([100, 102, 98, 101, 150]) == [False, False, False, False, True]
    got = verdicts([item(x, f"r{i}", commit=str(i)) for i, x in enumerate([100, 102, 98, 101, 150])])
    assert [v.outlier for v in got] == [False, False, False, False, True]
    assert {v.group_size for v in got} == {5} and {v.metric for v in got} == {TPUT}


def test_the_limit_is_k_scaled_mads_either_side():
    # median 100, |x - 100| = 0, 1, 1, 2, 2, 0 and the last: MAD 1, so the limit is 3.5 x 1.4826 = 5.19
    close = [100, 99, 101, 98, 102, 100]
    assert co.outliers(close + [105]) == [False] * 7
    assert co.outliers(close + [105.2]) == [False] * 6 + [True]
    assert co.outliers(close + [94.8]) == [False] * 6 + [True]


def test_mad_zero_uses_the_margin_around_the_median():
    # three equal values: MAD 0; then an outlier is more than 10 % of the median (10) away from it
    assert co.outliers([100, 100, 100, 105, 120]) == [False, False, False, False, True]
    assert co.outliers([100, 100, 100, 109.9, 90.1]) == [False] * 5
    assert co.outliers([0, 0, 0, 0.001]) == [False, False, False, True]


def test_a_group_of_two_is_not_judged():
    assert co.outliers([100, 1000]) == [None, None]
    got = verdicts([item(100, "r1", commit="1"), item(1000, "r2", commit="2")])
    assert [(v.outlier, v.group_size) for v in got] == [(None, 2), (None, 2)]
    assert [v.fields() for v in got] == [{"corroborated_by": 0}, {"corroborated_by": 0}]   # no `outlier` key


def test_groups_are_split_by_device_and_setting_and_failures_take_no_part():
    items = [item(100, "r1", commit="1"), item(101, "r2", commit="2"), item(5000, "r3", commit="3"),
             item(100, "r4", commit="4", batch_size=128),            # another setting
             item(100, "r5", commit="5", precision="bf16"),
             item(100, "r6", commit="6", channels_last=True),
             item(None, "r7", commit="7", status="oom"),
             item(None, "r8", commit="8", metrics={"accuracy": 0.9})]   # no headline metric
    items.append((items[0][0] | {"run_id": "r9"}, items[0][1], "Other GPU"))
    got = verdicts(items)
    assert [v and v.group_size for v in got] == [3, 3, 3, 1, 1, 1, None, None, 1]
    # 5000 beside 100 and 101: median 101, MAD = median(1, 0, 4899) = 1, so it is an outlier
    assert [v.outlier for v in got[:3]] == [False, False, True]


# --- corroboration ------------------------------------------------------------------------------------------

def test_corroboration_counts_other_independent_runs_within_the_margin():
    items = [
        item(100, "r1", commit="a"),
        item(101, "r2", commit="a"),                       # same commit, no contributor: not independent of r1
        item(99, "r3", commit="a", contributor="bob"),     # same commit, another contributor: independent
        item(109, "r4", commit="b"),                       # within 10 % of 100
        item(111, "r5", commit="c"),                       # 11 % above 100; but 100 is within 10 % of 111
        item(150, "r6", commit="d"),
    ]
    got = [v.corroborated_by for v in verdicts(items)]
    # r1 [90, 110]: r3, r4 (r2 shares its origin); r2 [90.9, 111.1]: r3, r4, r5;
    # r3 [89.1, 108.9]: r1, r2; r4 [98.1, 119.9]: r1, r2, r3, r5; r5 [99.9, 122.1]: r1, r2, r4; r6: none
    assert got == [2, 3, 2, 4, 3, 0]


def test_several_results_of_one_run_count_once():
    run, result, device = item(100.5, "r2", commit="b")
    second = dict(result, metrics={TPUT: 100.7})
    items = [item(100, "r1", commit="a"), (run, result, device), (run, second, device), item(102, "r3", commit="c")]
    got = [v.corroborated_by for v in verdicts(items)]
    # r1: run r2 (twice, counted once) and r3; each result of r2: r1 and r3, never itself
    assert got == [2, 2, 2, 2]


def test_imported_rows_are_independent_by_source_url_and_section():
    url = "https://example.org/post"
    items = [
        item(100, "i1", source={"title": "Post", "url": url, "section": "Table 1"}),
        item(102, "i2", source={"title": "Post", "url": url, "section": "Table 1"}),     # the same table
        item(101, "i3", source={"title": "Post", "url": url, "section": "Table 2"}),     # another table
        item(103, "i4", source={"title": "Other post", "url": "https://example.org/other"}),
        item(99, "m1", commit="a"),                                                      # measured
    ]
    got = [v.corroborated_by for v in verdicts(items)]
    assert got == [3, 3, 4, 4, 4]     # i1 and i2 do not count each other; every other pair does
    assert co.origin(items[3][0]) == ("imported", "https://example.org/other", None)
    assert co.origin(item(1, "x", source={"title": "No link"})[0]) == ("imported", "No link", None)


def test_judgements_do_not_depend_on_the_order_of_the_results():
    items = [item(x, f"r{i}", commit=str(i % 3)) for i, x in enumerate([100, 104, 97, 250, 101, 99, 108])]
    forward = verdicts(items)
    assert verdicts(items[::-1]) == forward[::-1]
    assert [v.outlier for v in forward] == [False, False, False, True, False, False, False]


# --- the headline metric ------------------------------------------------------------------------------------

def test_headline_metric_is_compares_default_metric_per_workload():
    judge = co.Judge()
    for run, result, device in [
        item(None, "m", metrics={TPUT: 1000.0, "compute_s": 10.0, "total_s": 12.0}),
        item(None, "i", source={"title": "T"}, metrics={"compute_s": 11.0, "total_s": 13.0}),  # no throughput
        item(None, "f", status="oom", metrics={}),
        item(None, "s1", metrics={"forward_ms": 2.0, "backward_ms": 4.0, "step_ms": 7.0, TPUT: 5.0}, benchmark="s"),
        item(None, "s2", source={"title": "T"}, metrics={"forward_ms": 3.0, "backward_ms": 5.0}, benchmark="s"),
        item(None, "p", metrics={"achieved_flops_per_s": 1e12}, benchmark="peak-matmul"),
    ]:
        judge.add(run, result, device)
    assert judge.headline_metrics() == {"s": "forward_backward_ms", "w": "compute_s"}   # peak-matmul: none
    got = judge.judgements()
    assert [v and v.metric for v in got] == ["compute_s", "compute_s", None, "forward_backward_ms",
                                             "forward_backward_ms", None]
    # forward_backward_ms = forward + backward: 6 and 8 ms are not within 10 % of each other
    assert [got[3].corroborated_by, got[4].corroborated_by] == [0, 0]


def test_epochs_split_groups_only_for_whole_run_durations():
    by_time = [item(None, f"r{i}", commit=str(i), epochs=e, metrics={"compute_s": 10.0 * e})
               for i, e in enumerate((1, 1, 40))]
    assert [v.group_size for v in verdicts(by_time)] == [2, 2, 1]
    by_rate = [item(1000.0, f"r{i}", commit=str(i), epochs=e) for i, e in enumerate((1, 1, 40))]
    assert [v.group_size for v in verdicts(by_rate)] == [3, 3, 3]


# --- through tools/merge.py, the frame and tools/compare.py ------------------------------------------------

def measured(i: int, compute: float, commit: str, device: str = "NVIDIA RTX 3050") -> dict:
    """A valid measured mnist-lenet5 run of 40 epochs on `device` (cuda), from runner commit `commit` x 40."""
    run = copy.deepcopy(synthetic_run(0))
    run.pop("run_id")
    run["started_at"] = format_datetime(parse_datetime(run["started_at"]) + datetime.timedelta(hours=i))
    run["finished_at"] = format_datetime(parse_datetime(run["started_at"]) + datetime.timedelta(seconds=compute + 10))
    run["provenance"]["git_commit"] = commit * 40
    result = run["results"][0]
    result["device_name"] = device
    result["metrics"] = {"total_s": compute + 5, "compute_s": compute, TPUT: 60000 * 40 / compute}
    run["system"]["accelerators"] = [{"kind": "cuda", "name": device, "normalized_name": device, "count": 1}]
    return with_run_id(run)


COMPUTE = (10.0, 10.4, 10.8, 30.0)    # throughputs 240,000, 230,769, 222,222 and 80,000 samples/s


@pytest.fixture(scope="module")
def dataset(tmp_path_factory) -> Path:
    """Four RTX 3050 runs of four commits (the last an outlier) and two A100 runs of one commit."""
    root = tmp_path_factory.mktemp("corroboration")
    (root / "data" / "fragments").mkdir(parents=True)
    runs = [measured(i, c, "abcd"[i]) for i, c in enumerate(COMPUTE)]
    runs += [measured(10 + i, c, "e", device="NVIDIA A100") for i, c in enumerate((5.0, 5.1))]
    for run in runs:
        write_fragment(root, run)
    done = run_tool("merge", "--root", str(root))
    assert done.returncode == 0, done.stderr
    return root


def test_merge_writes_the_keys_into_the_api_rows_and_the_rule_into_the_index(dataset):
    api = dataset / "data" / "api" / "v1"
    index = json.loads((api / "index.json").read_text())
    assert index["outlier_rule"] == {"k": 3.5, "mad_scale": 1.4826, "min_group": 3, "margin": 0.1}
    [workload] = index["workloads"]
    assert workload["outlier_metric"] == TPUT
    part = json.loads((api / "workloads" / "mnist-lenet5" / "1.json").read_text())
    got = {(r["device"], r["metrics"]["compute_s"]): (r.get("outlier"), r["corroborated_by"]) for r in part["results"]}
    assert got == {("NVIDIA RTX 3050", 10.0): (False, 2), ("NVIDIA RTX 3050", 10.4): (False, 2),
                   ("NVIDIA RTX 3050", 10.8): (False, 2), ("NVIDIA RTX 3050", 30.0): (True, 0),
                   ("NVIDIA A100", 5.0): (None, 0), ("NVIDIA A100", 5.1): (None, 0)}   # one commit: not independent
    assert all("outlier" not in r for r in part["results"] if r["device"] == "NVIDIA A100")
    assert run_tool("merge", "--root", str(dataset), "--check").returncode == 0


def test_the_frame_has_the_judgement_columns(dataset):
    df = load_results(dataset).sort_values("compute_s")
    assert str(df["outlier"].dtype) == "boolean" and str(df["corroborated_by"].dtype) == "Int64"
    assert df["outlier"].tolist()[2:] == [False, False, False, True] and df["outlier"].isna().tolist()[:2] == [True] * 2
    assert df["corroborated_by"].tolist() == [0, 0, 2, 2, 2, 0]
    assert df["group_size"].tolist() == [2, 2, 4, 4, 4, 4] and set(df["outlier_metric"]) == {TPUT}


def compare_json(root: Path, *args: str) -> dict:
    done = run_tool("compare", "--root", str(root), "--format", "json", "--metric", "compute_s", *args)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def test_compare_counts_outliers_and_no_outliers_leaves_them_out_of_the_median(dataset):
    kept = compare_json(dataset, "--baseline", "A100")
    rtx = next(r for r in kept["rows"] if r["device"] == "NVIDIA RTX 3050")
    assert (rtx["n"], rtx["max"], rtx["outliers"], rtx["corroborated"]) == (4, 30.0, 1, 3)
    assert rtx["median"] == pytest.approx(10.6)
    a100 = next(r for r in kept["rows"] if r["device"] == "NVIDIA A100")
    assert (a100["outliers"], a100["corroborated"]) == (None, 0)       # a group of 2: not judged
    assert kept["outliers"] == {"k": 3.5, "mad_scale": 1.4826, "min_group": 3, "margin": 0.1,
                                "judged_on": [TPUT], "left_out": False}
    left = compare_json(dataset, "--baseline", "A100", "--no-outliers")
    rtx = next(r for r in left["rows"] if r["device"] == "NVIDIA RTX 3050")
    assert (rtx["n"], rtx["median"], rtx["max"], rtx["outliers"], rtx["corroborated"]) == (3, 10.4, 10.8, 1, 3)
    assert rtx["speedup"] == pytest.approx(5.05 / 10.4) and rtx["note"] == "1 outlier left out; 3 of 3 corroborated"
    assert left["outliers"]["left_out"] is True


def test_compare_table_list_and_exit_codes(dataset):
    text = run_tool("compare", "--root", str(dataset), "--metric", "compute_s", "--no-outliers")
    assert text.returncode == 0, text.stderr
    lines = text.stdout.splitlines()
    assert lines[1].startswith("notes: an outlier is more than 3.5 x 1.4826 MAD from the median of its group "
                               "(same workload, device and setting, on throughput_samples_per_s;")
    assert lines[1].endswith("within 10 %; outliers are left out (--no-outliers)")
    [rtx] = [ln for ln in lines if ln.startswith("NVIDIA RTX 3050 (cuda)")]
    assert rtx.split()[5:11] == ["3", "10.4", "10", "10.8", "0.4", "-"]
    assert rtx.endswith("1 outlier left out; 3 of 3 corroborated")
    kept = run_tool("compare", "--root", str(dataset), "--metric", "compute_s", "--format", "markdown")
    assert "| NVIDIA RTX 3050 (cuda) | measured | 4 | 10.6 | 10 | 30 | 5.3 | - | 1 outlier; 3 of 4 corroborated |" \
        in kept.stdout.splitlines()
    listed = run_tool("compare", "--root", str(dataset), "--list")
    assert listed.returncode == 0
    assert "  NVIDIA RTX 3050 (cuda): 4 result(s), 1 outlier(s)\n" in listed.stdout
    assert "  NVIDIA A100 (cuda): 2 result(s)\n" in listed.stdout
    bad = run_tool("compare", "--root", str(dataset), "--no-outliers=yes")
    assert bad.returncode == 2 and "ignored explicit argument" in bad.stderr
    none = run_tool("compare", "--root", str(dataset), "--no-outliers", "--device", "H100")
    assert none.returncode == 1 and "no result matches --device 'H100'" in none.stderr
    helped = run_tool("compare", "--help")
    assert helped.returncode == 0 and "--no-outliers" in helped.stdout and "3.5 x 1.4826" in helped.stdout
