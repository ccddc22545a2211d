"""Gesture events: when a gesture starts, is held and ends, per tracked hand. Pure logic, no I/O.

Each frame's hands (their smoothed labels) go into :class:`GestureDetector`; out come events a
program can act on:

- ``start``: the hand's label has been the same gesture for ``min_hold_ms`` (a shape the hand
  only passes through fires nothing), counting only the frames that show it: an ``unsure`` flicker
  shorter than ``release_ms`` does not break the run, but does not count towards the hold either.
  ``unsure`` and ``no_gesture`` never start a gesture. On most of the hold's frames the label must be
  sure (``min_confidence``) and clear of its look-alike (``lookalike_margin``; no ``mute`` on an "L"),
  and at the start the hand must be still (``max_speed`` over ``calm_ms``) with no other hand within
  ``apart_sizes``: hands that wash, dance, grip or talk rarely are.
- ``hold``: every ``hold_every_ms`` while it stays (0: none).
- ``end``: the label has been something else (``changed``, ``unsure``) or the hand has been
  missing (``lost``) for ``release_ms``; a shorter flicker does not end a gesture.

Every threshold is a field of :class:`realtime.events.options.GestureOptions`. Times are the frames'
timestamps (video position for files, time since start for cameras), so a
clip gives the same events on any machine. Swipes come from :mod:`realtime.events.swipes`.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from realtime.core.contract import LOOK_ALIKES, UNSURE, is_gesture
from realtime.core.hand_shape import HandPose
from realtime.events.options import GestureOptions

#: Landmarks of the wrist and the four finger bases: their mean is the palm's centre, which a
#: change of hand shape (fist, palm) hardly moves.
PALM_POINTS = (0, 5, 9, 13, 17)


@dataclass(frozen=True)
class HandObservation:
    """What the event logic needs of one hand in one frame."""

    track: int | None
    hand: str  # the person's hand: "Left" / "Right"
    label: str | None  # smoothed label; "unsure" below the threshold; None without a model
    confidence: float | None
    center: tuple[float, float]  # palm centre, pixels of the shown frame
    size: float  # the landmark box's longer side, pixels
    fingers: int | None = None  # extended fingers (not the thumb), from the landmarks
    tip: tuple[float, float] | None = None  # the index fingertip, pixels
    pinch: float | None = None  # thumb tip to index tip, in palm lengths (realtime.core.hand_shape)
    pinched: bool = False  # thumb and index tips together, the index reaching out (not a fist)
    pose: HandPose | None = None  # the hand's shape from its landmarks (realtime.core.hand_shape.hand_pose)
    top3: tuple[tuple[str, float], ...] = ()  # the smoothed best three labels and their probabilities


@dataclass(frozen=True)
class GestureEvent:
    """One event; ``to_json`` is the documented wire form (docs/bindings.md)."""

    type: str  # start | hold | end | swipe
    gesture: str
    hand: str
    track: int | None
    confidence: float | None
    x: float  # hand centre, 0..1 of the frame width
    y: float  # 0..1 of the frame height
    t_ms: int
    held_ms: int  # start/hold/end: how long the gesture has been shown; swipe: the motion's duration
    frame: int | None = None
    reason: str | None = None  # end: changed | unsure | lost | stopped
    shape: str | None = None  # swipe: the hand's gesture during the swipe, if one was named
    distance: float | None = None  # swipe: how far, in hand sizes

    def to_json(self) -> dict:
        """The event's documented wire form (docs/bindings.md)."""
        out = {"type": self.type, "gesture": self.gesture, "hand": self.hand, "track": self.track,
               "confidence": None if self.confidence is None else round(self.confidence, 4),
               "x": round(self.x, 4), "y": round(self.y, 4), "t_ms": self.t_ms, "held_ms": self.held_ms,
               "frame": self.frame}
        for name in ("reason", "shape", "distance"):
            value = getattr(self, name)
            if value is not None:
                out[name] = round(value, 3) if isinstance(value, float) else value
        return out


@dataclass
class ActiveGesture:
    """A gesture that has started on a track and not ended: what hold bindings look at."""

    track: int
    gesture: str
    hand: str
    since_ms: int  # its first frame (held time counts from here)
    seen_ms: int  # the last frame that showed it
    confidence: float | None
    x: float
    y: float

    def held_ms(self, now_ms: int) -> int:
        """How long the gesture has been held at ``t_ms``."""
        return int(now_ms - self.since_ms)


