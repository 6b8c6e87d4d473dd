#!/usr/bin/env python3
"""Benchmark: how fast the "compare two devices" page (site/versus.html) draws a comparison once its data is loaded.

Serves the page and an API on a loopback port, opens `versus.html?a=A&b=B` in headless Chromium (Playwright) and
reads two performance marks site/versus-view.js sets: `dlbench:versus-loaded` (the rows of both devices fetched
and parsed) and `dlbench:versus-drawn` (the comparison computed by site/versus.js, drawn, and a frame painted).
The time between them is the page's comparison, the figure the target is about (<= 1 s); the marks' details
split it into computing and drawing. Each of the --repeats loads (default 5) opens a fresh browser context:
nothing is cached and the JavaScript starts cold. After each load it also times a swap of A and B (computed
and drawn again from the loaded rows) and "show all" on the bar chart, for information.

--root is a repository (its `site/` and `data/api/v1/`) or a published folder (`versus.html` and `data/api/v1/` at
its root, as tools/ci/build_site.sh assembles it). The page reads the per-device files the site build writes
(`by-device.json`, dlbench/store/by_device.py); when the API has none they are generated into a temporary copy
(the committed API is never written). Unless --no-check, the page's computed comparison (`window.__versus`) is
checked against `dlbench.analysis.versus.compare_devices` on the same rows (numbers within a relative 1e-9).

Prints each load's figures, the best and the median, and the ratio to the target. Exit status 0 when the median
meets the target, 1 when it is missed or the page fails, 2 for a usage error.
"""

from __future__ import annotations

import argparse
import math
import shutil
import statistics
import sys
import tempfile
import time
import urllib.parse
from pathlib import Path
from typing import Any, NamedTuple

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "benchmarks"))

from page_load import CHROMIUM, CHROMIUM_ARGS, serve  # noqa: E402

TARGET_S = 1.0
API = Path("data/api/v1")


class Load(NamedTuple):
    loaded_s: float     # navigation start -> both devices' rows loaded
    compare_s: float    # loaded -> computed, drawn and painted: the target's figure
    compute_s: float    # of which computing (site/versus.js)
    render_s: float     # of which building the page's elements (before layout and paint)
    swap_s: float       # a swap of A and B: computed and drawn again from the loaded rows, painted
    all_bars_s: float   # "show all" on the bar chart: every bar drawn and painted
    rows: int
    comparable: int
    shared: int


def prepare(root: Path, tmp: Path) -> Path:
    """The folder to serve: site/'s files at the top and the API at data/api/v1 with its per-device files."""
    from dlbench.store import by_device
    from dlbench.store.api_rows import BY_DEVICE_NAME

    if (root / "site" / "versus.html").is_file():
        site, api = root / "site", root / API
    elif (root / "versus.html").is_file():
        site, api = root, root / API
    else:
        raise SystemExit(f"versus_page.py: {root}: neither site/versus.html (a repository) nor versus.html (a published "
                         "folder)")
    if not (api / "index.json").is_file():
        raise SystemExit(f"versus_page.py: {api}/index.json is missing: generate the API with tools/merge.py")
    if site == root and (api / BY_DEVICE_NAME).is_file():
        return root
    www = tmp / "www"
    shutil.copytree(site, www)
    out = www / API
    out.mkdir(parents=True)
    for entry in api.iterdir():          # the API itself by links: nothing is copied or written there
        (out / entry.name).symlink_to(entry.resolve(), target_is_directory=entry.is_dir())
    if not (api / BY_DEVICE_NAME).is_file():
        started = time.perf_counter()
        by_device.write(api, out)
        print(f"per-device files written into a temporary copy in {time.perf_counter() - started:.1f} s")
    return www


MARKS = """() => Object.fromEntries(performance.getEntriesByType('mark').filter(m => m.name.startsWith('dlbench:versus'))
  .map(m => [m.name, {t: m.startTime, detail: m.detail}]))"""
# Resolves once the next `dlbench:versus-drawn` mark after `count` of them is set; its time and detail.
NEXT_DRAWN = """(count) => new Promise((resolve) => {
  const look = () => {
    const marks = performance.getEntriesByName('dlbench:versus-drawn');
    if (marks.length > count) resolve({t: marks[count].startTime, detail: marks[count].detail});
    else setTimeout(look, 5);
  };
  look();
})"""
SHOW_ALL = """() => new Promise((resolve) => {
  const button = document.getElementById('vs-chart-more');
  if (button.hidden) { resolve(0); return; }
  const t0 = performance.now();
  button.click();
  requestAnimationFrame(() => setTimeout(() => resolve(performance.now() - t0), 0));
})"""


def measure(www: Path, a: str, b: str, repeats: int, chromium: str, timeout_s: float) -> tuple[list[Load], Any]:
    from playwright.sync_api import sync_playwright

    query = urllib.parse.urlencode({"a": a, "b": b})
    loads, computed = [], None
    with serve(www) as base, sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS)
        try:
            for _ in range(repeats):
                context = browser.new_context(viewport={"width": 1600, "height": 1000})
                page = context.new_page()
                errors: list[str] = []
                page.on("pageerror", lambda e: errors.append(str(e)))
                page.goto(f"{base}/versus.html?{query}")
                try:
                    page.wait_for_selector("#versus[data-compared]", state="attached", timeout=timeout_s * 1000)
                except Exception:
                    shown = page.locator("#error").text_content() or "no comparison drawn"
                    raise SystemExit(f"versus_page.py: the page did not draw the comparison: {shown} {errors}") from None
                marks = page.evaluate(MARKS)
                loaded, drawn = marks["dlbench:versus-loaded"], marks["dlbench:versus-drawn"]
                computed = page.evaluate("window.__versus")
                page.click("#swap")
                swapped = page.evaluate(NEXT_DRAWN, 1)
                swap_s = (swapped["t"] - page.evaluate(
                    "performance.getEntriesByName('dlbench:versus-loaded')[1].startTime")) / 1000
                page.click("#swap")                 # back to A vs B, then every bar
                page.evaluate(NEXT_DRAWN, 2)
                all_bars_s = page.evaluate(SHOW_ALL) / 1000
                summary = computed["summary"]
                loads.append(Load(loaded["t"] / 1000, (drawn["t"] - loaded["t"]) / 1000, drawn["detail"]["compute_ms"] / 1000,
                                  drawn["detail"]["render_ms"] / 1000, swap_s, all_bars_s, loaded["detail"]["rows"],
                                  summary["comparable"], summary["shared"]))
                context.close()
        finally:
            browser.close()
    return loads, computed


