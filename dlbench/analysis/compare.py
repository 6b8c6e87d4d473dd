"""Comparing devices on one metric: selection, grouping, medians, spread and speedup against a baseline.

A comparison is only fair between results of the same workload *setting*: the same benchmark and
benchmark_version, framework, precision and batch size, and, for whole-run durations (total_s,
compute_s, eval_s), the same number of epochs; and the same part of the dataset (`train_samples`,
`test_samples`: a result trained on part of a dataset is compared only with results on the same part). A user
may compare *across* framework, precision or batch size instead (`across`): that field then leaves the
setting and becomes part of each row, so that, say, a tf32 GPU and an fp32 CPU stand in one table, each row
naming its precision. Results are grouped by setting, then by device and source (measured, or the imported
publication): each group becomes one row with its number of results n, median, min, max and IQR. Results of different benchmark versions, or measured and imported results,
are never pooled. The speedup of a row is the ratio of its median to the baseline device's median in the
same setting, oriented so that > 1 means better (faster, for times). Groups with fewer than `min_results`
results are kept and marked as few results, never hidden.

Unknown settings of imported results. A publication often does not state the precision or the batch size
(the importers record precision `unknown` and leave batch_size out), and an imported result never has a
benchmark_version (that versions this project's code). Such an unknown value is not a conflict: an
imported row whose setting fields in UNKNOWABLE are unknown is compared in each setting of fully known
results that agrees with every field it does state (framework, epochs, the known ones of UNKNOWABLE),
and is flagged there: its `unknown` lists the fields compared across, its note says so, and the table
marks them `?`. Nothing is filled in: its own values stay unknown in the row. When no such setting
exists, it stands in its own setting, as before. Every row's `setting` is the setting it is compared in.

Fractions of peak (`peak_fraction_catalogue`, `peak_fraction_measured`, `bandwidth_fraction_catalogue`,
joined by the frame) are reported per row as the median over its results that have one and the metric.

Capacity, several devices and energy (`dlbench.store.metrics`). The metrics a batch-size sweep measures
(`largest_fitting_batch`, `memory_per_sample_bytes`: CAPACITY_METRICS) are compared across batch sizes, since a
sweep's result stands at the largest batch it found; `energy_j`, an amount of the work timed, only between
results of the same epochs and steps (AMOUNT_METRICS). Whatever the metric, a row also gives the median of
CONTEXT_METRICS over its results that have them (the largest batch that fits, the scaling efficiency, samples
per joule and average power), shown as columns when a row has one (`context_columns`). The curves themselves:
`compare_sweep`.

Outliers and corroboration (judged by the frame, rules in `dlbench.store.corroboration`, on the workload's
headline metric, whatever metric is compared): each row counts its results that are outliers of their
comparison group (`outliers`; None when none of them could be judged) and those of its n that at least
one independent run agrees with (`corroborated`), and its note says both when not 0 ("1 outlier",
"3 of 4 corroborated"). With `no_outliers`, outliers are left out of the row's n, median, spread and
fractions (and so of the speedups); the row still counts them ("1 outlier left out").
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ..contract.families import MLPERF, namespace_of
from ..store import metrics as metric_rules
from ..store.metrics import AMOUNT_METRICS, CAPACITY_METRICS, DEFAULT_METRICS, EPOCH_METRICS
from .frame import DERIVED_COLUMNS, FRACTIONS, HIGHER_IS_BETTER, METRICS, unit_of

SETTING = ("benchmark", "benchmark_version", "framework", "precision", "batch_size", "device_count", "compile",
           "channels_last", "epochs", "steps", "train_samples", "test_samples")
CROSSABLE = ("framework", "precision", "batch_size")
# An imported result may leave these unknown.
UNKNOWABLE = ("benchmark_version", "precision", "batch_size", "compile", "channels_last")
COMPARABLE = METRICS + DERIVED_COLUMNS                           # what --metric may name
# Fraction columns shown with a metric whatever the options (the others with `fractions=True`).
METRIC_FRACTIONS = {"achieved_flops_per_s": ("peak_fraction_catalogue", "peak_fraction_measured"),
                    "bandwidth_bytes_per_s": ("bandwidth_fraction_catalogue",)}
# Shown beside any metric, as the median over a row's results that have them (when a row has one).
CONTEXT_METRICS = ("largest_fitting_batch", "scaling_efficiency", "samples_per_joule", "average_power_w")
ROW_FIELDS = SETTING + ("device_label", "device", "device_kind", "source", "kind", "n", "median", "min", "max",
                        "iqr", "per_device", "speedup", "failed", "outliers", "corroborated", "few_results", "is_baseline",
                        "note", "unknown", "setting") + FRACTIONS + CONTEXT_METRICS


class CompareError(Exception):
    """The comparison cannot be made; `status` is the exit status (1 empty selection, 2 usage error)."""

    def __init__(self, message: str, status: int = 1):
        super().__init__(message)
        self.status = status


@dataclass
class Filters:
    workloads: list[str] = field(default_factory=list)
    frameworks: list[str] = field(default_factory=list)
    devices: list[str] = field(default_factory=list)
    precisions: list[str] = field(default_factory=list)
    batch_sizes: list[int] = field(default_factory=list)
    statuses: list[str] = field(default_factory=lambda: ["ok"])   # empty: any status
    kinds: list[str] = field(default_factory=list)                # measured / imported; empty: both


@dataclass
class Comparison:
    metric: str
    higher_is_better: bool
    baseline: str | None
    min_results: int
    rows: list[dict[str, Any]]
    left_out: int = 0          # selected results without a value of the metric
    setting_keys: tuple = SETTING   # the fields that make a setting in this comparison
    across: tuple = ()              # setting fields compared across: part of each row instead
    fraction_columns: tuple = ()    # FRACTIONS shown as columns (every row has all FRACTIONS)
    no_outliers: bool = False       # outliers left out of the rows' figures
    outlier_metrics: tuple = ()     # the headline metrics the selected results are judged on
    source_unit: str | None = None  # the unit every compared result's source states for the metric, if one
    context_columns: tuple = ()     # CONTEXT_METRICS shown as columns (every row has all CONTEXT_METRICS)

    @property
    def unit(self) -> str:
        return unit_of(self.metric)

    @property
    def per_device(self) -> bool:
        """Whether a row is of several devices: its median per device (derived) is then shown."""
        return any(r["per_device"] is not None for r in self.rows)

    def settings(self) -> list[tuple]:
        """The settings rows are compared in, in row order."""
        return list(dict.fromkeys(setting_of(self, r) for r in self.rows))


def setting_of(c: Comparison, row: dict[str, Any]) -> tuple:
    """The setting a row is compared in, as a tuple of `c.setting_keys` values."""
    return tuple(row["setting"][k] for k in c.setting_keys)


def select(df, filters: Filters):
    """The rows of `df` that pass every filter; CompareError naming the filter that matched nothing."""
    steps = [
        ("--workload", "benchmark", filters.workloads, lambda col, vals: col.isin(vals)),
        ("--framework", "framework", filters.frameworks, lambda col, vals: col.isin(vals)),
        ("--precision", "precision", filters.precisions, lambda col, vals: col.isin(vals)),
        ("--batch-size", "batch_size", filters.batch_sizes, lambda col, vals: col.isin(vals)),
        ("--status", "status", filters.statuses, lambda col, vals: col.isin(vals)),
        ("--kind", "kind", filters.kinds, lambda col, vals: col.isin(vals)),
        ("--device", "device_label", filters.devices, _device_match),
    ]
    if df.empty:
        raise CompareError("the dataset has no results yet: run a benchmark (runners/run.py) or import some")
    for option, column, values, match in steps:
        if not values:
            continue
        kept = df[match(df[column], values).fillna(False).astype(bool)]
        if kept.empty:
            known = sorted({str(v) for v in df[column].dropna().unique()})
            given = " ".join(f"{option} {v!r}" for v in values)
            raise CompareError(f"no result matches {given} (among {len(df)} result(s) selected so far; "
                               f"known {column} values: {', '.join(known) or 'none'})")
        df = kept
    spaces = sorted({namespace_of(b) for b in df["benchmark"].dropna().unique()})
    if len(spaces) > 1:
        mlperf = sorted(b for b in df["benchmark"].dropna().unique() if namespace_of(b) == MLPERF)
        raise CompareError(f"the selection holds MLPerf results ({', '.join(mlperf[:3])}{', ...' if len(mlperf) > 3 else ''}) "
                           "and other results: MLPerf results may not be compared with non-MLPerf results, so "
                           "choose the workloads of one side with --workload", 2)
    return df


def _device_match(col, values: list[str]):
    lowered = col.str.lower()
    hit = None
    for v in values:
        h = lowered.str.contains(v.lower(), regex=False)
        hit = h if hit is None else (hit | h)
    return hit


def default_metric(df) -> str:
    """The first of DEFAULT_METRICS that every selected ok result has, else the first that any has
    (`dlbench.store.metrics.default_metric`, the rule the outliers are judged by too).

    So a selection of measured step results (throughput, step_ms, forward_ms, backward_ms) and imported
    ones (forward_ms and backward_ms only) is compared on forward_backward_ms, which all of them have.
    """
    ok = df[df["status"] == "ok"]
    metric = metric_rules.default_metric(lambda m: bool(len(ok)) and bool(ok[m].notna().all()),
                                         lambda m: bool(df[m].notna().any()))
    if metric is not None:
        return metric
    present = [m for m in COMPARABLE if df[m].notna().any()]
    raise CompareError(f"the selected results have none of {', '.join(DEFAULT_METRICS)}; "
                       f"pass --metric with one they have: {', '.join(present) or 'none'}")


def resolve_baseline(labels: list[str], wanted: str) -> str:
    """The device label `wanted` names: exactly (label or device name, any case) or as a unique substring."""
    low = wanted.strip().lower()
    exact = [lab for lab in labels if lab.lower() == low or lab.lower().rsplit(" (", 1)[0] == low]
    if len(exact) == 1:
        return exact[0]
    matches = exact or [lab for lab in labels if low in lab.lower()]
    if len(matches) == 1:
        return matches[0]
    listing = "; ".join(sorted(labels))
    if matches:
        raise CompareError(f"--baseline {wanted!r} is ambiguous: it matches {'; '.join(sorted(matches))}: "
                           "give one of them in full", 2)
    raise CompareError(f"--baseline {wanted!r} is not a device of the selected results; known devices: {listing}", 2)


def setting_keys(metric: str, across: tuple = ()) -> tuple:
    """The fields whose values must agree for results to be compared on `metric`: epochs only for whole-run
    figures, steps only for amounts of the work timed, and no batch size for what a sweep measures."""
    def needed(key: str) -> bool:
        if key == "epochs":
            return metric in EPOCH_METRICS or metric in AMOUNT_METRICS
        if key == "steps":
            return metric in AMOUNT_METRICS
        return key != "batch_size" or metric not in CAPACITY_METRICS
    return tuple(k for k in SETTING if k not in across and needed(k))


def compare(df, metric: str, baseline: str | None = None, min_results: int = 3,
            across: tuple = (), fractions: bool = False, no_outliers: bool = False) -> Comparison:
    """Group the selected results (see the module docstring) and compute medians, spread and speedup.

    `fractions`: show the fractions of peak as columns whatever the metric (they are always in the rows;
    shown by default with achieved_flops_per_s and bandwidth_bytes_per_s). `no_outliers`: leave the
    outliers out before the medians are taken.
    """
    bad = [k for k in across if k not in CROSSABLE]
    if bad:
        raise CompareError(f"cannot compare across {', '.join(bad)}: choose from {', '.join(CROSSABLE)}", 2)
    if metric not in COMPARABLE:
        raise CompareError(f"unknown metric {metric!r}: choose from {', '.join(COMPARABLE)}", 2)
    across = tuple(k for k in CROSSABLE if k in across)
    skeys = setting_keys(metric, across)
    higher = metric in HIGHER_IS_BETTER
    ok = df["status"] == "ok"
    has = df[metric].notna() & ok
    left_out = int((ok & ~has).sum())
    if not has.any():
        present = [m for m in COMPARABLE if df.loc[ok, m].notna().any()]
        raise CompareError(f"no selected result has {metric}; metrics they have: {', '.join(present) or 'none'}")
    labels = sorted(set(df.loc[has, "device_label"]))
    base_label = resolve_baseline(labels, baseline) if baseline else None
    keep = has | ~ok                                   # failed results are shown as such, not dropped
    df = _known_layout(df[keep])
    keys = list(skeys) + list(across) + ["device_label", "source"]
    rows: list[dict[str, Any]] = []
    for key, group in df.groupby(keys, dropna=False, sort=False):
        with_metric = group[group["status"] == "ok"]          # failed results were kept only for `failed`
        flagged = with_metric["outlier"].fillna(False).astype(bool)
        judged = int(with_metric["outlier"].notna().sum())
        if no_outliers:
            with_metric = with_metric[~flagged]
        values = with_metric[metric].astype("float64")
        failed = group.loc[group["status"] != "ok", "status"].value_counts().sort_index()
        row = {k: _plain(v) for k, v in zip(keys, key)}
        first = group.iloc[0]
        row.update(device=first["device"], device_kind=first["device_kind"], kind=first["kind"], n=int(len(values)))
        if len(values):
            row.update(median=float(values.median()), min=float(values.min()), max=float(values.max()),
                       iqr=float(values.quantile(0.75) - values.quantile(0.25)))
        else:
            row.update(median=None, min=None, max=None, iqr=None)
        count = row.get("device_count")
        # A system total of several devices stays the row's figure; per device is derived, and labelled so.
        row["per_device"] = row["median"] / count if row["median"] is not None and count and count > 1 \
            and metric in metric_rules.RATES else None
        row["failed"] = ", ".join(f"{n} {status}" for status, n in failed.items()) or None
        row["outliers"] = int(flagged.sum()) if judged else None
        support = with_metric["corroborated_by"].dropna()
        row["corroborated"] = int((support > 0).sum()) if len(support) else None
        for name in FRACTIONS + CONTEXT_METRICS:
            found = with_metric[name].dropna().astype("float64")
            row[name] = float(found.median()) if len(found) else None
        rows.append(row)
    rows = _place(rows, skeys)
    _speedups(rows, base_label, higher, skeys)
    for row in rows:
        row["few_results"] = 0 < row["n"] < min_results
        notes = []
        if row["is_baseline"]:
            notes.append("baseline")
        if row["few_results"]:
            notes.append(f"few results (n={row['n']} < {min_results})")
        if row["failed"]:
            notes.append(f"failed: {row['failed']}")
        if row["outliers"]:
            notes.append(f"{row['outliers']} outlier{'s' if row['outliers'] > 1 else ''}"
                         + (" left out" if no_outliers else ""))
        if row["corroborated"]:
            notes.append(f"{row['corroborated']} of {row['n']} corroborated")
        if row["unknown"]:
            notes.append("compared across unknown settings: the source states no "
                         + ", ".join(k.replace("_", " ") for k in row["unknown"]))
        row["note"] = "; ".join(notes) or None
    rows.sort(key=lambda r: _order(r, higher))
    rows = [{k: r.get(k) for k in ROW_FIELDS} for r in rows]
    shown = METRIC_FRACTIONS.get(metric, ())
    if fractions:
        shown = tuple(f for f in FRACTIONS if f in shown or f in METRIC_FRACTIONS["achieved_flops_per_s"]
                      or any(r[f] is not None for r in rows))
    judged_on = tuple(sorted(set(df.loc[df["status"] == "ok", "outlier_metric"].dropna())))
    context = tuple(m for m in CONTEXT_METRICS if m != metric and any(r[m] is not None for r in rows))
    return Comparison(metric, higher, base_label, min_results, rows, left_out, skeys, across, shown,
                      no_outliers, judged_on, _source_unit(df[df["status"] == "ok"], metric), context)


def _known_layout(df):
    """`channels_last` as the runner means it: absent on a measured result is False (the runner records only
    True); on an imported result it stays unknown."""
    if "channels_last" not in df or not len(df):
        return df
    measured = (df["kind"] == "measured") & df["channels_last"].isna()
    if not measured.any():
        return df
    df = df.copy()
    df.loc[measured, "channels_last"] = False
    return df


def _source_unit(df, metric: str) -> str | None:
    """The unit the sources of every selected result state for `metric` (`results[].units`), when they agree."""
    if "units" not in df or not len(df):
        return None
    found = set()
    for cell in df["units"]:
        text = None if cell is None or (isinstance(cell, float) and cell != cell) else str(cell)
        said = dict(part.split("=", 1) for part in text.split("; ") if "=" in part) if text else {}
        found.add(said.get(metric))
    return found.pop() if len(found) == 1 else None


def _is_unknown(value: Any) -> bool:
    return value is None or value == "unknown"


def _place(rows: list[dict[str, Any]], skeys: tuple) -> list[dict[str, Any]]:
    """Each row with the setting it is compared in (`setting`) and the unknown fields compared across (`unknown`).

    A fully known row is compared in its own setting. An imported row with unknown UNKNOWABLE fields is
    compared in every setting of fully known rows that agrees with all its other fields (one copy of the
    row per setting, flagged), else in its own setting (see the module docstring).
    """
    def unknown_of(row: dict[str, Any]) -> tuple:
        if row["kind"] != "imported":
            return ()
        return tuple(k for k in UNKNOWABLE if k in skeys and _is_unknown(row[k]))

    # Settings with a value to compare with (a setting of failed results only gets no imported company).
    known = list(dict.fromkeys(tuple(r[k] for k in skeys) for r in rows if not unknown_of(r) and r["n"]))
    placed = []
    for row in rows:
        own = tuple(row[k] for k in skeys)
        unknown = unknown_of(row)
        targets = [s for s in known if all(a == b for k, a, b in zip(skeys, own, s) if k not in unknown)]
        if not unknown or not targets:
            placed.append(dict(row, setting=dict(zip(skeys, own)), unknown=None))
            continue
        for target in targets:
            placed.append(dict(row, setting=dict(zip(skeys, target)), unknown=list(unknown)))
    return placed


def _plain(value: Any) -> Any:
    """A grouping key as a JSON-ready value: None for missing (None, NaN, <NA>), numpy scalars as Python ones."""
    import pandas as pd

    if pd.isna(value):
        return None
    return value.item() if hasattr(value, "item") else value


def _speedups(rows: list[dict[str, Any]], base_label: str | None, higher: bool, skeys: tuple) -> None:
    by_setting: dict[tuple, list[dict[str, Any]]] = {}
    for row in rows:
        by_setting.setdefault(tuple(row["setting"][k] for k in skeys), []).append(row)
    for group in by_setting.values():
        bases = [r for r in group if r["device_label"] == base_label and r["n"]]
        # One baseline row per setting: measured before imported, then the one with most results.
        bases.sort(key=lambda r: (r["kind"] != "measured", -r["n"], r["source"]))
        base = bases[0] if bases else None
        for row in group:
            row["is_baseline"] = row is base
            row["speedup"] = None
            if base is None or not row["n"]:
                continue
            num, den = (row["median"], base["median"]) if higher else (base["median"], row["median"])
            if den:
                row["speedup"] = num / den


def _order(row: dict[str, Any], higher: bool) -> tuple:
    setting = tuple((v is None, str(v) if not isinstance(v, int) else f"{v:012d}") for v in
                    (row["setting"].get(k, row.get(k)) for k in SETTING))
    median = row["median"]
    rank = (median is None, -(median or 0) if higher else (median or 0))
    return setting + (rank, row["device_label"], row["source"])
