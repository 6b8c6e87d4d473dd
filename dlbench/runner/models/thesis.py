"""The models of the seed Deep-Learning-Hardware-Benchmark (layo02), for MNIST / Fashion-MNIST with 10 classes,
the 28x28 grey images resized and replicated to 3 channels.

Two versions of each: the catalogue's reading of the seed's citations, and the seed's own code.

`vgg19-gap` and `xception-resnet50v2`, from the papers the seed's README names:
- `vgg19-gap`: VGG-19's convolutional base (config E, no batch normalization) -> global average pooling ->
  FC 4096, ReLU -> FC 2048, ReLU -> FC 10 (after Deitsch et al. 2019, arXiv:1807.02894). The head is
  UNCONFIRMED: the paper's exact head was not checked, and the seed's code has a different one (below).
  Input 3x32x32: the seed's own size for MNIST, and the smallest Keras's VGG19 accepts.
- `xception-resnet50v2`: Rahimzadeh & Attar 2020 (code: mr7495/covid19): Xception and ResNet50V2 (Keras
  applications' architectures, include_top=False) on one shared input, their final feature maps concatenated
  along channels, conv 1x1 to 1024 (biased, no activation), flatten, dropout 0.5, FC 10. Input 3x71x71, the
  smallest Keras's `Xception` accepts for a given input shape: both bases then end at 3x3x2048 (the paper
  used 300x300, 10x10).

`thesis-model-a` and `thesis-model-b`, as the seed's `utils/models.py` builds them (Model A and Model B; both
notebooks resize MNIST to 32x32x3, batch 64, 100 epochs, Adam 1e-3):
- `thesis-model-a`: VGG-19's convolutional base, FROZEN as in the seed (`convolution_base.trainable = False`:
  its 20,024,384 parameters are not trained and not in `parameters`), then four conv 3x3 SAME 128 + ReLU ->
  global average pooling -> FC 4096, ReLU -> dropout 0.5 -> FC 2048, ReLU -> dropout 0.5 -> FC 128, ReLU ->
  FC 10.
- `thesis-model-b`: Xception and ResNet152V2 (not ResNet50V2) on one 32x32x3 input (both end at 1x1x2048),
  concatenated -> conv 3x3 SAME 1024, ReLU -> global average pooling -> dropout 0.5 -> FC 1024, ReLU -> FC 10;
  everything trained.
The seed's L1/L2 kernel, bias and activity regularizers on the hidden FC layers are training-loss terms, not
layers, and are left out (no parameters; negligible FLOPs).

Logits everywhere: the seed's final softmax is the loss's here.
"""

from __future__ import annotations

from .convnets import vgg_features
from .graph import Act, Conv, Dense, Dropout, Flatten, Frozen, GlobalAvgPool, Parallel, conv_relu
from .resnet import RESNET50V2_BASE, RESNET152V2_BASE
from .xception import XCEPTION_BASE

CLASSES = 10
VGG19_BASE = vgg_features("E")

VGG19_GAP = (*VGG19_BASE, GlobalAvgPool(), Dense(4096), Act(), Dense(2048), Act(), Dense(CLASSES))
VGG19_GAP_INPUT = (3, 32, 32)

XCEPTION_RESNET50V2 = (
    Parallel((XCEPTION_BASE, RESNET50V2_BASE)),
    Conv(1024, 1), Flatten(), Dropout(0.5), Dense(CLASSES),
)
XCEPTION_RESNET50V2_INPUT = (3, 71, 71)

THESIS_MODEL_A = (
    Frozen(VGG19_BASE),
    *(conv_relu(128, 3, padding=1) * 4),
    GlobalAvgPool(),
    Dense(4096), Act(), Dropout(0.5),
    Dense(2048), Act(), Dropout(0.5),
    Dense(128), Act(),
    Dense(CLASSES),
)

THESIS_MODEL_B = (
    Parallel((XCEPTION_BASE, RESNET152V2_BASE)),
    *conv_relu(1024, 3, padding=1),
    GlobalAvgPool(), Dropout(0.5),
    Dense(1024), Act(),
    Dense(CLASSES),
)
THESIS_INPUT = (3, 32, 32)
