"""Predicting a device's throughput on a workload it did not run: from the other devices and the catalogue.

The quantity predicted is the rate of `ok` results: the workload's rate metric (`throughput_samples_per_s`,
`_tokens_per_s` or `_queries_per_s`: the one its ok results carry, the headline metric when that is a rate),
as the result states it: for `device_count` N > 1 the system's total. A *task* is a workload in one setting:
precision, framework and its major.minor version, scenario, compile mode, channels-last, device count and
partial-dataset size. Tasks are never pooled: a prediction is for one task, from the values other devices
measured in that very task (the median of each device's results, its *cell*), and the device's catalogue
entry (`devices.json`: peak TFLOP/s at the task's precision and at FP32, memory bandwidth). Batch size is not
part of a task: each device ran the batch its memory allows, as published.

Methods (docs/predict.md), each from the cells of the other devices only:

- `roofline`: the workload's median efficiency (fraction of datasheet peak at the precision) over the other
  devices, times the device's peak, divided by the FLOPs per sample (computed as median(y / peak) x peak,
  which is the same thing; so it is also defined where the FLOPs are not stated);
- `flops_ratio`, `bandwidth_ratio`, `sqrt_rule`: the nearest measured device (in log peak and log bandwidth)
  scaled by the peak ratio, the bandwidth ratio, or sqrt(peak ratio x bandwidth ratio);
- `loglinear`: log y = a_task + b1 log peak + b2 log bandwidth, one intercept per task, slopes per family;
- `dlbench`: this project's model (`dlbench_model`): slopes on log peak, log FP32 peak and log bandwidth,
  shrunk from all families toward a square-root-rule prior, per family toward those and per task toward its
  family's, the task's level taken from the devices nearest to the one predicted.

`Predictor.fit(rows, catalogue)` prepares the cells once; `predict(label, workload, precision)` fits the
methods on every device but the one asked for (and any other name of its catalogue entry), exactly as the
leave-one-device-out evaluation (`predict_eval.py`) does, so its value is the evaluation's for that device.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable

from ..contract.device_catalogue import PRECISION_KEYS
from ..contract.families import family_of
from ..store.labels import device_label

RATE_METRICS = ("throughput_samples_per_s", "throughput_tokens_per_s", "throughput_queries_per_s")
RATE_UNITS = {"throughput_samples_per_s": "samples/s", "throughput_tokens_per_s": "tokens/s",
              "throughput_queries_per_s": "queries/s"}
PEAK_KEYS = {**PRECISION_KEYS, "fp8": "fp8", "int8": "int8", "int4": "int4"}
GPU_KINDS = ("cuda", "rocm", "mps", "xpu")
COMPUTE_BOUND = 0.05          # a task whose median fraction of peak (other devices) is at least this
SETTING = ("precision", "framework", "framework_version", "scenario", "compile", "channels_last",
           "device_count", "train_samples")
METHODS = ("roofline", "flops_ratio", "bandwidth_ratio", "sqrt_rule", "loglinear", "dlbench")
FALLBACK = ("dlbench", "loglinear", "sqrt_rule", "roofline", "flops_ratio", "bandwidth_ratio")
BOARDS = ("gpu-compute", "gpu-overhead", "gpu-no-flops", "cpu", "other")
ERRORS_FILE = Path(__file__).with_name("predict_errors.json")
# The model's constants (docs/predict.md, "The dlbench model"): its features; the prior slopes (log throughput
# rises by a quarter of the log peak at the precision, a quarter of the log FP32 peak and half the log
# bandwidth: the square-root rule with compute split between the matrix and the vector units); the prior's
# standard deviation on every slope (TAU), which with the residual variance of the cells and the number of
# devices sets each level's ridge penalty; that variance's floor (1 % noise); and the anchoring width.
FEATURES = ("lp", "lf", "lb")
PRIOR = {"lp": 0.25, "lf": 0.25, "lb": 0.5}
TAU = 0.1
S2_FLOOR = 1e-4
BANDWIDTH_H = 0.5


def _version(value: Any) -> str:
    return ".".join(str(value).split(".")[:2]) if value not in (None, "") else ""


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def workload_metrics(rows: Iterable[dict[str, Any]]) -> dict[str, str]:
    """Each workload's rate metric: of RATE_METRICS, the one most of its ok results carry (ties: that order)."""
    counts: dict[str, dict[str, int]] = {}
    for row in rows:
        if row.get("status") == "ok":
            seen = counts.setdefault(row["benchmark"], {})
            for m in RATE_METRICS:
                if m in (row.get("metrics") or {}):
                    seen[m] = seen.get(m, 0) + 1
    return {w: max(RATE_METRICS, key=lambda m: (c.get(m, 0), -RATE_METRICS.index(m)))
            for w, c in counts.items() if c}


