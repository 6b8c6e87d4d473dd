"""The machine the runner measures on: what it records about the system, and the accelerators it finds.

Part of the runner: imports the contract and the runner only.

- `probe.py`: the schema's `system` and `provenance` (CPU, memory, OS, software, accelerators);
- `devices.py`: finding accelerators (NVML, else the framework) and grouping them into schema entries;
- `privacy.py`: paths and free text in command lines and environment values, scrubbed before they are recorded.
- `container.py`: a run inside the project's container image (`provenance.container`, the image's source commit).
"""
