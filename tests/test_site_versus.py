"""The "compare two devices" page (site/versus.html) in headless Chromium against `tools/versus.py --format json`
on the same API, served over loopback HTTP: the same figures, shown as the command rounds them."""

from __future__ import annotations

import json
import math
import shutil
import urllib.parse
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Page, expect

import sitedata
from conftest import REPO, run_tool
from dlbench.contract.device_catalogue import default_catalogue
from dlbench.contract.fragment import with_run_id
from dlbench.store import by_device, shards
from dlbench.store.synthetic import synthetic_run

A, B = "NVIDIA RTX 5090", "NVIDIA RTX 4090"          # in the catalogue: the 5090 lists fp4 and no int8, the 4090 both
A_LABEL, B_LABEL = f"{A} (cuda)", f"{B} (cuda)"
TINY = "NVIDIA RTX 3050"                               # no setting in common with A: exit 1, nothing to compare
API = "data/api/v1"
PLAIN = "plain/data/api/v1"                            # the same API without the per-device files
PRED = "pred/data/api/v1"                              # with per-device files and a file of predictions for B
NOT_MEASURED = "timm-infer-eta-224"                    # A ran it, B did not: predicted for B in PRED
# B's predictions file in the site build's layout (dlbench/analysis/site_predictions.py); mape in percent
PREDICTED = {"errors": {"gpu-compute roofline-median": {"scoreboard": "gpu-compute", "mape": 12.3}},
             "units": {NOT_MEASURED: ["throughput_samples_per_s", "samples/s"]},
             "predictions": [[NOT_MEASURED, "mixed-fp16", 1234.5, "roofline-median", "gpu-compute roofline-median", 1]]}

# (workload, device, precision, batch size, values (None: out of memory; a string: an error's message), metric)
SPEC = [
    ("timm-infer-alpha-224", A, "mixed-fp16", 256, [2000.0, 2040.0, 1980.0], None),     # 2x, repeated on both sides
    ("timm-infer-alpha-224", B, "mixed-fp16", 256, [1000.0, 1010.0, 990.0], None),
    ("timm-infer-beta-224", A, "mixed-fp16", 256, [900.0], None),                       # 0.9: a loss, single results
    ("timm-infer-beta-224", B, "mixed-fp16", 256, [1000.0], None),
    ("timm-infer-gamma-224", A, "mixed-fp16", 256, [1020.0], None),                     # within 5 %: a tie
    ("timm-infer-gamma-224", B, "mixed-fp16", 256, [1000.0], None),
    ("timm-infer-delta-224", A, "mixed-fp16", 256, [1400.0, 800.0], None),              # 1.1 but noisy: ~
    ("timm-infer-delta-224", B, "mixed-fp16", 256, [1000.0, 1001.0], None),
    ("timm-train-epsilon-224", A, "mixed-bf16", 256, [800.0], None),                    # B out of memory at 512
    ("timm-train-epsilon-224", A, "mixed-bf16", 512, [820.0], None),
    ("timm-train-epsilon-224", B, "mixed-bf16", 256, [500.0], None),
    ("timm-train-epsilon-224", B, "mixed-bf16", 512, [None], None),
    ("timm-infer-zeta-224", A, "mixed-fp16", 64, [3000.0], None),                       # nearest comparable: 64 vs 32
    ("timm-infer-zeta-224", B, "mixed-fp16", 32, [2000.0], None),
    (NOT_MEASURED, A, "mixed-fp16", 256, [1500.0], None),                               # not measured on B
    ("timm-infer-theta-224", B, "int8", 256, [4000.0], None),                           # a precision A lacks
    ("timm-infer-iota-224", A, "mixed-fp16", 256, [700.0], None),                       # B failed
    ("timm-infer-iota-224", B, "mixed-fp16", 256, ["CUDA error: an illegal memory access"], None),
    ("mnist-lenet5", A, "fp32", 512, [50.0], "total_s"),                                # lower is better: 2x
    ("mnist-lenet5", B, "fp32", 512, [100.0], "total_s"),
    ("peak-gemm", A, "fp16", 8192, [150e12], "achieved_flops_per_s"),                  # no headline: peak metric
    ("peak-gemm", B, "fp16", 8192, [100e12], "achieved_flops_per_s"),
    ("timm-infer-alpha-224", sitedata.INJECTION, "mixed-fp16", 256, [1500.0], None),
    ("timm-infer-kappa-224", TINY, "mixed-fp16", 256, [100.0], None),
]


