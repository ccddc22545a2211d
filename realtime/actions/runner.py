"""What a fired binding does: press a key (pynput), run a command (no shell), or print the event.

The live loop never waits for an action: keys are pressed by one worker thread in firing order,
each command runs in its own thread with its timeout (one run per binding at a time), and a
failure is logged, never raised into the loop. ``dry_run`` only logs what would happen.
"""

from __future__ import annotations

import json
import logging
import os
import queue
import shutil
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any

from realtime.actions.bindings import Binding, BindingsError, Firing
from realtime.core.errors import HandSignError

log = logging.getLogger(__name__)


def x_display(environ: dict[str, str] | None = None, platform: str = sys.platform) -> str:
    """What pynput can reach on this desktop: "ok" (not Linux, or X11), "xwayland" (X11 windows of a
    Wayland session only), "wayland" (no X at all) or "none" (no display)."""
    env = os.environ if environ is None else environ
    if not platform.startswith("linux"):
        return "ok"
    if env.get("DISPLAY"):
        return "xwayland" if env.get("WAYLAND_DISPLAY") else "ok"
    return "wayland" if env.get("WAYLAND_DISPLAY") else "none"


def check_key_display(environ: dict[str, str] | None = None, platform: str = sys.platform) -> None:
    """Key bindings need a desktop to send keys to: on Linux an X server (XWayland counts)."""
    state = x_display(environ, platform)
    if state == "xwayland":
        log.warning("Wayland session: keys are sent through XWayland and reach X11 windows only")
    if state in ("ok", "xwayland"):
        return
    if state == "wayland":
        raise HandSignError("key bindings cannot work here: this is a Wayland session without XWayland "
                            "(WAYLAND_DISPLAY is set, DISPLAY is not), and pynput sends keys through X11 only; "
                            "use command bindings (e.g. wtype or ydotool), or --dry-run")
    raise HandSignError("key bindings need a display to send keys to (DISPLAY is not set): start the X "
                        "session first, use command or print bindings, or --dry-run")


def keyboard_module(dry_run: bool) -> Any:
    """pynput.keyboard with its real backend where there is a desktop; a dry run without one loads the
    dummy backend (it sends nothing). A dry run with a desktop loads the real one too: it presses
    nothing (no Controller is made), and the global hotkey must be able to listen through it."""
    if not dry_run:
        check_key_display()
    if not dry_run or x_display() in ("ok", "xwayland") or "pynput.keyboard" in sys.modules:
        try:
            from pynput import keyboard
            return keyboard
        except ImportError as exc:
            if not dry_run:
                detail = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
                raise HandSignError(f"key bindings cannot send keys here (pynput: {detail})") from None
    saved = os.environ.get("PYNPUT_BACKEND")
    os.environ["PYNPUT_BACKEND"] = "dummy"
    try:
        from pynput import keyboard
    finally:
        if saved is None:
            os.environ.pop("PYNPUT_BACKEND", None)
        else:
            os.environ["PYNPUT_BACKEND"] = saved
    return keyboard


def parse_chord(text: str, key_names: dict[str, Any]) -> tuple[Any, ...]:
    """"ctrl+alt+right" -> the keys to press in order; raises ValueError naming what is allowed."""
    parts = [p.strip() for p in text.split("+")]
    if text.strip() == "+":
        parts = ["+"]
    keys = []
    for part in parts:
        if len(part) == 1:
            keys.append(part)
        elif part.lower() in key_names:
            keys.append(key_names[part.lower()])
        else:
            raise ValueError(f"unknown key {part!r} in {text!r} (a single character, or one of: "
                             f"{', '.join(sorted(key_names))})")
    return tuple(keys)


