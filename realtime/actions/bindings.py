"""Bindings: what fires (gesture, swipe, click or sequence, hand, hold, cooldown) and what it does, and the
engine that matches them to each frame's events.

The bindings file that holds them is read by :mod:`realtime.actions.bindings_file` (its docstring shows
the format); per-application profiles choose among them (:mod:`realtime.actions.profiles`).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

from realtime.core.errors import HandSignError
from realtime.events.clicks import POINTER_EVENTS
from realtime.events.gestures import ActiveGesture, GestureEvent
from realtime.events.swipes import SWIPES

log = logging.getLogger(__name__)
HANDS = ("left", "right", "any")
ACTIONS = ("key", "command", "print")
DEFAULT_COOLDOWN = 0.5
DEFAULT_TIMEOUT = 10.0
DEFAULT_WITHIN = 0.8
DEFAULT_CLUTCH_HOLD = 0.5
DEFAULT_CLUTCH_SECONDS = 5.0


class BindingsError(HandSignError):
    """A bindings file that cannot be used; the message names the file and line."""


@dataclass(frozen=True)
class Binding:
    """One binding from the TOML file: what fires it (gesture, swipe, sequence, hand, hold) and what it does."""

    index: int  # 1-based, in file order
    line: int | None
    gesture: str
    action: str  # key | command | print
    key: str | None = None  # the chord as written, e.g. "ctrl+alt+right"
    command: tuple[str, ...] = ()
    timeout: float = DEFAULT_TIMEOUT  # commands only; 0 = no limit
    hand: str = "any"
    shape: str | None = None  # swipes only
    hold: float = 0.0
    repeat: float = 0.0
    cooldown: float = DEFAULT_COOLDOWN
    name: str = ""
    action_line: int | None = None  # where the action is written, for errors found after loading
    min_confidence: float = 0.0
    sequence: tuple[str, ...] = ()  # a sequence binding: ``gesture`` is its steps joined by ">"
    within: float = DEFAULT_WITHIN

    @property
    def swipe(self) -> bool:
        """Whether it fires on a swipe rather than a gesture start."""
        return self.gesture in SWIPES

    @property
    def one_off(self) -> bool:
        """A swipe, click, drag or zoom: fires on its event, never held."""
        return self.gesture in SWIPES or self.gesture in POINTER_EVENTS

    def describe(self) -> str:
        """A short human description for the log (``palm -> key ctrl+space``)."""
        what = {"key": f"key {self.key}", "command": f"command {list(self.command)}", "print": "print"}[self.action]
        return self.name or f"{self.gesture} -> {what}"

    def matches_hand(self, hand: str) -> bool:
        """Whether the event's hand is the one the binding asks for (any, left or right)."""
        return self.hand == "any" or self.hand == hand.lower()


@dataclass(frozen=True)
class Clutch:
    """Bindings act only for ``seconds`` after ``gesture`` has been held for ``hold`` seconds."""

    gesture: str
    hold: float = DEFAULT_CLUTCH_HOLD
    seconds: float = DEFAULT_CLUTCH_SECONDS


@dataclass(frozen=True)
class Firing:
    """A binding that fires, with the event that fired it."""

    binding: Binding
    event: GestureEvent


