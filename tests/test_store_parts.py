"""The dataset's canonical files ("parts", docs/api.md): routing, the size cap, reading order, duplicates across
parts, replaced runs, `merge --check` on every part, the pull-request check's generated paths, and the size rule
on a synthetic dataset."""

from __future__ import annotations

import copy
import hashlib
import json
from pathlib import Path

from conftest import run_tool, snapshot, write_fragment
from dlbench.analysis.frame import result_rows
from dlbench.contract.fragment import with_run_id
from dlbench.store import merge as merging
from dlbench.store import parts
from dlbench.store.dataset import Layout, all_runs, ids_in
from dlbench.store.pr_check import is_generated
from dlbench.store.synthetic import imported_run, synthetic_run, write_dataset

TIMM = "data/imported/huggingface--pytorch-image-models/results--benchmark-infer-amp-nchw-pt240-cu124-rtx4090.toml"
SYNTH = "data/imported/example--published-benchmarks/results--table-{:02d}.toml"


def _from(run: dict, **source) -> dict:
    run = copy.deepcopy(run)
    run["provenance"]["source"].update(source)
    run.pop("run_id", None)
    return with_run_id(run)


def _merge(repo: Path, *args: str):
    r = run_tool("merge", "--root", str(repo), *args)
    assert "Traceback" not in r.stderr
    return r


def test_routing_rule() -> None:
    assert parts.part_for(synthetic_run(0)) == parts.MAIN                       # measured
    timm = _from(imported_run(0), repository="huggingface/pytorch-image-models",
                 path="results/benchmark-infer-amp-nchw-pt240-cu124-RTX4090.csv")
    assert parts.part_for(timm) == TIMM                                         # lower-case, '/' -> '--', no .csv
    seed = copy.deepcopy(imported_run(0))
    del seed["provenance"]["source"]["repository"]
    assert parts.part_for(seed) == parts.MAIN                                   # no repository: the main file
    odd = _from(imported_run(0), repository="Some.Org/Name_x", path="/a b/c+d/Ë.v2.json")
    assert parts.part_for(odd) == "data/imported/some.org--name_x/a-b--c-d---.v2.toml"   # other characters: '-' 
    assert parts.json_sibling(TIMM) == TIMM[:-5] + ".json"
    assert parts.ordered(["data/imported/b/x.toml", "data/benchmark.toml", "data/imported/a/y.toml",
                          "data/imported/b/x-0002.toml", "data/benchmark-0001.toml", "data/imported/b/x-0001.toml"]) \
        == ["data/benchmark-0001.toml", "data/benchmark.toml", "data/imported/a/y.toml",
            "data/imported/b/x-0001.toml", "data/imported/b/x-0002.toml", "data/imported/b/x.toml"]


def test_merge_routes_runs_to_their_parts_with_json_beside_each(repo: Path) -> None:
    measured = [synthetic_run(i) for i in range(2)]
    imported = [imported_run(i, sources=2) for i in range(4)]
    for run in measured + imported:
        write_fragment(repo, run)
    r = _merge(repo)
    assert r.returncode == 0, r.stderr
    files = {p.relative_to(repo).as_posix() for p in (repo / "data").rglob("*.toml")}
    assert files == {"data/benchmark.toml", SYNTH.format(0), SYNTH.format(1)}
    layout = Layout(repo)
    ids = ids_in(layout)
    assert {ids[run["run_id"]] for run in measured} == {"data/benchmark.toml"}
    assert {ids[run["run_id"]] for run in imported[0::2]} == {SYNTH.format(0)}
    assert {ids[run["run_id"]] for run in imported[1::2]} == {SYNTH.format(1)}
    for rel in files:
        doc = json.loads((repo / parts.json_sibling(rel)).read_bytes())
        assert doc["source_sha256"] == hashlib.sha256((repo / rel).read_bytes()).hexdigest()
    index = json.loads((repo / "data/api/v1/index.json").read_bytes())
    assert [p["path"] for p in index["parts"]] == ["data/benchmark.toml", SYNTH.format(0), SYNTH.format(1)]
    lines = "".join(f"{p['path']} {p['sha256']}\n" for p in sorted(index["parts"], key=lambda p: p["path"]))
    assert index["source_sha256"] == hashlib.sha256(lines.encode()).hexdigest()
    assert (index["run_count"], sum(p["run_count"] for p in index["parts"])) == (6, 6)
    assert {w["family"] for w in index["workloads"]} == {f["id"] for f in index["families"]} == {"dlbench"}
    assert _merge(repo, "--check").returncode == 0
    # A run already in an imported part is named with that part.
    write_fragment(repo, imported[1])
    r = _merge(repo)
    assert r.returncode == 0 and f"run already in {SYNTH.format(1)}; skipped" in r.stderr


