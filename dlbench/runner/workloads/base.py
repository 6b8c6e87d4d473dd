"""What a workload is: the data, the model and the defaults of one benchmark."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Workload:
    """One benchmark configuration that results of different machines are compared on.

    `version` is recorded as the result's `benchmark_version`: bump it whenever a change to the model, the data
    pipeline or the measurement makes new results incomparable with older ones.
    """

    name: str               # benchmark id, e.g. "mnist-lenet5"
    dataset: str            # dataset name understood by dlbench.runner.data.datasets.load
    model: str              # model name in dlbench.runner.models.MODELS
    description: str
    version: int = 1
    epochs: int = 40        # the seeds' protocol: 40 epochs of batch 512
    batch_size: int = 512
    learning_rate: float = 1e-3  # Adam
