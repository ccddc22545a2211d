"""Pointer mode's logic: one hand -> where the mouse pointer goes, its button and the wheel. Pure logic.

Relative motion with a clutch, like a mouse you can lift:

- **moves**: a hand with fingers out (an open hand or a pointing finger) moves the pointer by its
  palm's motion. ``region`` of the frame's width is the screen's width at gain 1; faster motion is
  accelerated (up to ``max_gain``), slow motion slowed (down to ``min_gain``): the precision gear, a
  gain proportional to the palm's speed, 1 at ``UNIT_SPEED``.
- **lifts**: a fist (no finger out) moves nothing, so the hand can go back to the middle.
- **scrolls**: two fingers out (index and middle) scroll by the palm's motion, on the axis it moves
  along most (up and down: vertical; sideways, in the view the user sees: horizontal), in the
  direction of the motion unless ``scroll_x`` / ``scroll_y`` is "inverted" (what touchpads call natural
  scrolling). Motion under ``SCROLL_DEAD_ZONE`` a frame, or along neither axis clearly, scrolls nothing.
- **clicks and drags**: the pointer events of :mod:`realtime.events.clicks` from the same hand: a
  pinch or a tap clicks (two clicks make the desktop's own double click), a pinch held drags (the
  button is held while the pinched hand moves the pointer). A grab with a fist only lifts.
- **clicks stay put**: closing a pinch or raising an index to tap moves the palm, so a click (and a
  drag's press) lands where the pointer was ``click_lookback_ms`` before the hand began the gesture
  (the event's ``held_ms`` says when); after a click the pointer holds still for ``click_settle_ms``
  while the hand opens or closes again (a double click's second click lands where the first did).

The palm's position is smoothed by the One Euro filter (Casiez, Roussel and Vogel, CHI 2012; the
authors' own implementation from PyPI), in screen pixels: at rest its cutoff falls to
``min_cutoff`` (less jitter), moving it rises with the speed (less lag). The pointer hand is the
first hand that moves it; when it is lost for ``LOST_MS`` the button is released and another hand
may take over. Positions are kept within ``screen`` (all monitors: the driver gives the size).
"""

from __future__ import annotations

from collections import Counter, deque
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
from OneEuroFilter import OneEuroFilter

from realtime.events.gestures import GestureEvent, HandObservation

DEFAULT_REGION = 0.5
DEFAULT_MIN_CUTOFF = 1.0  # Hz
DEFAULT_BETA = 0.007  # the paper's value for a pointer in pixels
D_CUTOFF = 1.0
MIN_GAIN, MAX_GAIN = 0.5, 2.5
#: Palm speed (region widths a second) at which the gain is 1.
UNIT_SPEED = 0.5
LOST_MS = 300
#: Pixels of palm motion (on the screen's scale) per wheel notch, at ``scroll_speed`` 1.
SCROLL_PIXELS = 40
#: Palm motion (screen pixels) under this in a frame scrolls nothing: a resting hand's tremor.
SCROLL_DEAD_ZONE = 2.0
#: A frame's motion scrolls along an axis only when it is this many times the motion across it.
SCROLL_AXIS_RATIO = 1.5
SCROLL_DIRECTIONS = ("normal", "inverted")
SHAPE_FRAMES = 5
#: Positions of the pointer kept to land a click where it was before the gesture began.
TRAIL_MS = 1500


@dataclass(frozen=True)
class MouseCommand:
    """What the driver does: ``move`` to (x, y), ``press``/``release``/``click`` the left button,
    ``right_click`` the right one, or
    ``scroll`` by ``amount`` notches (positive: up) and ``horizontal`` notches (positive: right)."""

    kind: str
    x: int = 0
    y: int = 0
    amount: int = 0
    horizontal: int = 0
    why: str = ""  # what made it, where that is not the hand's own event ("dwell")