def observations(rows: list[dict[str, Any]]):
    """One line per usable result: ok, not flagged an outlier, with its workload's rate metric above 0."""
    import pandas as pd

    metrics = workload_metrics(rows)
    cols = ("workload", "device", "kind", *SETTING, "metric", "unit", "value", "pfc", "run_id", "result_index")
    out: dict[str, list] = {k: [] for k in cols}
    text_keys = ("precision", "framework", "scenario", "compile", "channels_last", "train_samples")
    for row in rows:
        metric = metrics.get(row.get("benchmark"))
        value = (row.get("metrics") or {}).get(metric) if metric else None
        if row.get("status") != "ok" or row.get("outlier") is True or type(value) not in (int, float) \
                or not 0 < value < math.inf:
            continue
        out["workload"].append(row["benchmark"])
        out["device"].append(row["device"])
        out["kind"].append(row.get("device_kind") or "other")
        for key in text_keys:
            out[key].append(_text(row.get(key)))
        out["framework_version"].append(_version(row.get("framework_version")))
        out["device_count"].append(int(row.get("device_count") or 1))
        out["metric"].append(metric)
        out["unit"].append((row.get("units") or {}).get(metric) or RATE_UNITS[metric])
        out["value"].append(float(value))
        pfc = row.get("peak_fraction_catalogue")
        out["pfc"].append(float(pfc) if type(pfc) in (int, float) else math.nan)
        out["run_id"].append(row.get("run_id", ""))
        out["result_index"].append(row.get("result_index", 0))
    obs = pd.DataFrame(out)
    families = {w: family_of(w).id for w in set(out["workload"])}
    obs["family"] = obs["workload"].map(families)
    labels = {(d, k): device_label(d, k) for d, k in set(zip(out["device"], out["kind"]))}
    obs["label"] = [labels[p] for p in zip(out["device"], out["kind"])]
    return obs


@dataclass
class Devices:
    """The catalogue read for prediction: a device (name, kind) -> its entry, and an entry's features."""

    entries: list[dict[str, Any]]
    by_match: dict[tuple[str, str], dict[str, Any]] = field(default_factory=dict)

    @classmethod
    def of(cls, catalogue: dict[str, Any] | None) -> "Devices":
        entries = list((catalogue or {}).get("devices") or [])
        by_match: dict[tuple[str, str], dict[str, Any]] = {}
        for e in entries:      # the names results carry (as the API joins them), then the entries' own names
            for name in e.get("matches") or []:
                by_match.setdefault((name, e.get("kind")), e)
        for e in entries:
            by_match.setdefault((e["name"], e.get("kind")), e)
        return cls(entries, by_match)

    def entry(self, device: str, kind: str) -> dict[str, Any] | None:
        return self.by_match.get((device, kind))

    def group(self, device: str, kind: str) -> str:
        """What is held out together: the catalogue entry (all its names), else the device label itself."""
        e = self.entry(device, kind)
        return f"{e['name']} ({e.get('kind')})" if e else device_label(device, kind)

    @staticmethod
    def features(entry: dict[str, Any] | None, precision: str) -> tuple[float, float, float]:
        """(log peak TFLOP/s at the precision, log FP32 peak, log bandwidth GB/s); NaN where the entry lacks one."""
        def log(v: Any) -> float:
            return math.log(v) if isinstance(v, (int, float)) and not isinstance(v, bool) and v > 0 else math.nan

        if entry is None:
            return (math.nan,) * 3
        key = PEAK_KEYS.get(precision)
        peaks = entry.get("peak_tflops") or {}
        return (log(peaks.get(key) if key else None), log(peaks.get("fp32")), log(entry.get("bandwidth_gb_s")))


