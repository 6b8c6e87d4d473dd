"""Plausibility of a schema-valid run: what it claims must be consistent, backed by its system, and physical.

A fragment's run_id is a hash of its content, so a hand-edited record that was re-hashed passes every
per-field check; these rules catch claims that cannot all be true at once. They run on files (a fragment,
the merged dataset) in `validate.py`; a runner's in-memory `validate_run` does not run them. Imported
records (`provenance.kind = "imported"`) have no timestamps, epochs or probed system: only the rules that
apply to what they hold (physics, universal limits) are checked. Check codes (stable):

- `epoch-sum-mismatch`: a measured result's `epoch_s` sums to `compute_s` (at most 1% + 0.05 s over it, at
  most 10% + 10 ms per epoch under it: compute_s also holds per-epoch overhead).
- `phase-exceeds-total`: no single phase (load/compute/eval/inference_*, the epochs together) exceeds `total_s`.
- `throughput-mismatch`: train `throughput_samples_per_s` = train-set size x epochs / compute_s (within 5%).
- `step-throughput-mismatch`: step throughput within 4x (x device_count) of batch_size / step time.
- `steps-mismatch`: train `steps` = ceil(train-set size / batch_size) x epochs (x1 or x device_count).
  In these two rules the train-set size is `train_samples` where a result trained on part of the dataset.
- `samples-exceed-dataset`: `train_samples` / `test_samples` at most the published split's size.
- `elapsed-too-short`: finished_at - started_at covers the results' repeats of `total_s`.
- `date-too-early`: started_at/finished_at not before EARLIEST_RUN (2026-11-01, the runner's first release).
- `device-not-in-system`: a measured result's device is one its system lists (accelerator or CPU model).
- `device-kind-mismatch`: the listed accelerator of that name is of the result's device_kind.
- `device-count-exceeds-system`: device_count <= the accelerator's count (a CPU: <= its logical cores, else its
  sockets, else 1: the "CPU devices" of a data-parallel run are workers sharing its cores).
- `device-memory-exceeds`: peak device memory <= the devices' memory (a CPU: the host's memory).
- `host-memory-exceeds`: peak_host_rss_bytes <= system.memory_bytes.
- `host-memory-universal`: peak_host_rss_bytes <= 64 TiB, for any record.
- `flops-exceed-peak`: achieved FLOP/s <= catalogue dense peak x device_count x 1.1 (a CPU: its ceiling, which
  covers all its cores whatever the device_count).
- `flops-exceed-universal`: achieved FLOP/s <= 10 PFLOP/s per device, for any device.
- `bandwidth-exceeds-peak`: bandwidth_bytes_per_s <= catalogue bandwidth x count x 1.1 (else 50 TB/s/device).
- `unverified-device` (a notice, never a failure): an accelerator the catalogue does not know.
- `workload-family`: a workload of an imported family (timm, Lambda, MLPerf, ...: `families.py`) comes only
  from an import of that family's repository, and no other workload id uses a reserved prefix (`mlperf-`).
"""

from __future__ import annotations

import datetime as _dt
import math
from typing import Any, Callable

from .families import check_result as _family_problem
from .problems import Problem
from .tomlio import dotted, parse_datetime

# The runner's first release (dlbench 0.1.0): no measured record can be older.
EARLIEST_RUN = _dt.datetime(2026, 11, 1, tzinfo=_dt.timezone.utc)
TRAIN_SET_SIZES = {"mnist": 60_000, "fashion-mnist": 60_000, "cifar-10": 50_000, "cifar10": 50_000,
                   "imagenet32": 1_281_167}
TEST_SET_SIZES = {"mnist": 10_000, "fashion-mnist": 10_000, "cifar-10": 10_000, "cifar10": 10_000,
                  "imagenet32": 50_000}
