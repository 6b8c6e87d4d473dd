#!/usr/bin/env python3
"""A minimal, independent training-step loop: the yardstick `step_vs_bare.py` holds the runner's `step` scenario to.

It imports nothing from dlbench on purpose. It writes LeNet-5 out plainly (the same layers as the runner's
`lenet5`: conv 6@5x5 pad 2, ReLU, max-pool 2; conv 16@5x5, ReLU, max-pool 2; dense 120, 84, 10), makes one
synthetic batch on the device from a fixed seed (standard-normal images 1x28x28, uniform labels of 10
classes), and runs the plainest step each framework allows: forward, cross-entropy, backward, SGD (momentum
0.9, learning rate 0.01) update. `--warmup K` untimed steps, then `--iterations N` timed ones, each timed on its
own (PyTorch on a GPU: CUDA events around each step, read after the loop; otherwise the clock, the device
synchronized before each read; TensorFlow: one traced step function per call), and the whole timed loop timed
apart. `--precision fp32|bf16|fp16` runs forward and loss under autocast (PyTorch; a GradScaler for fp16) or a
Keras mixed policy (a LossScaleOptimizer for fp16). It prints one JSON line: {"framework", "version",
"device", "step_s": [...], "loop_s", "batch"}.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time

LEARNING_RATE, MOMENTUM = 0.01, 0.9


def steps_torch(batch: int, warmup: int, iterations: int, seed: int, device: str, precision: str) -> dict:
    import contextlib

    import torch
    import torch.nn.functional as F
    from torch import nn

    dev = torch.device("cuda" if device == "auto" and torch.cuda.is_available() else
                       "cpu" if device == "auto" else device)
    gpu = dev.type == "cuda"
    sync = (lambda: torch.cuda.synchronize(dev)) if gpu else (lambda: None)
    torch.backends.cuda.matmul.allow_tf32 = torch.backends.cudnn.allow_tf32 = False
    torch.manual_seed(seed)
    model = nn.Sequential(
        nn.Conv2d(1, 6, 5, padding=2), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(6, 16, 5), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(),
        nn.Linear(400, 120), nn.ReLU(), nn.Linear(120, 84), nn.ReLU(), nn.Linear(84, 10),
    ).to(dev).train()
    opt = torch.optim.SGD(model.parameters(), lr=LEARNING_RATE, momentum=MOMENTUM)
    gen = torch.Generator(device=dev)
    gen.manual_seed(seed)
    x = torch.randn((batch, 1, 28, 28), device=dev, generator=gen)
    y = torch.randint(0, 10, (batch,), device=dev, generator=gen)
    dtype = {"fp16": torch.float16, "bf16": torch.bfloat16}.get(precision)
    autocast = (lambda: torch.autocast(dev.type, dtype=dtype)) if dtype else contextlib.nullcontext
    scaler = torch.amp.GradScaler(dev.type) if precision == "fp16" else None

    def step() -> None:
        with autocast():
            loss = F.cross_entropy(model(x), y)
        if scaler is None:
            loss.backward()
            opt.step()
        else:
            scaler.scale(loss).backward()
            scaler.step(opt)
            scaler.update()
        opt.zero_grad(set_to_none=True)

    for _ in range(warmup):
        step()
    times = []
    if gpu:
        events = [(torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True))
                  for _ in range(iterations)]
    sync()
    start = time.perf_counter()
    for i in range(iterations):
        if gpu:
            events[i][0].record()
            step()
            events[i][1].record()
        else:
            t0 = time.perf_counter()
            step()
            times.append(time.perf_counter() - t0)
    sync()
    loop = time.perf_counter() - start
    if gpu:
        times = [a.elapsed_time(b) / 1000.0 for a, b in events]
    return {"framework": "torch", "version": torch.__version__, "device": str(dev), "step_s": times,
            "loop_s": loop, "batch": batch}


def steps_tensorflow(batch: int, warmup: int, iterations: int, seed: int, device: str, precision: str) -> dict:
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    import keras
    import tensorflow as tf
    from keras import layers

    tf.config.experimental.enable_tensor_float_32_execution(False)
    gpus = tf.config.list_physical_devices("GPU")
    name = "/GPU:0" if gpus and device in ("auto", "cuda") else "/CPU:0"
    sync = tf.test.experimental.sync_devices if name != "/CPU:0" else (lambda: None)
    policy = {"fp16": "mixed_float16", "bf16": "mixed_bfloat16"}.get(precision)
    with tf.device(name):
        keras.utils.set_random_seed(seed)
        if policy:
            keras.mixed_precision.set_global_policy(policy)
        model = keras.Sequential([
            keras.Input(shape=(28, 28, 1)),
            layers.Conv2D(6, 5, padding="same", activation="relu"), layers.MaxPooling2D(2),
            layers.Conv2D(16, 5, activation="relu"), layers.MaxPooling2D(2), layers.Flatten(),
            layers.Dense(120, activation="relu"), layers.Dense(84, activation="relu"), layers.Dense(10),
        ])
        opt = keras.optimizers.SGD(learning_rate=LEARNING_RATE, momentum=MOMENTUM)
        if precision == "fp16":
            opt = keras.optimizers.LossScaleOptimizer(opt)
        variables = model.trainable_variables
        opt.build(variables)
        x = tf.random.stateless_normal((batch, 28, 28, 1), [seed, 1])
        y = tf.random.stateless_uniform([batch], [seed, 2], 0, 10, dtype=tf.int32)

        @tf.function
        def step():
            with tf.GradientTape() as tape:
                logits = tf.cast(model(x, training=True), tf.float32)
                loss = tf.reduce_mean(tf.nn.sparse_softmax_cross_entropy_with_logits(labels=y, logits=logits))
                target = opt.scale_loss(loss) if precision == "fp16" else loss
            opt.apply_gradients(zip(tape.gradient(target, variables), variables))
            return loss

        for _ in range(warmup):
            step()
        sync()
        times = []
        start = time.perf_counter()
        for _ in range(iterations):
            t0 = time.perf_counter()
            step()
            sync()
            times.append(time.perf_counter() - t0)
        sync()
        loop = time.perf_counter() - start
    return {"framework": "tensorflow", "version": tf.__version__, "device": name, "step_s": times, "loop_s": loop,
            "batch": batch}


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="bare_step.py", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--framework", choices=("torch", "tensorflow"), required=True, help="framework to run")
    p.add_argument("--batch-size", type=int, default=512, help="batch size (default 512)")
    p.add_argument("--warmup", type=int, default=10, help="untimed steps (default 10)")
    p.add_argument("--iterations", type=int, default=50, help="timed steps (default 50)")
    p.add_argument("--precision", choices=("fp32", "fp16", "bf16"), default="fp32", help="precision (default fp32)")
    p.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    p.add_argument("--device", default="auto", help="auto, cpu or cuda (default auto)")
    args = p.parse_args(argv)
    if args.batch_size < 1 or args.iterations < 1 or args.warmup < 0:
        p.error("--batch-size and --iterations must be at least 1, --warmup at least 0")
    run = steps_torch if args.framework == "torch" else steps_tensorflow
    print(json.dumps(run(args.batch_size, args.warmup, args.iterations, args.seed, args.device, args.precision)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
