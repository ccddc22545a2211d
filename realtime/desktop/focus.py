"""The window in front: its process name, window class and title, for per-application profiles.

    read = open_focus_reader()      # None where it cannot be known (Wayland without XWayland)
    window = read() if read else None

On X11 (XWayland included) it is read through python-xlib (which pynput brings): the EWMH
``_NET_ACTIVE_WINDOW`` of the root window, its ``_NET_WM_NAME`` (or ``WM_NAME``), ``WM_CLASS`` and
``_NET_WM_PID``, whose process name comes from psutil. On Windows: ``GetForegroundWindow`` and its
title, class and process. On macOS: the frontmost application (its name, as both app and class; no
title, which needs the Screen Recording permission). PyWinCtl was tried first: its monitor module
exits the whole process at import where ``xrandr`` is not installed.
"""

from __future__ import annotations

import logging
import os
import sys
from collections.abc import Callable
from dataclasses import dataclass

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class FocusedWindow:
    """The focused window: process name, window class (X11: instance and class, space-separated), title."""

    app: str = ""
    cls: str = ""
    title: str = ""

    def describe(self) -> str:
        """``'title' (app, class)`` for the log."""
        return f"{self.title!r} ({self.app or '?'}, {self.cls or '?'})"


FocusReader = Callable[[], "FocusedWindow | None"]


def process_name(pid: int | None) -> str:
    """A process's name (``firefox``), or '' when it cannot be read."""
    if not pid:
        return ""
    try:
        import psutil

        return psutil.Process(pid).name()
    except Exception:  # noqa: BLE001 - gone, not ours to read, or no psutil: unknown
        return ""


class X11Focus:
    """Reads the focused window of an X server through one connection (call :meth:`close` at the end)."""

    def __init__(self) -> None:
        from Xlib import X, display  # python-xlib, which pynput brings on Linux

        self._X = X
        self._d = display.Display()
        self._root = self._d.screen().root
        atom = self._d.intern_atom
        self._active, self._name, self._utf8, self._pid = (atom("_NET_ACTIVE_WINDOW"), atom("_NET_WM_NAME"),
                                                           atom("UTF8_STRING"), atom("_NET_WM_PID"))

    def __call__(self) -> FocusedWindow | None:
        """The focused window now; None when no window has the focus or the window manager does not say."""
        from Xlib.error import XError

        try:
            prop = self._root.get_full_property(self._active, self._X.AnyPropertyType)
            if prop is None or not len(prop.value) or not prop.value[0]:
                return None
            win = self._d.create_resource_object("window", int(prop.value[0]))
            name = win.get_full_property(self._name, self._utf8)
            title = name.value.decode("utf-8", "replace") if name is not None else (win.get_wm_name() or "")
            if isinstance(title, bytes):
                title = title.decode("latin-1")
            cls = " ".join(win.get_wm_class() or ())
            pid = win.get_full_property(self._pid, self._X.AnyPropertyType)
            return FocusedWindow(process_name(int(pid.value[0]) if pid is not None and len(pid.value) else None),
                                 cls, str(title))
        except XError:  # the window closed between two reads
            return None

    def close(self) -> None:
        """Close the X connection."""
        self._d.close()


def _windows_focus() -> FocusedWindow | None:
    import ctypes
    from ctypes import wintypes

    user32 = ctypes.windll.user32  # type: ignore[attr-defined]
    hwnd = user32.GetForegroundWindow()
    if not hwnd:
        return None
    title, cls = ctypes.create_unicode_buffer(512), ctypes.create_unicode_buffer(256)
    user32.GetWindowTextW(hwnd, title, 512)
    user32.GetClassNameW(hwnd, cls, 256)
    pid = wintypes.DWORD()
    user32.GetWindowThreadProcessId(hwnd, ctypes.byref(pid))
    return FocusedWindow(process_name(pid.value), cls.value, title.value)


def _macos_focus() -> FocusedWindow | None:
    from AppKit import NSWorkspace  # pyobjc, which pynput brings on macOS

    app = NSWorkspace.sharedWorkspace().frontmostApplication()
    if app is None:
        return None
    return FocusedWindow(str(app.localizedName() or ""), str(app.bundleIdentifier() or ""), "")


def open_focus_reader(environ: dict[str, str] | None = None, platform: str = sys.platform) -> FocusReader | None:
    """A function returning the focused window, or None (with one warning) where it cannot be known."""
    env = os.environ if environ is None else environ
    if platform == "win32":
        return _windows_focus
    if platform == "darwin":
        return _macos_focus
    if not env.get("DISPLAY"):
        why = ("a Wayland session without XWayland" if env.get("WAYLAND_DISPLAY")
               else "no X display (DISPLAY is not set)")
        log.warning("profiles: the focused window cannot be known (%s): the default bindings apply", why)
        return None
    try:
        return X11Focus()
    except Exception as exc:  # noqa: BLE001 - no X server answering, no python-xlib
        log.warning("profiles: cannot read the focused window (%s): the default bindings apply", exc)
        return None
