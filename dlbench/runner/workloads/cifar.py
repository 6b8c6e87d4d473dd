"""The TensorFlow CIFAR-10 tutorial CNN trained on CIFAR-10 and on Downsampled ImageNet 32x32 (`train`).

The tutorial (tensorflow/models `tutorials/image/cifar10`, text `deep_cnn.md`): 24x24x3 crops of the 32x32
images; for training a random crop, a random left-right flip, random brightness (max delta 63) and random
contrast (0.2 to 1.8), then per-image standardization; for evaluation the central crop and per-image
standardization. Batch 128, plain SGD at learning rate 0.1 (decayed by 0.1 every 350 epochs: beyond these
runs), L2 weight decay 0.004 on the two hidden fully connected layers, and evaluation with an exponential
moving average of the weights.

What these workloads do, on the device, batch by batch (dlbench.runner.workloads.base.Preprocess): the random
crop, flip and contrast and the per-image standardization of the tutorial; the central crop and
standardization for evaluation. Random brightness is left out because it changes nothing here: it adds one
value to every pixel of the image, and the per-image standardization that follows subtracts the image's
mean (the tutorial does not clip in between). Not implemented: the weight decay (it needs to name the model's
hidden layers; it is a training-loss term, not a layer) and the moving-average evaluation. Plain SGD, learning
rate 0.1, batch 128, as the tutorial.

`cifar10-cnn`: 256 epochs by default, the tutorial's 100,000 steps of 128 images (about 86% accuracy there).
`imagenet32-cnn`: the seed Benchmark-ImageNet's "CIFAR-10 model for the 32x32 ImageNet dataset", with 1000
outputs (model `cifar10-cnn-1000`), the same crops and optimizer; 50 epochs by default, the seed's 1,000,000
steps of 64 images. Imagenet32 is never downloaded (dlbench.runner.data.imagenet32 says where to put it).
"""

from .base import InputSpec, Preprocess, Workload

_AUGMENT = Preprocess(crop=24, flip=True, contrast=(0.2, 1.8), standardize=True)

WORKLOADS = (
    Workload(name="cifar10-cnn", scenario="train", dataset="cifar-10", model="cifar10-cnn",
             description="TensorFlow CIFAR-10 tutorial CNN trained on CIFAR-10, 24x24 crops, 50k train / 10k test",
             input=InputSpec("image", (3, 24, 24), 10), epochs=256, batch_size=128, optimizer="sgd",
             learning_rate=0.1, preprocess=_AUGMENT),
    Workload(name="imagenet32-cnn", scenario="train", dataset="imagenet32", model="cifar10-cnn-1000",
             description="the CIFAR-10 tutorial CNN with 1000 outputs trained on Imagenet32, 24x24 crops, "
                         "1.28M train / 50k val",
             input=InputSpec("image", (3, 24, 24), 1000), epochs=50, batch_size=128, optimizer="sgd",
             learning_rate=0.1, preprocess=_AUGMENT),
)