# ---------------------------------------------------------------------------------------------- matching
@dataclass
class BindingEngine:
    """Which bindings fire this frame, given its events and the gestures being held."""

    bindings: list[Binding]
    clutch: Clutch | None = None
    _last_fired: dict[int, int] = field(default_factory=dict)  # binding index -> t_ms
    _holds: dict[tuple[int, int, int], int | None] = field(default_factory=dict)  # (binding, track, since) -> last t
    _steps: dict[int, list[tuple[str, int, int]]] = field(default_factory=dict)  # track -> (gesture, fired, began)
    armed_until: int | None = None  # with a clutch: bindings act until this time
    quiet: bool = False  # log nothing (a profile's engine while another profile is in front)

    def armed(self, t_ms: int) -> bool:
        """Whether bindings may fire at ``t_ms``: no clutch, or the clutch gesture was shown recently."""
        return self.clutch is None or (self.armed_until is not None and t_ms <= self.armed_until)

    def update(self, t_ms: int, events: list[GestureEvent], active: list[ActiveGesture],
               frame: int | None = None) -> list[Firing]:
        """The bindings this frame's events fire (cooldowns, clutch and sequences applied)."""
        self._arm(t_ms, active)
        self._remember_steps(events)
        fired = []
        for b in self.bindings:
            if b.sequence:
                fired += self._sequence(b, t_ms, events)
                continue
            if b.one_off:
                for e in events:
                    if (e.type in ("swipe", "pointer") and e.gesture == b.gesture
                            and (b.matches_hand(e.hand) or e.hand == "both")
                            and (b.shape is None or e.shape == b.shape) and _sure(b, e.confidence)
                            and self.armed(t_ms) and self._cool(b, t_ms)):
                        self._last_fired[b.index] = t_ms
                        fired.append(Firing(b, e))
                continue
            for a in active:
                if (a.gesture != b.gesture or not b.matches_hand(a.hand) or a.held_ms(t_ms) < b.hold * 1000
                        or not _sure(b, a.confidence) or not self.armed(t_ms)):
                    continue
                key = (b.index, a.track, a.since_ms)
                if key not in self._holds:  # the first time in this hold: the cooldown decides
                    if not self._cool(b, t_ms):
                        self._holds[key] = None  # this hold is skipped, not fired later
                        continue
                    kind = "start"
                elif self._holds[key] is not None and b.repeat and t_ms - self._holds[key] >= b.repeat * 1000:
                    kind = "hold"
                else:
                    continue
                self._holds[key] = self._last_fired[b.index] = t_ms
                fired.append(Firing(b, GestureEvent(kind, a.gesture, a.hand, a.track, a.confidence, a.x, a.y,
                                                    t_ms, a.held_ms(t_ms), frame)))
        live = {(a.track, a.since_ms) for a in active}
        self._holds = {k: v for k, v in self._holds.items() if k[1:] in live}
        return fired

    def _arm(self, t_ms: int, active: list[ActiveGesture]) -> None:
        c = self.clutch
        if c is None:
            return
        for a in active:
            if a.gesture == c.gesture and a.held_ms(t_ms) >= c.hold * 1000:
                if not self.armed(t_ms) and not self.quiet:
                    log.info("armed by %s for %g s", c.gesture, c.seconds)
                self.armed_until = int(t_ms + c.seconds * 1000)

    def _remember_steps(self, events: list[GestureEvent]) -> None:
        """Each track's recent gesture starts and swipes: the steps sequences are matched against."""
        for e in events:
            if e.track is not None and e.type in ("start", "swipe", "pointer"):
                steps = self._steps.setdefault(e.track, [])
                steps.append((e.gesture, e.t_ms, e.t_ms - e.held_ms))
                del steps[:-8]

    def _sequence(self, b: Binding, t_ms: int, events: list[GestureEvent]) -> list[Firing]:
        """Fire when this frame's event completes the sequence on its track, each step in time."""
        for e in events:
            if e.type not in ("start", "swipe", "pointer") or e.gesture != b.sequence[-1] or e.track is None:
                continue
            steps = self._steps.get(e.track, [])[-len(b.sequence):]
            # each step must begin within `within` of the step before firing (a held gesture fires
            # --min-hold after it began, so the next one can only begin after that)
            if ([g for g, _, _ in steps] != list(b.sequence) or not b.matches_hand(e.hand)
                    or any(nxt[2] - prev[1] > b.within * 1000 for prev, nxt in zip(steps, steps[1:]))
                    or not _sure(b, e.confidence) or not self.armed(t_ms) or not self._cool(b, t_ms)):
                continue
            self._last_fired[b.index] = t_ms
            self._steps[e.track] = []  # each step counts for one firing
            return [Firing(b, GestureEvent("sequence", b.gesture, e.hand, e.track, e.confidence, e.x, e.y, t_ms,
                                           t_ms - steps[0][2], e.frame))]
        return []

    def _cool(self, b: Binding, t_ms: int) -> bool:
        last = self._last_fired.get(b.index)
        return last is None or t_ms - last >= b.cooldown * 1000


def _sure(b: Binding, confidence: float | None) -> bool:
    return b.min_confidence <= 0 or (confidence is not None and confidence >= b.min_confidence)
