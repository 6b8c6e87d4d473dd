"""A model description built as a torch.nn.Module (NCHW images, or int64 token ids (N, T)).

Imported only by `models.build(name, "torch")`: importing the catalogue does not import torch. Each node maps
to the usual module (Conv2d, Linear, BatchNorm2d, ...), weights initialised by PyTorch's defaults. Build under
`torch.device("meta")` to get a model without memory, for counting parameters and FLOPs.
"""

from __future__ import annotations

from typing import Sequence

import torch
import torch.nn.functional as F
from torch import nn

from .counting import Shape, leaf, merge_shapes, pool_pads
from . import graph as g
from .graph import Node, as_pads


class Branches(nn.Module):
    """The branches of a `Parallel` on one input, concatenated along channels or added."""

    def __init__(self, branches: Sequence[nn.Module], merge: str):
        super().__init__()
        self.branches = nn.ModuleList(branches)
        self.merge = merge

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        outs = [branch(x) for branch in self.branches]
        if self.merge == "add":
            out = outs[0]
            for o in outs[1:]:
                out = out + o
            return out
        return torch.cat(outs, dim=1 if outs[0].dim() == 4 else -1)


class GlobalAvgPool2d(nn.Module):
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x.mean(dim=(2, 3))


class LearnedPositions(nn.Module):
    """Adds a learned embedding of positions 0..T-1 to (N, T, C)."""

    def __init__(self, length: int, dim: int):
        super().__init__()
        self.table = nn.Embedding(length, dim)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.table(torch.arange(x.shape[1], device=x.device))


class CausalAttention(nn.Module):
    """Fused q, k, v projection, `scaled_dot_product_attention(is_causal=True)`, output projection."""

    def __init__(self, dim: int, heads: int):
        super().__init__()
        self.heads = heads
        self.qkv = nn.Linear(dim, 3 * dim)
        self.proj = nn.Linear(dim, dim)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        n, t, c = x.shape
        q, k, v = (z.view(n, t, self.heads, c // self.heads).transpose(1, 2) for z in self.qkv(x).split(c, dim=2))
        y = F.scaled_dot_product_attention(q, k, v, is_causal=True)
        return self.proj(y.transpose(1, 2).reshape(n, t, c))


class TiedHead(nn.Module):
    """Logits = x @ table^T, the table being the model's token embedding (held, not registered, here)."""

    def __init__(self, embedding: nn.Embedding):
        super().__init__()
        self.__dict__["embedding"] = embedding  # not a submodule: its weight is the embedding's, listed once

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.linear(x, self.embedding.weight)


class _Context:
    def __init__(self) -> None:
        self.embedding: nn.Embedding | None = None


def _pool(node: g.Pool, shape: Shape) -> nn.Module:
    t, b, l, r = pool_pads(node, shape)
    if node.kind == "max":
        if t == b == l == r and t <= node.size // 2:
            return nn.MaxPool2d(node.size, node.step, padding=t)
        return nn.Sequential(nn.ConstantPad2d((l, r, t, b), float("-inf")), nn.MaxPool2d(node.size, node.step))
    if node.kind == "avg":
        if t == b == l == r and t <= node.size // 2:  # TensorFlow's SAME leaves the padding out of the mean
            return nn.AvgPool2d(node.size, node.step, padding=t, count_include_pad=False)
        raise NotImplementedError("asymmetric SAME average pooling")
    raise ValueError(f"unknown pool {node.kind!r}")


def _leaf(node: Node, shape: Shape, ctx: _Context) -> nn.Module:
    if isinstance(node, g.Conv):
        return nn.Conv2d(shape[0], node.out_channels, node.kernel, stride=node.stride, padding=node.padding,
                         groups=node.groups, bias=node.bias)
    if isinstance(node, g.SeparableConv):
        c = shape[0]
        return nn.Sequential(nn.Conv2d(c, c, node.kernel, padding=node.padding, groups=c, bias=False),
                             nn.Conv2d(c, node.out_channels, 1, bias=node.bias))
    if isinstance(node, g.Pad):
        t, b, l, r = as_pads(node.padding)
        return nn.ZeroPad2d((l, r, t, b))
    if isinstance(node, g.Pool):
        return _pool(node, shape)
    if isinstance(node, g.GlobalAvgPool):
        return GlobalAvgPool2d()
    if isinstance(node, g.Flatten):
        return nn.Flatten()
    if isinstance(node, g.Dense):
        return nn.Linear(shape[-1], node.units, bias=node.bias)
    if isinstance(node, g.Act):
        if node.kind == "relu":
            return nn.ReLU()
        if node.kind == "gelu_tanh":
            return nn.GELU(approximate="tanh")
        raise ValueError(f"unknown activation {node.kind!r}")
    if isinstance(node, g.Dropout):
        return nn.Dropout(node.rate)
    if isinstance(node, g.BatchNorm):
        return nn.BatchNorm2d(shape[0], eps=node.eps, momentum=node.momentum)
    if isinstance(node, g.LayerNorm):
        return nn.LayerNorm(shape[-1], eps=node.eps)
    if isinstance(node, g.LocalResponseNorm):
        size = 2 * node.depth_radius + 1  # PyTorch divides alpha by the window, TensorFlow does not
        return nn.LocalResponseNorm(size, alpha=node.alpha * size, beta=node.beta, k=node.bias)
    if isinstance(node, g.TokenEmbedding):
        ctx.embedding = nn.Embedding(node.vocab, node.dim)
        return ctx.embedding
    if isinstance(node, g.PositionEmbedding):
        return LearnedPositions(node.length, shape[-1])
    if isinstance(node, g.CausalSelfAttention):
        return CausalAttention(shape[-1], node.heads)
    raise TypeError(f"no PyTorch module for {node!r}")


def _modules(nodes: Sequence[Node], shape: Shape, ctx: _Context) -> tuple[list[nn.Module], Shape]:
    mods: list[nn.Module] = []
    for node in nodes:
        if isinstance(node, g.Parallel):
            branches, outs = [], []
            for branch in node.branches:
                sub, out = _modules(branch, shape, ctx)
                branches.append(nn.Sequential(*sub) if sub else nn.Identity())
                outs.append(out)
            mods.append(Branches(branches, node.merge))
            shape = merge_shapes(node, outs)
        elif isinstance(node, g.Frozen):
            sub, shape = _modules(node.body, shape, ctx)
            body = nn.Sequential(*sub)
            body.requires_grad_(False)
            mods.append(body)
        elif isinstance(node, g.TiedLMHead):
            if ctx.embedding is None:
                raise ValueError("TiedLMHead without a TokenEmbedding before it")
            mods.append(TiedHead(ctx.embedding))
            shape = (shape[0], ctx.embedding.num_embeddings)
        else:
            mods.append(_leaf(node, shape, ctx))
            shape = leaf(node, shape)[0]
    return mods, shape


def build(nodes: Sequence[Node], input_shape: Shape) -> nn.Module:
    """The description as an nn.Sequential, for per-sample inputs of `input_shape` (channels first)."""
    mods, _ = _modules(nodes, tuple(input_shape), _Context())
    return nn.Sequential(*mods)
