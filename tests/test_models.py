"""The model catalogue: one description per model, the same model in PyTorch and Keras, costed exactly.

For every registered model: the parameters counted from the description equal the PyTorch model's and the
Keras model's trained parameters, at the real size; the multiply-adds counted from the description equal
torch.utils.flop_counter.FlopCounterMode's count of a batch-1 forward (on the meta device: nothing computed);
a small forward pass gives the right output shape in both frameworks. The figures the catalogue must hit
(torchvision's, the papers') are asserted explicitly.

Keras runs in one child process for the whole module (TensorFlow and PyTorch are not loaded into one test
process), started when the module's first test starts, so that it builds the Keras models while the PyTorch
tests run.
"""

from __future__ import annotations

import inspect
import json
import math
import os
import subprocess
import sys
from collections import Counter
from typing import Any

import pytest

from dlbench.runner import models
from dlbench.runner.models import counting

NAMES = list(models.MODELS)

# Figures the catalogue must reproduce exactly: trained parameters (torchvision's counts, GPT-2's, the
# TensorFlow tutorial's) and LeNet-5's FLOPs.
EXACT_PARAMETERS = {
    "lenet5": 61_706,
    "alexnet": 61_100_840,
    "vgg16": 138_357_544,
    "resnet50": 25_557_032,
    "gpt2-small": 124_439_808,
    "cifar10-cnn": 1_068_298,
}
# Published forward multiply-adds per image: torchvision's "GFLOPS" (which are MACs) and GoogLeNet's paper.
# GoogLeNet: the paper's text says "1.5 billion", its Table 1's ops column sums to 1,502 M; but that table's
# first row (34 M) does not follow from the layer it describes (a 7x7 convolution 3 -> 64 at 112x112: 118 M),
# so the reference is the table with that row computed, 1,586 M (test_googlenet_rows_follow_table_1 checks the
# other rows one by one, and that the printed total is off by exactly that row).
PUBLISHED_MACS = {"resnet50": 4.09e9, "vgg16": 15.47e9, "alexnet": 0.714e9, "googlenet": 1.586e9}


def _cifar_arrays() -> tuple[Any, list]:
    """A fixed input and fixed weights (PyTorch layouts) for the CIFAR-10 model, the same in both processes."""
    import numpy as np

    rng = np.random.default_rng(0)
    shapes = [(64, 3, 5, 5), (64,), (64, 64, 5, 5), (64,), (384, 2304), (384,), (192, 384), (192,), (10, 192), (10,)]
    x = rng.standard_normal((2, 3, 24, 24)).astype("float32")
    return x, [(rng.standard_normal(s) * 0.05).astype("float32") for s in shapes]


# The thesis models in Keras are keras.applications' bases plus these heads, weight for weight:
# (bases, trained weight shapes of the head, bases whose weights are frozen).
THESIS_HEADS = {
    "vgg19-gap": (["VGG19"], [(512, 4096), (4096,), (4096, 2048), (2048,), (2048, 10), (10,)], []),
    "xception-resnet50v2": (["Xception", "ResNet50V2"], [(1, 1, 4096, 1024), (1024,), (9216, 10), (10,)], []),
    "thesis-model-a": ([], [(3, 3, 512, 128), (128,), *[(3, 3, 128, 128), (128,)] * 3, (128, 4096), (4096,),
                            (4096, 2048), (2048,), (2048, 128), (128,), (128, 10), (10,)], ["VGG19"]),
}
# thesis-model-b is Xception + ResNet152V2 + this head. Building keras.applications.ResNet152V2 costs 7 CPU
# seconds: its counts (Keras 3.15, weights=None, include_top=False: 564 layers, the same in ours) stand in.
# ResNet152V2 is ResNet50V2's units in stacks of (3, 8, 36, 3), and ResNet50V2 is compared weight for weight.
RESNET152V2_COUNTS = (58_187_904, 143_744)  # trained, BatchNorm statistics
MODEL_B_HEAD = [(3, 3, 4096, 1024), (1024,), (1024, 1024), (1024,), (1024, 10), (10,)]

