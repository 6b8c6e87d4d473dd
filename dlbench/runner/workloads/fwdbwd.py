"""The `step` workloads: one training step (forward, backward, optimizer update) timed on synthetic input.

The convnet-benchmarks models at their published input sizes (soumith/convnet-benchmarks: AlexNet 128x3x224x224,
OverFeat 128x3x231x231, VGG-A 64x3x224x224, GoogLeNet 128x3x224x224; the dataset holds autumnai's Titan X rows
under these names), ResNet-50 v1.5 and VGG-16 at batch 64 (tf_cnn_benchmarks' usual per-device batch), GPT-2
small at batch 8 of 1024 tokens, and LeNet-5 at the batch 512 of the LeNet-5 training workloads (the model the
runner-against-bare-loop benchmark writes out by hand).

Protocol (dlbench.runner.scenarios.step): the input is generated on the device with a fixed seed (standard
normal images, uniform labels or token ids); 10 untimed warm-up steps, then 50 timed ones; SGD with momentum
0.9, learning rate 0.01; cross-entropy loss on the synthetic labels. Unlike convnet-benchmarks, the optimizer
update is part of the step (timed apart as `optimizer_ms`), and the first convolution's input gradient is not
computed (the input does not require one), as there.
"""

from .base import InputSpec, Workload

_IMAGENET = InputSpec("image", (3, 224, 224), 1000)


def _step(name: str, model: str, input: InputSpec, batch: int, description: str) -> Workload:
    return Workload(name=name, scenario="step", dataset="synthetic", model=model, description=description,
                    input=input, batch_size=batch, optimizer="sgd", learning_rate=0.01, momentum=0.9,
                    warmup=10, iterations=50)


WORKLOADS = (
    _step("fwdbwd-alexnet", "alexnet", _IMAGENET, 128,
          "AlexNet (one weird trick) training step, 128x3x224x224, as convnet-benchmarks"),
    _step("fwdbwd-overfeat", "overfeat", InputSpec("image", (3, 231, 231), 1000), 128,
          "OverFeat fast training step, 128x3x231x231, as convnet-benchmarks"),
    _step("fwdbwd-vgg-a", "vgg-a", _IMAGENET, 64,
          "VGG-A (VGG-11) training step, 64x3x224x224, as convnet-benchmarks"),
    _step("fwdbwd-googlenet", "googlenet", _IMAGENET, 128,
          "GoogLeNet v1 training step, 128x3x224x224, as convnet-benchmarks"),
    _step("fwdbwd-resnet50", "resnet50", _IMAGENET, 64, "ResNet-50 v1.5 training step, 64x3x224x224"),
    _step("fwdbwd-vgg16", "vgg16", _IMAGENET, 64, "VGG-16 training step, 64x3x224x224"),
    _step("fwdbwd-gpt2-small", "gpt2-small", InputSpec("tokens", (1024,), 50257), 8,
          "GPT-2 small training step, 8 sequences of 1024 tokens, vocabulary 50,257"),
    _step("fwdbwd-lenet5", "lenet5", InputSpec("image", (1, 28, 28), 10), 512,
          "LeNet-5 training step, 512x1x28x28 (the LeNet-5 workloads' model and batch)"),
)
