"""The PyTorch backend: eager mode (or torch.compile), data resident on the device, one pre-shuffled index per epoch.

Options (RunOptions): `--precision fp32` turns TensorFloat-32 off for both matrix products and cuDNN
convolutions (PyTorch's defaults are off and ON), `tf32` turns both on (NVIDIA compute capability 8.0 or
later only); `fp16` / `bf16` run forward and loss under `torch.autocast` with float32 weights, fp16 with a
GradScaler (recorded as mixed-fp16 / mixed-bf16). `--channels-last` puts model and input in
torch.channels_last; `--compile` runs the model through `torch.compile` (its compilation happens in the first
steps: the step scenario's warm-up, the train scenario's first epoch).
"""

from __future__ import annotations

import contextlib
import math
from pathlib import Path
from typing import Any, Callable, Sequence

import numpy as np
import torch
import torch.nn.functional as F

from .. import models
from .base import (Backend, Device, DeviceData, DeviceRequest, Marks, Progress, RunOptions, StepProgram, UsageError,
                   cpu_has_fast_bf16, host_oom)

_DTYPES = {"fp16": torch.float16, "bf16": torch.bfloat16}


class TorchState:
    def __init__(self, model: torch.nn.Module, optimizer: torch.optim.Optimizer, generator: torch.Generator,
                 run: torch.nn.Module | None = None, scaler: Any = None):
        self.model = model             # the module (saved, evaluated through `run`)
        self.run = run or model        # what is called: the model, or its torch.compile wrapper
        self.optimizer = optimizer
        self.generator = generator
        self.scaler = scaler


class CudaEventMarks(Marks):
    """Marks as CUDA events recorded on the current stream; read (after one synchronization) once the loop is
    done, so the timed loop has no host synchronization."""

    def __init__(self, iterations: int, points: int, synchronize: Callable[[], None]):
        self._events = [[torch.cuda.Event(enable_timing=True) for _ in range(points)] for _ in range(iterations)]
        self._synchronize = synchronize

    def mark(self, i: int, j: int) -> None:
        self._events[i][j].record()

    def intervals(self) -> list[list[float]]:
        self._synchronize()
        return [[a.elapsed_time(b) / 1000.0 for a, b in zip(row, row[1:])] for row in self._events]


