"""Synthetic, valid runs: for tests, fixtures and the validate/merge benchmarks."""

from __future__ import annotations

import datetime as _dt
import random
from pathlib import Path
from typing import Any

from ..contract.fragment import with_run_id
from ..contract.tomlio import format_datetime

DEVICES = [
    ("cuda", "NVIDIA GeForce RTX 3050", "NVIDIA RTX 3050", 8 * 2**30, "8.6"),
    ("cuda", "NVIDIA GeForce RTX 3090", "NVIDIA RTX 3090", 24 * 2**30, "8.6"),
    ("cuda", "NVIDIA A100-SXM4-40GB", "NVIDIA A100 SXM4 40GB", 40 * 2**30, "8.0"),
    ("mps", "Apple M1", "Apple M1", 8 * 2**30, None),
    ("cpu", None, None, None, None),
]
WORKLOADS = ["mnist-lenet5", "fashion-mnist-lenet5"]


_EPOCH = _dt.datetime(2026, 11, 1, tzinfo=_dt.timezone.utc)
DATE_CYCLE = 4000   # runs: 4,000 x 7 minutes = 19.4 days


def synthetic_run(i: int, seed: int = 0) -> dict[str, Any]:
    """The i-th synthetic run (deterministic for a given i and seed), with its run_id set."""
    rng = random.Random(seed * 1_000_003 + i)
    kind, name, norm, mem, cc = DEVICES[i % len(DEVICES)]
    # Seven minutes apart, over 19 days from the runner's first release (plausibility's EARLIEST_RUN) and then
    # again: every synthetic run lies in the past, whatever i, once 2026-11-20 has passed.
    started = _EPOCH + _dt.timedelta(minutes=7 * (i % DATE_CYCLE))
    load, compute, ev = rng.uniform(0.05, 4), rng.uniform(10, 140), rng.uniform(0.2, 2)
    total = load + compute + ev + rng.uniform(0.1, 1.0)
    epochs = 40
    system: dict[str, Any] = {
        "os": {"name": "Linux (Debian GNU/Linux 12)", "version": "12", "kernel": "6.1.0-18-amd64",
               "arch": "x86_64", "virtualization": "none"},
        "cpu": {"model": "AMD Ryzen 5 3600 6-Core Processor", "vendor": "AuthenticAMD", "physical_cores": 6,
                "logical_cores": 12, "max_frequency_mhz": 3600.0, "flags": ["avx", "avx2", "fma"]},
        "memory_bytes": 32 * 2**30,
        "software": {"python": "3.11.7", "python_implementation": "CPython",
                     "packages": {"torch": "2.13.0", "numpy": "2.1.0"}},
    }
    if name:
        acc: dict[str, Any] = {"kind": kind, "vendor": norm.split()[0], "name": name, "normalized_name": norm,
                               "count": 1, "memory_bytes": mem}
        if cc:
            acc.update(compute_capability=cc, driver_version="550.54.15")
        system["accelerators"] = [acc]
    result: dict[str, Any] = {
        "benchmark": WORKLOADS[i % 2], "benchmark_version": 1, "framework": "torch", "framework_version": "2.13.0",
        "model": "lenet5", "parameters": 61706, "flops_per_sample": 846_000,
        "dataset": WORKLOADS[i % 2].rsplit("-", 1)[0], "device_kind": kind,
        "device_name": norm or "AMD Ryzen 5 3600 6-Core Processor", "device_count": 1, "strategy": "single",
        "launcher": "process", "precision": "fp32", "batch_size": 512, "epochs": epochs, "repeats": 1,
        "status": "ok",
        "metrics": {
            "total_s": round(total, 4), "load_s": round(load, 4), "compute_s": round(compute, 4),
            "eval_s": round(ev, 4), "accuracy": round(rng.uniform(0.97, 0.99), 4),
            "throughput_samples_per_s": round(60000 * epochs / compute, 2),
            "peak_host_rss_bytes": rng.randrange(300, 900) * 2**20,
            "epoch_s": [round(compute / epochs, 4)] * epochs,
        },
    }
    run: dict[str, Any] = {
        "schema_version": 1,
        "started_at": format_datetime(started),
        "finished_at": format_datetime(started + _dt.timedelta(seconds=round(total) + 1)),
        "provenance": {"kind": "measured", "runner_version": "0.1.0",
                       "git_commit": f"{rng.getrandbits(160):040x}", "git_dirty": False,
                       "command": ["runners/run.py", WORKLOADS[i % 2], "--framework", "torch"], "seed": i},
        "system": system,
        "results": [result],
    }
    return with_run_id(run)


