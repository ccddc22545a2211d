"""Shared command-line plumbing: logging set-up and one-line errors instead of tracebacks."""

from __future__ import annotations

import argparse
import logging
import signal
import sys
from typing import Callable, Sequence

from realtime.errors import HandSignError

EXIT_USER_ERROR = 2
#: Set by the ``handsign`` command: the name its subcommand's parser shows instead of ``python -m ...``.
COMMAND_NAME: str | None = None


class HelpFormatter(argparse.ArgumentDefaultsHelpFormatter, argparse.RawDescriptionHelpFormatter):
    """Shows every option's default and keeps the description's line breaks."""


class ArgumentParser(argparse.ArgumentParser):
    """argparse with every command's conventions: defaults in --help, and a bad option is one
    ``error: ...`` line (naming ``--help``) and exit code 2, like every other user error."""

    def __init__(self, *args, **kwargs) -> None:
        kwargs.setdefault("formatter_class", HelpFormatter)
        if COMMAND_NAME and str(kwargs.get("prog", "")).startswith("python -m "):
            kwargs["prog"] = COMMAND_NAME
        super().__init__(*args, **kwargs)

    def error(self, message: str):
        print(f"error: {message} (see {self.prog} --help)", file=sys.stderr)
        raise SystemExit(EXIT_USER_ERROR)


def _int_at_least(text: str, minimum: int) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if value < minimum:
        raise argparse.ArgumentTypeError(f"{text} must be at least {minimum}")
    return value


def positive_int(text: str) -> int:
    """argparse type: an integer >= 1."""
    return _int_at_least(text, 1)


def non_negative_int(text: str) -> int:
    """argparse type: an integer >= 0."""
    return _int_at_least(text, 0)


def setup_logging(verbose: bool = False) -> None:
    logging.basicConfig(level=logging.DEBUG if verbose else logging.INFO,
                        format="%(levelname)s %(name)s: %(message)s", stream=sys.stderr)


def _interrupt(signum, frame) -> None:
    raise KeyboardInterrupt


def run_main(main: Callable[[Sequence[str] | None], int], argv: Sequence[str] | None = None) -> int:
    """Run ``main``; a HandSignError becomes ``error: ...`` on stderr and exit code 2.

    SIGTERM is handled like Ctrl-C, so a killed command still closes its files cleanly. Ctrl-C's
    handler is installed explicitly: a process started in the background inherits SIGINT ignored.
    """
    signal.signal(signal.SIGTERM, _interrupt)
    signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        return main(argv)
    except HandSignError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_USER_ERROR
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