class TorchBackend(Backend):
    name = "torch"
    eager_mode = "eager"
    compiled_mode = "torch.compile"

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
        self._apply_tf32(False)
        return self.device

    def _gpu(self) -> bool:
        return self.device.kind in ("cuda", "rocm")

    def _capability(self) -> tuple[int, int]:
        return tuple(torch.cuda.get_device_capability(self.device.index)) if self.device.kind == "cuda" else (0, 0)

    def _has_bf16(self) -> bool:
        if self._gpu():
            return bool(torch.cuda.is_bf16_supported(including_emulation=False))
        return True  # the CPU and MPS kernels run bfloat16 (on CPUs without bf16 instructions, slowly)

    def configure(self, options: RunOptions, workload: Any = None) -> None:
        self.check_options(options, workload)
        self.options = options
        self._apply_tf32(options.precision == "tf32")

    def _apply_tf32(self, on: bool) -> None:
        # Set explicitly, both of them, so that the recorded precision is true: PyTorch's defaults are TF32 off
        # for matrix products and ON for cuDNN convolutions.
        torch.backends.cuda.matmul.allow_tf32 = on
        torch.backends.cudnn.allow_tf32 = on

    def _autocast(self) -> Any:
        dtype = _DTYPES.get(self.options.precision_or_default)
        if dtype is None:
            return contextlib.nullcontext()
        return torch.autocast(device_type=self.device.handle.type, dtype=dtype)

    def _scaler(self) -> Any:
        if self.options.precision_or_default != "fp16":
            return None
        return torch.amp.GradScaler(self.device.handle.type)

    def _layout(self, model: torch.nn.Module) -> torch.nn.Module:
        return model.to(memory_format=torch.channels_last) if self.options.channels_last else model

    def _as_input(self, x: torch.Tensor) -> torch.Tensor:
        if self.options.channels_last and x.dim() == 4:
            return x.contiguous(memory_format=torch.channels_last)
        return x

    def synchronize(self) -> None:
        if self._gpu():
            torch.cuda.synchronize(self.device.handle)
        elif self.device.kind == "mps":
            torch.mps.synchronize()

    def seed(self, seed: int) -> None:
        torch.manual_seed(seed)  # seeds every device's generator too

    def marks(self, iterations: int, points: int) -> Marks:
        if self._gpu():
            return CudaEventMarks(iterations, points, self.synchronize)
        return Marks(iterations, points, self.synchronize)

    def quiet_marks(self, iterations: int, points: int) -> Marks | None:
        if self._gpu():
            return CudaEventMarks(iterations, points, self.synchronize)
        return super().quiet_marks(iterations, points)

    # -- data ---------------------------------------------------------------------------------------------
    def to_device(self, arrays: Any, plan: Any = None) -> DeviceData:
        dev = self.device.handle

        def images(a: np.ndarray) -> torch.Tensor:
            # uint8 travels to the device (4x fewer bytes); a conversion runs there.
            t = torch.from_numpy(np.ascontiguousarray(a)).to(dev)
            t = t.unsqueeze(1) if t.dim() == 3 else t.permute(0, 3, 1, 2).contiguous()  # NHWC -> NCHW
            if plan is not None:
                return t  # kept uint8: each batch goes through the plan
            return self._as_input(t.to(torch.float32).div_(255.0))

        def labels(a: np.ndarray) -> torch.Tensor:
            return torch.from_numpy(np.ascontiguousarray(a, dtype=np.int64)).to(dev)

        return DeviceData(images(arrays.train_x), labels(arrays.train_y), images(arrays.test_x), labels(arrays.test_y),
                          plan=plan)

    def transform(self, x: torch.Tensor, plan: Any, train: bool, generator: torch.Generator | None) -> torch.Tensor:
        """A batch of stored uint8 images (N, C, H, W) made the model's input by `plan` (see workloads.base.Plan)."""
        x = x.to(torch.float32)
        if not plan.standardize:
            x = x / 255.0
        n, c, h, w = x.shape
        dev = x.device
        if plan.crop:
            size = plan.crop
            if train:
                top = torch.randint(0, h - size + 1, (n,), device=dev, generator=generator)
                left = torch.randint(0, w - size + 1, (n,), device=dev, generator=generator)
                steps = torch.arange(size, device=dev)
                rows = (top[:, None] + steps)[:, None, :, None]
                cols = (left[:, None] + steps)[:, None, None, :]
                images = torch.arange(n, device=dev)[:, None, None, None]
                channels = torch.arange(c, device=dev)[None, :, None, None]
                x = x[images, channels, rows, cols]
            else:
                top, left = (h - size) // 2, (w - size) // 2
                x = x[:, :, top:top + size, left:left + size]
        if train and plan.flip:
            flip = torch.rand(n, device=dev, generator=generator) < 0.5
            x = torch.where(flip[:, None, None, None], x.flip(3), x)
        if train and plan.contrast:
            low, high = plan.contrast
            factor = low + (high - low) * torch.rand(n, device=dev, generator=generator)
            mean = x.mean(dim=(2, 3), keepdim=True)
            x = (x - mean) * factor[:, None, None, None] + mean
        if plan.standardize:
            count = x[0].numel()
            mean = x.mean(dim=(1, 2, 3), keepdim=True)
            std = x.std(dim=(1, 2, 3), keepdim=True, correction=0)
            x = (x - mean) / torch.clamp(std, min=1.0 / math.sqrt(count))
        if plan.resize:
            x = F.interpolate(x, size=plan.resize, mode="bilinear", align_corners=False, antialias=False)
        if plan.channels:
            x = x.expand(-1, plan.channels, -1, -1)
        return self._as_input(x.contiguous())

    # -- training -----------------------------------------------------------------------------------------
    def _optimizer(self, params: Any, optimizer: str, learning_rate: float, momentum: float) -> torch.optim.Optimizer:
        if optimizer == "sgd":
            return torch.optim.SGD(params, lr=learning_rate, momentum=momentum)
        if optimizer == "nadam":
            return torch.optim.NAdam(params, lr=learning_rate, eps=1e-7)
        return torch.optim.Adam(params, lr=learning_rate, eps=1e-8)

    def build(self, model: str, learning_rate: float, seed: int, optimizer: str = "adam",
              momentum: float = 0.0) -> TorchState:
        dev = self.device.handle
        net = self._layout(models.build(model, "torch").to(dev))
        opt = self._optimizer(net.parameters(), optimizer, learning_rate, momentum)
        generator = torch.Generator(device=dev)
        generator.manual_seed(seed)
        return TorchState(net, opt, generator, run=self._training_run(net), scaler=self._scaler())

    def model_of(self, state: TorchState) -> torch.nn.Module:
        return state.model

    def train_epoch(self, state: TorchState, data: DeviceData, batch_size: int, epoch: int,
                    progress: Progress) -> torch.Tensor:
        model, optimizer = state.run, state.optimizer
        x, y = data.train_x, data.train_y
        state.model.train()
        plan, generator, scaler = data.plan, state.generator, state.scaler
        plain = self.options.precision_or_default in ("fp32", "tf32")  # no autocast, no scaler
        order = self._epoch_order(x.shape[0], x.device, generator)
        n = order.shape[0]  # the samples this process trains on: all of them, or its shard (torch_ddp.py)
        if plan is None:
            # Shuffle once per epoch with one gather of the whole set: the steps then take contiguous slices
            # (views, no kernel), so a step costs what it costs in the barest loop.
            x, y = x[order], y[order]
        losses = []  # detached loss tensors: no host sync and no extra kernel per step
        every = progress.every
        for step, start in enumerate(range(0, n, batch_size), 1):
            if plan is None:
                xb, yb = x[start:start + batch_size], y[start:start + batch_size]
            else:  # stored uint8: gather the batch, then make it the model's input on the device
                idx = order[start:start + batch_size]
                xb, yb = self.transform(x[idx], plan, True, generator), y[idx]
            optimizer.zero_grad(set_to_none=True)
            if plain:
                loss = F.cross_entropy(model(xb), yb)
                loss.backward()
                optimizer.step()
            else:
                with self._autocast():
                    loss = F.cross_entropy(model(xb), yb)
                if scaler is not None:
                    scaler.scale(loss).backward()
                    scaler.step(optimizer)
                    scaler.update()
                else:
                    loss.backward()
                    optimizer.step()
            losses.append(loss.detach())
            if every and step % every == 0:
                progress.advance(every, loss.item())  # only when a progress bar is shown
        sizes = torch.tensor([min(batch_size, n - s) for s in range(0, n, batch_size)], device=x.device,
                             dtype=torch.float32)
        return (torch.stack(losses).float() * sizes).sum() / n

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
        return self._layout(net.to(self.device.handle).eval())

    @torch.no_grad()
    def predict(self, model: torch.nn.Module, data: DeviceData, batch_size: int) -> torch.Tensor:
        model.eval()
        run = self._run_of(model)
        x, plan = data.test_x, data.plan
        out = []
        with self._autocast():
            for s in range(0, x.shape[0], batch_size):
                xb = x[s:s + batch_size] if plan is None else self.transform(x[s:s + batch_size], plan, False, None)
                out.append(run(xb).argmax(1))
        return torch.cat(out)

    # Hooks of the training loops that torch_ddp.TorchDDPBackend overrides (one process of several devices).
    def _training_run(self, net: torch.nn.Module) -> torch.nn.Module:
        """What a training step calls: the model, or its torch.compile wrapper."""
        return self._run_of(net)

    def _epoch_order(self, n: int, device: torch.device, generator: torch.Generator) -> torch.Tensor:
        """The order of the training samples this process takes in an epoch: all n, shuffled."""
        return torch.randperm(n, device=device, generator=generator)

    def _input_seed(self, seed: int) -> int:
        """The seed of the step scenario's synthetic batch."""
        return seed

    def _run_of(self, model: torch.nn.Module) -> torch.nn.Module:
        """The compiled wrapper of `model` with --compile (made once per model), else the model."""
        if not self.options.compile:
            return model
        compiled = getattr(model, "_dlbench_compiled", None)
        if compiled is None:
            compiled = torch.compile(model)
            object.__setattr__(model, "_dlbench_compiled", compiled)
        return compiled

    def fresh_model(self, model: str, seed: int) -> torch.nn.Module:
        torch.manual_seed(seed)
        return self._layout(models.build(model, "torch").to(self.device.handle)).eval()

    def model_input(self, images: np.ndarray, plan: Any) -> torch.Tensor:
        t = torch.from_numpy(np.ascontiguousarray(images)).to(self.device.handle)
        t = t.unsqueeze(1) if t.dim() == 3 else t.permute(0, 3, 1, 2)
        if plan is None or plan.identity:
            return self._as_input(t.to(torch.float32).div_(255.0))
        return self.transform(t, plan, False, None)

    def predictor(self, model: torch.nn.Module) -> Callable[[torch.Tensor], torch.Tensor]:
        run = self._run_of(model.eval())
        autocast = self._autocast

        @torch.inference_mode()
        def predict(x: torch.Tensor) -> torch.Tensor:
            with autocast():
                return run(x).argmax(-1)

        return predict

    # -- the step scenario --------------------------------------------------------------------------------
    def step_program(self, model: str, input: Any, batch_size: int, seed: int, optimizer: str = "sgd",
                     learning_rate: float = 0.01, momentum: float = 0.9) -> StepProgram:
        dev = self.device.handle
        torch.manual_seed(seed)
        net = self._layout(models.build(model, "torch").to(dev)).train()
        run = self._training_run(net)
        opt = self._optimizer(net.parameters(), optimizer, learning_rate, momentum)
        scaler = self._scaler()
        generator = torch.Generator(device=dev)
        generator.manual_seed(self._input_seed(seed))
        shape = input.batch_shape("torch", batch_size)
        if input.tokens:
            x = torch.randint(0, input.classes, shape, device=dev, generator=generator)
            y = torch.randint(0, input.classes, shape, device=dev, generator=generator)
        else:
            x = self._as_input(torch.randn(shape, device=dev, generator=generator))
            y = torch.randint(0, input.classes, (batch_size,), device=dev, generator=generator)
        autocast = self._autocast

        def forward() -> torch.Tensor:
            with autocast():
                logits = run(x)
                return F.cross_entropy(logits.reshape(-1, logits.shape[-1]), y.reshape(-1))

        def backward(loss: torch.Tensor) -> None:
            (scaler.scale(loss) if scaler is not None else loss).backward()

        def optimize() -> None:
            if scaler is not None:
                scaler.step(opt)  # reads whether the gradients are finite: one host synchronization
                scaler.update()
            else:
                opt.step()
            opt.zero_grad(set_to_none=True)

        return StepProgram(fused=False, forward=forward, backward=backward, optimize=optimize, samples=batch_size,
                           tokens_per_sample=input.shape[0] if input.tokens else None,
                           extra={"model": net, "optimizer": opt})

    # -- the peak scenario --------------------------------------------------------------------------------
    def peak_precisions(self) -> Sequence[str]:
        if self._gpu():
            return tuple(p for p, ok in (("fp32", True), ("tf32", self._has_tf32()), ("fp16", True),
                                         ("bf16", self._has_bf16())) if ok)
        if self.device.kind == "mps":
            return ("fp32", "fp16")
        return ("fp32", "bf16") if cpu_has_fast_bf16() else ("fp32",)

    def peak_sizes(self) -> tuple[int, int]:
        if self.device.kind == "mps":
            return 4096, 2**28
        return super().peak_sizes()

    def matmul(self, precision: str, n: int, seed: int) -> Callable[[], Any]:
        dev = self.device.handle
        dtype = _DTYPES.get(precision, torch.float32)
        self._apply_tf32(precision == "tf32")
        generator = torch.Generator(device=dev)
        generator.manual_seed(seed)
        a = torch.randn((n, n), device=dev, dtype=dtype, generator=generator)
        b = torch.randn((n, n), device=dev, dtype=dtype, generator=generator)
        c = torch.empty((n, n), device=dev, dtype=dtype)

        def product() -> torch.Tensor:
            return torch.matmul(a, b, out=c)

        return product

    def end_peak_part(self) -> None:
        self._apply_tf32(self.options.precision == "tf32")

    def copy(self, nbytes: int) -> tuple[Callable[[], Any], int, str]:
        dev = self.device.handle
        src = torch.ones(nbytes // 4, device=dev, dtype=torch.float32)
        dst = torch.empty_like(src)

        def copy() -> torch.Tensor:
            return dst.copy_(src)

        return copy, 2 * src.numel() * 4, "copy"

    # -- memory and failures ------------------------------------------------------------------------------
    def reset_peak_memory(self) -> None:
        if self._gpu():
            torch.cuda.reset_peak_memory_stats(self.device.handle)

    def peak_memory(self) -> dict[str, int]:
        if self._gpu():
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
        if self._gpu():
            torch.cuda.empty_cache()
        elif self.device.kind == "mps":
            torch.mps.empty_cache()

    def end_repeat(self) -> None:
        super().end_repeat()
        if self.options.compile:
            torch._dynamo.reset()  # drop the compiled graphs of this repeat's model
        self.release()


def _mps_available() -> bool:
    mps = getattr(torch.backends, "mps", None)
    return bool(mps and mps.is_available())