def cells_of(obs, devices: Devices):
    """The median result per task and device label, with the device's features at the task's precision."""
    import numpy as np

    keys = ["workload", *SETTING]
    obs = obs.copy()
    obs["task"] = obs.groupby(keys, sort=True, observed=True).ngroup()
    cells = (obs.groupby(["task", "label"], sort=True, observed=True)
             .agg(value=("value", "median"), n=("value", "size"), pfc=("pfc", "median"), device=("device", "first"),
                  kind=("kind", "first"), family=("family", "first"), workload=("workload", "first"),
                  precision=("precision", "first"))
             .reset_index())
    cells["ly"] = np.log(cells["value"])
    _features(cells, devices)
    tasks = obs.drop_duplicates("task").set_index("task")[[*keys, "family", "metric", "unit"]].sort_index()
    return obs, cells, tasks


def _features(frame, devices: Devices) -> None:
    """Add group, lp, lf, lb to a frame with device, kind and precision columns."""
    import pandas as pd

    keys = ["device", "kind", "precision"]
    if frame.empty:
        for col in ("group", "lp", "lf", "lb"):
            frame[col] = pd.Series([], dtype=object if col == "group" else float)
        return
    uniq = frame[keys].drop_duplicates()
    table = [(d, k, p, devices.group(d, k), *devices.features(devices.entry(d, k), p))
             for d, k, p in zip(uniq["device"].tolist(), uniq["kind"].tolist(), uniq["precision"].tolist())]
    feats = pd.DataFrame(table, columns=[*keys, "group", "lp", "lf", "lb"])
    joined = frame[keys].merge(feats, on=keys, how="left")
    for col in ("group", "lp", "lf", "lb"):
        frame[col] = joined[col].to_numpy()


# ---------------------------------------------------------------------------------------------------------
# The methods: each takes the fit cells (other devices) and the target cells (task, lp, lf, lb, ...), and
# returns a numpy array of predictions aligned with the targets (NaN where it cannot predict).

def _centered(fit, cols: list[str]):
    """Within-task centered features and log values (the per-task intercepts taken out)."""
    means = fit.groupby("task", sort=False)[["ly", *cols]].transform("mean")
    return (fit[cols] - means[cols]).to_numpy(), (fit["ly"] - means["ly"]).to_numpy()


def _lam(cells, x, y) -> float:
    """The ridge penalty per cell of a level: a Gaussian prior of sd TAU on each slope against the residual
    variance of least squares on these cells, counted as one observation per device (its cells are not
    independent): var / (TAU^2 x devices)."""
    import numpy as np

    r = y - x @ np.linalg.lstsq(x, y, rcond=None)[0]
    return max(float(np.mean(r ** 2)), S2_FLOOR) / (TAU ** 2 * max(cells["label"].nunique(), 1))


def _ridge(x, y, lam: float, prior):
    import numpy as np

    n = max(len(y), 1)
    a = x.T @ x / n + lam * np.eye(x.shape[1])
    return np.linalg.solve(a, x.T @ (y - x @ prior) / n) + prior


def roofline(fit, target):
    import numpy as np

    f = fit.dropna(subset=["lp"])
    eff = (f["ly"] - f["lp"]).groupby(f["task"]).median()
    return (target["task"].map(eff) + target["lp"]).pipe(np.exp).to_numpy()


def _nearest(fit, target):
    """For each target, the nearest fit cell of its task in (log peak, log bandwidth); ties by label."""
    import numpy as np

    t = target[["task", "lp", "lb"]].reset_index(drop=True).rename_axis("tid").reset_index()
    t = t.dropna(subset=["lp", "lb"])
    f = fit.dropna(subset=["lp", "lb"])[["task", "label", "ly", "lp", "lb"]]
    c = t.merge(f, on="task", suffixes=("", "_r"))
    c["d"] = np.hypot(c["lp"] - c["lp_r"], c["lb"] - c["lb_r"])
    c = c.sort_values(["tid", "d", "label"], kind="mergesort").drop_duplicates("tid")
    return c.set_index("tid").reindex(range(len(target)))


def ratio_methods(fit, target) -> dict[str, Any]:
    import numpy as np

    c = _nearest(fit, target)
    dp, db = (c["lp"] - c["lp_r"]).to_numpy(), (c["lb"] - c["lb_r"]).to_numpy()
    ly = c["ly"].to_numpy()
    return {"flops_ratio": np.exp(ly + dp), "bandwidth_ratio": np.exp(ly + db),
            "sqrt_rule": np.exp(ly + 0.5 * (dp + db))}