def _run(i: int, workload: str, device: str, precision: str, batch: int, value: Any, metric: str | None) -> dict:
    run = synthetic_run(i)
    res = run["results"][0]
    res.update(benchmark=workload, device_name=device, device_kind="cuda", precision=precision, batch_size=batch,
               model=workload, status="ok")
    run["system"]["accelerators"] = [{"kind": "cuda", "name": device, "normalized_name": device, "count": 1}]
    if value is None:
        res.update(status="oom", message="CUDA out of memory. Tried to allocate 2.00 GiB")
        res["metrics"] = {}
    elif isinstance(value, str):
        res.update(status="error", message=value)
        res["metrics"] = {}
    else:
        res["metrics"] = {metric or "throughput_samples_per_s": value}
    if metric != "total_s":       # imported from a published table; the lower-is-better workload is measured
        run.pop("started_at"), run.pop("finished_at")
        run["provenance"] = {"kind": "imported", "source": {
            "title": "published table", "repository": "example/bench", "commit": f"{i:040x}",
            "path": f"results/{device.split()[-1]}.csv", "row": f"model={workload}, n={i}", "license": "CC0-1.0"}}
    return with_run_id(run)


def runs() -> list[dict]:
    out = []
    for workload, device, precision, batch, values, metric in SPEC:
        for value in values:
            out.append(_run(len(out), workload, device, precision, batch, value, metric))
    return out


def _write(folder: Path, files: dict[str, bytes]) -> Path:
    sitedata.write_api(folder, files)
    return folder / API


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    """(base URL, API folder): site/ with the API (and its per-device files) at data/api/v1, the same without the
    per-device files at plain/, and with a file of predictions for B at pred/."""
    www = tmp_path_factory.mktemp("www")
    shutil.copytree(REPO / "site", www, dirs_exist_ok=True)
    files = shards.build(runs(), catalogue=default_catalogue())
    api = _write(www, files)
    by_device.write(api)
    _write(www / "plain", files)
    pred = _write(www / "pred", files)
    by_device.write(pred, predicted={B_LABEL: PREDICTED})
    with sitedata.serve(www) as base:
        yield base, api


def versus(api: Path, a: str, b: str, *args: str) -> dict:
    done = run_tool("versus", a, b, "--data", str(api), "--format", "json", "--measured-only", *args)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


@pytest.fixture(scope="module")
def expected(served) -> dict:
    return versus(served[1], A, B)


@pytest.fixture(scope="module")
def browser():
    with sitedata.chromium() as b:
        yield b


@pytest.fixture
def allowed() -> list[str]:
    """Addresses whose failed fetch a test expects (the browser logs it as an error)."""
    return []


@pytest.fixture
def page(browser, allowed) -> Page:
    context = browser.new_context(viewport={"width": 1600, "height": 1000})
    pg = context.new_page()
    errors, dialogs = [], []
    pg.on("console", lambda m: m.type == "error" and not any(m.location.get("url", "").endswith(a) for a in allowed)
          and errors.append(f"{m.text} ({m.location.get('url')})"))
    pg.on("pageerror", lambda e: errors.append(f"uncaught: {e}"))
    pg.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    yield pg
    context.close()
    assert errors == [], "the page logged errors"
    assert dialogs == [], "a dialog opened: text from the data ran as code"


