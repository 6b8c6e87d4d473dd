"""`python tools/run_catalogue.py`: run the workload catalogue (or a chosen part of it) on this machine, one
`runners/run.py` process per workload, framework and precision, and report what each one wrote.

Made for a machine lent for a short time (a GPU for a quarter of an hour): one prepared command runs everything
and writes every fragment into one folder, to be copied back and merged. Each run is a separate process, so one
that crashes, runs out of memory or exceeds `--timeout` costs only itself. Every fragment written is validated
as the pull-request check validates it (schema, rules, plausibility).

--batch-sweep runs the step and infer workloads as batch-size sweeps (runners/run.py --batch-sweep, with
--batch-start, --max-batch, --sweep-resolution and --memory-limit passed on); --devices 1,N runs the step and
train workloads on 1 and N devices (runners/run.py --devices), recording the scaling efficiency. Given both, a
step workload is run twice, once each way; the other workloads of the selection run as usual.

--suite standard [--budget 30m] runs the standard suite instead (dlbench.cli.suite_run): the runs that tell
hardware apart, most valuable first, as many as the budget holds by their estimates; --suite smoke is the same
selection at the smoke settings.

An outcome per run:
  ok / oom / error   the runner wrote a fragment with that status (oom and error are results too)
  invalid            it wrote a fragment the check would reject (a runner bug: please report it)
  skipped            the runner refused the options as a usage error (e.g. --precision tf32 on a CPU)
  not run            the runner wrote nothing (e.g. a dataset that is not on this machine and cannot be fetched)
  timeout            killed after --timeout seconds; nothing was written
  over budget        (--suite) still running at the budget's end plus its grace; stopped, nothing was written
Ctrl-C stops the run in progress (it writes nothing) and keeps the fragments of the runs before it.
Exit status: 0 when no run ended as error, invalid or timeout; 1 otherwise; 2 a usage error; 130 interrupted.
"""

from __future__ import annotations

import argparse
import os
import shlex
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

from ..contract.paths import REPO_ROOT
from ..contract.problems import display_path
from ..contract.validate import validate_fragment
from ..runner.backends.base import PRECISIONS
from ..runner.memory_limit import parse_bytes
from ..runner.sweep_search import parse_resolution
from ..runner.workloads import WORKLOADS, Workload
from .common import add_identity, argument_type, guarded
from .suite_plan import SMOKE_SWEEP_MAX_BATCH, SUITES, parse_budget

RUNNER = REPO_ROOT / "runners" / "run.py"
FRAMEWORKS = ("torch", "tensorflow")
SCENARIOS = ("train", "step", "infer", "peak")
FAILED = frozenset({"error", "invalid", "timeout"})
SWEEP_SCENARIOS = ("step", "infer")     # what --batch-sweep applies to
DEVICES_SCENARIOS = ("step", "train")   # what --devices applies to

# --smoke: the least work that still runs every part of a scenario (a check that everything runs, not a result).
SMOKE = {"train": ["--epochs", "1", "--train-samples", "256", "--test-samples", "256"],
         "step": ["--batch-size", "2", "--warmup", "1", "--iterations", "2"],
         "infer": ["--batch-size", "2", "--warmup", "1", "--iterations", "3"],
         "peak": ["--warmup", "1", "--iterations", "2"]}
# --smoke --batch-sweep: the smoke settings with a sweep bounded at batch 4 instead of one batch size.
SMOKE_SWEEP_MAX = str(SMOKE_SWEEP_MAX_BATCH)
DEFAULT_BUDGET_S = 30 * 60.0    # --suite without --budget


@dataclass
class Planned:
    workload: Workload
    framework: str
    precision: str | None        # None: the runner's default (peak: every precision the device has)
    command: list[str]
    mode: str = ""               # "sweep" (--batch-sweep) or "devices 1,2" (--devices); "" a plain run

    @property
    def name(self) -> str:
        return self.workload.name + (f" ({self.mode})" if self.mode else "")

    @property
    def label(self) -> str:
        return f"{self.name} {self.framework} {self.precision or 'default'}"


