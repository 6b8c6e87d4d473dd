"""The datasets the runner trains on: found on disk or downloaded once, always verified.

Part of the runner: imports the contract and the runner only. numpy is imported by `datasets.py` and
`idx.py`, so this package's `__init__` imports none of its modules.

- `datasets.py`: MNIST-style datasets (where `load` looks, verification, the cache);
- `download.py`: one file from a list of mirrors, verified by SHA-256, written crash-safely;
- `idx.py`: reading IDX files (the format MNIST and Fashion-MNIST are distributed in).
"""