def write_dataset(root: Path, runs: list[dict[str, Any]], blocks: list[str] | None = None,
                  max_part_bytes: int | None = None) -> None:
    """A repository at `root` whose dataset holds `runs`, written as `tools/merge.py` writes it (a fast set-up):
    each run in its canonical file (`parts.part_for`), files closed at `max_part_bytes` (default the merge's).

    `blocks`: the runs' `dataset.run_block`s, when already rendered (used when every run goes to
    data/benchmark.toml and no file is closed, the common case of a benchmark set-up).
    """
    from . import append, outputs
    from . import parts as part_rules
    from .dataset import Layout, Part, toml_head

    layout = Layout(root)
    layout.fragments.mkdir(parents=True)
    cap = part_rules.MAX_PART_BYTES if max_part_bytes is None else max_part_bytes
    if blocks is not None and all(part_rules.part_for(r) == part_rules.MAIN for r in runs):
        toml = (toml_head() + "".join(blocks)).encode("utf-8")
        if len(toml) <= cap:
            layout.toml.write_bytes(toml)
            ds = outputs.Dataset.of_parts(layout, [Part(part_rules.MAIN, toml, runs)])
            outputs.write_changed(ds, outputs.generate(ds))
            return
    planned = append.plan([Part(part_rules.MAIN, toml_head().encode("utf-8"), [])], runs, cap)
    for part in planned.parts:
        (root / part.rel).parent.mkdir(parents=True, exist_ok=True)
        (root / part.rel).write_bytes(part.toml_bytes)
    ds = outputs.Dataset.of_parts(layout, planned.parts)
    outputs.write_changed(ds, outputs.generate(ds))


def imported_run(i: int, sources: int = 20, workloads: int = 200, seed: int = 0) -> dict[str, Any]:
    """The i-th synthetic imported run (deterministic): a row of one of `sources` source files of one published
    repository, on one of `workloads` workloads of its own; routed to `data/imported/` (`parts.part_for`)."""
    rng = random.Random(seed * 1_000_003 + i + 7)
    kind, name, norm, mem, _cc = DEVICES[i % 3]          # the three CUDA devices
    source_file = i % sources
    model = f"model{(i // sources) % workloads:04d}"
    throughput = round(rng.uniform(50, 5000), 2)
    run: dict[str, Any] = {
        "schema_version": 1,
        "provenance": {"kind": "imported", "source": {
            "title": "Synthetic published benchmark tables", "repository": "example/published-benchmarks",
            "path": f"results/table-{source_file:02d}.csv", "commit": f"{source_file:040x}",
            "sha256": f"{source_file:064x}", "license": "Apache-2.0", "attribution": "Synthetic tables",
            "row": f"model={model}, row={i}", "device": name}},
        "system": {"accelerators": [{"kind": kind, "vendor": "NVIDIA", "name": name, "normalized_name": norm,
                                     "count": 1, "memory_bytes": mem}]},
        "results": [{
            "benchmark": f"synthetic-infer-{model}", "framework": "torch", "model": model, "device_kind": kind,
            "device_name": norm, "device_count": 1, "precision": "fp16", "batch_size": 256, "status": "ok",
            "metrics": {"throughput_samples_per_s": throughput, "latency_ms": round(256_000 / throughput, 3)},
        }],
    }
    return with_run_id(run)