def open_versus(page: Page, base: str, a: str, b: str, api: str = API, extra: str = "&measured=1") -> dict:
    query = urllib.parse.urlencode({"a": a, "b": b}) + extra + ("" if api == API else f"&api={api}")
    page.goto(f"{base}/versus.html?{query}")
    return shown(page)


def shown(page: Page) -> dict:
    """The comparison the page computed (`window.__versus`), once it is drawn."""
    page.wait_for_selector("#versus[data-compared]", state="attached")
    return page.evaluate("window.__versus")


def assert_same(got: Any, want: Any, path: str = "") -> None:
    """Equal, numbers within a relative 1e-9."""
    if isinstance(want, (int, float)) and not isinstance(want, bool):
        assert isinstance(got, (int, float)) and not isinstance(got, bool), f"{path}: {got!r} is not a number"
        assert math.isclose(got, want, rel_tol=1e-9, abs_tol=0.0), f"{path}: {got!r} != {want!r}"
    elif isinstance(want, dict):
        assert isinstance(got, dict) and set(got) == set(want), f"{path}: keys {sorted(got)} != {sorted(want)}"
        for key in want:
            assert_same(got[key], want[key], f"{path}.{key}")
    elif isinstance(want, list):
        assert isinstance(got, list) and len(got) == len(want), f"{path}: {got!r} != {want!r}"
        for i, (g, w) in enumerate(zip(got, want)):
            assert_same(g, w, f"{path}[{i}]")
    else:
        assert got == want, f"{path}: {got!r} != {want!r}"


# As the page rounds them (site/versus.js `times`, `intervalText`, `percentText`), from the command's figures.
def times(v: float) -> str:
    return f"{v:.3g}×"


def interval_text(lo: float, hi: float) -> str:
    d = 3
    while d < 6 and f"{lo:.{d}g}" == f"{hi:.{d}g}":
        d += 1
    return f"{lo:.{d}g}× to {hi:.{d}g}×"


def percent_text(r: float) -> str:
    x = (r - 1) * 100
    text = f"{abs(x):.{1 if abs(x) < 10 else 0}f}"
    return ("−" if x < 0 and float(text) != 0 else "+") + text + "%"


def test_the_data_holds_what_the_page_is_tested_on(expected):
    """The command's answer on the test data: known ratios, marks, a nearest pair, oom, a missing precision."""
    by = {p["workload"]: p for p in expected["workloads"]}
    assert by["timm-infer-alpha-224"]["ratio"] == pytest.approx(2.0) and by["timm-infer-alpha-224"]["interval"]
    assert by["timm-infer-beta-224"]["ratio"] == pytest.approx(0.9) and by["timm-infer-beta-224"]["single"]
    assert by["timm-infer-gamma-224"]["mark"] == "=" and by["timm-infer-delta-224"]["mark"] == "~"
    assert by["mnist-lenet5"]["ratio"] == pytest.approx(2.0) and not by["mnist-lenet5"]["higher_is_better"]
    assert by["peak-gemm"]["metric"] == "achieved_flops_per_s"
    assert by["timm-infer-zeta-224"]["nearest"]["differs"] == {"batch_size": [64, 32]}
    reasons = {(i["workload"], i["reason"]) for i in expected["only_a"]}
    assert {("timm-train-epsilon-224", "oom"), (NOT_MEASURED, "not_measured"), ("timm-infer-iota-224", "failed"),
            (None, "precision")} <= reasons
    assert ("timm-infer-theta-224", "precision") in {(i["workload"], i["reason"]) for i in expected["only_b"]}
    summary = expected["summary"]
    assert (summary["wins"], summary["ties"], summary["losses"]) == (4, 2, 1) and summary["interval"]


