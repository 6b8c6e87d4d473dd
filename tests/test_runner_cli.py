"""runners/run.py's command line: --list, --help, and usage errors (exit 2, nothing written)."""

from __future__ import annotations

import pytest

from conftest import run_tool
from dlbench.runner import workloads


def test_list_prints_one_workload_a_line():
    done = run_tool("run", "--list")
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[0].split()[:3] == ["workload", "scenario", "dataset"]
    rows = {line.split()[0]: line.split() for line in lines[1:] if line.split()[0] in workloads.WORKLOADS}
    assert list(rows) == list(workloads.WORKLOADS)
    for name in ("mnist-lenet5", "fashion-mnist-lenet5"):
        assert rows[name][1] == "train" and rows[name][4] == "512" and "40 epochs" in " ".join(rows[name])


def test_help_explains_every_option():
    done = run_tool("run", "--help")
    assert done.returncode == 0
    for option in ("--list", "--framework", "--epochs", "--batch-size", "--device", "--repeats", "--seed",
                   "--data-dir", "--out", "--contributor", "--notes", "WORKLOAD"):
        assert option in done.stdout
    for words in ("auto, cpu, cuda, cuda:N or mps", "default 0", "data/fragments/", "Exit status"):
        assert words in done.stdout


@pytest.mark.parametrize("args, message", [
    (["no-such-workload", "--framework", "torch"], "unknown workload 'no-such-workload'"),
    (["fashion-mnist-lenet5", "--framework", "torch", "--device", "gpu"], "invalid device 'gpu'"),
    (["fashion-mnist-lenet5", "--framework", "torch", "--device", "mps:1"], "invalid device 'mps:1'"),
    (["fashion-mnist-lenet5", "--framework", "jax"], "invalid choice: 'jax'"),
    (["fashion-mnist-lenet5"], "--framework is required"),
    ([], "give a WORKLOAD"),
    (["fashion-mnist-lenet5", "--framework", "torch", "--epochs", "0"], "must be at least 1"),
    (["fashion-mnist-lenet5", "--framework", "torch", "--batch-size", "many"], "is not a whole number"),
    (["fashion-mnist-lenet5", "--framework", "torch", "--contributor", "me@example.com"], "never an e-mail"),
])
def test_usage_errors_exit_2(tmp_path, args, message):
    done = run_tool("run", *args, "--out", str(tmp_path))
    assert done.returncode == 2, done.stderr
    assert message in done.stderr
    assert "Traceback" not in done.stderr
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("framework", ["torch", "tensorflow"])
def test_unavailable_cuda_is_a_usage_error(tmp_path, framework):
    if framework == "torch":
        torch = pytest.importorskip("torch")
        if torch.cuda.is_available():
            pytest.skip("this machine has a CUDA device")
    done = run_tool("run", "fashion-mnist-lenet5", "--framework", framework, "--device", "cuda:0",
                    "--out", str(tmp_path))
    if framework == "tensorflow" and done.returncode == 0:
        pytest.skip("TensorFlow sees a GPU here")
    assert done.returncode == 2, done.stderr
    assert "no CUDA" in done.stderr and "--device cpu" in done.stderr
    assert list(tmp_path.iterdir()) == []


def test_registry_holds_the_workloads():
    assert {"mnist-lenet5", "fashion-mnist-lenet5", "fwdbwd-alexnet", "infer-resnet50", "peak"} <= set(workloads.WORKLOADS)
    w = workloads.get("fashion-mnist-lenet5")
    assert (w.scenario, w.dataset, w.model, w.epochs, w.batch_size) == ("train", "fashion-mnist", "lenet5", 40, 512)


def test_device_strings():
    from dlbench.runner.backends import parse_device

    assert parse_device("auto") == parse_device(" AUTO ")
    assert (parse_device("cuda:3").kind, parse_device("cuda:3").index) == ("cuda", 3)
    assert (parse_device("cuda").kind, parse_device("cuda").index) == ("cuda", None)
    assert parse_device("mps").kind == "mps" and parse_device("cpu").kind == "cpu"
    for bad in ("gpu", "cuda:", "cuda:-1", "cpu:0", "cuda:0:1", ""):
        with pytest.raises(ValueError, match="use auto, cpu, cuda, cuda:N or mps"):
            parse_device(bad)


def test_progress_is_silent_off_a_terminal(tmp_path):
    import io

    from dlbench.runner.progress import BarProgress, for_stream

    assert for_stream(io.StringIO()).every == 0  # the training loop then makes no progress calls
    with open(tmp_path / "log", "w") as f:
        assert for_stream(f).every == 0
    assert BarProgress(io.StringIO()).every > 0
