"""Training on part of a dataset (`runners/run.py --train-samples N --test-samples M`): the runner trains on the
first N / evaluates on the first M samples and records both, the plausibility rules count those samples, and
such a result is never pooled with whole-dataset results (compare, outliers and corroboration)."""

from __future__ import annotations

import copy
import json
import math

import pytest

from conftest import REPO, run_tool, snapshot, write_fragment
from dlbench.contract.fragment import with_run_id, write
from dlbench.contract.tomlio import read_toml
from dlbench.contract.validate import validate_run
from dlbench.store import corroboration as co
from dlbench.store.synthetic import synthetic_run
from test_compare import make_run
from test_corroboration import item
from test_runner_e2e import FASHION_MNIST

CPU_RUN = 4   # synthetic run 4: mnist-lenet5 on a CPU, 40 epochs of batch 512


def part_run(train: int = 6000, test: int = 1000, steps: int | None = None, throughput_of: int | None = None) -> dict:
    """Synthetic CPU run 4 as if trained on the first `train` and tested on the first `test` samples; `steps` and
    the throughput follow from `train` unless given (`throughput_of`: the sample count it is computed from)."""
    run = copy.deepcopy(synthetic_run(CPU_RUN))
    run.pop("run_id")
    result = run["results"][0]
    epochs, batch = result["epochs"], result["batch_size"]
    result.update(train_samples=train, test_samples=test,
                  steps=steps if steps is not None else math.ceil(train / batch) * epochs)
    m = result["metrics"]
    m["throughput_samples_per_s"] = round((throughput_of or train) * epochs / m["compute_s"], 2)
    return run


def validate(repo, run) -> tuple[int, str]:
    path = write_fragment(repo, run)
    before = snapshot(repo)
    res = run_tool("validate", "--github", str(path.relative_to(repo)), cwd=repo)
    assert "Traceback" not in res.stderr
    assert snapshot(repo) == before
    return res.returncode, res.stderr


# --- the plausibility rules count the part ------------------------------------------------------------------

def test_a_result_on_part_of_the_dataset_validates(repo):
    code, err = validate(repo, part_run())
    assert code == 0, err


@pytest.mark.parametrize("edit, code, field", [
    (dict(steps=118 * 40), "steps-mismatch", "steps"),                                   # the whole set's steps
    (dict(throughput_of=60_000), "throughput-mismatch", "throughput_samples_per_s"),      # the whole set's rate
    (dict(train=70_000), "samples-exceed-dataset", "train_samples"),                     # more than MNIST has
    (dict(test=10_001), "samples-exceed-dataset", "test_samples"),
])
def test_figures_that_do_not_follow_from_the_part_are_rejected(repo, edit, code, field):
    status, err = validate(repo, part_run(**edit))
    assert status == 1
    assert f"title={code}::" in err and field in err, err


def test_the_published_split_sizes_bound_the_parts(repo):
    status, err = validate(repo, part_run(train=70_000))
    assert "train_samples = 70,000, but the training split of mnist holds 60,000 samples" in err


# --- the runner's options -----------------------------------------------------------------------------------

@pytest.mark.parametrize("args, words", [
    (["fwdbwd-lenet5", "--framework", "torch", "--train-samples", "10"],
     ["--train-samples", "the step scenario of fwdbwd-lenet5 reads no dataset"]),
    (["peak", "--framework", "torch", "--test-samples", "10"], ["--test-samples", "the peak scenario"]),
    (["fashion-mnist-lenet5", "--framework", "torch", "--train-samples", "0"], ["--train-samples", "at least 1"]),
])
def test_usage_errors_name_the_option_and_why(tmp_path, args, words):
    res = run_tool("run", *args, "--out", str(tmp_path))
    assert res.returncode == 2 and "Traceback" not in res.stderr
    for w in words:
        assert w in res.stderr, res.stderr
    assert list(tmp_path.iterdir()) == []


