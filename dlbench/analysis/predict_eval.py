"""Leave-one-device-out evaluation of the prediction methods, scored per scoreboard (docs/predict.md).

Every catalogue entry (all the device names it matches, every host) and every device without an entry is
held out in turn: the methods are fitted on the cells of all other devices and predict each task the
held-out device ran that at least one other device ran too. Every held-out result (row) is then scored
against its cell's prediction. Scoreboards (`predict.board_of`): GPU tasks whose median fraction of
datasheet peak on the other devices is at least 5 % (`gpu-compute`, the headline), under 5 %
(`gpu-overhead`), GPU tasks without a FLOP count (`gpu-no-flops`: no fraction is known), CPUs, other
accelerators. Within a scoreboard, methods are scored on the same rows: those every method predicts. The
dlbench model's power caps are fitted in each fold on the other devices alone (`predict.power_caps`) and
stated per board (their range over its devices).

Metrics, each computed per device (label) first and then averaged over devices: mean and median absolute
percentage error, the geometric error factor exp(mean |ln(pred / measured)|), the shares within 10, 15 and
25 %; pairwise order accuracy over pairs of held-out devices more than 1.1x apart on a task; bootstrap
intervals over devices (seeded); and the dataset's noise floor (spread of one result against the others of
its device and setting, of the names of one catalogue entry, and of framework versions).
"""

from __future__ import annotations

import math
from typing import Any

from .predict import METHODS, power_caps, predict_all
from .predict_data import BOARDS, Devices, board_of, cells_of, observations, task_fractions

ORDER_RATIO = 1.1
BOOTSTRAP = 1000
SEED = 0
WITHIN = (10, 15, 25)
TARGET = {"mape": 10.0, "median_ape": 7.0, "within_15": 80.0, "order_accuracy": 95.0, "beat_loglinear": 2.0}


def held_out(rows: list[dict[str, Any]], catalogue: dict[str, Any] | None):
    """(observations, cell predictions): every method's prediction for every held-out cell, with its board."""
    import numpy as np
    import pandas as pd

    devices = Devices.of(catalogue)
    obs, cells, tasks = cells_of(observations(rows), devices)
    parts = []
    for group, target in cells.groupby("group", sort=True):
        fit = cells[cells["group"] != group]
        target = target[target["task"].isin(fit["task"])]
        if target.empty:
            continue
        caps = power_caps(fit)
        preds = predict_all(fit, target, caps)
        frac = target["task"].map(task_fractions(fit)).to_numpy()
        part = target[["task", "label", "group", "kind", "family", "workload", "value"]].copy()
        part["board"] = [board_of(k, f) for k, f in zip(part["kind"], frac)]
        part["fit_devices"] = target["task"].map(fit.groupby("task")["label"].nunique()).to_numpy()
        part["power_cap"] = target["kind"].map(caps).fillna(math.inf).to_numpy(dtype=float)
        for m in METHODS:
            part[m] = preds[m]
        parts.append(part)
    cols = ["task", "label", "group", "kind", "family", "workload", "value", "board", "fit_devices", "power_cap",
            *METHODS]
    cp = pd.concat(parts, ignore_index=True) if parts else pd.DataFrame({c: [] for c in cols})
    cp = cp.astype({"task": np.int64}) if len(cp) else cp
    return obs, cp, tasks


def scored_rows(obs, cp):
    """Every held-out result with its measured value, its board and each method's prediction."""
    keep = ["task", "label", "board", "fit_devices", "group", *METHODS]
    return obs.merge(cp[keep], on=["task", "label"], how="inner").sort_values(
        ["board", "label", "workload", "task", "run_id", "result_index"], kind="mergesort").reset_index(drop=True)


def _per_device(rows, method: str):
    import numpy as np
    import pandas as pd

    ratio = rows[method].to_numpy() / rows["value"].to_numpy()
    ape = np.abs(ratio - 1) * 100
    frame = pd.DataFrame({"label": rows["label"].to_numpy(), "ape": ape, "ln": np.abs(np.log(ratio))})
    for w in WITHIN:
        frame[f"w{w}"] = (ape <= w) * 100.0
    g = frame.groupby("label", sort=True)
    out = g.agg(rows=("ape", "size"), mape=("ape", "mean"), median_ape=("ape", "median"), ln=("ln", "mean"),
                **{f"within_{w}": (f"w{w}", "mean") for w in WITHIN})
    return out


