"""dlbench.runner.system.privacy: paths scrubbed by components, outside paths hidden, free text not repeated."""

from __future__ import annotations

from pathlib import Path

import pytest

from dlbench.runner.system import probe
from dlbench.runner.system.privacy import public_command, scrub

REPO = Path("/work/checkout")
HOME = Path("/home/al")


@pytest.mark.parametrize("text,expected", [
    ("/work/checkout", "."),
    ("/work/checkout/runners/run.py", "runners/run.py"),
    ("/work/checkout-old/x", "<path>"),                 # a sibling that shares a prefix is not inside
    ("/home/al", "~"),
    ("/home/al/data/mnist", "~/data/mnist"),
    ("/home/alice/x", "<path>"),                        # not '~ice/x': the home folder is /home/al
    ("/mnt/nfs/users/alice.smith/data", "<path>"),
    ("--data-dir=/scratch/alice.smith/cache", "--data-dir=<path>"),
    ("--xla_dump_to=/scratch/alice.smith/dumps", "--xla_dump_to=<path>"),
    ("--xla_dump_to=/home/al/dumps --xla_gpu_autotune_level=2", "--xla_dump_to=~/dumps --xla_gpu_autotune_level=2"),
    ("/usr/share/datasets/fashion-mnist", "/usr/share/datasets/fashion-mnist"),
    ("/opt/cuda/lib64", "/opt/cuda/lib64"),
    ("expandable_segments:True", "expandable_segments:True"),
    ("0,1", "0,1"),
    ("a/relative/path", "a/relative/path"),
    ("C:\\Users\\alice\\data", "<path>"),
])
def test_paths_are_scrubbed_by_components(text, expected):
    assert scrub(text, REPO, HOME) == expected


def test_free_text_on_the_command_line_is_not_repeated_in_the_command():
    argv = ["runners/run.py", "mnist-lenet5", "--notes", "Alice's lab box, room 4.12", "--framework", "torch",
            "--note=short form", "--data-dir", "/srv/alice/data"]
    assert public_command(argv, REPO, HOME) == [
        "runners/run.py", "mnist-lenet5", "--notes", "<text>", "--framework", "torch", "--note=<text>",
        "--data-dir", "<path>"]


def test_provenance_command_and_environment_are_scrubbed(monkeypatch):
    monkeypatch.setenv("XLA_FLAGS", "--xla_dump_to=/scratch/alice.smith/dumps")
    prov = probe.provenance(["runners/run.py", "--notes", "secret text", "--data-dir",
                             "/mnt/nfs/users/alice.smith/data"], 0)
    assert prov["command"] == ["runners/run.py", "--notes", "<text>", "--data-dir", "<path>"]
    assert prov["environment"]["XLA_FLAGS"] == "--xla_dump_to=<path>"
