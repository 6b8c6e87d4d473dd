"""LeNet-5 on Fashion-MNIST: the MNIST protocol on Zalando's harder drop-in replacement."""

from .base import Workload

WORKLOAD = Workload(
    name="fashion-mnist-lenet5",
    scenario="train",
    dataset="fashion-mnist",
    model="lenet5",
    description="LeNet-5 (61,706 parameters) trained on Fashion-MNIST clothing images, 60k train / 10k test images",
)
