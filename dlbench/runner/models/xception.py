"""Xception (Chollet 2017, arXiv:1610.02357), convolutional base, exactly as keras.applications' `Xception`
(include_top=False): 20,806,952 trained parameters (plus 54,528 BatchNorm running statistics).

Entry flow: conv 3x3/2 32 (valid), BN, ReLU; conv 3x3 64 (valid), BN, ReLU; then three blocks of two
separable 3x3 convolutions (SAME) with BN, a 3x3/2 SAME max-pool, and a shortcut conv 1x1/2 + BN, widths 128,
256, 728 (the first block has no ReLU before its first separable convolution: the stem's ReLU is there).
Middle flow: 8 residual blocks of three (ReLU, separable 3x3 728, BN). Exit flow: ReLU, separable 728, BN,
ReLU, separable 1024, BN, max-pool 3/2 SAME, plus the shortcut conv 1x1/2 1024 + BN; then separable 1536, BN,
ReLU, separable 2048, BN, ReLU. No biases in any convolution; BatchNorm with Keras's defaults (epsilon 1e-3,
momentum 0.99). A separable convolution is a depthwise 3x3 then a pointwise 1x1 (in PyTorch: two Conv2d, the
first with groups = channels). The SAME max-pools pad -inf in both frameworks (their input is a BN output,
not a ReLU's, so zero padding would differ). Keras requires inputs of at least 71x71 for `Xception`.
"""

from __future__ import annotations

from .graph import Act, BatchNorm, Conv, Parallel, Pool, Residual, SeparableConv

_BN = BatchNorm(eps=1e-3, momentum=0.01)  # Keras's BatchNormalization() defaults


def _sep(out: int) -> tuple:
    return SeparableConv(out, 3, padding=1), _BN


def _down_block(width_a: int, width_b: int, relu_first: bool = True) -> Parallel:
    body = ((Act(),) if relu_first else ()) + (*_sep(width_a), Act(), *_sep(width_b), Pool(3, 2, padding="same"))
    return Residual(*body, shortcut=(Conv(width_b, 1, stride=2, bias=False), _BN))


def _middle_block() -> Parallel:
    return Residual(Act(), *_sep(728), Act(), *_sep(728), Act(), *_sep(728))


XCEPTION_BASE = (
    Conv(32, 3, stride=2, bias=False), _BN, Act(),
    Conv(64, 3, bias=False), _BN, Act(),
    _down_block(128, 128, relu_first=False),
    _down_block(256, 256),
    _down_block(728, 728),
    *(_middle_block() for _ in range(8)),
    _down_block(728, 1024),
    *_sep(1536), Act(),
    *_sep(2048), Act(),
)
