"""`tools/run_catalogue.py --suite standard|smoke [--budget]`: the runs that tell hardware apart, most valuable
first, as many as the budget holds by their estimates, with what finished kept when stopped. The plan's logic
on its own (dlbench.cli.suite_plan), then real runner processes on the CPU at the smoke settings."""

from __future__ import annotations

import signal
import subprocess
import sys

import pytest

from conftest import REPO, run_tool, signal_after_first_line
from dlbench.cli.suite_plan import (LOW_PRECISION_MIN_FLOPS, REFERENCE, UNCALIBRATED, Estimator, Rates, SuiteRun,
                                    candidates, fit, parse_budget)
from dlbench.contract.validate import validate_fragment
from dlbench.runner.scenarios.base import flops_per_sample
from dlbench.runner.workloads import WORKLOADS

FRAMEWORKS = ["torch", "tensorflow"]


def test_the_suite_is_peak_then_fp32_then_lower_precisions_then_sweeps_in_value_order():
    runs = candidates(FRAMEWORKS, {"torch": ["fp32", "bf16"], "tensorflow": ["fp32"]})
    assert [r.label for r in runs[:4]] == ["peak torch every precision", "peak tensorflow every precision",
                                           "fwdbwd-resnet50 torch fp32", "fwdbwd-resnet50 tensorflow fp32"]
    assert [r.tier for r in runs] == sorted(r.tier for r in runs)
    fp32 = [r.workload.name for r in runs if r.tier == 2 and r.framework == "torch"]
    assert fp32[:len(REFERENCE)] == list(REFERENCE)        # the reference workloads first
    assert sorted(fp32) == sorted(w.name for w in WORKLOADS.values() if w.scenario in ("step", "infer"))
    low = [r for r in runs if r.tier == 3]
    assert low and {r.framework for r in low} == {"torch"} and {r.precision for r in low} == {"bf16"}
    assert all(flops_per_sample(r.workload.model) >= LOW_PRECISION_MIN_FLOPS for r in low)
    assert "fwdbwd-lenet5" not in {r.workload.name for r in low}   # launch-bound: precision changes nothing
    sweeps = [r for r in runs if r.sweep]
    assert sweeps and all(r.tier == 4 and r.workload.scenario in ("step", "infer") for r in sweeps)
    assert not any(r.workload.scenario == "train" for r in runs)
    only = candidates(["torch"], {"torch": ["fp32"]}, ["peak", "fwdbwd-lenet5"])
    assert [r.label for r in only] == ["peak torch every precision", "fwdbwd-lenet5 torch fp32"]


def test_fit_takes_runs_in_value_order_and_skips_those_that_do_not_fit():
    a, b, c, d = (SuiteRun(WORKLOADS[n], "torch", "fp32") for n in
                  ("fwdbwd-resnet50", "fwdbwd-vgg16", "fwdbwd-alexnet", "fwdbwd-lenet5"))
    chosen, left = fit([a, b, c, d], {a: 300.0, b: 900.0, c: 250.0, d: 10.0}, 600.0)
    assert chosen == [a, c, d] and left == [b]           # b does not fit after a: the cheaper c and d still do
    assert sum({a: 300.0, c: 250.0, d: 10.0}.values()) <= 600.0
    assert fit([a], {a: 601.0}, 600.0) == ([], [a])