KERAS_CHILD = r'''
import gc, json, os, sys, tempfile
from typing import Any
os.environ["TF_CPP_MIN_LOG_LEVEL"] = "2"
import numpy as np
import keras
from dlbench.runner import models
from dlbench.runner.models import keras_build, transformer
THESIS = THESIS_NAMES

def size(ws):
    return sum(int(np.prod(w.shape)) for w in ws)

def shapes(ws):
    return sorted(list(map(int, w.shape)) for w in ws)

def free():
    gc.collect()  # Keras layers hold cycles: a model's memory comes back at a collection

out = {"models": {}, "applications": {}}
for name, spec in models.MODELS.items():
    net = models.build(name, "tensorflow")
    x = (np.arange(8, dtype="int32")[None] if spec.input_kind == "tokens"
         else np.zeros(spec.batch_shape("tensorflow", 1), "float32"))
    y = np.asarray(net(x, training=False))
    out["models"][name] = {"trainable": size(net.trainable_weights), "non_trainable": size(net.non_trainable_weights),
                           "output": list(y.shape), "finite": bool(np.isfinite(y).all()),
                           "sequential": isinstance(net, keras.Sequential)}
    if name in THESIS:
        out["models"][name]["shapes"] = [shapes(net.trainable_weights), shapes(net.non_trainable_weights)]
    del net, y
    free()

# keras.applications' own bases (weights=None: nothing downloaded), to compare the thesis models' weights with.
for app in ("Xception", "ResNet50V2", "VGG19"):
    ref = getattr(keras.applications, app)(weights=None, include_top=False, input_shape=(71, 71, 3))
    out["applications"][app] = [shapes(ref.trainable_weights), shapes(ref.non_trainable_weights)]
    del ref
    free()

# The CIFAR-10 model with fixed weights, for comparison with PyTorch's output.
CIFAR_ARRAYS
x, arrays = _cifar_arrays()
net = models.build("cifar10-cnn", "tensorflow")
convs = [l for l in net.layers if l.weights]
w = iter(arrays)
for layer in convs:
    kernel, bias = next(w), next(w)
    if kernel.ndim == 4:
        kernel = kernel.transpose(2, 3, 1, 0)
    elif kernel.shape[1] == 2304:  # the first dense layer after flatten: NCHW -> NHWC feature order
        kernel = kernel.reshape(-1, 64, 6, 6).transpose(2, 3, 1, 0).reshape(2304, -1)
    else:
        kernel = kernel.T
    layer.set_weights([kernel, bias])
out["cifar_logits"] = np.asarray(net(x.transpose(0, 2, 3, 1), training=False)).tolist()

# Saving and loading the custom layers (LRN, tied embedding, positions, GELU), as the backend does.
tiny_gpt = keras_build.build(transformer.gpt2(layers=1, heads=2, width=16, context=8, vocab=50), (8,), "tokens", "tiny")
loaded = {}
with tempfile.TemporaryDirectory() as tmp:
    for key, model, inp in (("cifar10-cnn", net, x.transpose(0, 2, 3, 1)),
                            ("tiny-gpt", tiny_gpt, np.arange(6, dtype="int32")[None] % 50)):
        path = os.path.join(tmp, key + ".keras")
        model.save(path)
        again = keras.models.load_model(path)
        loaded[key] = float(np.max(np.abs(np.asarray(again(inp)) - np.asarray(model(inp)))))
out["reloaded_max_difference"] = loaded
print("RESULT " + json.dumps(out))
'''.replace("CIFAR_ARRAYS", inspect.getsource(_cifar_arrays)).replace("THESIS_NAMES", repr(sorted(THESIS_HEADS)))


@pytest.fixture(scope="module", autouse=True)
def keras_child(request):
    if not any("keras_results" in getattr(item, "fixturenames", ()) for item in request.session.items
               if item.module is request.module):
        yield None  # no Keras test selected
        return
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2", "CUDA_VISIBLE_DEVICES": ""}
    proc = subprocess.Popen([sys.executable, "-c", KERAS_CHILD], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True, env=env)
    yield proc
    if proc.poll() is None:
        proc.kill()
        proc.wait()


@pytest.fixture(scope="module")
def keras_results(keras_child) -> dict:
    stdout, stderr = keras_child.communicate(timeout=900)
    assert keras_child.returncode == 0, stderr[-5000:]
    line = next(ln for ln in stdout.splitlines() if ln.startswith("RESULT "))
    return json.loads(line[len("RESULT "):])


# -- the registry ------------------------------------------------------------------------------------------
def test_importing_the_catalogue_loads_no_framework():
    code = ("import sys; import dlbench.runner.models as m; m.model_cost('gpt2-small'); "
            "print(','.join(x for x in ('torch', 'tensorflow', 'keras', 'numpy') if x in sys.modules))")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == ""


