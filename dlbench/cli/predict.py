"""`python tools/predict.py`: a device's throughput on a workload it did not run, and how good such guesses are."""

from __future__ import annotations

import argparse
import difflib
import sys
from pathlib import Path

from ..analysis.predict import ERRORS_FILE
from ..contract.atomic import write_text_atomic
from ..contract.paths import REPO_ROOT
from ..store.api_rows import Api, load_catalogue, load_index, workload_rows
from ..store.dataset import DatasetError
from .common import guarded

DESCRIPTION = """Predict the throughput of a device on a workload from what the other devices measured and the
device's catalogue entry (peak TFLOP/s at the precision, memory bandwidth), or evaluate every prediction
method by leaving one device out. Reads the JSON API (the rows the results page reads).

A prediction is for one setting of the workload (precision, framework and version, scenario, compile mode,
channels-last, device count), never pooled across settings: the one the device measured other workloads in
and most devices measured, unless --precision narrows it. It prints the predicted rate (the workload's
samples, tokens or queries per second; a system total when the setting has more than one device), the
method (the dlbench model, else the first of the ladder that can predict), and that method's measured error
on that kind of result, from the last evaluation stored (dlbench/analysis/predict_errors.json).

--evaluate holds out each device in turn (every result of it, on every host, and of the other names of its
catalogue entry), fits every method on the other devices and scores the predictions of the held-out results:
per scoreboard (GPU compute-bound, GPU overhead-bound, GPU without FLOP counts, CPUs, other accelerators), the
mean and median absolute percentage error averaged per device, the geometric error factor, the shares within
10, 15 and 25 %, pairwise order accuracy, bootstrap intervals over devices, per-device and per-workload tables
and the dataset's noise floor. docs/predict.md explains the methods and the figures.

Examples:
  python tools/predict.py --device "RTX 5090" --workload timm-infer-resnet50-224
  python tools/predict.py --device "H100 SXM5" --workload lambda-pytorch-2022-bert-large-squad --precision fp16
  python tools/predict.py --evaluate --rows-out /tmp/held-out.csv
Exit status: 0 success; 1 the dataset cannot be read, the device has neither a catalogue entry nor results,
or no method can predict it; 2 a usage error (an unknown workload, an ambiguous device: the candidates are
listed)."""


class UsageError(Exception):
    """A usage error: the message is printed, exit 2."""


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="predict.py", description=DESCRIPTION,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--data", default=None, metavar="DIR_OR_URL",
                   help="the JSON API to read: a repository root, a data/api/v1 folder or its URL (default: "
                        "this checkout's data/api/v1)")
    ask = p.add_argument_group("predict one device on one workload")
    ask.add_argument("--device", metavar="NAME",
                     help="the device: its label as the results show it ('NVIDIA RTX 5090 (cuda)'), its name, its "
                          "catalogue name, or a part of one that names a single device, any case")
    ask.add_argument("--workload", metavar="ID", help="the workload id, e.g. timm-infer-resnet50-224")
    ask.add_argument("--precision", metavar="P",
                     help="only the settings of this precision (e.g. fp32, mixed-fp16, int8; default: any)")
    ask.add_argument("--errors", type=Path, default=None, metavar="FILE",
                     help="read the methods' measured errors from this file (default: "
                          "dlbench/analysis/predict_errors.json, written by --evaluate --write-errors)")
    ev = p.add_argument_group("evaluate every method, leaving one device out")
    ev.add_argument("--evaluate", action="store_true", help="run the leave-one-device-out evaluation")
    ev.add_argument("--rows-out", type=Path, default=None, metavar="FILE",
                    help="also write every held-out result with its measured value and each method's prediction "
                         "(CSV)")
    ev.add_argument("--write-errors", type=Path, nargs="?", const=ERRORS_FILE,
                    default=None, metavar="FILE",
                    help="also store each method's errors per scoreboard, which predictions then report (default "
                         "file: dlbench/analysis/predict_errors.json of this checkout)")
    ev.add_argument("--top", type=int, default=10, metavar="N",
                    help="workloads listed per scoreboard in the table: the N with the largest dlbench error "
                         "(default 10; --format json has all)")
    p.add_argument("--format", choices=["table", "json"], default="table",
                   help="table (default: text for people) or json, to stdout")
    return p


