"""A model description built as a Keras 3 model (NHWC float32 images, or int32 token ids (N, T)).

Imported only by `models.build(name, "tensorflow")`: importing the catalogue does not import Keras. A chain
of plain layers becomes a `keras.Sequential`, anything with branches, frozen parts or a tied head a functional
`keras.Model`. A ReLU right after a convolution or dense layer is fused into it (`activation="relu"`). Symmetric
padding is "same" where that is the same padding (stride 1, odd kernel, half the kernel), otherwise an explicit
`ZeroPadding2D` then a "valid" convolution, so shapes equal PyTorch's. Weights are initialised by Keras's
defaults. The few layers Keras lacks are defined here and registered for `keras.models.load_model` (which
then needs this module imported: `models.keras_custom_objects()`).
"""

from __future__ import annotations

import os
from typing import Any, Sequence

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras  # noqa: E402
from keras import layers, ops  # noqa: E402

from . import graph as g  # noqa: E402
from .counting import Shape, leaf, merge_shapes, output_shape  # noqa: E402
from .graph import Node, as_pads  # noqa: E402

_register = keras.saving.register_keras_serializable(package="dlbench")


@_register
class TiedEmbedding(layers.Layer):
    """Token ids -> vectors, and (called with `logits=True`) vectors -> logits with the same table."""

    def __init__(self, vocab: int, dim: int, **kwargs: Any):
        super().__init__(**kwargs)
        self.vocab, self.dim = vocab, dim

    def build(self, input_shape: Any = None) -> None:
        self.embeddings = self.add_weight(shape=(self.vocab, self.dim), initializer="uniform", name="embeddings")

    def call(self, inputs: Any, logits: bool = False) -> Any:
        if logits:
            return ops.matmul(inputs, ops.transpose(self.embeddings))
        return ops.take(self.embeddings, ops.cast(inputs, "int32"), axis=0)

    def get_config(self) -> dict:
        return {**super().get_config(), "vocab": self.vocab, "dim": self.dim}


@_register
class PositionEmbedding(layers.Layer):
    """Adds a learned embedding of positions 0..T-1 to (N, T, C)."""

    def __init__(self, length: int, **kwargs: Any):
        super().__init__(**kwargs)
        self.length = length

    def build(self, input_shape: Any) -> None:
        self.table = self.add_weight(shape=(self.length, input_shape[-1]), initializer="uniform", name="table")

    def call(self, inputs: Any) -> Any:
        return inputs + ops.take(self.table, ops.arange(ops.shape(inputs)[1]), axis=0)

    def get_config(self) -> dict:
        return {**super().get_config(), "length": self.length}


@_register
class GeluTanh(layers.Layer):
    """GELU with the tanh approximation (GPT-2's)."""

    def call(self, inputs: Any) -> Any:
        return keras.activations.gelu(inputs, approximate=True)


@_register
class LocalResponseNorm(layers.Layer):
    """`tf.nn.local_response_normalization` across channels (the last axis)."""

    def __init__(self, depth_radius: int, bias: float, alpha: float, beta: float, **kwargs: Any):
        super().__init__(**kwargs)
        self.depth_radius, self.bias, self.alpha, self.beta = depth_radius, bias, alpha, beta

    def call(self, inputs: Any) -> Any:
        import tensorflow as tf

        return tf.nn.local_response_normalization(inputs, depth_radius=self.depth_radius, bias=self.bias,
                                                  alpha=self.alpha, beta=self.beta)

    def get_config(self) -> dict:
        return {**super().get_config(), "depth_radius": self.depth_radius, "bias": self.bias,
                "alpha": self.alpha, "beta": self.beta}


CUSTOM_OBJECTS = {cls.__name__: cls for cls in (TiedEmbedding, PositionEmbedding, GeluTanh, LocalResponseNorm)}


def _conv_padding(padding: int, kernel: int, stride: int) -> tuple[list, str]:
    """(layers to put before, Keras padding mode) for symmetric zero padding `padding`."""
    if padding == 0:
        return [], "valid"
    if stride == 1 and kernel % 2 == 1 and padding == kernel // 2:
        return [], "same"
    return [layers.ZeroPadding2D(padding)], "valid"


