#!/usr/bin/env python3
"""Entry point: see `python tools/submit.py --help`."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from dlbench.cli.submit import main  # noqa: E402

if __name__ == "__main__":
    sys.exit(main())
