"""The models the workloads train: one definition per framework, plus their size and cost from the layer shapes.

LeNet-5 (LeCun et al. 1998) in its common modern form, identical in both frameworks:

    input 1x28x28 -> conv 6@5x5, padding 2 -> ReLU -> max-pool 2x2
                  -> conv 16@5x5           -> ReLU -> max-pool 2x2
                  -> flatten (16x5x5 = 400) -> dense 120 -> ReLU -> dense 84 -> ReLU -> dense 10 (logits)

61,706 trainable parameters. Forward FLOPs per sample are counted from the layer shapes with the project's
convention (schema `flops_per_sample`): 2 FLOPs per multiply-add of the convolutions and matrix products;
biases, activations and pooling are not counted (the convention of torch.utils.flop_counter and of
TensorFlow's profiler). For LeNet-5 that is 2 x 416,520 = 833,040 FLOPs; a training step costs about 3x the
forward pass per sample.

The frameworks differ only where their defaults differ: weight initialisation (PyTorch's Kaiming-uniform,
Keras's Glorot-uniform) and memory layout (NCHW in PyTorch, NHWC in Keras, so the flattened 400 features come
in a different order). Neither changes the parameter count or the FLOPs.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Conv:
    out_channels: int
    kernel: int
    padding: int = 0


@dataclass(frozen=True)
class Pool:
    size: int


@dataclass(frozen=True)
class Dense:
    units: int


Layer = Conv | Pool | Dense

# The one framework-neutral description of LeNet-5 that the counts below are computed from.
LENET5: tuple[Layer, ...] = (Conv(6, 5, padding=2), Pool(2), Conv(16, 5), Pool(2), Dense(120), Dense(84), Dense(10))
INPUT_SHAPE = (1, 28, 28)  # channels, height, width
NUM_CLASSES = 10


@dataclass(frozen=True)
class Cost:
    parameters: int
    multiply_adds: int

    @property
    def flops(self) -> int:
        """Forward FLOPs per sample: 2 per multiply-add."""
        return 2 * self.multiply_adds


def cost(layers: tuple[Layer, ...] = LENET5, input_shape: tuple[int, int, int] = INPUT_SHAPE) -> Cost:
    """Trainable parameters and forward multiply-adds per sample of a layer stack, from its shapes."""
    c, h, w = input_shape
    features = None  # set once the stack is flattened
    params = macs = 0
    for layer in layers:
        if isinstance(layer, Conv):
            h = h + 2 * layer.padding - layer.kernel + 1
            w = w + 2 * layer.padding - layer.kernel + 1
            per_output = c * layer.kernel * layer.kernel
            params += layer.out_channels * (per_output + 1)
            macs += layer.out_channels * h * w * per_output
            c = layer.out_channels
        elif isinstance(layer, Pool):
            h, w = h // layer.size, w // layer.size
        else:
            inputs = features if features is not None else c * h * w
            params += layer.units * (inputs + 1)
            macs += layer.units * inputs
            features = layer.units
    return Cost(params, macs)


def build_torch() -> Any:
    """LeNet-5 as a torch.nn.Module taking float32 (N, 1, 28, 28) and returning (N, 10) logits."""
    from torch import nn

    return nn.Sequential(
        nn.Conv2d(1, 6, 5, padding=2), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(6, 16, 5), nn.ReLU(), nn.MaxPool2d(2),
        nn.Flatten(),
        nn.Linear(400, 120), nn.ReLU(),
        nn.Linear(120, 84), nn.ReLU(),
        nn.Linear(84, NUM_CLASSES),
    )


def build_keras() -> Any:
    """LeNet-5 as a Keras 3 model taking float32 (N, 28, 28, 1) and returning (N, 10) logits."""
    import keras
    from keras import layers

    return keras.Sequential([
        keras.Input(shape=(28, 28, 1)),
        layers.Conv2D(6, 5, padding="same", activation="relu"), layers.MaxPooling2D(2),
        layers.Conv2D(16, 5, activation="relu"), layers.MaxPooling2D(2),
        layers.Flatten(),
        layers.Dense(120, activation="relu"),
        layers.Dense(84, activation="relu"),
        layers.Dense(NUM_CLASSES),
    ], name="lenet5")


# Model name (as recorded in results) -> (layer stack, input shape, builders per framework).
MODELS: dict[str, dict[str, Any]] = {
    "lenet5": {"layers": LENET5, "input_shape": INPUT_SHAPE, "torch": build_torch, "tensorflow": build_keras},
}


def build(name: str, framework: str) -> Any:
    """A fresh, untrained instance of model `name` for `framework`."""
    return MODELS[name][framework]()


def model_cost(name: str) -> Cost:
    spec = MODELS[name]
    return cost(spec["layers"], spec["input_shape"])
