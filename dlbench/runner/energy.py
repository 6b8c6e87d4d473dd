"""Energy over the timed part of a result: the sensor for the device measured, read around each timed lap.

Sensors (what each covers is recorded in the result's `energy.covers`):
- cuda (NVIDIA): the driver's total-energy counter (`nvml-energy`, Volta and later: the board, in mJ), else its
  power reading sampled every 100 ms in a background thread and integrated by the trapezoid rule
  (`nvml-power`, with `sample_interval_ms`); dlbench.runner.system.nvml_energy.
- cpu on Linux: the CPU package counters of powercap RAPL (`rapl`: every package domain summed, wrap-around
  handled; not the memory, not the rest of the machine); dlbench.runner.system.powercap.
- Apple (mps, or cpu on macOS): `powermetrics` is the only reader and needs root, so the energy is recorded
  missing with that reason; likewise any other device (ROCm, XPU) or machine without a readable sensor.
A missing reading is `energy = {missing = "<why>"}` and no energy metrics, never 0: no sensor, an unreadable
one (powercap's `energy_uj` is root-only on most distributions), a timed part shorter than the sensor reads
meaningfully (0.1 s for RAPL, updated about every millisecond; 1 s for NVML, whose counter and power reading
update every 20-100 ms; at least 10 power samples), or a counter that did not advance.

The timed part is the phase a scenario names (train: the epochs, `compute`; step: the timed steps; infer: the
throughput loop; peak: each part's loop): the PhaseTimer starts the meter after synchronizing the device and
before reading the clock, and stops it after the closing clock read, so the reading spans the timed window and
its reads are not timed. A phase timed several times (epochs) adds up its laps. RAPL is also read every 10 s
during a lap, so a counter that wraps more than once in a long epoch is still counted.

Metrics (medians over repeats, as every metric): `energy_j`, `average_power_w` = energy_j / the timed seconds,
`samples_per_joule` = the samples of the timed part / energy_j (not for peak results, which have no samples).

Why not a library. zeus (`zeus.monitor.ZeusMonitor`, the ML.ENERGY project's, formerly zeus-ml) does the same
NVML readings and reads RAPL, but its powercap folder is a module constant (no way to point a test at a
written tree), its wrap-around tracker is a separate polling process per counter, and it pulls pandas,
scikit-learn, pydantic, rich, tyro, httpx and amdsmi into a runner whose NVML part is a dozen lines.
codecarbon estimates emissions, not the energy of a window: with no readable sensor it falls back silently
on a TDP constant or a CPU-load model (an estimate the dataset must not record as measured), samples every
15 s by default and brings pandas, pydantic, requests and more. nvidia-ml-py, which both use, is already the
runner's dependency (the system probe reads the GPUs with it), so NVML costs nothing new.
"""

from __future__ import annotations

import statistics
import sys
import threading
import time
from typing import Any, Callable, Sequence

from .system import nvml_energy, powercap

MIN_TIMED_S = {"rapl": 0.1, "nvml-energy": 1.0, "nvml-power": 1.0}
POWER_INTERVAL_S = 0.1
MIN_POWER_SAMPLES = 10
RAPL_POLL_S = 10.0
DIGITS = 6
APPLE = ("Apple: powermetrics, the only energy reader on macOS, needs root (sudo); the runner does not run it, "
         "so no energy is recorded")
ENERGY_METRICS = ("energy_j", "average_power_w", "samples_per_joule")


