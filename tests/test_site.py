"""The static results page (site/) in headless Chromium, against a merged dataset served over loopback HTTP."""

from __future__ import annotations

import json
import re
import shutil
import statistics
import urllib.request
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

import sitedata
from conftest import REPO
from dlbench.contract.device_catalogue import default_catalogue
from dlbench.contract.fragment import with_run_id
from dlbench.store import shards
from dlbench.store.synthetic import synthetic_run

MANY_RESULTS = 1050         # per workload: more than the page's 1,000-row table


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    """(base URL, runs): a copy of site/ with data/ from merged fragments, as GitHub Pages publishes them."""
    www, runs = sitedata.published(tmp_path_factory)
    shutil.copytree(REPO / "site", www, dirs_exist_ok=True)
    shutil.copytree(www / "data" / "api" / "v1", www / "elsewhere" / "api")   # for ?api=
    # A workload of MANY_RESULTS rows in small parts, for ?api=many/data/api/v1
    many = shards.build([synthetic_run(i) for i in range(2 * MANY_RESULTS)], max_bytes=64 * 1024)
    for rel, data in many.items():
        (www / "many" / rel).parent.mkdir(parents=True, exist_ok=True)
        (www / "many" / rel).write_bytes(data)
    # Results with achieved FLOP/s on an H100, for ?api=peaks/data/api/v1: fractions of peak in the rows
    peaks = shards.build([_achieved(i, f * 494.7e12) for i, f in enumerate(PEAK_FRACTIONS)],
                         catalogue=default_catalogue())
    for rel, data in peaks.items():
        (www / "peaks" / rel).parent.mkdir(parents=True, exist_ok=True)
        (www / "peaks" / rel).write_bytes(data)
    # A few thousand workloads of every family, for ?api=picker/data/api/v1 (the index as today, without
    # family fields: the page falls back to the id prefixes) and ?api=families/data/api/v1 (the same with
    # the family and headline fields the index states, and a catalogue attribution).
    picker = shards.build(sitedata.many_workloads(PICKER_WORKLOADS), catalogue=default_catalogue())
    sitedata.write_api(www / "picker", picker)
    families = www / "families" / "data" / "api" / "v1"
    sitedata.write_api(www / "families", {k: v for k, v in picker.items() if "/workloads/" not in k})
    (families / "workloads").symlink_to(www / "picker" / "data" / "api" / "v1" / "workloads")  # same parts
    _enrich(families)
    sitedata.write_api(www / "fwdbwd", shards.build(sitedata.fwdbwd_runs()))
    # A workload whose results mix settings, beside one whose results do not, for ?api=settings/data/api/v1
    sitedata.write_api(www / "settings", shards.build(sitedata.settings_runs() + [synthetic_run(0)]))
    with sitedata.serve(www) as base:
        yield base, runs


PICKER_WORKLOADS = 3000
FAMILY_TITLES = {"dlbench": "Our own (title from the index)", "timm-infer": "timm inference (title from the index)"}


def _enrich(api: Path) -> None:
    """Add to each index entry the family and headline fields docs/api.md gives, and an attribution to
    devices.json."""
    index = json.loads((api / "index.json").read_text())
    for entry in index["workloads"]:
        family = sitedata.FAMILY_OF_NAME.get(entry["name"])
        if family is None:
            continue
        entry.update(family=family, family_title=FAMILY_TITLES.get(family, f"{family} (from the index)"),
                     source=family.split("-")[0], namespace="mlperf" if family.startswith("mlperf") else "open",
                     headline_metric="throughput_samples_per_s", unit="images/s", higher_is_better=True,
                     model="resnet50", scenario="infer")
    (api / "index.json").write_text(json.dumps(index, indent=1))
    devices = json.loads((api / "devices.json").read_text())
    devices["attribution"] = sitedata.CATALOGUE_ATTRIBUTION
    (api / "devices.json").write_text(json.dumps(devices))


PEAK_FRACTIONS = (0.5, 0.25)


