"""The `train` scenario: load the data, train, evaluate, then save, reload and run the model for inference.

What each metric covers (every clock read is preceded by a device synchronization, see timing.py):

- load_s: reading the dataset files (decompressing and verifying them) and copying them to the device as tensors
  (for the LeNet-5 workloads the images are converted there to float32 in [0, 1]; workloads whose images must
  be resized, cropped, standardized or given 3 channels keep them uint8 on the device and convert each batch
  there, inside the training step: dlbench.runner.workloads.base.Preprocess). A missing dataset is downloaded
  before anything is timed (dlbench.runner.run), so a download never counts.
- compute_s: training only, the sum of the epochs' `epoch_s`. An epoch is: draw a random order of the training
  set on the device, then for each batch gather it from the device tensors by a slice of that order (make it the
  model's input: random crop and flip, contrast, standardization, resize, where the workload has them), forward,
  loss, backward, optimizer step (the workload's: Adam, or SGD), and add the batch loss to a device accumulator.
  The progress bar's refresh (every 10 steps, only on a terminal) is inside it; the per-epoch test evaluation is
  not. There is no untimed warm-up (`warmup_steps = 0`): one-time costs such as TensorFlow tracing the train step,
  torch.compile or the first CUDA kernel launches land in the first epoch, and `epoch_s` shows them.
- eval_s: the test-set evaluation after the last epoch. The test evaluation after each earlier epoch (giving
  `epoch_accuracy`) is timed apart and counts in total_s only.
- inference_load_s / inference_predict_s: the trained model is saved to a temporary folder (untimed), loaded
  back (a fresh model built and the saved weights read onto the device), and run over the test set.
- total_s: wall time of the whole measurement, from before the data is read to after the inference pass:
  the phases above plus model building, per-epoch evaluations, saving and clean-up.
- throughput_samples_per_s: training samples x epochs / compute_s.

With `train_samples` / `test_samples` (`--train-samples`, `--test-samples`) only the first N training and first M
test samples, in the dataset's own order, are copied to the device, trained on, evaluated and run for inference;
every figure above then counts them, and the result records both numbers (a quick check of a workload whose
full epoch takes hours on this machine, compared only with results on the same part).
"""

from __future__ import annotations

import math
import tempfile
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Callable, Iterator, Sequence

from ..backends.base import Backend, DeviceData, Progress
from ..timing import PhaseTimer
from ..workloads.base import Workload, plan
from .base import SECONDS_DIGITS, Measurement, Scenario, measuring
from .base import s as _s


