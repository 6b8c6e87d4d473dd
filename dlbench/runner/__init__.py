"""The benchmark runner, structured so that what varies independently lives apart.

Imports the contract (`dlbench.contract`) and the runner only: never the store, analysis, the importers
or the cli. Nothing is imported here, so `import dlbench.runner` stays cheap (no numpy, torch or tensorflow).

- `workloads/`: what is measured (scenario, dataset or synthetic input, model, defaults); one module per workload
  family, registered in `workloads/__init__.py`;
- `scenarios/`: how it is measured (`train`: epochs to an accuracy; `step`: timed training steps on synthetic
  input; `infer`: load, batch-1 latency, batched throughput; `peak`: matmul FLOP/s and memory bandwidth); one
  module per scenario, registered in `scenarios/__init__.py`;
- `backends/`: how a framework does it (device selection, model build, train / evaluate / save / load / predict,
  device synchronization, device memory); one module per framework;
- `system/`: the machine measured on (`probe.py`: the record's `system` and `provenance`; `devices.py`: finding
  accelerators);
- `data/`: the datasets trained on (`datasets.py`: find, download and verify; `download.py`; `idx.py`;
  `cifar10.py`; `imagenet32.py`);
- `models/`: one framework-neutral description per model, built for each framework and costed from it;
- `allocator.py`: the host allocator's thresholds, fixed before a measurement;
- `launcher.py`: how the workload is launched (one process and one device today) and repeated;
- `timing.py`, `memory.py`: the trackers (synchronized phase timer, peak host and device memory);
- `progress.py`: progress output while training;
- `report.py`: the fragment's result record and the printed summary;
- `run.py`: a whole invocation (choose the device, probe, measure, build the validated record).
"""
