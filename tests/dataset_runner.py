#!/usr/bin/env python3
"""`python runners/run.py`, with the dataset specs of MNIST, CIFAR-10 and Imagenet32 replaced by test-made ones.

    python tests/dataset_runner.py SPECS.json -- RUNNER-ARGUMENTS...

The end-to-end tests (tests/test_train_datasets_e2e.py) train on small files they make in the real formats and
serve from a loopback HTTP server (MNIST, CIFAR-10) or place on disk (Imagenet32). The published specs name the
real files' checksums, sizes and image counts, which test-made files cannot match, so this script replaces only
those constants before calling the real runner entry point (`dlbench.cli.run.main`); downloading, verifying,
extracting, reading, training and writing the fragment are all the real code. SPECS.json holds any of:

    {"mnist": {"files": [[role, filename, gz_sha256, raw_sha256 or null], ...], "mirrors": [url, ...]},
     "cifar-10": {CifarSpec fields, e.g. "archive_size", "archive_sha256", "mirrors", "records_per_file"},
     "imagenet32": {"train": {SplitSpec fields: "filename", "size", "sha256", "count"}, "val": {...}}}

Each replaces the published spec's named fields (`dataclasses.replace`); MNIST's system folders are emptied, so
only `--data-dir` and the given mirrors are used.
"""

from __future__ import annotations

import dataclasses
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # the repository root: this file is in tests/

from dlbench.cli.run import main  # noqa: E402
from dlbench.runner.data import cifar10, datasets, imagenet32  # noqa: E402


def _tuples(fields: dict) -> dict:
    """JSON lists as the tuples the frozen spec dataclasses hold."""
    return {k: tuple(v) if isinstance(v, list) else v for k, v in fields.items()}


def install(specs: dict) -> None:
    """Replace the published specs by those described in `specs` (see the module documentation)."""
    if "mnist" in specs:
        fields = dict(specs["mnist"])
        if "files" in fields:
            fields["files"] = tuple(datasets.FileSpec(*f) for f in fields["files"])
        datasets.register(dataclasses.replace(datasets.SPECS["mnist"], **_tuples(fields), system_dirs=()))
    if "cifar-10" in specs:
        cifar10.SPEC = dataclasses.replace(cifar10.SPEC, **_tuples(specs["cifar-10"]))
    if "imagenet32" in specs:
        splits = {split: dataclasses.replace(getattr(imagenet32.SPEC, split), **fields)
                  for split, fields in specs["imagenet32"].items()}
        imagenet32.SPEC = dataclasses.replace(imagenet32.SPEC, **splits)


if __name__ == "__main__":
    if len(sys.argv) < 3 or sys.argv[2] != "--":
        sys.exit("usage: dataset_runner.py SPECS.json -- RUNNER-ARGUMENTS...")
    install(json.loads(Path(sys.argv[1]).read_text(encoding="utf-8")))
    sys.exit(main(sys.argv[3:]))
