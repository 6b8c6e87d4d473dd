"""The train scenario's input pipeline on the device: the plan from a dataset's images to a workload's input
(resize, 3 channels, crops, flip, contrast, per-image standardization), the same function in PyTorch and
TensorFlow, training with it, and the LeNet-5 workloads left exactly as they were (float images stored, no plan).
TensorFlow runs in a subprocess (as in test_runner_model.py), PyTorch here."""

from __future__ import annotations

import json
import subprocess
import sys
from types import SimpleNamespace

import numpy as np
import pytest

from conftest import REPO
from dlbench.runner import workloads
from dlbench.runner.workloads.base import InputSpec, Preprocess, plan

torch = pytest.importorskip("torch")

CIFAR = Preprocess(crop=24, flip=True, contrast=(0.2, 1.8), standardize=True)


def _images(seed: int = 0) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    return {"rgb": rng.integers(0, 256, (6, 32, 32, 3), dtype=np.uint8),
            "grey": rng.integers(0, 256, (6, 28, 28), dtype=np.uint8)}


def test_plan_follows_from_the_images_and_the_input():
    assert plan((1, 28, 28), InputSpec()).identity  # LeNet-5: only the conversion to [0, 1]
    thesis = plan((1, 28, 28), workloads.get("mnist-xception-resnet50v2").input)
    assert (thesis.resize, thesis.channels, thesis.output) == ((71, 71), 3, (3, 71, 71))
    assert plan((1, 28, 28), workloads.get("fashion-mnist-vgg19-gap").input).output == (3, 32, 32)
    cifar = plan((3, 32, 32), workloads.get("cifar10-cnn").input, workloads.get("cifar10-cnn").preprocess)
    assert (cifar.crop, cifar.flip, cifar.standardize, cifar.resize) == (24, True, True, None)
    assert cifar.output == (3, 24, 24)
    with pytest.raises(ValueError, match="3 channels cannot become the model's 1"):
        plan((3, 32, 32), InputSpec())
    with pytest.raises(ValueError, match="a 40x40 crop does not fit images of 32x32"):
        plan((3, 32, 32), InputSpec("image", (3, 40, 40)), Preprocess(crop=40))


def _torch_backend():
    from dlbench.runner.backends.base import DeviceRequest
    from dlbench.runner.backends.torch import TorchBackend

    backend = TorchBackend()
    backend.select_device(DeviceRequest("cpu"))
    return backend