def test_the_page_computes_and_shows_what_the_command_does(page, served, expected):
    base, _ = served
    got = open_versus(page, base, A, B)
    assert_same(got, expected)
    s = expected["summary"]
    expect(page.locator("#vs-headline .vs-geomean")).to_have_text(times(s["geomean"]))
    expect(page.locator("#vs-headline")).to_contain_text(
        f"{s['comparable']:,} comparable workload settings of {s['union']:,} either device ran")
    expect(page.locator("#vs-interval")).to_contain_text(interval_text(*s["interval"]))
    expect(page.locator("#vs-spread")).to_contain_text(
        f"geometric SD {times(s['spread']['gsd'])}, from {times(s['spread']['min'])} to {times(s['spread']['max'])}")
    expect(page.locator("#vs-wtl")).to_contain_text(f"{s['wins']:,} / {s['ties']:,} / {s['losses']:,}")
    expect(page.locator("#vs-value")).to_contain_text(f"per watt of TDP (datasheet TDP, not measured power) {times(s['per_watt'])}")
    expect(page.locator("#vs-value")).to_contain_text(f"per dollar of list price {times(s['per_dollar'])}")
    # The bars: in the command's order (largest |log ratio| first), each labelled with its percentage and mark.
    compared = [p for p in expected["workloads"] if not p["nearest"]]
    rows = page.locator("#vs-chart .vs-row")
    expect(rows).to_have_count(len(compared))
    shown_bars = rows.evaluate_all("rs => rs.map(r => [r.querySelector('.vs-workload').textContent, "
                                   "r.querySelector('.vs-setting').textContent, r.querySelector('.vs-pct').textContent, "
                                   "r.querySelector('.vs-mark').textContent, r.className])")
    assert shown_bars == [[p["workload"], p["setting_text"], percent_text(p["ratio"]),
                           {"~": "~", "=": "tie", "": ""}[p["mark"]], f"vs-row {p['outcome']}"] for p in compared]
    sizes = [abs(math.log(p["ratio"])) for p in compared]
    assert sizes == sorted(sizes, reverse=True)
    near = page.locator("#vs-nearest .vs-row")
    expect(near).to_have_count(1)
    expect(near).to_contain_text("timm-infer-zeta-224")
    expect(near).to_contain_text("nearest comparable: batch_size 64 vs 32")
    # What one can do that the other cannot, with reason and evidence.
    only_a, only_b = page.locator("#vs-only-a"), page.locator("#vs-only-b")
    expect(only_a.locator("[data-reason=oom]")).to_contain_text(
        f"{B_LABEL} ran out of memory at batch 512; the largest batch measured to fit is 256")
    expect(only_a.locator("[data-reason=precision]")).to_contain_text("has a fp4 peak of 1676 TFLOP/s")
    expect(only_a.locator("[data-reason=failed]")).to_contain_text("CUDA error: an illegal memory access")
    expect(only_a.locator("[data-reason=not_measured]")).to_contain_text(NOT_MEASURED)
    expect(only_b.locator("[data-reason=precision]")).to_contain_text(
        "timm-infer-theta-224 torch int8, batch 256, v1: the catalogue lists no int8 peak for NVIDIA RTX 5090")
    expect(only_a.locator("[data-reason=oom] .vs-evidence")).to_contain_text(
        "A: example/bench@00000000:results/5090.csv (model=timm-train-epsilon-224")
    expect(page.locator(".predicted")).to_have_count(0)
    # Capacity and the datasheet, differing values highlighted; the catalogue's attribution in a footnote.
    expect(page.locator("#vs-capacity tbody")).to_contain_text("out of memory at 512")
    differs = [d["field"] for d in expected["datasheet"] if d["differs"]]
    assert page.locator("#vs-datasheet tr.differs").evaluate_all("rs => rs.map(r => r.dataset.field)") == differs
    expect(page.locator("#vs-datasheet tr[data-field='price_usd'] td.vs-a")).to_have_text("1,999")
    expect(page.locator("#catalogue-attribution")).to_contain_text(expected["attribution"])