def loglinear(fit, target):
    """One intercept per task, slopes on log peak and log bandwidth per family (ordinary least squares)."""
    import numpy as np

    out = np.full(len(target), np.nan)
    f = fit.dropna(subset=["lp", "lb"])
    for fam, idx in target.groupby("family", sort=True).indices.items():
        ff = f[f["family"] == fam]
        if ff.empty:
            continue
        x, y = _centered(ff, ["lp", "lb"])
        beta = np.linalg.lstsq(x, y, rcond=None)[0]
        a = (ff["ly"] - ff[["lp", "lb"]].to_numpy() @ beta).groupby(ff["task"]).mean()
        t = target.iloc[idx]
        out[idx] = np.exp(t["task"].map(a).to_numpy() + t[["lp", "lb"]].to_numpy() @ beta)
    return out


def dlbench_model(fit, target):
    """This project's model. log y = a(task) + x(device) . b(task), x = (log peak at the precision, log FP32
    peak, log bandwidth): b shrunk from all families toward PRIOR, per family toward that, per task toward its
    family's; a(task) for the target = the other devices' log values moved by b along their feature distance
    to it, averaged with Gaussian weights of that distance (width BANDWIDTH_H): the nearest devices count most.
    Fitted per set of features the targets have (lp and lb needed)."""
    import numpy as np

    out = np.full(len(target), np.nan)
    for cols, idx in _by_features(target).items():
        f = fit.dropna(subset=list(cols))
        t = target.iloc[idx]
        if f.empty:
            continue
        cols = list(cols)
        x, y = _centered(f, cols)
        glob = _ridge(x, y, _lam(f, x, y), np.array([PRIOR.get(c, 0.0) for c in cols]))
        fam_of = f["family"].to_numpy()
        slopes = {}
        for fam in np.unique(fam_of):
            sel = fam_of == fam
            slopes[fam] = _ridge(x[sel], y[sel], _lam(f[sel], x[sel], y[sel]), glob)
        cand = t[["task", "family", *cols]].reset_index(drop=True).rename_axis("tid").reset_index().merge(
            f[["task", "ly", *cols]], on="task", suffixes=("", "_r"))
        if cand.empty:
            continue
        beta = np.vstack([slopes.get(fam, glob) for fam in cand["family"]])
        beta = beta + _task_slopes(f, x, y, slopes, cols).reindex(cand["task"]).fillna(0.0).to_numpy()
        dx = cand[cols].to_numpy() - cand[[c + "_r" for c in cols]].to_numpy()
        est = cand["ly"].to_numpy() + (dx * beta).sum(axis=1)
        w = np.exp(-(dx ** 2).sum(axis=1) / (2 * BANDWIDTH_H ** 2)) + 1e-12
        s = cand.assign(we=w * est, w=w).groupby("tid")[["we", "w"]].sum()
        pred = np.full(len(t), np.nan)
        pred[s.index.to_numpy()] = np.exp((s["we"] / s["w"]).to_numpy())
        out[idx] = pred
    return out


def _task_slopes(f, x, y, slopes, cols):
    """Each task's deviation from its family's slopes: a Gaussian prior of sd TAU against the family's residual
    variance per cell (a ridge toward the family's slopes), so a task measured on few devices keeps them."""
    import numpy as np
    import pandas as pd

    fam_beta = np.vstack([slopes[fam] for fam in f["family"]])
    r = y - (x * fam_beta).sum(axis=1)
    k = len(cols)
    tasks, inv = np.unique(f["task"].to_numpy(), return_inverse=True)
    xx = np.zeros((len(tasks), k, k))
    np.add.at(xx, inv, x[:, :, None] * x[:, None, :])
    xr = np.zeros((len(tasks), k))
    np.add.at(xr, inv, x * r[:, None])
    s2 = pd.Series(r ** 2).groupby(f["family"].to_numpy()).transform("mean").groupby(inv).mean().to_numpy()
    a = xx + (np.maximum(s2, S2_FLOOR) / TAU ** 2)[:, None, None] * np.eye(k)[None]
    d = np.linalg.solve(a, xr[:, :, None])[:, :, 0]
    return pd.DataFrame(d, index=tasks)


