"""What the command-line tools share: the repository root and --github options, argparse types, and the
no-traceback guard."""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path
from typing import Any, Callable


def add_root(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--root", type=Path, default=Path("."), metavar="DIR",
                        help="repository root holding data/ (default: the current directory)")


CONTRIBUTOR = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")


def contributor_handle(text: str) -> str:
    """argparse type of --contributor: a public handle, never an e-mail address."""
    if not CONTRIBUTOR.match(text) or "@" in text:
        raise argparse.ArgumentTypeError(f"{text!r}: give a public handle (letters, digits, '_', '.', '-'; "
                                         "at most 64), such as a GitHub user name, never an e-mail address")
    return text


def notes_text(text: str) -> str:
    """argparse type of --notes: 1 to 2000 characters."""
    if not 1 <= len(text) <= 2000:
        raise argparse.ArgumentTypeError("notes must be 1 to 2000 characters")
    return text


def add_identity(parser: argparse.ArgumentParser, where: str) -> None:
    """`--contributor` and `--notes`, checked as the schema will check them; `where`: where they are recorded."""
    parser.add_argument("--contributor", type=contributor_handle, metavar="HANDLE",
                        help=f"your public handle (e.g. GitHub user name) to record {where}; never an e-mail")
    parser.add_argument("--notes", type=notes_text, metavar="TEXT",
                        help=f"free text about the hardware or software set-up to record {where}")


def add_github(parser: argparse.ArgumentParser) -> None:
    """`--github`: problems also as GitHub Actions annotations (see `problems.github_wanted`)."""
    parser.add_argument("--github", action="store_true", help="also print problems as GitHub Actions annotations "
                        "(on by default when GITHUB_ACTIONS=true)")


def argument_type(parse: Callable[[str], Any]) -> Callable[[str], Any]:
    """An argparse `type` from a parser that raises ValueError with its message: argparse then reports that
    message as a usage error (exit 2) naming the option."""
    def checked(text: str) -> Any:
        try:
            return parse(text)
        except ValueError as exc:
            raise argparse.ArgumentTypeError(str(exc)) from None

    checked.__name__ = getattr(parse, "__name__", "value")
    return checked


def whole_number(text: str) -> int:
    try:
        return int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None


def positive_int(text: str) -> int:
    """An argparse `type`: a whole number of at least 1."""
    value = whole_number(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, not {value}")
    return value


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
