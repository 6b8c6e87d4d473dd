"""The `infer` scenario: a model saved, loaded back from disk, then batch-1 latency and batched throughput.

1. Inputs, untimed: the first N images of the workload's test set (or, for a synthetic workload, N images of
   uniform random pixels from the seed) are written as N PNG files (Pillow) to a temporary folder, N =
   `--iterations` (default 100).
2. The model, freshly built with a seeded initialisation (its weights do not change the timings), is saved in
   the framework's format (untimed); `inference_load_s` times building a fresh model and reading the saved
   weights onto the device (PyTorch), or `keras.models.load_model` (TensorFlow), as the train scenario does.
3. Latency, batch 1: after `--warmup K` untimed inputs (default 10), each of the N inputs is timed from before
   reading its PNG file to after the device has finished: read and decode the file (Pillow, to a uint8 array),
   copy it to the device, make it the model's input there (to float in [0, 1], plus the workload's resize or
   central crop), the forward pass with the predicted class (inference mode; autocast for fp16/bf16; the traced
   function in TensorFlow), and a device synchronization. `latency_p50_ms`, `latency_p95_ms`, `latency_p99_ms`
   are percentiles of the N latencies (linear interpolation; p99 means little below 100 inputs); the result's
   `iteration_stats.latency_ms` summarizes them (median = p50, p95, min, max, IQR, count).
4. Throughput at the batch size: a batch made of the decoded inputs (repeated to fill it) is put on the
   device once, then K untimed and N timed forward passes; the device is synchronized at both ends of the timed
   loop only. `throughput_samples_per_s` = batch x N / that time; `achieved_flops_per_s` = the model's forward
   FLOPs per sample x the throughput. Where each pass can be timed without synchronizing the device (CUDA
   events on NVIDIA and AMD GPUs in PyTorch; the clock on a CPU), `iteration_stats.batch_ms` summarizes the
   passes; on other devices (MPS, TensorFlow on a GPU) it is left out rather than add synchronizations.
`total_s` is the wall time of the whole repeat (files, model, both loops).
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path
from typing import Any, Callable

from ..backends.base import Backend, Progress
from ..workloads.base import Workload, plan
from .base import (IterationScenario, Measurement, big_rate, flops_per_sample, marks_or_none, measuring, ms_figure,
                   rate, s, to_ms)


class InferenceScenario(IterationScenario):
    name = "infer"

    def __init__(self, backend: Backend, workload: Workload, batch_size: int, warmup: int, iterations: int,
                 load_dataset: Callable[[str], Any] | None = None, progress: Progress | None = None,
                 clock: Callable[[], float] = time.perf_counter):
        self.backend = backend
        self.workload = workload
        self.batch_size = batch_size
        self.warmup = warmup
        self.iterations = iterations
        self.load_dataset = load_dataset
        self.progress = progress or Progress()
        self.clock = clock

    def images(self, seed: int, m: Measurement) -> Any:
        """The N input images, uint8 (N, H, W) for grey or (N, H, W, 3), from the test set or synthetic."""
        import numpy as np

        n, w = self.iterations, self.workload
        if w.synthetic:
            c, h, wd = w.input.shape
            shape = (n, h, wd) if c == 1 else (n, h, wd, c)
            return np.random.default_rng(seed).integers(0, 256, size=shape, dtype=np.uint8)
        arrays = self.load_dataset(w.dataset)
        m.dataset_sha256 = arrays.sha256
        x = arrays.test_x
        return x[np.arange(n) % len(x)]

    def run(self, seed: int, m: Measurement, label: str = "") -> Measurement:
        import numpy as np
        from PIL import Image

        backend, metrics, w = self.backend, m.metrics, self.workload
        clock, sync = self.clock, backend.synchronize
        with measuring(backend, m, clock, timed="throughput") as timer:
            images = self.images(seed, m)
            source = (1, *images.shape[1:3]) if images.ndim == 3 else (images.shape[3], *images.shape[1:3])
            steps = plan(tuple(int(d) for d in source), w.input, w.preprocess)
            mode = "L" if images.ndim == 3 else "RGB"
            with tempfile.TemporaryDirectory(prefix="dlbench-infer-") as tmp:
                files = []
                for i, image in enumerate(images):
                    path = Path(tmp) / f"{i:05d}.png"
                    Image.fromarray(image).save(path, format="PNG")
                    files.append(path)

                def decode(path: Path) -> np.ndarray:
                    with Image.open(path) as im:
                        if im.mode != mode:
                            im = im.convert(mode)
                        return np.array(im)  # a writable copy: frameworks take it without a warning

                saved = backend.save(backend.fresh_model(w.model, seed), Path(tmp))
                with timer.phase("inference_load"):
                    model = backend.load(saved, w.model)
                metrics["inference_load_s"] = s(timer.last("inference_load"))
                predict = backend.predictor(model)

                for k in range(self.warmup):
                    predict(backend.model_input(decode(files[k % len(files)])[None], steps))
                sync()
                latencies = []
                for path in files:
                    start = clock()
                    predict(backend.model_input(decode(path)[None], steps))
                    sync()
                    latencies.append(clock() - start)
            m.iterations["latency_ms"] = to_ms(latencies)
            for q in (50, 95, 99):
                metrics[f"latency_p{q}_ms"] = ms_figure(m.iterations["latency_ms"], q)

            batch = backend.model_input(images[np.arange(self.batch_size) % len(images)], steps)
            for _ in range(self.warmup):
                predict(batch)
            marks = marks_or_none(backend, self.iterations, 2)
            with timer.phase("throughput", samples=self.batch_size * self.iterations):
                for i in range(self.iterations):
                    marks.mark(i, 0)
                    predict(batch)
                    marks.mark(i, 1)
            loop_s = timer.last("throughput")
            rows = marks.intervals()
            if rows is not None:
                m.iterations["batch_ms"] = to_ms([r[0] for r in rows])
            samples_per_s = self.batch_size * self.iterations / loop_s if loop_s > 0 else 0.0
            metrics["throughput_samples_per_s"] = rate(samples_per_s)
            flops = flops_per_sample(w.model)
            if flops is not None:
                metrics["achieved_flops_per_s"] = big_rate(flops * samples_per_s)
            del model, predict, batch
        return m
