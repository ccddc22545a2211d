"""Pointer-style dynamic gestures from the hands' landmarks: click, double click, drag and zoom. Pure logic.

Per hand (its track), from its pose (:func:`realtime.core.hand_shape.hand_pose`: the thumb-index
*spread* in palm lengths, the stretched fingers, pinch, "ok" circle, "L", fist). Every threshold is a
field of :class:`realtime.events.options.PointerEventOptions`:

- ``click``: a pinch that closes (spread below ``closed``) and opens again (above ``open``) within
  ``click_ms``; or a tap: a closed hand that raises its index finger and closes again within
  ``tap_ms`` (a tap from a fist is slower than a pinch). Either window is at least ``click_frames``
  of the source's frames (a GIF's or a slow camera's frames are long). ``double_click``: a second
  click of the same hand within ``double_ms`` of the first (both clicks are reported too, as a
  browser reports click, click, dblclick). ``right_click``: the middle finger comes down from out
  onto the thumb's tip and goes out again within ``click_ms``, while the index stays out and apart
  from the thumb (a pose no other pointer event uses), the hand still.
- ``drag_start``: a pinch held closed (with the other fingers curled) for ``click_ms``, or a hand
  that closes from open to a fist and stays closed as long, or an "ok" circle (the other three fingers
  up) that moves ``ok_drag_move`` hand sizes while closed (held still it is the static ``ok``);
  ``drag_end`` when it opens again. Between them, ``dragging`` tells where the hand is.
- ``zoom_in`` / ``zoom_out``: two hands showing the same shape (both pinched, both an "L" of thumb
  and index, or the same named gesture) moving apart / together by ``zoom_ratio`` within ``zoom_ms``;
  or one hand's thumb-index "L" opening from a pinch or a fist (``zoom_in``) or closing to one
  (``zoom_out``) within ``zoom_ms``.

Only hands at least ``min_size`` of the frame height count, and a hand must be still (its palm
moving less than ``still_sizes`` hand sizes) for a click. The events are :class:`GestureEvent`
with ``type`` ``"pointer"`` and ``gesture`` one of :data:`POINTER_EVENTS`; clicks and drag starts
say how in ``shape`` (``pinch``, ``tap``, ``ok`` or ``fist``).
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field

import numpy as np

from realtime.core.contract import is_gesture
from realtime.core.hand_shape import HandPose
from realtime.events.gestures import GestureEvent, HandObservation, apart
from realtime.events.options import PointerEventOptions

POINTER_EVENTS = ("click", "double_click", "right_click", "drag_start", "drag_end", "zoom_in", "zoom_out")


@dataclass
class _Hand:
    state: str  # "open" | "closed" | "between"
    since: int
    start_xy: tuple[float, float]
    fist: bool = False  # closed as a fist (not a pinch)
    dragging: bool = False
    last_click: int | None = None
    quiet_until: int = 0
    taps: deque = field(default_factory=lambda: deque(maxlen=30))  # (t, "fist" | "index" | "other")
    spreads: deque = field(default_factory=deque)  # (t, pose, palm centre, hand size)
    seen: int = 0
    side: str = ""  # the person's hand
    was_open: bool = False  # this closure came from an open hand (a fist: from an open palm)
    last_open: int | None = None  # when the hand was last open (spread or fingers)
    last_palm: int | None = None  # when it last showed three or more fingers
    closed_frames: int = 0  # frames seen closed since it closed
    pinch_frames: int = 0  # ... of them a pinch
    open_frames: int = 0  # frames seen open since it opened
    between_frames: int = 0  # frames in a row neither open nor closed
    closed_at_frame: int = 0  # the detector's frame count when it closed
    ok: bool = False  # closed as an "ok" circle (the other fingers up)
    right_since: int | None = None  # when the thumb-middle pinch began (the right click)
    right_xy: tuple[float, float] = (0.0, 0.0)  # where the hand was then
    right_frames: int = 0  # frames of it so far
    middle_out_at: int | None = None  # when the middle finger was last stretched out


@dataclass
class PointerDetector:
    """Click, double click, drag and zoom per hand; ``update`` once per frame.

    Example::

        pointer = PointerDetector.create_from_options(PointerEventOptions(click_ms=400))
        fired = pointer.update(t_ms, hands, 640, 480)  # e.g. [GestureEvent("pointer", "click", ...)]
    """

    options: PointerEventOptions = field(default_factory=PointerEventOptions)
    _hands: dict = field(default_factory=dict)
    _pair: deque = field(default_factory=deque)  # (t, distance in hand sizes) of two hands in the same shape
    _pair_quiet_until: int = 0
    _frames: int = 0  # frames seen so far (a hand's grip must show on most of them)
    _busy: deque = field(default_factory=deque)  # (t_ms, x, y) 0..1 where an action fired or a drag is on

    @classmethod
    def create_from_options(cls, options: PointerEventOptions) -> PointerDetector:
        """A detector with these thresholds."""
        return cls(options)

    def reset(self) -> None:
        """Forget every hand (a paused or new source)."""
        self._hands.clear()
        self._pair.clear()
        self._busy.clear()

    def busy_near(self, x: float, y: float, t_ms: int, within_ms: int = 800, radius: float = 0.15) -> bool:
        """Whether an action fired or a drag went on near (x, y) (0..1) lately: a swipe there is part of it."""
        return any(t_ms - t <= within_ms and np.hypot(x - bx, y - by) <= radius for t, bx, by in self._busy)

    @property
    def dragging(self) -> list[tuple[object, str]]:
        """(track key, hand) of the hands now dragging."""
        return [k for k, h in self._hands.items() if h.dragging]

    def update(self, t_ms: int, hands: list[HandObservation], width: int, height: int,
               frame: int | None = None, frame_ms: float = 33.0) -> list[GestureEvent]:
        """This frame's clicks, drags and zooms; ``frame_ms``: the source's frame time (a tap's window
        grows with it).

        Example::

            clicks = PointerDetector.create_from_options(PointerEventOptions(click_ms=500))
            for t, hands in frames:  # HandObservations with their pinch and pose (events.detector.observations)
                for event in clicks.update(t, hands, 640, 480):
                    print(event.gesture, event.x, event.y)  # click, double_click, drag_start, ...
        """
        self._frames += 1
        o = self.options
        near = [h for h in hands if h.size >= o.min_size * height and h.pinch is not None]
        events: list[GestureEvent] = []
        seen = set()
        click_ms = max(o.click_ms, o.click_frames * frame_ms)
        tap_ms = max(o.tap_ms, o.click_frames * frame_ms)
        for h in near:
            key = h.track if h.track is not None else h.hand
            seen.add(key)
            mine = self._one_hand(key, h, t_ms, width, height, frame, click_ms, tap_ms)
            events += [e for e in mine if e.gesture == "drag_end" or apart(h, hands, o.apart_sizes, o.duplicate_sizes)]
        for key in [k for k, s in self._hands.items() if k not in seen and t_ms - s.seen > o.lost_ms]:
            s = self._hands.pop(key)
            if s.dragging:  # a hand lost while dragging drops what it held
                events.append(GestureEvent("pointer", "drag_end", s.side, None, None, s.start_xy[0] / width,
                                           s.start_xy[1] / height, t_ms, 0, frame, reason="lost"))
        events += self._two_hands(near, t_ms, width, height, frame)
        for e in events:
            self._busy.append((t_ms, e.x, e.y))
        for h in near:
            s = self._hands.get(h.track if h.track is not None else h.hand)
            if s is not None and s.dragging:
                self._busy.append((t_ms, h.center[0] / width, h.center[1] / height))
        while self._busy and t_ms - self._busy[0][0] > 2000:
            self._busy.popleft()
        return events

    # ------------------------------------------------------------------------------------------ one hand
    def _one_hand(self, key, h: HandObservation, t_ms: int, width: int, height: int, frame, click_ms: float,
                  tap_ms: float) -> list[GestureEvent]:
        o = self.options
        pose = h.pose or HandPose(h.fingers if h.fingers is not None else 5, h.pinch, h.pinched, False, False,
                                  (h.fingers == 0) and h.pinch < o.fist_spread and not h.pinched)
        spread, fingers = pose.spread, pose.fingers
        pinched, fist = pose.pinched or pose.ok, pose.fist
        opened = (fingers >= 3 and not pose.ok) or (fingers >= 1 and spread >= o.open)
        state = "closed" if (pinched or fist) else "open" if opened else "between"
        s = self._hands.get(key)
        if s is None:
            s = self._hands[key] = _Hand(state, t_ms, h.center, fist=fist, closed_at_frame=self._frames)
        s.seen = t_ms
        s.side = h.hand
        if state == "between":
            s.between_frames += 1
            if s.between_frames >= o.between_frames:  # neither open nor closed for a while: forget the state
                s.state, s.since, s.start_xy = "between", t_ms, h.center
        else:
            s.between_frames = 0
        opened_for, pinched_for = s.open_frames, s.pinch_frames  # as they were up to this frame
        again = state == "closed" == s.state
        s.closed_frames = s.closed_frames + 1 if again else int(state == "closed")
        s.pinch_frames = s.pinch_frames + pinched if again else int(pinched)
        s.open_frames = s.open_frames + 1 if state == "open" == s.state else int(state == "open")
        s.spreads.append((t_ms, pose, h.center, h.size))
        while t_ms - s.spreads[0][0] > o.history_ms:
            s.spreads.popleft()
        index_up = fingers == 1 and h.tip is not None and h.tip[1] < h.center[1] - 0.4 * h.size
        s.taps.append((t_ms, "fist" if fist else "index" if index_up else "other"))
        if state == "open":
            s.last_open = t_ms
        if fingers >= 3 and not pose.ok:
            s.last_palm = t_ms

        def event(name: str, held: int = 0, shape: str | None = None) -> GestureEvent:
            return GestureEvent("pointer", name, h.hand, h.track, h.confidence, h.center[0] / width,
                                h.center[1] / height, t_ms, held, frame, shape=shape)

        out = []
        zoom = self._one_hand_zoom(s, t_ms)
        if zoom and not s.dragging:
            s.quiet_until = t_ms + o.settle_ms
            out.append(event(zoom))
        moved = np.hypot(h.center[0] - s.start_xy[0], h.center[1] - s.start_xy[1]) / max(h.size, 1.0)
        if state != s.state and state != "between":
            held = t_ms - s.since
            if state == "open" and s.state == "closed":
                if s.dragging:
                    s.dragging = False
                    s.quiet_until = t_ms + o.settle_ms
                    out.append(event("drag_end", held))
                elif (not s.fist and not s.ok and s.was_open and held <= click_ms and moved <= o.still_sizes
                      and pinched_for >= 2 and t_ms >= s.quiet_until and not out):
                    out += self._click(s, t_ms, event, "pinch", held)
            if state == "closed":
                s.fist, s.ok = fist, pose.ok and not pose.pinched
                # a fist grabs only when it closes from an open hand; a pinch also from an opening pinch
                recent = s.last_palm if fist else s.last_open
                s.was_open = recent is not None and t_ms - recent <= 1000 and opened_for >= 2
                s.closed_at_frame = self._frames
            s.state, s.since, s.start_xy = state, t_ms, h.center
        elif state == s.state == "closed" and not s.dragging and t_ms >= s.quiet_until:
            held = t_ms - s.since
            # a pinch may start a drag from the first frame it is seen; a fist only after an open hand;
            # an "ok" circle only once it moves while closed (held still, it is the static ok)
            grip = (s.was_open if s.fist else
                    s.pinch_frames >= o.drag_frames and s.pinch_frames >= o.pinch_share * s.closed_frames)
            steady = (s.closed_frames >= o.drag_frames
                      and s.closed_frames >= 0.6 * (self._frames - s.closed_at_frame + 1))
            ready = moved > o.ok_drag_move if s.ok else (held >= o.click_ms or moved > o.still_sizes)
            if ready and steady and grip:
                s.dragging = True
                out.append(event("drag_start", held, "fist" if s.fist else "ok" if s.ok else "pinch"))
        if o.right_click:
            out += self._right_click(s, h, pose, t_ms, event, click_ms, out)
        tapped = self._tap(s, t_ms, tap_ms) if not out else None
        if tapped is not None and t_ms >= s.quiet_until:
            out += self._click(s, t_ms, event, "tap", tapped)
        return out

    def _right_click(self, s: _Hand, h: HandObservation, pose: HandPose, t_ms: int, event, click_ms: float,
                     fired: list[GestureEvent]) -> list[GestureEvent]:
        """A thumb-middle pinch that parts again soon enough, the hand still: the right click."""
        o = self.options
        if pose.middle_pinch:
            if s.right_since is None:
                # the middle finger must come down onto the thumb from out: in a fist or a pointing
                # "one" it lies curled under the thumb, and the two can read as touching
                came_down = s.middle_out_at is not None and t_ms - s.middle_out_at <= o.click_ms
                s.right_since, s.right_xy, s.right_frames = (t_ms if came_down else -1), h.center, 0
            s.right_frames += 1
            return []
        if pose.middle_out:
            s.middle_out_at = t_ms
        if s.right_since is None:
            return []
        held, since = t_ms - s.right_since, s.right_since
        moved = np.hypot(h.center[0] - s.right_xy[0], h.center[1] - s.right_xy[1]) / max(h.size, 1.0)
        frames, s.right_since = s.right_frames, None
        if (since >= 0 and pose.middle_out and frames >= 2 and held <= click_ms and moved <= o.still_sizes
                and t_ms >= s.quiet_until and since >= s.quiet_until and not fired and not s.dragging):
            return [event("right_click", held, shape="middle_pinch")]
        return []

    def _click(self, s: _Hand, t_ms: int, event, how: str, held: int) -> list[GestureEvent]:
        """A click (and a double click after another one soon enough); ``held``: how long the gesture
        took, from the hand beginning to close (a pinch) or the index rising (a tap)."""
        out = [event("click", held, shape=how)]
        if s.last_click is not None and t_ms - s.last_click <= self.options.double_ms:
            out.append(event("double_click", held, shape=how))
            s.last_click = None
        else:
            s.last_click = t_ms
        return out

    def _tap(self, s: _Hand, t_ms: int, tap_ms: float) -> int | None:
        """A fist (at least ``tap_fist_ms``), the index raised for at most ``tap_ms``, and the fist
        again: this frame is the closing fist. The ms since the index rose, or None (no tap)."""
        taps = list(s.taps)
        if len(taps) < 3 or taps[-1][1] != "fist" or taps[-2][1] != "index":
            return None
        k = len(taps) - 2
        while k > 0 and taps[k - 1][1] == "index":
            k -= 1
        if k == 0 or taps[k - 1][1] != "fist" or t_ms - taps[k][0] > tap_ms:
            return None
        j = k - 1
        while j > 0 and taps[j - 1][1] == "fist":
            j -= 1
        return t_ms - taps[k][0] if taps[k][0] - taps[j][0] >= self.options.tap_fist_ms else None

    def _one_hand_zoom(self, s: _Hand, t_ms: int) -> str | None:
        """The thumb-index "L" (the index alone out, spread at least ``wide``) opening from a pinch or a
        fist (zoom_in) or closing to one (zoom_out) within ``zoom_ms``, each end held ``zoom_frames`` frames."""
        o = self.options
        recent = [x for x in s.spreads if t_ms - x[0] <= o.zoom_ms]
        if len(recent) < 2 * o.zoom_frames:
            return None
        xs, ys = [x[2][0] for x in recent], [x[2][1] for x in recent]
        if max(np.ptp(xs), np.ptp(ys)) > o.zoom_still_sizes * float(np.median([x[3] for x in recent])):
            return None  # the whole hand moved: a grip or a gesture of the arm, not the fingers' spread

        spread_family = o.spread_zoom and recent[-1][1].fingers >= 2  # the other fingers up: a volume spread
        if spread_family:
            if any(x[1].fingers != recent[-1][1].fingers for x in recent):
                return None  # the hand changed shape (a fist opening): not a spread

            def wide(x) -> bool:
                return x[1].spread >= o.wide

            def narrow(x) -> bool:
                return x[1].spread <= o.spread_narrow
        else:
            def wide(x) -> bool:
                return x[1].spread >= o.wide and x[1].fingers == 1

            def narrow(x) -> bool:
                return x[1].pinched or (o.fist_zoom and x[1].fist)

        last = recent[-o.zoom_frames:]
        for name, before, after in (("zoom_in", narrow, wide), ("zoom_out", wide, narrow)):
            if all(after(x) for x in last) and sum(before(x) for x in recent[:-o.zoom_frames]) >= o.zoom_frames:
                s.spreads.clear()
                return name
        return None

    # ----------------------------------------------------------------------------------------- two hands
    def _two_hands(self, near: list[HandObservation], t_ms: int, width: int, height: int, frame
                   ) -> list[GestureEvent]:
        o = self.options
        pair = None
        if len(near) == 2:
            a, b = near
            both_pinched = a.pinched and b.pinched
            both_l = a.pose is not None and b.pose is not None and a.pose.l_shape and b.pose.l_shape
            same_gesture = is_gesture(a.label) and a.label == b.label
            if both_pinched or both_l or same_gesture:
                size = (a.size + b.size) / 2
                pair = float(np.hypot(a.center[0] - b.center[0], a.center[1] - b.center[1]) / max(size, 1.0))
        while self._pair and t_ms - self._pair[0][0] > o.zoom_ms:
            self._pair.popleft()
        if pair is None:  # a frame without the pair (one hand missed) leaves the others in the window
            return []
        self._pair.append((t_ms, pair))
        if t_ms < self._pair_quiet_until or len(self._pair) < 3:
            return []
        lo, hi = min(d for _, d in self._pair), max(d for _, d in self._pair)
        first = self._pair[0][1]
        name = None
        if pair >= o.zoom_ratio * lo and pair - lo >= 1.0 and first <= lo * 1.1:
            name = "zoom_in"
        elif pair * o.zoom_ratio <= hi and hi - pair >= 1.0 and first >= hi / 1.1:
            name = "zoom_out"
        if name is None:
            return []
        self._pair.clear()
        self._pair_quiet_until = t_ms + o.settle_ms
        for h in near:
            s = self._hands.get(h.track if h.track is not None else h.hand)
            if s is not None:
                s.quiet_until = t_ms + o.settle_ms
        a, b = near
        x, y = (a.center[0] + b.center[0]) / 2 / width, (a.center[1] + b.center[1]) / 2 / height
        return [GestureEvent("pointer", name, "both", None, None, x, y, t_ms, 0, frame)]
