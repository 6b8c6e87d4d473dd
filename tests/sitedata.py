"""A small merged dataset for the page and JavaScript-client tests (real fragments, merged by tools/merge.py),
and a loopback HTTP server to publish it from.

Eighteen runs: ten synthetic ones (five devices, two workloads, two of them TensorFlow), one whose device
name is an HTML injection string, one out-of-memory failure, one imported result with a source, one run
on a device of the other workload, and three more runs of the first one's setting from other commits
(total_s 1.03, 1.05 and 6 times its own: the last is an outlier of that group of four, the others
corroborate each other and the first), and one of the second workload trained on part of its dataset
(PART: the first 6,000 training and 1,000 test samples). Expected figures are computed from the runs themselves.
Apart from them (not merged into that dataset): settings_runs, one workload whose results differ in their
setting (precision, compile mode, layout, batch size, device count), and the published-source workloads below.
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

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--disable-quic"]


@contextlib.contextmanager
def chromium() -> Iterator[Any]:
    """Debian's headless Chromium under Playwright, for the page tests. No skip when it is missing:
    tools/setup.sh installs it, and CI must fail without it."""
    from playwright.sync_api import sync_playwright

    assert Path(CHROMIUM).exists(), f"{CHROMIUM} is missing: run `bash tools/setup.sh` (installs Debian's chromium)"
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()

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


# --- Published-source workloads at scale, for the workload picker and the headline-metric tests ---------

PICKED = "timm-infer-resnet50d-224"     # the workload the picker test finds by typing part of its name
PICKED_ROWS = 3
RESNET50 = ("resnet50-imagenet", "timm-infer-resnet50-224", PICKED, "timm-train-resnet50-224",
            "lambda-pytorch-2022-resnet50", "lambda-pytorch-resnet50", "lambda-tf-resnet50",
            "mlperf-inference-v4-1-closed-resnet50-offline")   # one per family, in the picker's group order
FAMILY_OF_NAME = {"resnet50-imagenet": "dlbench", "timm-infer-resnet50-224": "timm-infer", PICKED: "timm-infer",
                  "timm-train-resnet50-224": "timm-train", "lambda-pytorch-2022-resnet50": "lambda-pytorch-2022",
                  "lambda-pytorch-resnet50": "lambda-pytorch", "lambda-tf-resnet50": "lambda-tf",
                  "mlperf-inference-v4-1-closed-resnet50-offline": "mlperf-inference-v4-1"}
MLPERF_WORKLOAD = "mlperf-inference-v4-1-closed-resnet50-offline"
MLPERF_IDS = ("4.1-0012", "4.1-0047")
LICENSES = {"timm": ("Apache-2.0", "timm benchmark results by Ross Wightman and contributors"),
            "lambda": ("none declared", "Benchmark figures published by Lambda, Inc."),
            "mlperf": ("Apache-2.0", "MLPerf Inference v4.1 results, MLCommons Association")}
CATALOGUE_ATTRIBUTION = "Includes data from Epoch AI's Machine Learning Hardware database (CC-BY 4.0)."
_FILLER_FAMILIES = ("timm-infer-model{}-224", "timm-train-model{}-176", "lambda-pytorch-model{}",
                    "lambda-tf-model{}", "mlperf-inference-v4-1-closed-model{}-server", "own-workload-{}")


def _published(i: int, benchmark: str, source: str, metrics: dict[str, Any], row: str | None = None) -> dict[str, Any]:
    """Synthetic run i as an imported result of `benchmark` from `source` (a key of LICENSES)."""
    def change(run: dict[str, Any]) -> None:
        for key in ("started_at", "finished_at"):
            run.pop(key)
        license_id, attribution = LICENSES[source]
        src = {"title": f"{source} published table", "url": f"https://example.org/{source}",
               "repository": f"example/{source}", "license": license_id, "attribution": attribution}
        if row:
            src["row"] = row
        run["provenance"] = {"kind": "imported", "source": src}
        res = run["results"][0]
        res.update(benchmark=benchmark, model=benchmark.rsplit("-", 1)[0], device_count=1)
        res["metrics"] = metrics
    return _edit(synthetic_run(i), change)


def many_workloads(count: int) -> list[dict[str, Any]]:
    """Runs of `count` workloads or more: the RESNET50 ones (PICKED with PICKED_ROWS results, the MLPerf one
    with one result per MLPERF_IDS), and filler workloads of every family, one result each."""
    out: list[dict[str, Any]] = [synthetic_run(0)]
    out[0]["results"][0]["benchmark"] = RESNET50[0]
    out[0] = with_run_id(out[0])
    i = 1
    for name in RESNET50[1:]:
        source = name.split("-")[0] if not name.startswith("lambda") else "lambda"
        n = PICKED_ROWS if name == PICKED else len(MLPERF_IDS) if name == MLPERF_WORKLOAD else 1
        for k in range(n):
            row = MLPERF_IDS[k] if name == MLPERF_WORKLOAD else None
            out.append(_published(i, name, source, {"throughput_samples_per_s": 1000.0 + 10 * i}, row))
            i += 1
    for k in range(count - len(RESNET50)):
        pattern = _FILLER_FAMILIES[k % len(_FILLER_FAMILIES)]
        name = pattern.format(k)
        if name.startswith("own-"):
            run = synthetic_run(i)
            run["results"][0]["benchmark"] = name
            out.append(with_run_id(run))
        else:
            source = "lambda" if name.startswith("lambda") else name.split("-")[0]
            out.append(_published(i, name, source, {"throughput_samples_per_s": 500.0 + k}))
        i += 1
    return out


def write_api(folder: Path, files: dict[str, bytes]) -> None:
    """Write the files of dlbench.store.shards.build (paths relative to a repository root) under `folder`."""
    for rel, data in files.items():
        (folder / rel).parent.mkdir(parents=True, exist_ok=True)
        (folder / rel).write_bytes(data)


def fwdbwd_runs() -> list[dict[str, Any]]:
    """An fwdbwd-alexnet-like workload: five imported Titan X results with forward and backward times only,
    and one measured CPU step result with total_s too (so "Total (s)" is on the CPU row alone)."""
    def titan(forward: float, backward: float, framework: str):
        def change(run: dict[str, Any]) -> None:
            run.pop("started_at"), run.pop("finished_at")
            run["provenance"] = {"kind": "imported", "source": {"title": "convnet tables", "url": SOURCE_URL}}
            res = run["results"][0]
            res.update(benchmark="fwdbwd-alexnet", device_kind="cuda", device_name="NVIDIA Titan X", framework=framework)
            res["metrics"] = {"forward_ms": forward, "backward_ms": backward}
        return change
    out = [_edit(synthetic_run(i), titan(f, b, fw)) for i, (f, b, fw) in enumerate(FWDBWD_TITAN)]

    def cpu(run: dict[str, Any]) -> None:
        res = run["results"][0]
        res.update(benchmark="fwdbwd-alexnet", device_kind="cpu", device_name="AMD EPYC")
        res["metrics"] = {"forward_ms": 2767.7, "backward_ms": 5074.2, "step_ms": 8019.5, "total_s": 57.4,
                          "throughput_samples_per_s": 16.7}
    out.append(_edit(synthetic_run(4), cpu))
    return out


FWDBWD_TITAN = ((31.0, 71.0, "leaf"), (33.0, 66.0, "torch"), (46.0, 202.0, "tensorflow"), (25.0, 63.0, "leaf"),
                (42.0, 85.0, "caffe"))


# --- A workload whose results differ in their setting, for the setting filters and the chart's setting ---

SETTINGS_WORKLOAD = "timm-infer-settings-224"
# (device slot of synthetic_run: 0 RTX 3050, 1 RTX 3090; precision, compile, channels_last, batch size,
# device count, images/s). The most common setting, mixed-fp16 eager NCHW batch 256 on 1 device, has 4 rows
# (two on the RTX 3050); torch.compile the same otherwise has 3; the others 1 each.
SETTINGS_ROWS = (
    (0, "mixed-fp16", "eager", False, 256, 1, 1000.0),
    (1, "mixed-fp16", "torch.compile", False, 256, 1, 900.0),
    (0, "mixed-fp16", "eager", False, 256, 1, 1300.0),
    (1, "mixed-fp16", "eager", False, 256, 1, 600.0),
    (0, "mixed-fp16", "torch.compile", False, 256, 1, 1500.0),
    (0, "mixed-fp16", "eager", True, 256, 1, 1200.0),
    (1, "mixed-fp16", "torch.compile", False, 256, 1, 950.0),
    (0, "mixed-fp16", "eager", False, 256, 1, 1100.0),
    (0, "fp32", "eager", False, 256, 1, 400.0),
    (1, "mixed-fp16", "eager", False, 1, 1, 50.0),
    (0, "mixed-fp16", "eager", False, 256, 2, 2100.0),
)
SETTINGS_MOST_COMMON = ("mixed-fp16", "eager", False, 256, 1)


def settings_runs() -> list[dict[str, Any]]:
    """Imported timm-like results of SETTINGS_WORKLOAD, one run per SETTINGS_ROWS entry."""
    out = []
    for k, (slot, precision, compile_mode, channels_last, batch, count, ips) in enumerate(SETTINGS_ROWS):
        run = _published(5 * k + slot, SETTINGS_WORKLOAD, "timm", {"throughput_samples_per_s": ips})
        run["results"][0].update(precision=precision, compile=compile_mode, channels_last=channels_last,
                                 batch_size=batch, device_count=count)
        run["results"][0]["units"] = {"throughput_samples_per_s": "images/s"}
        out.append(with_run_id(run))
    return out
