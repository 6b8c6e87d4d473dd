#!/usr/bin/env python3
"""Benchmark: how fast the results page (site/) shows the table of the biggest workload.

Serves --root (default: this repository) on a loopback port, opens the page in headless Chromium
(Playwright) on the workload with the most results in `data/api/v1/index.json` (chosen through the
address, `?workload=NAME`, as a shared link does), and measures the time from navigation start until that
workload's table is on screen: the `dlbench:table-drawn` performance mark site/app.js sets once the first
rows of the table have been painted (read from the page's own clock, so polling adds nothing). It also
prints when every row of the table is drawn (the `dlbench:table-complete` mark: the page draws the first
100 rows at once and the others after they are on screen).
Each of the --repeats loads (default 5) opens a fresh browser context: nothing is cached between them.

--root is a repository (its `site/` and `data/api/v1/`, served as GitHub Pages publishes them: site/'s
files at the top and data/ below) or a published folder (`index.html` and `data/api/v1/` at its root, as
tools/ci/build_site.sh assembles it). --synthetic N measures a generated API
instead: N results of one workload among --synthetic-workloads others (3,000 by default), in a temporary
folder removed at the end.

Prints each time, the median and its ratio to the target (median <= 1 s). Exit status 0 when the target is
met, 1 when it is missed or the page fails (no table, an error on the page), 2 for a usage error.
"""

from __future__ import annotations

import argparse
import contextlib
import functools
import http.server
import json
import os
import shutil
import statistics
import sys
import tempfile
import threading
from pathlib import Path
from typing import Iterator, NamedTuple

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

TARGET_S = 1.0
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--disable-quic"]
API = Path("data/api/v1")
MARK = "dlbench:table-drawn"


class _Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args) -> None:
        pass


@contextlib.contextmanager
def serve(folder: Path) -> Iterator[str]:
    """Serve `folder` over loopback HTTP from a thread while in the block; its base URL."""
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(_Quiet, directory=str(folder)))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


class NotAPage(Exception):
    """--root holds no page to serve."""


def published(root: Path, tmp: Path) -> Path:
    """The folder to serve for `root`: a published folder as it is; for a repository, one under `tmp` laid out
    as GitHub Pages publishes it (site/'s files at the top, `data` a link to the repository's data/)."""
    if (root / "index.html").is_file() and not (root / "site").is_dir():
        return root
    if not (root / "site" / "index.html").is_file():
        raise NotAPage(f"{root}: neither site/index.html (a repository) nor index.html (a published folder): "
                       "pass --root a repository or a folder tools/ci/build_site.sh assembled")
    www = tmp / "www"
    shutil.copytree(root / "site", www)
    (www / "data").symlink_to((root / "data").resolve(), target_is_directory=True)
    return www


def biggest(index: dict) -> dict:
    return max(index["workloads"], key=lambda w: (w["result_count"], w["name"]))


def synthetic_root(folder: Path, results: int, workloads: int) -> Path:
    """A published folder under `folder`: site/'s files, and an API of `results` results of one workload
    (synthetic measured runs, in parts of at most 1 MiB) beside `workloads` one-result imported workloads."""
    from dlbench.store import shards
    from dlbench.store.synthetic import imported_run, synthetic_run

    runs = [synthetic_run(2 * i) for i in range(results)]       # even runs: all of mnist-lenet5
    runs += [imported_run(20 * i, workloads=workloads) for i in range(workloads)]   # model i: one workload each
    for rel, data in shards.build(runs).items():
        (folder / rel).parent.mkdir(parents=True, exist_ok=True)
        (folder / rel).write_bytes(data)
    shutil.copytree(REPO / "site", folder, dirs_exist_ok=True)
    return folder


class Load(NamedTuple):
    shown_s: float      # navigation start -> the table's first rows on screen (the `dlbench:table-drawn` mark)
    shown_rows: int     # rows in the table then
    results: int        # results of the workload the page loaded
    complete_s: float   # navigation start -> every row of the table drawn (at most 1,000): `dlbench:table-complete`


