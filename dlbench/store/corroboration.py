"""Outliers and corroboration: whether a result lies far from its comparison group, and how many
independent runs agree with it.

Computed from the whole dataset each time the API (`shards.py`) and the results frame
(`dlbench.analysis.frame`) are generated, never stored in a fragment or in `data/benchmark.toml`: so a
result's judgement **changes when other runs are merged** without the result itself changing.

Who takes part. Only results with status `ok` and a value of their workload's headline metric: the metric
`tools/compare.py` compares on by default (`metrics.default_metric` over every result of the workload,
that is of its benchmark id; it may be the derived `forward_backward_ms`). A workload none of those
metrics is recorded for (the `peak-*` workloads) is not judged. Whether higher or lower is better does
not matter here.

Comparison group. Results are compared with those of the same workload (`benchmark` and
`benchmark_version`), the same device (normalized name, `shards.device_of`, and `device_kind`: the CPU
of an Apple M1 is not its GPU) and the same setting: GROUP_KEYS (framework, precision, batch_size,
device_count, compile, strategy, channels_last, and the part of the dataset trained and tested on,
train_samples and test_samples) and, when the headline metric is a whole-run duration (EPOCH_METRICS:
total_s, compute_s, eval_s), `epochs`. A field a result does not have is a value of its own
(absent batch sizes group together, apart from every stated one).

Outlier: the modified z-score rule of Iglewicz and Hoaglin (1993). In a group of at least MIN_GROUP = 3
results with median m and median absolute deviation MAD = median(|x_i - m|), a result x is an outlier when

    |x - m| > K x MAD_SCALE x MAD,    K = 3.5, MAD_SCALE = 1.4826,

that is when its modified z-score 0.6745 (x - m) / MAD exceeds 3.5 in magnitude. Why this rule: the
median and the MAD are not moved by the far value itself (half the group would have to be wrong to move
them), whereas a mean and a standard deviation are pulled towards a single far value until, in a group of
a few results, it no longer looks far. MAD_SCALE = 1 / 0.6745 (the inverse of the normal distribution's
3rd quartile) makes MAD_SCALE x MAD estimate the standard deviation of normally spread values, and 3.5 such
deviations is the cut-off Iglewicz and Hoaglin recommend: a normal sample crosses it about once in 2,000
values. MIN_GROUP = 3 because with two results the median lies halfway between them and neither is further
from it than the other: which one is wrong cannot be told. When MAD is 0 (at least half the group has the
same value) every other value would be infinitely many MADs away: then an outlier is a value more than
MARGIN (10 %) of |m| from the median m. A group of fewer than MIN_GROUP results is not judged: `outlier`
is None (absent from an API row).

Corroboration: `corroborated_by` of a result x is the number of other runs in its group that are
independent of x's run and have a result y within MARGIN = 10 % of x's value, relative to x:
x - 0.1 |x| <= y <= x + 0.1 |x| (so it is not always symmetric: 100 is within 10 % of 111, 111 not of 100). A
run is independent of x's run when it is another run (another run_id) with another *origin*: for a
measured run, its git commit (the runner's, `provenance.git_commit`) or its contributor
(`provenance.contributor`, absent counts as a value) differ; for an imported run (`provenance.kind =
imported`) its source URL (the title when there is none) or section differ, or, for a source pinned to a
repository (`provenance.source.repository`), its repository: two tables of one publisher (Lambda's current
and older tables, which repeat many figures) are not independent of each other; a measured and an imported run
are always independent. Several agreeing results of one run count once. Outliers corroborate and are
corroborated like any result (a value many independent runs agree with is unlikely to be wrong).

Cost: one pass over the results builds the groups (dicts, `Judge.add` called while the caller walks the
runs); within a group of n results the median and MAD take O(n log n), and the counts a sort and one sweep
(plus a bisection per value whose origin has other values in the group). Only a group where one run has
several results counts each margin's runs as a set. Output is deterministic: it depends only on the
results, not on their order.
"""

from __future__ import annotations

import statistics
from bisect import bisect_left, bisect_right
from collections import Counter, defaultdict
from typing import Any, Iterable, NamedTuple, Sequence

from . import metrics as metric_rules