def test_estimates_stand_on_the_measured_peak_and_learn_from_finished_runs():
    run = SuiteRun(WORKLOADS["fwdbwd-resnet50"], "torch", "fp32")
    slow = Estimator({"torch": Rates({"fp32": 1e11}, 5.0, measured=True)})
    fast = Estimator({"torch": Rates({"fp32": 1e13, "bf16": 4e13}, 5.0, measured=True)})
    assert slow.seconds(run) > 50 * fast.seconds(run) > 0    # 100x the FLOP/s: far less time, the fixed cost stays
    bf16 = SuiteRun(WORKLOADS["fwdbwd-resnet50"], "torch", "bf16")
    assert fast.arithmetic_s(bf16) == pytest.approx(fast.arithmetic_s(run) / 2)   # 4x the matmul peak: 2x at most
    assert slow.seconds(run) == pytest.approx(5.0 + UNCALIBRATED * slow.arithmetic_s(run))  # nothing ran yet
    slow.learn(run, 5.0 + 2 * slow.arithmetic_s(run))      # it took twice the estimated arithmetic
    assert slow.seconds(run) == pytest.approx(5.0 + 2 * slow.arithmetic_s(run))
    other = SuiteRun(WORKLOADS["fwdbwd-alexnet"], "torch", "fp32")  # same framework and scenario: corrected too
    assert slow.seconds(other) == pytest.approx(5.0 + 2 * UNCALIBRATED * slow.arithmetic_s(other))
    slow.learn(other, 5.0 + 0.5 * slow.arithmetic_s(other))  # a model runs at its own efficiency ...
    assert slow.seconds(other) == pytest.approx(5.0 + 0.5 * slow.arithmetic_s(other))
    googlenet = SuiteRun(WORKLOADS["fwdbwd-googlenet"], "torch", "fp32")  # ... one not run yet: the worst, a margin
    assert slow.seconds(googlenet) == pytest.approx(5.0 + 2 * UNCALIBRATED * slow.arithmetic_s(googlenet))
    lenet = SuiteRun(WORKLOADS["fwdbwd-lenet5"], "torch", "fp32")   # launch-bound: its time is the fixed cost
    slow.learn(lenet, 9.0 + slow.arithmetic_s(lenet))
    assert slow.correction(googlenet) == pytest.approx(2 * UNCALIBRATED)     # not taken for an arithmetic rate
    assert slow.seconds(lenet) == pytest.approx(9.0 + 2 * UNCALIBRATED * slow.arithmetic_s(lenet))  # 9 s, not 5
    fresh = Estimator({"torch": Rates({"fp32": 1e11}, 5.0, measured=True)})
    fresh.learn(other, 5.0 + 0.4 * fresh.arithmetic_s(other))  # a fast model does not make unseen ones cheaper
    assert fresh.correction(googlenet) == pytest.approx(UNCALIBRATED)
    sweep = SuiteRun(WORKLOADS["fwdbwd-resnet50"], "torch", "fp32", sweep=True)
    assert slow.seconds(sweep) > slow.seconds(run)       # doubling to the bound: more work and a process per point


@pytest.mark.parametrize("text, seconds", [("30m", 1800), ("1h", 3600), ("1h30m", 5400), ("90s", 90),
                                           ("2.5h", 9000), ("10min", 600)])
def test_budgets_are_read_with_their_units(text, seconds):
    assert parse_budget(text) == seconds


@pytest.mark.parametrize("args, message", [
    (["--budget", "10"], "give it with its unit"),
    (["--budget", "0m"], "more than 0"),
    (["--precision", "bf16"], "drop --precision"),
    (["--smoke"], "drop --smoke"),
    (["--batch-sweep", "--max-batch", "8"], "drop --batch-sweep, --max-batch"),
    (["--workload", "mnist-lenet5"], "no workload of the suite matches"),
    (["--contributor", "me@example.org"], "never an e-mail address"),   # checked before any run, as run.py does
])
def test_suite_usage_errors_name_the_option(tmp_path, args, message):
    done = run_tool("run_catalogue", "--out", str(tmp_path / "out"), "--suite", "standard", "--dry-run", *args)
    assert done.returncode == 2 and message in done.stderr, done.stderr
    assert not (tmp_path / "out").exists()


def test_a_budget_needs_the_suite(tmp_path):
    done = run_tool("run_catalogue", "--out", str(tmp_path), "--budget", "10m")
    assert done.returncode == 2 and "--budget needs --suite" in done.stderr


def test_dry_run_prints_the_plan_that_fits_the_budget(tmp_path):
    done = run_tool("run_catalogue", "--out", str(tmp_path / "out"), "--suite", "standard", "--budget", "10m",
                    "--device", "cpu", "--framework", "torch", "--dry-run")
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[0].startswith("suite plan for a budget of 10m00s, in order of value; estimates from priors")
    plan = [line.split() for line in lines if line.startswith("  ")]
    assert plan[0][0] == "run" and plan[0][5:7] == ["peak", "torch"]
    assert {p[0] for p in plan} == {"run", "left"}           # on a CPU, ten minutes hold some runs, not all
    fits = lines[len(plan) + 1]
    assert fits.startswith(f"{sum(p[0] == 'run' for p in plan)} of {len(plan)} runs fit, ~")
    assert parse_budget(fits.rsplit("~", 1)[1]) <= 600                      # the plan's estimates fit the budget
    assert sum(parse_budget(p[2]) for p in plan if p[0] == "run") <= 600
    commands = [line for line in lines if "runners/run.py" in line]
    assert len(commands) == len(plan) and "--batch-sweep --max-batch 1024" in commands[-1]
    assert not (tmp_path / "out").exists()


