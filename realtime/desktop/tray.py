"""The tray icon of ``--background`` runs: the state at a glance, and a menu to act on it (pystray).

    tray = start_tray(controls)     # None, with one warning, where the desktop has no tray
    ...
    tray.close()

The menu's items call :class:`TrayMenu`'s handlers, which act through a :class:`TrayControls`
(``realtime.live.controls.LiveControls`` in a run): sleep and wake, actions on and off, pointer mode
on and off, open the window, reload the bindings file, quit. The icon is green while on, amber while
actions are paused, grey while asleep; its title says the state, the pointer and the profile.
"""

from __future__ import annotations

import logging
import os
import sys
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

log = logging.getLogger(__name__)
#: how often the icon's picture and title follow the state, in seconds
REFRESH_S = 0.5
COLOURS = {"on": (46, 160, 67), "paused": (219, 150, 20), "asleep": (120, 120, 120)}


@dataclass(frozen=True)
class TrayState:
    """What the tray shows."""

    asleep: bool = False
    actions_paused: bool | None = None  # None: nothing to pause (no bindings, no pointer)
    pointer: bool | None = None  # None: pointer mode cannot be had (no display to move)
    profile: str | None = None  # None: no profiles in the bindings file
    window_open: bool = False

    @property
    def mode(self) -> str:
        """on, paused or asleep: the icon's colour."""
        return "asleep" if self.asleep else "paused" if self.actions_paused else "on"

    def title(self) -> str:
        """The icon's tooltip, e.g. ``HandSign: on, pointer, profile browser``."""
        parts = ["asleep (camera off)" if self.asleep else "actions paused" if self.actions_paused else "on"]
        if self.pointer:
            parts.append("pointer")
        if self.profile:
            parts.append(f"profile {self.profile}")
        return "HandSign: " + ", ".join(parts)


class TrayControls(Protocol):
    """What the tray's menu acts on (thread-safe: the tray runs on its own thread)."""

    def tray_state(self) -> TrayState:
        """The state now."""

    def toggle_sleep(self) -> str:
        """Sleep (camera released) or wake; returns what happened."""

    def toggle_actions(self) -> str:
        """Pause or resume the bindings and the pointer (the kill switch)."""

    def toggle_pointer(self) -> str:
        """Turn pointer mode on or off."""

    def open_window(self) -> str:
        """Show the preview window."""

    def reload_bindings(self) -> str:
        """Read the bindings file again (a bad file is refused, the old bindings stay)."""

    def quit(self) -> str:
        """End the run."""


class TrayMenu:
    """The menu's items as (text, handler, checked, enabled), and the handlers pystray calls."""

    def __init__(self, controls: TrayControls, on_change: Callable[[], None] = lambda: None) -> None:
        self.controls, self.on_change = controls, on_change

    def _do(self, action: Callable[[], str]) -> str:
        said = action()
        log.info("tray: %s", said)
        self.on_change()
        return said

    def on_sleep(self, *_: Any) -> str:
        """Menu "Asleep (camera off)"."""
        return self._do(self.controls.toggle_sleep)

    def on_actions(self, *_: Any) -> str:
        """Menu "Actions on"."""
        return self._do(self.controls.toggle_actions)

    def on_pointer(self, *_: Any) -> str:
        """Menu "Pointer mode"."""
        return self._do(self.controls.toggle_pointer)

    def on_window(self, *_: Any) -> str:
        """Menu "Show window"."""
        return self._do(self.controls.open_window)

    def on_reload(self, *_: Any) -> str:
        """Menu "Reload bindings"."""
        return self._do(self.controls.reload_bindings)

    def on_quit(self, *_: Any) -> str:
        """Menu "Quit"."""
        return self._do(self.controls.quit)

    def items(self) -> list[tuple[str, Callable[..., str], Callable[[], bool] | None, Callable[[], bool]]]:
        """(text, handler, checked or None, enabled) for each item, in menu order."""
        state = self.controls.tray_state
        return [
            ("Asleep (camera off)", self.on_sleep, lambda: state().asleep, lambda: True),
            ("Actions on", self.on_actions, lambda: state().actions_paused is False,
             lambda: state().actions_paused is not None),
            ("Pointer mode", self.on_pointer, lambda: bool(state().pointer), lambda: state().pointer is not None),
            ("Show window", self.on_window, None, lambda: not state().window_open),
            ("Reload bindings", self.on_reload, None, lambda: True),
            ("Quit", self.on_quit, None, lambda: True),
        ]