@dataclass
class Outcome:
    planned: Planned
    outcome: str
    seconds: float
    fragment: Path | None = None
    detail: str = ""
    results: list[dict] = field(default_factory=list)   # the results of the fragment(s) written, as validated


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="run_catalogue.py", description=__doc__.split("\n\n")[0],
                                epilog=__doc__.split("\n\n", 2)[2], formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--out", type=Path, required=True, metavar="DIR",
                   help="folder every fragment is written to (made if missing)")
    suite = p.add_argument_group("the standard suite (dlbench/cli/suite_plan.py says what it runs and why)")
    suite.add_argument("--suite", choices=SUITES,
                       help="standard: the runs that tell hardware apart (peak; every step and inference workload at "
                            "its default batch, at fp32 and at each lower precision the device has; batch-size "
                            "sweeps), most valuable first, as many as fit --budget; smoke: the same selection at the "
                            "smoke settings. --framework and --workload narrow it; the other selection options do "
                            "not apply")
    suite.add_argument("--budget", type=argument_type(parse_budget), metavar="TIME",
                       help="with --suite: the time the whole may take, e.g. 30m, 1h, 1h30m, 90s (default 30m); runs "
                            "are estimated from their FLOPs and the device's measured peak, and those that do not "
                            "fit are left out, the least valuable first")
    p.add_argument("--framework", dest="frameworks", action="append", choices=FRAMEWORKS, default=[],
                   help="framework to run with (repeatable; default: both)")
    p.add_argument("--workload", dest="workloads", action="append", default=[], metavar="ID",
                   help="a workload to run (repeatable; default: every one, see runners/run.py --list)")
    p.add_argument("--scenario", dest="scenarios", action="append", choices=SCENARIOS, default=[],
                   help="run only the workloads of this scenario (repeatable)")
    p.add_argument("--precision", dest="precisions", action="append", choices=PRECISIONS, default=[],
                   help="run each workload at this precision (repeatable; default: the runner's, fp32). The peak "
                        "workload ignores it and measures every precision the device has")
    p.add_argument("--device", default="auto", help="passed to runners/run.py --device (default: auto)")
    add_identity(p, "in every fragment (passed on to runners/run.py)")
    p.add_argument("--smoke", action="store_true",
                   help="the smallest settings that run every part of each scenario (train: 1 epoch on the first "
                        "256 training and 256 test samples; step: batch 2, 1 + 2 iterations; infer: batch 2, "
                        "1 + 3 inputs; peak: 1 + 2 operations): a check that "
                        "everything runs, not a measurement to publish")
    sweep = p.add_argument_group("capacity and several devices (passed on to runners/run.py)")
    sweep.add_argument("--batch-sweep", action="store_true",
                       help="run the step and infer workloads as batch-size sweeps: the batch doubles until it runs "
                            "out of memory, then bisects (each result records the curve and the largest batch that "
                            "fits); the other workloads run as usual")
    sweep.add_argument("--batch-start", type=int, metavar="N", help="with --batch-sweep: the first batch tried")
    sweep.add_argument("--max-batch", type=int, metavar="N",
                       help="with --batch-sweep: the largest batch tried (bounds a sweep on a device with much memory)")
    sweep.add_argument("--sweep-resolution", metavar="R",
                       help="with --batch-sweep: stop bisecting when the largest batch that fitted and the smallest "
                            "that did not are at most R samples apart, or R%% of the last batch that fitted (e.g. 16 "
                            "or 5%%; default: the runner's)")
    sweep.add_argument("--memory-limit", metavar="BYTES",
                       help="with --batch-sweep: the memory each point may use (e.g. 6GiB): RLIMIT_AS on a CPU, the "
                            "allocator's cap on a GPU")
    sweep.add_argument("--devices", metavar="N[,N...]",
                       help="run the step and train workloads on these device counts (e.g. 1,2: runners/run.py "
                            "--devices, DistributedDataParallel or MirroredStrategy), recording the scaling "
                            "efficiency; the other workloads run as usual")
    p.add_argument("--timeout", type=float, default=1800.0, metavar="S",
                   help="seconds a single run may take before it is stopped (default: 1800)")
    p.add_argument("--dry-run", action="store_true", help="print the commands and run nothing")
    return p


def _check_passed_on(args: argparse.Namespace, parser: argparse.ArgumentParser) -> None:
    """Usage errors for the options passed on to runners/run.py, before anything runs."""
    for name in ("batch_start", "max_batch", "sweep_resolution", "memory_limit"):
        if getattr(args, name) is not None and not args.batch_sweep:
            parser.error(f"--{name.replace('_', '-')} needs --batch-sweep")
    for name in ("batch_start", "max_batch"):
        if getattr(args, name) is not None and getattr(args, name) < 1:
            parser.error(f"--{name.replace('_', '-')} must be at least 1")
    if args.batch_start is not None and args.max_batch is not None and args.batch_start > args.max_batch:
        parser.error("--batch-start must not be larger than --max-batch")
    for name, parse in (("sweep_resolution", parse_resolution), ("memory_limit", parse_bytes)):
        try:   # as runners/run.py reads them, so that no run is refused for it later
            if getattr(args, name) is not None:
                parse(getattr(args, name))
        except ValueError as exc:
            parser.error(f"--{name.replace('_', '-')}: {exc}")
    if args.devices is not None:
        counts = args.devices.split(",")
        if not all(c.isdigit() and int(c) >= 1 for c in counts):
            parser.error(f"--devices {args.devices!r}: give device counts separated by commas, e.g. 2 or 1,2,4")


