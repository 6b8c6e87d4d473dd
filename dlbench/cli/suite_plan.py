"""The standard suite of `tools/run_catalogue.py --suite`: the runs that tell hardware apart, in the order of
their value, each with an estimate of its time, and the part of them that fits a time budget.

What is run (the workloads come from the registry, dlbench.runner.workloads, so a new step or infer workload
joins the suite without an edit here), in this order of value:

1. `peak`, once per framework: the device's matrix-multiply FLOP/s at every precision it has and its memory
   bandwidth. It is cheap, it is what every other figure is read against, and its measurements are what the
   estimates of the runs below stand on (and which precisions tier 3 runs).
2. Every `step` and `infer` workload at fp32 and its default batch (the published protocol: comparable with
   every other device's result), the reference workloads first (`REFERENCE`: the models most published figures
   exist for), then the others in the registry's order.
3. The same at every lower precision the device's peak run measured (bf16, then fp16, then tf32), for the models
   of at least `LOW_PRECISION_MIN_FLOPS` forward FLOPs per sample: below that a step is bound by launch overhead,
   and the precision changes nothing the result could show.
4. Batch-size sweeps (capacity: the largest batch that fits, and the throughput curve) of the `SWEPT` workloads
   at fp32, bounded by `SWEEP_OPTIONS`.
Within a tier, each workload is run with each framework (PyTorch first) before the next workload.

Estimates: seconds = the framework's fixed cost per run (process start, import, system probe, validation:
measured on its peak run as the run's wall time less the time its results account for) + the run's arithmetic
(forward FLOPs per sample x samples x the scenario's passes, `PASSES`) / (the measured matrix-multiply FLOP/s at
the run's precision, a lower precision at most `LOW_PRECISION_GAIN` x fp32's, x `EFFICIENCY`), times a
correction learned from the runs finished so far (`Estimator.correction`: the model's own where it ran before,
else the most pessimistic of its framework and scenario, with a margin). A run with little arithmetic teaches the
fixed cost of its framework and scenario instead (`Estimator.overhead_s`). Before a peak is measured,
`PRIOR_FLOPS` and `PRIOR_OVERHEAD_S` stand in (said as such in `--dry-run`).

Fitting: the runs are taken in value order; one whose estimate does not fit in the time left is left out and the
next, cheaper one tried. After every run the estimates are corrected and the rest of the plan fitted again to the
time actually left, so a slow machine drops the least valuable runs rather than overrunning the budget.
"""

from __future__ import annotations

import math
import statistics
from dataclasses import dataclass, field

from ..runner.scenarios.base import flops_per_sample
from ..runner.workloads import WORKLOADS, Workload

SUITES = ("standard", "smoke")
REFERENCE = ("fwdbwd-resnet50", "infer-resnet50", "fwdbwd-gpt2-small", "fwdbwd-vgg16", "fwdbwd-alexnet")
SWEPT = ("fwdbwd-resnet50", "fwdbwd-gpt2-small", "infer-resnet50")
LOW_PRECISIONS = ("bf16", "fp16", "tf32")           # the order tier 3 runs them in, where the device has them
LOW_PRECISION_MIN_FLOPS = 100e6
# The sweep of the suite: bounded (a device with much memory would otherwise double on for long), 10 % is close
# enough for capacity, and fewer steps per point than a plain run: the point of a sweep is what fits.
SWEEP_WARMUP, SWEEP_ITERATIONS, SWEEP_MAX_BATCH = 3, 10, 1024
SWEEP_OPTIONS = ("--max-batch", str(SWEEP_MAX_BATCH), "--sweep-resolution", "10%", "--warmup", str(SWEEP_WARMUP),
                 "--iterations", str(SWEEP_ITERATIONS))
SMOKE_SWEEP_MAX_BATCH = 4
# Forward passes' worth of arithmetic per sample and iteration: PyTorch's step is forward + backward (2x);
# TensorFlow's step scenario runs the fused step (3x) and then forward (1x) and forward + gradients (3x) apart
# (dlbench.runner.scenarios.step); inference is one forward.
PASSES = {("torch", "step"): 3.0, ("tensorflow", "step"): 7.0, ("torch", "infer"): 1.0, ("tensorflow", "infer"): 1.0}
EFFICIENCY = 0.3        # a first guess of the fraction of the matmul peak a model reaches (ResNet-50 training on a
                        # 2-core Xeon: 0.26); the correction learns each machine's