def order_accuracy(cells, method: str) -> tuple[float | None, int]:
    """Share of pairs of held-out devices (other catalogue entries) on one task, measured more than 1.1x
    apart, that the method puts in the right order; and the number of such pairs."""
    import numpy as np

    c = cells[["task", "label", "group", "value", method]].dropna()
    p = c.merge(c, on="task", suffixes=("_a", "_b"))
    p = p[(p["label_a"] < p["label_b"]) & (p["group_a"] != p["group_b"])]
    meas = np.log(p["value_a"].to_numpy() / p["value_b"].to_numpy())
    far = np.abs(meas) > np.log(ORDER_RATIO)
    if not far.any():
        return None, 0
    pred = np.log(p[f"{method}_a"].to_numpy() / p[f"{method}_b"].to_numpy())
    right = np.sign(pred[far]) == np.sign(meas[far])
    return float(right.mean() * 100), int(far.sum())


def _bootstrap(per_device, cols: list[str], rng) -> dict[str, list[float]]:
    import numpy as np

    values = per_device[cols].to_numpy()
    n = len(values)
    if n < 2:
        return {}
    idx = rng.integers(0, n, size=(BOOTSTRAP, n))
    means = values[idx].mean(axis=1)
    lo, hi = np.percentile(means, [2.5, 97.5], axis=0)
    return {c: [float(lo[i]), float(hi[i])] for i, c in enumerate(cols)}


def score_board(rows, cells, board: str) -> dict[str, Any]:
    """The metrics of every method on one board, on the rows every method predicts."""
    import numpy as np

    mine = rows[rows["board"] == board]
    common = mine.dropna(subset=list(METHODS))
    ccells = cells[(cells["board"] == board)].dropna(subset=list(METHODS))
    out: dict[str, Any] = {"board": board, "held_out_rows": int(len(mine)), "rows": int(len(common)),
                           "devices": int(common["label"].nunique()), "tasks": int(common["task"].nunique()),
                           "workloads": int(common["workload"].nunique()), "methods": {}}
    caps = ccells.groupby("label")["power_cap"].first().to_numpy()
    finite = caps[np.isfinite(caps)]
    out["power_cap"] = {"min": float(finite.min()) if len(finite) else None,
                        "max": float(finite.max()) if len(finite) else None, "uncapped": int(len(caps) - len(finite))}
    rng = np.random.default_rng(SEED)
    per = {}
    for m in METHODS:
        cov = float(mine[m].notna().mean() * 100) if len(mine) else None
        if common.empty:
            out["methods"][m] = {"coverage": cov}
            continue
        pd_ = _per_device(common, m)
        per[m] = pd_
        acc, pairs = order_accuracy(ccells, m)
        cols = ["mape", "median_ape", *(f"within_{w}" for w in WITHIN)]
        res = {c: float(pd_[c].mean()) for c in cols}
        res["error_factor"] = float(np.exp(pd_["ln"].mean()))
        res.update(order_accuracy=acc, pairs=pairs, coverage=cov, interval=_bootstrap(pd_, cols, rng))
        out["methods"][m] = res
    if per:
        diff = per["loglinear"][["mape"]] - per["dlbench"][["mape"]]
        out["dlbench_vs_loglinear"] = {"points": float(diff["mape"].mean()),
                                       "interval": _bootstrap(diff, ["mape"], rng).get("mape")}
        table = per["dlbench"][["rows"]].copy()
        for m in METHODS:
            table[m] = per[m]["mape"]
        out["per_device"] = [{"device": k, **{c: _num(v) for c, v in r.items()}} for k, r in table.iterrows()]
        out["per_workload"] = _per_workload(common)
        out["limits"] = _limits(common)
    return out


def _limits(common) -> dict[str, Any]:
    """What limits the dlbench model (a diagnostic, not a prediction: it uses the held-out values): each device's
    median error, and the mean error left if that one number per device were known."""
    import numpy as np

    ln = np.log(common["dlbench"].to_numpy() / common["value"].to_numpy())
    frame = common[["label"]].assign(ln=ln)
    bias = frame.groupby("label")["ln"].transform("median").to_numpy()
    frame = frame.assign(ape=np.abs(np.exp(ln - bias) - 1) * 100)
    per = frame.groupby("label", sort=True)
    return {"device_bias": {k: float((np.exp(v) - 1) * 100) for k, v in per["ln"].median().items()},
            "debiased_mape": float(per["ape"].mean().mean()),
            "debiased_median_ape": float(per["ape"].median().mean())}


