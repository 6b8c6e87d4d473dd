#!/usr/bin/env python3
"""Benchmark: is the runner measuring the workload, or itself?

For each framework, in ONE process, trains LeNet-5 on Fashion-MNIST (a) through the runner's own training
phase (dlbench.runner.scenario.TrainingScenario.train_and_evaluate: the runner's backend, phase timer with
device synchronization, shuffled device-resident batches, loss accumulation, per-epoch evaluation outside the
timed compute) and (b) with the barest loop the framework allows: the same model definition and optimizer, the
same device tensors, the same epochs and batch size, batches sliced in order from the one training tensor
(PyTorch: eager forward / backward / step; TensorFlow: one tf.function train step per batch, the least a
Keras 3 training loop can do without compiling the whole epoch), timed with one synchronized clock read before
and after. The two alternate (runner first, then bare first, ...) so that warm-up and drift hit both equally.

Prints the compute seconds of each trial and the ratio runner / bare of their fastest trials (the figure least
disturbed by other work on the machine, as timeit reports it) and of their medians. Target: the runner within
5% of the bare loop (fastest-trial ratio <= 1.05). Exit status 0 when every framework meets it, 1 when one misses
it, 2 for a usage error. `--framework both` runs each framework in its own child process (so that the two
frameworks' thread pools never share one process).
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

TARGET_RATIO = 1.05
FRAMEWORKS = ("torch", "tensorflow")


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="runner_overhead.py", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--framework", choices=(*FRAMEWORKS, "both"), default="both",
                   help="framework to measure (default: both, each in its own process)")
    p.add_argument("--epochs", type=int, default=3, metavar="N", help="epochs per trial (default 3)")
    p.add_argument("--batch-size", type=int, default=512, metavar="B", help="batch size (default 512)")
    p.add_argument("--trials", type=int, default=3, metavar="T",
                   help="trials of each loop, alternating which goes first (default 3)")
    p.add_argument("--device", default="auto", help="device, as runners/run.py takes it (default auto)")
    p.add_argument("--workload", default="fashion-mnist-lenet5", help="workload (default fashion-mnist-lenet5)")
    return p


def runner_compute(scenario, backend, data, seed: int) -> float:
    """Compute seconds of the runner's own training phase (the sum of its timed epochs)."""
    from dlbench.runner.timing import PhaseTimer

    backend.seed(seed)
    state = backend.build(scenario.workload.model, scenario.workload.learning_rate, seed)
    timer = PhaseTimer(backend.synchronize)
    scenario.train_and_evaluate(state, data, timer, {})
    return timer.total("compute")


def bare_torch(backend, workload, data, epochs: int, batch: int, seed: int) -> float:
    import torch
    import torch.nn.functional as F

    from dlbench.runner import models

    torch.manual_seed(seed)
    model = models.build(workload.model, "torch").to(data.train_x.device)
    opt = torch.optim.Adam(model.parameters(), lr=workload.learning_rate, eps=1e-8)
    x, y = data.train_x, data.train_y
    n = x.shape[0]
    backend.synchronize()
    start = time.perf_counter()
    for _ in range(epochs):
        for s in range(0, n, batch):
            opt.zero_grad(set_to_none=True)
            loss = F.cross_entropy(model(x[s:s + batch]), y[s:s + batch])
            loss.backward()
            opt.step()
    backend.synchronize()
    return time.perf_counter() - start


def bare_tensorflow(backend, workload, data, epochs: int, batch: int, seed: int) -> float:
    import keras
    import tensorflow as tf

    from dlbench.runner import models

    with tf.device(backend.device.handle):
        keras.utils.set_random_seed(seed)
        model = models.build(workload.model, "tensorflow")
        opt = keras.optimizers.Adam(learning_rate=workload.learning_rate, epsilon=1e-8)
        opt.build(model.trainable_variables)
        variables = model.trainable_variables

        @tf.function
        def step(xb, yb):
            with tf.GradientTape() as tape:
                loss = tf.reduce_mean(tf.nn.sparse_softmax_cross_entropy_with_logits(labels=yb, logits=model(xb, training=True)))
            opt.apply_gradients(zip(tape.gradient(loss, variables), variables))
            return loss

        x, y = data.train_x, data.train_y
        n = int(x.shape[0])
        backend.synchronize()
        start = time.perf_counter()
        for _ in range(epochs):
            for s in range(0, n, batch):
                step(x[s:s + batch], y[s:s + batch])
        backend.synchronize()
        return time.perf_counter() - start


def measure_one(args: argparse.Namespace) -> bool:
    from dlbench.runner.data import datasets
    from dlbench.runner import backends, workloads
    from dlbench.runner.scenario import TrainingScenario

    workload = workloads.get(args.workload)
    backend = backends.load(args.framework)
    backend.select_device(backends.parse_device(args.device))
    arrays = datasets.load(workload.dataset)
    data = backend.to_device(arrays)
    scenario = TrainingScenario(backend, workload, args.epochs, args.batch_size, datasets.load)
    bare = bare_torch if args.framework == "torch" else bare_tensorflow
    runs: dict[str, list[float]] = {"runner": [], "bare": []}
    print(f"{args.framework} {backend.version} on {backend.device.kind}: {workload.name}, {args.epochs} epochs, "
          f"batch {args.batch_size}, {data.train_samples} training samples", flush=True)
    for trial in range(args.trials):
        order = ("runner", "bare") if trial % 2 == 0 else ("bare", "runner")
        for which in order:
            if which == "runner":
                seconds = runner_compute(scenario, backend, data, seed=trial)
            else:
                seconds = bare(backend, workload, data, args.epochs, args.batch_size, seed=trial)
            runs[which].append(seconds)
            print(f"  trial {trial + 1} {which:6s} compute {seconds:8.3f} s", flush=True)
    r, b = min(runs["runner"]), min(runs["bare"])
    rm, bm = statistics.median(runs["runner"]), statistics.median(runs["bare"])
    ratio = r / b
    ok = ratio <= TARGET_RATIO
    print(f"{args.framework}: fastest of {args.trials}: runner {r:.3f} s, bare loop {b:.3f} s, ratio {ratio:.3f} "
          f"(target <= {TARGET_RATIO}: {'met' if ok else 'MISSED'}); medians: runner {rm:.3f} s, bare loop "
          f"{bm:.3f} s, ratio {rm / bm:.3f}", flush=True)
    return ok


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.epochs < 1 or args.trials < 1 or args.batch_size < 1:
        print("runner_overhead.py: --epochs, --trials and --batch-size must be at least 1", file=sys.stderr)
        return 2
    if args.framework != "both":
        return 0 if measure_one(args) else 1
    status = 0
    for framework in FRAMEWORKS:
        cmd = [sys.executable, __file__, "--framework", framework, "--epochs", str(args.epochs),
               "--batch-size", str(args.batch_size), "--trials", str(args.trials), "--device", args.device,
               "--workload", args.workload]
        status = max(status, subprocess.run(cmd).returncode)
    return status


if __name__ == "__main__":
    sys.exit(main())
