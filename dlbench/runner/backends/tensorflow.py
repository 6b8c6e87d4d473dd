"""The TensorFlow backend: Keras 3 model, data resident on the device, a compiled (tf.function) train step.

Each step is one call of a traced function that gathers its batch from the device-resident training tensors
by a slice of the epoch's shuffled index, runs forward, backward and the Adam update, and adds the batch loss
to a device variable: no per-sample Python, no host round trip.
"""

from __future__ import annotations

import os
import sys
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Iterator

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")  # TensorFlow's start-up INFO/WARNING lines; errors still show

import keras  # noqa: E402
import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

from .. import models  # noqa: E402
from .base import Backend, Device, DeviceData, DeviceRequest, Progress, UsageError, host_oom  # noqa: E402


class KerasState:
    def __init__(self, model: keras.Model, optimizer: keras.optimizers.Optimizer, seed: int):
        self.model = model
        self.optimizer = optimizer
        self.seed = seed
        self.loss_sum = tf.Variable(0.0, trainable=False)
        self.step = None          # the traced train step, made for the first epoch's data and batch size
        self.step_key: tuple | None = None
        self.starts: list[tf.Tensor] = []


class TensorFlowBackend(Backend):
    name = "tensorflow"
    compile = "tf.function"

    def __init__(self) -> None:
        self.version = tf.__version__
        self._forward: dict[int, tuple[Any, Any]] = {}

    # -- device -------------------------------------------------------------------------------------------
    def select_device(self, request: DeviceRequest) -> Device:
        gpus = tf.config.list_physical_devices("GPU")
        apple = sys.platform == "darwin"
        kind = request.kind
        if kind == "auto":
            kind = "cpu" if not gpus else "mps" if apple else "cuda"
        if kind == "cpu":
            self.device = Device("cpu", "/CPU:0")
            return self.device
        if kind == "mps" and not (apple and gpus):
            raise UsageError("--device mps: TensorFlow sees no Apple GPU here (on Apple silicon install "
                             "tensorflow-metal); use --device cpu")
        if kind == "cuda" and (apple or not gpus):
            raise UsageError(f"--device {request.kind if request.index is None else f'cuda:{request.index}'}: "
                             f"TensorFlow {tf.__version__} sees no CUDA GPU (is this the CPU-only build, or is the "
                             "driver missing? check with nvidia-smi); use --device cpu")
        index = request.index or 0
        if index >= len(gpus):
            raise UsageError(f"--device cuda:{index}: TensorFlow sees {len(gpus)} GPU"
                             f"{'s' * (len(gpus) != 1)} (cuda:0 to cuda:{len(gpus) - 1})")
        for gpu in gpus:  # allocate as needed, so that the peak reflects the workload, not a pre-reservation
            try:
                tf.config.experimental.set_memory_growth(gpu, True)
            except RuntimeError:  # already initialised
                pass
        details = tf.config.experimental.get_device_details(gpus[index])
        raw = details.get("device_name") if kind == "cuda" else None
        if kind == "cuda" and tf.test.is_built_with_rocm():
            kind = "rocm"
        self.device = Device(kind, f"/GPU:{index}", raw_name=raw, index=index)
        return self.device

    @contextmanager
    def _on_device(self) -> Iterator[None]:
        with tf.device(self.device.handle):
            yield

    def synchronize(self) -> None:
        # On the CPU, eager ops and tf.function calls return when their work is done.
        if self.device.kind != "cpu":
            tf.test.experimental.sync_devices()

    def seed(self, seed: int) -> None:
        keras.utils.set_random_seed(seed)  # Python, NumPy and TensorFlow generators

    # -- data ---------------------------------------------------------------------------------------------
    def to_device(self, arrays: Any) -> DeviceData:
        with self._on_device():
            def images(a: np.ndarray) -> tf.Tensor:
                t = tf.identity(tf.convert_to_tensor(a, dtype=tf.uint8))  # identity: copy onto the device
                return tf.cast(t, tf.float32)[..., tf.newaxis] / 255.0

            def labels(a: np.ndarray) -> tf.Tensor:
                return tf.identity(tf.convert_to_tensor(np.asarray(a, dtype=np.int64)))

            return DeviceData(images(arrays.train_x), labels(arrays.train_y),
                              images(arrays.test_x), labels(arrays.test_y))

    # -- training -----------------------------------------------------------------------------------------
    def build(self, model: str, learning_rate: float, seed: int) -> KerasState:
        self._forward.clear()
        with self._on_device():
            net = models.build(model, "tensorflow")
            optimizer = keras.optimizers.Adam(learning_rate=learning_rate, epsilon=1e-8)
            optimizer.build(net.trainable_variables)
            return KerasState(net, optimizer, seed)

    def model_of(self, state: KerasState) -> keras.Model:
        return state.model

    def _train_step(self, state: KerasState, data: DeviceData, batch_size: int):
        key = (tuple(data.train_x.shape), batch_size)
        if state.step_key == key:
            return state.step
        model, optimizer, loss_sum = state.model, state.optimizer, state.loss_sum
        variables = model.trainable_variables
        x, y = data.train_x, data.train_y

        # The data are arguments, not captured: a traced function keeps what it captures alive.
        @tf.function(input_signature=[tf.TensorSpec([None, *x.shape[1:]], x.dtype), tf.TensorSpec([None], y.dtype),
                                      tf.TensorSpec([None], tf.int32), tf.TensorSpec([], tf.int32)])
        def step(x: tf.Tensor, y: tf.Tensor, order: tf.Tensor, start: tf.Tensor) -> tf.Tensor:
            idx = order[start:start + batch_size]
            xb, yb = tf.gather(x, idx), tf.gather(y, idx)
            with tf.GradientTape() as tape:
                logits = model(xb, training=True)
                loss = tf.reduce_mean(tf.nn.sparse_softmax_cross_entropy_with_logits(labels=yb, logits=logits))
            grads = tape.gradient(loss, variables)
            optimizer.apply_gradients(zip(grads, variables))
            loss_sum.assign_add(loss * tf.cast(tf.shape(idx)[0], tf.float32))
            return loss

        state.step, state.step_key = step, key
        state.starts = [tf.constant(s, tf.int32) for s in range(0, data.train_samples, batch_size)]
        return step

    def train_epoch(self, state: KerasState, data: DeviceData, batch_size: int, epoch: int,
                    progress: Progress) -> tf.Tensor:
        with self._on_device():
            step = self._train_step(state, data, batch_size)
            x, y, n = data.train_x, data.train_y, data.train_samples
            order = tf.random.experimental.stateless_shuffle(tf.range(n, dtype=tf.int32), seed=[state.seed, epoch])
            state.loss_sum.assign(0.0)
            every = progress.every
            for i, start in enumerate(state.starts, 1):
                loss = step(x, y, order, start)
                if every and i % every == 0:
                    progress.advance(every, float(loss))  # only when a progress bar is shown
            return state.loss_sum / n

    def scalar(self, value: tf.Tensor) -> float:
        return float(value.numpy())

    def _forward_fn(self, model: keras.Model):
        cached = self._forward.get(id(model))
        if cached is None:
            @tf.function(input_signature=[tf.TensorSpec([None, 28, 28, 1], tf.float32)])
            def forward(xb: tf.Tensor) -> tf.Tensor:
                return tf.argmax(model(xb, training=False), axis=1)

            cached = self._forward[id(model)] = (model, forward)
        return cached[1]

    def evaluate(self, model: keras.Model, data: DeviceData, batch_size: int) -> float:
        with self._on_device():
            predicted = self.predict(model, data, batch_size)
            correct = tf.reduce_sum(tf.cast(tf.equal(predicted, data.test_y), tf.int64))
            return float(correct.numpy()) / int(data.test_y.shape[0])

    # -- inference ----------------------------------------------------------------------------------------
    def save(self, model: keras.Model, directory: Path) -> Path:
        path = Path(directory) / "model.keras"
        model.save(path)
        return path

    def load(self, path: Path, model: str) -> keras.Model:
        with self._on_device():
            return keras.models.load_model(path)

    def predict(self, model: keras.Model, data: DeviceData, batch_size: int) -> tf.Tensor:
        with self._on_device():
            forward = self._forward_fn(model)
            x = data.test_x
            return tf.concat([forward(x[s:s + batch_size]) for s in range(0, int(x.shape[0]), batch_size)], 0)

    def precision(self) -> str:
        if self.device.kind == "cuda" and tf.config.experimental.tensor_float_32_execution_enabled():
            cc = tf.config.experimental.get_device_details(
                tf.config.list_physical_devices("GPU")[self.device.index]).get("compute_capability", (0, 0))
            if tuple(cc) >= (8, 0):
                return "tf32"
        return "fp32"

    # -- memory and failures ------------------------------------------------------------------------------
    def _memory_device(self) -> str | None:
        return None if self.device.kind == "cpu" else f"GPU:{self.device.index}"

    def reset_peak_memory(self) -> None:
        dev = self._memory_device()
        if dev:
            try:
                tf.config.experimental.reset_memory_stats(dev)
            except (ValueError, tf.errors.OpError):  # not supported by this device's allocator
                pass

    def peak_memory(self) -> dict[str, int]:
        dev = self._memory_device()
        if not dev:
            return {}
        try:
            return {"peak_device_allocated_bytes": int(tf.config.experimental.get_memory_info(dev)["peak"])}
        except (ValueError, tf.errors.OpError):
            return {}

    def is_oom(self, exc: BaseException) -> bool:
        return isinstance(exc, tf.errors.ResourceExhaustedError) or host_oom(exc)

    def release(self) -> None:
        self.end_repeat()

    def end_repeat(self) -> None:
        self._forward.clear()
        keras.backend.clear_session(free_memory=True)