def _torch_eval(images: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """The evaluation transform of each case in PyTorch, as NHWC arrays."""
    backend = _torch_backend()
    cifar = plan((3, 32, 32), InputSpec("image", (3, 24, 24)), CIFAR)
    resize = plan((1, 28, 28), InputSpec("image", (3, 71, 71)))
    return {"cifar": backend.transform(torch.from_numpy(images["rgb"]).permute(0, 3, 1, 2), cifar, False, None)
            .permute(0, 2, 3, 1).numpy(),
            "resize": backend.transform(torch.from_numpy(images["grey"]).unsqueeze(1), resize, False, None)
            .permute(0, 2, 3, 1).numpy()}


TENSORFLOW = r"""
import json, os, sys
os.environ["TF_CPP_MIN_LOG_LEVEL"] = "2"
sys.path.insert(0, sys.argv[1])
import numpy as np, tensorflow as tf
from types import SimpleNamespace
from dlbench.runner.backends.base import DeviceRequest, Progress
from dlbench.runner.backends.tensorflow import TensorFlowBackend
from dlbench.runner.workloads.base import InputSpec, Preprocess, plan
rng = np.random.default_rng(0)
rgb = rng.integers(0, 256, (6, 32, 32, 3), dtype=np.uint8)
grey = rng.integers(0, 256, (6, 28, 28), dtype=np.uint8)
cifar = plan((3, 32, 32), InputSpec("image", (3, 24, 24)), Preprocess(crop=24, flip=True, contrast=(0.2, 1.8),
                                                                      standardize=True))
resize = plan((1, 28, 28), InputSpec("image", (3, 71, 71)))
T = TensorFlowBackend.transform
out = {"cifar": T(tf.constant(rgb), cifar, False).numpy().tolist(),
       "resize": T(tf.constant(grey[..., None]), resize, False).numpy().tolist(),
       "reference": tf.image.per_image_standardization(tf.cast(rgb[:, 4:28, 4:28, :], tf.float32)).numpy().tolist()}
train = T(tf.constant(rgb), cifar, True, tf.constant([3, 1], tf.int64)).numpy()
out["train"] = [list(train.shape), float(train.mean()), float(train.std(axis=(1, 2, 3)).mean())]
# One epoch of the CIFAR-10 model on 64 random images through the plan, then an evaluation.
backend = TensorFlowBackend()
backend.select_device(DeviceRequest("cpu"))
arrays = SimpleNamespace(train_x=rng.integers(0, 256, (64, 32, 32, 3), dtype=np.uint8),
                         train_y=rng.integers(0, 10, 64), test_x=rgb, test_y=np.arange(6) % 10)
data = backend.to_device(arrays, cifar)
state = backend.build("cifar10-cnn", 0.1, 0, optimizer="sgd")
loss = backend.scalar(backend.train_epoch(state, data, 32, 0, Progress()))
out["epoch"] = [str(data.train_x.dtype.name), list(data.train_x.shape), loss, backend.evaluate(state.model, data, 4)]
lenet = backend.to_device(SimpleNamespace(train_x=grey, train_y=np.arange(6), test_x=grey, test_y=np.arange(6)))
out["lenet"] = [lenet.plan is None, str(lenet.train_x.dtype.name), list(lenet.train_x.shape)]
print("RESULT " + json.dumps(out))
"""


@pytest.fixture(scope="module")
def tensorflow_side():
    done = subprocess.run([sys.executable, "-c", TENSORFLOW, str(REPO)], capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr
    line = next(line for line in done.stdout.splitlines() if line.startswith("RESULT "))
    return json.loads(line[len("RESULT "):])


def test_both_frameworks_compute_the_same_evaluation_input(tensorflow_side):
    mine = _torch_eval(_images())
    for case in ("cifar", "resize"):
        theirs = np.asarray(tensorflow_side[case], dtype=np.float32)
        assert mine[case].shape == theirs.shape
        np.testing.assert_allclose(mine[case], theirs, atol=1e-5)
    # per-image standardization of the central crop is TensorFlow's own op
    np.testing.assert_allclose(mine["cifar"], np.asarray(tensorflow_side["reference"]), atol=1e-5)
    assert mine["resize"].shape == (6, 71, 71, 3)
    assert np.array_equal(mine["resize"][..., 0], mine["resize"][..., 2])  # grey replicated to 3 channels


def test_training_batches_are_random_crops_standardized(tensorflow_side):
    backend = _torch_backend()
    cifar = plan((3, 32, 32), InputSpec("image", (3, 24, 24)), CIFAR)
    x = torch.from_numpy(_images()["rgb"]).permute(0, 3, 1, 2)
    one = backend.transform(x, cifar, True, torch.Generator().manual_seed(1))
    again = backend.transform(x, cifar, True, torch.Generator().manual_seed(1))
    other = backend.transform(x, cifar, True, torch.Generator().manual_seed(2))
    assert one.shape == (6, 3, 24, 24) and torch.equal(one, again) and not torch.equal(one, other)
    assert abs(float(one.mean())) < 1e-4 and torch.allclose(one.std(dim=(1, 2, 3), correction=0), torch.ones(6),
                                                             atol=1e-3)
    shape, mean, std = tensorflow_side["train"]
    assert shape == [6, 24, 24, 3] and abs(mean) < 1e-4 and abs(std - 1) < 1e-3


def test_training_through_the_plan_in_both_frameworks(tensorflow_side):
    from dlbench.runner.backends.base import Progress

    backend = _torch_backend()
    cifar = plan((3, 32, 32), InputSpec("image", (3, 24, 24)), CIFAR)
    rng = np.random.default_rng(0)
    arrays = SimpleNamespace(train_x=rng.integers(0, 256, (64, 32, 32, 3), dtype=np.uint8),
                             train_y=rng.integers(0, 10, 64), test_x=_images()["rgb"], test_y=np.arange(6) % 10)
    data = backend.to_device(arrays, cifar)
    assert data.train_x.dtype == torch.uint8 and tuple(data.train_x.shape) == (64, 3, 32, 32)  # stored as is
    state = backend.build("cifar10-cnn", 0.1, 0, optimizer="sgd")
    assert isinstance(state.optimizer, torch.optim.SGD)
    loss = backend.scalar(backend.train_epoch(state, data, 32, 0, Progress()))
    assert 0 < loss < 10 and 0 <= backend.evaluate(state.model, data, 4) <= 1
    kind, shape, tf_loss, tf_accuracy = tensorflow_side["epoch"]
    assert (kind, shape) == ("uint8", [64, 32, 32, 3]) and 0 < tf_loss < 10 and 0 <= tf_accuracy <= 1


def test_lenet5_data_are_stored_as_before(tensorflow_side):
    backend = _torch_backend()
    grey = _images()["grey"]
    data = backend.to_device(SimpleNamespace(train_x=grey, train_y=np.arange(6), test_x=grey, test_y=np.arange(6)))
    assert data.plan is None and data.train_x.dtype == torch.float32 and tuple(data.train_x.shape) == (6, 1, 28, 28)
    assert torch.equal(data.train_x, torch.from_numpy(grey).unsqueeze(1).float() / 255.0)
    assert tensorflow_side["lenet"] == [True, "float32", [6, 28, 28, 1]]
    scenario_plan = _plan_of(workloads.get("fashion-mnist-lenet5"), grey)
    assert scenario_plan is None


def _plan_of(workload, images):
    from dlbench.runner.scenarios import TrainingScenario

    scenario = TrainingScenario(None, workload, 1, 512, lambda name: None)
    return scenario.plan_for(SimpleNamespace(train_x=images))
