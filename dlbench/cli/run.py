"""`python runners/run.py`: run a benchmark workload and write its result as one fragment."""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path

from ..contract.paths import data_dir
from ..contract.problems import display_path
from ..runner import workloads
from ..runner.backends import BACKENDS, FrameworkMissing, UsageError, parse_device
from ..runner.backends.base import DEVICE_SYNTAX
from .common import guarded

DESCRIPTION = """Run a benchmark workload on this machine and record the result as one fragment,
data/fragments/<run_id>.toml, ready to be validated and contributed. The run loads the dataset onto the
device, trains the model (timing each epoch, with the device synchronized before every clock read),
evaluates it on the test set after every epoch, saves and reloads the model for an inference pass, and
records total / load / compute / evaluation / inference times, accuracy, throughput and peak memory with
a probe of the system. Failures are results: running out of memory is recorded as status "oom", any other
error in the workload as "error" (the fragment is written and the exit status is 1). Ctrl-C writes nothing.
A progress bar is shown on stderr when it is a terminal. Exit status: 0 success, 1 the workload failed
(or nothing could be written), 2 a usage error, 130 interrupted."""

EPILOG = """examples:
  %(prog)s --list
  %(prog)s fashion-mnist-lenet5 --framework torch --epochs 1
  %(prog)s mnist-lenet5 --framework tensorflow --device cuda:1 --repeats 3"""

CONTRIBUTOR = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")


def _int(text: str) -> int:
    try:
        return int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None


def _positive(text: str) -> int:
    value = _int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, not {value}")
    return value


def _seed(text: str) -> int:
    value = _int(text)
    if not 0 <= value < 2**31 - 1024:
        raise argparse.ArgumentTypeError(f"must be between 0 and {2**31 - 1025}")
    return value


def _device(text: str):
    try:
        return parse_device(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _contributor(text: str) -> str:
    if not CONTRIBUTOR.match(text) or "@" in text:
        raise argparse.ArgumentTypeError(f"{text!r}: give a public handle (letters, digits, '_', '.', '-'; "
                                         "at most 64), such as a GitHub user name, never an e-mail address")
    return text


def _notes(text: str) -> str:
    if not 1 <= len(text) <= 2000:
        raise argparse.ArgumentTypeError("notes must be 1 to 2000 characters")
    return text


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="run.py", description=DESCRIPTION, epilog=EPILOG,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("workload", nargs="?", metavar="WORKLOAD",
                   help="the workload to run (see --list): " + ", ".join(workloads.WORKLOADS))
    p.add_argument("--list", action="store_true", help="list the workloads, one a line, and exit")
    p.add_argument("--framework", choices=sorted(BACKENDS), metavar="{" + ",".join(sorted(BACKENDS)) + "}",
                   help="framework to run the workload with (required to run)")
    p.add_argument("--epochs", type=_positive, metavar="N",
                   help="training epochs (default: the workload's, 40 for the LeNet-5 workloads as in the "
                        "published protocol)")
    p.add_argument("--batch-size", type=_positive, metavar="B",
                   help="samples per training step (default: the workload's, 512 for the LeNet-5 workloads); "
                        "also the batch of evaluation and inference")
    p.add_argument("--device", type=_device, default=parse_device("auto"), metavar="DEVICE",
                   help=f"device to run on: {DEVICE_SYNTAX} (default auto: the first CUDA/ROCm GPU, else Apple "
                        "MPS, else the CPU); a device that is not available is a usage error")
    p.add_argument("--repeats", type=_positive, default=1, metavar="R",
                   help="train R times, each with a fresh model and seed S+i; the fragment records medians and "
                        "their spread (min, max, IQR, samples) (default 1; 3 or more to show the noise)")
    p.add_argument("--seed", type=_seed, default=0, metavar="S",
                   help="random seed of weight initialisation and shuffling, recorded in the fragment (default 0)")
    p.add_argument("--data-dir", type=Path, metavar="DIR",
                   help="folder holding <dataset>/ with the dataset files, where missing files are downloaded to "
                        "and verified (default: system copies such as /usr/share/datasets/fashion-mnist/, "
                        "then the per-user cache folder)")
    p.add_argument("--out", type=Path, metavar="DIR",
                   help="folder to write the fragment to (default: data/fragments/ of this repository)")
    p.add_argument("--contributor", type=_contributor, metavar="HANDLE",
                   help="your public handle (e.g. GitHub user name) to record with the result; never an e-mail")
    p.add_argument("--notes", type=_notes, metavar="TEXT",
                   help="free text about the hardware or software set-up to record with the result")
    return p


def list_workloads() -> str:
    return "".join(f"{w.name}\t{w.description} (defaults: {w.epochs} epochs, batch {w.batch_size})\n"
                   for w in workloads.WORKLOADS.values())


def public_argv(argv: list[str]) -> list[str]:
    """The command as recorded (program first, as run from the repository root); dlbench.runner.system.probe.provenance
    then writes the home folder as `~` and repository paths relative."""
    return ["runners/run.py", *argv]


def run(argv: list[str] | None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.list:
        sys.stdout.write(list_workloads())
        return 0
    if not args.workload:
        parser.error("give a WORKLOAD to run (see --list), or --list")
    if args.workload not in workloads.WORKLOADS:
        parser.error(f"unknown workload {args.workload!r}: choose one of {', '.join(workloads.WORKLOADS)} "
                     "(see --list)")
    if not args.framework:
        parser.error(f"--framework is required: one of {', '.join(sorted(BACKENDS))}")
    # Imported only for a run (NumPy, the schema validator): --list, --help and usage errors answer at once.
    from ..runner.data.datasets import DatasetError
    from ..contract.fragment import write
    from ..runner.report import summary_table
    from ..runner.run import InvalidRecord, RunConfig, measure, prepare

    workload = workloads.get(args.workload)
    config = RunConfig(workload=workload, framework=args.framework, device=args.device,
                       epochs=args.epochs or workload.epochs, batch_size=args.batch_size or workload.batch_size,
                       repeats=args.repeats, seed=args.seed, data_dir=args.data_dir,
                       contributor=args.contributor, notes=args.notes)
    out = args.out if args.out is not None else data_dir() / "fragments"
    if out.exists() and not out.is_dir():
        parser.error(f"--out {out}: not a folder")
    try:
        backend = prepare(config)
    except (UsageError, FrameworkMissing) as exc:
        parser.error(str(exc))
    try:
        record = measure(config, backend, public_argv(argv))
    except DatasetError as exc:
        print(f"run.py: {exc}\nnothing was written", file=sys.stderr)
        return 1
    except InvalidRecord as exc:
        for problem in exc.problems:
            print(problem.format(), file=sys.stderr)
        print("run.py: internal error: the result does not follow the schema (please report this); "
              "nothing was written", file=sys.stderr)
        return 1
    try:
        path = write(record, out)
    except OSError as exc:
        print(f"{out}: cannot write the fragment: {exc.strerror or exc}; choose another folder with --out",
              file=sys.stderr)
        return 1
    result = record["results"][0]
    print(f"wrote {display_path(path)}")
    print(summary_table(result))
    return 0 if result["status"] == "ok" else 1


def main(argv: list[str] | None = None) -> int:
    return guarded(lambda: run(argv))


if __name__ == "__main__":
    sys.exit(main())
