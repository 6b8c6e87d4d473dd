"""`tools/run_catalogue.py`: the whole catalogue (or a part) as one command, one runner process per run, each
fragment validated, an outcome per run. Real runner processes on the CPU, tiny (--smoke)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys

import pytest

from conftest import REPO, run_tool, signal_after_first_line
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
    first, stdout, stderr, status = signal_after_first_line(
        cmd, signal.SIGINT, preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    assert first.startswith("[1/2] fwdbwd-lenet5 torch default: ok"), first   # the second (GPT-2) is under way
    assert status == 130, stdout + stderr
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


def _runner_lines(text: str) -> list[str]:
    return [line.split("runners/run.py ", 1)[1] for line in text.splitlines() if "runners/run.py " in line]


def test_dry_run_passes_sweeps_to_step_and_infer_and_device_counts_to_step_and_train(tmp_path):
    scenario = {w.name: w.scenario for w in WORKLOADS.values()}
    done = run_tool("run_catalogue", "--out", str(tmp_path / "out"), "--dry-run", "--framework", "torch",
                    "--batch-sweep", "--max-batch", "4096", "--sweep-resolution", "5%", "--memory-limit", "6GiB",
                    "--batch-start", "2", "--devices", "1,2")
    assert done.returncode == 0, done.stderr
    lines = _runner_lines(done.stdout)
    by_kind: dict[str, list[str]] = {"sweep": [], "devices": [], "plain": []}
    for line in lines:
        kind = "sweep" if "--batch-sweep" in line else "devices" if "--devices" in line else "plain"
        by_kind[kind].append(line.split()[0])
        if kind == "sweep":
            assert line.endswith("--batch-sweep --batch-start 2 --max-batch 4096 --sweep-resolution 5% --memory-limit 6GiB")
        if kind == "devices":
            assert line.endswith("--devices 1,2") and "--max-batch" not in line
    assert sorted(by_kind["sweep"]) == sorted(w for w, s in scenario.items() if s in ("step", "infer"))
    assert sorted(by_kind["devices"]) == sorted(w for w, s in scenario.items() if s in ("step", "train"))
    assert sorted(by_kind["plain"]) == sorted(w for w, s in scenario.items() if s == "peak")   # neither applies
    smoke = run_tool("run_catalogue", "--out", str(tmp_path), "--dry-run", "--framework", "torch", "--workload",
                     "fwdbwd-lenet5", "--smoke", "--batch-sweep")
    assert _runner_lines(smoke.stdout) == [f"fwdbwd-lenet5 --framework torch --device auto --out {tmp_path} "
                                           "--batch-sweep --max-batch 4 --warmup 1 --iterations 2"]


@pytest.mark.parametrize("args, message", [
    (["--max-batch", "64"], "--max-batch needs --batch-sweep"),
    (["--memory-limit", "6GiB"], "--memory-limit needs --batch-sweep"),
    (["--batch-sweep", "--max-batch", "0"], "--max-batch must be at least 1"),
    (["--batch-sweep", "--batch-start", "8", "--max-batch", "4"], "--batch-start must not be larger than --max-batch"),
    (["--batch-sweep", "--memory-limit", "lots"], "--memory-limit: 'lots' is not a size"),
    (["--batch-sweep", "--sweep-resolution", "0"], "--sweep-resolution: '0': the resolution must be at least 1"),
    (["--devices", "1,two"], "--devices '1,two': give device counts separated by commas"),
    (["--devices", "0"], "--devices '0': give device counts"),
])
def test_options_passed_on_are_checked_before_anything_runs(tmp_path, args, message):
    done = run_tool("run_catalogue", "--out", str(tmp_path / "out"), "--workload", "fwdbwd-lenet5", *args)
    assert done.returncode == 2 and message in done.stderr, done.stderr
    assert not (tmp_path / "out").exists()


def test_the_offline_gpu_script_also_sweeps_and_runs_one_vs_n_gpus_by_default(tmp_path):
    """Its default plan (DRY_RUN=1 prints it), with an nvidia-smi that lists two GPUs, then one."""
    step = sorted(w.name for w in WORKLOADS.values() if w.scenario == "step")
    plain = sum(1 for w in WORKLOADS.values() if w.scenario in ("step", "infer")) * 2 + 1   # tf32, bf16; peak once
    fake = tmp_path / "bin" / "nvidia-smi"
    fake.parent.mkdir()
    for gpus in (2, 1):
        listing = "".join(f'echo "GPU {i}: NVIDIA H200 (UUID: GPU-{i})"\n' for i in range(gpus))
        fake.write_text(f'#!/bin/sh\nif [ "$1" = "-L" ]; then\n{listing}else\necho "name, driver_version"\nfi\n')
        fake.chmod(0o755)
        out = tmp_path / f"gpu{gpus}"
        env = {**os.environ, "PYTHON": sys.executable, "DRY_RUN": "1", "PATH": f"{fake.parent}:{os.environ['PATH']}"}
        done = subprocess.run(["bash", str(REPO / "tools" / "offline" / "gpu_catalogue.sh"), str(out)], cwd=tmp_path,
                              env=env, capture_output=True, text=True, timeout=300)
        assert done.returncode == 0, done.stdout + done.stderr
        lines = _runner_lines((out / "catalogue.log").read_text())
        sweeps = [line for line in lines if "--batch-sweep" in line]
        several = [line for line in lines if "--devices" in line]
        assert len(lines) - len(sweeps) - len(several) == plain
        assert sorted(line.split()[0] for line in sweeps) == step
        assert all("--precision bf16 --batch-sweep --max-batch 1024 --sweep-resolution 10%" in line for line in sweeps)
        assert sorted(line.split()[0] for line in several) == (step if gpus == 2 else [])
        assert all(line.endswith("--precision bf16 --devices 1,2") for line in several)
        assert list((out / "fragments").iterdir()) == []