def _achieved(i: int, flops_per_s: float) -> dict:
    """A synthetic tf32 result on an H100 with `achieved_flops_per_s` (catalogue peak: 494.7 TFLOP/s)."""
    run = synthetic_run(i)
    run["results"][0].update(device_name="NVIDIA H100 80GB HBM3", precision="tf32")
    run["results"][0]["metrics"]["achieved_flops_per_s"] = flops_per_s
    run["system"]["accelerators"] = [{"kind": "cuda", "name": "NVIDIA H100 80GB HBM3",
                                      "normalized_name": "NVIDIA H100 80GB HBM3", "count": 1}]
    run["results"][0]["device_kind"] = "cuda"
    return with_run_id(run)


@pytest.fixture(scope="module")
def browser():
    with sitedata.chromium() as b:
        yield b


@pytest.fixture
def events():
    return {"console_errors": [], "dialogs": [], "allow_console_errors": False}


@pytest.fixture
def page(browser, events) -> Page:
    context = browser.new_context(viewport={"width": 1600, "height": 1000})
    pg = context.new_page()
    pg.on("console", lambda m: m.type == "error" and events["console_errors"].append(m.text))
    pg.on("pageerror", lambda e: events["console_errors"].append(f"uncaught: {e}"))

    def on_dialog(dialog):
        events["dialogs"].append(dialog.message)
        dialog.dismiss()
    pg.on("dialog", on_dialog)
    yield pg
    context.close()
    if not events["allow_console_errors"]:
        assert events["console_errors"] == [], "the page logged errors"
    assert events["dialogs"] == [], "a dialog opened: text from the data ran as code"


def open_page(page: Page, base: str, query: str = "") -> None:
    page.goto(f"{base}/index.html{query}")
    expect(page.locator("#summary")).to_contain_text("match the filters")


def pick(page: Page, name: str, typed: str | None = None) -> None:
    """Choose workload `name` in the picker as a keyboard user does: type (part of) it, move to it, Enter."""
    box = page.get_by_role("combobox", name="Workload")
    box.fill(typed or name)
    listbox = page.get_by_role("listbox")
    expect(listbox).to_be_visible()
    option = listbox.locator(f"[role=option][data-name='{name}']")
    expect(option).to_have_count(1)
    for _ in range(listbox.locator("[role=option][data-name]").count()):
        if option.get_attribute("aria-selected") == "true":
            break
        box.press("ArrowDown")
    expect(option).to_have_attribute("aria-selected", "true")
    box.press("Enter")
    expect(listbox).to_be_hidden()
    expect(box).to_have_value(name)


def rows(page: Page):
    return page.locator("#results tbody tr")


def column_values(page: Page, key: str) -> list[float | None]:
    cells = page.locator(f"#results tbody td[data-key='{key}']")
    return [None if v is None else float(v) for v in
            (cells.nth(i).get_attribute("data-value") for i in range(cells.count()))]


def test_table_fills_with_every_result_of_the_selected_workload(page, served):
    base, runs = served
    open_page(page, base)
    expected = sitedata.results_of(runs, sitedata.WORKLOAD)
    expect(page.get_by_label("Workload")).to_have_value(sitedata.WORKLOAD)
    expect(rows(page)).to_have_count(len(expected))
    shown = sorted(rows(page).nth(i).get_attribute("data-run-id") for i in range(rows(page).count()))
    assert shown == sorted(run["run_id"] for run, _ in expected)
    expect(page.locator("#summary")).to_have_text(f"{len(expected)} of {len(expected)} results of mnist-lenet5 "
                                                  "match the filters.")
    pick(page, "fashion-mnist-lenet5")
    expect(rows(page)).to_have_count(len(sitedata.results_of(runs, "fashion-mnist-lenet5")))
    headers = page.locator("#results thead th")
    assert headers.count() > 8
    assert all(headers.nth(i).get_attribute("scope") == "col" for i in range(headers.count()))


def test_sorting_a_numeric_column_both_ways(page, served):
    base, runs = served
    open_page(page, base)
    totals = [res["metrics"].get("total_s") for _, res in sitedata.results_of(runs, sitedata.WORKLOAD)]
    known = sorted(v for v in totals if v is not None)
    missing = [None] * (len(totals) - len(known))
    header = page.locator("#results thead th[data-key='total_s']")
    expect(header).to_have_attribute("aria-sort", "none")
    header.get_by_role("button").click()
    expect(header).to_have_attribute("aria-sort", "ascending")
    assert column_values(page, "total_s") == known + missing    # the OOM result has no total: last
    header.get_by_role("button").click()
    expect(header).to_have_attribute("aria-sort", "descending")
    assert column_values(page, "total_s") == known[::-1] + missing
    expect(page.locator("#results thead th[data-key='device']")).to_have_attribute("aria-sort", "none")
    assert "sort=total_s" in page.url and "dir=desc" in page.url


