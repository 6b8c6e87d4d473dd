"""Hand-written results of the capacity, several-device and energy fields (schema CHANGELOG 2026-12), for the
tests of compare, versus, the API, the exports and the page: fragments as the runner writes them, made by hand
from the schema (the runner's own tests make real ones).

WORKLOAD on two GPUs at mixed-bf16, each a batch-size sweep (`batch_sweep`: the doubling, then the bisection),
its result at the largest batch that fitted:

- H100: batches 1 .. 512 fit, 1024 runs out of memory, bisected (768 ok, 896 oom, 832 ok, 864 oom) to
  resolution 32: largest fit 832, smallest oom 864, 15 points; energy from the driver's counter (`nvml-energy`).
- RTX 4090: 1 .. 128 fit, 256 oom, then 192 ok, 224 oom, 208 oom (resolution 16): largest fit 192, smallest
  oom 208, 12 points; no energy sensor readable (`energy.missing`).

and SCALING: the H100 at batch 256 on 1 and on 2 devices (`--devices 1,2`, torchrun DistributedDataParallel),
scaling efficiency 1.0 and 0.9, the two-device result with `global_batch_size` 512; and each GPU once at
COMMON_BATCH without a sweep (the setting the two share). Memory grows linearly with the batch (FIT: fixed and
per-sample bytes per device), so the fitted line has a residual of 0.
"""

from __future__ import annotations

import copy
from typing import Any

from dlbench.contract.fragment import with_run_id
from dlbench.store.synthetic import synthetic_run

WORKLOAD = "fwdbwd-resnet50"
H100, RTX4090 = "NVIDIA H100 80GB HBM3", "NVIDIA RTX 4090"
H100_LABEL, RTX4090_LABEL = f"{H100} (cuda)", f"{RTX4090} (cuda)"
FLOPS_PER_SAMPLE = 8_178_000_000
# device: (fixed bytes, bytes per sample, the batch it saturates at, its top throughput in samples/s)
FIT = {H100: (3 * 2**30, 90 * 2**20, 64, 3000.0), RTX4090: (2 * 2**30, 100 * 2**20, 32, 1200.0)}
# device: (batches in the order tried, the oom ones, resolution)
SWEEPS = {H100: ([1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024, 768, 896, 832, 864], {1024, 896, 864}, 32),
          RTX4090: ([1, 2, 4, 8, 16, 32, 64, 128, 256, 192, 224, 208], {256, 224, 208}, 16)}
LARGEST = {H100: 832, RTX4090: 192}
SMALLEST_OOM = {H100: 864, RTX4090: 208}
ENERGY_H100 = {"sensor": "nvml-energy", "covers": "GPU 0 board", "timed_s": 14.0}
ENERGY_MISSING = "no NVML energy counter: the driver does not expose nvmlDeviceGetTotalEnergyConsumption"
SCALING = ((1, 1.0), (2, 0.9))     # (device count, scaling efficiency) of the H100 at batch 256 per device
SCALING_BATCH = 256
COMMON_BATCH = 128


def throughput(device: str, batch: int) -> float:
    _, _, knee, top = FIT[device]
    return round(top * batch / (batch + knee), 2)


def memory(device: str, batch: int) -> int:
    fixed, per_sample, _, _ = FIT[device]
    return fixed + per_sample * batch


def _point(device: str, batch: int, oom: bool) -> dict[str, Any]:
    if oom:
        return {"batch_size": batch, "status": "oom",
                "message": f"CUDA out of memory. Tried to allocate {batch * 3} MiB"}
    tput = throughput(device, batch)
    return {"batch_size": batch, "status": "ok", "throughput_samples_per_s": tput,
            "step_ms": round(batch / tput * 1000, 4), "peak_device_bytes": memory(device, batch),
            "peak_host_rss_bytes": 3 * 2**30}


def sweep_of(device: str) -> dict[str, Any]:
    order, ooms, resolution = SWEEPS[device]
    points = [_point(device, b, b in ooms) for b in order]
    fitted = [p for p in points if p["status"] == "ok"]
    fixed, per_sample, _, _ = FIT[device]
    return {"start": 1, "resolution": resolution, "max_batch": 4096, "isolation": "process", "points": points,
            "largest_fit": LARGEST[device], "smallest_oom": SMALLEST_OOM[device],
            "memory_fit": {"memory": "device", "per_sample_bytes": float(per_sample), "fixed_bytes": float(fixed),
                           "residual_bytes": 0.0, "points": len(fitted)}}


