"""runners/run.py's command line for the scenarios: the --list table, --help, and the usage errors (exit 2,
naming the option and the reason, nothing written) of options a scenario, framework or device cannot use."""

from __future__ import annotations

import pytest

from conftest import run_tool
from dlbench.runner import workloads


def test_list_is_an_aligned_table_with_scenario_dataset_model_batch_and_cost():
    done = run_tool("run", "--list")
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    header = lines[0]
    titles = ("workload", "scenario", "dataset", "model", "batch", "defaults", "parameters", "FLOPs/sample")
    assert header.split() == list(titles)
    rows = {line.split()[0]: line for line in lines[1:len(workloads.WORKLOADS) + 1]}
    assert list(rows) == list(workloads.WORKLOADS)
    # Aligned: every column starts where its title does (the right-aligned ones end where it ends).
    for title in ("scenario", "dataset", "model"):
        start = header.index(title)
        assert all(row[start - 2:start] == "  " and row[start] != " " for row in rows.values()), title
    end = header.index("FLOPs/sample") + len("FLOPs/sample")
    assert all(len(row) == end for row in rows.values())
    lenet = rows["fwdbwd-lenet5"].split()
    assert lenet[1:5] == ["step", "synthetic", "lenet5", "512"] and "61,706" in lenet and lenet[-2:] == ["833", "K"]
    assert rows["fashion-mnist-lenet5"].split()[1:5] == ["train", "fashion-mnist", "lenet5", "512"]
    assert "40 epochs" in rows["fashion-mnist-lenet5"] and "10 + 50 iterations" in rows["fwdbwd-alexnet"]
    peak = rows["peak"].split()
    assert peak[1:5] == ["peak", "synthetic", "-", "-"] and peak[-2:] == ["-", "-"]  # no model: no cost
    for name, w in workloads.WORKLOADS.items():
        assert rows[name].split()[1] == w.scenario
    assert {"train", "step", "infer", "peak"} == {w.scenario for w in workloads.WORKLOADS.values()}


def test_help_describes_the_scenarios_and_the_options():
    done = run_tool("run", "--help")
    assert done.returncode == 0
    text = " ".join(done.stdout.split())
    for option in ("--precision", "--channels-last", "--compile", "--warmup", "--iterations"):
        assert option in text
    for words in ("train load the dataset", "step training steps on synthetic input", "infer the freshly built model",
                  "peak the device's ceiling", "PyTorch runs cuDNN convolutions in TensorFloat-32 by default",
                  "TensorFlow both", "turns TF32 off in both frameworks", "torch.compile", "XLA"):
        assert words in text, words


STEP = ["fwdbwd-lenet5", "--framework", "torch"]


@pytest.mark.parametrize("args, message", [
    (["fashion-mnist-lenet5", "--framework", "torch", "--warmup", "3"],
     "--warmup: the train scenario of fashion-mnist-lenet5 has no warm-up or timed iterations (it trains for "
     "--epochs)"),
    (["fashion-mnist-lenet5", "--framework", "torch", "--iterations", "3"],
     "--iterations: the train scenario of fashion-mnist-lenet5 has no warm-up or timed iterations"),
    ([*STEP, "--epochs", "2"], "--epochs: the step scenario of fwdbwd-lenet5 runs no epochs"),
    (["infer-fashion-mnist-lenet5", "--framework", "torch", "--epochs", "2"],
     "--epochs: the infer scenario of infer-fashion-mnist-lenet5 runs no epochs"),
    (["peak", "--framework", "torch", "--batch-size", "8"], "--batch-size: the peak scenario of peak has no batch"),
    (["peak", "--framework", "torch", "--channels-last"], "--channels-last: the peak scenario runs no model"),
    (["peak", "--framework", "torch", "--compile"], "--compile: the peak scenario runs no model"),
    (["fwdbwd-lenet5", "--framework", "tensorflow", "--channels-last"], "--channels-last: PyTorch only"),
    (["fwdbwd-gpt2-small", "--framework", "torch", "--channels-last"],
     "--channels-last: gpt2-small is not a convolutional network"),
    ([*STEP, "--precision", "fp8"], "invalid choice: 'fp8'"),
    ([*STEP, "--warmup", "-1"], "must be 0 or more"),
    ([*STEP, "--iterations", "0"], "must be at least 1"),
])
def test_options_a_scenario_cannot_use_are_usage_errors(tmp_path, capsys, args, message):
    # In this process (the command's own main): these are refused before any framework is imported.
    from dlbench.cli.run import main

    with pytest.raises(SystemExit) as exit:
        main([*args, "--out", str(tmp_path)])
    assert exit.value.code == 2
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("framework", ["torch", "tensorflow"])
def test_tf32_on_a_device_without_it_is_a_usage_error(tmp_path, framework):
    done = run_tool("run", "fwdbwd-lenet5", "--framework", framework, "--device", "cpu", "--precision", "tf32",
                    "--out", str(tmp_path))
    assert done.returncode == 2, done.stderr
    assert "--precision tf32: this device (cpu) has no TensorFloat-32 (NVIDIA compute capability 8.0 or later)" \
        in done.stderr
    assert "Traceback" not in done.stderr and list(tmp_path.iterdir()) == []


def test_a_peak_precision_the_device_does_not_measure_is_a_usage_error(tmp_path):
    done = run_tool("run", "peak", "--framework", "torch", "--device", "cpu", "--precision", "fp16",
                    "--out", str(tmp_path))
    assert done.returncode == 2, done.stderr
    assert "--precision fp16: the peak scenario on this device (cpu) measures fp32" in done.stderr
    assert list(tmp_path.iterdir()) == []
