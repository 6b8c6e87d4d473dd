#!/usr/bin/env python3
"""A minimal, independent LeNet-5 training process: the yardstick `runner_vs_bare.py` holds the runner to.

It imports nothing from dlbench on purpose: it reads the Fashion-MNIST (or MNIST) IDX files itself, puts the
whole training set on the device as one tensor, and trains the same LeNet-5 (the same layers, Adam with the
same learning rate and epsilon, the same batch size) with the plainest loop each framework allows: a fresh
random order per epoch, then contiguous batches of it. It prints one JSON line:
{"framework", "version", "device", "epoch_s": [...]} with each epoch's wall time, the device synchronized
before every clock read.
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import sys
import time

import numpy as np

FILES = {"train_x": "train-images-idx3-ubyte.gz", "train_y": "train-labels-idx1-ubyte.gz"}
LEARNING_RATE = 1e-3


def read_idx(path: str) -> np.ndarray:
    with gzip.open(path, "rb") as f:
        data = f.read()
    ndim = data[3]
    dims = [int.from_bytes(data[4 + 4 * i:8 + 4 * i], "big") for i in range(ndim)]
    return np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * ndim).reshape(dims)


def load(folder: str) -> tuple[np.ndarray, np.ndarray]:
    return read_idx(os.path.join(folder, FILES["train_x"])), read_idx(os.path.join(folder, FILES["train_y"]))


def train_torch(images: np.ndarray, labels: np.ndarray, epochs: int, batch: int, seed: int, device: str) -> dict:
    import torch
    import torch.nn.functional as F
    from torch import nn

    dev = torch.device("cuda" if device == "auto" and torch.cuda.is_available() else
                       "cpu" if device == "auto" else device)
    sync = (lambda: torch.cuda.synchronize(dev)) if dev.type == "cuda" else (lambda: None)
    torch.manual_seed(seed)
    x = torch.from_numpy(images.copy()).to(dev).unsqueeze(1).float().div_(255.0)
    y = torch.from_numpy(labels.astype(np.int64)).to(dev)
    model = nn.Sequential(
        nn.Conv2d(1, 6, 5, padding=2), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(6, 16, 5), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(),
        nn.Linear(400, 120), nn.ReLU(), nn.Linear(120, 84), nn.ReLU(), nn.Linear(84, 10),
    ).to(dev)
    opt = torch.optim.Adam(model.parameters(), lr=LEARNING_RATE, eps=1e-8)
    n = x.shape[0]
    times = []
    for _ in range(epochs):
        sync()
        start = time.perf_counter()
        order = torch.randperm(n, device=dev)
        xs, ys = x[order], y[order]
        for s in range(0, n, batch):
            opt.zero_grad(set_to_none=True)
            loss = F.cross_entropy(model(xs[s:s + batch]), ys[s:s + batch])
            loss.backward()
            opt.step()
        sync()
        times.append(time.perf_counter() - start)
    return {"framework": "torch", "version": torch.__version__, "device": str(dev), "epoch_s": times}


def train_tensorflow(images: np.ndarray, labels: np.ndarray, epochs: int, batch: int, seed: int,
                     device: str) -> dict:
    import keras
    import tensorflow as tf
    from keras import layers

    gpus = tf.config.list_physical_devices("GPU")
    name = "/GPU:0" if gpus and device in ("auto", "cuda") else "/CPU:0"
    with tf.device(name):
        keras.utils.set_random_seed(seed)
        x = tf.cast(tf.constant(images[..., None]), tf.float32) / 255.0
        y = tf.constant(labels.astype(np.int64))
        model = keras.Sequential([
            keras.Input(shape=(28, 28, 1)),
            layers.Conv2D(6, 5, padding="same", activation="relu"), layers.MaxPooling2D(2),
            layers.Conv2D(16, 5, activation="relu"), layers.MaxPooling2D(2), layers.Flatten(),
            layers.Dense(120, activation="relu"), layers.Dense(84, activation="relu"), layers.Dense(10),
        ])
        opt = keras.optimizers.Adam(learning_rate=LEARNING_RATE, epsilon=1e-8)
        opt.build(model.trainable_variables)
        variables = model.trainable_variables

        @tf.function
        def step(xb, yb):
            with tf.GradientTape() as tape:
                logits = model(xb, training=True)
                loss = tf.reduce_mean(tf.nn.sparse_softmax_cross_entropy_with_logits(labels=yb, logits=logits))
            opt.apply_gradients(zip(tape.gradient(loss, variables), variables))
            return loss

        n = int(x.shape[0])
        times = []
        for _ in range(epochs):
            start = time.perf_counter()
            order = tf.random.shuffle(tf.range(n))
            xs, ys = tf.gather(x, order), tf.gather(y, order)
            for s in range(0, n, batch):
                loss = step(xs[s:s + batch], ys[s:s + batch])
            float(loss)  # wait for the device: the epoch's last step has finished
            times.append(time.perf_counter() - start)
    return {"framework": "tensorflow", "version": tf.__version__, "device": name, "epoch_s": times}


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="bare_train.py", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--framework", choices=("torch", "tensorflow"), required=True, help="framework to train with")
    p.add_argument("--data", default="/usr/share/datasets/fashion-mnist",
                   help="folder with the IDX .gz files (default: Debian's Fashion-MNIST)")
    p.add_argument("--epochs", type=int, default=3, help="epochs (default 3)")
    p.add_argument("--batch-size", type=int, default=512, help="batch size (default 512)")
    p.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    p.add_argument("--device", default="auto", help="auto, cpu or cuda (default auto)")
    args = p.parse_args(argv)
    if args.epochs < 1 or args.batch_size < 1:
        p.error("--epochs and --batch-size must be at least 1")
    try:
        images, labels = load(args.data)
    except OSError as exc:
        print(f"bare_train.py: {args.data}: {exc.strerror or exc}", file=sys.stderr)
        return 1
    train = train_torch if args.framework == "torch" else train_tensorflow
    print(json.dumps(train(images, labels, args.epochs, args.batch_size, args.seed, args.device)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
