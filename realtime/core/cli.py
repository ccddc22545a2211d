"""Shared command-line plumbing: the option groups every live command takes, logging set-up, the
display check, and one-line errors instead of tracebacks."""

from __future__ import annotations

import argparse
import functools
import logging
import os
import signal
import sys
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from realtime.core.contract import FRAMINGS
from realtime.core.errors import HandSignError
from realtime.core.paths import hand_model_path

EXIT_USER_ERROR = 2
#: Top-level modules that only the `train` extra installs: a command that needs one says how to get it.
TRAIN_EXTRA = frozenset({"tensorflow", "keras", "tf2onnx", "tf_keras"})
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
        """Print one ``error:`` line (not the usage) and exit with code 2."""
        print(f"error: {message} (see {self.prog} --help)", file=sys.stderr)
        raise SystemExit(EXIT_USER_ERROR)


class _RenamedOption(argparse.Action):
    """An option whose old name still works, with a warning on stderr (see :func:`renamed`)."""

    def __init__(self, option_strings: list[str], dest: str, old: str, flag: bool = False,
                 default: Any = None, **kwargs: Any) -> None:
        super().__init__(option_strings, dest, nargs=0 if flag else None,
                         default=(False if default is None else default) if flag else default, **kwargs)
        self.old, self.flag = old, flag

    def __call__(self, parser: argparse.ArgumentParser, namespace: argparse.Namespace, values: Any,
                 option_string: str | None = None) -> None:
        if option_string == self.old:
            print(f"warning: {self.old} is an old name of {self.option_strings[0]}; it will go in a later "
                  "version", file=sys.stderr)
        setattr(namespace, self.dest, True if self.flag else values)


def renamed(old: str, flag: bool = False) -> Callable[..., argparse.Action]:
    """The ``action`` of an option renamed from ``old``: both names work, the old one warns.
    ``flag``: an on/off switch (as ``store_true``), else it takes a value.

    Example: ``p.add_argument("--activation-map", "--cam", action=renamed("--cam", flag=True))``."""
    return functools.partial(_RenamedOption, old=old, flag=flag)


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


HAND_MODEL_HELP = ("MediaPipe hand model: auto (lite for video and cameras, full for single images), full, "
                   "lite (faster landmarks, the same palm detector) or a .task path")
NO_TILES_HELP = "do not search overlapping tiles for small hands the whole-image pass misses"


def add_hand_options(group: argparse._ActionsContainer, max_hands_help: str = "hands tracked at once",
                     no_tiles_help: str = NO_TILES_HELP, min_detection: bool = True) -> None:
    """--hand-model, --max-hands, --min-detection and --no-tiles: how hands are found."""
    group.add_argument("--hand-model", type=hand_model_path, default="auto", help=HAND_MODEL_HELP)
    group.add_argument("--max-hands", type=int, default=2, help=max_hands_help)
    if min_detection:
        group.add_argument("--min-detection", type=float, default=0.5, help="MediaPipe palm detection confidence")
    group.add_argument("--no-tiles", action="store_true", help=no_tiles_help)


def add_crop_options(group: argparse._ActionsContainer, margin_help: str = "crop margin (default: the model's own)",
                     framing_help: str = "crop framing (default: the model's own)") -> None:
    """--crop-margin and --framing: overrides of the model's own crop contract."""
    group.add_argument("--crop-margin", type=float, default=None, help=margin_help)
    group.add_argument("--framing", choices=FRAMINGS, default=None, help=framing_help)


def add_threads_option(group: argparse._ActionsContainer, help: str = "onnxruntime threads for the classifier",
                       spinning: bool = False) -> None:
    """--threads (and --spinning): how the classifier runs."""
    group.add_argument("--threads", type=int, default=2, help=help)
    if spinning:
        group.add_argument("--spinning", action=argparse.BooleanOptionalAction, default=False,
                           help="let onnxruntime's idle threads spin-wait (they then compete with the hand tracker)")


def add_heads_option(group: argparse._ActionsContainer) -> None:
    """--heads: which answer of a model with a landmark head is read."""
    from realtime.core.contract import HEADS
    group.add_argument("--heads", choices=HEADS, default=HEADS[0],
                       help="with a model that has a landmark head: fused (crop and landmarks together), crop "
                            "(the crop classifier alone) or landmarks (the hand-shape head alone; it cannot tell "
                            "look-alikes such as one/mute apart); a model without one is crop only")


def check_shared_options(parser: argparse.ArgumentParser, args: argparse.Namespace) -> None:
    """The range checks of the shared options that ``args`` has; a bad one is ``parser.error``."""
    if getattr(args, "max_hands", 1) < 1:
        parser.error("--max-hands must be >= 1")
    if getattr(args, "threads", 0) < 0:
        parser.error("--threads must be >= 0")
    if not 0 <= getattr(args, "min_detection", 0.5) <= 1:
        parser.error("--min-detection must be within 0..1")
    margin = getattr(args, "crop_margin", None)
    if margin is not None and not 0 <= margin <= 2:
        parser.error("--crop-margin must be within 0..2")


def has_display(environ: Mapping[str, str] | None = None, platform: str = sys.platform) -> bool:
    """Whether a window (or synthetic keys) can reach a screen: always off Linux, else DISPLAY/WAYLAND."""
    env = os.environ if environ is None else environ
    return not platform.startswith("linux") or bool(env.get("DISPLAY") or env.get("WAYLAND_DISPLAY"))


def setup_logging(verbose: bool = False) -> None:
    """Log to stderr at INFO (DEBUG with ``verbose``), as ``LEVEL name: message``."""
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
    except ModuleNotFoundError as exc:
        if (exc.name or "").split(".")[0] not in TRAIN_EXTRA:
            raise
        print(f"error: this command needs the training dependencies ({exc.name} is not installed): "
              "pip install 'handsign[train]'", file=sys.stderr)
        return EXIT_USER_ERROR
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
