"""Start HandSign at login, or stop doing so: the platform's own entry (docs/desktop.md).

    python -m realtime.autostart enable -- --background --bindings ~/gestures.toml
    python -m realtime.autostart status
    python -m realtime.autostart disable

Linux: an XDG autostart file, $XDG_CONFIG_HOME/autostart/handsign.desktop (by default ~/.config/autostart);
macOS: a LaunchAgent in ~/Library/LaunchAgents; Windows: HandSign.cmd in the Startup folder. The entry runs
this Python's `-m realtime.run` with the options after `--` (--background when none are given); paths
among them are made absolute.
"""

from __future__ import annotations

import argparse
import logging
from collections.abc import Sequence
from pathlib import Path

from realtime.core.cli import ArgumentParser, run_main, setup_logging
from realtime.desktop.autostart import autostart_entry

log = logging.getLogger("realtime.autostart")
#: realtime.run options whose value is a path: made absolute, since a login session starts elsewhere
PATH_OPTIONS = ("--bindings", "--model", "--source", "--snapshot-dir", "--record", "--teach-dir")
#: of those, the files that must be there already
MUST_EXIST = ("--bindings", "--model", "--source")


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    p = ArgumentParser(prog="python -m realtime.autostart", description=__doc__)
    p.add_argument("action", choices=("enable", "disable", "status"),
                   help="enable: write the login entry (replacing one there); disable: remove it; status: say "
                        "whether it is there and what it runs")
    p.add_argument("run_options", nargs=argparse.REMAINDER, metavar="-- RUN OPTIONS",
                   help="with enable: realtime.run's options for the entry, after -- (default: --background)")
    p.add_argument("--verbose", action="store_true", help="debug logging")
    args = p.parse_args(argv)
    options = list(args.run_options)
    if options and options[0] == "--":
        options = options[1:]
    if options and args.action != "enable":
        p.error(f"{args.action} takes no run options")
    bad = [o for o in options if "\n" in o or "\r" in o]
    if bad:
        p.error("run options cannot hold line breaks")
    args.run_options = absolute_paths(options or ["--background"])
    missing = [v for o, v in zip(args.run_options, args.run_options[1:]) if o in MUST_EXIST and v != "none"
               and not Path(v).exists()]
    if missing:
        p.error(f"{missing[0]} does not exist: the entry would fail at every login")
    return args


def absolute_paths(options: Sequence[str]) -> list[str]:
    """``--bindings gestures.toml`` -> ``--bindings /home/me/gestures.toml`` (also ``--opt=value``)."""
    out, after_path_option = [], False
    for option in options:
        if after_path_option:
            out.append(str(Path(option).expanduser().resolve()))
        elif "=" in option and option.split("=", 1)[0] in PATH_OPTIONS:
            name, value = option.split("=", 1)
            out.append(f"{name}={Path(value).expanduser().resolve()}")
        else:
            out.append(option)
        after_path_option = option in PATH_OPTIONS
    return out


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    setup_logging(args.verbose)
    entry = autostart_entry(args.run_options)
    if args.action == "enable":
        replaced = entry.installed() is not None
        entry.write()
        print(f"{'replaced' if replaced else 'installed'}: {entry.path}\nruns at login: {' '.join(entry.argv)}")
    elif args.action == "disable":
        print(f"removed: {entry.path}" if entry.remove() else f"not installed: nothing at {entry.path}")
    else:
        command = entry.installed()
        if command is None:
            print(f"not installed (would be {entry.path})")
        else:
            print(f"installed: {entry.path}\nruns at login: {' '.join(command)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(run_main(main))
