"""Sleep: deeper than pausing the actions. While asleep the source is released (the camera's light goes
off), no frame is read and nothing is sent; waking opens it again. Toggled from any thread: the
global hotkey, the tray, SIGUSR2."""

from __future__ import annotations

import logging
import threading

log = logging.getLogger(__name__)


class SleepSwitch:
    """Asleep or awake; the live loop obeys between two frames."""

    def __init__(self) -> None:
        self._asleep = False
        self._lock = threading.RLock()  # re-entrant: SIGUSR2's handler runs on the main thread
        self._changed = threading.Condition(self._lock)

    @property
    def asleep(self) -> bool:
        """Whether HandSign should be asleep now."""
        return self._asleep

    def set(self, asleep: bool, why: str = "") -> str:
        """Sleep or wake; returns what was asked, for the log and the tray."""
        with self._changed:
            self._asleep = asleep
            self._changed.notify_all()
        text = ("going to sleep: the camera is released" if asleep else "waking up: opening the camera again")
        log.info("%s%s", text, f" ({why})" if why else "")
        return text

    def toggle(self, why: str = "") -> str:
        """Sleep if awake, wake if asleep."""
        return self.set(not self._asleep, why)

    def nudge(self) -> None:
        """Wake up whoever waits, without a change (the loop then sees a quit at once)."""
        with self._changed:
            self._changed.notify_all()

    def wait(self, timeout: float) -> bool:
        """Wait up to ``timeout`` s for a change; whether HandSign is asleep then."""
        with self._changed:
            self._changed.wait(timeout)
            return self._asleep
