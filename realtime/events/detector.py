"""A frame's hands -> its gesture events (start / hold / end, and swipes), as the live loop sees them.

Pure logic: it reads a frame result's hands, image size and timestamp (see :class:`FrameLike`),
whatever made them.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

import numpy as np

from realtime.core.hand_shape import hand_pose
from realtime.events.clicks import PointerDetector
from realtime.events.gestures import GestureDetector, GestureEvent, HandObservation, palm_center_and_size
from realtime.events.options import EventOptions
from realtime.events.swipes import SwipeDetector


class FrameLike(Protocol):
    """What the event logic reads of a frame's result (``realtime.live.FrameResult`` is one)."""

    hands: Sequence[Any]  # each with track, handedness, label, score, landmarks, top3
    image: np.ndarray
    frame: Any  # with timestamp_ms and index


def observations(result: FrameLike) -> list[HandObservation]:
    """The event logic's view of each hand with landmarks."""
    out = []
    for h in result.hands:
        if h.landmarks is None:
            continue
        center, size = palm_center_and_size(h.landmarks)
        tip = (float(h.landmarks[8][0]), float(h.landmarks[8][1]))
        pose = hand_pose(h.landmarks)
        out.append(HandObservation(h.track, h.handedness, h.label, h.score, center, size, pose.fingers, tip,
                                   pose.spread, pose.pinched, pose, tuple(h.top3)))
    return out


@dataclass
class EventDetector:
    """Gesture events, swipes and pointer events of each frame; ``update`` once per processed frame."""

    gestures: GestureDetector = field(default_factory=GestureDetector)
    swipes: SwipeDetector = field(default_factory=SwipeDetector)
    pointer: PointerDetector = field(default_factory=PointerDetector)
    _last_t: int | None = None
    _steps: deque = field(default_factory=lambda: deque(maxlen=10))  # the last frame times (ms)

    @classmethod
    def create_from_options(cls, options: EventOptions) -> EventDetector:
        """The three detectors, each with its part of ``options``."""
        return cls(GestureDetector.create_from_options(options.gestures),
                   SwipeDetector.create_from_options(options.swipes),
                   PointerDetector.create_from_options(options.pointer))

    def update(self, result: FrameLike, mirrored: bool) -> list[GestureEvent]:
        """The events of one processed frame (a ``realtime.live.FrameResult``, or anything with its
        ``frame``, ``image`` and ``hands``), in the order they fire.

        Example::

            detector = EventDetector.create_from_options(EventOptions())
            for result in results:  # one per frame, from the live pipeline
                for event in detector.update(result, mirrored=True):
                    print(event.to_json())
        """
        hands = observations(result)
        h, w = result.image.shape[:2]
        t, index = result.frame.timestamp_ms, result.frame.index
        pointer = self.pointer.update(t, hands, w, h, index, frame_ms=self._frame_ms(t))
        # a click, drag or zoom moves hands too: that motion is not also a swipe
        swipes = [e for e in self.swipes.update(t, hands, w, h, mirrored, index)
                  if not self.pointer.busy_near(e.x, e.y, t, within_ms=e.held_ms + 400)]
        return self.gestures.update(t, hands, w, h, index) + swipes + pointer

    def _frame_ms(self, t_ms: int) -> float:
        """The source's recent frame time (a GIF's or a slow camera's frames are long)."""
        if self._last_t is not None and t_ms > self._last_t:
            self._steps.append(t_ms - self._last_t)
        self._last_t = t_ms
        return float(np.median(self._steps)) if self._steps else 33.0

    def reset(self) -> None:
        """Forget every track (the view was mirrored, or the model switched)."""
        self.gestures.reset()
        self.swipes.reset()
        self.pointer.reset()
        self._last_t = None
        self._steps.clear()
