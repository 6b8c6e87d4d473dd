"""TensorFlow on several devices: tf.distribute.MirroredStrategy in one process.

Used by `runners/run.py --devices N` (dlbench.runner.distributed starts `python -m dlbench.runner.distributed_worker`
in a fresh process for each N: the devices must be configured before TensorFlow's first operation):

- devices: the first N GPUs (`/gpu:0` to `/gpu:N-1`, all-reduce by MirroredStrategy's default, NCCL); on the CPU,
  N logical CPU devices (`tf.config.set_logical_device_configuration` on the physical CPU, before any op) that
  share the machine's cores and its one thread pool, the gradients reduced on the first
  (ReductionToOneDevice);
- model and optimizer: built in `strategy.scope()` (mirrored variables, the same initial weights on every
  replica); each replica's loss is divided by N, so the summed gradients Keras's optimizer applies
  (`apply_gradients` in a replica context all-reduces them) are those of the mean over the global batch;
- step scenario: every replica its own synthetic batch of the per-device batch size, made on its device
  (stateless seeds [seed + replica x 2^31, 1 | 2]: replica 0's is the one-device run's). The traced functions
  each call `strategy.run` once: the fused step (forward, gradients, all-reduce and update), forward, forward +
  gradients (per replica, not reduced), and the update (all-reduce and apply: where the gradients are reduced,
  so `optimizer_ms` holds the all-reduce). The StepProgram's `samples` is the global batch;
- train scenario: the training tensors copied onto every replica's device; each epoch's shuffled order
  (stateless, the same as one device's) padded to a multiple of N by its first samples and split as
  DistributedSampler splits it (replica r takes every N-th sample from r), each replica stepping through its
  shard with the per-device batch; the random crop / flip / contrast seeds differ per replica. Evaluation and
  inference run outside the replicas on the whole test set (the mirrored weights read once).

TensorFlow returns from a call on the CPU when its work is done, and `sync_devices` waits for every GPU: the
clock reads of the timers cover every replica.
"""

from __future__ import annotations

import dataclasses
import math
from contextlib import contextmanager
from typing import Any, Callable, Iterator

import keras
import tensorflow as tf

from .base import Device, DeviceData, DeviceRequest, Progress, StepProgram, UsageError
from .tensorflow import _EPOCH_STRIDE, KerasState, TensorFlowBackend, _loss, step_parts

# Seed stride between the replicas' synthetic batches and random preprocessing.
REPLICA_SEED_STRIDE = 2**31