def test_the_size_cap_closes_a_part_which_is_never_written_again(repo: Path) -> None:
    layout = Layout(repo)
    cap = 12_000           # a synthetic measured run is about 1.8 KB of TOML and of JSON: 5 or 6 a file
    for batch in range(4):
        for i in range(batch * 4, batch * 4 + 4):
            write_fragment(repo, synthetic_run(i))
        assert merging.merge(layout, max_part_bytes=cap).ok
        if batch == 1:
            closed = {p.name: p.read_bytes() for p in (repo / "data").glob("benchmark-*.toml")}
            assert "benchmark-0001.toml" in closed
    after = {p.name: p.read_bytes() for p in (repo / "data").glob("benchmark-*")}
    assert all(after[name] == data for name, data in closed.items())        # closed parts: never written again
    numbers = sorted(int(name[10:14]) for name in after if name.endswith(".toml"))
    assert len(numbers) >= 2 and numbers == list(range(1, len(numbers) + 1))
    assert all(f"benchmark-{n:04d}.json" in after for n in numbers)          # each with its JSON
    sizes = {p.name: p.stat().st_size for p in (repo / "data").iterdir() if p.is_file()}
    assert max(sizes.values()) <= cap, sizes
    # Every run once, in merge order, across the parts; and --check reads them all.
    assert [r["run_id"] for r in all_runs(layout)] == [synthetic_run(i)["run_id"] for i in range(16)]
    assert _merge(repo, "--check").returncode == 0
    index = json.loads((repo / "data/api/v1/index.json").read_bytes())
    assert [p["path"] for p in index["parts"]] == [f"data/benchmark-{n:04d}.toml" for n in numbers] + \
        ["data/benchmark.toml"]


def test_a_run_in_two_parts_or_in_the_wrong_part_fails_the_check(repo: Path) -> None:
    runs = [synthetic_run(0), imported_run(0)]
    for run in runs:
        write_fragment(repo, run)
    assert _merge(repo).returncode == 0
    main = (repo / "data/benchmark.toml").read_text()
    other = (repo / SYNTH.format(0)).read_text()
    (repo / SYNTH.format(0)).write_text(other + main[main.index("\n[[runs]]"):])   # the measured run copied there
    r = _merge(repo, "--check")
    assert r.returncode == 1
    assert f"run {runs[0]['run_id']} is also in data/benchmark.toml" in r.stderr
    assert f"run {runs[0]['run_id']} belongs in data/benchmark.toml" in r.stderr


def test_check_names_a_stale_or_missing_part_json_and_an_orphan(repo: Path) -> None:
    for run in [synthetic_run(0), imported_run(0), imported_run(1)]:
        write_fragment(repo, run)
    assert _merge(repo).returncode == 0
    part_json = repo / parts.json_sibling(SYNTH.format(0))
    part_json.write_bytes(part_json.read_bytes().replace(b'"run_count":1', b'"run_count":2'))
    (repo / parts.json_sibling(SYNTH.format(1))).unlink()
    orphan = repo / "data/imported/example--published-benchmarks/gone.json"
    orphan.write_text("{}")
    r = _merge(repo, "--check")
    assert r.returncode == 1
    for rel in (parts.json_sibling(SYNTH.format(0)), parts.json_sibling(SYNTH.format(1)), orphan.relative_to(repo)):
        assert f"{Path(rel).as_posix()}: out of date" in r.stderr
    before = snapshot(repo / "data/api")
    assert _merge(repo).returncode == 0 and not orphan.exists()
    assert _merge(repo, "--check").returncode == 0 and snapshot(repo / "data/api") == before