def _per_workload(common) -> list[dict[str, Any]]:
    import numpy as np

    frame = common[["workload", "label"]].copy()
    for m in METHODS:
        frame[m] = np.abs(common[m].to_numpy() / common["value"].to_numpy() - 1) * 100
    g = frame.groupby("workload", sort=True)
    table = g[list(METHODS)].mean()
    table.insert(0, "devices", g["label"].nunique())
    table.insert(0, "rows", g.size())
    return [{"workload": k, **{c: _num(v) for c, v in r.items()}} for k, r in table.iterrows()]


def _num(v: Any) -> Any:
    f = float(v)
    return int(f) if f.is_integer() and abs(f) < 2**53 else f


def noise_floor(obs, rows) -> dict[str, dict[str, Any]]:
    """Per board, how far one measurement lies from the median of the others of the same device and setting:
    one result from the other results of its cell (repeats and hosts), one name of a catalogue entry from its
    other names, one framework version from the others; mean absolute percentage error per device, then
    averaged over devices. The best a predictor of one result can expect."""
    # (a) repeats and hosts: each result against the other results of its cell
    a = _leave_one_out(rows[["task", "label", "board", "value"]], ["task", "label"])
    # (b) names of one catalogue entry: each name's cell against the other names' cells of that entry
    cells = rows.groupby(["task", "label", "group", "board"], sort=True)["value"].median().reset_index()
    b = _leave_one_out(cells, ["task", "group"])
    # (c) framework versions: same device, workload and setting but the version (the board of the setting
    # where some version of it was scored)
    key = ["workload", "label", "precision", "framework", "scenario", "compile", "channels_last", "device_count",
           "train_samples"]
    o = obs.merge(rows.drop_duplicates(key)[[*key, "board"]], on=key, how="inner")
    c = _leave_one_out(o.groupby([*key, "framework_version", "board"], sort=True)["value"].median().reset_index(),
                       key)
    return {board: {name: _spread(frame, board) for name, frame in
                    (("repeats_and_hosts", a), ("catalogue_names", b), ("framework_versions", c))}
            for board in BOARDS}


def _leave_one_out(frame, keys: list[str]):
    """The lines of groups of 2 or more, each with `ape`: its value against the median of the others."""
    import numpy as np

    f = frame[frame.groupby(keys)["value"].transform("size") >= 2].sort_values(keys, kind="mergesort")
    ape = []
    for _, vals in f.groupby(keys, sort=True)["value"]:
        v = vals.to_numpy()
        ape.extend(abs(v[i] / np.median(np.delete(v, i)) - 1) * 100 for i in range(len(v)))
    return f.assign(ape=np.array(ape, dtype=float))


def _spread(frame, board: str) -> dict[str, Any]:
    f = frame[frame["board"] == board]
    if f.empty:
        return {"rows": 0, "devices": 0, "mape": None}
    per = f.groupby("label")["ape"].mean()
    return {"rows": int(len(f)), "devices": int(len(per)), "mape": float(per.mean()),
            "median_ape": float(f.groupby("label")["ape"].median().mean())}


def evaluate(rows: list[dict[str, Any]], catalogue: dict[str, Any] | None) -> tuple[dict[str, Any], Any]:
    """(the evaluation summary, every held-out row scored): the summary is JSON-ready."""
    obs, cp, tasks = held_out(rows, catalogue)
    rows_df = scored_rows(obs, cp)
    boards = {b: score_board(rows_df, cp, b) for b in BOARDS}
    noise = noise_floor(obs, rows_df)
    for b in BOARDS:
        boards[b]["noise_floor"] = noise[b]
    summary = {"methods": list(METHODS), "boards": boards, "target": TARGET,
               "held_out_groups": int(cp["group"].nunique()) if len(cp) else 0,
               "results_used": int(len(obs)), "tasks": int(len(tasks))}
    return summary, rows_df
