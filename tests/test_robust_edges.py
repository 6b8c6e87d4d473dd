"""Inputs at the edges: any depth or size, symbolic links, a BOM, an invalid fragment beside valid ones.

Each case goes through the real commands, and asserts the exit status, the problem named with its file,
no traceback, and that nothing outside what the command may change was changed.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

from conftest import REPO, merge_synthetic, run_tool, snapshot, write_fragment
from dlbench.contract.fragment import with_run_id
from dlbench.store.dataset import Layout
from dlbench.store.synthetic import synthetic_run


def _fragment_text(i: int) -> tuple[str, str]:
    """(file name, TOML text) of a valid synthetic fragment."""
    from dlbench.contract.tomlio import dumps_table, to_toml_form

    run = with_run_id(synthetic_run(i))
    return f"{run['run_id']}.toml", dumps_table(to_toml_form(run))


def test_nesting_400_deep_is_reported_by_file_and_other_problems_still_are(repo: Path):
    frags = repo / "data" / "fragments"
    (frags / "aaaa000000000000.toml").write_text("x = " + "[" * 400 + "]" * 400 + "\n")
    (frags / "bbbb000000000000.toml").write_text("a." * 400 + "b = 1\n")
    (frags / "cccc000000000000.toml").write_text("schema_version = 1\n")  # a different, ordinary problem
    done = run_tool("validate", "--root", str(repo), cwd=repo)
    assert done.returncode == 1 and "Traceback" not in done.stderr and "RecursionError" not in done.stderr
    lines = done.stderr.splitlines()
    for name in ("aaaa000000000000.toml", "bbbb000000000000.toml"):
        assert any(line.startswith(f"data/fragments/{name}:") and "nested more than 16 levels" in line
                   for line in lines), done.stderr
    assert any(line.startswith("data/fragments/cccc000000000000.toml:") and "missing required field" in line
               for line in lines)


def test_a_symlinked_fragment_is_refused_unread_and_left(repo: Path, tmp_path_factory):
    outside = tmp_path_factory.mktemp("outside")
    name, text = _fragment_text(1)
    secret = outside / "secret.toml"
    secret.write_text(text.replace("synthetic", "SECRET-CONTENT"))
    (repo / "data" / "fragments" / name).symlink_to(secret)
    good = write_fragment(repo, synthetic_run(2))
    done = run_tool("merge", "--root", str(repo), cwd=repo)
    assert done.returncode == 1 and "Traceback" not in done.stderr
    assert f"data/fragments/{name}: is a symbolic link: a fragment must be a regular file" in done.stderr
    assert "SECRET-CONTENT" not in done.stdout + done.stderr
    assert "merged 1 run(s)" in done.stdout and not good.exists()  # the valid fragment beside it is merged
    assert (repo / "data" / "fragments" / name).is_symlink()


def test_a_symlinked_fragments_folder_is_refused(repo: Path, tmp_path_factory):
    outside = tmp_path_factory.mktemp("elsewhere")
    name, text = _fragment_text(3)
    (outside / name).write_text(text)
    frags = repo / "data" / "fragments"
    frags.rmdir()
    frags.symlink_to(outside, target_is_directory=True)
    before = snapshot(outside)
    done = run_tool("merge", "--root", str(repo), cwd=repo)
    assert done.returncode == 1 and "Traceback" not in done.stderr
    assert "data/fragments: is a symbolic link" in done.stderr
    assert snapshot(outside) == before and not (repo / "data" / "benchmark.toml").exists()


def test_a_symlinked_lock_is_refused_and_its_target_untouched(repo: Path, tmp_path_factory):
    target = tmp_path_factory.mktemp("victim") / "important.txt"
    target.write_text("keep me")
    lock = Layout(repo).lock
    assert lock.name == ".merge.lock"  # not a git checkout: the lock is at the root
    lock.symlink_to(target)
    write_fragment(repo, synthetic_run(4))
    done = run_tool("merge", "--root", str(repo), cwd=repo)
    assert done.returncode == 1 and "Traceback" not in done.stderr and "ELOOP" not in done.stderr
    assert "the merge lock is a symbolic link" in done.stderr
    assert target.read_text() == "keep me"


def test_in_a_git_checkout_the_lock_lives_in_the_git_directory(repo: Path):
    (repo / ".git").mkdir()
    assert Layout(repo).lock == repo / ".git" / "dlbench-merge.lock"
    merge_synthetic(repo, 1)
    assert not (repo / ".merge.lock").exists()


def test_a_byte_order_mark_gets_the_same_verdict_with_or_without_rtoml(repo: Path):
    name, text = _fragment_text(5)
    path = repo / "data" / "fragments" / name
    path.write_bytes(b"\xef\xbb\xbf" + text.encode())
    deep = repo / "data" / "fragments" / "dddd000000000000.toml"
    deep.write_text("x = " + "[" * 40 + "]" * 40 + "\n")
    verdicts = []
    for block in ("", "import sys; sys.modules['rtoml'] = None; "):
        code = (f"{block}import sys; sys.path.insert(0, {str(REPO)!r}); from dlbench.cli.validate import main; "
                f"sys.exit(main([{str(path)!r}, {str(deep)!r}]))")
        done = __import__("subprocess").run([sys.executable, "-c", code], capture_output=True, text=True,
                                            cwd=repo, env=dict(os.environ))
        verdicts.append((done.returncode, sorted(line.split(":", 1)[0] for line in done.stderr.splitlines()
                                                 if line.startswith(str(repo)) or line.startswith("data/"))))
    assert verdicts[0] == verdicts[1], verdicts
    assert verdicts[0][0] == 1  # the BOM file is valid, the deep one is not
