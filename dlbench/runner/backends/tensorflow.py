"""The TensorFlow backend: Keras 3 model, data resident on the device, a compiled (tf.function) train step.

Each step is one call of a traced function that gathers its batch from the device-resident training tensors
by a slice of the epoch's shuffled index, makes it the model's input (for workloads with a preprocessing plan:
resize, crop, flip, standardization, all traced into the step), runs forward, backward and the optimizer
update, and adds the batch loss to a device variable: no per-sample Python, no host round trip.

Options (RunOptions): `--precision fp32` turns TensorFloat-32 off (`enable_tensor_float_32_execution(False)`;
TensorFlow's default is on, for matrix products and convolutions), `tf32` on (NVIDIA compute capability 8.0 or
later only); `fp16` / `bf16` build the model under Keras's `mixed_float16` / `mixed_bfloat16` policy (float32
weights; the logits are cast to float32 for the loss), fp16 with a LossScaleOptimizer. `--compile` traces the
functions with `jit_compile=True` (XLA). `--channels-last` is PyTorch's: Keras models take NHWC already.
"""

from __future__ import annotations

import os
import sys
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Callable, Iterator, Sequence

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")  # TensorFlow's start-up INFO/WARNING lines; errors still show

import keras  # noqa: E402
import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

from .. import models  # noqa: E402
from .base import (Backend, Device, DeviceData, DeviceRequest, Progress, RunOptions, StepProgram,  # noqa: E402
                   UsageError, cpu_has_fast_bf16, host_oom)

_POLICIES = {"fp16": "mixed_float16", "bf16": "mixed_bfloat16"}
_DTYPES = {"fp16": tf.float16, "bf16": tf.bfloat16}
# Seeds of the stateless random ops of the training steps: (workload seed, epoch * _EPOCH_STRIDE + step).
_EPOCH_STRIDE = 2**24


class KerasState:
    def __init__(self, model: keras.Model, optimizer: keras.optimizers.Optimizer, seed: int):
        self.model = model
        self.optimizer = optimizer
        self.seed = seed
        self.loss_sum = tf.Variable(0.0, trainable=False)
        self.step = None          # the traced train step, made for the first epoch's data and batch size
        self.step_key: tuple | None = None
        self.starts: list[tf.Tensor] = []
        self.no_rng = tf.zeros([2], tf.int64)  # the unused seed argument of steps without random preprocessing


def _loss(labels: tf.Tensor, logits: tf.Tensor) -> tf.Tensor:
    logits = tf.cast(logits, tf.float32)  # mixed precision: float16 / bfloat16 logits, the loss in float32
    return tf.reduce_mean(tf.nn.sparse_softmax_cross_entropy_with_logits(labels=labels, logits=logits))


def step_parts(net: Any, opt: Any, variables: list, scaled: Callable, replicas: int = 1) -> tuple[Callable, ...]:
    """The step scenario's parts as functions of a batch (x, y): the fused step (forward, gradients, update;
    returns the loss), forward (the loss), forward + gradients (returned, not applied), and the update (of the
    gradients given). `scaled` is the backend's loss scaling for fp16; with `replicas` > 1 (MirroredStrategy,
    which sums the replicas' gradients) each replica's loss is divided by their number."""
    def share(loss: tf.Tensor) -> tf.Tensor:
        return loss if replicas == 1 else loss / replicas

    def step(x: tf.Tensor, y: tf.Tensor) -> tf.Tensor:
        with tf.GradientTape() as tape:
            loss = _loss(y, net(x, training=True))
            target = scaled(opt, share(loss))
        opt.apply_gradients(zip(tape.gradient(target, variables), variables))
        return loss

    def forward(x: tf.Tensor, y: tf.Tensor) -> tf.Tensor:
        return _loss(y, net(x, training=True))

    def backward(x: tf.Tensor, y: tf.Tensor) -> list[tf.Tensor]:
        with tf.GradientTape() as tape:
            target = scaled(opt, share(_loss(y, net(x, training=True))))
        return tape.gradient(target, variables)

    def optimize(grads: list[tf.Tensor]) -> None:
        opt.apply_gradients(zip(grads, variables))

    return step, forward, backward, optimize