def icon_image(mode: str, size: int = 64) -> Any:
    """The tray picture for a mode: a coloured disc with a white H."""
    from PIL import Image, ImageDraw

    image = Image.new("RGBA", (size, size), (0, 0, 0, 0))
    draw = ImageDraw.Draw(image)
    draw.ellipse((2, 2, size - 3, size - 3), fill=COLOURS[mode] + (255,))
    w = size // 8
    left, right, top, bottom = size * 5 // 16, size * 11 // 16 - w, size // 4, size * 3 // 4
    draw.rectangle((left, top, left + w, bottom), fill="white")
    draw.rectangle((right, top, right + w, bottom), fill="white")
    draw.rectangle((left, size // 2 - w // 2, right + w, size // 2 + w // 2), fill="white")
    return image


def x11_tray_owner(environ: dict[str, str] | None = None) -> bool | None:
    """Whether an X11 system tray is running (the ``_NET_SYSTEM_TRAY_S0`` selection has an owner);
    None where that cannot be asked (not X11, no python-xlib)."""
    env = os.environ if environ is None else environ
    if not env.get("DISPLAY"):
        return None
    try:
        from Xlib import X, display

        d = display.Display(env["DISPLAY"])
        try:
            owner = d.get_selection_owner(d.intern_atom(f"_NET_SYSTEM_TRAY_S{d.get_default_screen()}"))
            return owner != X.NONE and bool(getattr(owner, "id", owner))
        finally:
            d.close()
    except Exception:  # noqa: BLE001 - no X server answering
        return None


class Tray:
    """A running tray icon (pystray) that follows the state until :meth:`close`."""

    def __init__(self, controls: TrayControls) -> None:
        import pystray

        self.controls = controls
        self.menu = TrayMenu(controls, self.refresh)
        items = [pystray.MenuItem(text, handler, checked=(lambda _i, c=checked: c()) if checked else None,
                                  enabled=lambda _i, e=enabled: e())
                 for text, handler, checked, enabled in self.menu.items()]
        state = controls.tray_state()
        self._shown = state
        self.icon = pystray.Icon("handsign", icon_image(state.mode), state.title(), menu=pystray.Menu(*items))
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self.icon.run, name="tray", daemon=True)
        self._thread.start()
        self._follow = threading.Thread(target=self._follow_state, name="tray-state", daemon=True)
        self._follow.start()

    def refresh(self) -> None:
        """Show the state now (its picture, title and menu)."""
        state = self.controls.tray_state()
        if state != self._shown:
            self._shown = state
            self.icon.icon = icon_image(state.mode)
            self.icon.title = state.title()
            self.icon.update_menu()

    def _follow_state(self) -> None:
        while not self._stop.wait(REFRESH_S):
            try:
                self.refresh()
            except Exception as exc:  # noqa: BLE001 - a tray gone away must not end the run
                log.debug("tray refresh: %s", exc)

    def close(self) -> None:
        """Remove the icon."""
        self._stop.set()
        try:
            self.icon.stop()
        except Exception as exc:  # noqa: BLE001
            log.debug("tray stop: %s", exc)
        self._thread.join(timeout=2)


def start_tray(controls: TrayControls, platform: str = sys.platform) -> Tray | None:
    """The tray icon, or None with one warning where the desktop has none (the run goes on)."""
    if platform.startswith("linux"):
        if not os.environ.get("DISPLAY") and not os.environ.get("WAYLAND_DISPLAY"):
            log.warning("no tray icon: no display (DISPLAY is not set); SIGUSR2 or the hotkey toggles sleep")
            return None
        if os.environ.get("DISPLAY") and x11_tray_owner() is False and not _has_gi():
            log.warning("no tray icon: this desktop runs no system tray (no _NET_SYSTEM_TRAY owner); the run goes "
                        "on: SIGUSR2 or the sleep hotkey toggles sleep, SIGUSR1 the actions")
            return None
    try:
        return Tray(controls)
    except Exception as exc:  # noqa: BLE001 - pystray has no backend here
        log.warning("no tray icon (%s); the run goes on", str(exc).splitlines()[0] if str(exc) else type(exc).__name__)
        return None


def _has_gi() -> bool:
    """Whether PyGObject is installed (pystray's AppIndicator and GTK backends need no X tray)."""
    import importlib.util

    return importlib.util.find_spec("gi") is not None
