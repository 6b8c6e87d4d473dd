#!/usr/bin/env python3
"""A minimal, independent DistributedDataParallel step loop: the yardstick `ddp_step.py` holds
`runners/run.py fwdbwd-lenet5 --devices N` (PyTorch) to. Start it with torchrun:

    python -m torch.distributed.run --standalone --nproc_per_node 2 benchmarks/bare_ddp_step.py --batch-size 256

It imports nothing from dlbench on purpose. Every process joins the gloo process group (CPU only), builds LeNet-5
as the runner's `lenet5` (conv 6@5x5 pad 2, ReLU, max-pool 2; conv 16@5x5, ReLU, max-pool 2; dense 120, 84, 10)
with the same seed, wraps it in DistributedDataParallel (its defaults), makes its own synthetic batch (standard-
normal 1x28x28 images, uniform labels of 10 classes, seed + rank), and runs the plainest step: forward,
cross-entropy, backward (the gradient all-reduce inside), SGD update (momentum 0.9, learning rate 0.01),
`zero_grad`. `--warmup K` untimed steps, then `--iterations N` timed ones; the timed loop is framed by a barrier
of all processes before each clock read, so rank 0's time is the slowest process's. Rank 0 prints one JSON line:
{"version", "world", "batch", "loop_s", "step_s": [...]} (`batch` per process).
"""

from __future__ import annotations

import argparse
import json
import time

LEARNING_RATE, MOMENTUM = 0.01, 0.9


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--batch-size", type=int, default=256, help="samples per process and step (default 256)")
    p.add_argument("--warmup", type=int, default=10, help="untimed steps (default 10)")
    p.add_argument("--iterations", type=int, default=50, help="timed steps (default 50)")
    p.add_argument("--seed", type=int, default=0, help="seed of the weights and batches (default 0)")
    args = p.parse_args()

    import torch
    import torch.distributed as dist
    import torch.nn.functional as F
    from torch import nn
    from torch.nn.parallel import DistributedDataParallel

    dist.init_process_group("gloo")
    rank, world = dist.get_rank(), dist.get_world_size()
    torch.manual_seed(args.seed)
    net = nn.Sequential(
        nn.Conv2d(1, 6, 5, padding=2), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(6, 16, 5), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(),
        nn.Linear(400, 120), nn.ReLU(), nn.Linear(120, 84), nn.ReLU(), nn.Linear(84, 10),
    ).train()
    model = DistributedDataParallel(net)
    opt = torch.optim.SGD(net.parameters(), lr=LEARNING_RATE, momentum=MOMENTUM)
    gen = torch.Generator()
    gen.manual_seed(args.seed + rank * 2**31)
    x = torch.randn((args.batch_size, 1, 28, 28), generator=gen)
    y = torch.randint(0, 10, (args.batch_size,), generator=gen)

    def step() -> None:
        loss = F.cross_entropy(model(x), y)
        loss.backward()
        opt.step()
        opt.zero_grad(set_to_none=True)

    for _ in range(args.warmup):
        step()
    times = []
    dist.barrier()
    start = time.perf_counter()
    for _ in range(args.iterations):
        t0 = time.perf_counter()
        step()
        times.append(time.perf_counter() - t0)
    dist.barrier()
    loop = time.perf_counter() - start
    if rank == 0:
        print(json.dumps({"version": torch.__version__, "world": world, "batch": args.batch_size, "loop_s": loop,
                          "step_s": times}), flush=True)
    dist.destroy_process_group()


if __name__ == "__main__":
    main()
