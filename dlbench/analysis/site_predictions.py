"""The predictions the published page shows for what a device did not measure (written with the site).

For every device with results, each (workload, precision) that another device has an `ok` result of and it
has none: the predictor's answer (`dlbench.analysis.predict`), fitted once on every row, as `tools/versus.py`
asks it. The page's comparison view labels them apart and never puts them in a summary. Slim on purpose: the
value, its metric and unit, the method, the method's measured error, and the setting it was predicted in.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from ..store.api_rows import BY_DEVICE_NAME, Api, label_of
from .versus import ERROR_KEYS     # a prediction's error as versus shows it



def predictions(rows: list[dict[str, Any]], catalogue: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """{device label: its file's body} in a fixed order (deterministic), compact (about 80 bytes a prediction):

        {"errors": {"BOARD METHOD": {scoreboard, mape, median_ape, ...}},   the methods' measured errors
         "units": {workload: [metric, unit]},
         "predictions": [[workload, precision, value, method, "BOARD METHOD" or null, device count], ...]}
    """
    from .predict import Predictor

    have: dict[str, set] = defaultdict(set)
    for row in rows:
        if row.get("status") == "ok":
            have[label_of(row)].add((row["benchmark"], row.get("precision")))
    every = set().union(*have.values()) if have else set()
    predictor = Predictor.fit(rows, catalogue)
    out: dict[str, dict[str, Any]] = {}
    for label in sorted(have):
        asks = sorted(every - have[label], key=lambda a: (a[0], a[1] or ""))
        answers = predictor.predict_many(label, asks) if asks else []
        errors: dict[str, Any] = {}
        units: dict[str, list[str]] = {}
        found = []
        for (workload, precision), a in zip(asks, answers):
            if not a:
                continue
            key = None
            if a.get("error"):
                key = f"{a['error'].get('scoreboard')} {a['method']}"
                errors[key] = {k: a["error"][k] for k in ERROR_KEYS if k in a["error"]}
            units[workload] = [a["metric"], a["unit"]]
            found.append([workload, precision, a["value"], a["method"], key,
                          (a.get("predicted_setting") or {}).get("device_count") or 1])
        if found:
            out[label] = {"errors": dict(sorted(errors.items())), "units": dict(sorted(units.items())),
                          "predictions": found}
    return out


def expand(body: dict[str, Any]) -> dict[tuple[str, str | None], dict[str, Any]]:
    """A device's file body back as {(workload, precision): answer}, answers shaped as the predictor gives them
    (`value`, `metric`, `unit`, `method`, `error`, `predicted_setting.device_count`): what the page reads."""
    out = {}
    for workload, precision, value, method, key, count in body["predictions"]:
        metric, unit = body["units"][workload]
        out.setdefault((workload, precision), {"value": value, "metric": metric, "unit": unit, "method": method,
                                               "error": body["errors"].get(key) if key else None,
                                               "predicted_setting": {"device_count": count}})
    return out


class FilePredictor:
    """The predictions of a published site's API (its `by-device/<device>/predicted.json` files), asked as the
    fitted predictor is (`predict_many`): what the comparison page shows, read the same way."""

    def __init__(self, answers: dict[str, dict[tuple[str, str | None], dict[str, Any]]]):
        self.answers = answers

    @classmethod
    def of_api(cls, api: Api, labels: list[str] | None = None) -> "FilePredictor | None":
        """The API's prediction files (of these device labels, default all), or None when it has none (a committed
        API: they are written with the site)."""
        if not api.exists(BY_DEVICE_NAME):
            return None
        listing = api.read(BY_DEVICE_NAME)
        answers = {e["label"]: expand(api.read(e["predicted"])) for e in listing["devices"]
                   if e.get("predicted") and (labels is None or e["label"] in labels)}
        return cls(answers)

    def predict_many(self, label: str, asks: list[tuple[str, str | None]]) -> list[dict[str, Any] | None]:
        mine = self.answers.get(label, {})
        return [mine.get(ask) for ask in asks]
