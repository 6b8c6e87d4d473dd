#!/usr/bin/env python3
"""Check a pull request's changes with THIS checkout's code: see `python tools/ci/check_pr.py --help`.

CI runs the copy of this script in the BASE branch's checkout, with the pull request's checkout as --root,
so the schema and tools that judge a pull request are never the ones it brings. Needs the project's Python
packages (tomli, jsonschema-rs, ...): without them it says in one line how to get them (exit 2).
"""

import sys
from pathlib import Path

CHECKER_ROOT = Path(__file__).resolve().parent.parent.parent
sys.path.insert(0, str(CHECKER_ROOT))

try:
    from dlbench.cli.check_pr import main  # noqa: E402
except ImportError as exc:  # a third-party package is missing: this Python is not the project's environment
    missing = getattr(exc, "name", None) or str(exc)
    if (missing or "").split(".")[0] == "dlbench":
        raise
    print(f"check_pr.py: needs the project's environment (no module {missing!r} in {sys.executable}): "
          "run `bash tools/setup.sh`, then `.venv/bin/python tools/ci/check_pr.py --base-ref origin/main` "
          "(or, for the dependencies only, `python3 -m pip install --require-hashes -r "
          "tools/ci/requirements-core.txt`)", file=sys.stderr)
    sys.exit(2)

if __name__ == "__main__":
    sys.exit(main(checker_root=CHECKER_ROOT))
