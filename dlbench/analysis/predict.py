"""Predicting a device's throughput on a workload it did not run: from the other devices and the catalogue.

`predict_data.py` prepares the cells the methods fit: a task's median per device, with the device's catalogue
features. Tasks are never pooled: a prediction is for one task, from what other devices measured in that very
task. Methods (docs/predict.md), each fitted on the cells of the other devices only:

- `roofline`: the task's median fraction of datasheet peak over the other devices x the device's peak;
- `flops_ratio`, `bandwidth_ratio`, `sqrt_rule`: the nearest measured device (in log peak and log bandwidth)
  scaled by the peak ratio, the bandwidth ratio, or sqrt(peak ratio x bandwidth ratio);
- `loglinear`: log y = a_task + b1 log peak + b2 log bandwidth, one intercept per task, slopes per family;
- `dlbench`: this project's model (`dlbench_model`): slopes on log effective peak (the datasheet peak capped
  at k x TDP, k fitted on the other devices of its kind: `power_caps`), log FP32 peak and log bandwidth,
  shrunk from all families toward a square-root-rule prior, per family toward those and per task toward its
  family's, the task's level taken from the devices nearest to the one predicted.

`Predictor.fit(rows, catalogue)` prepares the cells once; `predict(label, workload, precision)` fits the
methods on every device but the one asked for (and any other name of its catalogue entry), exactly as the
leave-one-device-out evaluation (`predict_eval.py`) does, so its value is the evaluation's for that device.
"""

from __future__ import annotations

import functools
import json
import math
from pathlib import Path
from typing import Any

from ..store.labels import device_label
from .predict_data import (BOARDS, COMPUTE_BOUND, GPU_KINDS, PEAK_KEYS, RATE_METRICS, RATE_UNITS,  # noqa: F401
                           SETTING, Devices, add_features, board_of, cells_of, observations, split_label,
                           task_fractions, workload_metrics)     # (the data preparation's names, importable here too)

METHODS = ("roofline", "flops_ratio", "bandwidth_ratio", "sqrt_rule", "loglinear", "dlbench")
FALLBACK = ("dlbench", "loglinear", "sqrt_rule", "roofline", "flops_ratio", "bandwidth_ratio")
ERRORS_FILE = Path(__file__).with_name("predict_errors.json")
# The model's constants (docs/predict.md, "The dlbench model"): its features; the prior slopes (the square-root
# rule, compute split between the matrix and the vector units); the prior's sd on every slope (TAU), which with
# the cells' residual variance (floored at 1 % noise) and the number of devices sets each level's ridge penalty;
# the anchoring width; the candidate power caps, TFLOP/s per watt of TDP (0.1 to 10 in 80 steps of 5.9 %).
FEATURES = ("lp", "lf", "lb")
PRIOR = {"lp": 0.25, "lf": 0.25, "lb": 0.5}
TAU = 0.1
S2_FLOOR = 1e-4
BANDWIDTH_H = 0.5
CAP_GRID = tuple(0.1 * 100 ** (i / 80) for i in range(81))


# ---------------------------------------------------------------------------------------------------------
# The methods: each takes the fit cells (other devices) and the target cells (task, lp, lf, lb, lt, ...), and
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