EPOCH_SUM_REL, EPOCH_SUM_ABS_S = 0.01, 0.05          # the epochs may exceed compute_s by this much
EPOCH_GAP_REL, EPOCH_GAP_PER_EPOCH_S = 0.10, 0.01      # ... and fall short of it by this (per-epoch overhead)
PHASE_REL, PHASE_ABS_S = 0.01, 0.05
THROUGHPUT_REL = 0.05
STEP_THROUGHPUT_FACTOR = 4.0
ELAPSED_REL, ELAPSED_ABS_S = 0.01, 1.0
PEAK_MARGIN = 1.1                          # over a catalogue's dense peak or bandwidth
UNIVERSAL_FLOPS_PER_DEVICE = 10e15         # 10 PFLOP/s: above every accelerator made, at any precision
UNIVERSAL_BANDWIDTH_PER_DEVICE = 50e12     # 50 TB/s
UNIVERSAL_HOST_RSS = 64 * 2**40            # 64 TiB
UNMAPPED_PRECISION_FACTOR = 2.0            # int8/unknown: up to 2x the fastest listed peak
# CPU ceiling: cores x clock x FP32 FLOP/cycle/core of the widest vector unit (2 FMA units) x margin.
CPU_FLOPS_PER_CYCLE = (("avx512f", 64), ("fma", 32), ("avx2", 32), ("sve", 32), ("asimd", 16), ("neon", 16))
CPU_DEFAULT_FLOPS_PER_CYCLE = 16
CPU_AMX_FLOPS_PER_CYCLE = 2048             # bf16/int8 tile units (amx_*), for non-fp32 precisions
CPU_MARGIN = 2.0
CPU_DEFAULT_CORES = 256                    # when the record does not say: a generous server
CPU_DEFAULT_CLOCK_HZ = 6e9
FLOP_FACTOR = {"train": 3.0, "step": 3.0, "infer": 1.0}   # forward + backward (2x) per sample

Locate = Callable[[tuple], "int | None"]


def check(run: dict[str, Any], file: str, locate: Locate, prefix: tuple = (),
          now: _dt.datetime | None = None, catalogue=None) -> tuple[list[Problem], list[Problem]]:
    """(problems, notices) of a schema-valid run: problems fail validation, notices are only reported."""
    problems: list[Problem] = []
    notices: list[Problem] = []

    def add(path: tuple, msg: str, code: str, notice: bool = False) -> None:
        p = Problem(file, locate(path), dotted(prefix + path), msg, code,
                    **({"severity": "warning"} if notice else {}))
        (notices if notice else problems).append(p)

    if catalogue is None:
        from .device_catalogue import default_catalogue
        catalogue = default_catalogue()
    if not catalogue.ok:
        catalogue = None
    measured = run.get("provenance", {}).get("kind") == "measured"
    system = run.get("system", {})
    if measured:
        _check_times(run, add)
    for i, result in enumerate(run.get("results", [])):
        path = ("results", i)
        wrong_family = _family_problem(run, result)
        if wrong_family:
            add(path + ("benchmark",), wrong_family, "workload-family")
        if measured:
            _check_consistency(result, path, add)
            _check_system(result, system, path, add)
        _check_physics(result, system, path, add, catalogue)
    return problems, notices


# ------------------------------------------------------------------------------------ timestamps

def _check_times(run: dict[str, Any], add) -> None:
    times = {}
    for key in ("started_at", "finished_at"):
        if key in run:
            times[key] = when = parse_datetime(run[key])
            if when.tzinfo is None:
                when = times[key] = when.replace(tzinfo=_dt.timezone.utc)
            if when < EARLIEST_RUN:
                add((key,), f"{run[key]} is before {EARLIEST_RUN.date()}, the first release of the runner: no "
                    "measured run can be that old; check the machine's clock and run the benchmark again",
                    "date-too-early")
    if len(times) < 2:
        return
    elapsed = (times["finished_at"] - times["started_at"]).total_seconds()
    needed = 0.0
    for result in run.get("results", []):
        total = result.get("metrics", {}).get("total_s")
        if not isinstance(total, (int, float)):
            continue
        samples = result.get("stats", {}).get("total_s", {}).get("samples")
        if isinstance(samples, list) and samples:
            needed += sum(samples)
        else:  # at least half of the repeats took the median or longer
            needed += total * math.ceil(max(1, result.get("repeats") or 1) / 2)
    if needed > elapsed * (1 + ELAPSED_REL) + ELAPSED_ABS_S:
        add(("finished_at",), f"the run lasted {elapsed:.6g} s (finished_at - started_at) but its results' repeats "
            f"took at least {needed:.6g} s (total_s per repeat): a run cannot take less time than its parts; "
            "regenerate the fragment with runners/run.py", "elapsed-too-short")


# ------------------------------------------------------------------------------------ consistency

def _num(value: Any) -> float | None:
    return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else None


_NUMBER_TYPES = frozenset((int, float))