def test_required_figures():
    for name, parameters in EXACT_PARAMETERS.items():
        assert models.model_cost(name).parameters == parameters, name
    lenet = models.model_cost("lenet5")
    assert lenet.multiply_adds == 416_520 and lenet.flops == 833_040
    assert models.model_cost("alexnet").multiply_adds == 714_188_480
    assert models.model_cost("vgg16").multiply_adds == 15_470_264_320
    assert models.model_cost("resnet50").multiply_adds == 4_089_184_256
    # GPT-2 small, per 1024-token sequence: 123,532,032 matmul MACs per token, plus q k^T and a v (full T x T).
    assert models.model_cost("gpt2-small").multiply_adds == 123_532_032 * 1024 + 12 * 2 * 1024 * 1024 * 768
    assert models.model_cost("cifar10-cnn").multiply_adds == 18_470_784  # the tutorial: "about 19.5M"


@pytest.mark.parametrize("name", sorted(PUBLISHED_MACS))
def test_flops_within_3_percent_of_the_published_multiply_adds(name):
    assert models.model_cost(name).flops == pytest.approx(2 * PUBLISHED_MACS[name], rel=0.03)


def test_googlenet_rows_follow_table_1():
    from dlbench.runner.models.googlenet import GOOGLENET, TABLE1_OPS

    stages = ["conv1", "conv2", "conv2", *"3a 3b 4a 4b 4c 4d 4e 5a 5b".split(), "linear"]
    added, before = [], 0
    for k in range(1, len(GOOGLENET) + 1):         # the multiply-adds of each layer that has any, in order
        macs = counting.cost(GOOGLENET[:k], (3, 224, 224)).multiply_adds
        if macs != before:
            added.append(macs - before)
            before = macs
    assert len(added) == len(stages)
    per_stage: dict[str, int] = {}
    for stage, macs in zip(stages, added):
        per_stage[stage] = per_stage.get(stage, 0) + macs
    assert per_stage["conv1"] == 7 * 7 * 3 * 64 * 112 * 112 == 118_013_952   # the table prints 34 M
    for stage, printed in TABLE1_OPS.items():
        if stage != "conv1":
            assert per_stage[stage] == pytest.approx(printed * 1e6, rel=0.06), stage
    table_total = sum(TABLE1_OPS.values()) * 1e6
    assert table_total == 1_502e6
    assert sum(per_stage.values()) - per_stage["conv1"] == pytest.approx(table_total - 34e6, rel=0.01)
    assert models.model_cost("googlenet").multiply_adds == sum(per_stage.values()) == 1_582_671_872


@pytest.mark.parametrize("name", NAMES)
def test_spec_is_consistent(name):
    spec = models.MODELS[name]
    assert spec.name == name and spec.input_kind in ("image", "tokens")
    out = counting.output_shape(spec.layers, spec.input_shape)
    assert (1, *out) == spec.output_shape(1)
    if spec.input_kind == "image":
        c, h, w = spec.input_shape
        assert spec.batch_shape("torch", 4) == (4, c, h, w) and spec.batch_shape("tensorflow", 4) == (4, h, w, c)
    else:
        assert spec.batch_shape("torch", 2, 8) == (2, 8) and spec.input_dtype("torch") == "int64"
    published = spec.published.parameters
    assert published is None or published == models.model_cost(name).parameters


def test_frozen_parameters_are_counted_apart():
    a = models.model_cost("thesis-model-a")
    assert a.frozen_parameters == 20_024_384  # VGG-19's convolutional base, frozen as in the seed
    assert a.parameters == 10_215_306      # the trained head: four 3x3 convolutions and four dense layers


# -- PyTorch ------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("name", NAMES)
def test_torch_counts_match_flop_counter_on_meta(name):
    torch = pytest.importorskip("torch")
    from torch.utils.flop_counter import FlopCounterMode

    spec, expected = models.MODELS[name], models.model_cost(name)
    with torch.device("meta"):
        net = models.build(name, "torch")
    assert sum(p.numel() for p in net.parameters() if p.requires_grad) == expected.parameters
    assert sum(p.numel() for p in net.parameters() if not p.requires_grad) == expected.frozen_parameters
    x = torch.zeros(spec.batch_shape("torch", 1), dtype=getattr(torch, spec.input_dtype("torch")), device="meta")
    with FlopCounterMode(display=False) as counter:
        out = net.eval()(x)
    assert tuple(out.shape) == spec.output_shape(1)
    assert counter.get_total_flops() == expected.flops  # PyTorch's own count agrees with ours, to the FLOP


