#!/usr/bin/env python3
"""Benchmark: the prediction tool on this checkout's dataset (or --data).

Measures, each --repeats times (default 3), printing every time, the best and the median:

  (a) `tools/predict.py --evaluate` as a user runs it (a subprocess, interpreter start-up and reading the whole
      API included): the leave-one-device-out evaluation of every method; target <= 60 s;
  (b) `Predictor.fit(rows, catalogue)` in-process on every row of the API (what `tools/versus.py` does once
      per command; the rows already read); target <= 1.5 s;
  (c) `Predictor.predict_many` of one device (--device, default the RTX 5090) on every workload of the dataset
      (the fit of every method without that device included); no target, for the record;
  (d) `tools/predict.py --device D --workload W` (a subprocess), for the record;
  (e) `Predictor.fit` then `predict_many` of two devices (--device and --other) on every workload: what
      `tools/versus.py` does for a comparison with predictions; for the record.

Exit status 0 when both targets are met (on the medians), 1 when one is missed or a command fails, 2 a usage
error. The machine it runs on matters: the targets are for the project's 2-core machine.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
EVALUATE_S = 60.0
FIT_S = 1.5


def _command(args: list[str]) -> float:
    start = time.perf_counter()
    r = subprocess.run([sys.executable, str(REPO / "tools" / "predict.py"), *args], capture_output=True, text=True)
    elapsed = time.perf_counter() - start
    if r.returncode != 0:
        sys.exit(f"predict.py {' '.join(args)} failed ({r.returncode}): {r.stderr.strip()}")
    return elapsed


def _line(name: str, times: list[float], target: float | None = None) -> str:
    med = statistics.median(times)
    text = f"{name:<44} " + " ".join(f"{t:.2f}" for t in times) + f"  best {min(times):.2f} s, median {med:.2f} s"
    return text + (f" = {med / target:.2f} x the {target:g} s target" if target else "")


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--data", default=str(REPO),
                   help="repository root, data/api/v1 folder or URL (default: this checkout)")
    p.add_argument("--repeats", type=int, default=3, help="times each measurement is taken (default: 3)")
    p.add_argument("--device", default="NVIDIA RTX 5090 (cuda)", help="device label for (c) and (d)")
    p.add_argument("--other", default="NVIDIA RTX 4090 (cuda)", help="the second device label for (e)")
    p.add_argument("--workload", default="timm-infer-resnet50-224", help="workload for (d)")
    args = p.parse_args()
    if args.repeats < 1:
        p.error("--repeats must be at least 1")

    from dlbench.analysis.predict import Predictor
    from dlbench.store.api_rows import Api, load_catalogue, load_index, workload_rows

    api = Api.at(args.data)
    index = load_index(api)
    catalogue = load_catalogue(api, index)
    rows = workload_rows(api, index)
    workloads = [(w["name"], None) for w in index["workloads"]]
    print(f"dataset: {len(rows)} rows, {len(workloads)} workloads ({args.data})")

    evaluate, fit, many, one, pair = [], [], [], [], []
    answered = 0
    for _ in range(args.repeats):
        evaluate.append(_command(["--evaluate", "--data", args.data]))
        start = time.perf_counter()
        predictor = Predictor.fit(rows, catalogue)
        fit.append(time.perf_counter() - start)
        start = time.perf_counter()
        answers = predictor.predict_many(args.device, workloads)
        many.append(time.perf_counter() - start)
        answered = sum(a is not None for a in answers)
        one.append(_command(["--device", args.device, "--workload", args.workload, "--data", args.data]))
        start = time.perf_counter()
        both = Predictor.fit(rows, catalogue)
        both.predict_many(args.device, workloads)
        both.predict_many(args.other, workloads)
        pair.append(time.perf_counter() - start)
    print(_line("(a) predict.py --evaluate", evaluate, EVALUATE_S))
    print(_line("(b) Predictor.fit (all rows, in-process)", fit, FIT_S))
    print(_line(f"(c) predict_many, {len(workloads)} workloads", many) + f" ({answered} predicted)")
    print(_line("(d) predict.py --device --workload", one))
    print(_line("(e) fit + predict_many of two devices", pair))
    ok = statistics.median(evaluate) <= EVALUATE_S and statistics.median(fit) <= FIT_S
    print("targets met" if ok else "a target is MISSED")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
