"""The framework-neutral description of a model: a tuple of nodes, applied in order to one input.

A model is a chain of nodes. Branching is expressed by `Parallel` (every branch gets the same input; the
outputs are concatenated along channels, or added), so a residual block is `Residual(body)` (an identity
branch plus the body) and an Inception module is `Parallel(branch, branch, ...)`. `Frozen(...)` marks a part
whose parameters are not trained. The transformer nodes work on a sequence: token ids (T,) in, features (T, C)
between the blocks; `TiedLMHead` reuses the table of the model's (single) `TokenEmbedding`.

Shapes are per sample, channels first: images (C, H, W), feature vectors (F,), sequences (T, C). The
PyTorch builder lays images out NCHW, the Keras builder NHWC; the nodes mean the same function in both:

- padding is zero padding, symmetric unless given as (top, bottom, left, right) in a `Pad` node;
- `Pool(padding="same")` is TensorFlow's SAME: the padding that gives ceil(size / stride) outputs, half before
  and the odd one after, padded positions ignored (a max pool pads -inf). PyTorch has no such mode: the builder
  pads explicitly. A max pool with `Pad` before it pads zeros: equal to -inf padding after a ReLU only.
- `BatchNorm(momentum=...)` is PyTorch's convention (weight of the new batch statistics; Keras's momentum is
  1 minus it); `LocalResponseNorm(alpha=...)` is TensorFlow's (PyTorch's `alpha` is this times the window).

Nothing here imports a framework: the catalogue is cheap to import.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Union

Padding = Union[int, tuple[int, int, int, int]]  # symmetric, or (top, bottom, left, right)


@dataclass(frozen=True)
class Conv:
    """2-D convolution, `kernel` x `kernel`; `groups` = input channels makes it depthwise."""
    out_channels: int
    kernel: int
    padding: int = 0
    stride: int = 1
    bias: bool = True
    groups: int = 1


@dataclass(frozen=True)
class SeparableConv:
    """Depthwise `kernel` x `kernel` convolution then pointwise 1x1 to `out_channels` (Keras SeparableConv2D)."""
    out_channels: int
    kernel: int
    padding: int = 0
    bias: bool = False


@dataclass(frozen=True)
class Pad:
    """Zero padding of height and width."""
    padding: Padding


@dataclass(frozen=True)
class Pool:
    """Max (or average) pooling, `size` x `size`, stride `stride` (default: `size`); padding 0 or "same"."""
    size: int
    stride: int | None = None
    kind: str = "max"
    padding: int | str = 0

    @property
    def step(self) -> int:
        return self.stride or self.size


@dataclass(frozen=True)
class GlobalAvgPool:
    """Mean over height and width: (C, H, W) -> (C,)."""


@dataclass(frozen=True)
class Flatten:
    """(C, H, W) -> (C*H*W,); the order of the features is the framework's layout (NCHW or NHWC)."""


@dataclass(frozen=True)
class Dense:
    """Fully connected layer on the last axis: (F,) -> (units,), or (T, F) -> (T, units)."""
    units: int
    bias: bool = True


@dataclass(frozen=True)
class Act:
    """Element-wise activation: "relu" or "gelu_tanh" (GELU, tanh approximation)."""
    kind: str = "relu"


@dataclass(frozen=True)
class Dropout:
    rate: float


@dataclass(frozen=True)
class BatchNorm:
    """Batch normalization over channels; gamma and beta are trained, the running statistics are not."""
    eps: float = 1e-5
    momentum: float = 0.1  # PyTorch's convention


@dataclass(frozen=True)
class LayerNorm:
    """Layer normalization over the last axis, with gain and bias."""
    eps: float = 1e-5


@dataclass(frozen=True)
class LocalResponseNorm:
    """Across-channel LRN, TensorFlow's parameters: x / (bias + alpha * sum of x^2 over 2r+1 channels)^beta."""
    depth_radius: int
    bias: float
    alpha: float
    beta: float


@dataclass(frozen=True)
class TokenEmbedding:
    """Token ids (T,) -> (T, dim): a learned table of `vocab` rows; the model's LM head may reuse it."""
    vocab: int
    dim: int


@dataclass(frozen=True)
class PositionEmbedding:
    """Adds a learned embedding of positions 0..T-1 (T <= `length`) to (T, C)."""
    length: int


@dataclass(frozen=True)
class CausalSelfAttention:
    """Multi-head causal self-attention on (T, C): q, k, v projections C -> C, softmax(q k^T / sqrt(d)) v, and an
    output projection C -> C, each with a bias (4C^2 + 4C parameters)."""
    heads: int


@dataclass(frozen=True)
class TiedLMHead:
    """Logits (T, vocab) = x @ table^T with the model's TokenEmbedding table: no parameters of its own."""


@dataclass(frozen=True)
class Parallel:
    """Each branch (a tuple of nodes; () is the identity) applied to the same input; `merge` "concat" joins the
    outputs along channels, "add" adds them (equal shapes)."""
    branches: tuple[tuple, ...]
    merge: str = "concat"


@dataclass(frozen=True)
class Frozen:
    """A part whose parameters are not trained (PyTorch requires_grad False, Keras trainable False). No
    BatchNorm inside: Keras runs a frozen BatchNorm in inference mode, PyTorch in training mode."""
    body: tuple


Node = Union[Conv, SeparableConv, Pad, Pool, GlobalAvgPool, Flatten, Dense, Act, Dropout, BatchNorm, LayerNorm,
             LocalResponseNorm, TokenEmbedding, PositionEmbedding, CausalSelfAttention, TiedLMHead, Parallel, Frozen]


def Residual(*body: Node, shortcut: tuple = ()) -> Parallel:
    """`shortcut(x) + body(x)`; the shortcut is the identity unless given."""
    return Parallel((tuple(shortcut), tuple(body)), merge="add")


def conv_relu(out_channels: int, kernel: int, padding: int = 0, stride: int = 1) -> tuple[Conv, Act]:
    """A biased convolution followed by a ReLU: the unit of the classic convnets."""
    return Conv(out_channels, kernel, padding=padding, stride=stride), Act("relu")


def same_pads(size: int, kernel: int, stride: int) -> tuple[int, int]:
    """TensorFlow SAME padding (before, after) of one dimension: ceil(size / stride) outputs."""
    out = -(-size // stride)
    total = max((out - 1) * stride + kernel - size, 0)
    return total // 2, total - total // 2


def as_pads(padding: Padding) -> tuple[int, int, int, int]:
    """(top, bottom, left, right) of a `Padding`."""
    return (padding,) * 4 if isinstance(padding, int) else tuple(padding)
