"""`tools/run_catalogue.py`: the whole catalogue (or a part) as one command, one runner process per run, each
fragment validated, an outcome per run. Real runner processes on the CPU, tiny (--smoke)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys

import pytest

from conftest import REPO, run_tool
from dlbench.contract.tomlio import read_toml
from dlbench.runner.workloads import WORKLOADS


def test_dry_run_plans_every_workload_per_framework_and_precision(tmp_path):
    done = run_tool("run_catalogue", "--out", str(tmp_path / "out"), "--dry-run", "--precision", "fp32",
                    "--precision", "bf16")
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    peak = [line for line in lines if " peak " in line]
    others = [line for line in lines if " peak " not in line]
    assert len(peak) == 2 and all("--precision" not in line for line in peak)  # peak measures every precision
    assert len(others) == (len(WORKLOADS) - 1) * 2 * 2
    assert sum("--framework tensorflow --device auto" in line and "--precision bf16" in line for line in others) \
        == len(WORKLOADS) - 1
    assert not (tmp_path / "out").exists()  # a dry run makes nothing


def test_usage_errors_name_the_option(tmp_path):
    done = run_tool("run_catalogue", "--out", str(tmp_path), "--workload", "no-such-workload")
    assert done.returncode == 2 and "--workload: unknown workload(s) no-such-workload" in done.stderr
    done = run_tool("run_catalogue", "--out", str(tmp_path), "--workload", "peak", "--scenario", "train")
    assert done.returncode == 2 and "no workload matches" in done.stderr
    assert list(tmp_path.iterdir()) == []


def test_smoke_runs_write_valid_fragments_and_a_refused_option_is_skipped(tmp_path):
    pytest.importorskip("torch")
    out = tmp_path / "out"
    done = run_tool("run_catalogue", "--out", str(out), "--workload", "fwdbwd-lenet5", "--workload", "peak",
                    "--framework", "torch", "--device", "cpu", "--smoke", "--precision", "fp32", "--precision",
                    "tf32", timeout=900)
    assert done.returncode == 0, done.stdout + done.stderr
    progress = [line for line in done.stdout.splitlines() if line.startswith("[")]
    assert [line.split(" (")[0] for line in progress] == [
        "[1/3] fwdbwd-lenet5 torch fp32: ok", "[2/3] fwdbwd-lenet5 torch tf32: skipped", "[3/3] peak torch default: ok"]
    assert "tf32" in next(line for line in done.stdout.splitlines() if " skipped " in line)  # the runner's reason
    assert done.stdout.rstrip().endswith("2 ok, 1 skipped")
    fragments = sorted(out.iterdir())
    assert len(fragments) == 2
    benchmarks = sorted(r["benchmark"] for f in fragments for r in read_toml(f, "fragment").data["results"])
    assert benchmarks[0] == "fwdbwd-lenet5" and {"peak-matmul", "peak-bandwidth"} <= set(benchmarks)
    checked = run_tool("validate", *map(str, fragments))
    assert checked.returncode == 0, checked.stdout + checked.stderr


@pytest.mark.skipif(sys.platform == "win32", reason="stops the run's process group")
def test_a_run_past_its_timeout_is_stopped_and_reported(tmp_path):
    pytest.importorskip("torch")
    out = tmp_path / "out"
    # AlexNet at its default batch: 10 + 50 steps of about 0.55 TFLOP each; no CPU finishes them in 5 s. (Its
    # layers are short, so the interrupt is taken within a second or so: GPT-2's backward pass would hold it for
    # the whole 30 s grace before the kill.)
    done = run_tool("run_catalogue", "--out", str(out), "--workload", "fwdbwd-alexnet", "--framework", "torch",
                    "--device", "cpu", "--timeout", "5", timeout=300)
    assert done.returncode == 1, done.stdout + done.stderr
    assert "[1/1] fwdbwd-alexnet torch default: timeout" in done.stdout
    assert "stopped after 5 s" in done.stdout
    assert list(out.iterdir()) == []


@pytest.mark.skipif(sys.platform == "win32", reason="needs SIGINT and process groups")
def test_ctrl_c_stops_the_run_in_progress_and_keeps_the_fragments_before_it(tmp_path):
    pytest.importorskip("torch")
    out = tmp_path / "out"
    cmd = [sys.executable, str(REPO / "tools" / "run_catalogue.py"), "--out", str(out), "--framework", "torch",
           "--device", "cpu", "--workload", "fwdbwd-lenet5", "--workload", "fwdbwd-gpt2-small", "--smoke"]
    # SIGINT's default action, as a command in a terminal's foreground has (see test_runner_failures.py).
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    try:
        first = proc.stdout.readline()          # the first run is done: the second (GPT-2) is under way
        assert first.startswith("[1/2] fwdbwd-lenet5 torch default: ok"), first
        proc.send_signal(signal.SIGINT)
        stdout, stderr = proc.communicate(timeout=300)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 130, stdout + stderr
    assert "interrupted: fwdbwd-gpt2-small torch default was stopped and wrote nothing; the 1 fragment(s) of the " \
           "runs before it are kept" in stderr
    assert "Traceback" not in stderr
    assert len(list(out.iterdir())) == 1
    left = subprocess.run(["pgrep", "-f", f"--out {out}"], capture_output=True, text=True)
    assert left.stdout == "", "a runner process outlived the interrupted catalogue"


def test_the_offline_gpu_script_runs_the_catalogue_and_keeps_its_log(tmp_path):
    pytest.importorskip("torch")
    out = tmp_path / "gpu"
    env = {"PYTHON": sys.executable}
    done = subprocess.run(["bash", str(REPO / "tools" / "offline" / "gpu_catalogue.sh"), str(out), "--workload",
                           "fwdbwd-lenet5", "--framework", "torch", "--device", "cpu", "--smoke"],
                          cwd=tmp_path, env={**os.environ, **env}, capture_output=True, text=True,
                          timeout=900)
    assert done.returncode == 0, done.stdout + done.stderr
    (fragment,) = (out / "fragments").iterdir()
    assert run_tool("validate", str(fragment)).returncode == 0
    log = (out / "catalogue.log").read_text()
    assert log.startswith("torch ") and "available False" in log.splitlines()[0]   # no nvidia-smi here
    assert "fwdbwd-lenet5  torch      default    ok" in log and log.rstrip().endswith("1 ok")
    missing = subprocess.run(["bash", str(REPO / "tools" / "offline" / "gpu_catalogue.sh")], capture_output=True,
                             text=True)
    assert missing.returncode == 2 and "usage: gpu_catalogue.sh OUT_DIR" in missing.stderr