def test_filters_reduce_the_rows_and_the_chart(page, served):
    base, runs = served
    open_page(page, base)
    results = sitedata.results_of(runs, sitedata.WORKLOAD)
    page.get_by_label("Framework").select_option("tensorflow")
    tf = [r for r, res in results if res["framework"] == "tensorflow"]
    expect(rows(page)).to_have_count(len(tf))
    expect(page.locator("#chart rect.bar")).to_have_count(len(tf))  # one device each
    page.get_by_label("Framework").select_option("")
    page.get_by_label("Device contains").fill("rtx")
    rtx = [r for r, res in results if "RTX" in res["device_name"]]
    expect(rows(page)).to_have_count(len(rtx))
    cells = page.locator("#results tbody td[data-key='device']").all_inner_texts()
    assert cells and all("RTX" in c for c in cells)
    page.get_by_label("Device contains").fill("")
    page.get_by_label("Status").select_option("oom")
    expect(rows(page)).to_have_count(1)
    expect(page.locator("#results tbody td[data-key='status']")).to_have_text("oom" + sitedata.OOM_MESSAGE)
    expect(page.locator("#chart rect.bar")).to_have_count(0)
    expect(page.locator("#chart-caption")).to_contain_text("No ok result")


def test_chart_has_one_bar_per_device_with_the_median(page, served):
    base, runs = served
    open_page(page, base)
    by_device: dict[str, list[float]] = {}
    for _, res in sitedata.results_of(runs, sitedata.WORKLOAD):
        if res["status"] == "ok" and "total_s" in res["metrics"]:
            by_device.setdefault(res["device_name"], []).append(res["metrics"]["total_s"])
    expect(page.get_by_label("Chart metric")).to_have_value("total_s")
    bars = page.locator("#chart g.bar-row")
    expect(bars).to_have_count(len(by_device))
    drawn = {bars.nth(i).get_attribute("data-device"): float(bars.nth(i).locator("rect").get_attribute("data-value"))
             for i in range(bars.count())}
    assert drawn == pytest.approx({d: statistics.median(v) for d, v in by_device.items()})
    medians = list(drawn.values())
    assert medians == sorted(medians)          # lower is better: best first
    page.get_by_label("Chart metric").select_option("accuracy")
    expect(page.locator("#chart-caption")).to_contain_text("higher is better")


def test_a_result_on_part_of_its_dataset_is_labelled_and_left_out_of_the_chart(page, served):
    base, runs = served
    open_page(page, base, "?workload=fashion-mnist-lenet5&metric=total_s")
    results = sitedata.results_of(runs, "fashion-mnist-lenet5")
    (part,) = [run for run, res in results if "train_samples" in res]
    full = [res for run, res in results if "train_samples" not in res and res["status"] == "ok"]
    cell = page.locator(f"#results tbody tr[data-run-id='{part['run_id']}'] td[data-key='workload']")
    train, test = sitedata.PART
    expect(cell).to_have_text(f"fashion-mnist-lenet5 (first {train} training, first {test} test samples)")
    expect(page.locator("#chart g.bar-row")).to_have_count(len({res["device_name"] for res in full}))
    ryzen = page.locator("#chart g.bar-row[data-device='AMD Ryzen 5 3600 6-Core Processor'] rect")
    alone = [res["metrics"]["total_s"] for res in full if res["device_name"].startswith("AMD Ryzen")]
    assert float(ryzen.get_attribute("data-value")) == pytest.approx(statistics.median(alone))
    expect(page.locator("#chart-caption")).to_contain_text("1 result on part of a dataset left out of the chart")


