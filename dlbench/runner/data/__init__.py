"""The datasets the runner trains on: found on disk or downloaded once, always verified.

Part of the runner: imports the contract and the runner only. numpy is imported by `datasets.py` and
`idx.py`, so this package's `__init__` imports none of its modules.

- `datasets.py`: datasets by name; MNIST-style datasets (where `load` looks, verification, the cache);
- `cifar10.py`: CIFAR-10 from its binary version (downloaded once, extracted safely, verified);
- `imagenet32.py`: Downsampled ImageNet 32x32 from a copy the user places (never downloaded);
- `download.py`: one file from a list of mirrors, verified by SHA-256, written crash-safely;
- `idx.py`: reading IDX files (the format MNIST and Fashion-MNIST are distributed in).
"""