def power_cap(fit) -> float:
    """k of the dlbench model's power cap (effective peak = min(datasheet peak, k x TDP), TFLOP/s per watt),
    chosen on the fit cells alone: of CAP_GRID and no cap (inf), the one under which they follow per-family
    log-linear laws best. Each family's least squares on (capped log peak, log FP32 peak, log bandwidth),
    within-task centred; the score is the sum over families of their mean squared residual (families count
    the same, so those with many devices weigh as much as the one with most cells). A cell without a TDP is
    not capped."""
    import numpy as np
    import pandas as pd

    f = fit[["task", "family", "ly", *FEATURES, "lt"]].dropna(subset=list(FEATURES))
    lt = f["lt"].to_numpy(dtype=float)
    if f.empty or np.isnan(lt).all():
        return math.inf
    task, fam = pd.factorize(f["task"])[0], pd.factorize(f["family"])[0]
    count, per_fam = np.bincount(task), np.bincount(fam)
    by_fam = (fam[None, :] == np.arange(len(per_fam))[:, None]).astype(float)      # sums per family: by_fam @ v

    def centred(v):
        return v - (np.bincount(task, v) / count)[task]

    lp = f["lp"].to_numpy(dtype=float)
    lf, lb, y = (centred(f[c].to_numpy(dtype=float)) for c in ("lf", "lb", "ly"))
    ff, fb, bb, fy, by, yy = (by_fam @ np.column_stack([lf * lf, lf * lb, lb * lb, lf * y, lb * y, y * y])).T

    def score(lpk) -> float:
        p = centred(lpk)
        pp, pf, pb, py = (by_fam @ np.column_stack([p * p, p * lf, p * lb, p * y])).T
        xx = np.stack([np.stack([pp, pf, pb], 1), np.stack([pf, ff, fb], 1), np.stack([pb, fb, bb], 1)], 1)
        xy = np.stack([py, fy, by], 1)
        w, v = np.linalg.eigh(xx)                  # least squares per family: a pseudo-inverse of x'x
        keep = w > 1e-10 * np.maximum(w[:, -1:], 1e-300)
        proj = np.einsum("fji,fj->fi", v, xy)
        explained = np.where(keep, proj ** 2 / np.where(keep, w, 1.0), 0.0).sum(1)
        return float((np.maximum(yy - explained, 0.0) / per_fam).sum())

    ks = (*CAP_GRID, math.inf)
    score_of = functools.cache(lambda i: (score(_capped(lp, lt, ks[i])), -i))     # ties go to the larger k
    # no cap and every 4th k of the grid, then the k next to the best of those
    best = min([len(CAP_GRID), *range(len(CAP_GRID) - 1, -1, -4)], key=score_of)
    return ks[min(range(max(best - 3, 0), min(best + 4, len(ks))), key=score_of)]


def power_caps(fit) -> dict[str, float]:
    """The power cap of each device kind (cuda, rocm, tpu, ...), each fitted on that kind's cells alone: the
    watts of one maker's chips say nothing of another's."""
    return {kind: power_cap(part) for kind, part in fit.groupby("kind", sort=True)}


def _capped(lp, lt, k):
    """Log peak capped at log(k x TDP) (k a number or one per cell); unchanged where the TDP (or the peak) is
    unknown, or k is inf."""
    import numpy as np

    with np.errstate(divide="ignore"):
        cap = np.log(k) + lt
    return np.where(lp > cap, cap, lp)


def dlbench_model(fit, target, caps: dict[str, float] | None = None):
    """This project's model. log y = a(task) + x(device) . b(task), x = (log effective peak at the precision,
    log FP32 peak, log bandwidth), the effective peak capped at k x TDP, k of the device's kind (`caps`, else
    `power_caps` of the fit cells): b shrunk from all families toward PRIOR, per family toward that, per task
    toward its family's; a(task) for the target = the other devices' log values moved by b along their feature
    distance to it, averaged with Gaussian weights of that distance (width BANDWIDTH_H): the nearest devices
    count most. Fitted per set of features the targets have (lp and lb needed)."""
    import numpy as np

    caps = power_caps(fit) if caps is None else caps
    fit, target = (f.assign(lp=_capped(f["lp"].to_numpy(), f["lt"].to_numpy(),
                                       f["kind"].map(caps).fillna(math.inf).to_numpy(dtype=float)))
                   for f in (fit, target))
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
        families = sorted(set(fam_of.tolist()))     # each family's slopes, then the global ones:
        table = np.vstack([_ridge(x[s], y[s], _lam(f[s], x[s], y[s]), glob) for s in [fam_of == m for m in families]]
                          + [glob])
        position = {fam: i for i, fam in enumerate(families)}
        cand = t[["task", "family", *cols]].reset_index(drop=True).rename_axis("tid").reset_index().merge(
            f[["task", "ly", *cols]], on="task", suffixes=("", "_r"))
        if cand.empty:
            continue
        beta = table[[position.get(fam, len(families)) for fam in cand["family"].tolist()]]
        fit_beta = table[[position[fam] for fam in fam_of.tolist()]]
        beta = beta + _task_slopes(f, x, y, fit_beta).reindex(cand["task"]).fillna(0.0).to_numpy()
        dx = cand[cols].to_numpy() - cand[[c + "_r" for c in cols]].to_numpy()
        est = cand["ly"].to_numpy() + (dx * beta).sum(axis=1)
        w = np.exp(-(dx ** 2).sum(axis=1) / (2 * BANDWIDTH_H ** 2)) + 1e-12
        s = cand.assign(we=w * est, w=w).groupby("tid")[["we", "w"]].sum()
        pred = np.full(len(t), np.nan)
        pred[s.index.to_numpy()] = np.exp((s["we"] / s["w"]).to_numpy())
        out[idx] = pred
    return out


