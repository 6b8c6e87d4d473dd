"""What every framework backend provides, and the device choices and run options they share."""

from __future__ import annotations

import gc
import re
from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Sequence

from ..timing import Marks

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


PRECISIONS = ("fp32", "tf32", "fp16", "bf16")
# --precision -> the result's `precision`: fp16 and bf16 train and infer in mixed precision (autocast, Keras's
# mixed policies), with float32 weights.
RECORDED_PRECISION = {"fp32": "fp32", "tf32": "tf32", "fp16": "mixed-fp16", "bf16": "mixed-bf16"}


@dataclass(frozen=True)
class RunOptions:
    """What `--precision`, `--channels-last` and `--compile` ask for (recorded in every result).

    precision: "fp32" (TensorFloat-32 turned off in both frameworks), "tf32" (on, where the device has it),
    "fp16" / "bf16" (mixed precision). None means the scenario's default: fp32, or for `peak` every precision
    the device supports.
    """

    precision: str | None = None
    channels_last: bool = False
    compile: bool = False

    @property
    def precision_or_default(self) -> str:
        return self.precision or "fp32"


@dataclass
class DeviceData:
    """A dataset resident on the device as tensors, labels int.

    With `plan` None (the LeNet-5 workloads) the images are stored as the model takes them, float32 in [0, 1];
    otherwise they are stored as uint8 and `plan` (dlbench.runner.workloads.base.Plan) turns each batch into the
    model's input on the device (resize, crop, flip, standardization, 3 channels).
    """

    train_x: Any
    train_y: Any
    test_x: Any
    test_y: Any
    plan: Any = None

    @property
    def train_samples(self) -> int:
        return int(self.train_x.shape[0])


