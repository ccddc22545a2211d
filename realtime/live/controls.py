"""What the tray (and the command's signals) act on in a running loop, and the view of ``--background``
runs: no window until one is asked for, and closing it goes back to the background."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Protocol

from realtime.desktop.tray import TrayState
from realtime.events.gestures import GestureEvent
from realtime.live.loop import LiveLoop, View
from realtime.live.pipeline import FrameResult

log = logging.getLogger(__name__)


class DesktopDispatcher(Protocol):
    """The dispatcher's side the tray needs (``realtime.actions.EventDispatcher`` is one)."""

    paused: bool
    pointer_on: bool
    pointer_available: bool
    profile: str | None

    def toggle(self) -> str:
        """Pause or resume every action."""

    def toggle_pointer(self) -> str:
        """Pointer mode on or off."""

    def reload(self, why: str = "asked") -> str:
        """Read the bindings file again."""

    def status(self) -> str | None:
        """The actions line, None without actions."""


class BackgroundView:
    """No window and no output until :meth:`show` is asked for (from the tray, any thread); the window's
    q or Esc closes it again and the run goes on. The tray's Quit ends the run."""

    def __init__(self, loop: LiveLoop, make_window: Callable[[], View] | None) -> None:
        """``make_window`` opens the window; None where there is no display for one."""
        self.loop, self.make_window = loop, make_window
        self.window: View | None = None
        self.wanted = False

    def show(self) -> None:
        """Open the window with the next frame."""
        self.wanted = True

    def _sync(self) -> None:
        if self.wanted and self.window is None and self.make_window is not None:
            self.window = self.make_window()
            log.info("window opened")
        self.wanted = False

    def _hide(self) -> None:
        if self.window is not None:
            self.window.close()
            self.window = None
            log.info("window closed: still running in the background (the tray's Quit ends it)")

    def frame(self, result: FrameResult, events: list[GestureEvent]) -> bool:
        """Show the frame if the window is open; goes on until quit from the tray."""
        self._sync()
        if self.window is not None and not self.window.frame(result, events):
            self._hide()
        return not self.loop.quit_requested

    def waiting(self, result: FrameResult | None) -> bool:
        """The camera is reconnecting: keep the window alive if open."""
        self._sync()
        if self.window is not None and not self.window.waiting(result):
            self._hide()
        return not self.loop.quit_requested

    def sleeping(self, result: FrameResult | None) -> bool:
        """Asleep: the window (if open) says so; otherwise wait quietly."""
        self._sync()
        if self.window is not None:
            if not self.window.sleeping(result):
                self._hide()
        else:
            self.loop.sleep.wait(0.2)
        return not self.loop.quit_requested

    def finished(self, result: FrameResult | None) -> None:
        """The source ended."""
        if self.window is not None:
            self.window.finished(result)

    def close(self) -> None:
        """Close the window if open."""
        self._hide()


class LiveControls:
    """The tray's controls over a running loop (:class:`realtime.desktop.TrayControls`)."""

    def __init__(self, loop: LiveLoop, dispatcher: DesktopDispatcher | None = None,
                 view: BackgroundView | None = None) -> None:
        self.loop, self.dispatcher, self.view = loop, dispatcher, view

    def tray_state(self) -> TrayState:
        """Asleep, actions paused, pointer, profile, window: what the tray shows."""
        d = self.dispatcher
        actions = d is not None and d.status() is not None
        return TrayState(asleep=self.loop.sleep.asleep, actions_paused=d.paused if actions else None,
                         pointer=d.pointer_on if d is not None and d.pointer_available else None,
                         profile=d.profile if d is not None else None,
                         window_open=self.view is not None and self.view.window is not None)

    def toggle_sleep(self) -> str:
        """Sleep (the camera released) or wake."""
        return self.loop.sleep.toggle("tray")

    def toggle_actions(self) -> str:
        """The kill switch."""
        return self.dispatcher.toggle() if self.dispatcher is not None else "no actions to pause"

    def toggle_pointer(self) -> str:
        """Pointer mode on or off."""
        return self.dispatcher.toggle_pointer() if self.dispatcher is not None else "pointer mode cannot be had here"

    def open_window(self) -> str:
        """Show the preview window (background runs)."""
        if self.view is None:
            return "the window is already open"
        if self.view.make_window is None:
            return "no display for a window"
        self.view.show()
        return "opening the window"

    def reload_bindings(self) -> str:
        """Read the bindings file again."""
        return self.dispatcher.reload("tray") if self.dispatcher is not None else "no --bindings file to reload"

    def quit(self) -> str:
        """End the run after the frame in hand."""
        self.loop.quit_requested = True
        self.loop.sleep.nudge()  # ends a wait, so the loop sees it at once
        return "quitting"