def test_a_replaced_run_stays_in_its_file_but_leaves_the_api_and_the_frame(repo: Path) -> None:
    old = imported_run(0)
    new = _from(old, replaces=old["run_id"], commit="f" * 40)
    new["results"][0]["metrics"]["throughput_samples_per_s"] += 1.0
    new = with_run_id({k: v for k, v in new.items() if k != "run_id"})
    write_fragment(repo, old)
    assert _merge(repo).returncode == 0
    write_fragment(repo, new)
    assert _merge(repo).returncode == 0
    assert [r["run_id"] for r in all_runs(Layout(repo))] == [old["run_id"], new["run_id"]]   # both kept
    index = json.loads((repo / "data/api/v1/index.json").read_bytes())
    assert (index["run_count"], index["replaced_count"], index["parts"][-1]["run_count"]) == (1, 1, 2)
    rows = [row for w in index["workloads"] for f in w["files"]
            for row in json.loads((repo / "data/api/v1" / f).read_bytes())["results"]]
    assert [row["run_id"] for row in rows] == [new["run_id"]]
    assert [row["run_id"] for row in result_rows(all_runs(Layout(repo)))] == [new["run_id"]]


def test_devices_without_a_catalogue_entry_are_a_notice(repo: Path) -> None:
    run = copy.deepcopy(imported_run(0))
    run["results"][0]["device_name"] = run["system"]["accelerators"][0]["normalized_name"] = "NVIDIA Imaginary X1"
    run["system"]["accelerators"][0]["name"] = "NVIDIA Imaginary X1"
    run.pop("run_id")
    write_fragment(repo, run)
    r = _merge(repo)
    assert r.returncode == 0, r.stderr
    assert "notice: NVIDIA Imaginary X1 has ok results and no entry in the device catalogue" in r.stderr


def test_canonical_files_and_their_json_are_generated_paths_for_the_pr_check() -> None:
    for path in ("data/benchmark.toml", "data/benchmark.json", "data/benchmark-0001.toml", "data/benchmark-0003.json",
                 TIMM, parts.json_sibling(TIMM), "data/imported/x--y/z-0001.toml", "data/api/v1/index.json"):
        assert is_generated(path), path
    for path in ("data/fragments/0123456789abcdef.toml", "data/benchmark-notes.md", "docs/api.md"):
        assert not is_generated(path), path


def test_the_size_rule_on_a_synthetic_dataset(tmp_path: Path) -> None:
    """70 % imported runs over 20 source files, 30 % measured: with a cap of 6 KB no dataset file is larger."""
    cap = 6_000
    runs = [imported_run(i) if i % 10 < 7 else synthetic_run(i) for i in range(300)]
    write_dataset(tmp_path, runs, max_part_bytes=cap)
    layout = Layout(tmp_path)
    files = [p for p in (tmp_path / "data").rglob("*") if p.is_file() and "api" not in p.parts]
    assert max(p.stat().st_size for p in files) <= cap
    assert len([p for p in files if p.name.endswith("-0001.toml")]) >= 10      # closed parts, measured and imported
    assert sorted(r["run_id"] for r in all_runs(layout)) == sorted(r["run_id"] for r in runs)
    # A merge into it keeps the rule, and --check reads every part.
    write_fragment(tmp_path, synthetic_run(1000))
    write_fragment(tmp_path, imported_run(1000))
    assert merging.merge(layout, max_part_bytes=cap).ok
    files = [p for p in (tmp_path / "data").rglob("*") if p.is_file() and "api" not in p.parts]
    assert max(p.stat().st_size for p in files) <= cap
    stale, problems = merging.check(layout)
    assert (stale, problems) == ([], [])