@pytest.mark.parametrize("name", NAMES)
def test_torch_forward(name):
    torch = pytest.importorskip("torch")
    spec = models.MODELS[name]
    torch.manual_seed(0)
    net = models.build(name, "torch").eval()
    assert sum(p.numel() for p in net.parameters() if p.requires_grad) == models.model_cost(name).parameters
    if spec.input_kind == "tokens":
        x, expected = torch.arange(8).unsqueeze(0), spec.output_shape(1, 8)
    else:
        x, expected = torch.rand(spec.batch_shape("torch", 1)), spec.output_shape(1)
    with torch.no_grad():
        out = net(x)
    assert tuple(out.shape) == expected and out.dtype == torch.float32
    assert torch.isfinite(out).all()


def test_torch_lenet5_keeps_its_module_layout():
    pytest.importorskip("torch")
    # The same nn.Sequential indices as before the catalogue: state dicts saved by earlier versions still load.
    keys = list(models.build("lenet5", "torch").state_dict())
    assert keys == [f"{i}.{p}" for i in (0, 3, 7, 9, 11) for p in ("weight", "bias")]


def test_torch_gpt2_head_is_tied():
    torch = pytest.importorskip("torch")
    with torch.device("meta"):
        net = models.build("gpt2-small", "torch")
    assert net[-1].embedding is net[0]  # the LM head reads the token embedding's table, listed once
    assert not any(k.startswith(f"{len(net) - 1}.") for k in net.state_dict())


# -- Keras --------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("name", NAMES)
def test_keras_model(keras_results, name):
    spec, expected = models.MODELS[name], models.model_cost(name)
    got = keras_results["models"][name]
    assert got["trainable"] == expected.parameters
    assert got["non_trainable"] >= expected.frozen_parameters  # plus BatchNorm's running statistics
    assert tuple(got["output"]) == (spec.output_shape(1, 8) if spec.input_kind == "tokens" else spec.output_shape(1))
    assert got["finite"]


def test_keras_lenet5_is_still_sequential(keras_results):
    assert keras_results["models"]["lenet5"]["sequential"]


@pytest.mark.parametrize("name", sorted(THESIS_HEADS))
def test_keras_thesis_models_are_keras_applications_bases_plus_the_head(keras_results, name):
    bases, head, frozen = THESIS_HEADS[name]
    apps = keras_results["applications"]
    trained, untrained = (Counter(map(tuple, ws)) for ws in keras_results["models"][name]["shapes"])
    expected_trained, expected_untrained = Counter(head), Counter()
    for app in bases:  # trained weights, and BatchNorm's statistics
        expected_trained += Counter(map(tuple, apps[app][0]))
        expected_untrained += Counter(map(tuple, apps[app][1]))
    for app in frozen:
        expected_untrained += Counter(map(tuple, apps[app][0])) + Counter(map(tuple, apps[app][1]))
    assert trained == expected_trained
    assert untrained == expected_untrained


def test_keras_thesis_model_b_is_xception_plus_resnet152v2_plus_the_head(keras_results):
    def size(shapes):
        return sum(math.prod(s) for s in shapes)

    xception = keras_results["applications"]["Xception"]
    got = keras_results["models"]["thesis-model-b"]
    assert got["trainable"] == size(xception[0]) + RESNET152V2_COUNTS[0] + size(MODEL_B_HEAD)
    assert got["non_trainable"] == size(xception[1]) + RESNET152V2_COUNTS[1]


def test_cifar10_cnn_is_the_same_function_in_both_frameworks(keras_results):
    torch = pytest.importorskip("torch")
    import numpy as np

    x, arrays = _cifar_arrays()
    net = models.build("cifar10-cnn", "torch").eval()
    params = [p for m in net.modules() if isinstance(m, (torch.nn.Conv2d, torch.nn.Linear)) for p in (m.weight, m.bias)]
    with torch.no_grad():
        for p, a in zip(params, arrays, strict=True):
            p.copy_(torch.from_numpy(a))
        ours = net(torch.from_numpy(x)).numpy()
    # LRN (alpha converted), SAME pooling (-inf padding at the far edge) and SAME convolutions agree.
    np.testing.assert_allclose(ours, np.array(keras_results["cifar_logits"]), rtol=1e-4, atol=1e-5)


def test_keras_custom_layers_save_and_load(keras_results):
    for key, difference in keras_results["reloaded_max_difference"].items():
        assert difference < 1e-6, key