def measure(root: Path, workload: dict, repeats: int, chromium: str, timeout_s: float) -> list[Load]:
    """One Load per page load."""
    from playwright.sync_api import sync_playwright

    name = workload["name"]
    out = []
    with serve(root) as base, sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS)
        try:
            for _ in range(repeats):
                context = browser.new_context(viewport={"width": 1600, "height": 1000})
                page = context.new_page()
                errors: list[str] = []
                page.on("pageerror", lambda e: errors.append(str(e)))
                page.goto(f"{base}/index.html?workload={name}", wait_until="commit")
                try:
                    page.wait_for_function(
                        "name => performance.getEntriesByName('dlbench:table-drawn')"
                        ".some(m => m.detail && m.detail.workload === name)",
                        arg=name, timeout=timeout_s * 1000, polling=50)
                except Exception as exc:  # Playwright's TimeoutError: say what the page shows instead
                    shown = page.locator("#error").text_content() or page.locator("#summary").text_content()
                    raise RuntimeError(f"the table of {name} was not drawn within {timeout_s:g} s "
                                       f"(page says: {shown!r}; errors: {errors})") from exc
                mark = page.evaluate("name => { const m = performance.getEntriesByName('dlbench:table-drawn')"
                                     ".find(m => m.detail.workload === name); return {at: m.startTime, ...m.detail}; }",
                                     name)
                page.wait_for_selector("#results[data-complete='true']", timeout=timeout_s * 1000)
                complete = page.evaluate("performance.getEntriesByName('dlbench:table-complete').at(-1).startTime")
                context.close()
                if errors:
                    raise RuntimeError(f"the page reported errors: {errors}")
                if mark["shown"] < min(1, mark["results"]):
                    raise RuntimeError(f"the table of {name} was drawn empty")
                out.append(Load(mark["at"] / 1000, mark["shown"], mark["results"], complete / 1000))
        finally:
            browser.close()
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--root", type=Path, default=REPO,
                        help="repository (site/ and data/api/v1/) or published folder to serve (default: this repository)")
    parser.add_argument("--workload", help="workload to open (default: the one with the most results in the index)")
    parser.add_argument("--repeats", type=int, default=5, help="number of timed page loads (default: 5)")
    parser.add_argument("--synthetic", type=int, metavar="RESULTS",
                        help="measure a generated API instead of --root: RESULTS results of one workload")
    parser.add_argument("--synthetic-workloads", type=int, default=3000, metavar="N",
                        help="with --synthetic: this many other workloads in the index (default: 3000)")
    parser.add_argument("--chromium", default=CHROMIUM, help=f"Chromium executable (default: {CHROMIUM})")
    parser.add_argument("--timeout", type=float, default=30.0, metavar="SECONDS",
                        help="give up on a load after this long (default: 30)")
    args = parser.parse_args(argv)
    if args.repeats < 1:
        parser.error("--repeats must be at least 1")
    if args.synthetic is not None and args.synthetic < 1:
        parser.error("--synthetic must be at least 1")
    if not os.path.exists(args.chromium):
        print(f"{args.chromium}: missing: install Chromium (`bash tools/setup.sh`) or pass --chromium", file=sys.stderr)
        return 1

    with tempfile.TemporaryDirectory(prefix="page-load-") as tmp:
        if args.synthetic is not None:
            root = synthetic_root(Path(tmp) / "synthetic", args.synthetic, args.synthetic_workloads)
        else:
            root = args.root.resolve()
        index_path = root / API / "index.json"
        try:
            www = published(root, Path(tmp))
            index = json.loads(index_path.read_text(encoding="utf-8"))
        except NotAPage as exc:
            print(exc, file=sys.stderr)
            return 2
        except FileNotFoundError:
            print(f"{index_path}: missing: run tools/merge.py to generate the API", file=sys.stderr)
            return 1
        except (OSError, json.JSONDecodeError) as exc:
            print(f"{index_path}: cannot be read: {exc}", file=sys.stderr)
            return 1
        if not index.get("workloads"):
            print(f"{index_path}: no workloads: nothing to show", file=sys.stderr)
            return 1
        if args.workload:
            chosen = next((w for w in index["workloads"] if w["name"] == args.workload), None)
            if chosen is None:
                print(f"{index_path}: no workload {args.workload!r}", file=sys.stderr)
                return 2
        else:
            chosen = biggest(index)
        print(f"{root}: {len(index['workloads'])} workloads; {chosen['name']}: {chosen['result_count']} results "
              f"in {len(chosen['files'])} part(s), index.json {index_path.stat().st_size:,} bytes")
        try:
            loads = measure(www, chosen, args.repeats, args.chromium, args.timeout)
        except RuntimeError as exc:
            print(f"error: {exc}", file=sys.stderr)
            return 1
    times = [load.shown_s for load in loads]
    print(f"results loaded: {loads[0].results}; rows on screen at the mark: {loads[0].shown_rows} "
          "(the page draws 100 at once, then the rest of its 1,000)")
    print("navigation start -> table on screen (s): " + " ".join(f"{t:.3f}" for t in times))
    print("navigation start -> every row drawn (s): " + " ".join(f"{load.complete_s:.3f}" for load in loads))
    median = statistics.median(times)
    verdict = "met" if median <= TARGET_S else "MISSED"
    print(f"median: {median:.3f} s; target <= {TARGET_S:g} s: ratio {median / TARGET_S:.2f} ({verdict})")
    return 0 if median <= TARGET_S else 1


if __name__ == "__main__":
    sys.exit(main())
