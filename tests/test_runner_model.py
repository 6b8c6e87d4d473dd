"""LeNet-5 is the same model in both frameworks: same layers, same parameter count, FLOPs from its shapes."""

from __future__ import annotations

import subprocess
import sys

import pytest

from dlbench.runner import models

CLASSIC_LENET5_PARAMETERS = 61_706  # 156 + 2,416 + 48,120 + 10,164 + 850
LENET5_FORWARD_FLOPS = 2 * 416_520  # multiply-adds: 117,600 + 240,000 + 48,000 + 10,080 + 840


def test_cost_from_layer_shapes():
    cost = models.model_cost("lenet5")
    assert cost.parameters == CLASSIC_LENET5_PARAMETERS
    assert cost.multiply_adds == 416_520 and cost.flops == LENET5_FORWARD_FLOPS


def test_torch_model_matches_the_spec_and_flop_counter():
    torch = pytest.importorskip("torch")
    from torch.utils.flop_counter import FlopCounterMode

    net = models.build("lenet5", "torch")
    assert sum(p.numel() for p in net.parameters() if p.requires_grad) == CLASSIC_LENET5_PARAMETERS
    with FlopCounterMode(display=False) as counter:
        out = net(torch.zeros(1, 1, 28, 28))
    assert tuple(out.shape) == (1, 10)
    assert counter.get_total_flops() == LENET5_FORWARD_FLOPS  # PyTorch's own count agrees with ours


def test_keras_model_has_the_same_layers_and_parameter_count():
    # In a child process: TensorFlow and PyTorch are not loaded into one test process.
    code = """
import os; os.environ["TF_CPP_MIN_LOG_LEVEL"] = "2"
from dlbench.runner import models
net = models.build("lenet5", "tensorflow")
print(net.count_params())
print(sum(int(w.numpy().size) for w in net.trainable_weights))
print(";".join(f"{type(l).__name__}{tuple(l.output.shape[1:])}" for l in net.layers))
"""
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    total, trainable, shapes = done.stdout.split("\n")[:3]
    assert int(total) == int(trainable) == CLASSIC_LENET5_PARAMETERS
    assert shapes == ("Conv2D(28, 28, 6);MaxPooling2D(14, 14, 6);Conv2D(10, 10, 16);MaxPooling2D(5, 5, 16);"
                      "Flatten(400,);Dense(120,);Dense(84,);Dense(10,)")
