"""What every framework backend provides, and the device choices they share."""

from __future__ import annotations

import gc
import re
from abc import ABC, abstractmethod
from dataclasses import dataclass
from pathlib import Path
from typing import Any

DEVICE_SYNTAX = "auto, cpu, cuda, cuda:N or mps"
_DEVICE_RE = re.compile(r"^(auto|cpu|mps|cuda)(?::(\d+))?$")


class UsageError(Exception):
    """The command asked for something this machine or framework cannot do (exit status 2)."""


@dataclass(frozen=True)
class DeviceRequest:
    """A parsed `--device` value: kind is auto, cpu, cuda or mps; index only for cuda:N."""

    kind: str
    index: int | None = None


def parse_device(text: str) -> DeviceRequest:
    """Parse `--device`; ValueError (with the accepted forms) when it is not one of them."""
    m = _DEVICE_RE.match(text.strip().lower())
    if not m or (m.group(2) is not None and m.group(1) != "cuda"):
        raise ValueError(f"invalid device {text!r}: use {DEVICE_SYNTAX}")
    return DeviceRequest(m.group(1), int(m.group(2)) if m.group(2) is not None else None)


@dataclass(frozen=True)
class Device:
    """The device a run uses. `kind` is the schema's device_kind (cpu, cuda, rocm, mps)."""

    kind: str
    handle: Any                 # what the framework addresses it by (torch.device, "/GPU:0")
    raw_name: str | None = None  # the framework's name for an accelerator; None for the CPU
    index: int = 0
    count: int = 1


@dataclass
class DeviceData:
    """A dataset resident on the device as tensors: images float32 in [0, 1], labels int."""

    train_x: Any
    train_y: Any
    test_x: Any
    test_y: Any

    @property
    def train_samples(self) -> int:
        return int(self.train_x.shape[0])


class Progress:
    """What the training reports to; this base shows nothing (dlbench.runner.progress has the bars). `every` is 0
    when nothing is shown: a backend's training loop then makes no `advance` calls at all, so no device
    synchronization is added for it."""

    every: int = 0

    def start(self, label: str, epochs: int, steps: int) -> None:
        pass

    def advance(self, steps: int, loss: float) -> None:  # pragma: no cover - never called while every is 0
        pass

    def epoch_done(self, loss: float, accuracy: float) -> None:
        pass

    def close(self) -> None:
        pass


class Backend(ABC):
    """One framework's way of running a workload. Importing a backend module imports its framework."""

    name: str                # "torch", "tensorflow": the result's `framework`
    version: str             # the result's `framework_version`
    compile: str             # the result's `compile`: how the train step runs ("eager", "tf.function")
    device: Device

    @abstractmethod
    def select_device(self, request: DeviceRequest) -> Device:
        """Choose and initialise the device; UsageError when the request cannot be met here."""

    @abstractmethod
    def synchronize(self) -> None:
        """Wait until all work queued on the device has finished (a no-op on the CPU)."""

    @abstractmethod
    def seed(self, seed: int) -> None:
        """Seed the framework's random number generators (weights, shuffling)."""

    @abstractmethod
    def to_device(self, arrays: Any) -> DeviceData:
        """Convert a dlbench.runner.data.datasets.Arrays (uint8 images, int64 labels) into tensors on the device."""

    @abstractmethod
    def build(self, model: str, learning_rate: float, seed: int) -> Any:
        """A fresh model and its optimizer (Adam), as an opaque training state."""

    @abstractmethod
    def train_epoch(self, state: Any, data: DeviceData, batch_size: int, epoch: int, progress: Progress) -> Any:
        """One epoch over the training set in a fresh random order (the last batch may be smaller); returns the
        epoch's mean training loss as a device value (read it with `scalar` after the clock has been read)."""

    @abstractmethod
    def scalar(self, value: Any) -> float:
        """A device scalar as a Python float (synchronizes)."""

    @abstractmethod
    def evaluate(self, model: Any, data: DeviceData, batch_size: int) -> float:
        """Accuracy of `model` on the test set."""

    @abstractmethod
    def model_of(self, state: Any) -> Any:
        """The model inside a training state."""

    @abstractmethod
    def save(self, model: Any, directory: Path) -> Path:
        """Save the trained model in the framework's own format; returns the saved file."""

    @abstractmethod
    def load(self, path: Path, model: str) -> Any:
        """Load a saved model onto the device, ready for inference."""

    @abstractmethod
    def predict(self, model: Any, data: DeviceData, batch_size: int) -> Any:
        """Predicted classes of the whole test set (left on the device)."""

    @abstractmethod
    def reset_peak_memory(self) -> None:
        """Start a new device-memory peak (nothing on the CPU)."""

    @abstractmethod
    def peak_memory(self) -> dict[str, int]:
        """The framework's device-memory peaks since the reset, as schema metric names."""

    @abstractmethod
    def is_oom(self, exc: BaseException) -> bool:
        """Whether `exc` means the device or host ran out of memory."""

    def precision(self) -> str:
        """The result's `precision`: "tf32" where the framework runs float32 convolutions or matrix products
        in TensorFloat-32 on this device (NVIDIA Ampere and later, on by default in both frameworks), else
        "fp32"."""
        return "fp32"

    def release(self) -> None:
        """Give cached device memory back after a failure (nothing by default)."""

    def end_repeat(self) -> None:
        """Drop what a finished repeat left behind (models, traced functions, their data), untimed, so that
        repeats do not pile up memory."""
        gc.collect()


def host_oom(exc: BaseException) -> bool:
    """MemoryError, or an allocator failure the framework reports as another exception type."""
    if isinstance(exc, MemoryError):
        return True
    text = str(exc).lower()
    return any(m in text for m in ("can't allocate memory", "out of memory", "cannot allocate memory"))

