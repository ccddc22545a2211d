"""A global hotkey: a chord pressed in any application calls back (pynput's ``GlobalHotKeys``).

    hotkey = GlobalHotkey("ctrl+alt+h", switch.toggle)
    hotkey.start()      # False, with one warning, where no global hotkey can be had
    ...
    hotkey.close()

Chords are written as in the bindings file's keys: modifiers and keys joined by ``+``
(``ctrl+alt+h``, ``f9``). On X11 pynput listens through the RECORD extension; Wayland gives no
program the keys of another, so there only the tray and the signal work.
"""

from __future__ import annotations

import logging
import os
import sys
from collections.abc import Callable

log = logging.getLogger(__name__)

#: key names a chord may use besides single characters (pynput's ``Key`` names)
KEY_NAMES = frozenset(
    ["alt", "alt_l", "alt_r", "alt_gr", "backspace", "caps_lock", "cmd", "cmd_l", "cmd_r", "ctrl", "ctrl_l", "ctrl_r",
     "delete", "down", "end", "enter", "esc", "home", "insert", "left", "menu", "num_lock", "page_down", "page_up",
     "pause", "print_screen", "right", "scroll_lock", "shift", "shift_l", "shift_r", "space", "tab", "up"]
    + [f"f{i}" for i in range(1, 21)])
#: other names people write for the same keys
ALIASES = {"control": "ctrl", "super": "cmd", "win": "cmd", "meta": "cmd", "escape": "esc", "return": "enter"}


class HotkeyError(ValueError):
    """A chord that is not one: the message says what is allowed."""


def hotkey_spec(chord: str) -> str:
    """``ctrl+alt+h`` -> pynput's ``<ctrl>+<alt>+h``; raises HotkeyError."""
    parts = [p.strip().lower() for p in chord.split("+")]
    if not chord.strip() or any(not p for p in parts):
        raise HotkeyError(f"hotkey {chord!r}: write keys joined by '+', such as \"ctrl+alt+h\" or \"f9\"")
    out = []
    for part in parts:
        part = ALIASES.get(part, part)
        if len(part) == 1:
            out.append(part)
        elif part in KEY_NAMES:
            out.append(f"<{part}>")
        else:
            raise HotkeyError(f"hotkey {chord!r}: unknown key {part!r} (a single character, or one of: "
                              f"{', '.join(sorted(KEY_NAMES))})")
    if len(set(out)) != len(out):
        raise HotkeyError(f"hotkey {chord!r} names a key twice")
    return "+".join(out)


class GlobalHotkey:
    """Calls ``callback`` (on the listener's thread) each time ``chord`` is pressed anywhere."""

    def __init__(self, chord: str, callback: Callable[[], None]) -> None:
        self.chord, self.spec, self.callback = chord, hotkey_spec(chord), callback
        self._listener = None

    def start(self, environ: dict[str, str] | None = None, platform: str = sys.platform) -> bool:
        """Listen from now on; False (after one warning) where the desktop gives no global keys."""
        env = os.environ if environ is None else environ
        if platform.startswith("linux") and not env.get("DISPLAY"):
            log.warning("no global hotkey %s: %s", self.chord,
                        "Wayland gives no program the keys of another" if env.get("WAYLAND_DISPLAY")
                        else "no X display (DISPLAY is not set)")
            return False
        try:
            from pynput import keyboard

            self._listener = keyboard.GlobalHotKeys({self.spec: self._pressed})
            self._listener.start()
            self._listener.wait()
        except Exception as exc:  # noqa: BLE001 - no RECORD extension, no permission (macOS): go on without
            log.warning("no global hotkey %s: %s: %s", self.chord, type(exc).__name__, exc)
            self._listener = None
            return False
        log.info("global hotkey %s puts HandSign to sleep and wakes it", self.chord)
        return True

    def _pressed(self) -> None:
        log.info("hotkey %s", self.chord)
        self.callback()

    def close(self) -> None:
        """Stop listening."""
        if self._listener is not None:
            self._listener.stop()
            self._listener = None
