"""Swipes from the hand's motion: ``swipe_left/right/up/down``. Pure logic.

A swipe is the palm centre moving at least ``min_distance`` hand sizes within ``window_ms`` (or, for
a flick of a pointing hand, the index fingertip moving ``flick_distance`` while the palm hardly moves),
mostly along one axis (the other axis at most ``max_cross`` times as far). A hand close to the camera
cannot travel 1.5 of its own sizes inside the frame: ``min_frame_distance`` of the frame's width (or
height) is enough too. Every threshold is a field of :class:`realtime.events.options.SwipeOptions`.
Directions are the person's own: with a mirror view (the default for cameras)
``swipe_left`` moves to the left of the screen; without one, to the right, as the person sees it.

Arms move all the time without meaning anything, so a stroke must also look deliberate
(``intent``, on by default; docs/false-triggers.md has the measurements behind each rule):

- **a hand near enough**: its box at least ``min_size`` of the frame height (people walking,
  dancing or working in the background are smaller);
- **from rest**: before the stroke the palm was seen and still (it moved under ``rest_speed`` hand
  sizes a second over ``rest_ms``), or the stroke is a fast, long sweep (``fast_speed``,
  ``fast_distance``). Hands shuffling cups, stirring or gesticulating go back and
  forth without a pause, and a hand that comes into view already moving is not a stroke;
- **a shape held open**: at least one finger stretched out on most of the stroke's frames, and the
  same number of them on most (a hand holding something, or a fist, curls its fingers).

Fast hands blur, so MediaPipe often loses them mid-swipe or flips their handedness for a frame:
motion tracks ignore handedness and survive gaps. The gap is bridged by a motion model: a hand lost
while moving is looked for where its velocity carries it, for up to ``max_gap_ms`` (longer than a
resting hand's ``rest_gap_ms``); a hand that reappears far away from where a *resting* hand was lost
is another hand, not a swipe, unless it is the same hand (handedness, size, fingers out) again:
a stroke so fast that no frame of it was sharp.
"""

from __future__ import annotations

from collections import Counter, deque
from dataclasses import dataclass, field

import numpy as np

from realtime.core.contract import is_gesture
from realtime.events.gestures import GestureEvent, HandObservation
from realtime.events.options import SwipeOptions

SWIPES = ("swipe_left", "swipe_right", "swipe_up", "swipe_down")


@dataclass
class _Sample:
    t_ms: int
    x: float
    y: float
    hand: str
    label: str | None
    track: int | None
    confidence: float | None
    size: float = 0.0
    fingers: int | None = None
    tip: tuple[float, float] | None = None


@dataclass
class _Motion:
    id: int  # internal; events carry the classifier's track id
    size_history: int = 15
    samples: deque = field(default_factory=deque)
    sizes: deque = field(default_factory=deque)
    last_swipe: tuple[str, int] | None = None  # (direction, t_ms)

    history: deque = field(default_factory=deque)  # the samples of the last rest_ms before ``samples``

    @property
    def last(self) -> _Sample:
        return self.samples[-1]

    @property
    def size(self) -> float:
        return float(np.median(self.sizes))

    def velocity(self) -> tuple[float, float]:
        """Pixels a second over the last ~150 ms seen (0, 0 for a hand seen once)."""
        now = self.last
        older = [s for s in list(self.history) + list(self.samples) if now.t_ms - s.t_ms >= 100]
        if not older:
            return 0.0, 0.0
        ref = older[-1]
        dt = (now.t_ms - ref.t_ms) / 1000
        return (now.x - ref.x) / dt, (now.y - ref.y) / dt


def swipe_direction(dx: float, dy: float, mirrored: bool) -> str:
    """The person's direction of a motion by (dx, dy) screen pixels (y grows downwards)."""
    if abs(dx) >= abs(dy):
        to_screen_left = dx < 0
        return "swipe_left" if to_screen_left == mirrored else "swipe_right"
    return "swipe_up" if dy < 0 else "swipe_down"