def _number_sum(values: list) -> float:
    """The sum of the numbers among `values`, the other items skipped (one pass in C when all are numbers)."""
    if set(map(type, values)) <= _NUMBER_TYPES:
        return sum(values)
    return sum(x for x in values if _num(x) is not None)


def _check_consistency(result: dict[str, Any], path: tuple, add) -> None:
    m = result.get("metrics", {})
    mp = path + ("metrics",)
    ok = result.get("status") == "ok"
    total, compute = _num(m.get("total_s")), _num(m.get("compute_s"))
    epoch_s = m.get("epoch_s") if isinstance(m.get("epoch_s"), list) else None
    epoch_sum = _number_sum(epoch_s) if epoch_s else None
    if ok and epoch_sum is not None and compute is not None and not (
            compute * (1 - EPOCH_GAP_REL) - EPOCH_GAP_PER_EPOCH_S * len(epoch_s) <= epoch_sum
            <= compute * (1 + EPOCH_SUM_REL) + EPOCH_SUM_ABS_S):
        add(mp + ("epoch_s",), f"the epochs sum to {epoch_sum:.6g} s but compute_s = {compute:.6g} s: compute_s is "
            "the training time, the sum of its epochs; the record was edited by hand — regenerate it with "
            "runners/run.py", "epoch-sum-mismatch")
    if total is not None:
        parts = [(k, _num(m.get(k))) for k in ("load_s", "compute_s", "eval_s", "inference_load_s",
                                                "inference_predict_s")]
        if epoch_sum is not None:
            parts.append(("the sum of epoch_s", epoch_sum))
        for name, value in parts:
            if value is not None and value > total * (1 + PHASE_REL) + PHASE_ABS_S:
                add(mp + ("total_s",), f"{name} = {value:.6g} s exceeds total_s = {total:.6g} s: a phase is part "
                    "of the total and cannot last longer; regenerate the fragment", "phase-exceeds-total")
    scenario = result.get("scenario") or "train"
    epochs, batch = result.get("epochs"), result.get("batch_size")
    dataset = str(result.get("dataset", "")).lower()
    size = TRAIN_SET_SIZES.get(dataset)
    for field, split, sizes in (("train_samples", "training", TRAIN_SET_SIZES),
                                ("test_samples", "test", TEST_SET_SIZES)):
        part, whole = result.get(field), sizes.get(dataset)
        if isinstance(part, int) and whole and part > whole:
            add(path + (field,), f"{field} = {part:,}, but the {split} split of {dataset} holds {whole:,} samples: "
                "a part of it cannot be larger; regenerate the fragment", "samples-exceed-dataset")
    if isinstance(result.get("train_samples"), int):
        size = result["train_samples"]
    tput = _num(m.get("throughput_samples_per_s"))
    if not ok:
        return
    if scenario == "train" and size and isinstance(epochs, int) and epochs > 0:
        if tput is not None and compute:
            expected = size * epochs / compute
            if abs(tput - expected) > THROUGHPUT_REL * expected:
                add(mp + ("throughput_samples_per_s",), f"{tput:.6g} samples/s, but {size:,} training samples x "
                    f"{epochs} epochs / compute_s {compute:.6g} s = {expected:.6g} samples/s: the throughput is "
                    "computed from the other two; regenerate the fragment", "throughput-mismatch")
        steps = result.get("steps")
        if isinstance(steps, int) and isinstance(batch, int) and batch > 0:
            per_epoch = math.ceil(size / batch)
            count = result.get("device_count") or 1
            allowed = {per_epoch * epochs, math.ceil(size / (batch * count)) * epochs,
                       (size // batch) * epochs, (size // (batch * count)) * epochs}
            if steps not in allowed:
                add(path + ("steps",), f"{steps} steps, but {size:,} samples in batches of {batch} over {epochs} "
                    f"epochs take {per_epoch * epochs}: the step count follows from the data; regenerate the "
                    "fragment", "steps-mismatch")
    if scenario == "step" and tput is not None and isinstance(batch, int) and _num(m.get("step_ms")):
        expected = batch / (m["step_ms"] / 1000)
        factor = STEP_THROUGHPUT_FACTOR * max(1, result.get("device_count") or 1)
        if not expected / factor <= tput <= expected * factor:
            add(mp + ("throughput_samples_per_s",), f"{tput:.6g} samples/s, but batch_size {batch} / step_ms "
                f"{m['step_ms']:.6g} ms = {expected:.6g} samples/s (more than {factor:g}x apart): one of them is "
                "wrong; regenerate the fragment", "step-throughput-mismatch")


# ------------------------------------------------------------------------------------ the system

def _check_system(result: dict[str, Any], system: dict[str, Any], path: tuple, add) -> None:
    m = result.get("metrics", {})
    kind, name = result.get("device_kind"), result.get("device_name")
    count = result.get("device_count") or 1
    device_memory = None
    if kind == "cpu":
        model = system.get("cpu", {}).get("model")
        if name is not None and model is not None and name != model:
            add(path + ("device_name",), f"{name!r} is not the system's CPU ({model!r}): a result runs on a device "
                "the system it was measured on has", "device-not-in-system")
        cpu = system.get("cpu", {})
        have, what = next(((cpu[k], w) for k, w in (("logical_cores", "logical core(s)"), ("sockets", "socket(s)"))
                           if isinstance(cpu.get(k), int) and cpu[k] > 0), (1, "CPU"))
        if count > have:
            add(path + ("device_count",), f"{count} CPU devices, but the system has {have} {what}: "
                "device_count cannot exceed what the system has", "device-count-exceeds-system")
        device_memory = _num(system.get("memory_bytes"))
    else:
        accs = [a for a in system.get("accelerators", []) if name in (a.get("normalized_name"), a.get("name"))]
        same_kind = [a for a in accs if a.get("kind") == kind]
        if not accs:
            listed = ", ".join(repr(a.get("normalized_name")) for a in system.get("accelerators", [])) or "none"
            add(path + ("device_name",), f"{name!r} is not among the system's accelerators ({listed}): a result "
                "runs on a device the system it was measured on has", "device-not-in-system")
        elif not same_kind:
            add(path + ("device_kind",), f"{kind!r}, but the system lists {name!r} as "
                f"{accs[0].get('kind')!r}: the result's device kind must be the device's", "device-kind-mismatch")
        else:
            have = sum(a.get("count") or 1 for a in same_kind)
            if count > have:
                add(path + ("device_count",), f"{count} devices, but the system lists {have} {name}: "
                    "device_count cannot exceed what the system has", "device-count-exceeds-system")
            per = [_num(a.get("memory_bytes")) for a in same_kind]
            if all(p is not None for p in per):
                device_memory = max(per) * count
    for key in ("peak_device_allocated_bytes", "peak_device_reserved_bytes", "peak_device_used_bytes"):
        used = _num(m.get(key))
        if used is not None and device_memory is not None and used > device_memory * 1.01:
            add(path + ("metrics", key), f"{used:.6g} bytes exceeds the {device_memory:.6g} bytes of memory of the "
                f"{count} device(s) used: a run cannot use more memory than its devices have", "device-memory-exceeds")
    rss, host = _num(m.get("peak_host_rss_bytes")), _num(system.get("memory_bytes"))
    if rss is not None and host is not None and rss > host * 1.01:
        add(path + ("metrics", "peak_host_rss_bytes"), f"{rss:.6g} bytes exceeds the system's memory_bytes "
            f"{host:.6g}: a process cannot hold more memory than the machine has", "host-memory-exceeds")


# ------------------------------------------------------------------------------------ physics

def cpu_ceiling(cpu: dict[str, Any], precision: str | None) -> float:
    """A generous upper bound of a CPU's FLOP/s: cores x max clock x widest vector unit x margin."""
    flags = set(cpu.get("flags") or [])
    per_cycle = next((f for flag, f in CPU_FLOPS_PER_CYCLE if flag in flags), CPU_DEFAULT_FLOPS_PER_CYCLE)
    if precision not in (None, "fp32", "tf32") and flags & {"amx_bf16", "amx_int8", "amx_tile"}:
        per_cycle = CPU_AMX_FLOPS_PER_CYCLE
    elif precision not in (None, "fp32", "tf32"):
        per_cycle *= 2  # half-width types pack twice as many lanes
    cores = cpu.get("logical_cores") or cpu.get("physical_cores") or CPU_DEFAULT_CORES
    clock = (cpu.get("max_frequency_mhz") or CPU_DEFAULT_CLOCK_HZ / 1e6) * 1e6
    return cores * clock * per_cycle * CPU_MARGIN


def achieved_flops(result: dict[str, Any]) -> float | None:
    """The result's achieved FLOP/s: as recorded, else flops_per_sample x (3 train/step, 1 infer) x throughput."""
    m = result.get("metrics", {})
    if _num(m.get("achieved_flops_per_s")) is not None:
        return float(m["achieved_flops_per_s"])
    factor = FLOP_FACTOR.get(result.get("scenario") or "train")
    fps, tput = _num(result.get("flops_per_sample")), _num(m.get("throughput_samples_per_s"))
    if factor is None or fps is None or tput is None:
        return None
    return fps * factor * tput


def _check_physics(result: dict[str, Any], system: dict[str, Any], path: tuple, add, catalogue) -> None:
    m = result.get("metrics", {})
    mp = path + ("metrics",)
    kind, name, precision = result.get("device_kind"), result.get("device_name"), result.get("precision")
    count = max(1, result.get("device_count") or 1)
    rss = _num(m.get("peak_host_rss_bytes"))
    if rss is not None and rss > UNIVERSAL_HOST_RSS:
        add(mp + ("peak_host_rss_bytes",), f"{rss:.6g} bytes is more than 64 TiB, more memory than any single "
            "machine has: the figure is wrong", "host-memory-universal")
    flops = achieved_flops(result)
    field = "achieved_flops_per_s" if "achieved_flops_per_s" in m else "throughput_samples_per_s"
    if flops is not None:
        how = "" if field == "achieved_flops_per_s" else \
            f" (flops_per_sample x {FLOP_FACTOR.get(result.get('scenario') or 'train'):g} x throughput)"
        universal = UNIVERSAL_FLOPS_PER_DEVICE * count
        if flops > universal:
            add(mp + (field,), f"{flops:.4g} FLOP/s{how} is more than {universal:.4g} FLOP/s, 10 PFLOP/s per device, "
                "above any device made: the result is not physically possible", "flops-exceed-universal")
        else:
            ceiling, what = _flops_ceiling(result, system, catalogue, add, path)
            devices = 1 if kind == "cpu" else count  # the CPU's ceiling is all its cores'
            if ceiling is not None and flops > ceiling * devices:
                add(mp + (field,), f"{flops:.4g} FLOP/s{how} exceeds {what} x {devices} device(s) = "
                    f"{ceiling * devices:.4g} FLOP/s: no {name} can compute that fast; the result is not "
                    "physically possible", "flops-exceed-peak")
    elif kind not in (None, "cpu"):
        _flops_ceiling(result, system, catalogue, add, path)  # for the notice alone
    bw = _num(m.get("bandwidth_bytes_per_s"))
    if bw is not None:
        peak = catalogue.bandwidth_bytes_per_s(name, kind) if catalogue and kind != "cpu" else None
        limit = (peak * PEAK_MARGIN if peak else UNIVERSAL_BANDWIDTH_PER_DEVICE) * count
        if bw > limit:
            what = f"the catalogue's {peak:.4g} B/s x 1.1" if peak else "50 TB/s per device"
            add(mp + ("bandwidth_bytes_per_s",), f"{bw:.4g} B/s exceeds {what} x {count} device(s): the result is "
                "not physically possible", "bandwidth-exceeds-peak")


def _flops_ceiling(result, system, catalogue, add, path) -> tuple[float | None, str]:
    """(per-device FLOP/s ceiling, how it was found), or (None, '') when only the universal ceiling applies."""
    kind, name, precision = result.get("device_kind"), result.get("device_name"), result.get("precision")
    if kind == "cpu":
        cpu = system.get("cpu", {}) if system.get("cpu", {}).get("model") in (name, None) else {}
        return cpu_ceiling(cpu, precision), "the CPU's ceiling (cores x clock x vector FLOP/cycle x 2)"
    entry = catalogue.entry_for(name, kind) if catalogue else None
    if entry is None:
        add(path + ("device_name",), f"{name!r} ({kind}) has no entry in the device catalogue: its FLOP/s are checked "
            "only against the universal 10 PFLOP/s ceiling (UNVERIFIED); add the device to the catalogue",
            "unverified-device", notice=True)
        return None, ""
    peak = catalogue.peak_flops_per_s(name, precision, kind)
    if peak is not None:
        return peak * PEAK_MARGIN, f"the catalogue's {precision} dense peak {peak:.4g} FLOP/s x 1.1"
    top = max(entry["peak_tflops"].values()) * 1e12
    return top * UNMAPPED_PRECISION_FACTOR * PEAK_MARGIN, \
        f"2 x the catalogue's fastest listed peak {top:.4g} FLOP/s x 1.1 (precision {precision!r} has none)"