class TensorFlowBackend(Backend):
    name = "tensorflow"
    eager_mode = "tf.function"
    compiled_mode = "xla"

    def __init__(self) -> None:
        self.version = tf.__version__
        self._forward: dict[tuple, tuple[Any, Any]] = {}

    # -- device -------------------------------------------------------------------------------------------
    def select_device(self, request: DeviceRequest) -> Device:
        gpus = tf.config.list_physical_devices("GPU")
        apple = sys.platform == "darwin"
        kind = request.kind
        if kind == "auto":
            kind = "cpu" if not gpus else "mps" if apple else "cuda"
        if kind == "cpu":
            self.device = Device("cpu", "/CPU:0")
            tf.config.experimental.enable_tensor_float_32_execution(False)  # fp32 until configure() says otherwise
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
        tf.config.experimental.enable_tensor_float_32_execution(False)  # fp32 until configure() says otherwise
        return self.device

    def _capability(self) -> tuple[int, int]:
        if self.device.kind != "cuda":
            return (0, 0)
        details = tf.config.experimental.get_device_details(tf.config.list_physical_devices("GPU")[self.device.index])
        return tuple(details.get("compute_capability", (0, 0)))

    def _has_bf16(self) -> bool:
        if self.device.kind == "cuda":
            return self._capability() >= (8, 0)
        return True  # CPU (slowly without bf16 instructions), ROCm and Metal kernels run bfloat16

    def configure(self, options: RunOptions, workload: Any = None) -> None:
        if options.channels_last:
            raise UsageError("--channels-last: PyTorch only (Keras models take channels-last (NHWC) input "
                             "already); drop it for --framework tensorflow")
        self.check_options(options, workload)
        self.options = options
        tf.config.experimental.enable_tensor_float_32_execution(options.precision == "tf32")

    @contextmanager
    def _on_device(self) -> Iterator[None]:
        with tf.device(self.device.handle):
            yield

    @contextmanager
    def _policy(self) -> Iterator[None]:
        """Layers built inside take the mixed-precision policy of --precision fp16 / bf16."""
        policy = _POLICIES.get(self.options.precision_or_default)
        if policy is None:
            yield
            return
        keras.mixed_precision.set_global_policy(policy)
        try:
            yield
        finally:
            keras.mixed_precision.set_global_policy("float32")

    def _function(self, fn: Callable, **kwargs: Any) -> Any:
        return tf.function(fn, jit_compile=True, **kwargs) if self.options.compile else tf.function(fn, **kwargs)

    def synchronize(self) -> None:
        # On the CPU, eager ops and tf.function calls return when their work is done.
        if self.device.kind != "cpu":
            tf.test.experimental.sync_devices()

    def seed(self, seed: int) -> None:
        keras.utils.set_random_seed(seed)  # Python, NumPy and TensorFlow generators

    # -- data ---------------------------------------------------------------------------------------------
    def to_device(self, arrays: Any, plan: Any = None) -> DeviceData:
        with self._on_device():
            def images(a: np.ndarray) -> tf.Tensor:
                t = tf.identity(tf.convert_to_tensor(a, dtype=tf.uint8))  # identity: copy onto the device
                if len(t.shape) == 3:
                    t = t[..., tf.newaxis]
                if plan is not None:
                    return t  # kept uint8: each batch goes through the plan
                return tf.cast(t, tf.float32) / 255.0

            def labels(a: np.ndarray) -> tf.Tensor:
                return tf.identity(tf.convert_to_tensor(np.asarray(a, dtype=np.int64)))

            return DeviceData(images(arrays.train_x), labels(arrays.train_y),
                              images(arrays.test_x), labels(arrays.test_y), plan=plan)

    @staticmethod
    def transform(x: tf.Tensor, plan: Any, train: bool, seed: tf.Tensor | None = None) -> tf.Tensor:
        """A batch of stored uint8 images (N, H, W, C) made the model's input by `plan` (workloads.base.Plan);
        `seed` (int64 [2]) drives the stateless random crop, flip and contrast of training batches."""
        x = tf.cast(x, tf.float32)
        if not plan.standardize:
            x = x / 255.0
        n = tf.shape(x)[0]
        h, w = int(x.shape[1]), int(x.shape[2])

        def seeded(k: int) -> tf.Tensor:
            return tf.stack([seed[0], seed[1] * 4 + k])

        if plan.crop:
            size = plan.crop
            if train:
                top = tf.random.stateless_uniform([n], seeded(0), 0, h - size + 1, dtype=tf.int32)
                left = tf.random.stateless_uniform([n], seeded(1), 0, w - size + 1, dtype=tf.int32)
                steps = tf.range(size, dtype=tf.int32)
                x = tf.gather(x, top[:, None] + steps, axis=1, batch_dims=1)
                x = tf.gather(x, left[:, None] + steps, axis=2, batch_dims=1)
            else:
                top, left = (h - size) // 2, (w - size) // 2
                x = x[:, top:top + size, left:left + size, :]
        if train and plan.flip:
            flip = tf.random.stateless_uniform([n], seeded(2)) < 0.5
            x = tf.where(flip[:, None, None, None], tf.reverse(x, axis=[2]), x)
        if train and plan.contrast:
            low, high = plan.contrast
            factor = tf.random.stateless_uniform([n], seeded(3), low, high)
            mean = tf.reduce_mean(x, axis=[1, 2], keepdims=True)
            x = (x - mean) * factor[:, None, None, None] + mean
        if plan.standardize:
            x = tf.image.per_image_standardization(x)
        if plan.resize:
            x = tf.image.resize(x, plan.resize, method="bilinear", antialias=False)
        if plan.channels:
            x = tf.repeat(x, plan.channels, axis=-1)
        return x

    # -- training -----------------------------------------------------------------------------------------
    def _optimizer(self, optimizer: str, learning_rate: float, momentum: float) -> keras.optimizers.Optimizer:
        if optimizer == "sgd":
            opt = keras.optimizers.SGD(learning_rate=learning_rate, momentum=momentum)
        elif optimizer == "nadam":
            opt = keras.optimizers.Nadam(learning_rate=learning_rate)
        else:
            opt = keras.optimizers.Adam(learning_rate=learning_rate, epsilon=1e-8)
        if self.options.precision_or_default == "fp16":
            opt = keras.optimizers.LossScaleOptimizer(opt)
        return opt

    def _scaled(self, optimizer: keras.optimizers.Optimizer, loss: tf.Tensor) -> tf.Tensor:
        return optimizer.scale_loss(loss) if isinstance(optimizer, keras.optimizers.LossScaleOptimizer) else loss

    def _build_model(self, model: str) -> keras.Model:
        with self._policy():
            return models.build(model, "tensorflow")

    def build(self, model: str, learning_rate: float, seed: int, optimizer: str = "adam",
              momentum: float = 0.0) -> KerasState:
        self._forward.clear()
        with self._on_device():
            net = self._build_model(model)
            opt = self._optimizer(optimizer, learning_rate, momentum)
            opt.build(net.trainable_variables)
            return KerasState(net, opt, seed)

    def model_of(self, state: KerasState) -> keras.Model:
        return state.model

    def _train_step(self, state: KerasState, data: DeviceData, batch_size: int):
        key = (tuple(data.train_x.shape), batch_size)
        if state.step_key == key:
            return state.step
        model, optimizer, loss_sum = state.model, state.optimizer, state.loss_sum
        variables = model.trainable_variables
        x, y, plan = data.train_x, data.train_y, data.plan
        transform, scaled = self.transform, self._scaled

        # The data are arguments, not captured: a traced function keeps what it captures alive.
        def step(x: tf.Tensor, y: tf.Tensor, order: tf.Tensor, start: tf.Tensor, rng: tf.Tensor) -> tf.Tensor:
            idx = order[start:start + batch_size]
            xb, yb = tf.gather(x, idx), tf.gather(y, idx)
            if plan is not None:
                xb = transform(xb, plan, True, rng)
            with tf.GradientTape() as tape:
                logits = model(xb, training=True)
                loss = _loss(yb, logits)
                target = scaled(optimizer, loss)
            grads = tape.gradient(target, variables)
            optimizer.apply_gradients(zip(grads, variables))
            loss_sum.assign_add(loss * tf.cast(tf.shape(idx)[0], tf.float32))
            return loss

        traced = self._function(step, input_signature=[
            tf.TensorSpec([None, *x.shape[1:]], x.dtype), tf.TensorSpec([None], y.dtype),
            tf.TensorSpec([None], tf.int32), tf.TensorSpec([], tf.int32), tf.TensorSpec([2], tf.int64)])
        state.step, state.step_key = traced, key
        state.starts = [tf.constant(s, tf.int32) for s in range(0, data.train_samples, batch_size)]
        return traced

    def train_epoch(self, state: KerasState, data: DeviceData, batch_size: int, epoch: int,
                    progress: Progress) -> tf.Tensor:
        with self._on_device():
            step = self._train_step(state, data, batch_size)
            x, y, n = data.train_x, data.train_y, data.train_samples
            order = tf.random.experimental.stateless_shuffle(tf.range(n, dtype=tf.int32), seed=[state.seed, epoch])
            state.loss_sum.assign(0.0)
            every = progress.every
            rng = state.no_rng
            for i, start in enumerate(state.starts, 1):
                if data.plan is not None:  # the seed of this step's random crop, flip and contrast
                    rng = tf.constant([state.seed, epoch * _EPOCH_STRIDE + i], tf.int64)
                loss = step(x, y, order, start, rng)
                if every and i % every == 0:
                    progress.advance(every, float(loss))  # only when a progress bar is shown
            return state.loss_sum / n

    def scalar(self, value: tf.Tensor) -> float:
        return float(value.numpy())

    def _forward_fn(self, model: keras.Model, x: tf.Tensor, plan: Any):
        """The traced prediction of batches like `x` (stored images: the evaluation steps of `plan` inside)."""
        key = (id(model), tuple(x.shape[1:]), x.dtype.name, plan)
        cached = self._forward.get(key)
        if cached is None:
            transform = self.transform

            def forward(xb: tf.Tensor) -> tf.Tensor:
                if plan is not None:
                    xb = transform(xb, plan, False)
                return tf.argmax(model(xb, training=False), axis=-1)

            traced = self._function(forward, input_signature=[tf.TensorSpec([None, *x.shape[1:]], x.dtype)])
            cached = self._forward[key] = (model, traced)
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
        custom = getattr(models, "keras_custom_objects", None)
        with self._on_device():
            return keras.models.load_model(path, custom_objects=custom() if custom else None)

    def predict(self, model: keras.Model, data: DeviceData, batch_size: int) -> tf.Tensor:
        with self._on_device():
            x = data.test_x
            forward = self._forward_fn(model, x, data.plan)
            return tf.concat([forward(x[s:s + batch_size]) for s in range(0, int(x.shape[0]), batch_size)], 0)

    def fresh_model(self, model: str, seed: int) -> keras.Model:
        keras.utils.set_random_seed(seed)
        with self._on_device():
            return self._build_model(model)

    def model_input(self, images: np.ndarray, plan: Any) -> tf.Tensor:
        with self._on_device():
            t = tf.identity(tf.convert_to_tensor(images, dtype=tf.uint8))
            if len(t.shape) == 3:
                t = t[..., tf.newaxis]
            if plan is None or plan.identity:
                return tf.cast(t, tf.float32) / 255.0
            return self.transform(t, plan, False)

    def predictor(self, model: keras.Model) -> Callable[[tf.Tensor], tf.Tensor]:
        spec = model.inputs[0] if getattr(model, "inputs", None) else None
        shape = [None, *spec.shape[1:]] if spec is not None else None

        def forward(x: tf.Tensor) -> tf.Tensor:
            return tf.argmax(model(x, training=False), axis=-1)

        traced = self._function(forward, input_signature=[tf.TensorSpec(shape, tf.float32)] if shape else None)
        device = self._on_device

        def predict(x: tf.Tensor) -> tf.Tensor:
            with device():
                return traced(x)

        return predict

    # -- the step scenario --------------------------------------------------------------------------------
    def step_program(self, model: str, input: Any, batch_size: int, seed: int, optimizer: str = "sgd",
                     learning_rate: float = 0.01, momentum: float = 0.9) -> StepProgram:
        keras.utils.set_random_seed(seed)
        with self._on_device():
            net = self._build_model(model)
            opt = self._optimizer(optimizer, learning_rate, momentum)
            variables = net.trainable_variables
            opt.build(variables)
            shape = input.batch_shape("tensorflow", batch_size)
            if input.tokens:
                x = tf.random.stateless_uniform(shape, [seed, 1], 0, input.classes, dtype=tf.int32)
                y = tf.random.stateless_uniform(shape, [seed, 2], 0, input.classes, dtype=tf.int32)
            else:
                x = tf.random.stateless_normal(shape, [seed, 1])
                y = tf.random.stateless_uniform([batch_size], [seed, 2], 0, input.classes, dtype=tf.int32)
        step, forward, backward, optimize = step_parts(net, opt, variables, self._scaled)
        traced = {name: self._function(fn) for name, fn in
                  (("step", lambda: step(x, y)), ("forward", lambda: forward(x, y)),
                   ("backward", lambda: backward(x, y)), ("optimize", optimize))}
        device = self._on_device

        def on_device(fn: Callable) -> Callable:
            def call(*args: Any) -> Any:
                with device():
                    return fn(*args)
            return call

        return StepProgram(fused=True, step=on_device(traced["step"]), forward=on_device(traced["forward"]),
                           backward=on_device(traced["backward"]), optimize=on_device(traced["optimize"]),
                           samples=batch_size, tokens_per_sample=input.shape[0] if input.tokens else None,
                           extra={"model": net, "optimizer": opt})

    # -- the peak scenario --------------------------------------------------------------------------------
    def peak_precisions(self) -> Sequence[str]:
        if self.device.kind == "cpu":
            return ("fp32", "bf16") if cpu_has_fast_bf16() else ("fp32",)
        if self.device.kind == "cuda":
            return tuple(p for p, ok in (("fp32", True), ("tf32", self._has_tf32()), ("fp16", True),
                                         ("bf16", self._has_bf16())) if ok)
        return ("fp32", "fp16")

    def peak_sizes(self) -> tuple[int, int]:
        if self.device.kind == "mps":
            return 4096, 2**28
        return super().peak_sizes()

    def matmul(self, precision: str, n: int, seed: int) -> Callable[[], Any]:
        tf.config.experimental.enable_tensor_float_32_execution(precision == "tf32")
        dtype = _DTYPES.get(precision, tf.float32)
        device = self._on_device
        with device():
            a = tf.cast(tf.random.stateless_normal((n, n), [seed, 1]), dtype)
            b = tf.cast(tf.random.stateless_normal((n, n), [seed, 2]), dtype)

        def product() -> tf.Tensor:
            with device():
                return tf.linalg.matmul(a, b)

        return product

    def end_peak_part(self) -> None:
        tf.config.experimental.enable_tensor_float_32_execution(self.options.precision == "tf32")

    def copy(self, nbytes: int) -> tuple[Callable[[], Any], int, str]:
        # TensorFlow has no in-place copy: assigning a tensor to a variable shares its buffer (nothing moves),
        # and an op that makes a new tensor allocates it (on the CPU, fresh pages: page faults, not bandwidth).
        # The in-place add dst += src is allocation-free: it reads dst and src and writes dst, 3 x nbytes.
        device = self._on_device
        with device():
            src = tf.ones([nbytes // 4], tf.float32)
            dst = tf.Variable(tf.zeros([nbytes // 4], tf.float32), trainable=False)

        def add() -> None:
            with device():
                dst.assign_add(src, read_value=False)

        return add, 3 * (nbytes // 4) * 4, "add"

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

