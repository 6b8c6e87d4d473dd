"""Shapes, parameters and forward multiply-adds of a model description, per sample.

The counting convention is the schema's `flops_per_sample` (2 FLOPs per multiply-add), the one of
`torch.utils.flop_counter.FlopCounterMode`: the multiply-adds of convolutions (every kernel tap of every output,
padding included) and of matrix products (dense layers, the attention products q k^T and a v, the LM head) are
counted; biases, activations, normalization, pooling, softmax, padding, additions, concatenation and embedding
look-ups are not. Causal attention is counted as the full T x T products: what FlopCounterMode counts for
`scaled_dot_product_attention`, and what the kernels of the math path compute (the mask is applied to a full
product). Parameters are the trained ones: BatchNorm's gamma and beta count, its running statistics do not;
parameters under `Frozen` are counted apart (`Cost.frozen_parameters`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

from .graph import (Act, BatchNorm, CausalSelfAttention, Conv, Dense, Dropout, Flatten, Frozen, GlobalAvgPool,
                    LayerNorm, LocalResponseNorm, Node, Pad, Parallel, PositionEmbedding, Pool, SeparableConv,
                    TiedLMHead, TokenEmbedding, as_pads, same_pads)

Shape = tuple[int, ...]


@dataclass(frozen=True)
class Cost:
    parameters: int            # trained parameters
    multiply_adds: int         # forward, per sample
    frozen_parameters: int = 0  # parameters of `Frozen` parts (not trained)

    @property
    def flops(self) -> int:
        """Forward FLOPs per sample: 2 per multiply-add."""
        return 2 * self.multiply_adds


class ShapeError(ValueError):
    pass


def _spatial(size: int, kernel: int, stride: int, before: int, after: int) -> int:
    out = (size + before + after - kernel) // stride + 1
    if out < 1:
        raise ShapeError(f"a {kernel}x{kernel} window with stride {stride} does not fit {size} (+{before}+{after})")
    return out


def _image(node: Node, shape: Shape) -> Shape:
    if len(shape) != 3:
        raise ShapeError(f"{type(node).__name__} needs an image (C, H, W), got {shape}")
    return shape


def pool_pads(node: Pool, shape: Shape) -> tuple[int, int, int, int]:
    """(top, bottom, left, right) padding of a pool on input `shape` (C, H, W): none, or TensorFlow's SAME."""
    if node.padding == "same":
        return (*same_pads(shape[1], node.size, node.step), *same_pads(shape[2], node.size, node.step))
    if node.padding != 0:
        raise ShapeError("Pool padding is 0 or 'same'; for zero padding put a Pad before the pool")
    return 0, 0, 0, 0


