"""The `step` scenario: training steps of a model on a synthetic batch of its native shape, timed part by part.

The convention of tf_cnn_benchmarks and convnet-benchmarks: the input (standard-normal images, or uniform token
ids, and uniform labels) is generated once on the device with a fixed seed, so no data loading is measured.
`--warmup K` untimed steps (default 10: first kernel launches, cuDNN algorithm choice, tracing, torch.compile),
then `--iterations N` timed steps (default 50). The loss is cross-entropy on the synthetic labels, the optimizer
the workload's (SGD with momentum 0.9).

PyTorch: inside each timed step, forward (model and loss, under autocast for fp16/bf16), backward
(`loss.backward()`, through the GradScaler for fp16) and the optimizer update (`step()` then
`zero_grad(set_to_none=True)`) are timed apart. On NVIDIA and AMD GPUs a CUDA event is recorded on the stream
before forward, between the parts and after the update, and the events are read only after the loop: the loop
has no host synchronization besides the timers (an fp16 GradScaler reads one flag per step). On the CPU (and
MPS) the clock is read after a device synchronization at the same points.

TensorFlow: a traced function cannot be split from outside, so the parts are measured in separate calls of
separately traced functions: forward (model and loss), forward + gradients (returned, not applied), and the
update (applying those gradients); the device is synchronized before every clock read. `forward_ms` is the
first; `backward_ms` is the second minus the first, per iteration; `optimizer_ms` the third. `step_ms` and the
throughput come from the fused train step (one traced function: forward, gradients, update), timed on its own
loop of N steps after K warm-up steps, the device synchronized around each step (TensorFlow has no event timers;
on the CPU its calls return when done, so this costs nothing there).

Metrics: `forward_ms`, `backward_ms`, `optimizer_ms`, `step_ms` are medians over the timed iterations (`step_ms`
of each iteration's whole step, so not exactly the sum of the three medians); the same per-iteration times give
the result's `iteration_stats` (median, min, max, IQR, p95, count; with several repeats, the iterations of all
repeats pooled: dlbench.runner.report). `throughput_samples_per_s` = batch
x N / the wall time of the whole timed loop (its own timer, device synchronized at both ends; not a mean of
per-step rates); `throughput_tokens_per_s` = that x the sequence length for token models; `achieved_flops_per_s`
= 3 x the model's forward FLOPs per sample x the throughput (training = forward + backward at twice the forward).
`total_s` is the wall time of the whole repeat (building the model, the synthetic data, warm-up, both loops).
"""

from __future__ import annotations

import time
from typing import Callable

from ..backends.base import Backend, Progress, StepProgram
from ..timing import PhaseTimer
from ..workloads.base import Workload
from .base import IterationScenario, Measurement, big_rate, flops_per_sample, measuring, ms_figure, rate, to_ms


class StepScenario(IterationScenario):
    name = "step"

    def __init__(self, backend: Backend, workload: Workload, batch_size: int, warmup: int, iterations: int,
                 progress: Progress | None = None, clock: Callable[[], float] = time.perf_counter):
        self.backend = backend
        self.workload = workload
        self.batch_size = batch_size
        self.warmup = warmup
        self.iterations = iterations
        self.progress = progress or Progress()
        self.clock = clock

    def run(self, seed: int, m: Measurement, label: str = "") -> Measurement:
        backend, metrics, w = self.backend, m.metrics, self.workload
        with measuring(backend, m, self.clock, timed="steps") as timer:
            program = backend.step_program(w.model, w.input, self.batch_size, seed, w.optimizer, w.learning_rate,
                                           w.momentum)
            if program.fused:
                parts, steps, loop_s = self._fused(program, timer)
            else:
                parts, steps, loop_s = self._inside(program, timer)
            for name, seconds in zip(("forward_ms", "backward_ms", "optimizer_ms", "step_ms"), (*parts, steps)):
                m.iterations[name] = to_ms(seconds)
                metrics[name] = ms_figure(m.iterations[name])
            samples_per_s = program.samples * self.iterations / loop_s if loop_s > 0 else 0.0
            metrics["throughput_samples_per_s"] = rate(samples_per_s)
            if program.tokens_per_sample:
                metrics["throughput_tokens_per_s"] = rate(samples_per_s * program.tokens_per_sample)
            flops = flops_per_sample(w.model)
            if flops is not None:
                metrics["achieved_flops_per_s"] = big_rate(3 * flops * samples_per_s)
            del program
        return m

    def _inside(self, p: StepProgram, timer: PhaseTimer) -> tuple[tuple[list, list, list], list, float]:
        """PyTorch: the three parts timed inside each step; the whole loop timed apart."""
        for _ in range(self.warmup):
            loss = p.forward()
            p.backward(loss)
            p.optimize()
        marks = self.backend.marks(self.iterations, 4)
        with timer.phase("steps", samples=p.samples * self.iterations):
            for i in range(self.iterations):
                marks.mark(i, 0)
                loss = p.forward()
                marks.mark(i, 1)
                p.backward(loss)
                marks.mark(i, 2)
                p.optimize()
                marks.mark(i, 3)
        rows = marks.intervals()
        parts = ([r[0] for r in rows], [r[1] for r in rows], [r[2] for r in rows])
        return parts, [sum(r) for r in rows], timer.last("steps")

    def _fused(self, p: StepProgram, timer: PhaseTimer) -> tuple[tuple[list, list, list], list, float]:
        """TensorFlow: the fused step timed on its own loop (step_ms, throughput), then the parts in separate
        calls (forward; forward + gradients; update)."""
        for _ in range(self.warmup):
            p.step()
        marks = self.backend.marks(self.iterations, 2)
        with timer.phase("steps", samples=p.samples * self.iterations):
            for i in range(self.iterations):
                marks.mark(i, 0)
                p.step()
                marks.mark(i, 1)
        steps = [r[0] for r in marks.intervals()]
        loop_s = timer.last("steps")

        for _ in range(self.warmup):
            p.forward()
            p.optimize(p.backward())
        marks = self.backend.marks(self.iterations, 4)
        for i in range(self.iterations):
            marks.mark(i, 0)
            p.forward()
            marks.mark(i, 1)
            grads = p.backward()
            marks.mark(i, 2)
            p.optimize(grads)
            marks.mark(i, 3)
        rows = marks.intervals()
        parts = ([r[0] for r in rows], [max(r[1] - r[0], 0.0) for r in rows], [r[2] for r in rows])
        return parts, steps, loop_s

