"""The models the workloads train: one framework-neutral description each, built for PyTorch and for Keras,
and costed (parameters, forward multiply-adds per sample) from that same description.

- `graph.py`: the description's nodes (Conv, Pool, Dense, BatchNorm, Parallel branches, residual adds, ...);
- `counting.py`: shape inference, parameter and multiply-add counting (the convention: `counting.py`'s docstring);
- `torch_build.py`, `keras_build.py`: the builders, imported only when a model is built (importing this
  package imports no framework and no numpy: `runners/run.py --list` reads the registry);
- one module per family: `lenet.py`, `convnets.py` (AlexNet, OverFeat, VGG), `googlenet.py`, `resnet.py`,
  `xception.py`, `transformer.py` (GPT-2), `cifar.py`, `thesis.py`; each documents its model and figures.

The registry below, `MODELS`, maps the name recorded in results (`model`) to a `ModelSpec`: the description,
the input (kind "image" with (C, H, W), or "tokens" with (T,)), the number of classes (the vocabulary for a
language model) and the published figures checked by the tests. A scenario makes synthetic input of the
native shape with `spec.batch_shape(framework, n)` and `spec.input_dtype(framework)`, and builds the model
with `build(name, framework)`.

Counting convention (schema `flops_per_sample`): 2 FLOPs per multiply-add of convolutions and matrix
products; biases, activations, normalization, pooling, softmax and embedding look-ups are not counted, as in
`torch.utils.flop_counter.FlopCounterMode`. Parameters are the trained ones.

The frameworks differ only where their defaults differ: weight initialisation and memory layout (NCHW in
PyTorch, NHWC in Keras, so flattened features come in a different order). Neither changes the parameter count
or the FLOPs.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from . import cifar, convnets, googlenet, lenet, resnet, thesis, transformer
from .counting import Cost, cost

FRAMEWORKS = ("torch", "tensorflow")


@dataclass(frozen=True)
class Published:
    """A figure from outside this project, to check the description against."""
    parameters: int | None = None
    multiply_adds: float | None = None
    source: str = ""


@dataclass(frozen=True)
class ModelSpec:
    name: str
    layers: tuple
    input_shape: tuple[int, ...]  # per sample: (C, H, W) for images, (T,) for tokens (the native context)
    num_classes: int              # classes; for a language model the vocabulary (logits per position)
    input_kind: str = "image"     # "image" (float32) or "tokens" (integer ids)
    published: Published = field(default_factory=Published)
    summary: str = ""

    @property
    def vocab(self) -> int | None:
        return self.num_classes if self.input_kind == "tokens" else None

    def batch_shape(self, framework: str, batch: int, length: int | None = None) -> tuple[int, ...]:
        """The shape of a batch of `batch` inputs for `framework` (NCHW for torch, NHWC for tensorflow;
        (N, T) for tokens, `length` <= the context, default the context)."""
        if self.input_kind == "tokens":
            return (batch, length or self.input_shape[0])
        c, h, w = self.input_shape
        return (batch, c, h, w) if framework == "torch" else (batch, h, w, c)

    def input_dtype(self, framework: str) -> str:
        if self.input_kind == "tokens":
            return "int64" if framework == "torch" else "int32"
        return "float32"

    def output_shape(self, batch: int, length: int | None = None) -> tuple[int, ...]:
        """Logits: (N, classes), or (N, T, vocab) for a language model."""
        if self.input_kind == "tokens":
            return (batch, length or self.input_shape[0], self.num_classes)
        return (batch, self.num_classes)


def _spec(name: str, layers: tuple, input_shape: tuple, classes: int, summary: str, **kw: Any) -> ModelSpec:
    return ModelSpec(name, layers, input_shape, classes, summary=summary, **kw)


_IMAGENET = (3, 224, 224)
_TV = "torchvision"

# Model name (as recorded in results) -> its spec.
MODELS: dict[str, ModelSpec] = {s.name: s for s in (
    _spec("lenet5", lenet.LENET5, lenet.INPUT_SHAPE, lenet.NUM_CLASSES, "LeNet-5, 1x28x28",
          published=Published(61_706, 416_520, "the classic LeNet-5 layer shapes")),
    _spec("alexnet", convnets.ALEXNET, _IMAGENET, 1000, "AlexNet (one weird trick), 3x224x224",
          published=Published(61_100_840, 0.714e9, _TV)),
    _spec("overfeat", convnets.OVERFEAT, (3, 231, 231), 1000, "OverFeat fast, 3x231x231"),
    _spec("vgg-a", convnets.VGG_A, _IMAGENET, 1000, "VGG-11 (config A), 3x224x224",
          published=Published(132_863_336, 7.61e9, _TV)),
    _spec("vgg16", convnets.VGG16, _IMAGENET, 1000, "VGG-16 (config D), 3x224x224",
          published=Published(138_357_544, 15.47e9, _TV)),
    _spec("googlenet", googlenet.GOOGLENET, _IMAGENET, 1000, "GoogLeNet v1 (no BN, no aux), 3x224x224",
          published=Published(None, 1.586e9, "Szegedy et al. 2014, Table 1's ops summed (text: 1.5 G)")),
    _spec("resnet50", resnet.RESNET50, _IMAGENET, 1000, "ResNet-50 v1.5, 3x224x224",
          published=Published(25_557_032, 4.09e9, _TV)),
    _spec("gpt2-small", transformer.GPT2_SMALL, (transformer.GPT2_CONTEXT,), transformer.GPT2_VOCAB,
          "GPT-2 small, 1024 tokens", input_kind="tokens",
          published=Published(124_439_808, None, "GPT-2 small with tied embeddings")),
    _spec("cifar10-cnn", cifar.CIFAR10_CNN, (3, 24, 24), 10, "TensorFlow CIFAR-10 tutorial CNN, 3x24x24",
          published=Published(1_068_298, 19.5e6, "TensorFlow CIFAR-10 tutorial")),
    _spec("cifar10-cnn-1000", cifar.CIFAR10_CNN_1000, (3, 24, 24), 1000,
          "the CIFAR-10 tutorial CNN with 1000 classes (for Imagenet32), 3x24x24"),
    _spec("vgg19-gap", thesis.VGG19_GAP, thesis.VGG19_GAP_INPUT, thesis.CLASSES,
          "VGG-19 base + GAP + FC 4096, 2048, 10 (head unconfirmed), 3x32x32"),
    _spec("xception-resnet50v2", thesis.XCEPTION_RESNET50V2, thesis.XCEPTION_RESNET50V2_INPUT, thesis.CLASSES,
          "Xception + ResNet50V2 concatenated, conv 1x1 1024, FC 10, 3x71x71"),
    _spec("thesis-model-a", thesis.THESIS_MODEL_A, thesis.THESIS_INPUT, thesis.CLASSES,
          "the seed's Model A: frozen VGG-19 base + 4 conv + GAP + FC 4096, 2048, 128, 10, 3x32x32"),
    _spec("thesis-model-b", thesis.THESIS_MODEL_B, thesis.THESIS_INPUT, thesis.CLASSES,
          "the seed's Model B: Xception + ResNet152V2, conv 3x3 1024, GAP, FC 1024, 10, 3x32x32"),
)}


def build(name: str, framework: str) -> Any:
    """A fresh, untrained instance of model `name` for `framework` ("torch" or "tensorflow").

    torch: an nn.Module taking float32 (N, C, H, W), or int64 token ids (N, T), on the current default device
    (`with torch.device("meta"):` gives one without memory). tensorflow: a Keras model taking float32
    (N, H, W, C), or int32 token ids (N, T).
    """
    spec = MODELS[name]
    if framework == "torch":
        from . import torch_build

        return torch_build.build(spec.layers, spec.input_shape)
    if framework == "tensorflow":
        from . import keras_build

        return keras_build.build(spec.layers, spec.input_shape, spec.input_kind, name)
    raise ValueError(f"unknown framework {framework!r} (one of {', '.join(FRAMEWORKS)})")


def model_cost(name: str) -> Cost:
    """Trained parameters and forward multiply-adds (and FLOPs) per sample of model `name`."""
    spec = MODELS[name]
    return cost(spec.layers, spec.input_shape)


def keras_custom_objects() -> dict[str, Any]:
    """The Keras layers this package defines, for `keras.models.load_model(path, custom_objects=...)`.

    Importing them registers them too, so a plain `load_model` works once this has been called.
    """
    from .keras_build import CUSTOM_OBJECTS

    return dict(CUSTOM_OBJECTS)


__all__ = ["FRAMEWORKS", "MODELS", "Cost", "ModelSpec", "Published", "build", "cost", "keras_custom_objects",
           "model_cost"]
