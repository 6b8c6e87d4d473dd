"""LeNet-5 on MNIST: the seed's benchmark (40 epochs, batch 512; total / load / compute seconds and accuracy)."""

from .base import Workload

WORKLOAD = Workload(
    name="mnist-lenet5",
    scenario="train",
    dataset="mnist",
    model="lenet5",
    description="LeNet-5 (61,706 parameters) trained on MNIST handwritten digits, 60k train / 10k test images",
)