def test_more_samples_than_the_split_holds_is_a_usage_error_naming_the_size(tmp_path):
    res = run_tool("run", "fashion-mnist-lenet5", "--framework", "torch", "--device", "cpu", "--test-samples",
                   "10001", "--out", str(tmp_path), timeout=600)
    assert res.returncode == 2 and "Traceback" not in res.stderr
    assert ("--test-samples: 10,001 test samples asked for, but the test split of fashion-mnist holds 10,000"
            in res.stderr), res.stderr
    assert list(tmp_path.iterdir()) == []


@pytest.fixture(scope="module")
def part_fragment(tmp_path_factory):
    assert (FASHION_MNIST / "train-images-idx3-ubyte.gz").is_file(), "run `bash tools/setup.sh` first"
    out = tmp_path_factory.mktemp("part")
    res = run_tool("run", "fashion-mnist-lenet5", "--framework", "torch", "--device", "cpu", "--epochs", "2",
                   "--batch-size", "256", "--train-samples", "1000", "--test-samples", "500", "--out", str(out),
                   timeout=900)
    assert res.returncode == 0, res.stderr
    (path,) = out.iterdir()
    return res, path


def test_the_runner_trains_on_the_part_and_records_it(part_fragment):
    res, path = part_fragment
    (result,) = read_toml(path, "fragment").data["results"]
    assert (result["train_samples"], result["test_samples"]) == (1000, 500)
    assert result["steps"] == math.ceil(1000 / 256) * 2 == 8 and result["epochs"] == 2
    m = result["metrics"]
    assert m["throughput_samples_per_s"] == pytest.approx(1000 * 2 / m["compute_s"], rel=0.01)
    assert abs(m["accuracy"] * 500 - round(m["accuracy"] * 500)) < 0.06   # a count of the 500 test images
    assert result["dataset"] == "fashion-mnist" and len(result["dataset_sha256"]) == 64  # the whole dataset's
    assert ("(on part of the dataset: the first 1,000 training samples and the first 500 test samples; compared "
            "only with results on the same part)") in res.stdout
    assert run_tool("validate", str(path)).returncode == 0


# --- never pooled with whole-dataset results ----------------------------------------------------------------

def test_compare_puts_a_part_in_a_setting_of_its_own(tmp_path):
    frags = tmp_path / "data" / "fragments"
    frags.mkdir(parents=True)
    for i, compute in enumerate((100, 110, 120)):
        write(make_run(i, "cpu", None, compute), frags)
    run = make_run(3, "cpu", None, 12.0)
    run.pop("run_id")
    result = run["results"][0]
    result.update(train_samples=6000, test_samples=1000)
    result["metrics"]["throughput_samples_per_s"] = 6000 * 40 / 12.0
    run = with_run_id(run)
    assert validate_run(run) == []
    write(run, frags)
    assert run_tool("merge", "--root", str(tmp_path)).returncode == 0
    res = run_tool("compare", "--root", str(tmp_path), "--workload", "mnist-lenet5", "--metric", "compute_s",
                   "--format", "json")
    assert res.returncode == 0, res.stderr
    rows = json.loads(res.stdout)["rows"]
    assert sorted((r["n"], r["train_samples"], r["test_samples"]) for r in rows) == [(1, 6000, 1000),
                                                                                    (3, None, None)]
    text = run_tool("compare", "--root", str(tmp_path), "--workload", "mnist-lenet5", "--metric", "compute_s").stdout
    assert "epochs 40, on the first 6,000 training samples, on the first 1,000 test samples" in text
    api = json.loads((tmp_path / "data" / "api" / "v1" / "workloads" / "mnist-lenet5" / "1.json").read_text())
    assert sorted(r.get("train_samples", 0) for r in api["results"]) == [0, 0, 0, 6000]


def test_a_part_is_judged_apart_from_whole_dataset_results():
    items = [item(100, f"r{i}", commit=str(i)) for i in range(3)]
    items.append(item(5000, "r3", commit="3", train_samples=256, test_samples=256))
    got = co.judge(items)
    assert [v.group_size for v in got] == [3, 3, 3, 1]
    assert got[3].outlier is None and got[3].corroborated_by == 0