class _Polled:
    """A reading taken by a thread every `poll_s` seconds during a lap (`_read()`), as well as at its ends; a
    reading that fails in the thread is raised by `end()` (`_failure(reason)`)."""

    poll_s = 1.0
    thread_name = "dlbench-energy"

    def __init__(self) -> None:
        self._thread: threading.Thread | None = None
        self._stop = threading.Event()
        self._error: str | None = None

    def _read(self) -> None:  # pragma: no cover - interface
        raise NotImplementedError

    def _failure(self, reason: str) -> Exception:  # pragma: no cover - interface
        raise NotImplementedError

    def _start_polling(self) -> None:
        self._error = None
        self._stop.clear()
        self._thread = threading.Thread(target=self._poll, name=self.thread_name, daemon=True)
        self._thread.start()

    def _poll(self) -> None:
        while not self._stop.wait(self.poll_s):
            try:
                self._read()
            except (powercap.Unreadable, nvml_energy.Unavailable) as exc:
                self._error = exc.reason
                return

    def _stop_polling(self) -> None:
        """Stop the thread; raise what it could not read."""
        self.abort()
        if self._error:
            raise self._failure(self._error)

    def abort(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
            self._thread = None


class _Rapl(_Polled):
    """The CPU packages' RAPL counters; a thread reads them every RAPL_POLL_S during a lap (wrap-around)."""

    sensor = "rapl"
    interval_ms = None
    poll_s = RAPL_POLL_S
    thread_name = "dlbench-rapl"

    def __init__(self, domains: list[powercap.Domain]):
        super().__init__()
        self.domains, self.covers = domains, powercap.covers(domains)

    def _failure(self, reason: str) -> Exception:
        return powercap.Unreadable(reason)

    def begin(self) -> None:
        self._uj = 0
        self._last = [d.read_uj() for d in self.domains]
        self._start_polling()

    def _read(self) -> None:
        now = [d.read_uj() for d in self.domains]
        self._uj += sum(powercap.advance(a, b, d.max_range_uj) for a, b, d in zip(self._last, now, self.domains))
        self._last = now

    def end(self) -> float:
        self._stop_polling()
        self._read()
        return self._uj / 1e6

    def close(self) -> None:
        self.abort()


class _NvmlCounter:
    sensor = "nvml-energy"
    interval_ms = None

    def __init__(self, gpu: nvml_energy.Gpu):
        self.gpu, self.covers = gpu, gpu.covers()

    def begin(self) -> None:
        self._start = self.gpu.energy_mj()

    def end(self) -> float:
        joules = nvml_energy.counter_joules(self._start, self.gpu.energy_mj())
        if joules is None:
            raise nvml_energy.Unavailable("the NVML energy counter went back during the timed part (driver reloaded?)")
        return joules

    def abort(self) -> None:
        pass

    def close(self) -> None:
        self.gpu.close()


class _NvmlPower(_Polled):
    """The power reading sampled every POWER_INTERVAL_S, plus one sample at each end of the lap."""

    sensor = "nvml-power"
    interval_ms = POWER_INTERVAL_S * 1000.0
    poll_s = POWER_INTERVAL_S
    thread_name = "dlbench-nvml-power"

    def __init__(self, gpu: nvml_energy.Gpu, clock: Callable[[], float] = time.perf_counter):
        super().__init__()
        self.gpu, self.covers, self._clock = gpu, gpu.covers(), clock
        self.count = 0  # samples over every lap so far

    def _failure(self, reason: str) -> Exception:
        return nvml_energy.Unavailable(reason)

    def _read(self) -> None:
        self._samples.append((self._clock(), self.gpu.power_w()))

    def begin(self) -> None:
        self._samples: list[tuple[float, float]] = []
        self._read()
        self._start_polling()

    def end(self) -> float:
        self._stop_polling()
        self._read()
        self.count += len(self._samples)
        return nvml_energy.trapezoid_joules(self._samples)

    def close(self) -> None:
        self.abort()
        self.gpu.close()


class EnergyMeter:
    """Energy over the laps of one timed phase: `start()` / `stop(seconds, samples)` around each lap (the
    PhaseTimer calls them), `abort()` for a lap that raised, then `reading()`. Without a sensor it only keeps
    the reason (`missing`)."""

    def __init__(self, sensor: Any = None, missing: str | None = None):
        self.sensor, self.missing = sensor, missing
        self.joules = self.seconds = 0.0
        self.samples = self.laps = 0

    def start(self) -> None:
        if self.sensor is None or self.missing:
            return
        try:
            self.sensor.begin()
        except (powercap.Unreadable, nvml_energy.Unavailable) as exc:
            self.missing = exc.reason

    def stop(self, seconds: float, samples: int = 0) -> None:
        if self.sensor is None or self.missing:
            return
        try:
            self.joules += self.sensor.end()
        except (powercap.Unreadable, nvml_energy.Unavailable) as exc:
            self.missing = exc.reason
            return
        self.seconds += seconds
        self.samples += samples
        self.laps += 1

    def abort(self) -> None:
        if self.sensor is not None:
            self.sensor.abort()

    def close(self) -> None:
        if self.sensor is not None:
            try:
                self.sensor.close()
            except Exception:  # noqa: BLE001 - closing must not hide the measurement
                pass

    def reading(self) -> tuple[dict[str, float], dict[str, Any]]:
        """(energy metrics, the result's `energy` entry) for the laps so far: the metrics empty and the entry
        `{missing}` when there is no reading to record."""
        if self.missing:
            return {}, {"missing": self.missing}
        if self.laps == 0:
            return {}, {"missing": "the timed part did not complete"}
        name = self.sensor.sensor
        least = MIN_TIMED_S[name]
        if self.seconds < least:
            return {}, {"missing": f"the timed part lasted {self.seconds:.3f} s, shorter than the {least:g} s the "
                                   f"{name} sensor needs for a meaningful reading"}
        count = getattr(self.sensor, "count", None)
        if count is not None and count < MIN_POWER_SAMPLES:
            return {}, {"missing": f"{count} power samples over the timed part, fewer than the "
                                   f"{MIN_POWER_SAMPLES} a meaningful reading needs"}
        if self.joules <= 0:
            return {}, {"missing": f"the {name} counter did not advance over the {self.seconds:.3f} s timed part"}
        metrics = {"energy_j": round(self.joules, DIGITS), "average_power_w": round(self.joules / self.seconds, DIGITS)}
        if self.samples:
            metrics["samples_per_joule"] = round(self.samples / self.joules, DIGITS)
        entry: dict[str, Any] = {"sensor": name, "covers": self.sensor.covers}
        if self.sensor.interval_ms is not None:
            entry["sample_interval_ms"] = self.sensor.interval_ms
        entry["timed_s"] = round(self.seconds, DIGITS)
        return metrics, entry


def meter_for(device: Any, platform: str = sys.platform) -> EnergyMeter:
    """The meter for the device a run measures (`Device`: kind, index, count): a sensor, or the reason there
    is none."""
    kind = device.kind
    if kind == "mps" or (kind == "cpu" and platform == "darwin"):
        return EnergyMeter(missing=APPLE)
    if kind == "cpu":
        if not platform.startswith("linux"):
            return EnergyMeter(missing=f"no readable sensor: CPU energy is read from Linux powercap (RAPL) only, "
                                       f"not on {platform}")
        try:
            return EnergyMeter(_Rapl(powercap.packages()))
        except powercap.Unreadable as exc:
            return EnergyMeter(missing=exc.reason)
    if kind == "cuda":
        if getattr(device, "count", 1) > 1:
            return EnergyMeter(missing="energy of several GPUs is not read yet (one GPU per reading)")
        try:
            gpu = _open_gpu(int(device.index))
        except nvml_energy.Unavailable as exc:
            return EnergyMeter(missing=exc.reason)
        return EnergyMeter(_NvmlCounter(gpu) if gpu.has_counter() else _NvmlPower(gpu))
    return EnergyMeter(missing=f"no energy sensor is read for {kind} devices")


def _open_gpu(index: int) -> nvml_energy.Gpu:
    import os

    uuid = nvml_energy.torch_uuid(index)
    if uuid and uuid.startswith("MIG-"):
        raise nvml_energy.Unavailable("the device is a MIG instance: NVML's energy and power readings cover the "
                                      "whole GPU")
    if uuid:
        try:
            return nvml_energy.Gpu(uuid)
        except nvml_energy.Unavailable:
            pass  # an identifier NVML does not know: through CUDA_VISIBLE_DEVICES instead
    return nvml_energy.Gpu(nvml_energy.nvml_target(index, os.environ.get("CUDA_VISIBLE_DEVICES")))


def record(into: Any, meter: EnergyMeter | None) -> None:
    """Put the meter's reading into a Measurement or Part (`metrics` and `energy`)."""
    if meter is None:
        return
    metrics, into.energy = meter.reading()
    into.metrics.update(metrics)


def summary(energies: Sequence[dict[str, Any] | None], metrics: dict[str, Any],
            stats: dict[str, Any] | None = None) -> dict[str, Any] | None:
    """The result's `energy` for the repeats' entries, and `metrics` (the repeats' medians) and `stats` made to
    agree with it: a reading when every repeat has one (`timed_s` their median), else the first repeat's reason
    and no energy metrics. None when no repeat was metered."""
    got = [e for e in energies if e]
    if not got:
        return None
    missing = next((e for e in got if "missing" in e), None)
    if missing is None and len(got) == len(energies) and "energy_j" in metrics:
        entry = dict(got[0])
        entry["timed_s"] = round(statistics.median(e["timed_s"] for e in got), DIGITS)
        return entry
    for name in ENERGY_METRICS:
        metrics.pop(name, None)
        if stats is not None:
            stats.pop(name, None)
    if missing:
        return missing
    if len(got) < len(energies):
        return {"missing": "the energy was read in some repeats only"}
    return {"missing": "the result failed after its timed part; its energy reading is not recorded"}


def notes(results: Sequence[dict[str, Any]]) -> list[str]:
    """The summary's lines about energy: the reading of each result that has one, or why there is none (once
    when every result gives the same reason)."""
    reasons = list(dict.fromkeys(r["energy"]["missing"] for r in results if "missing" in r.get("energy", {})))
    lines = []
    for r in results:
        e, m = r.get("energy", {}), r.get("metrics", {})
        if "sensor" in e and "energy_j" in m:
            per = f", {m['samples_per_joule']:.4g} samples/J" if "samples_per_joule" in m else ""
            lines.append(f"(energy, {r['benchmark']}: {m['energy_j']:.4g} J over {e['timed_s']:.3g} s, "
                         f"{m['average_power_w']:.4g} W{per}; {e['sensor']}: {e['covers']})")
    lines.extend(f"(energy not recorded: {reason})" for reason in reasons)
    return lines
