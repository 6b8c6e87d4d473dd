"""The classic ImageNet convnets of convnet-benchmarks: AlexNet, OverFeat (fast), VGG-A (VGG-11) and VGG-16.

All take 3-channel images and end in 1000 logits (the softmax is the loss's). Biased convolutions, ReLU after
every convolution and hidden dense layer, no normalization; dropout (no parameters, no FLOPs) where
torchvision and convnet-benchmarks have it.

AlexNet, "one weird trick" variant (Krizhevsky 2014, arXiv:1404.5997), as torchvision's `alexnet` and
convnet-benchmarks' torch7 definition, input 3x224x224:
    conv 11x11/4 pad 2 64 -> pool 3/2 -> conv 5x5 pad 2 192 -> pool 3/2 -> conv 3x3 pad 1 384, 256, 256
    -> pool 3/2 (256x6x6) -> dropout -> FC 9216->4096 -> dropout -> FC 4096->4096 -> FC 4096->1000
    61,100,840 parameters (torchvision's figure); 714,188,480 multiply-adds (torchvision: 0.714 GFLOPS, which
    are multiply-adds). torchvision's AdaptiveAvgPool2d((6, 6)) is the identity at 224x224 and is left out.

OverFeat "fast" (Sermanet et al. 2013), convnet-benchmarks' torch7 definition, input 3x231x231:
    conv 11x11/4 96 -> pool 2/2 -> conv 5x5 256 -> pool 2/2 -> conv 3x3 pad 1 512, 1024, 1024 -> pool 2/2
    (1024x6x6) -> dropout -> FC 36864->3072 -> dropout -> FC 3072->4096 -> FC 4096->1000
    (convnet-benchmarks uses Threshold(0, 1e-6) for the classifier's ReLUs: a ReLU here; same cost.)

VGG (Simonyan & Zisserman 2014) without batch normalization, as torchvision's `vgg11` (config A) and `vgg16`
(config D), input 3x224x224: 3x3 pad 1 convolutions, 2x2/2 max-pools, FC 25088->4096 -> dropout -> 4096 ->
dropout -> 1000. VGG-16: 138,357,544 parameters, 15,470,264,320 multiply-adds (torchvision: 15.47 GFLOPS).
torchvision's AdaptiveAvgPool2d((7, 7)) is the identity at 224x224 and is left out.
"""

from __future__ import annotations

from .graph import Act, Dense, Dropout, Flatten, Pool, conv_relu

IMAGENET_CLASSES = 1000


def _classifier(*widths: int, dropout_first: bool) -> tuple:
    """Flatten, then dense layers of `widths` (ReLU and dropout between them), then 1000 logits.

    Dropout before each hidden layer (AlexNet, OverFeat: `dropout_first`) or after it (VGG).
    """
    nodes: list = [Flatten()]
    for w in widths:
        nodes += [Dropout(0.5), Dense(w), Act()] if dropout_first else [Dense(w), Act(), Dropout(0.5)]
    return (*nodes, Dense(IMAGENET_CLASSES))


ALEXNET = (
    *conv_relu(64, 11, padding=2, stride=4), Pool(3, 2),
    *conv_relu(192, 5, padding=2), Pool(3, 2),
    *conv_relu(384, 3, padding=1), *conv_relu(256, 3, padding=1), *conv_relu(256, 3, padding=1), Pool(3, 2),
    *_classifier(4096, 4096, dropout_first=True),
)

OVERFEAT = (
    *conv_relu(96, 11, stride=4), Pool(2),
    *conv_relu(256, 5), Pool(2),
    *conv_relu(512, 3, padding=1), *conv_relu(1024, 3, padding=1), *conv_relu(1024, 3, padding=1), Pool(2),
    *_classifier(3072, 4096, dropout_first=True),
)

# VGG configurations: output channels of each 3x3 convolution, "M" a 2x2/2 max-pool.
VGG_CONFIGS = {
    "A": (64, "M", 128, "M", 256, 256, "M", 512, 512, "M", 512, 512, "M"),
    "D": (64, 64, "M", 128, 128, "M", 256, 256, 256, "M", 512, 512, 512, "M", 512, 512, 512, "M"),
    "E": (64, 64, "M", 128, 128, "M", 256, 256, 256, 256, "M", 512, 512, 512, 512, "M", 512, 512, 512, 512, "M"),
}


def vgg_features(config: str) -> tuple:
    """The convolutional base of a VGG configuration (no batch normalization)."""
    nodes: list = []
    for item in VGG_CONFIGS[config]:
        nodes += [Pool(2)] if item == "M" else list(conv_relu(item, 3, padding=1))
    return tuple(nodes)


VGG_A = (*vgg_features("A"), *_classifier(4096, 4096, dropout_first=False))
VGG16 = (*vgg_features("D"), *_classifier(4096, 4096, dropout_first=False))
