"""The benchmark runner, structured so that what varies independently lives apart.

Imports the contract (`dlbench.contract`) and the runner only: never the store, analysis, the importers
or the cli. Nothing is imported here, so `import dlbench.runner` stays cheap (no numpy, torch or tensorflow).

- `workloads/`: what is measured (dataset, model, default epochs and batch); one module per workload, registered
  in `workloads/__init__.py`;
- `backends/`: how a framework does it (device selection, model build, train / evaluate / save / load / predict,
  device synchronization, device memory); one module per framework;
- `system/`: the machine measured on (`probe.py`: the record's `system` and `provenance`; `devices.py`: finding
  accelerators);
- `data/`: the datasets trained on (`datasets.py`: find, download and verify; `download.py`; `idx.py`);
- `models.py`: the models, built for each framework;
- `launcher.py`: how the workload is launched (one process and one device today) and repeated;
- `timing.py`, `memory.py`: the trackers (synchronized phase timer, peak host and device memory);
- `scenario.py`: one training measurement (load, train, evaluate, inference) built from the above;
- `progress.py`: progress output while training;
- `report.py`: the fragment's result record and the printed summary;
- `run.py`: a whole invocation (choose the device, probe, measure, build the validated record).
"""
