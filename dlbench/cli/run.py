"""`python runners/run.py`: run a benchmark workload and write its result as one fragment."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from ..contract.paths import data_dir
from ..contract.problems import display_path
from ..runner import workloads
from ..runner.backends import BACKENDS, FrameworkMissing, UsageError, parse_device
from ..runner.backends.base import DEVICE_SYNTAX, PRECISIONS, RunOptions
from . import sweep_args
from .common import add_identity, argument_type, guarded, positive_int, whole_number

DESCRIPTION = """Run a benchmark workload on this machine and record the result as one fragment,
data/fragments/<run_id>.toml, ready to be validated and contributed, with a probe of the system. Every clock
read is preceded by a device synchronization (or is a CUDA event). Each workload has a scenario (--list):

  train  load the dataset onto the device, train the model for --epochs (each epoch timed), evaluate it on
         the test set after every epoch, save and reload it for an inference pass: total / load / compute /
         evaluation / inference seconds, accuracy, throughput, peak memory.
  step   training steps on synthetic input of the model's native shape, generated on the device: --warmup
         untimed steps, then --iterations timed ones, forward, backward and optimizer update timed apart
         (medians in ms), throughput over the whole timed loop, achieved FLOP/s (3 x forward FLOPs).
  infer  the freshly built model saved and loaded from disk (load seconds), batch-1 latency p50/p95/p99 over
         --iterations single inputs each read from a PNG file, decoded, copied to the device and run, and
         throughput at the batch size.
  peak   the device's ceiling: dense matrix-multiply FLOP/s at every precision it supports and on-device copy
         bandwidth, several results in one fragment.

Failures are results: running out of memory is recorded as status "oom", any other error in the workload as
"error" (the fragment is written and the exit status is 1). Ctrl-C writes nothing. A progress bar is shown on
stderr when it is a terminal (train). Exit status: 0 success, 1 the workload failed (or nothing could be
written), 2 a usage error, 130 interrupted."""

EPILOG = """precision: PyTorch runs cuDNN convolutions in TensorFloat-32 by default on NVIDIA GPUs of compute
capability 8.0 and later (matrix products not), TensorFlow both: --precision fp32 (the default) turns TF32
off in both frameworks, so that fp32 is really fp32; --precision tf32 turns it on where the device has it.

