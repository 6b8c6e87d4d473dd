"""Failures are results, interruptions are not: a real out-of-memory (a batch too large for an address-space
limit) is recorded as status "oom" and exits 1; Ctrl-C during training exits 130 and leaves no file behind."""

from __future__ import annotations

import os
import pty
import re
import resource
import select
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from conftest import REPO, run_tool
from dlbench.contract.tomlio import read_toml

RUNNER = str(REPO / "runners" / "run.py")

# What the runner holds before its first training step: imports, the dataset on the device, a model, one step.
BASELINE = """
import sys
sys.path.insert(0, sys.argv[1])
import dlbench.cli.run
from dlbench.runner.data import datasets
from dlbench.runner.system import probe
from dlbench.runner import backends
backend = backends.load("torch")
backend.select_device(backends.parse_device("cpu"))
probe.probe_system("cpu", framework="torch")
data = backend.to_device(datasets.load("fashion-mnist"))
state = backend.build("lenet5", 1e-3, 0)
backend.train_epoch(state, type(data)(data.train_x[:1024], data.train_y[:1024], data.test_x, data.test_y), 512, 0,
                    backends.base.Progress())
print(next(int(l.split()[1]) * 1024 for l in open("/proc/self/status") if l.startswith("VmPeak")))
"""


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="RLIMIT_AS and /proc are Linux's")
def test_out_of_memory_is_recorded_as_oom(tmp_path):
    pytest.importorskip("torch")
    env = dict(os.environ, OMP_NUM_THREADS="1", MALLOC_ARENA_MAX="2")
    base = subprocess.run([sys.executable, "-c", BASELINE, str(REPO)], capture_output=True, text=True, env=env,
                          timeout=300)
    assert base.returncode == 0, base.stderr
    # Room for everything the runner needs except the huge batch: with 60,000 images in one batch the first
    # convolution's output alone is 60000 x 6 x 28 x 28 float32 = 1.13 GB.
    limit = int(base.stdout.strip()) + 700 * 2**20

    def limit_address_space():
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))

    done = subprocess.run([sys.executable, RUNNER, "fashion-mnist-lenet5", "--framework", "torch", "--device", "cpu",
                           "--epochs", "1", "--batch-size", "60000", "--out", str(tmp_path)],
                          capture_output=True, text=True, env=env, preexec_fn=limit_address_space, timeout=600)
    assert done.returncode == 1, done.stderr
    (fragment,) = tmp_path.iterdir()
    (result,) = read_toml(fragment, "fragment").data["results"]
    assert result["status"] == "oom"
    assert re.match(r"(RuntimeError|MemoryError|OutOfMemoryError): .*(can't allocate memory|out of memory)",
                    result["message"]), result["message"]
    assert "Traceback" not in result["message"]
    assert result["batch_size"] == 60000
    assert "load_s" in result["metrics"]  # the data was loaded: it is the training batch that did not fit
    assert "| oom" in done.stdout and "Traceback" in done.stderr
    checked = run_tool("validate", str(fragment))
    assert checked.returncode == 0, checked.stderr


def _read_until(fd: int, pattern: bytes | re.Pattern[bytes], timeout: float) -> bytes:
    """What the terminal shows until `pattern` (bytes, or a regular expression) appears, at most `timeout` s."""
    found = (lambda seen: pattern in seen) if isinstance(pattern, bytes) else (lambda seen: pattern.search(seen))
    seen = b""
    deadline = time.monotonic() + timeout
    while not found(seen) and time.monotonic() < deadline:
        ready, _, _ = select.select([fd], [], [], 0.5)
        if ready:
            try:
                seen += os.read(fd, 65536)
            except OSError:  # the child closed the terminal
                break
    return seen


def _foreground_sigint() -> None:
    """In the child before it starts: SIGINT's default action, as a job in the terminal's foreground has.

    A test suite started in the background of a non-interactive shell (`pytest ... &` in a script, as CI
    harnesses and `nohup` do) inherits SIGINT ignored, and Python then installs no KeyboardInterrupt
    handler: the runner would rightly ignore Ctrl-C and this test would wait for an exit that never comes.
    """
    signal.signal(signal.SIGINT, signal.SIG_DFL)