@dataclass
class StepProgram:
    """One model's training step on a fixed synthetic batch, in the parts the step scenario times.

    fused False (PyTorch): `forward()` returns the loss, `backward(loss)` computes the gradients, `optimize()`
    applies them (and clears them): the three parts of one step, timed inside that step.
    fused True (TensorFlow): `step()` is one whole traced train step; the parts are separate traced functions,
    `forward()` (forward and loss), `backward()` (forward, loss and gradients, returned) and `optimize(grads)`
    (the update), so that each part is timed in its own call.
    """

    fused: bool
    forward: Callable[[], Any]
    backward: Callable[..., Any]
    optimize: Callable[..., Any]
    step: Callable[[], Any] | None = None
    samples: int = 0
    tokens_per_sample: int | None = None
    extra: dict[str, Any] = field(default_factory=dict)


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
    device: Device
    options: RunOptions = RunOptions()
    eager_mode = "eager"      # the result's `compile` without --compile ("eager", "tf.function")
    compiled_mode = "compiled"  # and with it ("torch.compile", "xla")

    @property
    def compile(self) -> str:
        """The result's `compile`: how the model runs."""
        return self.compiled_mode if self.options.compile else self.eager_mode

    @property
    def channels_last(self) -> bool:
        return self.options.channels_last

    def configure(self, options: RunOptions, workload: Any = None) -> None:
        """Check that this framework and device can do `options` for `workload` (UsageError naming the option
        and the reason otherwise) and apply them (TensorFloat-32 switches, mixed-precision policies)."""
        self.check_options(options, workload)
        self.options = options

    def check_options(self, options: RunOptions, workload: Any = None) -> None:
        """The checks every framework shares: TensorFloat-32 and bfloat16 only where the device has them, and
        channels-last only for networks that take images. A backend adds its own before calling this."""
        precision = options.precision
        if precision == "tf32" and not self._has_tf32():
            raise UsageError(f"--precision tf32: {self._device_words()} has no TensorFloat-32 (NVIDIA compute "
                             "capability 8.0 or later); use --precision fp32")
        if precision == "bf16" and not self._has_bf16():
            raise UsageError(f"--precision bf16: {self._device_words()} has no bfloat16 arithmetic; use "
                             "--precision fp16 or fp32")
        if options.channels_last and workload is not None and workload.input.tokens:
            raise UsageError(f"--channels-last: {workload.model} is not a convolutional network (its input is "
                             "token ids)")

    def _capability(self) -> tuple[int, int]:
        """The device's CUDA compute capability; (0, 0) for any device that is not an NVIDIA GPU."""
        return (0, 0)

    def _has_tf32(self) -> bool:
        return self.device.kind == "cuda" and self._capability() >= (8, 0)

    def _has_bf16(self) -> bool:
        """Whether the device runs bfloat16 arithmetic: CPUs do (slowly without bf16 instructions)."""
        return True

    def _device_words(self) -> str:
        """The device as a usage error names it."""
        if self.device.kind == "cuda":
            cc = self._capability()
            return f"this device ({self.device.raw_name}, compute capability {cc[0]}.{cc[1]})"
        return f"this device ({self.device.kind})"

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
    def to_device(self, arrays: Any, plan: Any = None) -> DeviceData:
        """Convert a dlbench.runner.data.datasets.Arrays (uint8 images (N, H, W) or (N, H, W, 3), int64 labels)
        into tensors on the device; `plan` (a workloads.base.Plan that is not the identity) keeps them uint8
        and makes each batch the model's input."""

    @abstractmethod
    def build(self, model: str, learning_rate: float, seed: int, optimizer: str = "adam",
              momentum: float = 0.0) -> Any:
        """A fresh model and its optimizer (Adam by default), as an opaque training state."""

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
        """The result's `precision`, as run: fp32, tf32, mixed-fp16 or mixed-bf16 (see RunOptions)."""
        return RECORDED_PRECISION[self.options.precision_or_default]

    # -- the step scenario --------------------------------------------------------------------------------
    def step_program(self, model: str, input: Any, batch_size: int, seed: int, optimizer: str = "sgd",
                     learning_rate: float = 0.01, momentum: float = 0.9) -> StepProgram:
        """A fresh model and optimizer and a synthetic batch generated on the device with `seed`."""
        raise NotImplementedError(f"{self.name} has no step scenario")

    def marks(self, iterations: int, points: int) -> Marks:
        """The timer of a loop's iterations (see Marks)."""
        return Marks(iterations, points, self.synchronize)

    def quiet_marks(self, iterations: int, points: int) -> Marks | None:
        """Marks that add no device synchronization to the loop they time, or None where every mark would
        synchronize the device. Here: the CPU's (synchronizing it is a no-op); the PyTorch backend adds CUDA
        events. Loops timed as a whole (infer's batches, peak's operations) time each iteration only then."""
        return self.marks(iterations, points) if self.device.kind == "cpu" else None

    # -- the infer scenario -------------------------------------------------------------------------------
    def fresh_model(self, model: str, seed: int) -> Any:
        """A freshly built model (seeded initialisation) on the device."""
        raise NotImplementedError(f"{self.name} has no infer scenario")

    def model_input(self, images: Any, plan: Any) -> Any:
        """A batch of uint8 images (N, H, W) or (N, H, W, C) from the host, copied to the device and made the
        model's input by `plan` (evaluation steps)."""
        raise NotImplementedError

    def predictor(self, model: Any) -> Callable[[Any], Any]:
        """A function of a model input returning the predicted classes (on the device), in inference mode."""
        raise NotImplementedError

    # -- the peak scenario --------------------------------------------------------------------------------
    def peak_precisions(self) -> Sequence[str]:
        """The matrix-multiply precisions this device runs (fp32 always; tf32, fp16, bf16 where it has them)."""
        return ("fp32",)

    def peak_sizes(self) -> tuple[int, int]:
        """(n of the n x n matrices, bytes of the copied buffer) for this device."""
        return (8192, 2**30) if self.device.kind != "cpu" else (2048, 2**28)

    def matmul(self, precision: str, n: int, seed: int) -> Callable[[], Any]:
        """One n x n by n x n product at `precision` on the device, as a function (operands made once)."""
        raise NotImplementedError(f"{self.name} has no peak scenario")

    def copy(self, nbytes: int) -> tuple[Callable[[], Any], int, str]:
        """(one on-device pass over an `nbytes` buffer into another as a function, buffers made once; the bytes
        it reads plus writes; its name: "copy", or "add" for an in-place dst += src)."""
        raise NotImplementedError(f"{self.name} has no peak scenario")

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



def cpu_has_fast_bf16() -> bool:
    """Whether the CPU has bfloat16 instructions (x86 AVX512-BF16 or AMX-BF16, read from /proc/cpuinfo): only
    then is a bfloat16 matrix product worth measuring as a CPU's peak."""
    try:
        with open("/proc/cpuinfo", encoding="ascii", errors="replace") as f:
            for line in f:
                if line.startswith("flags"):
                    return bool(set(line.split(":", 1)[1].split()) & {"avx512_bf16", "amx_bf16"})
    except OSError:
        pass
    return False