class TrainingScenario(Scenario):
    """Train `workload` with `backend` for `epochs` epochs of `batch_size`; `load_dataset(name)` gives Arrays;
    `train_samples` / `test_samples`: use only the first that many samples of each split (None: all)."""

    name = "train"

    def __init__(self, backend: Backend, workload: Workload, epochs: int, batch_size: int,
                 load_dataset: Callable[[str], Any], progress: Progress | None = None,
                 clock: Callable[[], float] = time.perf_counter, train_samples: int | None = None,
                 test_samples: int | None = None):
        self.backend = backend
        self.workload = workload
        self.epochs = epochs
        self.batch_size = batch_size
        self.load_dataset = load_dataset
        self.progress = progress or Progress()
        self.clock = clock
        self.train_samples = train_samples
        self.test_samples = test_samples

    def run(self, seed: int, m: Measurement, label: str = "") -> Measurement:
        """One full measurement into `m` (passed in so that a failure leaves its partial metrics there)."""
        backend, metrics = self.backend, m.metrics
        with self._bars(), measuring(backend, m, self.clock, timed="compute") as timer:
            with timer.phase("load"):
                arrays = self.load_dataset(self.workload.dataset)
                if self.train_samples is not None or self.test_samples is not None:
                    arrays = arrays.head(self.train_samples, self.test_samples)
                steps = self.plan_for(arrays)
                data = backend.to_device(arrays) if steps is None else backend.to_device(arrays, steps)
            metrics["load_s"] = _s(timer.last("load"))
            m.dataset_sha256, m.train_samples = arrays.sha256, data.train_samples
            del arrays

            backend.seed(seed)
            w = self.workload
            if w.optimizer == "adam":
                state = backend.build(w.model, w.learning_rate, seed)
            else:
                state = backend.build(w.model, w.learning_rate, seed, optimizer=w.optimizer, momentum=w.momentum)
            loss = self.train_and_evaluate(state, data, timer, metrics, label)
            metrics["loss"] = round(loss, SECONDS_DIGITS)
            metrics["throughput_samples_per_s"] = round(
                data.train_samples * self.epochs / timer.total("compute"), 2)

            with tempfile.TemporaryDirectory(prefix="dlbench-model-") as tmp:
                saved = backend.save(backend.model_of(state), Path(tmp))
                del state
                with timer.phase("inference_load"):
                    model = backend.load(saved, self.workload.model)
                with timer.phase("inference_predict"):
                    backend.predict(model, data, self.batch_size)
            metrics["inference_load_s"] = _s(timer.last("inference_load"))
            metrics["inference_predict_s"] = _s(timer.last("inference_predict"))
            del model, data
        return m

    @contextmanager
    def _bars(self) -> Iterator[None]:
        """The progress bars closed however the measurement ends."""
        try:
            yield
        finally:
            self.progress.close()

    def plan_for(self, arrays: Any) -> Any:
        """The device-side preprocessing of these images into the workload's input, None when it is only the
        conversion to float in [0, 1] (the data are then stored converted)."""
        x = getattr(arrays, "train_x", None)
        if x is None or not hasattr(x, "shape"):
            return None
        source = (1, *x.shape[1:3]) if len(x.shape) == 3 else (x.shape[3], x.shape[1], x.shape[2])
        steps = plan(tuple(int(d) for d in source), self.workload.input, self.workload.preprocess)
        return None if steps.identity else steps

    def counts(self, measurements: Sequence[Measurement]) -> dict[str, int]:
        out = {"epochs": self.epochs}
        samples = next((m.train_samples for m in measurements if m.train_samples), None)
        if samples:
            out["steps"] = math.ceil(samples / self.batch_size) * self.epochs
        out["warmup_steps"] = 0
        if self.train_samples is not None:
            out["train_samples"] = self.train_samples
        if self.test_samples is not None:
            out["test_samples"] = self.test_samples
        return out

    def train_and_evaluate(self, state: Any, data: DeviceData, timer: PhaseTimer, metrics: dict[str, Any],
                           label: str = "") -> float:
        """The training phase: every epoch timed as `compute`, then the test set evaluated, timed as `eval`.

        Fills compute_s, epoch_s, eval_s (the last evaluation), epoch_accuracy and accuracy; returns the last
        epoch's mean training loss.
        """
        backend = self.backend
        model = backend.model_of(state)
        self.progress.start(label, self.epochs, math.ceil(data.train_samples / self.batch_size))
        accuracies: list[float] = []
        loss = math.nan
        for epoch in range(self.epochs):
            with timer.phase("compute", samples=data.train_samples):
                epoch_loss = backend.train_epoch(state, data, self.batch_size, epoch, self.progress)
            metrics["epoch_s"] = [_s(t) for t in timer.laps["compute"]]
            metrics["compute_s"] = _s(timer.total("compute"))
            loss = backend.scalar(epoch_loss)
            with timer.phase("eval"):
                accuracies.append(backend.evaluate(model, data, self.batch_size))
            metrics["epoch_accuracy"] = [round(a, SECONDS_DIGITS) for a in accuracies]
            self.progress.epoch_done(loss, accuracies[-1])
        metrics["eval_s"] = _s(timer.last("eval"))
        metrics["accuracy"] = metrics["epoch_accuracy"][-1]
        self.progress.close()
        return loss

