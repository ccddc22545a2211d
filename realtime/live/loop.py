"""The live loop without a GUI: frames -> hands -> gestures -> events, handed to a dispatcher and a view.

    loop = LiveLoop(options, source, pipeline, dispatcher)
    loop.run(HeadlessView(loop))   # or Window(loop, ...) from realtime.live.window

The loop owns the event logic and the frame counters; what happens to events (bindings, the stream,
OSC) is the dispatcher's job, handed in by the command, so this package never imports ``actions``.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator, Sequence
from typing import Protocol

import numpy as np

from realtime.events.detector import EventDetector
from realtime.events.gestures import ActiveGesture, GestureEvent
from realtime.live.detections import detections
from realtime.live.options import LiveOptions
from realtime.live.overlay import Annotator
from realtime.live.pipeline import FrameResult, GesturePipeline
from realtime.live.sinks import JsonLines, Recorder
from realtime.live.sleep import SleepSwitch
from realtime.live.sources import Frame, Source

log = logging.getLogger(__name__)


class Dispatcher(Protocol):
    """What the loop hands each frame's events to (``realtime.actions.EventDispatcher`` is one)."""

    def dispatch(self, result: FrameResult, events: Sequence[GestureEvent],
                 active: Sequence[ActiveGesture]) -> list[str]:
        """Act on the events; returns what to tell the user (one line each)."""

    def toggle(self) -> str:
        """The kill switch: pause or resume every action; returns what to tell the user."""

    def status(self) -> str | None:
        """One line for the window (actions on, paused, dry run), or None without bindings."""

    def rest(self) -> None:
        """No frames will come for a while (sleep): let go of anything held (the pointer's button)."""


class View(Protocol):
    """Where a processed frame goes: a window or the console."""

    def frame(self, result: FrameResult, events: list[GestureEvent]) -> bool:
        """Show one frame; False stops the loop."""

    def waiting(self, result: FrameResult | None) -> bool:
        """The source is reconnecting (no new frame); False stops the loop."""

    def finished(self, result: FrameResult | None) -> None:
        """The loop ended (the source ran out, or the view or --max-frames stopped it)."""

    def sleeping(self, result: FrameResult | None) -> bool:
        """Asleep: wait a little for the wake-up (keeping a window alive); False stops the loop."""

    def close(self) -> None:
        """Release what the view holds."""