K = 3.5                 # modified z-score cut-off (Iglewicz and Hoaglin)
MAD_SCALE = 1.4826      # 1 / 0.6745: MAD_SCALE x MAD estimates a normal standard deviation
MIN_GROUP = 3           # fewer results than this in a group: not judged
MARGIN = 0.10           # corroboration margin, relative to the result's value; also the MAD = 0 rule
RULE = {"k": K, "mad_scale": MAD_SCALE, "min_group": MIN_GROUP, "margin": MARGIN}   # as the API's index states it
GROUP_KEYS = ("device_kind", "framework", "precision", "batch_size", "device_count", "compile", "strategy",
              "channels_last", "train_samples", "test_samples")

Item = tuple[dict[str, Any], dict[str, Any], str]   # (run, result, normalized device name)


class Judgement(NamedTuple):
    """What is said of one result: its headline `metric`, its group's size (itself included), how many
    independent runs agree with it, and whether it is an outlier (None: the group is too small to judge)."""

    metric: str
    group_size: int
    corroborated_by: int
    outlier: bool | None

    def fields(self) -> dict[str, Any]:
        """The keys an API row carries: `corroborated_by`, and `outlier` unless not judged (the metric is
        named per workload in the index; the group's size is left out to keep rows small)."""
        if self.outlier is None:
            return {"corroborated_by": self.corroborated_by}
        return {"corroborated_by": self.corroborated_by, "outlier": self.outlier}


class Judge:
    """Collects results one at a time, while the caller walks the runs, then judges them all at once.

    `add` keeps, per comparison group but for the epochs, what the judgement needs (the metrics table,
    the epochs, the run and its origin), and notes per workload which default metrics every ok result and
    any result has; `judgements` then picks each workload's headline metric and judges every group.
    """

    def __init__(self) -> None:
        self._count = 0
        self._tallies: dict[str, _Tally] = {}
        self._groups: dict[tuple, list[tuple[int, dict[str, Any], Any, Any, tuple]]] = defaultdict(list)

    def add(self, run: dict[str, Any], result: dict[str, Any], device: str) -> None:
        """Result `result` of `run`, on the device of that normalized name: the next item judged."""
        index = self._count
        self._count = index + 1
        bench = result["benchmark"]
        tally = self._tallies.get(bench)
        if tally is None:
            tally = self._tallies[bench] = _Tally()
        recorded = result.get("metrics", {})
        found = metric_rules.defaults_present(recorded)
        if not found <= tally.any_has:
            tally.any_has = tally.any_has | found
        if result.get("status") != "ok":
            return
        if tally.every_ok is None:
            tally.every_ok = found
        elif not tally.every_ok <= found:
            tally.every_ok = tally.every_ok & found
        if found:           # else it has none of the metrics a headline can be: it takes no part
            key = (bench, result.get("benchmark_version"), device, *map(result.get, GROUP_KEYS))
            self._groups[key].append((index, recorded, result.get("epochs"), run.get("run_id"), origin(run)))

    def headline_metrics(self) -> dict[str, str]:
        """{benchmark: its headline metric} (`metrics.default_metric` over each workload's results); a
        workload that has none of the default metrics is left out."""
        chosen = {}
        for bench, tally in sorted(self._tallies.items()):
            every_ok = tally.every_ok or frozenset()
            metric = metric_rules.default_metric(every_ok.__contains__, tally.any_has.__contains__)
            if metric is not None:
                chosen[bench] = metric
        return chosen

    def judgements(self) -> list[Judgement | None]:
        """A Judgement per added result, in order; None for a result that takes no part."""
        headline = self.headline_metrics()
        out: list[Judgement | None] = [None] * self._count
        for key, members in self._groups.items():
            metric = headline.get(key[0])
            if metric is None:
                continue
            for group in _by_epochs(members, metric):
                size = len(group)
                indices, xs, runs, origins = zip(*group)
                for i, flag, count in zip(indices, outliers(xs), corroboration(xs, runs, origins)):
                    out[i] = Judgement(metric, size, count, flag)
        return out