@pytest.mark.skipif(sys.platform == "win32", reason="needs a pseudo-terminal and SIGINT")
@pytest.mark.parametrize("framework", ["torch", "tensorflow"])
def test_ctrl_c_writes_nothing_and_exits_130(tmp_path, framework):
    out, tmp = tmp_path / "out", tmp_path / "tmp"
    tmp.mkdir()
    # stderr is a terminal, so the runner shows its progress bars: they tell when training has started.
    master, slave = pty.openpty()
    proc = subprocess.Popen([sys.executable, RUNNER, "fashion-mnist-lenet5", "--framework", framework, "--device",
                             "cpu", "--epochs", "40", "--out", str(out)],
                            stdout=subprocess.PIPE, stderr=slave, stdin=subprocess.DEVNULL,
                            env=dict(os.environ, TMPDIR=str(tmp)), preexec_fn=_foreground_sigint)
    os.close(slave)
    try:
        # Interrupt once the step bar has advanced (it refreshes every 10 steps): training is under way, and
        # 40 epochs are far from done, however fast or busy the machine is.
        advanced = re.compile(rb"steps.*?\b[1-9][0-9]*/118\b")
        seen = _read_until(master, advanced, timeout=300)
        assert advanced.search(seen), seen.decode(errors="replace")
        proc.send_signal(signal.SIGINT)
        deadline = time.monotonic() + 120
        while proc.poll() is None and time.monotonic() < deadline:
            seen += _read_until(master, b"\x00never", timeout=0.5)
        assert proc.poll() is not None, ("the runner did not exit within 120 s of Ctrl-C; its terminal showed: "
                                         + seen[-3000:].decode(errors="replace"))
        rc = proc.wait(timeout=5)
    finally:
        if proc.poll() is None:
            proc.kill()
        os.close(master)
    assert rc == 130, seen.decode(errors="replace")
    assert b"interrupted: nothing was written" in seen
    assert not out.exists() or list(out.iterdir()) == []
    # No saved model or other temporary file of the runner left (the frameworks may keep their own caches there).
    assert [p.name for p in Path(tmp).iterdir() if p.name.startswith(("dlbench", "tmp"))] == []
    assert proc.stdout.read() == b""


# The runner on a machine that misreports its memory: `system.memory_bytes` (64 MiB) below the process's own peak.
SMALL_MACHINE = """
import sys
sys.path.insert(0, sys.argv[1])
from dlbench.runner.system import probe
measured = probe.probe_system
def misreported(*args, **kwargs):
    system = measured(*args, **kwargs)
    system["memory_bytes"] = 64 * 2**20
    return system
probe.probe_system = misreported
import dlbench.cli.run
sys.exit(dlbench.cli.run.main(sys.argv[2:]))
"""


def test_a_fragment_the_check_would_reject_is_kept_and_the_user_told_why(tmp_path):
    pytest.importorskip("torch")
    done = subprocess.run([sys.executable, "-c", SMALL_MACHINE, str(REPO), "fwdbwd-lenet5", "--framework", "torch",
                           "--device", "cpu", "--batch-size", "2", "--warmup", "1", "--iterations", "2",
                           "--out", str(tmp_path)], capture_output=True, text=True, timeout=600)
    assert done.returncode == 1, done.stdout + done.stderr
    (fragment,) = tmp_path.iterdir()
    assert done.stdout.startswith(f"wrote {fragment}")
    line = next(l for l in done.stderr.splitlines() if "host-memory-exceeds" in l or "exceeds the system" in l)
    assert line.startswith(f"{fragment}:") and "results[0].metrics.peak_host_rss_bytes" in line, line
    assert "was written, but the pull-request check will reject it" in done.stderr
    assert "Traceback" not in done.stderr
    # What CI would say of it, the same rule.
    checked = run_tool("validate", str(fragment))
    assert checked.returncode == 1 and "exceeds the system's memory_bytes" in checked.stdout + checked.stderr
