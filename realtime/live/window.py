"""The live window: the annotated frame, keys as a table, banners, pause, snapshots and teach mode.

Keys (``KEYS``): s snapshot, c crop view, x activation map, m mirror, t teach mode, a actions on/off,
z sleep (camera off) and wake, space pause, h help, q/Esc quit. In teach mode the keys are teach mode's
own (``TeachMode.handle_key``).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

import cv2
import numpy as np

from realtime.events.gestures import GestureEvent
from realtime.live.loop import LiveLoop
from realtime.live.pipeline import FrameResult
from realtime.live.sinks import Recorder, save_snapshot
from realtime.live.teach_mode import TeachMode

log = logging.getLogger(__name__)
WINDOW = "HandSign"
NO_MODEL_BANNER = ("No gesture model (--model none, or models/handsign.onnx missing): hands are tracked, "
                   "not labelled. Pass --model FILE.onnx (docs/training.md)")
ESC = 27


class Window:
    """Shows each frame of a :class:`LiveLoop` and applies the keys pressed."""

    def __init__(self, loop: LiveLoop) -> None:
        self.loop = loop
        options = loop.options
        self.show_crops, self.show_help = options.crop_view, True
        self.message, self.message_until = "", 0.0
        self.recorder = Recorder(options.record, loop.source.fps or 30.0)
        base = loop.pipeline.classifier.path if loop.pipeline.classifier else None
        self.teach = TeachMode(options.teach_dir, base, options.teach_keep_base, options.threads)
        self._canvas: np.ndarray | None = None
        self._result: FrameResult | None = None
        #: how to wake HandSign, shown while asleep (the run sets it from the hotkey it listens to)
        self.wake_hint = "z, the sleep hotkey, the tray or SIGUSR2 wakes it"
        #: key -> what it does; q and Esc quit (handled in :meth:`handle_key`)
        self.keys: dict[int, Callable[[], None]] = {
            ord("s"): self.snapshot,
            ord("c"): self.toggle_crops,
            ord("x"): self.toggle_activation_map,
            ord("m"): loop.flip_mirror,
            ord("h"): self.toggle_help,
            ord("a"): self.toggle_actions,
            ord(" "): self.toggle_pause,
            ord("t"): self.teach.enter,
            ord("z"): self.toggle_sleep,
        }
        cv2.namedWindow(WINDOW, cv2.WINDOW_AUTOSIZE)

    # -- the view protocol
    def frame(self, result: FrameResult, events: list[GestureEvent]) -> bool:
        """Show one frame and handle its keys; False to stop."""
        if self.teach.recording and not self.loop.paused:
            try:
                self.teach.record(result)
            except OSError as exc:
                self.say(f"recording failed: {exc.strerror or exc}")
        for text in self.loop.messages:
            self.say(text, seconds=1.5, logged=True)
        canvas = self.annotate(result)
        self.recorder.write(canvas)
        return self.show(canvas, result)

    def waiting(self, result: FrameResult | None) -> bool:
        """Keep the window alive while the source has no frame; False to stop."""
        return result is None or self.show(self.annotate(result), result)

    def finished(self, result: FrameResult | None) -> None:
        """The source ended: nothing more to do (the loop then closes the window)."""

    def sleeping(self, result: FrameResult | None) -> bool:
        """Asleep: the last frame greyed, with how to wake; keys still work. False to quit."""
        canvas = self._canvas if self._canvas is not None else np.zeros((240, 320, 3), np.uint8)
        grey = cv2.cvtColor(cv2.cvtColor(canvas, cv2.COLOR_BGR2GRAY), cv2.COLOR_GRAY2BGR) // 2
        cv2.putText(grey, "asleep: camera off", (12, 36), cv2.FONT_HERSHEY_SIMPLEX, 0.8, (255, 255, 255), 2)
        cv2.putText(grey, self.wake_hint, (12, 66), cv2.FONT_HERSHEY_SIMPLEX, 0.5, (230, 230, 230), 1)
        cv2.imshow(WINDOW, grey)
        key = cv2.waitKey(100) & 0xFF
        if key != 0xFF and not self.handle_key(key):
            return False
        return cv2.getWindowProperty(WINDOW, cv2.WND_PROP_VISIBLE) >= 1

    def close(self) -> None:
        """Close the window and the recording."""
        self.recorder.close()
        cv2.destroyAllWindows()

    # -- drawing
    def banner(self) -> str | None:
        """The banner line now (paused, a message), or None."""
        if self.loop.paused:
            return "paused (space resumes)"
        if time.monotonic() < self.message_until:
            return self.message
        if getattr(self.loop.source, "status", None):
            return self.loop.source.status
        if self.loop.pipeline.classifier is None:
            return NO_MODEL_BANNER
        return None

    def annotate(self, result: FrameResult) -> np.ndarray:
        """The frame with the overlay drawn (crops, maps and teach mode as on)."""
        pipeline = self.loop.pipeline
        teaching = self.teach.state.active
        if self.show_crops or teaching:
            pipeline.model_views(result.hands)
            if pipeline.keep_feature_maps and not teaching:
                pipeline.activation_maps(result.hands)
        teach = self.teach.lines() if teaching else None
        status = self.loop.dispatcher.status() if self.loop.dispatcher is not None else None
        return self.loop.draw(result, show_crops=self.show_crops or bool(teach), show_help=self.show_help and not teach,
                              banner=self.banner(), teach=teach, recording=self.teach.recording, actions=status)

    def say(self, text: str, seconds: float = 3.0, logged: bool = False) -> None:
        """A banner for ``seconds``; logged too unless the caller has logged it already."""
        if not logged:
            log.info(text)
        self.message, self.message_until = text, time.monotonic() + seconds

    def show(self, canvas: np.ndarray, result: FrameResult) -> bool:
        """Show a frame and handle keys (waiting here while paused); False to quit."""
        while True:
            self._canvas, self._result = canvas, result
            cv2.imshow(WINDOW, canvas)
            key = cv2.waitKey(1 if not self.loop.paused else 30) & 0xFF
            if key != 0xFF:
                if not self.handle_key(key):
                    return False
                canvas = self.annotate(result)
                cv2.imshow(WINDOW, canvas)
            if cv2.getWindowProperty(WINDOW, cv2.WND_PROP_VISIBLE) < 1:
                return False  # the user closed the window
            if not self.loop.paused or self.loop.sleep.asleep or self.loop.quit_requested:
                return True

    # -- keys
    def handle_key(self, key: int) -> bool:
        """Apply a key; returns False to quit."""
        log.debug("key %r%s", chr(key), " (teach mode)" if self.teach.state.active else "")
        if self.teach.state.active:
            action = self.teach.handle_key(key)
            if action == "train":
                self.train_taught()
            elif action == "leave":
                self.say("left teach mode")
            return action != "quit"
        if key in (ord("q"), ESC):
            return False
        if key in self.keys:
            self.keys[key]()
        return True

    def snapshot(self) -> None:
        """Save the frame and its crops (key s)."""
        try:
            self.say(f"snapshot saved: {save_snapshot(self.loop.options.snapshot_dir, self._canvas, self._result)}")
        except OSError as exc:  # e.g. the disk filled up since start-up: report, keep running
            self.say(f"snapshot failed: {exc.strerror or exc}")

    def toggle_crops(self) -> None:
        """Show or hide the crop view (key c)."""
        self.show_crops = not self.show_crops

    def toggle_activation_map(self) -> None:
        """Where the model looked: the activation map over the crop view."""
        pipeline = self.loop.pipeline
        pipeline.keep_feature_maps = not pipeline.keep_feature_maps
        self.show_crops = self.show_crops or pipeline.keep_feature_maps

    def toggle_help(self) -> None:
        """Show or hide the keys' help (key h)."""
        self.show_help = not self.show_help

    def toggle_pause(self) -> None:
        """Pause or resume (space)."""
        self.loop.paused = not self.loop.paused

    def toggle_sleep(self) -> None:
        """Sleep (the camera released) or wake (key z; also the hotkey, the tray and SIGUSR2)."""
        self.loop.sleep.toggle("key z")

    def toggle_actions(self) -> None:
        """The kill switch (also SIGUSR1): pause or resume every binding at once."""
        if self.loop.dispatcher is None:
            self.say("no --bindings: nothing to pause")
            return
        self.say(self.loop.dispatcher.toggle(), logged=True)

    def train_taught(self) -> None:
        """Fit on the recorded gestures and switch to the taught model; problems show as a banner."""
        self.say("training on the recorded gestures...")
        cv2.imshow(WINDOW, self.annotate(self._result))
        cv2.waitKey(1)
        self.say(self.teach.train_and_switch(self.loop.pipeline, self.loop.options.spinning))