def _by_epochs(members: list[tuple], metric: str) -> list[list[tuple[int, float, Any, tuple]]]:
    """The members with a value of `metric` as (index, value, run_id, origin), split by their epochs when
    the metric is a whole-run duration (EPOCH_METRICS), else one group."""
    epochs = metric in metric_rules.EPOCH_METRICS
    derived = metric in metric_rules.DERIVED_METRICS
    groups: dict[Any, list[tuple[int, float, Any, tuple]]] = defaultdict(list)
    for index, recorded, n_epochs, run_id, own in members:
        x = metric_rules.value(recorded, metric) if derived else recorded.get(metric)
        if x is not None:
            # `+ 0.0`: a fresh float, so that the values of a group lie together in memory (sorting and
            # sweeping them below then take about half the time on 100,000 results)
            groups[n_epochs if epochs else None].append((index, float(x) + 0.0, run_id, own))
    return list(groups.values())


class _Tally:
    """Per workload: the default metrics every ok result has (None before the first) and those any has."""

    __slots__ = ("every_ok", "any_has")

    def __init__(self) -> None:
        self.every_ok: frozenset[str] | None = None
        self.any_has: frozenset[str] = frozenset()


def judge(items: Iterable[Item]) -> list[Judgement | None]:
    """A Judgement per (run, result, device) item, in order; None for a result that takes no part."""
    judging = Judge()
    for run, result, device in items:
        judging.add(run, result, device)
    return judging.judgements()


def origin(run: dict[str, Any]) -> tuple:
    """Who produced a run, for independence: two runs of different origins are independent (module docstring)."""
    prov = run.get("provenance", {})
    if prov.get("kind") == "imported":
        source = prov.get("source", {})
        if source.get("repository"):    # a pinned source: its publisher is the repository, whatever the table
            return ("imported", source["repository"])
        return ("imported", source.get("url") or source.get("title"), source.get("section"))
    return ("measured", prov.get("git_commit"), prov.get("contributor"))


def outliers(xs: Sequence[float]) -> list[bool | None]:
    """Per value of one group: an outlier (True/False) by the modified z-score rule, None when too few."""
    if len(xs) < MIN_GROUP:
        return [None] * len(xs)
    med = statistics.median(xs)
    mad = statistics.median(abs(x - med) for x in xs)
    limit = K * MAD_SCALE * mad if mad > 0 else MARGIN * abs(med)
    return [abs(x - med) > limit for x in xs]


def corroboration(xs: Sequence[float], runs: Sequence[Any], origins: Sequence[tuple]) -> list[int]:
    """Per value of one group: the other independent runs with a value within MARGIN of it (module docstring).

    When every run has one result in the group (the usual case), the count is the number of values in
    the margin, found in one sweep up the sorted values (both ends of the margin only move up), less those
    of the same origin, the value itself included (found by bisection in that origin's sorted values).
    Otherwise the runs in the margin are collected as a set.
    """
    n = len(xs)
    order = sorted(range(n), key=xs.__getitem__)
    ordered = [xs[j] for j in order]
    if len(set(runs)) != n:
        return _corroboration_by_run(xs, runs, origins, order, ordered)
    counts = [0] * n
    first = last = 0
    for j, x in zip(order, ordered):
        lo, hi = x - MARGIN * abs(x), x + MARGIN * abs(x)
        while ordered[first] < lo:        # stops at x itself at the latest
            first += 1
        while last < n and ordered[last] <= hi:
            last += 1
        counts[j] = last - first - 1      # less x itself
    shared = {o for o, k in Counter(origins).items() if k > 1}     # origins of more than one value
    if shared:
        by_origin: dict[tuple, list[float]] = defaultdict(list)
        for j, x in zip(order, ordered):
            if origins[j] in shared:
                by_origin[origins[j]].append(x)
        for j, (x, own) in enumerate(zip(xs, origins)):
            if own in shared:
                same = by_origin[own]
                lo, hi = x - MARGIN * abs(x), x + MARGIN * abs(x)
                counts[j] -= bisect_right(same, hi) - bisect_left(same, lo) - 1
    return counts


def _corroboration_by_run(xs: Sequence[float], runs: Sequence[Any], origins: Sequence[tuple],
                          order: list[int], ordered: list[float]) -> list[int]:
    """`corroboration` of a group where a run has several results: the runs in each margin, as sets."""
    counts = []
    for x, own in zip(xs, origins):
        lo, hi = x - MARGIN * abs(x), x + MARGIN * abs(x)
        first, last = bisect_left(ordered, lo), bisect_right(ordered, hi)
        counts.append(len({runs[order[t]] for t in range(first, last) if origins[order[t]] != own}))
    return counts
