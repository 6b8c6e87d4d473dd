"""What a workload is: the scenario, the data, the model, its input and the defaults of one benchmark.

A workload declares everything a result is compared on: how it is measured (`scenario`: train, step, infer or
peak, see dlbench.runner.scenarios), the dataset (`synthetic` where the input is generated on the device), the
model (a name of dlbench.runner.models), the model's input (`InputSpec`: images (C, H, W) as the model takes
them, or token ids (T,), and the classes or vocabulary), how dataset images become that input (`Preprocess`,
run on the device, see `plan`), the optimizer and the defaults of batch, epochs, warm-up and iterations.

Nothing here imports numpy or a framework: `runners/run.py --list` and usage errors answer at once.
"""

from __future__ import annotations

from dataclasses import dataclass, field

SCENARIOS = ("train", "step", "infer", "peak")
OPTIMIZERS = ("adam", "sgd", "nadam")


@dataclass(frozen=True)
class InputSpec:
    """The model's input, per sample: kind "image" with shape (C, H, W) (float32; the frameworks' layouts
    are NCHW in PyTorch and NHWC in Keras), or kind "tokens" with shape (T,) (integer ids < classes).
    `classes`: the classes of the logits, or the vocabulary of a language model."""

    kind: str = "image"
    shape: tuple[int, ...] = (1, 28, 28)
    classes: int = 10

    @property
    def tokens(self) -> bool:
        return self.kind == "tokens"

    def batch_shape(self, framework: str, batch: int) -> tuple[int, ...]:
        """The shape of a batch for `framework`: NCHW (torch), NHWC (tensorflow), or (N, T) for tokens."""
        if self.tokens:
            return (batch, *self.shape)
        c, h, w = self.shape
        return (batch, c, h, w) if framework == "torch" else (batch, h, w, c)

    def describe(self) -> str:
        if self.tokens:
            return f"{self.shape[0]} tokens, vocabulary {self.classes:,}"
        return "x".join(str(d) for d in self.shape)


@dataclass(frozen=True)
class Preprocess:
    """How a dataset's uint8 images become the model's input, on the device, batch by batch.

    `crop`: a random `crop` x `crop` window per image for training, the central one for evaluation and
    inference. `flip`: a random left-right flip per training image. `contrast`: a random contrast factor per
    training image, uniform in [low, high] (tf.image.random_contrast: deviations from each channel's mean
    scaled). `standardize`: per-image standardization, tf.image.per_image_standardization's (x - mean) /
    max(std, 1 / sqrt(pixels x channels)) over the image's pixel values 0..255. Resizing (bilinear, half-pixel
    centres, no antialiasing: PyTorch `interpolate(align_corners=False)` = TensorFlow `image.resize`) and the
    replication of grey images to 3 channels follow from the dataset's image shape and the workload's input
    (`plan`). Without any of these the images are floats in [0, 1].
    """

    crop: int | None = None
    flip: bool = False
    contrast: tuple[float, float] | None = None
    standardize: bool = False


@dataclass(frozen=True)
class Plan:
    """The device-side steps from stored images (C, H, W) to the model's input, in this order: to float
    (x / 255, or 0..255 when standardizing), crop (+ flip, contrast for training), standardize, resize,
    replicate channels."""

    source: tuple[int, int, int]
    crop: int | None = None
    flip: bool = False
    contrast: tuple[float, float] | None = None
    standardize: bool = False
    resize: tuple[int, int] | None = None
    channels: int | None = None   # replicate the single grey channel to this many

    @property
    def identity(self) -> bool:
        """Only the conversion to float in [0, 1]: the data can be stored converted, as the LeNet-5 workloads do."""
        return not (self.crop or self.flip or self.contrast or self.standardize or self.resize or self.channels)

    @property
    def output(self) -> tuple[int, int, int]:
        c, h, w = self.source
        if self.crop:
            h = w = self.crop
        if self.resize:
            h, w = self.resize
        return (self.channels or c, h, w)


def plan(source: tuple[int, int, int], input: InputSpec, preprocess: Preprocess = Preprocess()) -> Plan:
    """The steps that turn stored images of shape `source` (C, H, W) into `input`; ValueError when they cannot."""
    c, h, w = source
    want_c, want_h, want_w = input.shape
    if c != want_c and not (c == 1 and want_c == 3):
        raise ValueError(f"images of {c} channels cannot become the model's {want_c}")
    crop = preprocess.crop
    if crop is not None and (crop > h or crop > w):
        raise ValueError(f"a {crop}x{crop} crop does not fit images of {h}x{w}")
    ch, cw = (crop, crop) if crop else (h, w)
    return Plan(source=source, crop=crop, flip=preprocess.flip, contrast=preprocess.contrast,
                standardize=preprocess.standardize, resize=None if (ch, cw) == (want_h, want_w) else (want_h, want_w),
                channels=want_c if c != want_c else None)


@dataclass(frozen=True)
class Workload:
    """One benchmark configuration that results of different machines are compared on.

    `version` is recorded as the result's `benchmark_version`: bump it whenever a change to the model, the data
    pipeline or the measurement makes new results incomparable with older ones.
    """

    name: str               # benchmark id, e.g. "mnist-lenet5"
    dataset: str            # dataset name understood by dlbench.runner.data.datasets.load, or "synthetic"
    model: str | None       # model name in dlbench.runner.models.MODELS (None: the peak scenario runs none)
    description: str
    scenario: str = "train"
    input: InputSpec = field(default_factory=InputSpec)
    version: int = 1
    epochs: int = 40        # train: the seeds' protocol, 40 epochs of batch 512
    batch_size: int = 512
    learning_rate: float = 1e-3
    optimizer: str = "adam"
    momentum: float = 0.0   # sgd only
    warmup: int = 0         # step / infer / peak: untimed iterations before the timed ones
    iterations: int = 0     # step: timed steps; infer: timed single inputs and batches; peak: timed operations
    preprocess: Preprocess = field(default_factory=Preprocess)
    from_files: bool = False  # infer: single inputs decoded from PNG files

    def __post_init__(self) -> None:
        if self.scenario not in SCENARIOS:
            raise ValueError(f"{self.name}: unknown scenario {self.scenario!r}")
        if self.optimizer not in OPTIMIZERS:
            raise ValueError(f"{self.name}: unknown optimizer {self.optimizer!r}")

    @property
    def synthetic(self) -> bool:
        return self.dataset == "synthetic"
