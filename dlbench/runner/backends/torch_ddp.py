"""PyTorch on several devices: one process per device, started by torchrun, the model in DistributedDataParallel.

Used by `runners/run.py --devices N` (dlbench.runner.distributed launches `python -m torch.distributed.run
--standalone --nproc_per_node N -m dlbench.runner.distributed_worker ...`); each process builds this backend from
the environment torchrun gives it (RANK, WORLD_SIZE, LOCAL_RANK, the rendezvous address) and runs the workload's
scenario on its own device:

- device: NVIDIA/AMD GPU number LOCAL_RANK with the NCCL (RCCL) process group; on the CPU, the gloo process
  group, every process a "CPU device" of the same machine (the distributed module gives each its share of the
  cores through OMP_NUM_THREADS);
- model: built with the same seed in every process, wrapped in DistributedDataParallel (its defaults: gradient
  buckets all-reduced during the backward pass, buffers broadcast from rank 0 at each forward), then
  torch.compile'd with `--compile`;
- step scenario: every process its own synthetic batch of the per-device batch size (seed + rank x 2^31: rank
  0's batch is the one-device run's); the all-reduce of the gradients falls in `backward_ms`. A StepProgram's
  `samples` is the global batch (per-device batch x N), so the throughput is the whole system's;
- train scenario: each epoch's shuffled order (the same in every process) padded to a multiple of N by
  repeating its first samples and split as DistributedSampler splits it (rank r takes every N-th sample from
  r), so every process runs the same number of steps; the throughput counts the dataset's samples (not the
  padding) over the epoch's wall time. Evaluation and inference run on every process over the whole test set
  (rank 0's figures are recorded);
- clocks: every phase clock read (PhaseTimer: the timed loop, each epoch, total_s) comes after the device is
  synchronized and after a barrier of all processes, so rank 0's wall time of a phase is the slowest rank's;
  the marks inside a loop (forward / backward / optimizer of each step) synchronize this device only, so the
  timed loop holds no extra barrier.
"""

from __future__ import annotations

import datetime as _dt
import os
from typing import Any

import torch
import torch.distributed as dist
from torch.nn.parallel import DistributedDataParallel

from .base import Device, DeviceRequest, Marks, StepProgram, UsageError
from .torch import CudaEventMarks, TorchBackend, TorchState

# Seconds a collective may wait for the other processes before it fails (a rank that died, a hang).
COLLECTIVE_TIMEOUT_S = 600
# Seed stride between the processes' synthetic batches.
RANK_SEED_STRIDE = 2**31


class TorchDDPBackend(TorchBackend):
    """One of the N processes of a data-parallel run (rank and world size from torchrun's environment)."""

    def __init__(self) -> None:
        super().__init__()
        try:
            self.rank = int(os.environ["RANK"])
            self.world = int(os.environ["WORLD_SIZE"])
            self.local_rank = int(os.environ["LOCAL_RANK"])
        except (KeyError, ValueError):
            raise UsageError("the data-parallel PyTorch backend runs in processes started by torchrun "
                             "(RANK, WORLD_SIZE and LOCAL_RANK are not set); use runners/run.py --devices N") from None

    def select_device(self, request: DeviceRequest) -> Device:
        kind = request.kind
        if kind == "cpu":
            device = Device("cpu", torch.device("cpu"), count=self.world)
            group = "gloo"
        else:
            if not torch.cuda.is_available() or torch.cuda.device_count() <= self.local_rank:
                raise UsageError(f"--devices {self.world}: this process (local rank {self.local_rank}) has no CUDA "
                                 f"device of its own ({torch.cuda.device_count()} visible)")
            torch.cuda.set_device(self.local_rank)
            device = Device("rocm" if torch.version.hip else "cuda", torch.device("cuda", self.local_rank),
                            raw_name=torch.cuda.get_device_name(self.local_rank), index=self.local_rank,
                            count=self.world)
            group = "nccl"
        self.device = device
        kwargs: dict[str, Any] = {"timeout": _dt.timedelta(seconds=COLLECTIVE_TIMEOUT_S)}
        if group == "nccl":
            kwargs["device_id"] = device.handle  # binds the communicator to this GPU (and barrier() to it)
        dist.init_process_group(group, **kwargs)
        self._apply_tf32(False)
        return device

    # -- clocks -------------------------------------------------------------------------------------------
    def _device_synchronize(self) -> None:
        super().synchronize()

    def synchronize(self) -> None:
        """This device's queued work done, then every process at the same point: the clock read that follows
        is after the slowest process's work."""
        self._device_synchronize()
        dist.barrier()

    def marks(self, iterations: int, points: int) -> Marks:
        if self._gpu():
            return CudaEventMarks(iterations, points, self._device_synchronize)
        return Marks(iterations, points, self._device_synchronize)

    # -- the training loops -------------------------------------------------------------------------------
    def _training_run(self, net: torch.nn.Module) -> torch.nn.Module:
        ddp = DistributedDataParallel(net, device_ids=[self.local_rank] if self._gpu() else None)
        return self._run_of(ddp)

    def _epoch_order(self, n: int, device: torch.device, generator: torch.Generator) -> torch.Tensor:
        order = torch.randperm(n, device=device, generator=generator)
        total = -(-n // self.world) * self.world
        if total > n:  # pad as DistributedSampler does: every process gets the same number of samples
            order = torch.cat([order, order.repeat(-(-(total - n) // n))[:total - n]])
        return order[self.rank::self.world]

    def _input_seed(self, seed: int) -> int:
        return seed + self.rank * RANK_SEED_STRIDE

    def train_epoch(self, state: TorchState, data: Any, batch_size: int, epoch: int, progress: Any) -> torch.Tensor:
        """This process's shard of the epoch; the mean training loss over all processes."""
        loss = super().train_epoch(state, data, batch_size, epoch, progress).detach().reshape(1).float()
        dist.all_reduce(loss)
        return loss[0] / self.world

    def step_program(self, model: str, input: Any, batch_size: int, seed: int, optimizer: str = "sgd",
                     learning_rate: float = 0.01, momentum: float = 0.9) -> StepProgram:
        program = super().step_program(model, input, batch_size, seed, optimizer, learning_rate, momentum)
        program.samples = batch_size * self.world  # the global batch: the throughput is the whole system's
        return program

    def close(self) -> None:
        """Leave the process group (the end of this process's part)."""
        if dist.is_initialized():
            dist.destroy_process_group()
