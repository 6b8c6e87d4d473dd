"""What the paired benchmarks share: `runner_vs_bare.py`, `step_vs_bare.py` and `peak_vs_matmul.py`.

Each of them times the runner command (`runners/run.py`, side A, "runner") against an independent minimal
process (side B: `bare_train.py`, `bare_step.py` or a plain `torch.matmul` loop), every trial a fresh
subprocess, and reports the ratio A / B.

Why interleaved: the machine is noisy (a shared 2-core VM: other jobs come and go, and its speed drifts over
minutes), so running every A and then every B would measure the drift as much as the code. The sides alternate
A, B, B, A, A, B, B, A, ...: pair k runs A first when k is even and B first when it is odd, so that a slow
drift falls on both sides alike and neither side always runs first. Use at least 5 pairs for a reported figure
(fewer only to try a script out). The report prints every trial, then two ratios A / B: of the fastest (best)
trials, what each side does when nothing disturbs it, and of the medians over the trials, which one odd trial
does not move. A trial that fails stops the script with exit status 1, as a missing trial would skew the
figures. Exit statuses of every script: 0 target met, 1 missed (or a trial failed), 2 usage error.

Standard library only, nothing from dlbench (nor do the scripts import dlbench). `python benchmarks/NAME.py`
puts benchmarks/ on sys.path, so the scripts import this module as `_pairs`.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import tomllib
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import TypeVar

REPO = Path(__file__).resolve().parent.parent
RUNNER = REPO / "runners" / "run.py"
# The settings dlbench.runner.allocator applies (repeated here: this module imports nothing from dlbench).
RUNNER_MALLOC = {"MALLOC_MMAP_THRESHOLD_": str(32 * 1024 * 1024), "MALLOC_TRIM_THRESHOLD_": str(1024 ** 3)}
FRAMEWORKS = ("torch", "tensorflow")
PAIRS_HELP = ("runner/bare pairs per framework, alternating which goes first (default 5, at least 5 for a "
              "reported figure)")

T = TypeVar("T")


class TrialFailed(Exception):
    pass


def parser(prog: str, doc: str | None) -> argparse.ArgumentParser:
    """A parser whose --help shows the script's docstring as written."""
    return argparse.ArgumentParser(prog=prog, description=doc, formatter_class=argparse.RawDescriptionHelpFormatter)


def add_framework(p: argparse.ArgumentParser) -> None:
    p.add_argument("--framework", choices=(*FRAMEWORKS, "both"), default="both",
                   help="framework to measure (default: both, one after the other)")


def frameworks(choice: str) -> tuple[str, ...]:
    """The frameworks a --framework value names, in the order they are measured."""
    return FRAMEWORKS if choice == "both" else (choice,)


def add_pairs(p: argparse.ArgumentParser, text: str = PAIRS_HELP) -> None:
    p.add_argument("--pairs", type=int, default=5, metavar="N", help=text)


def child_env(**extra: str) -> dict[str, str]:
    """This process's environment for a trial, TensorFlow's start-up chatter off, plus `extra`."""
    return dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2", **extra)


def bare_device(device: str) -> str:
    """The device for bare_train.py / bare_step.py, which take auto, cpu or cuda (no index)."""
    return "cuda" if device.startswith("cuda") else device


def run_fragment(options: Sequence[str], env: dict[str, str] | None = None) -> dict:
    """Runs `runners/run.py OPTIONS --out TMP`; returns its one fragment, parsed."""
    with tempfile.TemporaryDirectory(prefix="dlbench-bench-") as out:
        done = subprocess.run([sys.executable, str(RUNNER), *options, "--out", out], capture_output=True, text=True,
                              env=env)
        fragments = list(Path(out).glob("*.toml"))
        if done.returncode != 0 or len(fragments) != 1:
            raise TrialFailed(f"runner exited {done.returncode}: {done.stderr.strip()[-2000:]}")
        return tomllib.loads(fragments[0].read_text())


def run_json(cmd: Sequence[str], name: str, env: dict[str, str] | None = None) -> dict:
    """Runs a side-B process; returns the JSON object on the last line of its standard output."""
    done = subprocess.run(list(cmd), capture_output=True, text=True, env=env)
    if done.returncode != 0:
        raise TrialFailed(f"{name} exited {done.returncode}: {done.stderr.strip()[-2000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def interleave(pairs: int, sides: dict[str, Callable[[int], T]], show: Callable[[T], str]) -> dict[str, list[T]]:
    """Runs `pairs` pairs of the two sides (A, B, B, A, ...; each called with the pair's index) and prints each
    trial as it ends; returns every side's trials in order."""
    a, b = sides
    trials: dict[str, list[T]] = {a: [], b: []}
    for pair in range(pairs):
        for which in (a, b) if pair % 2 == 0 else (b, a):
            trial = sides[which](pair)
            trials[which].append(trial)
            print(f"  pair {pair + 1} {which:6s} {show(trial)}", flush=True)
    return trials


def ratios(a: Sequence[float], b: Sequence[float],
           best: Callable[[Sequence[float]], float] = min) -> tuple[float, float]:
    """(best of A / best of B, median of A / median of B); `best` is min for times, max for rates."""
    return best(a) / best(b), statistics.median(a) / statistics.median(b)


def summary(subject: str, quantity: str, sides: Sequence[str], best: str, found: tuple[float, float], target: str,
            ok: bool) -> str:
    """The verdict line: 'SUBJECT: QUANTITY A / B: BEST r, median r (target TARGET: met|MISSED)'."""
    return (f"{subject}: {quantity} {sides[0]} / {sides[1]}: {best} {found[0]:.3f}, median {found[1]:.3f} "
            f"(target {target}: {'met' if ok else 'MISSED'})")


def usage_error(prog: str, message: str) -> int:
    print(f"{prog}: {message}", file=sys.stderr)
    return 2


def each(prog: str, subjects: Iterable[str], measure: Callable[[str], bool]) -> int:
    """Measures every subject in turn: 0 when each met its target, 1 when one missed it or a trial failed
    (which stops the run)."""
    ok = True
    for subject in subjects:
        try:
            ok = measure(subject) and ok
        except TrialFailed as exc:
            print(f"{prog}: {subject}: {exc}", file=sys.stderr)
            return 1
    return 0 if ok else 1