class MirroredBackend(TensorFlowBackend):
    """The TensorFlow backend over `count` devices of one kind through a MirroredStrategy."""

    def __init__(self, count: int) -> None:
        super().__init__()
        self.count = count
        self.strategy: tf.distribute.Strategy | None = None
        self._replicated: dict[int, tuple[Any, Any]] = {}

    def select_device(self, request: DeviceRequest) -> Device:
        kind = request.kind
        if kind == "cpu":
            cpu = tf.config.list_physical_devices("CPU")[0]
            try:
                tf.config.set_logical_device_configuration(
                    cpu, [tf.config.LogicalDeviceConfiguration() for _ in range(self.count)])
            except RuntimeError as exc:  # TensorFlow already ran an operation in this process
                raise UsageError(f"--devices {self.count}: the logical CPU devices must be configured before "
                                 f"TensorFlow starts ({exc})") from None
            names = [d.name for d in tf.config.list_logical_devices("CPU")][:self.count]
            cross = tf.distribute.ReductionToOneDevice(reduce_to_device=names[0])
            tf.config.experimental.enable_tensor_float_32_execution(False)
            device = Device("cpu", names[0], count=self.count)
        else:
            gpus = tf.config.list_physical_devices("GPU")
            if len(gpus) < self.count:
                raise UsageError(f"--devices {self.count}: TensorFlow sees {len(gpus)} GPU"
                                 f"{'s' * (len(gpus) != 1)} on this machine")
            device = dataclasses.replace(super().select_device(DeviceRequest(kind)), count=self.count)
            names = [f"/gpu:{i}" for i in range(self.count)]
            cross = None  # MirroredStrategy's default: NCCL all-reduce where it is available
        self.strategy = tf.distribute.MirroredStrategy(devices=names, cross_device_ops=cross)
        self.device = device
        return device

    @contextmanager
    def _on_device(self) -> Iterator[None]:
        with self.strategy.scope():
            yield

    # -- the train scenario -------------------------------------------------------------------------------
    def to_device(self, arrays: Any, plan: Any = None) -> DeviceData:
        data = super().to_device(arrays, plan)
        self._replicated = {id(data): tuple(self._replicate(t) for t in (data.train_x, data.train_y))}
        return data

    def _replicate(self, t: tf.Tensor) -> Any:
        """A copy of `t` on every replica's device."""
        return self.strategy.experimental_distribute_values_from_function(lambda ctx: tf.identity(t))

    def build(self, model: str, learning_rate: float, seed: int, optimizer: str = "adam",
              momentum: float = 0.0) -> KerasState:
        state = super().build(model, learning_rate, seed, optimizer, momentum)
        with self._on_device():  # summed over the replicas when they add to it
            state.loss_sum = tf.Variable(0.0, trainable=False, aggregation=tf.VariableAggregation.SUM)
        return state

    def _shard_size(self, n: int) -> int:
        return math.ceil(n / self.count)

    def _train_step(self, state: KerasState, data: DeviceData, batch_size: int):
        key = (tuple(data.train_x.shape), batch_size, "mirrored")
        if state.step_key == key:
            return state.step
        model, optimizer, loss_sum = state.model, state.optimizer, state.loss_sum
        variables = model.trainable_variables
        plan, transform, scaled, replicas = data.plan, self.transform, self._scaled, self.count

        def replica_step(x: tf.Tensor, y: tf.Tensor, order: tf.Tensor, start: tf.Tensor, rng: tf.Tensor) -> tf.Tensor:
            replica = tf.cast(tf.distribute.get_replica_context().replica_id_in_sync_group, tf.int64)
            idx = order[start:start + batch_size]
            xb, yb = tf.gather(x, idx), tf.gather(y, idx)
            if plan is not None:  # the replicas' random crops and flips differ
                offset = tf.stack([replica * REPLICA_SEED_STRIDE, tf.constant(0, tf.int64)])
                xb = transform(xb, plan, True, rng + offset)
            with tf.GradientTape() as tape:
                loss = _loss(yb, model(xb, training=True))
                target = scaled(optimizer, loss / replicas)
            grads = tape.gradient(target, variables)
            optimizer.apply_gradients(zip(grads, variables))
            loss_sum.assign_add(loss * tf.cast(tf.shape(idx)[0], tf.float32))
            return loss

        strategy = self.strategy

        def step(x: Any, y: Any, order: Any, start: tf.Tensor, rng: tf.Tensor) -> Any:
            return strategy.run(replica_step, args=(x, y, order, start, rng))

        state.step, state.step_key = self._function(step), key
        state.starts = [tf.constant(s, tf.int32) for s in range(0, self._shard_size(data.train_samples), batch_size)]
        return state.step

    def train_epoch(self, state: KerasState, data: DeviceData, batch_size: int, epoch: int,
                    progress: Progress) -> tf.Tensor:
        with self._on_device():
            step = self._train_step(state, data, batch_size)
            x, y = self._replicated[id(data)]
            n, replicas = data.train_samples, self.count
            total = self._shard_size(n) * replicas
            order = tf.random.experimental.stateless_shuffle(tf.range(n, dtype=tf.int32), seed=[state.seed, epoch])
            if total > n:  # pad as DistributedSampler does: every replica gets the same number of samples
                order = tf.concat([order, tf.tile(order, [math.ceil((total - n) / n)])[:total - n]], 0)
            shards = self.strategy.experimental_distribute_values_from_function(
                lambda ctx: order[ctx.replica_id_in_sync_group::replicas])
            state.loss_sum.assign(0.0)
            every = progress.every
            rng = state.no_rng
            for i, start in enumerate(state.starts, 1):
                if data.plan is not None:
                    rng = tf.constant([state.seed, epoch * _EPOCH_STRIDE + i], tf.int64)
                loss = step(x, y, shards, start, rng)
                if every and i % every == 0:
                    progress.advance(every, float(self.strategy.reduce("MEAN", loss, axis=None)))
            return state.loss_sum / total

    # -- the step scenario --------------------------------------------------------------------------------
    def step_program(self, model: str, input: Any, batch_size: int, seed: int, optimizer: str = "sgd",
                     learning_rate: float = 0.01, momentum: float = 0.9) -> StepProgram:
        keras.utils.set_random_seed(seed)
        strategy, replicas = self.strategy, self.count
        with strategy.scope():
            net = self._build_model(model)
            opt = self._optimizer(optimizer, learning_rate, momentum)
            variables = net.trainable_variables
            opt.build(variables)
        shape = input.batch_shape("tensorflow", batch_size)

        def batch(which: int) -> Callable[[Any], tf.Tensor]:
            def make(ctx: Any) -> tf.Tensor:
                s = [seed + ctx.replica_id_in_sync_group * REPLICA_SEED_STRIDE, which]
                if input.tokens:
                    return tf.random.stateless_uniform(shape, s, 0, input.classes, dtype=tf.int32)
                if which == 1:
                    return tf.random.stateless_normal(shape, s)
                return tf.random.stateless_uniform([batch_size], s, 0, input.classes, dtype=tf.int32)
            return make

        x = strategy.experimental_distribute_values_from_function(batch(1))
        y = strategy.experimental_distribute_values_from_function(batch(2))
        def across(fn: Callable) -> Callable:
            def call(*args: Any) -> Any:
                return strategy.run(fn, args=args)
            return self._function(call)

        step, forward, backward, optimize = map(across, step_parts(net, opt, variables, self._scaled, replicas))
        return StepProgram(fused=True, step=lambda: step(x, y), forward=lambda: forward(x, y),
                           backward=lambda: backward(x, y), optimize=lambda grads: optimize(grads),
                           samples=batch_size * replicas, tokens_per_sample=input.shape[0] if input.tokens else None,
                           extra={"model": net, "optimizer": opt})

    def end_repeat(self) -> None:
        self._replicated.clear()
        super().end_repeat()

    def close(self) -> None:
        """Nothing to leave: the strategy ends with the process."""