class ActionRunner:
    """Carries out fired bindings without ever blocking or stopping the caller."""

    def __init__(self, bindings: list[Binding], bindings_path: Path, dry_run: bool = False) -> None:
        self.dry_run = dry_run
        self._chords: dict[int, tuple[Any, ...]] = {}
        self._controller = None
        key_bindings = [b for b in bindings if b.action == "key"]
        if key_bindings:
            keyboard = keyboard_module(dry_run)
            names = {n.lower(): k for n, k in keyboard.Key.__members__.items()}
            for b in key_bindings:
                try:
                    self._chords[b.index] = parse_chord(b.key, names)
                except ValueError as exc:
                    raise BindingsError(f"{bindings_path} line {b.action_line}: {exc}") from None
            if not dry_run:
                self._controller = keyboard.Controller()
        for b in bindings:
            if b.action == "command" and shutil.which(b.command[0]) is None:
                message = f"{bindings_path} line {b.action_line}: command {b.command[0]!r} not found on PATH"
                if not dry_run:
                    raise BindingsError(message)
                log.warning("%s", message)
        self._busy: set[int] = set()  # bindings whose command is running
        self._lock = threading.Lock()
        self._keys: queue.Queue = queue.Queue()
        self._key_thread = None
        if self._controller is not None:
            self._key_thread = threading.Thread(target=self._press_keys, name="key-actions", daemon=True)
            self._key_thread.start()

    def fire(self, firing: Firing, where: str = "") -> str:
        """Start the binding's action; returns what was done, for the log and the window. ``where`` names
        the profile it fires by, for the log (" (profile slides)")."""
        b, event = firing.binding, firing.event
        what = b.describe()
        if self.dry_run:
            log.info("dry run: would fire %s (binding %d)%s on %s", what, b.index, where, json.dumps(event.to_json()))
            return f"dry run: {what}"
        if b.action == "print":
            print(json.dumps({"binding": b.index, "name": b.name or None, "event": event.to_json()}), flush=True)
        elif b.action == "key":
            self._keys.put(self._chords[b.index])
        else:
            with self._lock:
                if b.index in self._busy:
                    log.warning("binding %d: %s is still running: not started again", b.index, b.command[0])
                    return f"{what} (still running)"
                self._busy.add(b.index)
            threading.Thread(target=self._run_command, args=(b, event), name=f"command-{b.index}",
                             daemon=True).start()
        log.info("fired %s (binding %d)%s", what, b.index, where)
        return what

    def _press_keys(self) -> None:
        while True:
            chord = self._keys.get()
            if chord is None:
                return
            try:
                for k in chord:
                    self._controller.press(k)
                for k in reversed(chord):
                    self._controller.release(k)
            except Exception as exc:  # a key the keyboard layout lacks, a lost X connection: log only
                log.warning("could not press %s: %s", chord, exc)

    def _run_command(self, b: Binding, event) -> None:
        env = {**os.environ, "HANDSIGN_GESTURE": event.gesture, "HANDSIGN_HAND": event.hand,
               "HANDSIGN_EVENT": json.dumps(event.to_json())}
        try:
            proc = subprocess.Popen(list(b.command), stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                    stderr=subprocess.PIPE, env=env, text=True, errors="replace")
        except OSError as exc:
            log.warning("binding %d: could not start %s: %s", b.index, b.command[0], exc.strerror or exc)
            self._done(b)
            return
        try:
            _, err = proc.communicate(timeout=b.timeout or None)
            if proc.returncode:
                tail = err.strip().splitlines()[-1] if err.strip() else ""
                log.warning("binding %d: %s exited with code %d%s", b.index, b.command[0], proc.returncode,
                            f": {tail}" if tail else "")
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.communicate()
            log.warning("binding %d: %s ran past its timeout of %g s: killed", b.index, b.command[0], b.timeout)
        finally:
            self._done(b)

    def _done(self, b: Binding) -> None:
        with self._lock:
            self._busy.discard(b.index)

    def close(self, wait_s: float = 2.0) -> None:
        """Stop pressing keys; give running commands ``wait_s`` to finish (they are not killed)."""
        if self._key_thread is not None:
            self._keys.put(None)
            self._key_thread.join(timeout=wait_s)
        for thread in [t for t in threading.enumerate() if t.name.startswith("command-")]:
            thread.join(timeout=wait_s)
