"""The `infer` workloads: a model saved, loaded back from disk, then batch-1 latency and batched throughput.

As the seeds did ("predictions were then tested against single PNG images"; "inferences were drawn from png
images loaded as NumPy arrays"), each single input starts as a PNG file: the files are written before timing,
and each latency covers reading and decoding one file (Pillow), the copy to the device, the conversion to the
model's input, the forward pass and a device synchronization (dlbench.runner.scenarios.infer). The models are
freshly built with random weights (a seeded initialisation): latency and throughput do not depend on the
weights' values. Defaults: 10 untimed warm-up inputs (and batches), then 100 timed single inputs and 100 timed
batches.

- `infer-resnet50`: ResNet-50 v1.5 on synthetic 224x224 RGB images (uniform random pixels from a fixed seed,
  written as PNG files), batch 64 for throughput;
- `infer-fashion-mnist-lenet5`: LeNet-5 on the Fashion-MNIST test images (the first N, as grey PNG files),
  batch 512 for throughput.
"""

from .base import InputSpec, Workload

WORKLOADS = (
    Workload(name="infer-resnet50", scenario="infer", dataset="synthetic", model="resnet50",
             description="ResNet-50 v1.5 inference: batch-1 latency from 224x224 PNG files, throughput at batch 64",
             input=InputSpec("image", (3, 224, 224), 1000), batch_size=64, warmup=10, iterations=100,
             from_files=True),
    Workload(name="infer-fashion-mnist-lenet5", scenario="infer", dataset="fashion-mnist", model="lenet5",
             description="LeNet-5 inference: batch-1 latency from Fashion-MNIST test-set PNG files, throughput "
                         "at batch 512",
             input=InputSpec("image", (1, 28, 28), 10), batch_size=512, warmup=10, iterations=100,
             from_files=True),
)
