#!/usr/bin/env python3
"""Check a pull request's changes with THIS checkout's code: see `python tools/ci/check_pr.py --help`.

CI runs the copy of this script in the BASE branch's checkout, with the pull request's checkout as --root,
so the schema and tools that judge a pull request are never the ones it brings.
"""

import sys
from pathlib import Path

CHECKER_ROOT = Path(__file__).resolve().parent.parent.parent
sys.path.insert(0, str(CHECKER_ROOT))

from dlbench.cli.check_pr import main  # noqa: E402

if __name__ == "__main__":
    sys.exit(main(checker_root=CHECKER_ROOT))