def _leaf(node: Node, activation: str | None) -> list:
    """The Keras layers of one node (`activation` fused into a convolution or dense layer)."""
    if isinstance(node, g.Conv):
        before, mode = _conv_padding(node.padding, node.kernel, node.stride)
        return before + [layers.Conv2D(node.out_channels, node.kernel, strides=node.stride, padding=mode,
                                       groups=node.groups, use_bias=node.bias, activation=activation)]
    if isinstance(node, g.SeparableConv):
        before, mode = _conv_padding(node.padding, node.kernel, 1)
        return before + [layers.SeparableConv2D(node.out_channels, node.kernel, padding=mode, use_bias=node.bias,
                                                activation=activation)]
    if isinstance(node, g.Pad):
        t, b, l, r = as_pads(node.padding)
        return [layers.ZeroPadding2D(((t, b), (l, r)))]
    if isinstance(node, g.Pool):
        cls = {"max": layers.MaxPooling2D, "avg": layers.AveragePooling2D}[node.kind]
        return [cls(node.size, strides=node.step, padding="same" if node.padding == "same" else "valid")]
    if isinstance(node, g.GlobalAvgPool):
        return [layers.GlobalAveragePooling2D()]
    if isinstance(node, g.Flatten):
        return [layers.Flatten()]
    if isinstance(node, g.Dense):
        return [layers.Dense(node.units, use_bias=node.bias, activation=activation)]
    if isinstance(node, g.Act):
        if node.kind == "relu":
            return [layers.Activation("relu")]
        if node.kind == "gelu_tanh":
            return [GeluTanh()]
        raise ValueError(f"unknown activation {node.kind!r}")
    if isinstance(node, g.Dropout):
        return [layers.Dropout(node.rate)]
    if isinstance(node, g.BatchNorm):
        return [layers.BatchNormalization(axis=-1, momentum=1.0 - node.momentum, epsilon=node.eps)]
    if isinstance(node, g.LayerNorm):
        return [layers.LayerNormalization(axis=-1, epsilon=node.eps)]
    if isinstance(node, g.LocalResponseNorm):
        return [LocalResponseNorm(node.depth_radius, node.bias, node.alpha, node.beta)]
    if isinstance(node, g.PositionEmbedding):
        return [PositionEmbedding(node.length)]
    raise TypeError(f"no Keras layer for {node!r}")


def _fusable(nodes: Sequence[Node], i: int) -> bool:
    return (isinstance(nodes[i], (g.Conv, g.SeparableConv, g.Dense)) and i + 1 < len(nodes)
            and nodes[i + 1] == g.Act("relu"))


def _is_chain(nodes: Sequence[Node]) -> bool:
    return not any(isinstance(n, (g.Parallel, g.Frozen, g.TokenEmbedding, g.TiedLMHead, g.CausalSelfAttention))
                   for n in nodes)


def _chain_layers(nodes: Sequence[Node]) -> list:
    out, i = [], 0
    while i < len(nodes):
        fuse = _fusable(nodes, i)
        out += _leaf(nodes[i], "relu" if fuse else None)
        i += 2 if fuse else 1
    return out


class _Context:
    def __init__(self) -> None:
        self.embedding: TiedEmbedding | None = None
        self.created: list = []


def _apply(nodes: Sequence[Node], x: Any, shape: Shape, ctx: _Context) -> tuple[Any, Shape]:
    i = 0
    while i < len(nodes):
        node, step = nodes[i], 1
        if isinstance(node, g.Parallel):
            outs, shapes = [], []
            for branch in node.branches:
                y, s = _apply(branch, x, shape, ctx)
                outs.append(y)
                shapes.append(s)
            merged = layers.Add() if node.merge == "add" else layers.Concatenate(axis=-1)
            ctx.created.append(merged)
            x, shape = merged(outs), merge_shapes(node, shapes)
        elif isinstance(node, g.Frozen):
            start = len(ctx.created)
            x, shape = _apply(node.body, x, shape, ctx)
            for layer in ctx.created[start:]:
                layer.trainable = False
        elif isinstance(node, g.TokenEmbedding):
            ctx.embedding = TiedEmbedding(node.vocab, node.dim)
            ctx.created.append(ctx.embedding)
            x, shape = ctx.embedding(x), leaf(node, shape)[0]
        elif isinstance(node, g.TiedLMHead):
            if ctx.embedding is None:
                raise ValueError("TiedLMHead without a TokenEmbedding before it")
            x, shape = ctx.embedding(x, logits=True), (shape[0], ctx.embedding.vocab)
        elif isinstance(node, g.CausalSelfAttention):
            width = shape[-1]
            attention = layers.MultiHeadAttention(num_heads=node.heads, key_dim=width // node.heads)
            ctx.created.append(attention)
            x, shape = attention(x, x, use_causal_mask=True), leaf(node, shape)[0]
        else:
            fuse = _fusable(nodes, i)
            for layer in _leaf(node, "relu" if fuse else None):
                ctx.created.append(layer)
                x = layer(x)
            shape = leaf(node, shape)[0]
            step = 2 if fuse else 1
        i += step
    return x, shape


def build(nodes: Sequence[Node], input_shape: Shape, input_kind: str, name: str) -> keras.Model:
    """The description as a Keras model; `input_shape` per sample as the catalogue gives it (channels first)."""
    output_shape(nodes, input_shape)  # a description that does not fit its input fails here, as in PyTorch
    if input_kind == "tokens":
        inputs = keras.Input(shape=(None,), dtype="int32")
    else:
        c, h, w = input_shape
        inputs = keras.Input(shape=(h, w, c), dtype="float32")
    name = name.replace("-", "_")
    if _is_chain(nodes):
        return keras.Sequential([inputs, *_chain_layers(nodes)], name=name)
    outputs, _ = _apply(nodes, inputs, tuple(input_shape), _Context())
    return keras.Model(inputs, outputs, name=name)
