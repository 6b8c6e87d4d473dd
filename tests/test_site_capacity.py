"""Batch-size sweeps, several devices and energy on the pages, in headless Chromium: the results page draws a
curve per device and shows the new columns; the comparison page finds the same capacity as `tools/versus.py`.
The data: tests/capacitydata.py (two GPUs with a sweep each, a 1-vs-2-device pair), served over loopback HTTP."""

from __future__ import annotations

import shutil

import pytest
from playwright.sync_api import Page, expect

import capacitydata as cap
import sitedata
from conftest import REPO
from dlbench.contract.device_catalogue import default_catalogue
from dlbench.store import by_device, shards
from test_site_versus import assert_same, open_versus, versus

API = "data/api/v1"


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    """(base URL, API folder): site/ with the capacity runs' API and its per-device files."""
    www = tmp_path_factory.mktemp("www")
    shutil.copytree(REPO / "site", www, dirs_exist_ok=True)
    sitedata.write_api(www, shards.build(cap.runs(), catalogue=default_catalogue()))
    by_device.write(www / API)
    with sitedata.serve(www) as base:
        yield base, www / API


@pytest.fixture(scope="module")
def browser():
    with sitedata.chromium() as b:
        yield b


@pytest.fixture
def page(browser) -> Page:
    context = browser.new_context(viewport={"width": 1600, "height": 1000})
    pg = context.new_page()
    errors: list[str] = []
    pg.on("console", lambda m: m.type == "error" and errors.append(m.text))
    pg.on("pageerror", lambda e: errors.append(f"uncaught: {e}"))
    yield pg
    context.close()
    assert errors == [], "the page logged errors"


def _points(page: Page, device: str, what: str) -> list[int]:
    return page.locator(f"#sweep .sweep-line[data-device='{device}'] .{what}").evaluate_all(
        "ps => ps.map(p => Number(p.dataset.batch))")


def test_the_results_page_draws_a_sweep_curve_per_device(page, served):
    base, _ = served
    page.goto(f"{base}/index.html?workload={cap.WORKLOAD}&precision=mixed-bf16")
    expect(page.locator("#sweep-figure")).to_be_visible()
    lines = page.locator("#sweep .sweep-line")
    expect(lines).to_have_count(2)
    assert lines.evaluate_all("gs => gs.map(g => g.dataset.device)") == sorted([cap.H100, cap.RTX4090])
    for device in (cap.H100, cap.RTX4090):
        order, ooms, _ = cap.SWEEPS[device]
        assert _points(page, device, "sweep-point") == sorted(b for b in order if b not in ooms)
        assert _points(page, device, "sweep-fail") == sorted(ooms)
        expect(page.locator(f"#sweep .sweep-line[data-device='{device}'] .legend")).to_have_text(
            f"{device}: fits {cap.LARGEST[device]}")
    top = page.locator(f"#sweep .sweep-line[data-device='{cap.H100}'] .sweep-point[data-batch='832']")
    assert float(top.get_attribute("data-value")) == cap.throughput(cap.H100, 832)
    expect(page.locator("#sweep-caption")).to_contain_text("throughput (samples/s) against the batch size")
    expect(page.locator("#sweep-caption")).to_contain_text("mixed-bf16")
    # Peak memory instead: the device's bytes, kept in the address.
    page.select_option("#sweep-curve", "memory")
    expect(page.locator("#sweep-caption")).to_contain_text("peak memory")
    assert "curve=memory" in page.url
    assert float(top.get_attribute("data-value")) == cap.memory(cap.H100, 832)
    # The two-device results are of another setting: only the sweeps are drawn, and no sweep is left: hidden.
    page.select_option("#devices", "2")
    expect(page.locator("#sweep-figure")).to_be_hidden()


def test_the_table_shows_capacity_scaling_and_energy(page, served):
    base, _ = served
    page.goto(f"{base}/index.html?workload={cap.WORKLOAD}&sort=device_count&dir=desc")
    page.wait_for_selector("#results[data-complete=true]", state="attached")
    heads = page.locator("#results thead th").evaluate_all("ths => ths.map(t => t.dataset.key)")
    for key in ("global_batch_size", "largest_fitting_batch", "memory_per_sample_bytes", "scaling_efficiency",
                "energy_j", "average_power_w", "samples_per_joule", "energy"):
        assert key in heads, key
    first = page.locator("#results tbody tr").first      # the two-device result
    expect(first.locator("td[data-key=global_batch_size]")).to_have_text("512")
    expect(first.locator("td[data-key=scaling_efficiency]")).to_have_text("0.900")
    expect(first.locator("td[data-key=energy]")).to_have_text("nvml-energy (GPU 0-1 boards)")
    rtx = page.locator("#results tbody tr", has=page.locator("td[data-key=batch_size]", has_text="192"))
    expect(rtx.locator("td[data-key=largest_fitting_batch]")).to_have_text("192")
    expect(rtx.locator("td[data-key=memory_per_sample_bytes]")).to_have_text("100.0 MiB")
    expect(rtx.locator("td[data-key=energy]")).to_have_text(f"none: {cap.ENERGY_MISSING}")
    expect(rtx.locator("td[data-key=energy_j]")).to_have_text("")


def test_the_comparison_page_reads_capacity_from_the_sweeps_as_the_command_does(page, served):
    base, api = served
    expected = versus(api, cap.H100, cap.RTX4090)
    assert_same(open_versus(page, base, cap.H100, cap.RTX4090), expected)
    (group,) = [c for c in expected["capacity"]["workloads"] if c["setting"].get("device_count") == 1]
    assert (group["a_fit"], group["a_oom"], group["b_fit"], group["b_oom"]) == (832, 864, 192, 208)
    assert group["a_sweep"] == {"largest_fit": 832, "smallest_oom": 864, "resolution": 32}
    assert group["b_sweep"] == {"largest_fit": 192, "smallest_oom": 208, "resolution": 16}
    # The 4090's sweep ran out of memory below the H100's batches of 256 and 832: A can, B cannot.
    ooms = sorted(i["setting"]["batch_size"] for i in expected["only_a"] if i["reason"] == "oom")
    assert ooms == [cap.SCALING_BATCH, 832]
    expect(page.locator("#vs-only-a [data-reason=oom]").first).to_contain_text(
        f"{cap.RTX4090_LABEL} ran out of memory at batch 208 in a batch-size sweep")
    expect(page.locator("#vs-capacity tbody")).to_contain_text(
        "fits 832, out of memory at 864 (batch-size sweep, resolution 32)")