def test_injected_markup_is_shown_as_text(page, served):
    base, _ = served
    open_page(page, base)
    cell = page.locator("#results tbody td[data-key='device']", has_text=sitedata.INJECTION)
    expect(cell).to_have_count(1)
    expect(cell).to_have_text(sitedata.INJECTION)
    expect(page.locator("#chart g.bar-row text.label", has_text=sitedata.INJECTION)).to_have_count(1)
    expect(page.locator("img[src='x']")).to_have_count(0)
    expect(page.locator("img")).to_have_count(0)
    page.get_by_label("Device contains").fill("<img")
    expect(rows(page)).to_have_count(1)
    page.get_by_label("Device contains").fill("")
    out = REPO / "test-artifacts"
    out.mkdir(exist_ok=True)
    page.screenshot(path=str(out / "site.png"), full_page=True)
    assert (out / "site.png").stat().st_size > 10_000


def test_rows_link_to_their_provenance(page, served):
    base, runs = served
    open_page(page, base)
    measured = runs[0]
    row = page.locator(f"#results tbody tr[data-run-id='{measured['run_id']}']")
    sha = measured["provenance"]["git_commit"]
    link = row.locator("td[data-key='provenance'] a")
    expect(link).to_have_attribute("href", f"https://github.com/dlbench/dlbench/commit/{sha}")
    expect(link).to_have_text(f"commit {sha[:10]}")
    expect(row.locator("code.command")).to_have_text(" ".join(measured["provenance"]["command"]))
    imported = next(r for r in runs if r["provenance"]["kind"] == "imported")
    src = page.locator(f"#results tbody tr[data-run-id='{imported['run_id']}'] td[data-key='provenance'] a")
    expect(src).to_have_attribute("href", sitedata.SOURCE_URL)
    expect(src).to_have_text(sitedata.SOURCE_TITLE)
    page.goto(f"{base}/index.html?repo=someone/fork")
    expect(link).to_have_attribute("href", f"https://github.com/someone/fork/commit/{sha}")


def test_api_location_and_state_come_from_the_query(page, served):
    base, runs = served
    open_page(page, base, "?api=elsewhere/api&workload=fashion-mnist-lenet5&device=m1")
    expect(page.get_by_label("Workload")).to_have_value("fashion-mnist-lenet5")
    expect(page.get_by_label("Device contains")).to_have_value("m1")
    m1 = [r for r, res in sitedata.results_of(runs, "fashion-mnist-lenet5") if res["device_name"] == "Apple M1"]
    expect(rows(page)).to_have_count(len(m1))


def test_a_missing_api_is_reported_on_the_page(page, served, events):
    base, _ = served
    events["allow_console_errors"] = True     # the browser logs the failed request itself
    page.goto(f"{base}/index.html?api=no/such/api")
    expect(page.get_by_role("alert")).to_contain_text("Could not load the results index")
    expect(page.get_by_role("alert")).to_contain_text("no/such/api/index.json: HTTP 404")
    expect(rows(page)).to_have_count(0)


