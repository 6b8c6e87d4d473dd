"""The timers: wall-clock phases, and the marks of a loop's iterations, the device synchronized before every
clock read.

Accelerators run work asynchronously: a clock read right after launching kernels measures the launch, not the
work. The phase timer therefore calls the backend's `synchronize()` (waiting for all queued device work; a no-op
on the CPU) immediately before each read of the clock, at the start and at the end of every phase. `Marks`
times points inside the iterations of a loop the same way; the PyTorch backend replaces it by CUDA events on
NVIDIA and AMD GPUs, recorded on the stream and read only after the loop (dlbench.runner.backends.torch).
"""

from __future__ import annotations

import time
from collections import defaultdict
from contextlib import contextmanager
from typing import Any, Callable, Iterator


class PhaseTimer:
    """Times named phases; a phase timed several times (e.g. one per epoch) keeps every duration."""

    def __init__(self, synchronize: Callable[[], None], clock: Callable[[], float] = time.perf_counter):
        self._synchronize = synchronize
        self._clock = clock
        self.laps: dict[str, list[float]] = defaultdict(list)
        # Phase name -> an energy meter (dlbench.runner.energy.EnergyMeter) read around each of its laps.
        self.meters: dict[str, Any] = {}

    def read(self) -> float:
        """The clock, read after the device has finished all work queued so far."""
        self._synchronize()
        return self._clock()

    @contextmanager
    def phase(self, name: str, samples: int = 0) -> Iterator[None]:
        """Time the block as one lap of phase `name`. A block that raises records nothing.

        A phase with a meter (`meters[name]`): the meter starts after the device synchronization and before
        the clock read, and stops after the closing read, so its reads are not timed; `samples` is what the
        lap processes (for samples per joule)."""
        meter = self.meters.get(name)
        if meter is None:
            start = self.read()
            yield
            self.laps[name].append(self.read() - start)
            return
        self._synchronize()
        meter.start()
        start = self._clock()
        try:
            yield
            lap = self.read() - start
        except BaseException:
            meter.abort()
            raise
        meter.stop(lap, samples)
        self.laps[name].append(lap)

    def total(self, name: str) -> float:
        """Sum of the laps of phase `name` (0 when it never completed)."""
        return sum(self.laps.get(name, ()))

    def last(self, name: str) -> float:
        return self.laps[name][-1]


class Marks:
    """Time points of the timed iterations of a loop: `mark(i, j)` records point j of iteration i; after the
    loop, `intervals()` gives each iteration's durations between successive points, in seconds.

    This one reads the clock after synchronizing the device (a no-op on the CPU); the PyTorch backend gives
    CUDA events on NVIDIA and AMD GPUs instead, read only after the loop (no host synchronization inside it).
    """

    def __init__(self, iterations: int, points: int, synchronize: Callable[[], None],
                 clock: Callable[[], float] = time.perf_counter):
        self._times = [[0.0] * points for _ in range(iterations)]
        self._synchronize, self._clock = synchronize, clock

    def mark(self, i: int, j: int) -> None:
        self._synchronize()
        self._times[i][j] = self._clock()

    def intervals(self) -> list[list[float]]:
        return [[b - a for a, b in zip(row, row[1:])] for row in self._times]
