"""How a workload is launched and repeated.

Here one Python process drives one device (`launcher = "process"`, `strategy = "single"`, `device_count = 1`).
Several devices (`runners/run.py --devices N`, the step and train scenarios) go through the frameworks' own
launchers and strategies, in dlbench.runner.distributed: torchrun with DistributedDataParallel (`launcher =
"torchrun"`) and tf.distribute.MirroredStrategy (`"tf-distribute"`), `strategy = "data-parallel"`,
`device_count = N`; each of their processes repeats the workload with `launch` below.
"""

from __future__ import annotations

import sys
import traceback
from dataclasses import dataclass, field

from .scenarios.base import MESSAGE_LIMIT, Measurement, Scenario, classify, failure_message

LAUNCHER = "process"
STRATEGY = "single"


@dataclass
class Outcome:
    """The repeats that completed and, when one failed, how (status "oom" or "error") and its partial metrics."""

    measurements: list[Measurement] = field(default_factory=list)
    status: str = "ok"
    message: str | None = None
    failed: Measurement | None = None


__all__ = ["LAUNCHER", "MESSAGE_LIMIT", "STRATEGY", "Outcome", "classify", "failure_message", "launch"]


def launch(scenario: Scenario, repeats: int, seed: int, not_a_result: tuple[type, ...] = ()) -> Outcome:
    """Run the scenario `repeats` times in this process, repeat i with seed `seed + i`, stopping at a failure.

    A failure inside the workload becomes the outcome (its traceback goes to stderr). Exceptions of the types in
    `not_a_result` (a missing dataset: a set-up problem, not a property of the hardware) and KeyboardInterrupt
    propagate.
    """
    outcome = Outcome()
    for i in range(repeats):
        m = Measurement(seed=seed + i)
        label = f"repeat {i + 1}/{repeats}" if repeats > 1 else ""
        try:
            scenario.run(seed + i, m, label=label)
        except not_a_result:
            raise
        except Exception as exc:
            traceback.print_exc(file=sys.stderr)
            outcome.status = classify(scenario.backend, exc)
            outcome.message = failure_message(exc)
            outcome.failed = m
            try:
                scenario.backend.release()
            except Exception:
                pass
            return outcome
        outcome.measurements.append(m)
        scenario.backend.end_repeat()
    return outcome