def test_smoke_suite_fits_its_budget_and_every_fragment_validates(tmp_path):
    pytest.importorskip("torch")
    out = tmp_path / "out"
    done = run_tool("run_catalogue", "--out", str(out), "--suite", "smoke", "--budget", "4m", "--device", "cpu",
                    "--framework", "torch", "--workload", "peak", "--workload", "fwdbwd-lenet5",
                    "--workload", "infer-fashion-mnist-lenet5", "--contributor", "octocat", timeout=600)
    assert done.returncode == 0, done.stdout + done.stderr
    progress = [line.split(" (")[0] for line in done.stdout.splitlines() if line.startswith("[")]
    assert progress[:3] == ["[1] peak torch default: ok", "[2] fwdbwd-lenet5 torch fp32: ok",
                            "[3] infer-fashion-mnist-lenet5 torch fp32: ok"]
    assert "[4] fwdbwd-lenet5 (sweep) torch fp32: ok" not in progress   # lenet5 is not one of the swept
    summary = next(line for line in done.stdout.splitlines() if line.startswith("budget 4m00s: used "))
    assert summary.endswith(f"{len(progress)} runs: {len(progress)} ok")
    fragments = sorted(out.iterdir())
    assert len(fragments) == len(progress)
    for f in fragments:
        assert validate_fragment(f).problems == []
    runs = [validate_fragment(f).runs[0] for f in fragments]
    assert {r["provenance"]["contributor"] for r in runs} == {"octocat"}   # passed on to every run
    ran = {r["benchmark"] for run in runs for r in run["results"]}
    assert {"peak-matmul", "fwdbwd-lenet5", "infer-fashion-mnist-lenet5"} <= ran


def test_a_tight_budget_leaves_the_costly_runs_out_and_says_so(tmp_path):
    pytest.importorskip("torch")
    out = tmp_path / "out"
    done = run_tool("run_catalogue", "--out", str(out), "--suite", "standard", "--budget", "45s", "--device", "cpu",
                    "--framework", "torch", "--workload", "peak", "--workload", "fwdbwd-vgg16",
                    "--workload", "fwdbwd-lenet5", timeout=600)
    assert done.returncode == 0, done.stdout + done.stderr
    progress = [line.split(" (")[0] for line in done.stdout.splitlines() if line.startswith("[")]
    assert progress == ["[1] peak torch default: ok", "[2] fwdbwd-lenet5 torch fp32: ok"]
    left = next(line for line in done.stdout.splitlines() if line.startswith("left out for lack of time"))
    assert "fwdbwd-vgg16 torch fp32" in left and "a larger --budget runs more" in left
    assert len(list(out.iterdir())) == 2


@pytest.mark.skipif(sys.platform == "win32", reason="needs SIGTERM and process groups")
def test_stopping_the_suite_keeps_what_finished(tmp_path):
    pytest.importorskip("torch")
    out = tmp_path / "out"
    cmd = [sys.executable, str(REPO / "tools" / "run_catalogue.py"), "--out", str(out), "--suite", "smoke",
           "--device", "cpu", "--framework", "torch", "--workload", "peak", "--workload", "fwdbwd-gpt2-small"]
    # After the first line the peak is done and GPT-2 under way; SIGTERM, as `docker stop` sends.
    first, stdout, stderr, status = signal_after_first_line(cmd, signal.SIGTERM, pause=1.0)
    assert first.startswith("[1] peak torch default: ok"), first
    assert status == 130, stdout + stderr
    assert "interrupted: fwdbwd-gpt2-small torch fp32 was stopped and wrote nothing; the 1 fragment(s) of the runs " \
           "before it are kept" in stderr
    assert "Traceback" not in stderr
    assert "peak  " in stdout                   # the summary of what finished
    kept = list(out.iterdir())
    assert len(kept) == 1 and validate_fragment(kept[0]).problems == []


@pytest.mark.skipif(sys.platform == "win32", reason="needs a pseudo-terminal")
def test_on_a_terminal_a_progress_bar_shows_the_run_and_the_time_left(tmp_path):
    pytest.importorskip("torch")
    import fcntl
    import os
    import pty
    import struct
    import termios

    main, tty = pty.openpty()
    fcntl.ioctl(tty, termios.TIOCSWINSZ, struct.pack("HHHH", 40, 120, 0, 0))   # a terminal 120 columns wide
    cmd = [sys.executable, str(REPO / "tools" / "run_catalogue.py"), "--out", str(tmp_path / "out"), "--suite",
           "smoke", "--device", "cpu", "--framework", "torch", "--workload", "peak", "--budget", "2m"]
    proc = subprocess.Popen(cmd, stdin=tty, stdout=subprocess.PIPE, stderr=tty)
    os.close(tty)
    seen = b""
    while True:
        try:
            chunk = os.read(main, 4096)
        except OSError:          # the terminal's other end closed: the suite has ended
            break
        if not chunk:
            break
        seen += chunk
    stdout, _ = proc.communicate(timeout=300)
    os.close(main)
    assert proc.returncode == 0, stdout
    bar = seen.decode(errors="replace")
    assert "budget: " in bar and "/120 s" in bar
    assert "1: peak torch every precision, time left 1m5" in bar          # the run in progress and the time left
    assert b"[1] peak torch default: ok" in stdout                           # outcome lines stay on stdout