examples:
  %(prog)s --list
  %(prog)s fashion-mnist-lenet5 --framework torch --epochs 1
  %(prog)s fashion-mnist-vgg19-gap --framework torch --epochs 1 --train-samples 512 --test-samples 512
  %(prog)s mnist-lenet5 --framework tensorflow --device cuda:1 --repeats 3
  %(prog)s fwdbwd-resnet50 --framework torch --precision bf16 --channels-last --compile
  %(prog)s fwdbwd-alexnet --framework torch --device cpu --devices 1,2
  %(prog)s fwdbwd-resnet50 --framework torch --device cpu --batch-sweep --memory-limit 6GiB --warmup 1 --iterations 3
  %(prog)s infer-fashion-mnist-lenet5 --framework tensorflow --iterations 200
  %(prog)s peak --framework torch --device cuda"""



def _count(text: str) -> int:
    value = whole_number(text)
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be 0 or more, not {value}")
    return value


def _seed(text: str) -> int:
    value = whole_number(text)
    if not 0 <= value < 2**31 - 1024:
        raise argparse.ArgumentTypeError(f"must be between 0 and {2**31 - 1025}")
    return value


_device = argument_type(parse_device)


def _devices(text: str) -> list[int]:
    from ..runner.distributed import parse_counts

    try:
        return parse_counts(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="run.py", description=DESCRIPTION, epilog=EPILOG,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("workload", nargs="?", metavar="WORKLOAD",
                   help="the workload to run (see --list): " + ", ".join(workloads.WORKLOADS))
    p.add_argument("--list", action="store_true",
                   help="list the workloads (scenario, dataset, model, default batch, parameters, forward FLOPs "
                        "per sample) as a table, and exit")
    p.add_argument("--framework", choices=sorted(BACKENDS), metavar="{" + ",".join(sorted(BACKENDS)) + "}",
                   help="framework to run the workload with (required to run)")
    p.add_argument("--epochs", type=positive_int, metavar="N",
                   help="train scenario: training epochs (default: the workload's, 40 for the LeNet-5 workloads as "
                        "in the published protocol)")
    p.add_argument("--train-samples", type=positive_int, metavar="N",
                   help="train scenario: train on the first N samples of the training split only (default: all of "
                        "it), recorded as train_samples; a quick check of a workload whose full epoch takes hours "
                        "here, compared only with results on the same part, never with full runs")
    p.add_argument("--test-samples", type=positive_int, metavar="M",
                   help="train scenario: evaluate on, and run inference over, the first M samples of the test "
                        "split only (default: all of it), recorded as test_samples")
    p.add_argument("--batch-size", type=positive_int, metavar="B",
                   help="samples per training step (default: the workload's, 512 for the LeNet-5 workloads); "
                        "also the batch of evaluation and inference; infer: the batch of the throughput "
                        "measurement (latency is always batch 1); not for peak")
    p.add_argument("--warmup", type=_count, metavar="K",
                   help="step, infer, peak: untimed iterations before the timed ones (default: the workload's, 10 "
                        "steps for step, 10 inputs and batches for infer, 5 operations for peak)")
    p.add_argument("--iterations", type=positive_int, metavar="N",
                   help="step: timed training steps (default 50); infer: timed single inputs (PNG files) and "
                        "timed batches (default 100; percentiles such as p99 need 100 or more); peak: timed "
                        "operations per result (default 20)")
    p.add_argument("--precision", choices=PRECISIONS, metavar="{" + ",".join(PRECISIONS) + "}",
                   help="fp32 (default: TensorFloat-32 turned off, see below), tf32 (NVIDIA compute capability "
                        "8.0+ only), fp16 or bf16 (mixed precision: PyTorch autocast, with a GradScaler for fp16; "
                        "Keras mixed_float16 / mixed_bfloat16 policies, with a LossScaleOptimizer for fp16; "
                        "recorded as mixed-fp16 / mixed-bf16); peak: measure this precision only (default: every "
                        "one the device supports). What the device or framework cannot do is a usage error")
    p.add_argument("--channels-last", action="store_true",
                   help="PyTorch convolutional networks: model and input in channels-last (NHWC) memory format "
                        "(torch.channels_last); recorded as channels_last = true")
    p.add_argument("--compile", action="store_true",
                   help="compile the model: torch.compile (PyTorch; its compilation falls in the warm-up steps, or "
                        "in the first epoch) or XLA, jit_compile=True (TensorFlow); recorded as compile = "
                        "\"torch.compile\" / \"xla\" (otherwise \"eager\" / \"tf.function\")")
    p.add_argument("--device", type=_device, default=parse_device("auto"), metavar="DEVICE",
                   help=f"device to run on: {DEVICE_SYNTAX} (default auto: the first CUDA/ROCm GPU, else Apple "
                        "MPS, else the CPU); a device that is not available is a usage error")
    p.add_argument("--devices", type=_devices, metavar="N[,M...]",
                   help="step and train scenarios: data-parallel on N devices, through the frameworks' own launchers "
                        "(PyTorch: N processes started by torchrun with DistributedDataParallel, NCCL on GPUs, gloo "
                        "on the CPU; TensorFlow: tf.distribute.MirroredStrategy); --batch-size is the batch on each "
                        "device, recorded as batch_size, and global_batch_size = N x batch_size; the throughput is "
                        "the whole system's. Several counts (such as 1,2,4) run one after the other into one "
                        "fragment, the 1-device run as without --devices, and with 1 among them every result "
                        "records scaling_efficiency = throughput(N) / (N x throughput(1)). GPUs: cuda:0 to "
                        "cuda:N-1 (give --device cuda or auto, not cuda:N). On the CPU a device is one of N workers "
                        "sharing its cores (PyTorch: a process with cores/N threads; TensorFlow: a logical CPU "
                        "device), at most one per logical CPU this process may use. More devices than the machine "
                        "has is a usage error")
    p.add_argument("--repeats", type=positive_int, default=1, metavar="R",
                   help="measure R times, each with a fresh model and seed S+i; the fragment records medians and "
                        "their spread (min, max, IQR, samples) (default 1; 3 or more to show the noise)")
    p.add_argument("--seed", type=_seed, default=0, metavar="S",
                   help="random seed of weight initialisation, shuffling and synthetic input, recorded in the "
                        "fragment (default 0)")
    p.add_argument("--data-dir", type=Path, metavar="DIR",
                   help="folder holding <dataset>/ with the dataset files, where missing files are downloaded to "
                        "and verified (default: system copies such as /usr/share/datasets/fashion-mnist/, "
                        "then the per-user cache folder)")
    p.add_argument("--out", type=Path, metavar="DIR",
                   help="folder to write the fragment to (default: data/fragments/ of this repository)")
    add_identity(p, "with the result")
    sweep_args.add_options(p)
    return p


def _si(value: float) -> str:
    for unit, scale in (("T", 1e12), ("G", 1e9), ("M", 1e6), ("K", 1e3)):
        if value >= scale:
            return f"{value / scale:.3g} {unit}"
    return f"{value:.0f}"


def _cost(model: str | None) -> tuple[str, str]:
    """(parameters, forward FLOPs per sample) of `model` for the listing; "-" for what is not known."""
    if not model:
        return "-", "-"
    try:
        from ..runner.models import model_cost

        cost = model_cost(model)
        return f"{cost.parameters:,}", _si(cost.flops)
    except Exception:  # not in the catalogue (yet), or the catalogue is being changed
        return "-", "-"


def _defaults(w: workloads.Workload) -> str:
    if w.scenario == "train":
        return f"{w.epochs} epochs"
    return f"{w.warmup} + {w.iterations} iterations"


def list_workloads() -> str:
    """The workloads as an aligned table: scenario, dataset, model, default batch and counts, parameters and
    forward FLOPs per sample (dlbench.runner.models.model_cost; "-" where the model is not available)."""
    titles = ("workload", "scenario", "dataset", "model", "batch", "defaults", "parameters", "FLOPs/sample")
    rows = []
    for w in workloads.WORKLOADS.values():
        params, flops = _cost(w.model)
        batch = "-" if w.scenario == "peak" else str(w.batch_size)
        rows.append((w.name, w.scenario, w.dataset, w.model or "-", batch, _defaults(w), params, flops))
    widths = [max(len(t), *(len(r[i]) for r in rows)) for i, t in enumerate(titles)]
    right = {4, 6, 7}

    def line(values: tuple[str, ...]) -> str:
        return "  ".join(v.rjust(wd) if i in right else v.ljust(wd)
                         for i, (v, wd) in enumerate(zip(values, widths))).rstrip() + "\n"

    return line(titles) + "".join(line(r) for r in rows) + (
        "FLOPs/sample: forward pass, 2 per multiply-add (a training step costs about 3x); "
        "batch and defaults as run unless --batch-size, --epochs, --warmup, --iterations say otherwise\n")


def check_options(parser: argparse.ArgumentParser, args: argparse.Namespace, workload: workloads.Workload) -> None:
    """Usage errors for options the workload's scenario or the framework cannot use (before any import)."""
    from ..runner.scenarios import USES

    uses = USES[workload.scenario]
    where = f"the {workload.scenario} scenario of {workload.name}"
    if args.epochs is not None and "epochs" not in uses:
        parser.error(f"--epochs: {where} runs no epochs (it times --warmup untimed and --iterations timed "
                     "iterations)")
    for option, name in (("--warmup", "warmup"), ("--iterations", "iterations")):
        if getattr(args, name) is not None and name not in uses:
            parser.error(f"{option}: {where} has no warm-up or timed iterations (it trains for --epochs)")
    for option, name in (("--train-samples", "train_samples"), ("--test-samples", "test_samples")):
        if getattr(args, name) is not None and name not in uses:
            parser.error(f"{option}: {where} reads no dataset to take part of (its input is synthetic, or "
                         "a fixed set of test inputs)")
    if args.batch_size is not None and "batch_size" not in uses:
        parser.error(f"--batch-size: {where} has no batch (its matrix and buffer sizes are chosen per device)")
    if args.channels_last:
        if args.framework != "torch":
            parser.error(f"--channels-last: PyTorch only (Keras models take channels-last (NHWC) input "
                         f"already); drop it for --framework {args.framework}")
        if workload.scenario == "peak":
            parser.error("--channels-last: the peak scenario runs no model")
        if workload.input.tokens:
            parser.error(f"--channels-last: {workload.model} is not a convolutional network (its input is "
                         "token ids)")
    if args.devices:
        if workload.scenario not in ("step", "train"):
            parser.error(f"--devices: {where} runs on one device (several devices: the step and train scenarios)")
        if args.device.index is not None:
            parser.error(f"--devices: runs on cuda:0 to cuda:N-1; give --device {args.device.kind} (or auto), not "
                         f"cuda:{args.device.index}")
    if args.compile and workload.scenario == "peak":
        parser.error("--compile: the peak scenario runs no model (it times the framework's matrix product "
                     "and copy)")


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
    workload = workloads.get(args.workload)
    check_options(parser, args, workload)
    sweep_args.check(parser, args, workload)
    # Imported only for a run (NumPy, the schema validator): --list, --help and usage errors answer at once.
    from ..runner.data.datasets import DatasetError
    from ..contract.fragment import write
    from ..runner.report import summary
    from ..runner.run import InvalidRecord, RunConfig, measure, prepare

    options = RunOptions(precision=args.precision, channels_last=args.channels_last, compile=args.compile)
    config = RunConfig(workload=workload, framework=args.framework, device=args.device,
                       epochs=args.epochs or workload.epochs, batch_size=args.batch_size or workload.batch_size,
                       repeats=args.repeats, seed=args.seed, data_dir=args.data_dir,
                       contributor=args.contributor, notes=args.notes, options=options,
                       warmup=args.warmup, iterations=args.iterations, train_samples=args.train_samples,
                       test_samples=args.test_samples)
    out = args.out if args.out is not None else data_dir() / "fragments"
    if out.exists() and not out.is_dir():
        parser.error(f"--out {out}: not a folder")
    sweep = sweep_args.options(args) if args.batch_sweep else None  # each point in a process: none here
    try:
        backend = prepare(config) if sweep is None else None
    except (UsageError, FrameworkMissing) as exc:
        parser.error(str(exc))
    try:
        if sweep is not None:
            record = sweep_args.measure(config, sweep, public_argv(argv))
        elif args.devices:
            from ..runner.distributed import measure_devices

            record = measure_devices(config, backend, public_argv(argv), args.devices)
        else:
            record = measure(config, backend, public_argv(argv))
    except UsageError as exc:
        parser.error(str(exc))
    except DatasetError as exc:
        print(f"run.py: {exc}\nnothing was written", file=sys.stderr)
        return 1
    except sweep_args.SweepFailed as exc:
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
    results = record["results"]
    print(f"wrote {display_path(path)}")
    print(summary(results))
    if sweep is not None:
        print(sweep_args.summary(results[0]))
    if not _accepted(path):
        return 1
    return 0 if all(r["status"] == "ok" for r in results) else 1


def _accepted(path: Path) -> bool:
    """Validate the fragment written as the pull-request check will (its plausibility rules included), so the
    user hears of a rejection before opening a pull request.

    The measurement is real, so the fragment is kept either way; a rule failing on it is a runner bug or a rule
    too strict for this machine, and the message asks for a report instead of a pull request.
    """
    from ..contract.validate import validate_fragment

    checked = validate_fragment(path)
    for problem in checked.notices + checked.problems:
        print(problem.format(), file=sys.stderr)
    if checked.problems:
        print(f"run.py: {display_path(path)} was written, but the pull-request check will reject it for the "
              "problem(s) above; please report this (a runner bug, or a rule too strict for this machine) with the "
              "fragment attached instead of opening a pull request with it", file=sys.stderr)
    return not checked.problems


def main(argv: list[str] | None = None) -> int:
    return guarded(lambda: run(argv))


if __name__ == "__main__":
    sys.exit(main())
