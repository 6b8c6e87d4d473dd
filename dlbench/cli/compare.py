"""`python tools/compare.py`: how much faster is one device than another, from the dataset."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from ..analysis.compare import COMPARABLE, DEFAULT_METRICS, CompareError, Filters, compare, default_metric, select
from ..analysis import compare_sweep
from ..analysis.compare_output import FORMATS, PLOT_SUFFIXES, plot
from ..analysis.frame import HIGHER_IS_BETTER, catalogue_for, frame, read_runs_from, result_rows, sweeps
from ..contract.device_catalogue import CatalogueError
from ..store import corroboration as judging
from ..store.dataset import DatasetError
from .common import add_root, guarded

DESCRIPTION = """Compare devices on one metric. Results are grouped by setting (workload and its benchmark
version, framework, precision, batch size, and the epochs for whole-run times: only results of one setting
are compared with each other; --across lifts framework, precision or batch size out of the setting),
then by device and source (measured, or the publication an imported result comes from). Each row shows
how many results it holds (n), their median, min, max and IQR, and with --baseline the speedup: the
ratio of medians against the baseline device in the same setting, oriented so that > 1 means faster
(better). Rows with fewer than --min-results results are marked "few results"; results of different
benchmark versions, and measured and imported results, are never pooled.

An imported result whose source does not state its precision or batch size (precision "unknown", no
batch size; imported results never have a benchmark version) is not kept apart for that: it stands in
each setting of measured results that agrees with everything it does state, its unknown fields marked
"?" and named in its note; nothing is filled in. So measured step results of fwdbwd-alexnet list beside
the published Titan X figures of the same framework (default metric: forward_backward_ms, the sum of the
forward and backward times every one of them states).

Fractions of peak (read against catalogue/devices.toml and the dataset's peak-matmul results; rules in
docs/api.md) are shown as columns with --metric achieved_flops_per_s (of peak, catalogue and measured)
and --metric bandwidth_bytes_per_s, and with --fractions for any metric.

Outliers and corroboration (rules in docs/api.md, "Outliers and corroboration"): every ok result is
judged against its comparison group (same workload and version, device and setting) on the workload's
headline metric, the default metric below. A row's note counts its outliers, results that lie more than
{k:g} x {scale:g} median absolute deviations from their group's median (in groups of {min_group} or more;
smaller ones are not judged), and its corroborated results, those that at least one independent run
(another git commit or contributor; for imported results another source) agrees with within {margin:g} %:
"1 outlier; 3 of 4 corroborated" (the JSON and CSV rows: "outliers", "corroborated"). --no-outliers leaves
the outliers out before the medians are taken.

Capacity, several devices and energy: --metric largest_fitting_batch (the largest batch a batch-size sweep
measured to fit, higher is better) and --metric memory_per_sample_bytes compare across batch sizes; energy_j
(J, lower is better) only between results of the same epochs and steps; samples_per_joule (higher is better),
average_power_w (W) and scaling_efficiency (1.0 = linear scaling from 1 to N devices) like any metric. Whatever
the metric, the largest batch that fits, the scaling efficiency, samples per joule and the average power are
shown as columns where a row's results have them. --curve shows each sweep's whole curve instead. Examples:
  python tools/compare.py --workload mnist-lenet5 --metric compute_s --baseline "Ryzen 5" --plot cmp.png
  python tools/compare.py --workload fwdbwd-alexnet --baseline "Titan X"
  python tools/compare.py --workload fwdbwd-resnet50 --metric largest_fitting_batch
  python tools/compare.py --workload fwdbwd-resnet50 --curve --plot sweep.svg