PRIOR_FLOPS = {"cpu": 2e11, "gpu": 2e13}        # before any peak is measured (fp32)
LOW_PRECISION_GAIN = 2.0   # the most a lower precision is assumed to speed a model up before it has run at it
PRIOR_OVERHEAD_S = {"torch": 6.0, "tensorflow": 12.0}
PEAK_PRIOR_S = {"torch": 15.0, "tensorflow": 30.0}
RATIO_BOUNDS = (0.05, 50.0)
MIN_LEARNED_S = 5.0     # a run learned from has at least this much estimated arithmetic
UNCALIBRATED = 1.25     # the margin on the estimate of a model that has not run yet in its framework and scenario


@dataclass(frozen=True)
class SuiteRun:
    """One run of the suite: a workload, a framework, a precision (None: peak's every precision), a sweep or not."""
    workload: Workload
    framework: str
    precision: str | None
    sweep: bool = False
    tier: int = 0

    @property
    def scenario(self) -> str:
        return self.workload.scenario

    @property
    def label(self) -> str:
        mode = " (sweep)" if self.sweep else ""
        return f"{self.workload.name}{mode} {self.framework} {self.precision or 'every precision'}"


@dataclass
class Rates:
    """What one framework's estimates stand on: matmul FLOP/s by precision, the fixed seconds per run, and
    whether they were measured on this device (a peak run) or are the priors."""
    flops: dict[str, float]
    overhead_s: float
    measured: bool = False

    def rate(self, precision: str) -> float:
        """The FLOP/s a model is estimated against at `precision`: the measured matmul peak, for a lower
        precision at most `LOW_PRECISION_GAIN` times fp32's (a mixed-precision model keeps much of its work in
        fp32 and gains far less than the matmul peak does)."""
        fp32 = self.flops.get("fp32", min(self.flops.values(), default=PRIOR_FLOPS["cpu"]))
        return fp32 if precision == "fp32" else min(self.flops.get(precision, fp32), LOW_PRECISION_GAIN * fp32)


@dataclass
class Estimator:
    """Seconds a run will take, from its FLOPs and the rates; corrected by the runs that finished."""
    rates: dict[str, Rates]
    smoke: bool = False
    ratios: dict[tuple[str, str, str | None, str | None], list[float]] = field(default_factory=dict)
    fixed: dict[tuple[str, str], list[float]] = field(default_factory=dict)   # seconds of small runs, per process

    def arithmetic_s(self, run: SuiteRun) -> float:
        """Seconds of arithmetic the run's protocol asks for at the estimated efficiency (0 for peak)."""
        w = run.workload
        flops = flops_per_sample(w.model) if w.model else None
        if run.scenario not in ("step", "infer") or not flops:
            return 0.0
        rate = self.rates[run.framework].rate(run.precision or "fp32") * EFFICIENCY
        return flops * samples(run, self.smoke) * PASSES[(run.framework, run.scenario)] / rate

    def correction(self, run: SuiteRun) -> float:
        """How far this machine's runs have been from the estimates: the model's own ratio (measured / estimated
        arithmetic, median) where it ran before in this framework, scenario and precision; else the largest ratio of the
        framework and scenario, and at least 1 (the prior), times `UNCALIBRATED`. Models differ up to 3x in
        efficiency (on a 2-core Xeon, PyTorch: AlexNet 0.8 of the matmul peak, ResNet-50 0.26), so a fast model
        may not make an unseen one look cheaper: erring long leaves a run out, erring short gets it stopped at
        the budget's end with nothing written."""
        own = self.ratios.get((run.framework, run.scenario, run.workload.model, run.precision))
        if own:
            return statistics.median(own)
        same = [r for (fw, scenario, _, _), rs in self.ratios.items() if (fw, scenario) == (run.framework, run.scenario)
                for r in rs]
        return max([1.0, *same]) * UNCALIBRATED

    def seconds(self, run: SuiteRun) -> float:
        r = self.rates[run.framework]
        if run.scenario == "peak":   # run first, before anything is measured
            return PEAK_PRIOR_S[run.framework]
        processes = sweep_points(self.smoke) if run.sweep else 1
        return processes * self.overhead_s(run) + self.arithmetic_s(run) * self.correction(run)

    def overhead_s(self, run: SuiteRun) -> float:
        """The fixed seconds of one process of this framework and scenario: the median of its small runs where
        some finished (building the model, reading a dataset, saving and reloading: more than a peak run has),
        else the peak run's."""
        small = self.fixed.get((run.framework, run.scenario))
        return statistics.median(small) if small else self.rates[run.framework].overhead_s

    def learn(self, run: SuiteRun, wall_s: float) -> None:
        """Fold a finished run's wall time into the estimates: a small run into the fixed cost of its framework
        and scenario, a larger one into the correction of its model (and so of its framework and scenario)."""
        arithmetic = self.arithmetic_s(run)
        processes = sweep_points(self.smoke) if run.sweep else 1
        if arithmetic < MIN_LEARNED_S:   # fixed costs: it says how long a process takes, not the arithmetic rate
            self.fixed.setdefault((run.framework, run.scenario), []).append((wall_s - arithmetic) / processes)
            return
        spent = max(wall_s - processes * self.overhead_s(run), 0.0)
        ratio = min(max(spent / arithmetic, RATIO_BOUNDS[0]), RATIO_BOUNDS[1])
        self.ratios.setdefault((run.framework, run.scenario, run.workload.model, run.precision), []).append(ratio)


