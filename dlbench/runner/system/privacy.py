"""What the runner may write about where it ran: paths in command lines and environment values, scrubbed.

A fragment is published. The command line and the recorded environment variables are useful to reproduce a run,
but paths in them name people (`/home/alice`, `/scratch/alice.smith/...`, `/mnt/nfs/users/a.smith/data`). Every
absolute path found in such a value is rewritten by its components, never by substring:

- inside the repository: relative to it (`runners/run.py`; the repository itself is `.`);
- inside the home folder: `~/` and the rest (`~/data`); the home folder itself is `~`;
- under a system prefix that names no person (`/usr/`, `/opt/`): kept (`/usr/share/datasets/fashion-mnist`);
- anywhere else: the placeholder `<path>`, directories and name alike, since either may name someone.

A path is a run of characters that starts with `/` at the start of the value or after a separator
(space, `=`, `:`, `,`, `;`, quotes, brackets) and ends at the next separator; on Windows also `C:\\...`.

Free text given on the command line (`--notes TEXT`) is recorded in its own field, so the command keeps
only the placeholder `<text>` in its place.
"""

from __future__ import annotations

import re
from pathlib import Path, PurePosixPath, PureWindowsPath

from dlbench.contract.paths import REPO_ROOT

PLACEHOLDER = "<path>"
TEXT_PLACEHOLDER = "<text>"
PUBLIC_PREFIXES = (PurePosixPath("/usr"), PurePosixPath("/opt"))
FREE_TEXT_OPTIONS = ("--notes",)
_PATH = re.compile(r"""(?:(?<=^)|(?<=[\s=:,;'"(\[{]))(/[^\s=:,;'"()\[\]{}]*|[A-Za-z]:\\[^\s=;'"()\[\]{}]*)""")


def _within(path: PurePosixPath | PureWindowsPath, root: PurePosixPath | PureWindowsPath) -> str | None:
    """`path` relative to `root` by components ('' for root itself), or None when it is outside."""
    try:
        rel = path.relative_to(root)
    except ValueError:
        return None
    return rel.as_posix() if rel.parts else ""


def scrub_path(text: str, repo: Path = REPO_ROOT, home: Path | None = None) -> str:
    """One absolute path, rewritten as the module documentation says."""
    home = Path.home() if home is None else home
    pure = PureWindowsPath if re.match(r"^[A-Za-z]:\\", text) else PurePosixPath
    path = pure(text)
    rel = _within(path, pure(str(repo)))
    if rel is not None:
        return rel or "."
    if len(pure(str(home)).parts) > 1:
        rel = _within(path, pure(str(home)))
        if rel is not None:
            return f"~/{rel}" if rel else "~"
    if pure is PurePosixPath and any(_within(path, prefix) is not None for prefix in PUBLIC_PREFIXES):
        return text
    return PLACEHOLDER


def scrub(text: str, repo: Path = REPO_ROOT, home: Path | None = None) -> str:
    """`text` with every absolute path in it rewritten (see the module documentation)."""
    return _PATH.sub(lambda m: scrub_path(m.group(1), repo, home), text)


def public_command(argv: list[str], repo: Path = REPO_ROOT, home: Path | None = None) -> list[str]:
    """The command line as recorded: free-text option values replaced by `<text>`, paths scrubbed."""
    out: list[str] = []
    hide_next = False
    for arg in argv:
        if hide_next:
            out.append(TEXT_PLACEHOLDER)
            hide_next = False
            continue
        option, eq, _ = arg.partition("=")
        if _is_free_text(option):
            if eq:
                out.append(f"{option}={TEXT_PLACEHOLDER}")
            else:
                out.append(arg)
                hide_next = True
            continue
        out.append(scrub(arg, repo, home))
    return out


def _is_free_text(option: str) -> bool:
    """Whether `option` names a free-text option, in full or abbreviated as argparse accepts (`--note`)."""
    return option.startswith("--") and len(option) > 2 and any(o.startswith(option) for o in FREE_TEXT_OPTIONS)