@dataclass
class _TrackState:
    label: str | None  # the stable label: a different one must last release_ms to replace it
    label_since: int  # when the stable label's run began
    seen_ms: int = 0
    shown_ms: int = 0  # of the stable label's run, the time its frames showed it
    other_since: int | None = None  # since when the frames have shown something else
    active: ActiveGesture | None = None
    last_hold_ms: int = 0
    sizes: deque = field(default_factory=deque)  # the hand's recent box sides
    clear: int = 0  # of the stable label's frames, those sure and clear of a look-alike (see _clear)
    unclear: int = 0
    recent: deque = field(default_factory=deque)  # (t_ms, centre, size) over the last calm_ms


@dataclass
class GestureDetector:
    """start / hold / end per track from the smoothed labels; ``update`` once per frame.

    Example::

        events = GestureDetector.create_from_options(GestureOptions(min_hold_ms=600))
        for t in range(0, 1000, 33):
            fired = events.update(t, [HandObservation(0, "Right", "palm", 0.9, (320, 240), 120)], 640, 480)
        # fired once: [GestureEvent(type="start", gesture="palm", ...)] at about 600 ms
    """

    options: GestureOptions = field(default_factory=GestureOptions)
    _tracks: dict[int, _TrackState] = field(default_factory=dict)

    @classmethod
    def create_from_options(cls, options: GestureOptions) -> GestureDetector:
        """A detector with these thresholds."""
        return cls(options)

    def reset(self) -> None:
        """Forget every track (a paused or new source)."""
        self._tracks.clear()

    @property
    def active(self) -> list[ActiveGesture]:
        """The gestures held now, one per track."""
        return [s.active for s in self._tracks.values() if s.active is not None]

    def update(self, t_ms: int, hands: list[HandObservation], width: int, height: int,
               frame: int | None = None) -> list[GestureEvent]:
        """This frame's start, hold and end events of the hands (``width`` x ``height``: the frame).

        >>> d = GestureDetector.create_from_options(GestureOptions(min_hold_ms=300, hold_every_ms=0))
        >>> palm = HandObservation(0, "Right", "palm", 0.95, (320.0, 240.0), 120.0)
        >>> fired = [e for t in range(0, 600, 33) for e in d.update(t, [palm], 640, 480)]
        >>> [(e.type, e.gesture, e.t_ms) for e in fired]
        [('start', 'palm', 330)]
        """
        events: list[GestureEvent] = []
        seen = set()
        o = self.options
        for h in hands:
            if h.track is None or h.label is None:
                continue  # no gesture model: no gesture events (swipes still come)
            seen.add(h.track)
            s = self._tracks.get(h.track)
            if s is None:
                s = self._tracks[h.track] = _TrackState(h.label, t_ms, t_ms, sizes=deque(maxlen=o.size_frames))
            step, s.seen_ms = t_ms - s.seen_ms, t_ms
            s.sizes.append(h.size)
            before = s.label
            self._settle(s, h.label, t_ms)
            if s.label != before:
                s.clear = s.unclear = 0
            s.recent.append((t_ms, h.center, h.size))
            while t_ms - s.recent[0][0] > o.calm_ms:
                s.recent.popleft()
            if h.label == s.label == before:  # a label that just took over counts its run in _settle
                s.shown_ms += step
                if self._clear(h):
                    s.clear += 1
                else:
                    s.unclear += 1
            a, x, y = s.active, h.center[0] / width, h.center[1] / height
            if a is not None and s.label != a.gesture:
                events.append(self._event("end", a, t_ms, frame, "unsure" if s.label == UNSURE else "changed"))
                s.active = a = None
            if a is not None and h.label == a.gesture:
                a.seen_ms, a.confidence, a.x, a.y = t_ms, h.confidence, x, y
                if o.hold_every_ms and t_ms - s.last_hold_ms >= o.hold_every_ms:
                    s.last_hold_ms = t_ms
                    events.append(self._event("hold", a, t_ms, frame))
            elif (a is None and h.label == s.label and is_gesture(s.label)
                  and s.shown_ms >= o.min_hold_ms and np.median(s.sizes) >= o.min_size * height
                  and s.clear > s.unclear and self._calm(s, t_ms) and self._apart(h, hands)):
                s.active = ActiveGesture(h.track, s.label, h.hand, s.label_since, t_ms, h.confidence, x, y)
                s.last_hold_ms = t_ms
                events.append(self._event("start", s.active, t_ms, frame))
        for track, s in list(self._tracks.items()):
            if track not in seen and t_ms - s.seen_ms >= o.release_ms:
                if s.active is not None:
                    events.append(self._event("end", s.active, t_ms, frame, "lost"))
                del self._tracks[track]
        return events

    def _settle(self, s: _TrackState, label: str, t_ms: int) -> None:
        """Hysteresis: the stable label changes once other labels have lasted ``release_ms``."""
        if label == s.label:
            s.other_since = None
            return
        if s.other_since is None:
            s.other_since = t_ms
        if t_ms - s.other_since >= self.options.release_ms:
            # the new label's run so far (its first frame's own step is not known here: not counted)
            s.label, s.label_since, s.shown_ms, s.other_since = label, s.other_since, t_ms - s.other_since, None

    def _clear(self, h: HandObservation) -> bool:
        """This frame's label is sure enough (``min_confidence``), stands clear of its look-alike (by
        ``lookalike_margin``), and is not ``mute`` on a hand making an "L" of thumb and index."""
        o = self.options
        if h.confidence is not None and h.confidence < o.min_confidence:
            return False
        if o.l_blocks_mute and h.label == "mute" and h.pose is not None and h.pose.l_shape:
            return False
        other = LOOK_ALIKES.get(h.label or "")
        if other is None or not h.top3:
            return True
        probs = dict(h.top3)
        mine = probs.get(h.label, 0.0)
        theirs = probs.get(other, min(probs.values()))  # not in the top three: at most the third
        return mine - theirs >= o.lookalike_margin

    def _calm(self, s: _TrackState, t_ms: int) -> bool:
        """The palm moved under ``max_speed`` hand sizes a second over the last ``calm_ms``."""
        r = list(s.recent)
        path = sum(np.hypot(b[1][0] - a[1][0], b[1][1] - a[1][1]) / max(b[2], 1.0) for a, b in zip(r, r[1:]))
        seconds = max((r[-1][0] - r[0][0]) / 1000, self.options.calm_ms / 2000, 1e-3)
        return path / seconds <= self.options.max_speed

    def _apart(self, h: HandObservation, hands: list[HandObservation]) -> bool:
        return apart(h, hands, self.options.apart_sizes, self.options.duplicate_sizes)

    def flush(self, t_ms: int, frame: int | None = None) -> list[GestureEvent]:
        """End every active gesture (the source ended); returns their ``end`` events."""
        events = [self._event("end", a, t_ms, frame, "stopped") for a in self.active]
        self._tracks.clear()
        return events

    @staticmethod
    def _event(kind: str, a: ActiveGesture, t_ms: int, frame: int | None, reason: str | None = None) -> GestureEvent:
        """``held_ms``: from the gesture's first frame to now (start, hold) or to its last frame (end)."""
        held = a.held_ms(a.seen_ms if kind == "end" else t_ms)
        return GestureEvent(kind, a.gesture, a.hand, a.track, a.confidence, a.x, a.y, int(t_ms), held, frame, reason)


def apart(h: HandObservation, hands: Sequence[HandObservation], apart_sizes: float, duplicate_sizes: float) -> bool:
    """No other hand within ``apart_sizes`` hand sizes of ``h`` (palm to palm; one closer than
    ``duplicate_sizes`` is ``h`` found twice, not another hand)."""
    for other in hands:
        if other is not h:
            d = np.hypot(h.center[0] - other.center[0], h.center[1] - other.center[1]) / max(h.size, other.size, 1.0)
            if duplicate_sizes <= d < apart_sizes:
                return False
    return True


def palm_center_and_size(landmarks: np.ndarray) -> tuple[tuple[float, float], float]:
    """The palm's centre (mean of wrist and finger bases) and the landmark box's longer side."""
    cx, cy = landmarks[list(PALM_POINTS)].mean(axis=0)
    size = float(max(np.ptp(landmarks[:, 0]), np.ptp(landmarks[:, 1]), 1.0))
    return (float(cx), float(cy)), size
