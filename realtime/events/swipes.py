"""Swipes from the hand's motion: ``swipe_left/right/up/down``, whatever the hand shape. Pure logic.

A swipe is the palm centre moving at least ``min_distance`` hand sizes within ``window_ms``,
mostly along one axis (the other axis at most ``max_cross`` times as far). Fast hands blur, so
MediaPipe often loses them mid-swipe or flips their handedness for a frame: motion tracks here
ignore handedness and survive gaps of up to ``max_gap_ms`` (a hand seen at the top and, 0.3 s
later, at the bottom has swiped down). Directions are the person's own: with a mirror view
(the default for cameras) ``swipe_left`` moves to the left of the screen; without one, to the
right, as the person sees it in front of the camera.
"""

from __future__ import annotations

from collections import Counter, deque
from dataclasses import dataclass, field

import numpy as np

from realtime.core.contract import is_gesture
from realtime.events.gestures import GestureEvent, HandObservation

SWIPES = ("swipe_left", "swipe_right", "swipe_up", "swipe_down")
DEFAULT_MIN_DISTANCE = 1.5
DEFAULT_WINDOW_MS = 800
DEFAULT_MAX_CROSS = 0.5
DEFAULT_MAX_GAP_MS = 500
#: A detection this close to an already matched one (in hand sizes) is the same hand seen twice.
DUPLICATE_SIZES = 0.6
#: A track follows a detection at most this many hand sizes away (a lost hand reappears further on).
MAX_MATCH_SIZES = 4.0
#: The same swipe again on the same track within this time is the same stroke, not a new one.
SAME_STROKE_MS = 600
SIZE_HISTORY = 15


@dataclass
class _Sample:
    t_ms: int
    x: float
    y: float
    hand: str
    label: str | None
    track: int | None
    confidence: float | None


@dataclass
class _Motion:
    id: int  # internal; events carry the classifier's track id
    samples: deque = field(default_factory=deque)
    sizes: deque = field(default_factory=lambda: deque(maxlen=SIZE_HISTORY))
    last_swipe: tuple[str, int] | None = None  # (direction, t_ms)

    @property
    def last(self) -> _Sample:
        return self.samples[-1]

    @property
    def size(self) -> float:
        return float(np.median(self.sizes))


def swipe_direction(dx: float, dy: float, mirrored: bool) -> str:
    """The person's direction of a motion by (dx, dy) screen pixels (y grows downwards)."""
    if abs(dx) >= abs(dy):
        to_screen_left = dx < 0
        return "swipe_left" if to_screen_left == mirrored else "swipe_right"
    return "swipe_up" if dy < 0 else "swipe_down"


@dataclass
class SwipeDetector:
    """Motion tracks over the frames' hands; ``update`` once per frame returns swipe events."""

    min_distance: float = DEFAULT_MIN_DISTANCE
    window_ms: int = DEFAULT_WINDOW_MS
    max_cross: float = DEFAULT_MAX_CROSS
    max_gap_ms: int = DEFAULT_MAX_GAP_MS
    _motions: list[_Motion] = field(default_factory=list)
    _next_id: int = 0

    def reset(self) -> None:
        self._motions.clear()

    def update(self, t_ms: int, hands: list[HandObservation], width: int, height: int, mirrored: bool,
               frame: int | None = None) -> list[GestureEvent]:
        self._motions = [m for m in self._motions if t_ms - m.last.t_ms <= self.max_gap_ms]
        events = []
        for motion, h in self._match(hands):
            motion.samples.append(_Sample(t_ms, h.center[0], h.center[1], h.hand, h.label, h.track, h.confidence))
            motion.sizes.append(h.size)
            while t_ms - motion.samples[0].t_ms > self.window_ms:
                motion.samples.popleft()
            event = self._swipe(motion, width, height, mirrored, frame)
            if event is not None:
                events.append(event)
        return events

    def _match(self, hands: list[HandObservation]) -> list[tuple[_Motion, HandObservation]]:
        """Greedy nearest matching of this frame's hands to the motion tracks; duplicates dropped."""
        pairs = sorted(((np.hypot(h.center[0] - m.last.x, h.center[1] - m.last.y) / max(m.size, h.size, 1.0), i, j)
                        for i, m in enumerate(self._motions) for j, h in enumerate(hands)))
        taken_m, taken_h, matched = set(), set(), []
        for d, i, j in pairs:
            if d <= MAX_MATCH_SIZES and i not in taken_m and j not in taken_h:
                taken_m.add(i)
                taken_h.add(j)
                matched.append((self._motions[i], hands[j]))
        for j, h in enumerate(hands):
            if j in taken_h:
                continue
            if any(np.hypot(h.center[0] - o.center[0], h.center[1] - o.center[1]) < DUPLICATE_SIZES * max(h.size, o.size)
                   for _, o in matched):
                continue  # the same hand found twice in one frame
            motion = _Motion(self._next_id)
            self._next_id += 1
            self._motions.append(motion)
            matched.append((motion, h))
        return matched

    def _swipe(self, m: _Motion, width: int, height: int, mirrored: bool, frame: int | None) -> GestureEvent | None:
        samples, size = list(m.samples), m.size
        now = samples[-1]
        for k, first in enumerate(samples[:-1]):  # oldest first: the longest stroke in the window
            dx, dy = now.x - first.x, now.y - first.y
            major, minor = max(abs(dx), abs(dy)), min(abs(dx), abs(dy))
            if major < self.min_distance * size or minor > self.max_cross * major:
                continue
            direction = swipe_direction(dx, dy, mirrored)
            m.samples = deque([now])  # the next swipe starts from here
            if m.last_swipe and m.last_swipe[0] == direction and now.t_ms - m.last_swipe[1] < SAME_STROKE_MS:
                m.last_swipe = (direction, now.t_ms)
                return None  # a long stroke crossing the threshold twice
            m.last_swipe = (direction, now.t_ms)
            stroke = samples[k:]
            hand = Counter(s.hand for s in stroke).most_common(1)[0][0]
            shape = Counter(s.label for s in stroke).most_common(1)[0][0]  # blurred frames rarely agree
            return GestureEvent("swipe", direction, hand, now.track, major / max(float(np.hypot(dx, dy)), 1e-6),
                                now.x / width, now.y / height, int(now.t_ms), int(now.t_ms - first.t_ms), frame,
                                shape=shape if is_gesture(shape) else None, distance=major / size)
        return None
