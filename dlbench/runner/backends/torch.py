"""The PyTorch backend: eager mode, data resident on the device, one pre-shuffled index per epoch."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F

from .. import models
from .base import Backend, Device, DeviceData, DeviceRequest, Progress, UsageError, host_oom


class TorchState:
    def __init__(self, model: torch.nn.Module, optimizer: torch.optim.Optimizer, generator: torch.Generator):
        self.model = model
        self.optimizer = optimizer
        self.generator = generator


class TorchBackend(Backend):
    name = "torch"
    compile = "eager"

    def __init__(self) -> None:
        self.version = torch.__version__.split("+")[0]

    # -- device -------------------------------------------------------------------------------------------
    def select_device(self, request: DeviceRequest) -> Device:
        kind = request.kind
        if kind == "auto":
            kind = "cuda" if torch.cuda.is_available() else "mps" if _mps_available() else "cpu"
        if kind == "cpu":
            self.device = Device("cpu", torch.device("cpu"))
        elif kind == "mps":
            if not _mps_available():
                raise UsageError("--device mps: this PyTorch build or machine has no Apple MPS device "
                                 "(it needs Apple silicon and macOS 12.3 or later); use --device cpu")
            self.device = Device("mps", torch.device("mps"), raw_name=None)
        else:
            if not torch.cuda.is_available():
                build = "a CPU-only build" if torch.version.cuda is None and torch.version.hip is None else "a GPU build"
                raise UsageError(f"--device {kind}: no CUDA device is available (PyTorch {torch.__version__} is "
                                 f"{build}); install a CUDA or ROCm build of PyTorch and check the driver with "
                                 "nvidia-smi, or use --device cpu")
            index = request.index or 0
            count = torch.cuda.device_count()
            if index >= count:
                raise UsageError(f"--device cuda:{index}: this machine has {count} CUDA device"
                                 f"{'s' * (count != 1)} (cuda:0 to cuda:{count - 1})")
            torch.cuda.set_device(index)
            self.device = Device("rocm" if torch.version.hip else "cuda", torch.device("cuda", index),
                                 raw_name=torch.cuda.get_device_name(index), index=index)
        return self.device

    def synchronize(self) -> None:
        if self.device.kind in ("cuda", "rocm"):
            torch.cuda.synchronize(self.device.handle)
        elif self.device.kind == "mps":
            torch.mps.synchronize()

    def seed(self, seed: int) -> None:
        torch.manual_seed(seed)  # seeds every device's generator too

    # -- data ---------------------------------------------------------------------------------------------
    def to_device(self, arrays: Any) -> DeviceData:
        dev = self.device.handle

        def images(a: np.ndarray) -> torch.Tensor:
            # uint8 travels to the device (4x fewer bytes), the conversion to float runs there.
            t = torch.from_numpy(np.ascontiguousarray(a)).to(dev)
            return t.unsqueeze(1).to(torch.float32).div_(255.0)

        def labels(a: np.ndarray) -> torch.Tensor:
            return torch.from_numpy(np.ascontiguousarray(a, dtype=np.int64)).to(dev)

        return DeviceData(images(arrays.train_x), labels(arrays.train_y), images(arrays.test_x), labels(arrays.test_y))

    # -- training -----------------------------------------------------------------------------------------
    def build(self, model: str, learning_rate: float, seed: int) -> TorchState:
        dev = self.device.handle
        net = models.build(model, "torch").to(dev)
        optimizer = torch.optim.Adam(net.parameters(), lr=learning_rate, eps=1e-8)
        generator = torch.Generator(device=dev)
        generator.manual_seed(seed)
        return TorchState(net, optimizer, generator)

    def model_of(self, state: TorchState) -> torch.nn.Module:
        return state.model

    def train_epoch(self, state: TorchState, data: DeviceData, batch_size: int, epoch: int,
                    progress: Progress) -> torch.Tensor:
        model, optimizer = state.model, state.optimizer
        x, y = data.train_x, data.train_y
        n = x.shape[0]
        model.train()
        # Shuffle once per epoch with one gather of the whole set: the steps then take contiguous slices
        # (views, no kernel), so a step costs what it costs in the barest loop.
        order = torch.randperm(n, device=x.device, generator=state.generator)
        x, y = x[order], y[order]
        losses = []  # detached loss tensors: no host sync and no extra kernel per step
        every = progress.every
        for step, start in enumerate(range(0, n, batch_size), 1):
            optimizer.zero_grad(set_to_none=True)
            loss = F.cross_entropy(model(x[start:start + batch_size]), y[start:start + batch_size])
            loss.backward()
            optimizer.step()
            losses.append(loss.detach())
            if every and step % every == 0:
                progress.advance(every, loss.item())  # only when a progress bar is shown
        sizes = torch.tensor([min(batch_size, n - s) for s in range(0, n, batch_size)], device=x.device,
                             dtype=losses[0].dtype)
        return (torch.stack(losses) * sizes).sum() / n

    def scalar(self, value: torch.Tensor) -> float:
        return float(value.item())

    @torch.no_grad()
    def evaluate(self, model: torch.nn.Module, data: DeviceData, batch_size: int) -> float:
        predicted = self.predict(model, data, batch_size)
        return float((predicted == data.test_y).sum().item()) / data.test_y.shape[0]

    # -- inference ----------------------------------------------------------------------------------------
    def save(self, model: torch.nn.Module, directory: Path) -> Path:
        path = Path(directory) / "model.pt"
        torch.save(model.state_dict(), path)
        return path

    def load(self, path: Path, model: str) -> torch.nn.Module:
        net = models.build(model, "torch")
        net.load_state_dict(torch.load(path, map_location=self.device.handle, weights_only=True))
        return net.to(self.device.handle).eval()

    @torch.no_grad()
    def predict(self, model: torch.nn.Module, data: DeviceData, batch_size: int) -> torch.Tensor:
        model.eval()
        x = data.test_x
        return torch.cat([model(x[s:s + batch_size]).argmax(1) for s in range(0, x.shape[0], batch_size)])

    def precision(self) -> str:
        if self.device.kind == "cuda" and torch.cuda.get_device_capability(self.device.index) >= (8, 0):
            if torch.backends.cudnn.allow_tf32 or torch.backends.cuda.matmul.allow_tf32:
                return "tf32"
        return "fp32"

    # -- memory and failures ------------------------------------------------------------------------------
    def reset_peak_memory(self) -> None:
        if self.device.kind in ("cuda", "rocm"):
            torch.cuda.reset_peak_memory_stats(self.device.handle)

    def peak_memory(self) -> dict[str, int]:
        if self.device.kind in ("cuda", "rocm"):
            return {"peak_device_allocated_bytes": int(torch.cuda.max_memory_allocated(self.device.handle)),
                    "peak_device_reserved_bytes": int(torch.cuda.max_memory_reserved(self.device.handle))}
        return {}

    def is_oom(self, exc: BaseException) -> bool:
        if isinstance(exc, torch.cuda.OutOfMemoryError):
            return True
        # The CPU allocator raises RuntimeError "DefaultCPUAllocator: can't allocate memory"; MPS says
        # "MPS backend out of memory".
        return host_oom(exc)

    def release(self) -> None:
        if self.device.kind in ("cuda", "rocm"):
            torch.cuda.empty_cache()
        elif self.device.kind == "mps":
            torch.mps.empty_cache()


def _mps_available() -> bool:
    mps = getattr(torch.backends, "mps", None)
    return bool(mps and mps.is_available())