def samples(run: SuiteRun, smoke: bool) -> float:
    """Samples the run's protocol pushes through the model (warm-up included)."""
    w = run.workload
    if smoke:       # a few samples at batch 2: the fixed cost per run is all there is
        return 0.0
    if run.sweep:   # the doubling from 1 to the bound, every point fitting: the most a sweep can cost
        batches = 2 * SWEEP_MAX_BATCH - 1
        per_batch = SWEEP_WARMUP + SWEEP_ITERATIONS
        single = per_batch * sweep_points(smoke) if run.scenario == "infer" else 0
        return batches * per_batch + single
    per_batch = w.warmup + w.iterations
    single = per_batch if run.scenario == "infer" else 0   # infer also times single inputs, one per iteration
    return w.batch_size * per_batch + single


def sweep_points(smoke: bool) -> int:
    """Processes a sweep starts when every point fits up to its bound (1, 2, 4, ... the bound)."""
    bound = SMOKE_SWEEP_MAX_BATCH if smoke else SWEEP_MAX_BATCH
    return int(math.log2(bound)) + 1


def candidates(frameworks: list[str], precisions: dict[str, list[str]],
               only: list[str] | None = None) -> list[SuiteRun]:
    """Every run of the suite, in value order. `precisions`: per framework, those its peak run measured (fp32
    when none is known yet); `only`: restrict to these workload names."""
    def keep(w: Workload) -> bool:
        return not only or w.name in only

    ranked = sorted((w for w in WORKLOADS.values() if w.scenario in ("step", "infer") and keep(w)),
                    key=lambda w: REFERENCE.index(w.name) if w.name in REFERENCE else len(REFERENCE))
    runs = [SuiteRun(WORKLOADS["peak"], fw, None, tier=1) for fw in frameworks if keep(WORKLOADS["peak"])]
    runs += [SuiteRun(w, fw, "fp32", tier=2) for w in ranked for fw in frameworks]
    for precision in LOW_PRECISIONS:
        runs += [SuiteRun(w, fw, precision, tier=3) for w in ranked for fw in frameworks
                 if precision in precisions.get(fw, ()) and (flops_per_sample(w.model) or 0) >= LOW_PRECISION_MIN_FLOPS]
    runs += [SuiteRun(WORKLOADS[name], fw, "fp32", sweep=True, tier=4) for name in SWEPT for fw in frameworks
             if name in WORKLOADS and keep(WORKLOADS[name])]
    return runs


def fit(runs: list[SuiteRun], estimate: dict[SuiteRun, float],
        seconds_left: float) -> tuple[list[SuiteRun], list[SuiteRun]]:
    """(the runs that fit in `seconds_left`, taken in value order, and those left out)."""
    chosen, left_out, used = [], [], 0.0
    for run in runs:
        if used + estimate[run] <= seconds_left:
            chosen.append(run)
            used += estimate[run]
        else:
            left_out.append(run)
    return chosen, left_out


def parse_budget(text: str) -> float:
    """Seconds of a budget such as `30m`, `1h`, `1h30m`, `90s`, `2.5h`. ValueError when it is not one."""
    import re

    parts = re.fullmatch(r"\s*(?:(\d+(?:\.\d+)?)h)?\s*(?:(\d+(?:\.\d+)?)m(?:in)?)?\s*(?:(\d+(?:\.\d+)?)s)?\s*",
                         text.lower())
    if not parts or not any(parts.groups()):
        raise ValueError(f"{text!r} is not a duration: give it with its unit, e.g. 30m, 1h, 1h30m or 90s")
    hours, minutes, seconds = (float(g) if g else 0.0 for g in parts.groups())
    total = hours * 3600 + minutes * 60 + seconds
    if total <= 0:
        raise ValueError(f"{text!r}: the budget must be more than 0")
    return total


def clock(seconds: float) -> str:
    """`1h02m`, `12m05s`, `45s`."""
    s = max(int(round(seconds)), 0)
    if s >= 3600:
        return f"{s // 3600}h{s % 3600 // 60:02d}m"
    return f"{s // 60}m{s % 60:02d}s" if s >= 60 else f"{s}s"