def test_without_per_device_files_the_page_reads_every_workload_part(page, served, expected, allowed):
    base, _ = served
    allowed.append(f"{PLAIN}/{by_device.BY_DEVICE_NAME}")     # the page asks for it first: 404, then the parts
    assert_same(open_versus(page, base, A, B, api=PLAIN), expected)


def test_state_survives_a_reload_and_swapping_inverts_the_geometric_mean(page, served, expected):
    base, api = served
    open_versus(page, base, A, B)
    page.select_option("#precision", "mixed-fp16")
    page.wait_for_function("window.__versus.filters.precisions?.[0] === 'mixed-fp16'")
    assert "precision=mixed-fp16" in page.url
    page.reload()
    expect(page.locator("#precision")).to_have_value("mixed-fp16")
    filtered = versus(api, A, B, "--precision", "mixed-fp16")
    assert_same(shown(page), filtered)
    expect(page.locator("#vs-headline .vs-geomean")).to_have_text(times(filtered["summary"]["geomean"]))
    page.click("#swap")
    page.wait_for_function(f"window.__versus.a.label === {json.dumps(B_LABEL)}")
    swapped = page.evaluate("window.__versus")
    assert swapped["summary"]["geomean"] == pytest.approx(1 / filtered["summary"]["geomean"], rel=1e-9)
    assert_same(swapped, versus(api, B, A, "--precision", "mixed-fp16"))
    query = urllib.parse.parse_qs(urllib.parse.urlparse(page.url).query)
    assert (query["a"], query["b"], query["precision"]) == ([B], [A], ["mixed-fp16"])
    # The pickers choose a device by part of its name.
    box = page.get_by_role("combobox", name="Device B")
    box.fill("3050")
    option = page.locator(f"#device-b-list [role=option][data-name='{TINY} (cuda)']")
    expect(option).to_have_attribute("aria-selected", "true")
    box.press("Enter")
    page.wait_for_function(f"window.__versus.b.label === {json.dumps(TINY + ' (cuda)')}")
    assert urllib.parse.parse_qs(urllib.parse.urlparse(page.url).query)["b"] == [f"{TINY} (cuda)"]
    expect(page.locator("#vs-headline")).to_contain_text("No comparable results")


def test_predictions_are_labelled_apart_and_never_in_the_summary(page, served, expected):
    base, _ = served
    got = open_versus(page, base, A, B, api=PRED, extra="")
    assert_same(got["summary"], expected["summary"])
    assert_same(got["workloads"], expected["workloads"])
    assert [(p["device"], p["workload"], p["value"]) for p in got["predicted"]] == [("b", NOT_MEASURED, 1234.5)]
    item = page.locator("#vs-only-a [data-reason=not_measured] .vs-item", has_text=NOT_MEASURED)
    expect(item.locator(".predicted")).to_have_text("B predicted (roofline-median, typical error 12 %): 1235 samples/s")
    expect(page.locator(".predicted")).to_have_count(1)
    page.check("#measured")
    page.wait_for_function("window.__versus.predicted.length === 0")
    expect(page.locator(".predicted")).to_have_count(0)


def test_text_from_the_data_is_never_markup(page, served):
    base, api = served
    got = open_versus(page, base, A, sitedata.INJECTION)
    assert_same(got, versus(api, A, sitedata.INJECTION))
    expect(page.locator("#vs-title")).to_have_text(f"{A_LABEL} vs {sitedata.INJECTION} (cuda)")
    expect(page.locator("main img")).to_have_count(0)


def test_an_unknown_device_is_reported(page, served):
    base, _ = served
    page.goto(f"{base}/versus.html?a=RTX%205090&b=no-such-device")
    expect(page.locator("#error")).to_contain_text("B 'no-such-device' is not a device of the dataset; known devices:")
    expect(page.locator("#vs-summary")).to_be_hidden()
