"""The phase timer: wall-clock phases with the device synchronized before every clock read.

Accelerators run work asynchronously: a clock read right after launching kernels measures the launch, not the
work. The timer therefore calls the backend's `synchronize()` (waiting for all queued device work; a no-op on
the CPU) immediately before each read of the clock, at the start and at the end of every phase.
"""

from __future__ import annotations

import time
from collections import defaultdict
from contextlib import contextmanager
from typing import Callable, Iterator


class PhaseTimer:
    """Times named phases; a phase timed several times (e.g. one per epoch) keeps every duration."""

    def __init__(self, synchronize: Callable[[], None], clock: Callable[[], float] = time.perf_counter):
        self._synchronize = synchronize
        self._clock = clock
        self.laps: dict[str, list[float]] = defaultdict(list)

    def read(self) -> float:
        """The clock, read after the device has finished all work queued so far."""
        self._synchronize()
        return self._clock()

    @contextmanager
    def phase(self, name: str) -> Iterator[None]:
        """Time the block as one lap of phase `name`. A block that raises records nothing."""
        start = self.read()
        yield
        self.laps[name].append(self.read() - start)

    def total(self, name: str) -> float:
        """Sum of the laps of phase `name` (0 when it never completed)."""
        return sum(self.laps.get(name, ()))

    def last(self, name: str) -> float:
        return self.laps[name][-1]
