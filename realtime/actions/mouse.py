"""Pointer mode's output: mouse commands -> the real pointer (pynput), or the log with --dry-run."""

from __future__ import annotations

import logging
import sys
from collections.abc import Sequence
from typing import Any

from realtime.actions.runner import x_display
from realtime.core.errors import HandSignError
from realtime.events.cursor import CursorMapper, MouseCommand
from realtime.events.detector import observations

log = logging.getLogger(__name__)
#: When the screen's size cannot be read (a dry run without a display, or an unknown platform).
FALLBACK_SCREEN = (1920, 1080)


def check_pointer_display(environ: dict[str, str] | None = None, platform: str = sys.platform) -> None:
    """Pointer mode needs a desktop: on Linux an X server (XWayland counts)."""
    state = x_display(environ, platform)
    if state == "xwayland":
        log.warning("Wayland session: the pointer moves through XWayland, over X11 windows only")
    if state in ("ok", "xwayland"):
        return
    if state == "wayland":
        raise HandSignError("--pointer cannot work here: a Wayland session without XWayland (WAYLAND_DISPLAY is "
                            "set, DISPLAY is not), and pynput moves the pointer through X11 only")
    raise HandSignError("--pointer needs a display whose pointer to move (DISPLAY is not set): start the X "
                        "server, or use --dry-run to log the moves")


def screen_size() -> tuple[int, int] | None:
    """Every monitor together: the X root window, or Windows' virtual screen; None if unknown."""
    if sys.platform.startswith("linux"):
        try:
            from Xlib import display  # python-xlib, which pynput brings on Linux
            d = display.Display()
            try:
                s = d.screen()
                return int(s.width_in_pixels), int(s.height_in_pixels)
            finally:
                d.close()
        except Exception:  # noqa: BLE001 - no X server, or no python-xlib: the caller falls back
            return None
    if sys.platform == "win32":
        import ctypes
        metrics = ctypes.windll.user32.GetSystemMetrics  # type: ignore[attr-defined]
        return int(metrics(78)), int(metrics(79))  # SM_CXVIRTUALSCREEN, SM_CYVIRTUALSCREEN
    if sys.platform == "darwin":
        try:
            from AppKit import NSScreen  # pyobjc, which pynput brings on macOS
            frames = [s.frame() for s in NSScreen.screens()]
            return (int(max(f.origin.x + f.size.width for f in frames)),
                    int(max(f.origin.y + f.size.height for f in frames)))
        except Exception:  # noqa: BLE001
            return None
    return None


class MouseDriver:
    """Applies mouse commands to the desktop's pointer (or logs them with ``dry_run``)."""

    def __init__(self, dry_run: bool = False) -> None:
        self.dry_run = dry_run
        self._mouse: Any = None
        self._button: Any = None
        self._right: Any = None
        size = screen_size()
        if not dry_run:
            check_pointer_display()
            try:
                from pynput import mouse
            except ImportError as exc:
                raise HandSignError(f"--pointer cannot move the pointer here (pynput: {exc})") from None
            self._mouse, self._button, self._right = mouse.Controller(), mouse.Button.left, mouse.Button.right
        self.screen = size or FALLBACK_SCREEN
        if size is None:
            log.warning("screen size unknown: pointer kept within %dx%d", *self.screen)
        position = self._mouse.position if self._mouse is not None else None
        self.start = (int(position[0]), int(position[1])) if position else (self.screen[0] // 2, self.screen[1] // 2)

    def position(self) -> tuple[int, int] | None:
        """Where the pointer is now (None in a dry run)."""
        if self._mouse is None:
            return None
        x, y = self._mouse.position
        return int(x), int(y)

    def apply(self, commands: Sequence[MouseCommand]) -> None:
        """Carry out the mouse commands (or log them in a dry run)."""
        for c in commands:
            if self.dry_run:
                log.info("pointer (dry run): %s%s", c.kind, _detail(c))
                continue
            if c.kind == "move":
                self._mouse.position = (c.x, c.y)
            elif c.kind == "press":
                self._mouse.press(self._button)
            elif c.kind == "release":
                self._mouse.release(self._button)
            elif c.kind == "click":
                self._mouse.click(self._button, 1)
            elif c.kind == "right_click":
                self._mouse.click(self._right, 1)
            elif c.kind == "scroll":
                self._mouse.scroll(c.horizontal, c.amount)  # X11: buttons 4/5 up/down, 6/7 left/right
            if c.kind != "move":
                log.info("pointer: %s%s", c.kind, _detail(c))


def _detail(c: MouseCommand) -> str:
    """A command's numbers for the log: ``scroll up 1``, ``scroll left 2``, ``press at (x, y)``."""
    if c.kind != "scroll":
        return f" at ({c.x}, {c.y})" + (f" ({c.why})" if c.why else "")
    parts = ([f"{'up' if c.amount > 0 else 'down'} {abs(c.amount)}"] if c.amount else []) + \
        ([f"{'right' if c.horizontal > 0 else 'left'} {abs(c.horizontal)}"] if c.horizontal else [])
    return " " + ", ".join(parts)


class PointerMode:
    """The pointer hand's motion and pointer events, each frame, to the mouse (``--pointer``)."""

    def __init__(self, driver: MouseDriver, **settings: Any) -> None:
        self.driver = driver
        self.settings = dict(settings)
        self.mapper = CursorMapper(driver.screen, driver.start, **settings)

    def configure(self, settings: dict[str, Any]) -> None:
        """New [pointer] settings (another profile, a reloaded file): the button is let go, and the
        pointer goes on from where it is."""
        if dict(settings) == self.settings:
            return
        self.stop()
        position = self.driver.position() or (int(self.mapper.x), int(self.mapper.y))
        self.settings = dict(settings)
        self.mapper = CursorMapper(self.driver.screen, position, **settings)

    def frame(self, result: Any, events: Sequence[Any]) -> None:
        """Move, click or scroll for one processed frame and its events."""
        height, width = result.image.shape[:2]
        self.driver.apply(self.mapper.update(result.frame.timestamp_ms, observations(result), events, width, height))

    def stop(self) -> None:
        """Paused or ending: let go of the button, and start afresh when it resumes."""
        self.driver.apply(self.mapper.release())
        self.mapper.lift()