def leaf(node: Node, shape: Shape) -> tuple[Shape, int, int]:
    """(output shape, parameters, multiply-adds) of one node that is not a composite."""
    if isinstance(node, Conv):
        c, h, w = _image(node, shape)
        if c % node.groups or node.out_channels % node.groups:
            raise ShapeError(f"groups {node.groups} do not divide {c} -> {node.out_channels} channels")
        p = node.padding
        ho, wo = _spatial(h, node.kernel, node.stride, p, p), _spatial(w, node.kernel, node.stride, p, p)
        per_output = (c // node.groups) * node.kernel * node.kernel
        params = node.out_channels * per_output + (node.out_channels if node.bias else 0)
        return (node.out_channels, ho, wo), params, node.out_channels * ho * wo * per_output
    if isinstance(node, SeparableConv):
        c, h, w = _image(node, shape)
        p = node.padding
        ho, wo = _spatial(h, node.kernel, 1, p, p), _spatial(w, node.kernel, 1, p, p)
        k2 = node.kernel * node.kernel
        params = c * k2 + c * node.out_channels + (node.out_channels if node.bias else 0)
        return (node.out_channels, ho, wo), params, c * ho * wo * k2 + node.out_channels * ho * wo * c
    if isinstance(node, Pad):
        c, h, w = _image(node, shape)
        t, b, l, r = as_pads(node.padding)
        return (c, h + t + b, w + l + r), 0, 0
    if isinstance(node, Pool):
        c, h, w = _image(node, shape)
        t, b, l, r = pool_pads(node, shape)
        return (c, _spatial(h, node.size, node.step, t, b), _spatial(w, node.size, node.step, l, r)), 0, 0
    if isinstance(node, GlobalAvgPool):
        return (_image(node, shape)[0],), 0, 0
    if isinstance(node, Flatten):
        n = 1
        for d in shape:
            n *= d
        return (n,), 0, 0
    if isinstance(node, Dense):
        if len(shape) not in (1, 2):
            raise ShapeError(f"Dense needs features (F,) or a sequence (T, F), got {shape}: Flatten first")
        *lead, features = shape
        positions = 1
        for d in lead:
            positions *= d
        params = features * node.units + (node.units if node.bias else 0)
        return (*lead, node.units), params, positions * features * node.units
    if isinstance(node, (Act, Dropout, LocalResponseNorm)):
        return shape, 0, 0
    if isinstance(node, BatchNorm):
        return shape, 2 * _image(node, shape)[0], 0
    if isinstance(node, LayerNorm):
        return shape, 2 * shape[-1], 0
    if isinstance(node, TokenEmbedding):
        if len(shape) != 1:
            raise ShapeError(f"TokenEmbedding needs token ids (T,), got {shape}")
        return (shape[0], node.dim), node.vocab * node.dim, 0
    if isinstance(node, PositionEmbedding):
        t, c = shape
        if t > node.length:
            raise ShapeError(f"{t} positions, the embedding has {node.length}")
        return shape, node.length * c, 0
    if isinstance(node, CausalSelfAttention):
        t, c = shape
        if c % node.heads:
            raise ShapeError(f"{node.heads} heads do not divide width {c}")
        # q, k, v and output projections; q k^T and a v over the full T x T (all heads together: T*T*C each).
        return shape, 4 * c * c + 4 * c, t * 4 * c * c + 2 * t * t * c
    raise TypeError(f"not a leaf node: {node!r}")


@dataclass
class _Walk:
    params: int = 0
    frozen: int = 0
    macs: int = 0
    vocab: int | None = None  # of the TokenEmbedding, for the tied head


def _walk(nodes: Sequence[Node], shape: Shape, acc: _Walk, frozen: bool) -> Shape:
    for node in nodes:
        if isinstance(node, Parallel):
            outs = [_walk(branch, shape, acc, frozen) for branch in node.branches]
            shape = merge_shapes(node, outs)
        elif isinstance(node, Frozen):
            shape = _walk(node.body, shape, acc, True)
        elif isinstance(node, TiedLMHead):
            if acc.vocab is None:
                raise ShapeError("TiedLMHead without a TokenEmbedding before it")
            t, c = shape
            acc.macs += t * c * acc.vocab
            shape = (t, acc.vocab)
        else:
            if isinstance(node, TokenEmbedding):
                acc.vocab = node.vocab
            if frozen and isinstance(node, BatchNorm):  # Keras would run it in inference mode, PyTorch not
                raise ShapeError("BatchNorm under Frozen: the frameworks differ there")
            shape, params, macs = leaf(node, shape)
            acc.macs += macs
            if frozen:
                acc.frozen += params
            else:
                acc.params += params
    return shape


def merge_shapes(node: Parallel, outs: list[Shape]) -> Shape:
    """The output shape of a `Parallel` from its branches' output shapes."""
    if node.merge == "add":
        if len(set(outs)) != 1:
            raise ShapeError(f"added branches differ in shape: {outs}")
        return outs[0]
    if node.merge == "concat":
        if len({o[1:] for o in outs}) != 1:
            raise ShapeError(f"concatenated branches differ in height and width: {outs}")
        return (sum(o[0] for o in outs), *outs[0][1:])
    raise ValueError(f"unknown merge {node.merge!r}")


def output_shape(nodes: Sequence[Node], shape: Shape) -> Shape:
    """The per-sample output shape of `nodes` applied to an input of `shape`."""
    return _walk(nodes, tuple(shape), _Walk(), False)


def cost(nodes: Sequence[Node], input_shape: Shape) -> Cost:
    """Trained parameters and forward multiply-adds per sample of a description, from its shapes."""
    acc = _Walk()
    _walk(nodes, tuple(input_shape), acc, False)
    return Cost(acc.params, acc.macs, acc.frozen)
