"""The TensorFlow CIFAR-10 tutorial model (tensorflow/models `tutorials/image/cifar10/cifar10.py`).

Input 3x24x24 (the tutorial's crops), 10 logits:
    conv 5x5 SAME 64, ReLU -> max-pool 3x3/2 SAME -> LRN -> conv 5x5 SAME 64, ReLU -> LRN -> max-pool 3x3/2 SAME
    (64x6x6 = 2304) -> FC 384, ReLU -> FC 192, ReLU -> FC 10.
LRN: depth radius 4, bias 1.0, alpha 0.001/9, beta 0.75 (TensorFlow's parameters; PyTorch's
`LocalResponseNorm(size=9, alpha=0.001, beta=0.75, k=1.0)` computes the same function, its alpha being divided
by the window size). The SAME pools (24 -> 12 -> 6) pad one row and column at the far edge: Keras uses
padding="same", PyTorch pads (0, 1, 0, 1) with -inf before `MaxPool2d(3, 2)`.

1,068,298 parameters, as the tutorial says. Multiply-adds per image by this project's convention:
2,764,800 + 14,745,600 (convolutions) + 884,736 + 73,728 + 1,920 (dense) = 18,470,784; the tutorial's
"about 19.5M multiply-add operations" is 1.03 M (5%) more, and it does not say how it counts:
the biases (about 47 K), the LRNs (about 0.17 M) and the pools (about 0.1 M) do not make up the difference.
"""

from __future__ import annotations

from .graph import Act, Dense, Flatten, LocalResponseNorm, Pool, conv_relu

_LRN = LocalResponseNorm(depth_radius=4, bias=1.0, alpha=0.001 / 9.0, beta=0.75)



def cifar_cnn(classes: int) -> tuple:
    """The tutorial's layers with `classes` logits (10 for CIFAR-10, 1000 for Downsampled ImageNet 32x32)."""
    return (
        *conv_relu(64, 5, padding=2), Pool(3, 2, padding="same"), _LRN,
        *conv_relu(64, 5, padding=2), _LRN, Pool(3, 2, padding="same"),
        Flatten(),
        Dense(384), Act(),
        Dense(192), Act(),
        Dense(classes),
    )


CIFAR10_CNN = cifar_cnn(10)
# The same network on Imagenet32's 1000 classes (its 24x24 crops of 32x32 images): only the last layer
# differs, 192 x 1000 + 1000 parameters instead of 192 x 10 + 10 (1,259,368 in all).
CIFAR10_CNN_1000 = cifar_cnn(1000)