def run(argv: list[str] | None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.evaluate and (args.device or args.workload):
        parser.error("--evaluate evaluates every device: give it without --device and --workload")
    if not args.evaluate and not (args.device and args.workload):
        parser.error("give --device and --workload (a prediction), or --evaluate")
    if not args.evaluate and (args.rows_out or args.write_errors):
        parser.error("--rows-out and --write-errors go with --evaluate")
    if args.top < 0:
        parser.error("--top must be 0 or more")
    for path in (args.rows_out, args.write_errors):
        if path is not None and not path.resolve().parent.is_dir():
            parser.error(f"{path}: the folder {path.parent} does not exist")
    try:
        api = Api.at(args.data if args.data is not None else REPO_ROOT)
        index = load_index(api)
        catalogue = load_catalogue(api, index)
        if args.evaluate:
            return _evaluate(api, index, catalogue, args)
        return _predict(api, index, catalogue, args)
    except DatasetError as exc:
        print(str(exc), file=sys.stderr)
        return 1
    except UsageError as exc:
        print(f"predict.py: {exc}", file=sys.stderr)
        return 2


def _predict(api: Api, index: dict, catalogue: dict, args) -> int:
    from ..analysis.predict import Predictor
    from ..analysis.predict_report import prediction_json, prediction_text

    names = [w["name"] for w in index["workloads"]]
    if args.workload not in names:
        close = difflib.get_close_matches(args.workload, names, n=5, cutoff=0.6)
        raise UsageError(f"--workload {args.workload!r} is not a workload of the dataset"
                         + (f"; did you mean: {', '.join(close)}" if close else
                            " (python tools/compare.py --list lists them)"))
    predictor = Predictor.fit(workload_rows(api, index), catalogue, args.errors)
    label = resolve_device(predictor.labels(), args.device)
    settings = predictor.settings(args.workload, args.precision)
    if not settings:
        have = sorted({s["precision"] for s in predictor.settings(args.workload)})
        print(f"{args.workload} has no usable results at precision {args.precision}"
              f"{'; it has: ' + ', '.join(have) if have else ''}", file=sys.stderr)
        return 1
    answer = predictor.predict(label, args.workload, args.precision)
    if answer is None:
        print(why_not(predictor, label, args.workload, args.precision), file=sys.stderr)
        return 1
    measured = predictor.measured(label, args.workload, answer["predicted_setting"])
    if args.format == "json":
        sys.stdout.write(prediction_json(label, args.workload, answer, measured))
    else:
        sys.stdout.write(prediction_text(label, args.workload, answer, measured, _stale(predictor.errors, index)))
    return 0


def _stale(errors: dict | None, index: dict) -> str | None:
    sha = ((errors or {}).get("evaluated_on") or {}).get("source_sha256")
    if sha and sha != index.get("source_sha256"):
        return ("the errors were measured on an earlier state of the dataset (rerun "
                "tools/predict.py --evaluate --write-errors)")
    return None


def resolve_device(labels: dict[str, list[str]], wanted: str) -> str:
    """The label `wanted` names: exactly (label, name or catalogue name, any case), else as a unique substring."""
    low = wanted.strip().lower()

    def names(label: str) -> list[str]:
        return [label.lower(), label.lower().rsplit(" (", 1)[0], *(a.lower() for a in labels[label])]

    exact = [lab for lab in labels if low in names(lab)]
    if len(exact) == 1:
        return exact[0]
    matches = exact or [lab for lab in labels if any(low in n for n in names(lab))]
    if len(matches) == 1:
        return matches[0]
    if matches:
        raise UsageError(f"--device {wanted!r} is ambiguous: it matches {'; '.join(sorted(matches))}: give one of "
                         "them in full")
    raise DatasetError(f"--device {wanted!r}: no device of that name has results or a catalogue entry "
                       "(catalogue/devices.toml lists the devices the catalogue knows)")


def why_not(predictor, label: str, workload: str, precision: str | None) -> str:
    """Why no method could predict the device on the workload."""
    from ..analysis.predict import PEAK_KEYS

    entry = predictor.entry_of(label)
    if entry is None:
        return (f"{label} has no catalogue entry: every method needs the device's datasheet (peak TFLOP/s at the "
                "precision and memory bandwidth); add it to catalogue/devices.toml")
    precisions = sorted({s["precision"] for s in predictor.settings(workload, precision)})
    peaks = entry.get("peak_tflops") or {}
    missing = [p for p in precisions if PEAK_KEYS.get(p) not in peaks]
    if missing and len(missing) == len(precisions):
        return (f"{label}: its catalogue entry ({entry['name']}) lists no peak at {', '.join(missing)}, the "
                f"precision(s) {workload} was measured at")
    if not entry.get("bandwidth_gb_s"):
        return f"{label}: its catalogue entry ({entry['name']}) has no memory bandwidth, which every method needs"
    return (f"{label}: no other device measured {workload}"
            f"{' at ' + precision if precision else ''} in a setting it could be predicted from")


def _evaluate(api: Api, index: dict, catalogue: dict, args) -> int:
    from ..analysis.predict_eval import evaluate
    from ..analysis.predict_report import (BOARD_TITLES, COMPARABLE, METHOD_TITLES, errors_json, evaluation_json,
                                           evaluation_text, rows_csv)

    summary, rows = evaluate(workload_rows(api, index), catalogue)
    summary["dataset"] = {"source_sha256": index.get("source_sha256"), "result_count": index.get("result_count"),
                          "catalogue_sha256": (index.get("catalogue") or {}).get("sha256")}
    summary["notes"] = {"comparable": COMPARABLE, "boards": BOARD_TITLES, "methods": METHOD_TITLES}
    if args.rows_out is not None:
        write_text_atomic(args.rows_out, rows_csv(rows))
        print(f"wrote {len(rows)} held-out results to {args.rows_out}", file=sys.stderr)
    if args.write_errors is not None:
        write_text_atomic(args.write_errors, errors_json(summary))
        print(f"wrote the errors per scoreboard to {args.write_errors}", file=sys.stderr)
    sys.stdout.write(evaluation_json(summary) if args.format == "json" else evaluation_text(summary, args.top))
    return 0


def main(argv: list[str] | None = None) -> int:
    return guarded(lambda: run(argv))


if __name__ == "__main__":
    sys.exit(main())
