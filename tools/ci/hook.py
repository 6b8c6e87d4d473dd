#!/usr/bin/env python3
"""Run a dlbench tool for a pre-commit hook: `python tools/ci/hook.py validate|merge ARGS...`.

The same as `python tools/validate.py` / `python tools/merge.py`, except that a Python without the project's
packages (pre-commit's `language: system` hooks run the `python` on PATH) gets one line saying how to run
the hooks, and exit 2, instead of a traceback.
"""

import sys
from pathlib import Path

TOOLS = {"validate": "dlbench.cli.validate", "merge": "dlbench.cli.merge"}
ROOT = Path(__file__).resolve().parent.parent.parent


def main(argv: list[str]) -> int:
    if argv[:1] in (["-h"], ["--help"]):
        print(__doc__.strip())
        return 0
    if not argv or argv[0] not in TOOLS:
        print(f"usage: python tools/ci/hook.py {{{'|'.join(TOOLS)}}} ARGS...", file=sys.stderr)
        return 2
    sys.path.insert(0, str(ROOT))
    try:
        module = __import__(TOOLS[argv[0]], fromlist=["main"])
    except ImportError as exc:
        missing = getattr(exc, "name", None) or str(exc)
        if (missing or "").split(".")[0] == "dlbench":
            raise
        print(f"dlbench pre-commit hook: needs the project's environment (no module {missing!r} in "
              f"{sys.executable}): run `bash tools/setup.sh`, then `. .venv/bin/activate` before "
              "`git commit` or `pre-commit run`", file=sys.stderr)
        return 2
    return module.main(argv[1:])


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
