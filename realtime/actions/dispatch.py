"""Each frame's events -> everything that acts on them: the stream, OSC and the bindings, with the kill
switch (the window's `a`, or SIGUSR1) that pauses every binding at once."""

from __future__ import annotations

import logging
import os
import signal
from collections.abc import Sequence
from typing import Any

from realtime.actions.bindings import BindingEngine
from realtime.actions.mouse import PointerMode
from realtime.actions.osc import OscSender
from realtime.actions.runner import ActionRunner
from realtime.actions.stream import StreamServer, event_message, frame_message
from realtime.events.gestures import ActiveGesture, GestureEvent

log = logging.getLogger(__name__)


class EventDispatcher:
    """Streams every event, and fires the bindings they trigger unless paused.

    ``dispatch`` takes a frame's result (anything with ``frame.timestamp_ms``, ``frame.index`` and
    ``to_json()``), its events and the gestures being held; it returns what to tell the user.
    """

    def __init__(self, engine: BindingEngine | None = None, runner: ActionRunner | None = None,
                 stream: StreamServer | None = None, osc: OscSender | None = None,
                 serve_frames: bool = False, pointer: PointerMode | None = None) -> None:
        if (engine is None) != (runner is None):
            raise ValueError("bindings need both their engine and their runner")
        self.engine, self.runner, self.stream, self.osc = engine, runner, stream, osc
        self.pointer = pointer
        self.serve_frames = serve_frames
        self.paused = False
        self._pending: list[str] = []  # said outside a frame (SIGUSR1), shown with the next one

    def dispatch(self, result: Any, events: Sequence[GestureEvent], active: Sequence[ActiveGesture]) -> list[str]:
        """Send one frame's events to every receiver: bindings, pointer, stream and OSC."""
        for event in events:
            if self.stream is not None:
                self.stream.publish(event_message(event))
            if self.osc is not None:
                self.osc.send(event)
        if self.stream is not None and self.serve_frames:
            self.stream.publish(frame_message({**result.to_json(), "events": [e.to_json() for e in events]}))
        said, self._pending = self._pending, []
        if self.pointer is not None:
            if self.paused:
                self.pointer.stop()
            else:
                self.pointer.frame(result, events)
        if self.engine is None:
            return said
        for firing in self.engine.update(result.frame.timestamp_ms, list(events), list(active), result.frame.index):
            if self.paused:
                log.info("paused: not firing %s", firing.binding.describe())
                continue
            said.append(f"-> {self.runner.fire(firing)}")
        return said

    def toggle(self) -> str:
        """The kill switch: pause or resume every binding at once; returns (and logs) what happened."""
        if self.engine is None and self.pointer is None:
            text = "no --bindings or --pointer: nothing to pause"
        else:
            self.paused = not self.paused
            if self.paused and self.pointer is not None:
                self.pointer.stop()
            text = ("actions paused: nothing fires, the pointer stays (a resumes)" if self.paused
                    else "actions resumed")
        log.info(text)
        return text

    def status(self) -> str | None:
        """The window's actions line; None without bindings."""
        if self.engine is None and self.pointer is None:
            return None
        what = "actions" + (" + POINTER" if self.pointer is not None else "")
        if self.paused:
            return f"{what} PAUSED (a resumes)"
        dry = self.runner.dry_run if self.runner is not None else self.pointer.driver.dry_run
        return f"{what}: dry run (a pauses)" if dry else f"{what} on (a pauses)"

    def install_signal(self) -> None:
        """SIGUSR1 toggles the kill switch too (where the platform has it), e.g. from a desktop shortcut."""
        if (self.engine is not None or self.pointer is not None) and hasattr(signal, "SIGUSR1"):
            signal.signal(signal.SIGUSR1, lambda *_: self._pending.append(self.toggle()))
            log.info("kill switch: 'a' in the window, or kill -USR1 %d", os.getpid())

    def close(self) -> None:
        """Stop the receivers (the pointer lets go of its button)."""
        if self.pointer is not None:
            self.pointer.stop()
        if self.runner is not None:
            self.runner.close()
