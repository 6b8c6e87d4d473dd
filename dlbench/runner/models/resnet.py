"""Residual networks: ResNet-50 v1.5 (torchvision's `resnet50`) and ResNet v2 (Keras applications' ResNet50V2,
ResNet152V2, convolutional base only).

ResNet-50 v1.5 (He et al. 2015, with the stride of each downsampling bottleneck in its 3x3 convolution, as
torchvision has it), input 3x224x224, 1000 logits:
    conv 7x7/2 pad 3 64, BN, ReLU -> max-pool 3/2 pad 1 -> 4 stages of bottlenecks [3, 4, 6, 3], widths
    64, 128, 256, 512, expansion 4, stride 1, 2, 2, 2 -> global average pool -> FC 2048 -> 1000.
    Bottleneck: conv 1x1, BN, ReLU, conv 3x3 (the stride) pad 1, BN, ReLU, conv 1x1 (x4), BN, plus the
    shortcut (identity, or conv 1x1 with the stride + BN where the shape changes), then ReLU. Convolutions have
    no bias. 25,557,032 parameters (torchvision's figure), 4,089,184,256 multiply-adds per image (torchvision:
    4.09 GFLOPS, which are multiply-adds). Keras's `applications.ResNet50` is v1 (stride in the first 1x1,
    biased convolutions, 25,636,712 parameters): a different model. The stem max-pool pads zeros after a ReLU:
    the same as PyTorch's -inf padding.

ResNet v2 (He et al. 2016, pre-activation), exactly as keras.applications' `resnet_v2` (include_top=False):
    ZeroPadding 3, conv 7x7/2 64 (biased) -> ZeroPadding 1, max-pool 3/2 -> stacks of pre-activation
    bottlenecks -> BN, ReLU. Unit: BN, ReLU (the "pre-activation", which also feeds a projection shortcut);
    conv 1x1 (no bias), BN, ReLU; ZeroPadding 1, conv 3x3 with the unit's stride (no bias), BN, ReLU; conv 1x1
    to 4x width (biased); plus the shortcut: conv 1x1 of the pre-activation (biased) in each stack's first
    unit, else the input, through a 1x1 max-pool with the stride where the unit strides. The stride is in the
    last unit of each stack (2, 2, 2, 1). BatchNorm epsilon 1.001e-5 and Keras's momentum 0.99, as there.
    The stem pool pads zeros before a max-pool with no ReLU in between, as Keras does: PyTorch gets the same
    explicit zero padding.
"""

from __future__ import annotations

from .graph import Act, BatchNorm, Conv, Dense, GlobalAvgPool, Pad, Parallel, Pool, Residual


def _conv_bn(out: int, kernel: int, stride: int = 1, padding: int = 0) -> tuple:
    return Conv(out, kernel, padding=padding, stride=stride, bias=False), BatchNorm()


def bottleneck_v1(width: int, stride: int, project: bool) -> tuple:
    body = (*_conv_bn(width, 1), Act(), *_conv_bn(width, 3, stride, 1), Act(), *_conv_bn(4 * width, 1))
    shortcut = _conv_bn(4 * width, 1, stride) if project else ()
    return Residual(*body, shortcut=shortcut), Act()


def resnet_v1_5(blocks: tuple[int, ...], classes: int = 1000) -> tuple:
    nodes: list = [*_conv_bn(64, 7, 2, 3), Act(), Pad(1), Pool(3, 2)]
    in_channels = 64
    for stage, (n, width) in enumerate(zip(blocks, (64, 128, 256, 512))):
        for i in range(n):
            stride = 2 if stage > 0 and i == 0 else 1
            nodes += bottleneck_v1(width, stride, project=i == 0 and (stride != 1 or in_channels != 4 * width))
            in_channels = 4 * width
    return (*nodes, GlobalAvgPool(), Dense(classes))


RESNET50 = resnet_v1_5((3, 4, 6, 3))

_V2_BN = BatchNorm(eps=1.001e-5, momentum=0.01)  # Keras's BatchNormalization(epsilon=1.001e-5), momentum 0.99


def _unit_v2(width: int, stride: int, conv_shortcut: bool) -> tuple:
    """One pre-activation bottleneck (Keras's `block2`)."""
    body = (Conv(width, 1, bias=False), _V2_BN, Act(),
            Pad(1), Conv(width, 3, stride=stride, bias=False), _V2_BN, Act(),
            Conv(4 * width, 1))
    if conv_shortcut:  # the shortcut is taken from the pre-activation
        return _V2_BN, Act(), Residual(*body, shortcut=(Conv(4 * width, 1, stride=stride),))
    shortcut = (Pool(1, stride),) if stride > 1 else ()
    return (Residual(_V2_BN, Act(), *body, shortcut=shortcut),)


def resnet_v2_base(blocks: tuple[int, ...]) -> tuple:
    """The convolutional base of Keras's ResNetV2 with stacks of `blocks` units: (3, 4, 6, 3) is ResNet50V2."""
    nodes: list = [Pad(3), Conv(64, 7, stride=2), Pad(1), Pool(3, 2)]
    for n, width, stride in zip(blocks, (64, 128, 256, 512), (2, 2, 2, 1)):
        for i in range(n):
            nodes += _unit_v2(width, stride if i == n - 1 else 1, conv_shortcut=i == 0)
    return (*nodes, _V2_BN, Act())


RESNET50V2_BASE = resnet_v2_base((3, 4, 6, 3))
RESNET152V2_BASE = resnet_v2_base((3, 8, 36, 3))