class LiveLoop:
    """Frames through the pipeline and the event logic; the view shows them, the dispatcher acts."""

    def __init__(self, options: LiveOptions, source: Source, pipeline: GesturePipeline,
                 dispatcher: Dispatcher | None = None) -> None:
        self.options, self.source, self.pipeline, self.dispatcher = options, source, pipeline, dispatcher
        self.events = EventDetector.create_from_options(options.events)
        self.mirror = source.live if options.mirror is None else options.mirror
        self.paused = False  # the window's space key: frames are not processed meanwhile
        self.sleep = SleepSwitch()  # asleep: the source is released until woken
        self.quit_requested = False  # set from another thread (the tray): the loop ends after this frame
        self.annotator = Annotator(options.threshold)
        self.frames, self.hands_seen, self.fps = 0, 0, 0.0
        self.messages: list[str] = []  # what the dispatcher said this frame, for the window's banner
        pipeline.keep_feature_maps = options.activation_map

    def run(self, view: View) -> int:
        """Run until the source ends or the view stops; 130 when interrupted, else 0."""
        started = time.perf_counter()
        code = 0
        try:
            self._loop(view)
        except KeyboardInterrupt:  # Ctrl-C or SIGTERM: keep what was recorded, still print the summary
            log.warning("interrupted: stopping")
            code = 130
        elapsed = time.perf_counter() - started
        log.info("%d frames in %.1f s (%.1f fps), %d hand detections, source %s",
                 self.frames, elapsed, self.frames / max(elapsed, 1e-6), self.hands_seen, self.source.name)
        return code

    def _loop(self, view: View) -> None:
        frames = iter(self.source)  # one iteration across sleeps: a file goes on where it was
        result = None
        while True:
            result, ended = self._frames(view, frames, result)
            if ended or self.quit_requested or not self._sleep(view, result):
                break
        view.finished(result)

    def _frames(self, view: View, frames: Iterator[Frame], result: FrameResult | None
                ) -> tuple[FrameResult | None, bool]:
        """Process frames until the source ends, the view stops, or sleep is asked for (then not ended)."""
        last = time.perf_counter()
        with detections(self.pipeline, frames, lambda: self.mirror, not self.options.serial) as found:
            for item in found:
                if self.quit_requested:
                    return result, True
                if self.sleep.asleep:
                    return result, False
                if isinstance(item, Frame):  # the camera is reconnecting: keep the view alive
                    if not view.waiting(result):
                        return result, True
                    continue
                if item.mirrored != self.mirror:
                    continue  # tracked before `m` was pressed: the next frame comes the new way round
                result = self.pipeline.finish(item)
                events = self.step(result)
                now = time.perf_counter()
                rate = 1.0 / max(now - last, 1e-6)
                self.fps = 0.9 * self.fps + 0.1 * rate if self.fps else rate
                last = now
                if not view.frame(result, events):
                    return result, True
                if self.options.max_frames and self.frames >= self.options.max_frames:
                    return result, True
        return result, True

    def _sleep(self, view: View, result: FrameResult | None) -> bool:
        """Release the source until woken, then open it again; False when the view stops meanwhile."""
        if self.dispatcher is not None:
            self.dispatcher.rest()
        self.source.release()
        log.info("asleep: %s released; nothing is read or sent until woken", self.source.name)
        while self.sleep.asleep:
            if self.quit_requested or not view.sleeping(result):
                return False
        self.source.reopen()
        self.pipeline.smoother.reset()
        self.events.reset()
        self.fps = 0.0
        log.info("awake: reading %s again", self.source.name)
        return True

    def step(self, result: FrameResult) -> list[GestureEvent]:
        """One processed frame's events, handed to the dispatcher; counts the frame."""
        events = self.events.update(result, self.mirror)
        self.messages = (self.dispatcher.dispatch(result, events, self.events.gestures.active)
                         if self.dispatcher is not None else [])
        self.frames += 1
        self.hands_seen += len(result.hands)
        return events

    def flip_mirror(self) -> None:
        """Mirror the view the other way; the tracks and events start afresh."""
        self.mirror = not self.mirror
        self.pipeline.smoother.reset()
        self.events.reset()

    def draw(self, result: FrameResult, **overlay) -> np.ndarray:
        """The annotated frame (see :meth:`Annotator.draw` for ``overlay``)."""
        return self.annotator.draw(result, self.fps, **overlay)


class HeadlessView:
    """No window: JSON lines on stdout (frames, or events only), and the video if recording."""

    def __init__(self, loop: LiveLoop, lines: JsonLines | None = None) -> None:
        self.loop = loop
        self.lines = lines or JsonLines(loop.options.events_only)
        self.recorder = Recorder(loop.options.record, loop.source.fps or 30.0)

    def frame(self, result: FrameResult, events: list[GestureEvent]) -> bool:
        """Write the frame's JSON line (and the recording); always goes on."""
        self.lines.write(result, events)
        if self.loop.options.record:
            self.recorder.write(self.loop.draw(result))
        return True

    def waiting(self, result: FrameResult | None) -> bool:
        """Nothing to show while the source has no frame; goes on."""
        return True

    def finished(self, result: FrameResult | None) -> None:
        """With --events-only, the end events of gestures still held when the source ended."""
        if self.loop.options.events_only and result is not None:  # gestures still shown when the source ended
            self.lines.write_events(self.loop.events.gestures.flush(result.frame.timestamp_ms, result.frame.index))

    def sleeping(self, result: FrameResult | None) -> bool:
        """Wait for the wake-up a little at a time; always goes on."""
        self.loop.sleep.wait(0.2)
        return True

    def close(self) -> None:
        """Finish the recording."""
        self.recorder.close()
