"""Start at login: the platform's own entry that runs HandSign when the user logs in.

    entry = autostart_entry(["--background", "--camera", "0"])   # for this platform and user
    entry.write(); entry.installed(); entry.remove()

Linux (and other XDG desktops): ``$XDG_CONFIG_HOME/autostart/handsign.desktop`` (by default
``~/.config/autostart``). macOS: a LaunchAgent, ``~/Library/LaunchAgents/org.handsign.run.plist``.
Windows: ``HandSign.cmd`` in the Startup folder of the user's Start menu. Each runs this Python's
``-m realtime.run`` with the options given.
"""

from __future__ import annotations

import os
import plistlib
import re
import subprocess
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from realtime.core.errors import HandSignError

DESKTOP_FILE = "handsign.desktop"
LAUNCH_AGENT = "org.handsign.run"
STARTUP_FILE = "HandSign.cmd"


def run_command(options: Sequence[str], python: str | None = None) -> list[str]:
    """The command line an entry runs: this Python, ``-m realtime.run`` and the options."""
    return [python or sys.executable, "-m", "realtime.run", *options]


def desktop_exec(argv: Sequence[str]) -> str:
    """An ``Exec=`` value by the Desktop Entry spec: arguments quoted where needed, ``%`` doubled."""
    out = []
    for arg in argv:
        if arg and not re.search(r"[\s\"'\\><~|&;$*?#()`=%]", arg):
            out.append(arg)
        else:
            out.append('"' + re.sub(r'(["`$\\])', r"\\\1", arg) + '"')
    return " ".join(out).replace("%", "%%")


def parse_desktop_exec(value: str) -> list[str]:
    """The arguments of an ``Exec=`` value written by :func:`desktop_exec` (for ``status``)."""
    args, i, text = [], 0, value.replace("%%", "%")
    while i < len(text):
        if text[i] == " ":
            i += 1
            continue
        if text[i] == '"':
            j, arg = i + 1, []
            while j < len(text) and text[j] != '"':
                if text[j] == "\\" and j + 1 < len(text):
                    j += 1
                arg.append(text[j])
                j += 1
            args.append("".join(arg))
            i = j + 1
        else:
            j = text.find(" ", i)
            j = len(text) if j < 0 else j
            args.append(text[i:j])
            i = j
    return args


@dataclass(frozen=True)
class AutostartEntry:
    """One platform's login entry: where it lives and what it runs."""

    platform: str  # linux | darwin | win32
    path: Path
    argv: tuple[str, ...]

    def text(self) -> str:
        """The entry file's contents."""
        if self.platform == "darwin":
            return plistlib.dumps({"Label": LAUNCH_AGENT, "ProgramArguments": list(self.argv), "RunAtLoad": True,
                                   "ProcessType": "Interactive"}).decode()
        if self.platform == "win32":
            pythonw = re.sub(r"python(\.exe)?$", r"pythonw\1", self.argv[0], flags=re.IGNORECASE)
            return f'@echo off\r\nstart "" {subprocess.list2cmdline([pythonw, *self.argv[1:]])}\r\n'
        return ("[Desktop Entry]\nType=Application\nName=HandSign\n"
                "Comment=Hand gestures to keys, commands and the pointer\n"
                f"Exec={desktop_exec(self.argv)}\nTerminal=false\nX-GNOME-Autostart-enabled=true\n")

    def write(self) -> None:
        """Install the entry (replacing an older one), written whole or not at all."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.path.with_name(self.path.name + ".tmp")
        try:
            tmp.write_text(self.text(), encoding="utf-8", newline="")
            os.replace(tmp, self.path)
        except OSError as exc:
            tmp.unlink(missing_ok=True)
            raise HandSignError(f"cannot write {self.path}: {exc.strerror or exc}") from None

    def installed(self) -> list[str] | None:
        """The command line of the installed entry, or None when there is none."""
        try:
            text = self.path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return None
        except OSError as exc:
            raise HandSignError(f"cannot read {self.path}: {exc.strerror or exc}") from None
        if self.platform == "darwin":
            return list(plistlib.loads(text.encode()).get("ProgramArguments", []))
        if self.platform == "win32":
            line = next((x for x in text.splitlines() if x.startswith("start ")), "")
            return [line[len('start "" '):]] if line else []
        line = next((x for x in text.splitlines() if x.startswith("Exec=")), "Exec=")
        return parse_desktop_exec(line[len("Exec="):])

    def remove(self) -> bool:
        """Remove the entry; False when there was none."""
        try:
            self.path.unlink()
            return True
        except FileNotFoundError:
            return False
        except OSError as exc:
            raise HandSignError(f"cannot remove {self.path}: {exc.strerror or exc}") from None


def entry_path(platform: str = sys.platform, environ: dict[str, str] | None = None) -> Path:
    """Where this platform keeps the user's login entry for HandSign."""
    env = os.environ if environ is None else environ
    home = Path(env.get("HOME") or env.get("USERPROFILE") or Path.home())
    if platform == "darwin":
        return home / "Library" / "LaunchAgents" / f"{LAUNCH_AGENT}.plist"
    if platform == "win32":
        appdata = Path(env.get("APPDATA") or home / "AppData" / "Roaming")
        return appdata / "Microsoft" / "Windows" / "Start Menu" / "Programs" / "Startup" / STARTUP_FILE
    config = env.get("XDG_CONFIG_HOME") or ""
    base = Path(config) if config and Path(config).is_absolute() else home / ".config"
    return base / "autostart" / DESKTOP_FILE


def autostart_entry(options: Sequence[str] = (), platform: str = sys.platform,
                    environ: dict[str, str] | None = None, python: str | None = None) -> AutostartEntry:
    """The entry for ``options`` (realtime.run's) on ``platform``; Linux's form for other Unixes."""
    kind = platform if platform in ("darwin", "win32") else "linux"
    return AutostartEntry(kind, entry_path(kind, environ), tuple(run_command(options, python)))
