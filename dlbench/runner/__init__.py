"""The benchmark runner, structured so that what varies independently lives apart:

- `workloads/`: what is measured (dataset, model, default epochs and batch); one module per workload, registered
  in `workloads/__init__.py`;
- `backends/`: how a framework does it (device selection, model build, train / evaluate / save / load / predict,
  device synchronization, device memory); one module per framework;
- `launcher.py`: how the workload is launched (one process and one device today) and repeated;
- `timing.py`, `memory.py`: the trackers (synchronized phase timer, peak host and device memory);
- `scenario.py`: one training measurement (load, train, evaluate, inference) built from the above;
- `report.py`: the fragment's result record and the printed summary.
"""
