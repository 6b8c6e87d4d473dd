"""What the scenarios share: the measurement of one repeat, the failure words, and the scenario interface."""

from __future__ import annotations

from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, Callable, Iterator, Sequence

from ...contract.stats import percentile
from .. import energy
from ..memory import MemoryTracker
from ..timing import PhaseTimer

SECONDS_DIGITS = 6
MS_DIGITS = 4
MESSAGE_LIMIT = 2000


@dataclass
class Part:
    """One result of a scenario that writes several (peak: one per precision, and the bandwidth): the fields
    that differ from the run's other results (benchmark, model, precision), its metrics, and how it ended."""

    fields: dict[str, Any]
    metrics: dict[str, Any] = field(default_factory=dict)
    iterations: dict[str, list[float]] = field(default_factory=dict)  # as in Measurement
    status: str = "ok"
    message: str | None = None
    energy: dict[str, Any] | None = None  # as in Measurement


@dataclass
class Measurement:
    """What one repeat measured; filled phase by phase, so a failed repeat keeps what it got to."""

    seed: int
    metrics: dict[str, Any] = field(default_factory=dict)
    dataset_sha256: str | None = None
    train_samples: int | None = None
    parts: dict[str, Part] = field(default_factory=dict)  # scenarios with several results (peak), by key
    # Timings taken once per timed iteration, in milliseconds, unrounded, by iteration_stats name (step_ms,
    # latency_ms, ...): the report pools them over the repeats into the result's `iteration_stats`.
    iterations: dict[str, list[float]] = field(default_factory=dict)
    # The result's `energy` entry for this repeat (a reading or why it is missing: dlbench.runner.energy), with
    # energy_j, average_power_w, samples_per_joule in `metrics` when read; None when nothing was metered.
    energy: dict[str, Any] | None = None


class Scenario:
    """How a workload is measured. `run(seed, m)` fills one Measurement; `counts(m)` gives the result's epochs,
    steps and warm-up steps; `check(backend)` refuses (UsageError) what the scenario cannot do on this device."""

    name: str = ""
    backend: Any

    def run(self, seed: int, m: Measurement, label: str = "") -> Measurement:  # pragma: no cover - interface
        raise NotImplementedError

    def counts(self, measurements: Sequence[Measurement]) -> dict[str, int]:  # pragma: no cover - interface
        raise NotImplementedError

    def check(self, backend: Any) -> None:
        """Nothing to refuse by default."""


class IterationScenario(Scenario):
    """A scenario timed over `warmup` untimed and `iterations` timed iterations (step, infer, peak): they are the
    result's `warmup_steps` and `steps`."""

    warmup: int
    iterations: int

    def counts(self, measurements: Sequence[Measurement]) -> dict[str, int]:
        return {"steps": self.iterations, "warmup_steps": self.warmup}


@contextmanager
def measuring(backend: Any, m: "Measurement", clock: Callable[[], float],
              timed: str | None = None) -> Iterator[PhaseTimer]:
    """The frame of one measurement (train, step, infer): a PhaseTimer on the backend's synchronization,
    started; on success `total_s` from a synchronized clock read, on a failure from a plain one (after a
    device error a synchronization could fail again); peak memory merged into `m.metrics` either way (its own
    failure is not worth hiding the real one). `timed`: the phase whose laps are the timed part, metered for
    energy (dlbench.runner.energy; the meter is set up before `total_s` starts)."""
    timer = PhaseTimer(backend.synchronize, clock)
    meter = energy.meter_for(backend.device) if timed else None
    if meter is not None:
        timer.meters[timed] = meter
    memory = MemoryTracker(backend)
    memory.start()
    started = timer.read()
    try:
        yield timer
        m.metrics["total_s"] = s(timer.read() - started)
    except Exception:
        m.metrics["total_s"] = s(clock() - started)
        raise
    finally:
        try:
            m.metrics.update(memory.metrics())
        except Exception:
            pass
        energy.record(m, meter)  # the laps that completed, on a failure too
        if meter is not None:
            meter.close()


def failure_message(exc: BaseException) -> str:
    """The exception's type and the first line of its text: what went wrong, without a traceback."""
    text = next((line.strip() for line in str(exc).splitlines() if line.strip()), "")
    message = f"{type(exc).__name__}: {text}" if text else type(exc).__name__
    return message[:MESSAGE_LIMIT]


def classify(backend: Any, exc: BaseException) -> str:
    return "oom" if backend.is_oom(exc) else "error"


def s(seconds: float) -> float:
    """Seconds as recorded: not negative, microseconds."""
    return round(max(seconds, 0.0), SECONDS_DIGITS)


def ms(seconds: float) -> float:
    """Seconds as recorded milliseconds (4 decimals)."""
    return round(max(seconds, 0.0) * 1000.0, MS_DIGITS)


def to_ms(seconds: Sequence[float]) -> list[float]:
    """Per-iteration durations in seconds as unrounded milliseconds (not negative): what `iterations` holds."""
    return [max(t, 0.0) * 1000.0 for t in seconds]


def ms_figure(samples_ms: Sequence[float], q: float = 50) -> float:
    """The q-th percentile (default: the median) of per-iteration milliseconds, as recorded in `metrics`:
    computed and rounded as dlbench.contract.stats.spread does, so one repeat's figure equals its
    `iteration_stats` entry."""
    return round(percentile(samples_ms, q), MS_DIGITS)


class _NoMarks:
    """Stands in for Marks where timing each iteration would add a device synchronization: marks nothing."""

    def mark(self, i: int, j: int) -> None:
        pass

    def intervals(self) -> None:
        return None


def marks_or_none(backend: Any, iterations: int, points: int) -> Any:
    """The backend's synchronization-free marks for a loop (Backend.quiet_marks), or a stand-in that marks
    nothing (its `intervals()` is None) where it has none."""
    return backend.quiet_marks(iterations, points) or _NoMarks()


def rate(value: float) -> float:
    """A per-second rate as recorded (samples, tokens: 2 decimals)."""
    return round(value, 2)


def big_rate(value: float) -> float:
    """A FLOP/s or byte/s figure as recorded (whole units)."""
    return float(round(value))


def flops_per_sample(model: str | None) -> int | None:
    """Forward FLOPs per sample of `model` (dlbench.runner.models.model_cost), or None when not known."""
    if not model:
        return None
    try:
        from .. import models

        return int(models.model_cost(model).flops)
    except Exception:  # a model not in the catalogue (yet): the result then has no achieved FLOP/s
        return None