def _by_features(target) -> dict[tuple, Any]:
    """Target positions grouped by which of FEATURES they have (those with lp and lb only)."""
    import numpy as np

    groups: dict[tuple, list[int]] = {}
    have = {c: target[c].notna().to_numpy() for c in FEATURES}
    for i in range(len(target)):
        if have["lp"][i] and have["lb"][i]:
            groups.setdefault(tuple(c for c in FEATURES if have[c][i]), []).append(i)
    return {k: np.array(v) for k, v in sorted(groups.items())}


def predict_all(fit, target) -> dict[str, Any]:
    """Every method's predictions for the targets (a dict method -> numpy array)."""
    out = {"roofline": roofline(fit, target), **ratio_methods(fit, target), "loglinear": loglinear(fit, target),
           "dlbench": dlbench_model(fit, target)}
    return {m: out[m] for m in METHODS}


def board_of(kind: str, fraction: float) -> str:
    """The scoreboard of a task on a device kind: by the task's median fraction of peak on the other devices."""
    if kind == "cpu":
        return "cpu"
    if kind not in GPU_KINDS:
        return "other"
    if fraction != fraction:
        return "gpu-no-flops"
    return "gpu-compute" if fraction >= COMPUTE_BOUND else "gpu-overhead"


def task_fractions(fit):
    """Each task's median fraction of catalogue peak over the fit devices' cells (NaN where none has one)."""
    return fit.groupby("task")["pfc"].median()


# ---------------------------------------------------------------------------------------------------------
# The fitted predictor: what `tools/predict.py` and `tools/versus.py` ask.

def split_label(label: str) -> tuple[str, str]:
    """(device name, kind) of a label `name (kind)`."""
    name, _, kind = label.rpartition(" (")
    return (name, kind[:-1]) if name and kind.endswith(")") else (label, "other")


