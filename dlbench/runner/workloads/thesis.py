"""The Deep-Learning-Hardware-Benchmark thesis models trained on MNIST and Fashion-MNIST (`train`).

The seed ran its two thesis models on MNIST and Fashion-MNIST without saying how the 28x28 grey images were
sized; Keras needs 3 channels and at least 32x32 for VGG-19 and 71x71 for Xception. Here the images are
resized on the device, batch by batch (bilinear), to the models' input and replicated to 3 channels
(dlbench.runner.workloads.base.Preprocess; no augmentation): 3x32x32 for `vgg19-gap`, 3x71x71 for
`xception-resnet50v2` (the sizes in dlbench.runner.models.thesis). Protocol of the seed's notebooks: batch 64,
Adam at learning rate 1e-3, 100 epochs.
"""

from .base import InputSpec, Workload

_VGG = InputSpec("image", (3, 32, 32), 10)
_XR = InputSpec("image", (3, 71, 71), 10)
_DATA = {"mnist": "MNIST handwritten digits", "fashion-mnist": "Fashion-MNIST clothing images"}


def _thesis(dataset: str, model: str, input: InputSpec, what: str) -> Workload:
    return Workload(name=f"{dataset}-{model}", scenario="train", dataset=dataset, model=model,
                    description=f"{what} trained on {_DATA[dataset]} resized to {input.describe()}",
                    input=input, epochs=100, batch_size=64, optimizer="adam", learning_rate=1e-3)


WORKLOADS = (
    _thesis("mnist", "vgg19-gap", _VGG, "VGG-19 with a global-average-pooling head"),
    _thesis("fashion-mnist", "vgg19-gap", _VGG, "VGG-19 with a global-average-pooling head"),
    _thesis("mnist", "xception-resnet50v2", _XR, "Xception + ResNet50V2 concatenated"),
    _thesis("fashion-mnist", "xception-resnet50v2", _XR, "Xception + ResNet50V2 concatenated"),
)