def differences(got: Any, want: Any, path: str = "") -> list[str]:
    """Where `got` differs from `want` (numbers within a relative 1e-9)."""
    if isinstance(want, (int, float)) and not isinstance(want, bool):
        ok = isinstance(got, (int, float)) and not isinstance(got, bool) and math.isclose(got, want, rel_tol=1e-9)
        return [] if ok else [f"{path}: {got!r} != {want!r}"]
    if isinstance(want, dict):
        if not isinstance(got, dict) or set(got) != set(want):
            return [f"{path}: keys differ"]
        return [d for k in want for d in differences(got[k], want[k], f"{path}.{k}")]
    if isinstance(want, list):
        if not isinstance(got, list) or len(got) != len(want):
            return [f"{path}: {len(got) if isinstance(got, list) else got!r} items, not {len(want)}"]
        return [d for i, (g, w) in enumerate(zip(got, want)) for d in differences(g, w, f"{path}[{i}]")]
    return [] if got == want else [f"{path}: {got!r} != {want!r}"]


def check(www: Path, a: str, b: str, computed: dict) -> list[str]:
    from dlbench.analysis.site_predictions import FilePredictor
    from dlbench.analysis.versus import compare_devices, device_labels, resolve
    from dlbench.store.api_rows import Api, device_rows, load_catalogue, load_index

    api = Api.at(www / API)
    index = load_index(api)
    labels = device_labels(index)
    rows = device_rows(api, index, [resolve(labels, a, "A")[0], resolve(labels, b, "B")[0]])
    return differences(computed, compare_devices(rows, index, load_catalogue(api, index), a, b, None,
                                                 FilePredictor.of_api(api)))


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--root", type=Path, default=REPO, help="a repository (site/, data/api/v1) or a published folder "
                                                           "(default: this repository)")
    p.add_argument("--a", default="RTX 5090", help="device A, as the page's ?a= takes it (default: %(default)s)")
    p.add_argument("--b", default="RTX 4090", help="device B (default: %(default)s)")
    p.add_argument("--repeats", type=int, default=5, help="page loads, each in a fresh browser context (default 5)")
    p.add_argument("--chromium", default=CHROMIUM, help=f"the Chromium executable (default {CHROMIUM})")
    p.add_argument("--timeout", type=float, default=120, help="seconds to wait for one comparison (default 120)")
    p.add_argument("--no-check", action="store_true", help="skip checking the page's figures against compare_devices")
    args = p.parse_args(argv)
    if args.repeats < 1:
        p.error("--repeats must be 1 or more")
    if not Path(args.chromium).exists():
        p.error(f"{args.chromium} is missing: run `bash tools/setup.sh` (installs Debian's chromium)")
    with tempfile.TemporaryDirectory(prefix="versus-page-") as tmp:
        www = prepare(args.root.resolve(), Path(tmp))
        loads, computed = measure(www, args.a, args.b, args.repeats, args.chromium, args.timeout)
        problems = [] if args.no_check else check(www, args.a, args.b, computed)
    first = loads[0]
    print(f"{computed['a']['label']} vs {computed['b']['label']}: {first.rows:,} rows of the two devices, "
          f"{first.comparable:,} comparable workload settings over {first.shared:,} shared workloads, "
          f"{len(computed['workloads']):,} bars, {len(computed['only_a']) + len(computed['only_b']):,} 'cannot' items")
    print("load  loaded at  comparison (compute + draw, painted)  swap A/B   all bars")
    for i, load in enumerate(loads, 1):
        print(f"{i:>4}  {load.loaded_s:8.3f}s  {load.compare_s:8.3f}s ({load.compute_s * 1000:6.0f} ms + "
              f"{load.render_s * 1000:4.0f} ms + layout)        {load.swap_s:6.3f}s  {load.all_bars_s:7.3f}s")
    figures = [load.compare_s for load in loads]
    best, med = min(figures), statistics.median(figures)
    print(f"comparison after the data has loaded: best {best:.3f} s, median {med:.3f} s of {len(loads)} "
          f"(target <= {TARGET_S:g} s: median at {med / TARGET_S:.0%} of it)")
    swaps = [load.swap_s for load in loads]
    print(f"swap (warm): best {min(swaps):.3f} s, median {statistics.median(swaps):.3f} s; every bar drawn: median "
          f"{statistics.median(load.all_bars_s for load in loads):.3f} s")
    if not args.no_check:
        print("page vs compare_devices on the same rows: " + ("same figures" if not problems else
                                                              f"{len(problems)} differences, e.g. {problems[:3]}"))
    return 0 if med <= TARGET_S and not problems else 1


if __name__ == "__main__":
    sys.exit(main())