@dataclass
class SwipeDetector:
    """Motion tracks over the frames' hands; ``update`` once per frame returns swipe events.

    Example::

        swipes = SwipeDetector.create_from_options(SwipeOptions(min_distance=1.5))
        fired = swipes.update(t_ms, hands, 640, 480, mirrored=True)  # [] or [GestureEvent("swipe", ...)]
    """

    options: SwipeOptions = field(default_factory=SwipeOptions)
    _motions: list[_Motion] = field(default_factory=list)
    _next_id: int = 0

    @classmethod
    def create_from_options(cls, options: SwipeOptions) -> SwipeDetector:
        """A detector with these thresholds."""
        return cls(options)

    def reset(self) -> None:
        """Forget every motion (a paused or new source)."""
        self._motions.clear()

    def update(self, t_ms: int, hands: list[HandObservation], width: int, height: int, mirrored: bool,
               frame: int | None = None) -> list[GestureEvent]:
        """This frame's swipes; ``mirrored``: the frame is shown mirrored (directions are the person's own).

        >>> s = SwipeDetector.create_from_options(SwipeOptions(intent=False))
        >>> def hand(x): return HandObservation(0, "Right", "palm", 0.95, (x, 240.0), 100.0, fingers=4)
        >>> fired = [e for i in range(12) for e in s.update(33 * i, [hand(100.0 + 40 * i)], 640, 480, False)]
        >>> [(e.gesture, e.t_ms) for e in fired]  # moving right in an unmirrored frame: the person's left
        [('swipe_left', 132)]
        """
        self._motions = [m for m in self._motions if t_ms - m.last.t_ms <= self._gap(m)]
        events = []
        for motion, h in self._match(hands, t_ms):
            motion.samples.append(_Sample(t_ms, h.center[0], h.center[1], h.hand, h.label, h.track, h.confidence,
                                          h.size, h.fingers, h.tip))
            motion.sizes.append(h.size)
            while len(motion.sizes) > self.options.size_history:
                motion.sizes.popleft()
            while t_ms - motion.samples[0].t_ms > self.options.window_ms:
                motion.history.append(motion.samples.popleft())
            while motion.history and motion.samples[0].t_ms - motion.history[0].t_ms > self.options.rest_ms:
                motion.history.popleft()
            event = self._swipe(motion, width, height, mirrored, frame)
            if event is not None:
                events.append(event)
        return events

    def _gap(self, m: _Motion) -> int:
        """How long a lost hand is looked for: longer when it was lost in motion."""
        o, (vx, vy) = self.options, m.velocity()
        return o.max_gap_ms if np.hypot(vx, vy) >= o.moving_speed * m.size else min(o.rest_gap_ms, o.max_gap_ms)

    def _reachable(self, m: _Motion, h: HandObservation, t_ms: int) -> bool:
        """Whether ``h`` can be the hand of ``m``: near where it was, or, after a gap, where its motion led."""
        o = self.options
        dx, dy = h.center[0] - m.last.x, h.center[1] - m.last.y
        size = max(m.size, h.size, 1.0)
        if np.hypot(dx, dy) <= o.near_sizes * size or t_ms - m.last.t_ms <= 100:
            return True
        vx, vy = m.velocity()
        if np.hypot(vx, vy) >= o.moving_speed * m.size:  # lost in motion: near where its velocity carried it
            dt = (t_ms - m.last.t_ms) / 1000
            miss = np.hypot(dx - vx * dt, dy - vy * dt)
            return bool(miss <= max(o.near_sizes * size, 0.5 * np.hypot(vx, vy) * dt))
        # lost at rest (a stroke too fast to be seen at all): the same hand, sharp again at both ends
        same_shape = h.fingers is None or m.last.fingers is None or abs(h.fingers - m.last.fingers) <= 1
        return h.hand == m.last.hand and same_shape and 2 / 3 <= h.size / max(m.last.size, 1.0) <= 3 / 2

    def _match(self, hands: list[HandObservation], t_ms: int) -> list[tuple[_Motion, HandObservation]]:
        """Greedy nearest matching of this frame's hands to the motion tracks; duplicates dropped."""
        pairs = sorted(((np.hypot(h.center[0] - m.last.x, h.center[1] - m.last.y) / max(m.size, h.size, 1.0), i, j)
                        for i, m in enumerate(self._motions) for j, h in enumerate(hands)))
        taken_m, taken_h, matched = set(), set(), []

        dup = self.options.duplicate_sizes

        def duplicate(h: HandObservation) -> bool:  # the same hand found twice in one frame
            return any(np.hypot(h.center[0] - o.center[0], h.center[1] - o.center[1]) < dup * max(h.size, o.size)
                       for _, o in matched)

        for d, i, j in pairs:
            if (d <= self.options.max_match_sizes and i not in taken_m and j not in taken_h and not duplicate(hands[j])
                    and (not self.options.intent or self._reachable(self._motions[i], hands[j], t_ms))):
                taken_m.add(i)
                taken_h.add(j)
                matched.append((self._motions[i], hands[j]))
        for j, h in enumerate(hands):
            if j in taken_h or duplicate(h):
                continue
            motion = _Motion(self._next_id, self.options.size_history)
            self._next_id += 1
            self._motions.append(motion)
            matched.append((motion, h))
        return matched

    def _swipe(self, m: _Motion, width: int, height: int, mirrored: bool, frame: int | None) -> GestureEvent | None:
        o = self.options
        samples, size = list(m.samples), m.size
        if size < o.min_size * height:
            return None
        now = samples[-1]
        for k, first in enumerate(samples[:-1]):  # oldest first: the longest stroke in the window
            stroke = samples[k:]
            found = self._stroke(first, now, size, width, height, flick=False)
            if found is None and now.tip is not None and first.tip is not None and self._pointing(stroke):
                found = self._stroke(first, now, size, width, height, flick=True)
            if found is None or (o.intent and not (self._deliberate(m, k, found[1], size, now.t_ms - first.t_ms)
                                                   and self._held_open(stroke))):
                continue
            (dx, dy), major = found
            direction = swipe_direction(dx, dy, mirrored)
            m.history.extend(samples[:-1])  # the next swipe starts from here, after this one's motion
            m.samples = deque([now])
            while m.history and now.t_ms - m.history[0].t_ms > o.rest_ms:
                m.history.popleft()
            if m.last_swipe and m.last_swipe[0] == direction and now.t_ms - m.last_swipe[1] < o.same_stroke_ms:
                m.last_swipe = (direction, now.t_ms)
                return None  # a long stroke crossing the threshold twice
            m.last_swipe = (direction, now.t_ms)
            hand = Counter(s.hand for s in stroke).most_common(1)[0][0]
            shape = Counter(s.label for s in stroke).most_common(1)[0][0]  # blurred frames rarely agree
            return GestureEvent("swipe", direction, hand, now.track, major / max(float(np.hypot(dx, dy)), 1e-6),
                                now.x / width, now.y / height, int(now.t_ms), int(now.t_ms - first.t_ms), frame,
                                shape=shape if is_gesture(shape) else None, distance=major / size)
        return None

    def _stroke(self, first: _Sample, now: _Sample, size: float, width: int, height: int, flick: bool
                ) -> tuple[tuple[float, float], float] | None:
        """((dx, dy), major) when the palm (or, for a flick, the fingertip) went far enough, straight enough:
        ``min_distance`` hand sizes, or ``min_frame_distance`` of the frame along the stroke if that is less."""
        o = self.options
        if flick:
            dx, dy = now.tip[0] - first.tip[0], now.tip[1] - first.tip[1]
            palm = np.hypot(now.x - first.x, now.y - first.y)
            need = o.flick_distance * size
            if palm > 0.5 * max(abs(dx), abs(dy)):
                return None  # the palm moved as much: a plain swipe, judged on the palm
        else:
            dx, dy = now.x - first.x, now.y - first.y
            along = width if abs(dx) >= abs(dy) else height
            need = min(o.min_distance * size, o.min_frame_distance * along) if o.min_frame_distance else \
                o.min_distance * size
        major, minor = max(abs(dx), abs(dy)), min(abs(dx), abs(dy))
        if major < need or minor > o.max_cross * major:
            return None
        return (dx, dy), major

    def _deliberate(self, m: _Motion, k: int, major: float, size: float, duration_ms: int) -> bool:
        """From rest, or a fast, long sweep (``fast_speed``, ``fast_distance`` hand sizes)."""
        o = self.options
        if self._from_rest(m, k):
            return True
        if not o.fast_speed:
            return False
        sizes = major / max(size, 1.0)
        return sizes >= o.fast_distance and sizes / max(duration_ms / 1000, 1e-3) >= o.fast_speed

    def _from_rest(self, m: _Motion, k: int) -> bool:
        """The palm was still for the ``rest_ms`` before sample ``k`` (seen at least twice there)."""
        o = self.options
        samples = list(m.history) + list(m.samples)
        start = len(m.history) + k
        before = [s for s in samples[:start + 1] if samples[start].t_ms - s.t_ms <= o.rest_ms]
        if len(before) < 2:
            return False  # it came into view moving
        path = sum(np.hypot(b.x - a.x, b.y - a.y) for a, b in zip(before, before[1:]))
        seconds = max((before[-1].t_ms - before[0].t_ms) / 1000, o.rest_ms / 2000)
        return path / max(m.size, 1.0) / seconds < o.rest_speed

    def _pointing(self, stroke: list[_Sample]) -> bool:
        """One finger out on most of the stroke's frames: a flick of the index finger."""
        counts = [s.fingers for s in stroke if s.fingers is not None]
        return bool(counts) and sum(c == 1 for c in counts) / len(counts) >= self.options.open_share

    def _held_open(self, stroke: list[_Sample]) -> bool:
        """Most of the stroke's frames show an extended finger, and the same number of them."""
        counts = [s.fingers for s in stroke if s.fingers is not None]
        if not counts:
            return True  # no landmarks to judge by
        open_share = sum(c >= 1 for c in counts) / len(counts)
        same_share = Counter(counts).most_common(1)[0][1] / len(counts)
        return open_share >= self.options.open_share and same_share >= self.options.same_shape_share
