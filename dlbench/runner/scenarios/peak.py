"""The `peak` scenario: the device's achievable ceiling, measured, as several results of one run.

- `peak-matmul`, one result per precision the device runs (PyTorch and TensorFlow: fp32 everywhere; on NVIDIA
  GPUs tf32 from compute capability 8.0, fp16, and bf16 where the device has it; on CPUs bf16 only when they
  have bfloat16 instructions (AVX512-BF16, AMX), since emulated it is no ceiling; `--precision P` measures P
  alone): the product of two n x n matrices of random normal values, n = 8192 on GPUs, 4096 on Apple MPS,
  2048 on CPUs. After `--warmup K` untimed products (default 5), `--iterations N` products (default 20) are
  timed as one loop, the device synchronized at both ends; FLOP/s = 2 n^3 x N / that time
  (`achieved_flops_per_s`). TF32 is switched on only for the tf32 result. The operands are made once; PyTorch
  writes into one preallocated output (`matmul(out=)`); fp16 and bf16 are products of half-precision operands
  (cuBLAS accumulates them in float32 or, where allowed, reduced precision: the framework's default).
- `peak-bandwidth`: one pass over a large float32 buffer on the device (1 GiB on GPUs, 256 MiB on CPUs and MPS:
  far beyond any cache), K untimed then N timed passes in one loop, synchronized at both ends; bytes read plus
  bytes written per second = bytes per pass x N / that time (`bandwidth_bytes_per_s`). PyTorch copies one
  buffer into another (`dst.copy_(src)`: 2 x size per pass; model `copy-<MiB>mib`). TensorFlow has no in-place
  copy (assigning a tensor to a variable shares its buffer, moving nothing; an op that makes a new tensor
  allocates it, which on the CPU measures page faults, not bandwidth), so it adds in place, `dst += src`
  (`assign_add`: reads both, writes one, 3 x size per pass; model `add-<MiB>mib`).
The model of each result names the operation and its size (`matmul-8192`, `copy-1024mib`, `add-256mib`); a
peak result has no batch_size (an operation has no batch). Where each operation can be timed without
synchronizing the device (CUDA events on NVIDIA and AMD GPUs in PyTorch; the clock on a CPU, in both
frameworks), `iteration_stats.operation_ms` summarizes the N operations (median, min, max, IQR, p95, count);
elsewhere (MPS, TensorFlow on a GPU) it is left out rather than add synchronizations to the loop, whose
wall time alone gives the rate. A part that fails (out of memory, an unsupported kernel) is
recorded as that result's status; the others are still measured.
"""

from __future__ import annotations

import sys
import time
import traceback
from typing import Any, Callable, Sequence

from .. import energy
from ..backends.base import Backend, Progress, UsageError
from ..memory import peak_host_rss_bytes
from ..timing import PhaseTimer
from ..workloads.base import Workload
from .base import IterationScenario, Measurement, Part, big_rate, classify, failure_message, marks_or_none, s, to_ms


class PeakScenario(IterationScenario):
    name = "peak"

    def __init__(self, backend: Backend, workload: Workload, warmup: int, iterations: int,
                 progress: Progress | None = None, clock: Callable[[], float] = time.perf_counter):
        self.backend = backend
        self.workload = workload
        self.warmup = warmup
        self.iterations = iterations
        self.progress = progress or Progress()
        self.clock = clock

    def precisions(self) -> Sequence[str]:
        asked = self.backend.options.precision
        return (asked,) if asked else tuple(self.backend.peak_precisions())

    def check(self, backend: Backend) -> None:
        asked = backend.options.precision
        if asked and asked not in backend.peak_precisions():
            runs = ", ".join(backend.peak_precisions())
            raise UsageError(f"--precision {asked}: the peak scenario on this device ({backend.device.kind}) "
                             f"measures {runs} only (bf16 on a CPU needs AVX512-BF16 or AMX); drop --precision "
                             "to measure every precision it has")

    def run(self, seed: int, m: Measurement, label: str = "") -> Measurement:
        backend = self.backend
        started = self.clock()
        n, nbytes = backend.peak_sizes()
        for precision in self.precisions():
            flops = 2 * n ** 3 * self.iterations
            self._part(m, f"peak-matmul:{precision}",
                       {"benchmark": "peak-matmul", "model": f"matmul-{n}", "precision": precision},
                       lambda: backend.matmul(precision, n, seed),
                       lambda t: {"achieved_flops_per_s": big_rate(flops / t)})
        copied: dict[str, Any] = {}

        def make_copy() -> Callable[[], Any]:
            op, copied["bytes"], kind = backend.copy(nbytes)
            m.parts["peak-bandwidth"].fields["model"] = f"{kind}-{nbytes // 2**20}mib"
            return op

        self._part(m, "peak-bandwidth",
                   {"benchmark": "peak-bandwidth", "model": f"copy-{nbytes // 2**20}mib", "precision": "fp32"},
                   make_copy, lambda t: {"bandwidth_bytes_per_s": big_rate(copied["bytes"] * self.iterations / t)})
        m.metrics["total_s"] = s(self.clock() - started)
        return m

    def _part(self, m: Measurement, key: str, fields: dict[str, Any], make: Callable[[], Callable[[], Any]],
              metrics: Callable[[float], dict[str, Any]]) -> None:
        backend = self.backend
        part = m.parts[key] = Part(fields)
        timer = PhaseTimer(backend.synchronize, self.clock)
        meter = timer.meters["loop"] = energy.meter_for(backend.device)  # energy over the timed loop, no samples
        backend.reset_peak_memory()
        op = None
        begin = timer.read()
        try:
            op = make()
            for _ in range(self.warmup):
                op()
            marks = marks_or_none(backend, self.iterations, 2)
            with timer.phase("loop"):
                for i in range(self.iterations):
                    marks.mark(i, 0)
                    op()
                    marks.mark(i, 1)
            t = timer.last("loop")
            part.metrics.update(metrics(t) if t > 0 else {})
            rows = marks.intervals()
            if rows is not None:
                part.iterations["operation_ms"] = to_ms([r[0] for r in rows])
            part.metrics["total_s"] = s(timer.read() - begin)
            part.metrics.update(backend.peak_memory())
            part.metrics["peak_host_rss_bytes"] = peak_host_rss_bytes()
        except Exception as exc:  # this part is a failed result; the others are still measured
            traceback.print_exc(file=sys.stderr)
            part.status, part.message = classify(backend, exc), failure_message(exc)
            del exc
        finally:
            del op
            energy.record(part, meter)  # on a failure too: why there is no reading
            meter.close()
            end = getattr(backend, "end_peak_part", None)
            if end:
                end()
            try:
                backend.release()
            except Exception:
                pass
