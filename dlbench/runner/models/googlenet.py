"""GoogLeNet (Inception v1, Szegedy et al. 2014, arXiv:1409.4842) as convnet-benchmarks times it.

Input 3x224x224, 1000 logits. The stem: conv 7x7/2 pad 3 64 -> max-pool 3/2 -> conv 1x1 64 -> conv 3x3 pad 1
192 -> max-pool 3/2 (no local response normalization); inception 3a, 3b -> max-pool 3/2 -> 4a..4e ->
max-pool 3/2 -> 5a, 5b (1024x7x7) -> average pool 7x7 -> dropout 0.4 -> FC 1024 -> 1000. No auxiliary
classifiers. Biased convolutions with a ReLU each, no batch normalization.

Each inception module has four branches concatenated along channels, with the filter counts of the paper's
Table 1: 1x1; 1x1 reduce -> 3x3 pad 1; 1x1 reduce -> a real 5x5 pad 2; max-pool 3x3/1 -> 1x1 projection.

The max-pools are TensorFlow's SAME pools ("same" in Keras; explicit -inf padding in PyTorch): 112 -> 56 -> 28 ->
14 -> 7, and in the pool branch 3x3/1 keeps the size. For these sizes they pick the same windows as
torchvision's `MaxPool2d(3, 2, ceil_mode=True)` (the last window overhangs the far edge by one).

6,998,552 parameters, 6,990,272 of them weights (the paper's Table 1 says about 6.8 M, weights only; its
per-row figures are rounded and do not all follow from the rows' filter counts). torchvision's `googlenet`
is another model: batch-normalized bias-free convolutions and a 3x3 convolution in the "5x5" branch, 6,624,904
parameters.

1,582,671,872 multiply-adds per image. Table 1's ops column sums to 1,502 M, the "1.5 billion multiply-adds" of
the paper's text, and every row but one is within 6% of what its filter counts give (`TABLE1_OPS`; 5a is the
farthest, 54 M printed for 51.1 M). The exception is the first row: "convolution 7x7/2, 112x112x64, 2.7K
params, 34M ops" is its 2.7 K parameters times the 112 x 112 outputs, but a 7x7 convolution from 3 channels to
64 has 9,408 weights and 118 M multiply-adds, in the paper's own layer and in convnet-benchmarks' model. With
that row computed from its layer the table gives 1,586 M, and this model is 0.2% from it; against the printed
1.5 G it is 5.4% (of 1,502 M) above, and the whole difference is that row.
"""

from __future__ import annotations

from .graph import Act, Dense, Dropout, Flatten, Parallel, Pool, conv_relu

# Table 1's ops column, in millions of multiply-adds, per stage (conv2 is the 1x1 and 3x3 convolutions together).
TABLE1_OPS = {"conv1": 34, "conv2": 360, "3a": 128, "3b": 304, "4a": 73, "4b": 88, "4c": 100, "4d": 119, "4e": 170,
              "5a": 54, "5b": 71, "linear": 1}

# name: (1x1, 3x3 reduce, 3x3, 5x5 reduce, 5x5, pool projection), from Table 1 of the paper.
INCEPTION = {
    "3a": (64, 96, 128, 16, 32, 32),
    "3b": (128, 128, 192, 32, 96, 64),
    "4a": (192, 96, 208, 16, 48, 64),
    "4b": (160, 112, 224, 24, 64, 64),
    "4c": (128, 128, 256, 24, 64, 64),
    "4d": (112, 144, 288, 32, 64, 64),
    "4e": (256, 160, 320, 32, 128, 128),
    "5a": (256, 160, 320, 32, 128, 128),
    "5b": (384, 192, 384, 48, 128, 128),
}


def inception(c1: int, c3r: int, c3: int, c5r: int, c5: int, pool_proj: int) -> Parallel:
    return Parallel((
        conv_relu(c1, 1),
        (*conv_relu(c3r, 1), *conv_relu(c3, 3, padding=1)),
        (*conv_relu(c5r, 1), *conv_relu(c5, 5, padding=2)),
        (Pool(3, 1, padding="same"), *conv_relu(pool_proj, 1)),
    ))


def _pool() -> Pool:
    return Pool(3, 2, padding="same")


GOOGLENET = (
    *conv_relu(64, 7, padding=3, stride=2), _pool(),
    *conv_relu(64, 1), *conv_relu(192, 3, padding=1), _pool(),
    inception(*INCEPTION["3a"]), inception(*INCEPTION["3b"]), _pool(),
    *(inception(*INCEPTION[m]) for m in ("4a", "4b", "4c", "4d", "4e")), _pool(),
    inception(*INCEPTION["5a"]), inception(*INCEPTION["5b"]),
    Pool(7, 1, kind="avg"), Flatten(), Dropout(0.4), Dense(1000),
)