def recorded(args: argparse.Namespace) -> list[str]:
    """The options every run records as given (--contributor, --notes)."""
    return [x for name in ("contributor", "notes") if getattr(args, name) is not None
            for x in (f"--{name}", getattr(args, name))]


def _check_suite(args: argparse.Namespace, parser: argparse.ArgumentParser) -> None:
    """The suite chooses scenarios, precisions and sweeps itself: options that would choose them are usage errors."""
    chosen = [name for name, given in (("--scenario", args.scenarios), ("--precision", args.precisions),
                                       ("--smoke", args.smoke), ("--batch-sweep", args.batch_sweep),
                                       ("--devices", args.devices is not None))
              if given] + [f"--{n.replace('_', '-')}" for n in ("batch_start", "max_batch", "sweep_resolution",
                                                               "memory_limit") if getattr(args, n) is not None]
    if chosen:
        parser.error(f"--suite chooses the scenarios, precisions and sweeps itself: drop {', '.join(chosen)} "
                     "(or run without --suite; --suite smoke is the suite at the smoke settings)")
    if args.budget is None:
        args.budget = DEFAULT_BUDGET_S


def _sweep_options(args: argparse.Namespace, scenario: str) -> list[str]:
    out = ["--batch-sweep"]
    for name in ("batch_start", "max_batch", "sweep_resolution", "memory_limit"):
        value = getattr(args, name)
        if value is None and name == "max_batch" and args.smoke:
            value = SMOKE_SWEEP_MAX
        if value is not None:
            out += [f"--{name.replace('_', '-')}", str(value).strip()]
    if args.smoke:
        out += smoke_sweep_options(scenario)
    return out


def smoke_sweep_options(scenario: str) -> list[str]:
    """The smoke settings of `scenario` but the batch size: a sweep tries its own."""
    smoke = SMOKE[scenario]
    return [x for i, x in enumerate(smoke) if x != "--batch-size" and (i == 0 or smoke[i - 1] != "--batch-size")]


def _modes(args: argparse.Namespace, scenario: str) -> list[tuple[str, list[str]]]:
    """[(mode, runner options)] a workload of `scenario` is run in: plain, a sweep, on several device counts."""
    modes = []
    if args.batch_sweep and scenario in SWEEP_SCENARIOS:
        modes.append(("sweep", _sweep_options(args, scenario)))
    if args.devices is not None and scenario in DEVICES_SCENARIOS:
        modes.append((f"devices {args.devices}", ["--devices", args.devices] + (SMOKE[scenario] if args.smoke else [])))
    return modes or [("", SMOKE[scenario] if args.smoke else [])]


def plan(args: argparse.Namespace, parser: argparse.ArgumentParser) -> list[Planned]:
    _check_passed_on(args, parser)
    unknown = [w for w in args.workloads if w not in WORKLOADS]
    if unknown:
        parser.error(f"--workload: unknown workload(s) {', '.join(unknown)}; see runners/run.py --list")
    chosen = [WORKLOADS[w] for w in dict.fromkeys(args.workloads)] if args.workloads else list(WORKLOADS.values())
    if args.scenarios:
        chosen = [w for w in chosen if w.scenario in args.scenarios]
    if not chosen:
        parser.error("no workload matches the --workload and --scenario given")
    out: list[Planned] = []
    for w in chosen:
        precisions = [None] if w.scenario == "peak" or not args.precisions else list(dict.fromkeys(args.precisions))
        for framework in dict.fromkeys(args.frameworks or FRAMEWORKS):
            for precision in precisions:
                for mode, options in _modes(args, w.scenario):
                    cmd = [sys.executable, str(RUNNER), w.name, "--framework", framework, "--device", args.device,
                           "--out", str(args.out), *recorded(args)]
                    if precision is not None:
                        cmd += ["--precision", precision]
                    out.append(Planned(w, framework, precision, cmd + options, mode))
    return out


