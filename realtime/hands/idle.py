"""Idle mode: look for hands less often while none is in view, and wake at once when one comes.

Pure logic, no I/O. After ``idle_after_ms`` without a hand, the hands stage (MediaPipe's palm
detector, the costly part of a frame with no hand) runs only on frames that moved since the last one
it looked at, at most every ``min_interval_ms`` and at least every ``max_interval_ms``. A hand
entering the view moves the frame, so it is looked at in the frame it appears, or at most
``min_interval_ms`` later; a still scene costs a tiny motion check per frame, and a scene that keeps
moving without a hand (someone walking behind, an arm) is looked at about ten times a second
instead of at the camera's rate. The first hand found ends idle mode (full rate from the next frame);
a "hand" that is gone again before it was seen on ``confirm_frames`` frames in a row (MediaPipe now and
then finds one in a face or a patterned shirt for a frame or two) puts it straight back to idle, instead
of keeping the full rate for ``idle_after_ms``.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import cv2
import numpy as np

DEFAULT_IDLE_AFTER_MS = 2000
DEFAULT_MAX_INTERVAL_MS = 1000
#: While idle, looks are at least this far apart even in a moving scene: the most a waking hand waits.
DEFAULT_MIN_INTERVAL_MS = 100
#: the motion check's view of a frame: small, grey, blurred (noise and compression flicker are not motion)
MOTION_SIZE = (80, 60)
#: a pixel of that view has moved when its brightness changed by more than this (0..255)
MOTION_LEVEL = 18
#: the frame has moved when at least this share of its pixels did (a hand entering a webcam's view is more)
DEFAULT_MOTION_SHARE = 0.01
#: Idle looks see the frame at this scale: the palm detector's input is 192x192 either way, and a
#: 640x480 frame costs MediaPipe about 3.7 ms more to convert than a 320x240 one (of ~17 ms a look).
IDLE_LOOK_SCALE = 0.5
#: A waking hand is real once it has been found on this many looked-at frames in a row.
DEFAULT_CONFIRM_FRAMES = 3


def motion_view(image: np.ndarray) -> np.ndarray:
    """A frame as the motion check sees it."""
    small = cv2.resize(image, MOTION_SIZE, interpolation=cv2.INTER_AREA)
    grey = cv2.cvtColor(small, cv2.COLOR_BGR2GRAY) if small.ndim == 3 else small
    return cv2.GaussianBlur(grey, (5, 5), 0)


@dataclass
class IdlePacer:
    """Decides, frame by frame, whether the hands stage runs; ``seen`` tells it what was found."""

    idle_after_ms: int = DEFAULT_IDLE_AFTER_MS
    max_interval_ms: int = DEFAULT_MAX_INTERVAL_MS
    min_interval_ms: int = DEFAULT_MIN_INTERVAL_MS
    motion_share: float = DEFAULT_MOTION_SHARE
    confirm_frames: int = DEFAULT_CONFIRM_FRAMES
    _last_hand_ms: int | None = None
    _asleep_since_ms: int | None = None  # while a waking hand is unconfirmed: when the last real one was
    _streak: int = 0
    _last_look_ms: int | None = None
    _last_view: np.ndarray | None = field(default=None, repr=False)
    looked: int = 0
    skipped: int = 0
    flickers: int = 0  # wakes that were not confirmed

    def idle(self, t_ms: int) -> bool:
        """Whether no hand has been seen for ``idle_after_ms`` at ``t_ms``."""
        return self._last_hand_ms is not None and t_ms - self._last_hand_ms >= self.idle_after_ms

    def look(self, t_ms: int, image: np.ndarray) -> bool:
        """Whether to run the hands stage on this frame."""
        if self._last_hand_ms is None:
            self._last_hand_ms = t_ms  # the start counts as a hand just seen: full rate at first
        if not self.idle(t_ms):  # awake: every frame, no motion check
            self._last_view = None
            decision = True
        else:
            view = motion_view(image)
            if self._last_look_ms is not None and t_ms - self._last_look_ms < self.min_interval_ms:
                decision = False  # looked a moment ago: the motion is judged at the next allowed frame
            elif self._last_view is None or self._last_look_ms is None \
                    or t_ms - self._last_look_ms >= self.max_interval_ms:
                decision = True
            else:
                moved = np.count_nonzero(cv2.absdiff(view, self._last_view) > MOTION_LEVEL) / view.size
                decision = moved >= self.motion_share
            if decision:
                self._last_view = view
        if decision:
            self._last_look_ms = t_ms
            self.looked += 1
        else:
            self.skipped += 1
        return decision

    def seen(self, t_ms: int, hands: int) -> None:
        """What the hands stage found on a frame it looked at."""
        if hands:
            if self.idle(t_ms):
                self._asleep_since_ms, self._streak = self._last_hand_ms, 0
            self._last_hand_ms = t_ms
            self._streak += 1
            if self._streak >= self.confirm_frames:
                self._asleep_since_ms = None
        elif self._asleep_since_ms is not None:  # a flicker, not a hand: idle again at once
            self._last_hand_ms, self._asleep_since_ms = self._asleep_since_ms, None
            self.flickers += 1
