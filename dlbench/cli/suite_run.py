"""`tools/run_catalogue.py --suite standard|smoke [--budget 30m]`: the standard suite (dlbench.cli.suite_plan)
run within a time budget, one `runners/run.py` process per run as the catalogue runs them.

The peak runs come first; their measurements replace the priors of the estimates, and every run that ends
corrects them (suite_plan.Estimator). Before each run the rest of the plan is fitted again to the time left, in
value order. A run may take the time left plus `GRACE` of the budget before it is stopped (it then writes
nothing and is reported `over budget`), so the whole ends within the budget plus that grace and the time a stop
takes. On a terminal a progress bar shows the budget spent, the run in progress and the time left; every run's
outcome is printed as it ends, and a summary at the end: each run with its estimate and its time, the budget
used, and what was left out for lack of time. Ctrl-C (or SIGTERM, as `docker stop` sends) stops the run in
progress, which writes nothing, and keeps every fragment written before it (exit 130).
"""

from __future__ import annotations

import argparse
import importlib.util
import platform
import shlex
import shutil
import signal
import sys
import threading
import time
from pathlib import Path

from .catalogue import (FAILED, RUNNER, SMOKE, Outcome, Planned, execute, make_out, recorded, smoke_sweep_options,
                        table)
from .suite_plan import (PRIOR_FLOPS, PRIOR_OVERHEAD_S, SMOKE_SWEEP_MAX_BATCH, SWEEP_OPTIONS, Estimator, Rates,
                         SuiteRun, candidates, clock, fit)

GRACE = 0.15            # of the budget: how far past the time left a run may go before it is stopped
OVER_BUDGET = "over budget"
FRAMEWORK_MODULES = {"torch": "torch", "tensorflow": "tensorflow"}


def installed_frameworks() -> list[str]:
    return [fw for fw, module in FRAMEWORK_MODULES.items() if importlib.util.find_spec(module) is not None]


def device_class(device: str) -> str:
    """`cpu` or `gpu`, for the priors only (the runner resolves the device itself)."""
    if device == "cpu":
        return "cpu"
    if device != "auto":
        return "gpu"
    if shutil.which("nvidia-smi") or shutil.which("rocm-smi"):
        return "gpu"
    return "gpu" if platform.system() == "Darwin" and platform.machine() == "arm64" else "cpu"


def command(run: SuiteRun, args: argparse.Namespace, smoke: bool) -> list[str]:
    cmd = [sys.executable, str(RUNNER), run.workload.name, "--framework", run.framework, "--device", args.device,
           "--out", str(args.out), *recorded(args)]
    if run.precision is not None:
        cmd += ["--precision", run.precision]
    if run.sweep:
        cmd += ["--batch-sweep"] + (["--max-batch", str(SMOKE_SWEEP_MAX_BATCH)] + smoke_sweep_options(run.scenario)
                                    if smoke else list(SWEEP_OPTIONS))
    elif smoke:
        cmd += SMOKE[run.scenario]
    return cmd


def planned(run: SuiteRun, args: argparse.Namespace, smoke: bool) -> Planned:
    return Planned(run.workload, run.framework, run.precision, command(run, args, smoke), "sweep" if run.sweep else "")


def measured_rates(outcome: Outcome) -> Rates | None:
    """The rates a peak run measured: matmul FLOP/s per precision, and its fixed cost (wall time less what its
    results timed). None when it measured no matmul."""
    flops = {r["precision"]: r["metrics"]["achieved_flops_per_s"] for r in outcome.results
             if r.get("status") == "ok" and r.get("benchmark") == "peak-matmul"
             and r.get("metrics", {}).get("achieved_flops_per_s")}
    if not flops:
        return None
    timed = sum(r.get("metrics", {}).get("total_s", 0.0) for r in outcome.results)
    return Rates(flops, max(outcome.seconds - timed, 1.0), measured=True)


class BudgetBar:
    """A tqdm bar of the budget's seconds, moved by a thread every half second, with the run in progress and
    the time left; only on a terminal (tqdm's own rule), and the outcome lines are written above it."""

    def __init__(self, budget: float, started: float):
        from tqdm import tqdm

        self.budget, self.started, self.label = budget, started, ""
        self.bar = tqdm(total=round(budget), unit="s", desc="budget", disable=None, leave=False,
                        bar_format="{desc}: {bar} {n_fmt}/{total_fmt} s{postfix}")
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._tick, daemon=True)
        if not self.bar.disable:
            self._thread.start()

    def _tick(self) -> None:
        while not self._stop.wait(0.5):
            elapsed = time.monotonic() - self.started
            self.bar.n = min(round(elapsed), self.bar.total)
            self.bar.set_postfix_str(f"{self.label}, time left {clock(self.budget - elapsed)}", refresh=False)
            self.bar.refresh()

    def write(self, line: str) -> None:
        self.bar.write(line, file=sys.stdout)
        sys.stdout.flush()

    def close(self) -> None:
        """Stop the thread and clear the bar (again: a no-op)."""
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join()
        self.bar.close()