Exit status: 0 success; 1 nothing matches the filters or the dataset cannot be read; 2 a usage error
(such as an unknown --baseline device: the known ones are listed).""".format(
    k=judging.K, scale=judging.MAD_SCALE, min_group=judging.MIN_GROUP, margin=judging.MARGIN * 100)


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="compare.py", description=DESCRIPTION,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    src = p.add_argument_group("data")
    add_root(src)
    src.add_argument("--data", default=None, metavar="FILE_OR_URL",
                     help="read this benchmark.json, benchmark.toml or fragment, or a benchmark.json URL, "
                          "instead of ROOT/data")
    f = p.add_argument_group("filters (repeatable; a result passes when it matches any value given)")
    f.add_argument("--workload", "--benchmark", dest="workloads", action="append", default=[], metavar="ID",
                   help="workload (benchmark id), e.g. mnist-lenet5")
    f.add_argument("--framework", dest="frameworks", action="append", default=[], metavar="NAME",
                   help="framework, e.g. torch, tensorflow")
    f.add_argument("--device", dest="devices", action="append", default=[], metavar="TEXT",
                   help="device: any part of its name and kind, case-insensitive, e.g. 'RTX 3050' or '(mps)'")
    f.add_argument("--precision", dest="precisions", action="append", default=[], metavar="P",
                   help="precision, e.g. fp32, mixed-fp16, unknown")
    f.add_argument("--batch-size", dest="batch_sizes", action="append", default=[], type=int, metavar="N",
                   help="batch size per device")
    f.add_argument("--status", dest="statuses", action="append", default=[],
                   choices=["ok", "oom", "error", "timeout", "any"],
                   help="result status: ok (default), oom, error, timeout, or any; failed results are "
                        "shown in the note column")
    f.add_argument("--kind", dest="kinds", action="append", default=[], choices=["measured", "imported"],
                   help="only measured results, or only imported (published) ones (default: both, never pooled)")
    c = p.add_argument_group("comparison")
    c.add_argument("--metric", choices=COMPARABLE, default=None, metavar="METRIC",
                   help=f"metric to compare, one of {', '.join(COMPARABLE)} (default: the first of "
                        f"{', '.join(DEFAULT_METRICS)} that every selected result has, else the first that any "
                        f"has); higher is better for {', '.join(sorted(HIGHER_IS_BETTER))}, "
                        "lower for the others (times, memory, loss)")
    c.add_argument("--baseline", default=None, metavar="DEVICE",
                   help="device the speedups are relative to: its full label as shown in the table, its name, "
                        "or a part of it that names one device")
    c.add_argument("--across", action="append", default=[], choices=["framework", "precision", "batch_size"],
                   help="compare across this field instead of splitting the tables by it (repeatable): each row "
                        "then names its value, e.g. --across precision puts a tf32 GPU beside an fp32 CPU, "
                        "--across framework puts torch beside tensorflow on one device")
    c.add_argument("--fractions", action="store_true",
                   help="also show each row's fractions of its device's peak (the median over its results that "
                        "have achieved_flops_per_s: of the catalogue peak at its precision x device count, and of "
                        "the measured peak-matmul ceiling), whatever the metric; '-' where a row has none")
    c.add_argument("--no-outliers", action="store_true",
                   help=f"leave out the results that are outliers before the medians are taken: more than "
                        f"{judging.K:g} x {judging.MAD_SCALE:g} median absolute deviations (MAD) from the median "
                        f"of the ok results of their workload, device and setting on the workload's headline "
                        f"metric, in groups of {judging.MIN_GROUP} or more (when the MAD is 0, more than "
                        f"{judging.MARGIN * 100:g} %% from the median); a row's note still counts them")
    c.add_argument("--min-results", type=int, default=3, metavar="N",
                   help="mark rows with fewer than N results as 'few results' (default: 3); they are still shown")
    out = p.add_argument_group("output")
    out.add_argument("--format", choices=sorted(FORMATS), default="table",
                     help="table (default, aligned text), markdown, csv or json, to stdout")
    out.add_argument("--plot", type=Path, default=None, metavar="FILE",
                     help="also draw the comparison as a bar chart with min-max error bars (.png or .svg)")
    out.add_argument("--curve", action="store_true",
                     help="show the batch-size sweeps of the selected results instead of a comparison (results of "
                          "runners/run.py --batch-sweep): every batch tried with its status, throughput, step time "
                          "and peak memory, the largest batch that fits and the memory per sample fitted; with "
                          "--plot, throughput and peak memory against the batch size, one line per result")
    out.add_argument("--list", action="store_true",
                     help="list the workloads and devices of the selection (with result counts) instead")
    return p


def run(argv: list[str] | None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.min_results < 1:
        parser.error("--min-results must be at least 1")
    if args.plot is not None and args.plot.suffix.lower() not in PLOT_SUFFIXES:
        parser.error(f"--plot {args.plot}: give a file name ending in .png or .svg")
    if args.plot is not None and not args.plot.resolve().parent.is_dir():
        parser.error(f"--plot {args.plot}: the folder {args.plot.parent} does not exist")
    statuses = [] if "any" in args.statuses else (args.statuses or ["ok"])
    filters = Filters(args.workloads, args.frameworks, args.devices, args.precisions, args.batch_sizes,
                      statuses, args.kinds)
    source = args.data if args.data is not None else args.root
    if args.data is None and not (args.root / "data").is_dir():
        parser.error(f"{args.root}: no data/ folder here: run from the repository root, or pass --root or --data")
    try:
        runs = read_runs_from(source)
        df = frame(result_rows(runs, catalogue_for(source)))
        selected = select(df, filters)
        if args.list:
            _list(selected)
            return 0
        if args.curve:
            found = compare_sweep.curves(selected, sweeps(runs))
            sys.stdout.write(compare_sweep.FORMATS[args.format](found))
            if args.plot is not None:
                compare_sweep.plot(found, args.plot)
                print(f"wrote {args.plot}", file=sys.stderr)
            return 0
        metric = args.metric or default_metric(selected)
        if args.metric is None:
            print(f"comparing {metric} (the default: pass --metric to choose another)", file=sys.stderr)
        result = compare(selected, metric, args.baseline, args.min_results, tuple(args.across), args.fractions,
                         args.no_outliers)
    except (DatasetError, CatalogueError) as exc:
        print(str(exc), file=sys.stderr)
        return 1
    except CompareError as exc:
        print(f"compare.py: {exc}", file=sys.stderr)
        return exc.status
    if result.left_out:
        print(f"{result.left_out} selected result(s) have no {metric} and are left out", file=sys.stderr)
    sys.stdout.write(FORMATS[args.format](result))
    if args.plot is not None:
        plot(result, args.plot)
        print(f"wrote {args.plot}", file=sys.stderr)
    return 0


def _list(df) -> None:
    """Each workload, then its devices with their result counts and how many of those are outliers."""
    flagged = df["outlier"].fillna(False).astype(bool).rename("outliers")
    counts = flagged.groupby([df["benchmark"], df["device_label"]], dropna=False).agg(["size", "sum"])
    current = None
    for (bench, label), (n, outliers) in counts.iterrows():
        if bench != current:
            print(bench)
            current = bench
        print(f"  {label}: {n} result(s)" + (f", {outliers} outlier(s)" if outliers else ""))


def main(argv: list[str] | None = None) -> int:
    return guarded(lambda: run(argv))


if __name__ == "__main__":
    sys.exit(main())