def _step_run(i: int, device: str, batch: int, metrics: dict[str, Any], **result: Any) -> dict[str, Any]:
    run = copy.deepcopy(synthetic_run(i))
    run["system"]["accelerators"] = [{"kind": "cuda", "vendor": "NVIDIA", "name": device, "normalized_name": device,
                                      "count": result.get("device_count", 1), "memory_bytes": 80 * 2**30}]
    res = run["results"][0]
    res.update(benchmark=WORKLOAD, scenario="step", model="resnet50", parameters=25_557_032,
               flops_per_sample=FLOPS_PER_SAMPLE, dataset="synthetic", device_kind="cuda", device_name=device,
               precision="mixed-bf16", batch_size=batch, steps=50, warmup_steps=10, compile="eager", **result)
    for key in ("epochs",):
        res.pop(key, None)
    res["metrics"] = metrics
    run["provenance"]["command"] = ["runners/run.py", WORKLOAD, "--framework", "torch", "--batch-sweep"]
    return with_run_id(run)


def sweep_run(i: int, device: str) -> dict[str, Any]:
    """The sweep of `device` as one result at its largest batch that fitted."""
    sweep = sweep_of(device)
    best = next(p for p in sweep["points"] if p["batch_size"] == LARGEST[device])
    metrics = {"throughput_samples_per_s": best["throughput_samples_per_s"], "step_ms": best["step_ms"],
               "peak_device_allocated_bytes": best["peak_device_bytes"], "largest_fitting_batch": LARGEST[device],
               "memory_per_sample_bytes": sweep["memory_fit"]["per_sample_bytes"]}
    extra: dict[str, Any] = {"batch_sweep": sweep}
    if device == H100:
        joules = 14.0 * 650.0        # 650 W over the 14 s timed
        metrics.update(energy_j=joules, average_power_w=650.0,
                       samples_per_joule=round(best["throughput_samples_per_s"] * 14.0 / joules, 4))
        extra["energy"] = dict(ENERGY_H100)
    else:
        extra["energy"] = {"missing": ENERGY_MISSING}
    return _step_run(i, device, LARGEST[device], metrics, **extra)


def scaling_run(i: int, count: int, efficiency: float) -> dict[str, Any]:
    """The H100 at SCALING_BATCH per device on `count` devices, with its scaling efficiency."""
    tput = round(throughput(H100, SCALING_BATCH) * count * efficiency, 2)
    metrics = {"throughput_samples_per_s": tput, "step_ms": round(SCALING_BATCH * count / tput * 1000, 4),
               "scaling_efficiency": efficiency, "energy_j": round(14.0 * 600.0 * count, 3),
               "average_power_w": 600.0 * count,
               "samples_per_joule": round(tput * 14.0 / (14.0 * 600.0 * count), 4)}
    extra: dict[str, Any] = {"device_count": count, "energy": {**ENERGY_H100, "covers": f"GPU 0-{count - 1} boards"
                                                               if count > 1 else "GPU 0 board"}}
    if count > 1:
        extra.update(global_batch_size=SCALING_BATCH * count, strategy="data-parallel", launcher="torchrun")
    return _step_run(i, H100, SCALING_BATCH, metrics, **extra)


def plain_run(i: int, device: str) -> dict[str, Any]:
    """`device` at COMMON_BATCH, one batch size as runs without a sweep measure it."""
    tput = throughput(device, COMMON_BATCH)
    metrics = {"throughput_samples_per_s": tput, "step_ms": round(COMMON_BATCH / tput * 1000, 4),
               "peak_device_allocated_bytes": memory(device, COMMON_BATCH)}
    return _step_run(i, device, COMMON_BATCH, metrics)


def runs() -> list[dict[str, Any]]:
    """The two sweeps, the scaling pair, then each GPU at COMMON_BATCH."""
    return ([sweep_run(0, H100), sweep_run(1, RTX4090)] + [scaling_run(2 + k, n, e) for k, (n, e) in enumerate(SCALING)]
            + [plain_run(4, H100), plain_run(5, RTX4090)])