def load_errors(path: Path | None = None) -> dict[str, Any] | None:
    """The stored evaluation summary (`--evaluate --write-errors`), or None when there is none or it is unreadable."""
    try:
        return json.loads((path or ERRORS_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


class Predictor:
    """The cells of a dataset, ready to predict any device from all the others (see the module's doc)."""

    def __init__(self, obs, cells, tasks, devices: Devices, errors: dict[str, Any] | None):
        self.obs, self.cells, self.tasks, self.devices, self.errors = obs, cells, tasks, devices, errors
        self._kinds = dict(zip(cells["label"].tolist(), cells["kind"].tolist()))
        setting = [tuple(v) for v in zip(*(tasks[k].tolist() for k in SETTING))]
        self._setting = dict(zip(tasks.index.tolist(), setting))
        self._by_workload: dict[str, list[int]] = {}
        for task, workload in zip(tasks.index.tolist(), tasks["workload"].tolist()):
            self._by_workload.setdefault(workload, []).append(task)
        self._used: dict[str, set] = {}      # label -> the settings its results were measured in
        for label, task in zip(cells["label"].tolist(), cells["task"].tolist()):
            self._used.setdefault(label, set()).add(self._setting[task])

    @classmethod
    def fit(cls, rows: list[dict[str, Any]], catalogue: dict[str, Any] | None,
            errors: Path | dict[str, Any] | None = None) -> "Predictor":
        devices = Devices.of(catalogue)
        obs, cells, tasks = cells_of(observations(rows), devices)
        stored = errors if isinstance(errors, dict) else load_errors(errors)
        return cls(obs, cells, tasks, devices, stored)

    def labels(self) -> dict[str, list[str]]:
        """Every device one can ask for: its label -> other names it answers to (its catalogue entry's name).
        Devices with results, and catalogue entries no result names."""
        out: dict[str, list[str]] = {}
        for label, kind in sorted(self._kinds.items()):
            e = self.devices.entry(split_label(label)[0], kind)
            out[label] = [e["name"]] if e and e["name"] != split_label(label)[0] else []
        named = {self.devices.group(*split_label(label)) for label in out}
        for e in self.devices.entries:
            label = device_label(e["name"], e.get("kind"))
            if label not in named and label not in out:
                out[label] = []
        return out

    def entry_of(self, label: str) -> dict[str, Any] | None:
        """The catalogue entry of a device label (None when the catalogue has none)."""
        name, kind = split_label(label)
        return self.devices.entry(name, self._kinds.get(label, kind))

    def measured(self, label: str, workload: str, setting: dict[str, Any]) -> dict[str, Any] | None:
        """The device's own results in that setting, if any: {"median", "n"} (a prediction never uses them)."""
        key = tuple(setting[k] for k in SETTING)
        tasks = [t for t in self._by_workload.get(workload, []) if self._setting[t] == key]
        c = self.cells[(self.cells["label"] == label) & self.cells["task"].isin(tasks)]
        return {"median": float(c["value"].iloc[0]), "n": int(c["n"].iloc[0])} if len(c) else None

    def settings(self, workload: str, precision: str | None = None) -> list[dict[str, Any]]:
        """The settings (tasks) the dataset has of a workload, at a precision if given."""
        return [{"task": t, **dict(zip(SETTING, self._setting[t]))} for t in self._by_workload.get(workload, [])
                if precision is None or self._setting[t][0] == precision]

    def _order(self, task: int, label: str, fit_devices: dict[int, int]) -> tuple:
        """Which setting to predict first: one device per system, a setting the device measured other
        workloads in, the most devices measured, the newest framework version, then the first."""
        setting = self._setting[task]
        version = tuple(int(p) if p.isdigit() else -1 for p in setting[2].split(".")) if setting[2] else ()
        return (setting[6] != 1, setting not in self._used.get(label, ()), -fit_devices[task],
                tuple(-v for v in version), task)

    def predict(self, device_label: str, workload: str, precision: str | None = None) -> dict[str, Any] | None:
        return self.predict_many(device_label, [(workload, precision)])[0]

    def predict_many(self, device_label: str, asks: list[tuple[str, str | None]]) -> list[dict[str, Any] | None]:
        """Each (workload, precision) predicted for the device from every other device (None where no method
        can): in the first setting by `_order` that some method predicts, by the first method of FALLBACK that
        does. One fit of every method for all the asks."""
        import numpy as np
        import pandas as pd

        name, kind = split_label(device_label)
        kind = self._kinds.get(device_label, kind)
        group = self.devices.group(name, kind)
        fit = self.cells[self.cells["group"] != group]
        fit_devices = fit.groupby("task")["label"].nunique().to_dict()
        wanted: list[list[int]] = []
        for workload, precision in asks:
            ids = [t for t in self._by_workload.get(workload, []) if t in fit_devices
                   and (precision is None or self._setting[t][0] == precision)]
            ids.sort(key=lambda t: self._order(t, device_label, fit_devices))
            wanted.append(ids)
        every = sorted({i for ids in wanted for i in ids})
        if not every:
            return [None] * len(asks)
        target = pd.DataFrame({"task": every, "label": device_label, "device": name, "kind": kind,
                               "family": self.tasks.loc[every, "family"].to_numpy(),
                               "precision": self.tasks.loc[every, "precision"].to_numpy()})
        _features(target, self.devices)
        preds = predict_all(fit, target)
        pos = {t: i for i, t in enumerate(every)}
        fractions = task_fractions(fit).to_dict()
        metric, unit = self.tasks["metric"].to_dict(), self.tasks["unit"].to_dict()
        out: list[dict[str, Any] | None] = []
        for ids in wanted:
            answer = None
            for task in ids:
                i = pos[task]
                method = next((m for m in FALLBACK if not np.isnan(preds[m][i])), None)
                if method is None:
                    continue
                board = board_of(kind, float(fractions.get(task, math.nan)))
                answer = {"value": float(preds[method][i]), "metric": metric[task], "unit": unit[task],
                          "method": method, "error": self.error_of(board, method), "scoreboard": board,
                          "fit_devices": int(fit_devices[task]),
                          "predicted_setting": dict(zip(SETTING, self._setting[task]))}
                break
            out.append(answer)
        return out

    def error_of(self, board: str, method: str) -> dict[str, Any] | None:
        """The method's measured error on the board, from the stored evaluation summary (None if not there)."""
        m = (((self.errors or {}).get("boards") or {}).get(board) or {}).get("methods", {}).get(method)
        if not m or m.get("mape") is None:
            return None
        return {"scoreboard": board, "mape": m["mape"], "median_ape": m["median_ape"], "within_25": m["within_25"],
                "within_15": m.get("within_15"), "devices": (self.errors["boards"][board] or {}).get("devices")}

