"""Progress on stderr while training: tqdm bars for epochs and steps with a running loss, only on a terminal.

When stderr is not a terminal nothing is shown and the training loop makes no progress calls at all. On a
terminal the step bar and loss are refreshed every `every` steps; reading the loss then waits for the device,
so the refresh is that rare on purpose (no synchronization per step).
"""

from __future__ import annotations

import os
import sys
from typing import Any, TextIO

from .backends.base import Progress

DEFAULT_EVERY = 10


class BarProgress(Progress):
    """An epoch bar and a step bar (tqdm) with the running loss and the last test accuracy."""

    def __init__(self, stream: TextIO, every: int = DEFAULT_EVERY):
        self.every = every
        self._stream = stream
        self._epochs = self._steps = None
        self._steps_per_epoch = 0

    def start(self, label: str, epochs: int, steps: int) -> None:
        from tqdm import tqdm

        self.close()
        self._steps_per_epoch = steps
        width = _width(self._stream)
        self._epochs = tqdm(total=epochs, desc=f"{label} epochs".strip(), unit="epoch", file=self._stream,
                            position=0, **width)
        self._steps = tqdm(total=steps, desc="steps", unit="step", file=self._stream, position=1, leave=False,
                           **width)

    def advance(self, steps: int, loss: float) -> None:
        self._steps.update(steps)
        self._steps.set_postfix(loss=f"{loss:.4f}", refresh=False)

    def epoch_done(self, loss: float, accuracy: float) -> None:
        self._epochs.update(1)
        self._epochs.set_postfix(loss=f"{loss:.4f}", test_acc=f"{accuracy:.4f}")
        self._steps.reset(total=self._steps_per_epoch)

    def close(self) -> None:
        for bar in (self._steps, self._epochs):
            if bar is not None:
                bar.close()
        self._epochs = self._steps = None


def _width(stream: TextIO) -> dict[str, Any]:
    """Follow the terminal's size; a terminal that reports none (0 x 0, as a bare pseudo-terminal does) gets
    100 x 24, or tqdm would hide the bars."""
    try:
        size = os.get_terminal_size(stream.fileno())
    except (AttributeError, OSError, ValueError):
        size = os.terminal_size((0, 0))
    return {"dynamic_ncols": True} if size.columns and size.lines else {"ncols": 100, "nrows": 24}


def for_stream(stream: TextIO = sys.stderr) -> Progress:
    """Bars when `stream` is a terminal, silence (the base Progress, `every` = 0) otherwise."""
    try:
        tty = stream.isatty()
    except (AttributeError, ValueError):
        tty = False
    return BarProgress(stream) if tty else Progress()
