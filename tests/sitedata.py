"""A small merged dataset for the page and JavaScript-client tests (real fragments, merged by tools/merge.py),
and a loopback HTTP server to publish it from.

Eighteen runs: ten synthetic ones (five devices, two workloads, two of them TensorFlow), one whose device
name is an HTML injection string, one out-of-memory failure, one imported result with a source, one run
on a device of the other workload, and three more runs of the first one's setting from other commits
(total_s 1.03, 1.05 and 6 times its own: the last is an outlier of that group of four, the others
corroborate each other and the first), and one of the second workload trained on part of its dataset
(PART: the first 6,000 training and 1,000 test samples). Expected figures are computed from the runs themselves.
"""

from __future__ import annotations

import contextlib
import copy
import datetime
import functools
import http.server
import shutil
import threading
from pathlib import Path
from typing import Any, Iterator

from conftest import run_tool
from dlbench.contract import fragment
from dlbench.contract.fragment import with_run_id
from dlbench.contract.tomlio import format_datetime, parse_datetime
from dlbench.store.synthetic import synthetic_run

INJECTION = "<img src=x onerror=alert(1)>"
WORKLOAD = "mnist-lenet5"
OOM_MESSAGE = "CUDA out of memory. Tried to allocate 2.00 GiB"
SOURCE_TITLE = "Deep learning hardware benchmark (blog post)"
SOURCE_URL = "https://example.org/deep-learning-hardware-benchmark"
REPEAT_FACTORS = (1.03, 1.05, 6.0)     # total_s of the repeats of run 0, as multiples of its own
OUTLIER_FACTOR = 6.0
PART = (6000, 1000)                    # train_samples, test_samples of the run on part of its dataset


def _edit(run: dict[str, Any], change) -> dict[str, Any]:
    run = copy.deepcopy(run)
    change(run)
    return with_run_id(run)


def _tensorflow(run: dict[str, Any]) -> None:
    run["results"][0].update(framework="tensorflow", framework_version="2.17.0")
    run["provenance"]["command"][-1] = "tensorflow"


def _injection(run: dict[str, Any]) -> None:
    run["results"][0]["device_name"] = INJECTION
    run["system"]["accelerators"][0]["normalized_name"] = INJECTION


def _oom(run: dict[str, Any]) -> None:
    res = run["results"][0]
    res.update(status="oom", message=OOM_MESSAGE, batch_size=65536)
    res["metrics"] = {"peak_host_rss_bytes": res["metrics"]["peak_host_rss_bytes"]}


def _imported(run: dict[str, Any]) -> None:
    for key in ("started_at", "finished_at"):
        run.pop(key)
    run["provenance"] = {"kind": "imported", "source": {"title": SOURCE_TITLE, "url": SOURCE_URL,
                                                         "section": "Table 2", "published": "2019-05"}}
    res = run["results"][0]
    res["metrics"] = {"total_s": 200.5, "accuracy": 0.985}


def _part(run: dict[str, Any]) -> None:
    res = run["results"][0]
    res.update(train_samples=PART[0], test_samples=PART[1])
    m = res["metrics"]
    m["throughput_samples_per_s"] = round(PART[0] * res["epochs"] / m["compute_s"], 2)


def _repeat(factor: float, commit: str):
    """Run 0 again from another commit, with `factor` times its total_s (and a run long enough for it)."""
    def change(run: dict[str, Any]) -> None:
        run["provenance"]["git_commit"] = commit * 40
        metrics = run["results"][0]["metrics"]
        metrics["total_s"] = round(metrics["total_s"] * factor, 4)
        started = parse_datetime(run["started_at"])
        run["finished_at"] = format_datetime(started + datetime.timedelta(seconds=int(metrics["total_s"]) + 2))
    return change


def runs() -> list[dict[str, Any]]:
    out = []
    for i in range(10):
        run = synthetic_run(i)
        out.append(_edit(run, _tensorflow) if i in (2, 6) else run)
    out.append(_edit(synthetic_run(10), _injection))      # mnist-lenet5 on the "RTX 3050" slot
    out.append(_edit(synthetic_run(12), _oom))            # mnist-lenet5 on the A100
    out.append(_edit(synthetic_run(14), _imported))       # mnist-lenet5, CPU, imported
    out.append(synthetic_run(16))                         # mnist-lenet5 on the RTX 3090
    for factor, commit in zip(REPEAT_FACTORS, "abc"):      # mnist-lenet5 on the RTX 3050, as run 0
        out.append(_edit(synthetic_run(0), _repeat(factor, commit)))
    out.append(_edit(synthetic_run(19), _part))           # fashion-mnist-lenet5 on the Ryzen, part of the data
    return out


def build(root: Path) -> list[dict[str, Any]]:
    """Write the runs as fragments under `root/data/fragments`, merge them with tools/merge.py; the runs."""
    fragments = root / "data" / "fragments"
    fragments.mkdir(parents=True, exist_ok=True)
    all_runs = runs()
    for run in all_runs:
        fragment.write(run, fragments)
    done = run_tool("merge", "--root", str(root))
    assert done.returncode == 0, done.stderr
    assert (root / "data" / "api" / "v1" / "index.json").is_file()
    return all_runs


def published(tmp_path_factory) -> tuple[Path, list[dict[str, Any]]]:
    """(folder, runs): a fresh folder holding the merged dataset's data/ as GitHub Pages publishes it
    (no fragments)."""
    work = tmp_path_factory.mktemp("repo")
    all_runs = build(work)
    www = tmp_path_factory.mktemp("www")
    shutil.copytree(work / "data", www / "data", ignore=shutil.ignore_patterns("fragments"))
    return www, all_runs


class _Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args) -> None:  # keep the test output clean
        pass


@contextlib.contextmanager
def serve(folder: Path) -> Iterator[str]:
    """Serve `folder` over loopback HTTP from a thread while in the block; its base URL (no trailing slash)."""
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(_Quiet, directory=str(folder)))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def results_of(all_runs: list[dict[str, Any]], workload: str) -> list[tuple[dict, dict]]:
    return [(run, res) for run in all_runs for res in run["results"] if res["benchmark"] == workload]