@dataclass
class CursorMapper:
    """``update`` once per frame with its hands and events; returns the mouse commands."""

    screen: tuple[int, int]
    start: tuple[int, int]  # where the pointer is when pointer mode starts
    region: float = DEFAULT_REGION
    min_cutoff: float = DEFAULT_MIN_CUTOFF
    beta: float = DEFAULT_BETA
    hand: str = "any"  # left | right | any
    min_gain: float = MIN_GAIN  # the precision gear: slow motion moves the pointer this little (1: off)
    max_gain: float = MAX_GAIN  # fast motion moves it up to this much (1: no acceleration)
    scroll_speed: float = 1.0  # wheel notches per SCROLL_PIXELS of palm motion
    scroll_x: str = "normal"  # normal: the hand moving right scrolls right; inverted: left
    scroll_y: str = "normal"  # normal: the hand moving up scrolls up; inverted: down
    click_lookback_ms: int = 100  # a click lands where the pointer was this long before the gesture began
    click_settle_ms: int = 300  # after a click, the pointer holds still this long (0: clicks land in place)
    right_click: bool = False  # the right click (thumb-middle) is on: the detector gives it, this presses it
    dwell_ms: int = 0  # dwell click: the pointer held still this long after moving clicks (0: off)
    dwell_radius: float = 15.0  # ... within this many screen pixels
    x: float = field(init=False)
    y: float = field(init=False)
    _key: object = None  # the pointer hand's track (or side)
    _seen: int = 0
    _last: tuple[float, float, int] | None = None  # filtered palm (screen px) and t_ms, while it moves or scrolls
    _filters: tuple | None = None
    _shapes: deque = field(default_factory=lambda: deque(maxlen=SHAPE_FRAMES))
    _scroll_rest: float = 0.0
    _scroll_rest_x: float = 0.0
    _trail: deque = field(default_factory=deque)  # (t_ms, x, y) of the pointer, the last TRAIL_MS
    _still_until: int = -1  # the pointer holds still until then (after a click)
    _dwell: tuple[float, float, int] | None = None  # where and since when the pointer rests, once it moved
    dwell_left_ms: int | None = None  # a dwell click comes in this many ms (None: none is counting down)
    pressed: bool = False

    def __post_init__(self) -> None:
        self.x, self.y = float(self.start[0]), float(self.start[1])

    def update(self, t_ms: int, hands: Sequence[HandObservation], events: Sequence[GestureEvent],
               width: int, height: int) -> list[MouseCommand]:
        """The mouse commands for one frame: move, press, release or scroll."""
        out = self._update(t_ms, hands, events, width, height)
        if self.dwell_ms:
            out += self._dwell_click(t_ms, out)
        self._remember(t_ms)
        return out

    def _dwell_click(self, t_ms: int, out: list[MouseCommand]) -> list[MouseCommand]:
        """A click once the pointer, having moved, rests within ``dwell_radius`` for ``dwell_ms``; then
        nothing more until it moves out of that circle again."""
        self.dwell_left_ms = None
        if self._key is None or self.pressed or any(c.kind != "move" for c in out) or self._last is None:
            self._dwell = None  # no hand, a drag, a click or a scroll, a lifted hand: no dwell
            return []
        if self._dwell is None or np.hypot(self.x - self._dwell[0], self.y - self._dwell[1]) > self.dwell_radius:
            moved = self._dwell is not None or bool(out)
            self._dwell = (self.x, self.y, t_ms) if moved else None
            return []
        x, y, since = self._dwell
        if since < 0:
            return []  # clicked here already: wait for the pointer to move away
        left = self.dwell_ms - (t_ms - since)
        if left > 0:
            self.dwell_left_ms = int(left)
            return []
        self._dwell = (x, y, -1)
        return [MouseCommand("click", int(self.x), int(self.y), why="dwell")]

    def _update(self, t_ms: int, hands: Sequence[HandObservation], events: Sequence[GestureEvent],
                width: int, height: int) -> list[MouseCommand]:
        out: list[MouseCommand] = []
        h = self._pointer_hand(hands, t_ms)
        if h is None:
            if self._key is not None and t_ms - self._seen > LOST_MS:
                out += self.release()
                self._key, self._last, self._filters = None, None, None
            return out
        self._seen = t_ms
        mine = [e for e in events if e.type == "pointer" and (e.track == h.track or e.hand == h.hand)]
        for e in mine:
            if (e.gesture == "click" or e.gesture == "right_click" and self.right_click) and not self.pressed:
                out += self._land(e, t_ms)
                out.append(MouseCommand(e.gesture, int(self.x), int(self.y)))
            elif e.gesture == "drag_start" and e.shape == "pinch" and not self.pressed:
                out += self._land(e, t_ms)
                self.pressed = True
                out.append(MouseCommand("press", int(self.x), int(self.y)))
            elif e.gesture == "drag_end" and self.pressed:
                out += self.release()
        self._shapes.append(self._shape(h))
        shape = Counter(self._shapes).most_common(1)[0][0]
        if self.pressed:
            shape = "move"  # a held pinch drags the pointer along
        scale = self.screen[0] / (self.region * width)  # screen pixels per frame pixel at gain 1
        px, py = h.center[0] * scale, h.center[1] * scale
        if self._filters is None:
            self._filters = tuple(OneEuroFilter(30.0, self.min_cutoff, self.beta, D_CUTOFF) for _ in range(2))
        fx, fy = (f(v, t_ms / 1000.0) for f, v in zip(self._filters, (px, py)))
        if shape == "lift" or self._last is None:
            self._last = None if shape == "lift" else (fx, fy, t_ms)
            self._scroll_rest = self._scroll_rest_x = 0.0
            return out
        lx, ly, lt = self._last
        self._last = (fx, fy, t_ms)
        dx, dy = fx - lx, fy - ly
        if shape == "scroll":
            out += self._scroll(dx, dy)
            return out
        if t_ms < self._still_until:
            return out  # settling after a click: the hand's motion is not the user's aim
        seconds = max((t_ms - lt) / 1000.0, 1e-3)
        speed = np.hypot(dx, dy) / seconds / self.screen[0]  # region widths a second
        gain = float(np.clip(speed / UNIT_SPEED, self.min_gain, self.max_gain))
        x = float(np.clip(self.x + dx * gain, 0, self.screen[0] - 1))
        y = float(np.clip(self.y + dy * gain, 0, self.screen[1] - 1))
        if (int(x), int(y)) != (int(self.x), int(self.y)):
            out.append(MouseCommand("move", int(x), int(y)))
        self.x, self.y = x, y
        return out

    def _remember(self, t_ms: int) -> None:
        self._trail.append((t_ms, self.x, self.y))
        while self._trail and t_ms - self._trail[0][0] > TRAIL_MS:
            self._trail.popleft()

    def _land(self, e: GestureEvent, t_ms: int) -> list[MouseCommand]:
        """Before a click or a press: back to where the pointer was before the gesture began; after a
        click (not a press: the drag moves on at once) the pointer holds still a while. Nothing with
        ``click_settle_ms`` 0."""
        if not self.click_settle_ms:
            return []
        if e.gesture in ("click", "right_click"):
            self._still_until = t_ms + self.click_settle_ms
        before = e.t_ms - (e.held_ms or 0) - self.click_lookback_ms
        earlier = [p for p in self._trail if p[0] <= before]
        if not earlier:
            return []
        _, x, y = earlier[-1]
        self._trail.clear()  # a second click looks back no further than this one's landing
        moved = (int(x), int(y)) != (int(self.x), int(self.y))
        self.x, self.y = x, y
        return [MouseCommand("move", int(x), int(y))] if moved else []

    def _scroll(self, dx: float, dy: float) -> list[MouseCommand]:
        """Wheel notches for one frame's palm motion (screen pixels), on the axis it moves along."""
        if max(abs(dx), abs(dy)) < SCROLL_DEAD_ZONE:
            return []
        step = self.scroll_speed / SCROLL_PIXELS
        if abs(dy) >= SCROLL_AXIS_RATIO * abs(dx):
            self._scroll_rest += -dy * step * (1 if self.scroll_y == "normal" else -1)  # image y grows down
            self._scroll_rest_x = 0.0
        elif abs(dx) >= SCROLL_AXIS_RATIO * abs(dy):
            self._scroll_rest_x += dx * step * (1 if self.scroll_x == "normal" else -1)
            self._scroll_rest = 0.0
        vertical, horizontal = int(self._scroll_rest), int(self._scroll_rest_x)
        if not (vertical or horizontal):
            return []
        self._scroll_rest -= vertical
        self._scroll_rest_x -= horizontal
        return [MouseCommand("scroll", int(self.x), int(self.y), vertical, horizontal)]

    @property
    def hand_key(self) -> object:
        """The pointer hand's track (or side); None while no hand holds the pointer."""
        return self._key

    def lift(self) -> None:
        """Forget where the hand was: the next frame moves nothing (after a pause, say)."""
        self._last = None

    def release(self) -> list[MouseCommand]:
        """Let go of the button if it is held (pause, the hand gone, the end)."""
        if not self.pressed:
            return []
        self.pressed = False
        return [MouseCommand("release", int(self.x), int(self.y))]

    def _pointer_hand(self, hands: Sequence[HandObservation], t_ms: int) -> HandObservation | None:
        allowed = [h for h in hands if self.hand == "any" or h.hand.lower() == self.hand]
        if self._key is not None:
            for h in allowed:
                if (h.track if h.track is not None else h.hand) == self._key:
                    return h
            return None
        for h in allowed:
            if self._shape(h) != "lift":
                self._key = h.track if h.track is not None else h.hand
                self._shapes.clear()
                return h
        return None

    @staticmethod
    def _shape(h: HandObservation) -> str:
        if h.pinched:
            return "move"
        fingers = h.fingers if h.fingers is not None else 4
        return "lift" if fingers == 0 else "scroll" if fingers == 2 else "move"
