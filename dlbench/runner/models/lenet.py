"""LeNet-5 (LeCun et al. 1998) in its common modern form, identical in both frameworks.

    input 1x28x28 -> conv 6@5x5, padding 2 -> ReLU -> max-pool 2x2
                  -> conv 16@5x5           -> ReLU -> max-pool 2x2
                  -> flatten (16x5x5 = 400) -> dense 120 -> ReLU -> dense 84 -> ReLU -> dense 10 (logits)

61,706 trainable parameters (156 + 2,416 + 48,120 + 10,164 + 850); forward multiply-adds per sample
117,600 + 240,000 + 48,000 + 10,080 + 840 = 416,520, i.e. 833,040 FLOPs; a training step costs about 3x the
forward pass per sample.

The frameworks differ only where their defaults differ: weight initialisation (PyTorch's Kaiming-uniform,
Keras's Glorot-uniform) and memory layout (NCHW in PyTorch, NHWC in Keras, so the flattened 400 features come
in a different order). Neither changes the parameter count or the FLOPs.
"""

from __future__ import annotations

from .graph import Act, Conv, Dense, Flatten, Pool

LENET5 = (
    Conv(6, 5, padding=2), Act(), Pool(2),
    Conv(16, 5), Act(), Pool(2),
    Flatten(),
    Dense(120), Act(),
    Dense(84), Act(),
    Dense(10),
)
INPUT_SHAPE = (1, 28, 28)  # channels, height, width
NUM_CLASSES = 10
