"""What the command-line tools share: the repository root and --github options, and the no-traceback guard."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Callable


def add_root(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--root", type=Path, default=Path("."), metavar="DIR",
                        help="repository root holding data/ (default: the current directory)")


def add_github(parser: argparse.ArgumentParser) -> None:
    """`--github`: problems also as GitHub Actions annotations (see `problems.github_wanted`)."""
    parser.add_argument("--github", action="store_true", help="also print problems as GitHub Actions annotations "
                        "(on by default when GITHUB_ACTIONS=true)")


def guarded(main: Callable[[], int]) -> int:
    """Run `main`; an unexpected exception becomes one line on stderr and exit 1, never a traceback."""
    try:
        return main()
    except KeyboardInterrupt:
        print("interrupted: nothing was written", file=sys.stderr)
        return 130
    except Exception as exc:  # the last line of defence: tests assert it is never reached
        print(f"internal error: {type(exc).__name__}: {exc} (please report this with the input that caused it)",
              file=sys.stderr)
        return 1