def _task_slopes(f, x, y, fam_beta):
    """Each task's deviation from its family's slopes (`fam_beta`, one row per fit cell): a Gaussian prior of sd
    TAU against the family's residual variance per cell (a ridge toward the family's slopes), so a task
    measured on few devices keeps them."""
    import numpy as np
    import pandas as pd

    r = y - (x * fam_beta).sum(axis=1)
    k = x.shape[1]
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

    have = np.column_stack([target[c].notna().to_numpy() for c in FEATURES])
    usable = have[:, FEATURES.index("lp")] & have[:, FEATURES.index("lb")]
    code = np.where(usable, have @ (1 << np.arange(len(FEATURES))), -1)
    return {tuple(name for i, name in enumerate(FEATURES) if c >> i & 1): np.flatnonzero(code == c)
            for c in sorted(set(code.tolist()) - {-1})}


def predict_all(fit, target, caps: dict[str, float] | None = None) -> dict[str, Any]:
    """Every method's predictions for the targets (a dict method -> numpy array); `caps`: the dlbench model's
    power caps when already known (`power_caps(fit)`)."""
    out = {"roofline": roofline(fit, target), **ratio_methods(fit, target), "loglinear": loglinear(fit, target),
           "dlbench": dlbench_model(fit, target, caps)}
    return {m: out[m] for m in METHODS}


# ---------------------------------------------------------------------------------------------------------
# The fitted predictor: what `tools/predict.py` and `tools/versus.py` ask.

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
        ids = tasks.index.tolist()
        setting = [tuple(v) for v in zip(*(tasks[k].tolist() for k in SETTING))]
        self._setting = dict(zip(ids, setting))
        self._metric = dict(zip(ids, tasks["metric"].tolist()))
        self._unit = dict(zip(ids, tasks["unit"].tolist()))
        self._family = dict(zip(ids, tasks["family"].tolist()))
        # the parts of a setting's rank (`_order`) the device does not change: one device per system, newest version
        self._rank = {t: (s[6] != 1, tuple(-(int(p) if p.isdigit() else -1) for p in s[2].split(".")) if s[2] else ())
                      for t, s in self._setting.items()}
        self._by_workload: dict[str, list[int]] = {}
        for task, workload in zip(ids, tasks["workload"].tolist()):
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
        single, version = self._rank[task]
        return (single, self._setting[task] not in self._used.get(label, ()), -fit_devices[task], version, task)

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
        counts = fit.groupby("task")["label"].nunique()
        fit_devices = dict(zip(counts.index.tolist(), counts.tolist()))
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
                               "family": [self._family[t] for t in every],
                               "precision": [self._setting[t][0] for t in every]})
        add_features(target, self.devices)
        preds = predict_all(fit, target)
        pos = {t: i for i, t in enumerate(every)}
        fractions = task_fractions(fit).reindex(every).to_numpy()
        out: list[dict[str, Any] | None] = []
        for ids in wanted:
            answer = None
            for task in ids:
                i = pos[task]
                method = next((m for m in FALLBACK if not np.isnan(preds[m][i])), None)
                if method is None:
                    continue
                board = board_of(kind, float(fractions[i]))
                answer = {"value": float(preds[method][i]), "metric": self._metric[task], "unit": self._unit[task],
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
