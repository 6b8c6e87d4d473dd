"""Problems reach people and CI logs as one printable line: a file name or an echoed value can neither start a
GitHub workflow command (`::notice`, `::stop-commands::`) nor drive the terminal (ESC, BEL, bidi overrides)."""

from __future__ import annotations

from pathlib import Path

import pytest

from conftest import run_tool
from dlbench.contract.problems import Problem, printable

EVIL_NAME = "x\n::notice title=dlbench maintainers::Reviewed and approved - safe to merge\n.toml"


@pytest.mark.parametrize("raw,shown", [
    ("a\nb", "a\\nb"),
    ("\x1b]0;title\x07\x1b[31mred", "\\u001b]0;title\\u0007\\u001b[31mred"),
    ("abc\u202edef\u2028x\x00", "abc\\u202edef\\u2028x\\u0000"),
    ("héllo ✓ 日本", "héllo ✓ 日本"),
])
def test_printable_escapes_what_would_act_and_keeps_text(raw, shown):
    assert printable(raw) == shown


def test_a_problem_is_one_line_and_never_starts_a_workflow_command():
    p = Problem("::stop-commands::token\n", 3, "notes", "value \x1b[2J\n::error::fake")
    for line in (p.format(), p.github()):
        assert "\n" not in line and "\r" not in line and "\x1b" not in line
    assert p.format().startswith("./::stop-commands::token\\n:3:")
    assert p.github().startswith("::error file=./%3A%3Astop-commands%3A%3Atoken\\n,line=3,")


def test_validate_with_github_annotations_prints_no_injected_command(tmp_path: Path):
    evil = tmp_path / EVIL_NAME
    evil.write_text("schema_version = 1\n")
    done = run_tool("validate", "--github", str(evil), cwd=tmp_path)
    assert done.returncode == 1
    lines = (done.stdout + done.stderr).splitlines()
    commands = [line for line in lines if line.startswith("::")]
    assert commands and all(line.startswith("::error ") for line in commands), commands
    # The name is shown escaped, inside the line: only a line's start can make a workflow command.
    assert any(line.startswith("x\\n::notice title=") for line in lines), lines