def print_plan(runs: list[SuiteRun], estimator: Estimator, budget: float) -> None:
    estimate = {r: estimator.seconds(r) for r in runs}
    chosen, _ = fit(runs, estimate, budget)
    measured = all(r.measured for r in estimator.rates.values())
    print(f"suite plan for a budget of {clock(budget)}, in order of value; estimates from "
          + ("measured peaks" if measured else "priors (the peak runs measure this device first, and the plan is "
             "fitted again after every run)"))
    for r in runs:
        print(f"  {'run ' if r in chosen else 'left'}  ~{clock(estimate[r]):>7}  tier {r.tier}  {r.label}")
    print(f"{len(chosen)} of {len(runs)} runs fit, ~{clock(sum(estimate[r] for r in chosen))}")


def run_suite(args: argparse.Namespace, parser: argparse.ArgumentParser) -> int:
    smoke = args.suite == "smoke"
    frameworks = list(dict.fromkeys(args.frameworks)) or installed_frameworks()
    if not frameworks:
        parser.error("neither PyTorch nor TensorFlow is installed in this Python: run `bash tools/setup.sh`")
    prior = PRIOR_FLOPS[device_class(args.device)]
    estimator = Estimator({fw: Rates({"fp32": prior}, PRIOR_OVERHEAD_S[fw]) for fw in frameworks}, smoke)
    precisions: dict[str, list[str]] = {fw: ["fp32"] for fw in frameworks}
    only = list(dict.fromkeys(args.workloads)) or None
    if not candidates(frameworks, precisions, only):
        parser.error("no workload of the suite matches the --workload given (the suite runs peak, step and infer)")
    if args.dry_run:
        print_plan(candidates(frameworks, precisions, only), estimator, args.budget)
        for r in candidates(frameworks, precisions, only):
            print(shlex.join(command(r, args, smoke)))
        return 0
    make_out(args, parser)

    started = time.monotonic()
    done: list[tuple[Outcome, float]] = []           # each outcome with the estimate it ran under
    tried: set[SuiteRun] = set()
    left_out: list[SuiteRun] = []
    bar = BudgetBar(args.budget, started)
    previous = signal.signal(signal.SIGTERM, _interrupt)
    current: SuiteRun | None = None
    try:
        while True:
            left = args.budget - (time.monotonic() - started)
            pending = [r for r in candidates(frameworks, precisions, only) if r not in tried]
            estimate = {r: estimator.seconds(r) for r in pending}
            chosen, left_out = fit(pending, estimate, left)
            if not chosen:
                break
            current = chosen[0]
            tried.add(current)
            bar.label = f"{len(done) + 1}: {current.label}"
            limit = min(args.timeout, max(left, 0.0) + GRACE * args.budget)
            outcome = execute(planned(current, args, smoke), args.out, limit)
            if outcome.outcome == "timeout" and limit < args.timeout:
                outcome.outcome, outcome.detail = OVER_BUDGET, f"stopped at the budget's end after {limit:.0f} s"
            done.append((outcome, estimate[current]))
            current = None
            _learn(outcome, estimator, precisions)
            spent = time.monotonic() - started
            bar.write(f"[{len(done)}] {outcome.planned.label}: {outcome.outcome} ({outcome.seconds:.1f} s, "
                      f"estimated {estimate[chosen[0]]:.1f} s); {clock(args.budget - spent)} of the budget left")
    except KeyboardInterrupt:
        bar.close()
        if done:
            print(table([o for o, _ in done], [e for _, e in done]))
        kept = sum(o.fragment is not None for o, _ in done)
        stopped = f"{current.label} was stopped and wrote nothing; the " if current else "the "
        print(f"interrupted: {stopped}{kept} fragment(s) of the runs before it are kept in "
              f"{args.out}", file=sys.stderr)
        return 130
    finally:
        bar.close()
        signal.signal(signal.SIGTERM, previous)
    return summary(done, left_out, estimator, args.budget, time.monotonic() - started)


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


def _learn(outcome: Outcome, estimator: Estimator, precisions: dict[str, list[str]]) -> None:
    run = outcome.planned
    fw = run.framework
    if run.workload.scenario == "peak":
        rates = measured_rates(outcome)
        if rates is not None:
            estimator.rates[fw] = rates
            precisions[fw] = list(rates.flops)
    elif outcome.outcome == "ok":
        estimator.learn(SuiteRun(run.workload, fw, run.precision, run.mode == "sweep"), outcome.seconds)


def summary(done: list[tuple[Outcome, float]], left_out: list[SuiteRun], estimator: Estimator, budget: float,
            spent: float) -> int:
    outcomes = [o for o, _ in done]
    if outcomes:
        print(table(outcomes, [e for _, e in done]))
    counts = {k: sum(o.outcome == k for o in outcomes) for k in dict.fromkeys(o.outcome for o in outcomes)}
    print(f"budget {clock(budget)}: used {clock(spent)} ({100 * spent / budget:.0f} %); {len(outcomes)} runs"
          + (": " + ", ".join(f"{n} {k}" for k, n in counts.items()) if counts else ""))
    if left_out:
        shown = ", ".join(f"{r.label} (~{clock(estimator.seconds(r))})" for r in left_out[:3])
        print(f"left out for lack of time: {len(left_out)} run(s), the most valuable first: {shown}"
              + (", ..." if len(left_out) > 3 else "") + "; a larger --budget runs more")
    return 1 if any(o.outcome in FAILED for o in outcomes) else 0