def execute(p: Planned, out: Path, timeout: float) -> Outcome:
    """Run one planned command; classify what it left in `out`."""
    before = set(out.iterdir())
    started = time.monotonic()
    proc = subprocess.Popen(p.command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            start_new_session=True)
    try:
        stdout, stderr = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        _stop(proc)
        return Outcome(p, "timeout", time.monotonic() - started, detail=f"stopped after {timeout:g} s")
    except KeyboardInterrupt:  # the run is in a session of its own: Ctrl-C reached only us
        _stop(proc)
        raise
    seconds = time.monotonic() - started
    written = sorted(set(out.iterdir()) - before)
    last = _last_line(stderr)
    if proc.returncode == 2:
        return Outcome(p, "skipped", seconds, detail=last)
    if not written:
        return Outcome(p, "not run", seconds, detail=last or f"exit status {proc.returncode}, nothing written")
    results = []
    for fragment in written:    # one, or one per device count where a runner writes each apart
        checked = validate_fragment(fragment)
        if checked.problems:
            return Outcome(p, "invalid", seconds, fragment, checked.problems[0].format())
        results += checked.runs[0].get("results", [])   # the record the check has just read: no second parse
    statuses = sorted({r.get("status", "?") for r in results})
    worst = next((s for s in ("error", "timeout", "oom") if s in statuses), statuses[0] if statuses else "?")
    failed = [r for r in results if r.get("status") != "ok"]
    more = f"and {len(written) - 1} more fragment(s)" if len(written) > 1 else ""
    detail = "; ".join(x for x in (more, failed[0].get("message", "") if failed else "") if x)
    return Outcome(p, worst, seconds, written[0], detail, results)


def _stop(proc: subprocess.Popen) -> None:
    """End a run that took too long, and whatever it started (its own session)."""
    for sig, wait in ((signal.SIGINT, 30), (signal.SIGKILL, 30)):
        try:
            os.killpg(proc.pid, sig)
        except ProcessLookupError:
            return
        try:
            proc.communicate(timeout=wait)
            return
        except subprocess.TimeoutExpired:
            continue


def _last_line(text: str) -> str:
    lines = [line for line in text.splitlines() if line.strip()]
    return lines[-1][:300] if lines else ""


def make_out(args: argparse.Namespace, parser: argparse.ArgumentParser) -> None:
    """Make the --out folder, or a usage error saying why it cannot be."""
    try:
        args.out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        parser.error(f"--out {args.out}: cannot make the folder ({exc.strerror or exc})")
    if not args.out.is_dir():
        parser.error(f"--out {args.out}: not a folder")


def table(outcomes: list[Outcome], estimates: list[float] | None = None) -> str:
    """One row per run; with `estimates` (seconds, one per outcome) a column of them beside the measured ones."""
    head = ("workload", "framework", "precision", "outcome") + (("estimate",) if estimates else ()) + ("seconds",)
    rows = [head + ("fragment / detail",)]
    for i, o in enumerate(outcomes):
        where = display_path(o.fragment) if o.fragment else ""
        rows.append((o.planned.name, o.planned.framework, o.planned.precision or "default", o.outcome)
                    + ((f"{estimates[i]:.1f}",) if estimates else ())
                    + (f"{o.seconds:.1f}", "; ".join(x for x in (where, o.detail) if x)))
    n = len(head)
    widths = [max(len(r[i]) for r in rows) for i in range(n)]
    return "\n".join("  ".join(cell.ljust(w) for cell, w in zip(r[:n], widths)) + "  " + r[n] for r in rows)


def run(argv: list[str] | None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.timeout <= 0:
        parser.error("--timeout must be more than 0 seconds")
    if args.suite:
        from .suite_run import run_suite   # it imports this module

        _check_suite(args, parser)
        return run_suite(args, parser)
    if args.budget is not None:
        parser.error("--budget needs --suite (a budget is fitted by the suite's estimates)")
    planned = plan(args, parser)
    if args.dry_run:
        for p in planned:
            print(shlex.join(p.command))
        return 0
    make_out(args, parser)
    outcomes: list[Outcome] = []
    try:
        for i, p in enumerate(planned, 1):
            o = execute(p, args.out, args.timeout)
            outcomes.append(o)
            print(f"[{i}/{len(planned)}] {p.label}: {o.outcome} ({o.seconds:.1f} s)", flush=True)
    except KeyboardInterrupt:
        if outcomes:
            print(table(outcomes))
        print(f"interrupted: {planned[len(outcomes)].label} was stopped and wrote nothing; the "
              f"{sum(o.fragment is not None for o in outcomes)} fragment(s) of the runs before it are kept",
              file=sys.stderr)
        return 130
    print(table(outcomes))
    counts = {k: sum(o.outcome == k for o in outcomes) for k in dict.fromkeys(o.outcome for o in outcomes)}
    print(", ".join(f"{n} {k}" for k, n in counts.items()))
    return 1 if any(o.outcome in FAILED for o in outcomes) else 0


def main(argv: list[str] | None = None) -> int:
    return guarded(lambda: run(argv))