def test_a_workload_in_many_parts_is_loaded_whole_and_the_table_capped(page, served):
    base, _ = served
    open_page(page, base, "?api=many/data/api/v1")
    expect(page.locator("#summary")).to_have_text(f"{MANY_RESULTS} of {MANY_RESULTS} results of "
                                                  "fashion-mnist-lenet5 match the filters.")
    expect(rows(page)).to_have_count(1000)
    expect(page.locator("#truncated")).to_be_visible()
    expect(page.locator("#truncated")).to_contain_text(f"first 1000 of {MANY_RESULTS}")
    expect(page.locator("#chart rect.bar")).to_have_count(5)
    page.get_by_label("Device contains").fill("M1")
    expect(rows(page)).to_have_count(MANY_RESULTS // 5)
    expect(page.locator("#truncated")).to_be_hidden()


def test_fractions_of_peak_are_columns_and_a_chart_metric(page, served):
    base, _ = served
    open_page(page, base, "?api=peaks/data/api/v1&workload=mnist-lenet5")
    header = page.locator("#results thead th[data-key='peak_fraction_catalogue']")
    expect(header).to_have_text("Of peak (catalogue)")
    expect(page.locator("#results thead th[data-key='peak_fraction_measured']")).to_have_count(0)  # none has one
    assert column_values(page, "peak_fraction_catalogue") == [0.5]
    expect(page.locator("#results tbody td[data-key='peak_fraction_catalogue']")).to_have_text("50.00 %")
    page.get_by_label("Chart metric").select_option("peak_fraction_catalogue")
    expect(page.locator("#chart-caption")).to_contain_text("higher is better")


def test_outliers_and_corroboration_are_columns_and_outliers_can_be_hidden(page, served):
    base, runs = served
    open_page(page, base)
    results = sitedata.results_of(runs, sitedata.WORKLOAD)
    rtx = [(run, res) for run, res in results if res["device_name"] == "NVIDIA RTX 3050"]
    totals = {run["run_id"]: res["metrics"]["total_s"] for run, res in rtx}
    assert len(totals) == 4                     # run 0 and its three repeats from other commits
    far = max(totals, key=totals.get)           # 6 times the others: the group's outlier
    row = lambda run_id: page.locator(f"#results tbody tr[data-run-id='{run_id}']")  # noqa: E731
    expect(row(far).locator("td[data-key='outlier']")).to_have_text("outlier")
    expect(row(far)).to_have_class("outlier")
    expect(row(far).locator("td[data-key='corroborated_by']")).to_have_text("0")
    for run_id in set(totals) - {far}:          # each within 10 % of the two others, from other commits
        expect(row(run_id).locator("td[data-key='outlier']")).to_have_text("no")
        expect(row(run_id).locator("td[data-key='corroborated_by']")).to_have_text("2")
    m1 = next(run for run, res in results if res["device_name"] == "Apple M1")
    expect(row(m1["run_id"]).locator("td[data-key='outlier']")).to_have_text("not judged")   # alone in its group
    oom = next(run for run, res in results if res["status"] == "oom")
    expect(row(oom["run_id"]).locator("td[data-key='outlier']")).to_have_text("")           # takes no part
    header = page.locator("#results thead th[data-key='outlier']")
    expect(header).to_have_attribute("title", re.compile(r"More than 3\.5 × 1\.4826 median absolute .* on total_s$"))
    expect(page.locator("#results thead th[data-key='corroborated_by']")).to_have_attribute(
        "title", re.compile(r"within 10 % of this result on total_s$"))
    expect(page.locator("#outlier-rule")).to_contain_text("more than 3.5 × 1.4826 median absolute deviations")
    bar = page.locator("#chart g.bar-row[data-device='NVIDIA RTX 3050'] rect")
    assert float(bar.get_attribute("data-value")) == pytest.approx(statistics.median(totals.values()))

    page.get_by_label("Hide outliers").check()
    expect(rows(page)).to_have_count(len(results) - 1)
    expect(row(far)).to_have_count(0)
    kept = [v for k, v in totals.items() if k != far]
    assert float(bar.get_attribute("data-value")) == pytest.approx(statistics.median(kept))
    assert "outliers=hide" in page.url
    page.goto(page.url)                          # the choice survives a reload from the address
    expect(page.locator("#summary")).to_contain_text("match the filters")
    expect(page.get_by_label("Hide outliers")).to_be_checked()
    expect(rows(page)).to_have_count(len(results) - 1)
    page.get_by_label("Hide outliers").uncheck()
    expect(rows(page)).to_have_count(len(results))


def group_labels(page: Page) -> list[str]:
    labels = page.locator("#workload-list [role=group] .picker-family")
    return labels.all_inner_texts()


def test_the_picker_finds_a_workload_among_thousands_by_part_of_its_name(page, served):
    base, _ = served
    open_page(page, base, "?api=picker/data/api/v1")
    box = page.get_by_role("combobox", name="Workload")
    expect(box).to_have_attribute("aria-expanded", "false")
    box.fill("ResNet50")                          # case-insensitive; every family has a resnet50 workload
    expect(box).to_have_attribute("aria-expanded", "true")
    listbox = page.get_by_role("listbox")
    expect(listbox.get_by_role("option")).to_have_count(len(sitedata.RESNET50))
    # Grouped by family, this project's own first, then the imported families in a fixed order
    assert group_labels(page) == list(dict.fromkeys(sitedata.FAMILY_OF_NAME[n] for n in sitedata.RESNET50))
    box.fill("resnet50d")
    expect(listbox.get_by_role("option")).to_have_count(1)
    expect(listbox.get_by_role("option").first).to_have_attribute("aria-selected", "true")
    assert box.get_attribute("aria-activedescendant") == listbox.get_by_role("option").first.get_attribute("id")
    box.press("Enter")
    expect(listbox).to_be_hidden()
    expect(box).to_have_value(sitedata.PICKED)
    expect(rows(page)).to_have_count(sitedata.PICKED_ROWS)
    expect(page.locator("#summary")).to_have_text(f"{sitedata.PICKED_ROWS} of {sitedata.PICKED_ROWS} results of "
                                                  f"{sitedata.PICKED} match the filters.")
    assert f"workload={sitedata.PICKED}" in page.url
    expect(page.locator("#workload-about")).to_contain_text(f"{sitedata.PICKED}: timm inference benchmark")
    page.goto(page.url)                            # the choice survives a reload from the address
    expect(box).to_have_value(sitedata.PICKED)
    expect(rows(page)).to_have_count(sitedata.PICKED_ROWS)


def test_the_picker_lists_the_first_matches_and_is_keyboard_usable(page, served):
    base, _ = served
    open_page(page, base, "?api=picker/data/api/v1")
    box = page.get_by_role("combobox", name="Workload")
    shown = box.input_value()
    box.fill("timm")
    listbox = page.get_by_role("listbox")
    options = listbox.locator("[role=option][data-name]")
    expect(options).to_have_count(50)
    with urllib.request.urlopen(f"{base}/picker/data/api/v1/index.json") as f:
        timm = sum(w["name"].startswith("timm-") for w in json.load(f)["workloads"])
    expect(listbox.locator(".picker-more")).to_have_text(f"{timm - 50:,} more: type to narrow")
    expect(listbox.locator(".picker-more")).to_have_attribute("aria-disabled", "true")
    box.press("ArrowDown")
    box.press("ArrowDown")
    expect(options.nth(2)).to_have_attribute("aria-selected", "true")
    box.press("ArrowUp")
    expect(options.nth(1)).to_have_attribute("aria-selected", "true")
    box.press("Escape")                            # closes and leaves the shown workload as it was
    expect(listbox).to_be_hidden()
    expect(box).to_have_value(shown)
    box.fill("resnet lambda tensorflow")           # terms match the family's title too
    expect(options).to_have_count(1)
    expect(options.first).to_have_attribute("data-name", "lambda-tf-resnet50")
    box.fill("no such workload anywhere")
    expect(options).to_have_count(0)
    expect(listbox).to_contain_text("No workload matches")
    box.press("Enter")                             # nothing to choose: nothing changes
    pick(page, "lambda-tf-resnet50", typed="lambda-tf-res")
    expect(rows(page)).to_have_count(1)
    assert "workload=lambda-tf-resnet50" in page.url


def test_the_default_chart_metric_is_the_headline_metric(page, served):
    base, _ = served
    open_page(page, base, "?api=fwdbwd/data/api/v1")
    expect(page.get_by_label("Chart metric")).to_have_value("forward_backward_ms")
    bars = page.locator("#chart g.bar-row")
    expect(bars).to_have_count(2)                  # the Titan X rows too, not the CPU row alone
    titan = page.locator("#chart g.bar-row[data-device='NVIDIA Titan X'] rect")
    sums = [f + b for f, b, _ in sitedata.FWDBWD_TITAN]
    assert float(titan.get_attribute("data-value")) == pytest.approx(statistics.median(sums))
    expect(page.locator("#chart-caption")).to_contain_text("lower is better")
    assert column_values(page, "forward_backward_ms").count(None) == 0


def test_family_and_headline_fields_of_the_index_are_used(page, served):
    base, _ = served
    open_page(page, base, f"?api=families/data/api/v1&workload={sitedata.PICKED}")
    expect(page.get_by_label("Chart metric")).to_have_value("throughput_samples_per_s")
    expect(page.locator("#chart text.axis-label")).to_have_text("Samples/s (images/s)")
    expect(page.locator("#workload-about")).to_contain_text("timm inference (title from the index)")
    box = page.get_by_role("combobox", name="Workload")
    box.fill("title from the index")              # the index's family titles are searched
    expect(page.locator("#workload-list .picker-group-label").first).to_have_attribute(
        "title", FAMILY_TITLES["dlbench"])
    box.press("Escape")
    expect(page.locator("#catalogue-attribution")).to_have_text(f"Device catalogue: {sitedata.CATALOGUE_ATTRIBUTION}")


def test_mlperf_rows_carry_the_note_their_result_ids_and_licenses(page, served):
    base, _ = served
    open_page(page, base, f"?api=picker/data/api/v1&workload={sitedata.PICKED}")
    note = page.locator("#namespace-note")
    expect(note).to_be_hidden()
    expect(page.locator("#results thead th[data-key='result_id']")).to_have_count(0)
    license_id, attribution = sitedata.LICENSES["timm"]
    expect(page.locator("#results tbody td[data-key='license']").first).to_have_text(f"{license_id} [1]")
    expect(page.locator("#source-notes li")).to_have_count(1)
    expect(page.locator("#source-notes li")).to_contain_text(attribution)

    pick(page, sitedata.MLPERF_WORKLOAD, typed="mlperf resnet50")
    expect(note).to_be_visible()
    expect(note).to_have_text("MLPerf results: not comparable with non-MLPerf results; per-chip figures are "
                              "derived, not official.")
    expect(rows(page)).to_have_count(len(sitedata.MLPERF_IDS))
    ids = page.locator("#results tbody td[data-key='result_id']").all_inner_texts()
    assert sorted(ids) == sorted(sitedata.MLPERF_IDS)
    license_id, attribution = sitedata.LICENSES["mlperf"]
    expect(page.locator("#source-notes li")).to_contain_text(f"License: {license_id}. Attribution: {attribution}")
    # Only the chosen workload's rows: no device or framework filter brings in another workload's
    assert set(page.locator("#results tbody td[data-key='workload']").all_inner_texts()) == {sitedata.MLPERF_WORKLOAD}
    pick(page, sitedata.PICKED, typed="resnet50d")
    expect(note).to_be_hidden()


SETTINGS_API = "?api=settings/data/api/v1"
SETTING_FILTERS = ("Precision", "Compile", "Layout", "Batch size", "Devices")


def options(page: Page, label: str) -> list[str]:
    return page.get_by_label(label).locator("option").all_inner_texts()


def bar_values(page: Page) -> dict[str, float]:
    bars = page.locator("#chart g.bar-row")
    return {bars.nth(i).get_attribute("data-device"): float(bars.nth(i).locator("rect").get_attribute("data-value"))
            for i in range(bars.count())}


def expected_bars(setting: tuple) -> dict[str, float]:
    devices = ("NVIDIA RTX 3050", "NVIDIA RTX 3090")
    by_device: dict[str, list[float]] = {}
    for slot, *rest, ips in sitedata.SETTINGS_ROWS:
        if tuple(rest) == setting:
            by_device.setdefault(devices[slot], []).append(ips)
    return {d: statistics.median(v) for d, v in by_device.items()}


def test_the_chart_draws_only_the_most_common_setting_of_mixed_results(page, served):
    base, _ = served
    open_page(page, base, SETTINGS_API)
    total = len(sitedata.SETTINGS_ROWS)
    expect(page.get_by_label("Workload")).to_have_value(sitedata.SETTINGS_WORKLOAD)
    expect(rows(page)).to_have_count(total)
    for label in SETTING_FILTERS:                  # the workload's results differ on each
        expect(page.get_by_label(label)).to_be_visible()
    assert options(page, "Compile") == ["all", "eager", "torch.compile"]
    assert options(page, "Layout") == ["all", "NCHW", "channels-last (NHWC)"]
    assert options(page, "Batch size") == ["all", "1", "256"]        # in numeric order
    assert options(page, "Devices") == ["all", "1", "2"]
    common = [r for r in sitedata.SETTINGS_ROWS if tuple(r[1:6]) == sitedata.SETTINGS_MOST_COMMON]
    expect(page.locator("#chart-caption")).to_have_text(
        f"Median samples/s per device, mixed-fp16, eager, NCHW, batch 256, 1 device ({len(common)} of {total} "
        "matching ok results, the most common setting among them; higher is better; choose the filters above to "
        "chart another setting)")
    expect(page.locator("#chart g.bar-row")).to_have_count(2)
    assert bar_values(page) == pytest.approx(expected_bars(sitedata.SETTINGS_MOST_COMMON))  # 3 rows on the 3050

    page.get_by_label("Compile").select_option("torch.compile")
    compiled = ("mixed-fp16", "torch.compile", False, 256, 1)
    expect(rows(page)).to_have_count(sum(tuple(r[1:6]) == compiled for r in sitedata.SETTINGS_ROWS))
    expect(page.locator("#chart-caption")).to_have_text(
        "Median samples/s per device over the matching ok results (higher is better)")   # one setting: as before
    expect(page.locator("#chart g.bar-row")).to_have_count(2)
    assert bar_values(page) == pytest.approx(expected_bars(compiled))
    assert set(page.locator("#results tbody td[data-key='compile']").all_inner_texts()) == {"torch.compile"}

    page.get_by_label("Compile").select_option("")
    page.get_by_label("Devices").select_option("2")       # a system total stays apart
    expect(rows(page)).to_have_count(1)
    expect(page.locator("#chart-caption")).to_have_text(
        "Median samples/s per device over the matching ok results (higher is better)")
    assert bar_values(page) == {"NVIDIA RTX 3050": 2100.0}


def test_setting_filters_survive_a_reload_and_reset_with_the_workload(page, served):
    base, _ = served
    open_page(page, base, SETTINGS_API)
    page.get_by_label("Compile").select_option("eager")
    page.get_by_label("Layout").select_option("nhwc")
    expect(rows(page)).to_have_count(1)
    assert "compile=eager" in page.url and "layout=nhwc" in page.url
    page.goto(page.url)                            # the choice survives a reload from the address
    expect(page.locator("#summary")).to_have_text(
        f"1 of {len(sitedata.SETTINGS_ROWS)} results of {sitedata.SETTINGS_WORKLOAD} match the filters.")
    expect(page.get_by_label("Compile")).to_have_value("eager")
    expect(page.get_by_label("Layout")).to_have_value("nhwc")
    expect(page.locator("#results tbody td[data-key='layout']")).to_have_text("NHWC")

    pick(page, sitedata.WORKLOAD, typed="mnist")   # its results do not differ: no filter, no choice kept
    expect(rows(page)).to_have_count(1)
    for label in SETTING_FILTERS:
        expect(page.get_by_label(label)).to_be_hidden()
    assert "compile=" not in page.url and "layout=" not in page.url
    pick(page, sitedata.SETTINGS_WORKLOAD, typed="settings")
    expect(page.get_by_label("Compile")).to_have_value("")
    expect(rows(page)).to_have_count(len(sitedata.SETTINGS_ROWS))


def test_compile_and_layout_columns_only_for_a_workload_that_varies_on_them(page, served):
    base, _ = served
    open_page(page, base, SETTINGS_API)
    headers = page.locator("#results thead th")
    keys = [headers.nth(i).get_attribute("data-key") for i in range(headers.count())]
    assert keys[keys.index("precision"):keys.index("batch_size") + 1] == ["precision", "compile", "layout", "batch_size"]
    expect(page.locator("#results thead th[data-key='compile']")).to_have_text("Compile")
    expect(page.locator("#results thead th[data-key='layout']")).to_have_text("Layout")
    layouts = page.locator("#results tbody td[data-key='layout']").all_inner_texts()
    assert sorted(layouts) == sorted("NHWC" if r[3] else "NCHW" for r in sitedata.SETTINGS_ROWS)
    compiles = page.locator("#results tbody td[data-key='compile']").all_inner_texts()
    assert sorted(compiles) == sorted(r[2] for r in sitedata.SETTINGS_ROWS)
    pick(page, sitedata.WORKLOAD, typed="mnist")
    expect(rows(page)).to_have_count(1)
    expect(page.locator("#results thead th[data-key='compile']")).to_have_count(0)
    expect(page.locator("#results thead th[data-key='layout']")).to_have_count(0)
    open_page(page, base, f"?api=picker/data/api/v1&workload={sitedata.PICKED}")   # timm rows alike in both
    expect(rows(page)).to_have_count(sitedata.PICKED_ROWS)
    expect(page.locator("#results thead th[data-key='compile']")).to_have_count(0)
    expect(page.locator("#results thead th[data-key='layout']")).to_have_count(0)
