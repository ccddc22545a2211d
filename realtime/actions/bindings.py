"""Bindings: a TOML file mapping gesture events to actions, checked at start, matched per frame.

    [[binding]]
    gesture = "swipe_left"        # a gesture of the model, or swipe_left/right/up/down
    key = "right"                 # or: command = ["playerctl", "next"]   or: print = true
    hand = "any"                  # left | right | any
    cooldown = 0.5                # seconds before this binding fires again

Gesture bindings fire once per hold, after ``hold`` seconds (counted from the gesture's first
frame; the ``start`` event itself needs ``--min-hold``), and again every ``repeat`` seconds while
it is held if ``repeat`` > 0. Swipe bindings fire on the swipe, optionally only for a hand
``shape``. A file with an unknown gesture, key, field or a bad value is refused with its line.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Sequence

from realtime.core.contract import NO_GESTURE
from realtime.core.errors import HandSignError
from realtime.events.gestures import ActiveGesture, GestureEvent
from realtime.events.swipes import SWIPES

HANDS = ("left", "right", "any")
ACTIONS = ("key", "command", "print")
FIELDS = ("gesture", "hand", "shape", "hold", "repeat", "cooldown", "timeout", "name") + ACTIONS
DEFAULT_COOLDOWN = 0.5
DEFAULT_TIMEOUT = 10.0


class BindingsError(HandSignError):
    """A bindings file that cannot be used; the message names the file and line."""


@dataclass(frozen=True)
class Binding:
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

    @property
    def swipe(self) -> bool:
        return self.gesture in SWIPES

    def describe(self) -> str:
        what = {"key": f"key {self.key}", "command": f"command {list(self.command)}", "print": "print"}[self.action]
        return self.name or f"{self.gesture} -> {what}"

    def matches_hand(self, hand: str) -> bool:
        return self.hand == "any" or self.hand == hand.lower()


@dataclass(frozen=True)
class Firing:
    binding: Binding
    event: GestureEvent


# ---------------------------------------------------------------------------------------------- loading
def _header_lines(text: str) -> list[int]:
    return [i for i, line in enumerate(text.splitlines(), 1) if re.match(r"\s*\[\[\s*binding\s*\]\]", line)]


def _field_line(text: str, start: int | None, end: int | None, name: str) -> int | None:
    if start is None:
        return None
    lines = text.splitlines()
    for i in range(start, min(end or len(lines), len(lines)) + 1):
        if re.match(rf"\s*{re.escape(name)}\s*=", lines[i - 1]):
            return i
    return start


def load_bindings(path: Path, labels: Sequence[str]) -> list[Binding]:
    """Parse and check a bindings file against the model's ``labels``; raises BindingsError."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except FileNotFoundError:
        raise BindingsError(f"bindings file not found: {path}") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise BindingsError(f"cannot read bindings file {path}: {getattr(exc, 'strerror', None) or exc}") from None
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise BindingsError(f"{path}: not valid TOML: {exc}") from None
    gestures = [g for g in labels if g != NO_GESTURE] + list(SWIPES)
    for key in data:
        if key != "binding":
            line = _field_line(text, 1, None, key)
            raise BindingsError(f"{path} line {line}: unknown table or key {key!r} (a bindings file holds "
                                "[[binding]] tables only)")
    tables = data.get("binding", [])
    if not isinstance(tables, list) or not tables or not all(isinstance(t, dict) for t in tables):
        raise BindingsError(f"{path}: no [[binding]] tables (docs/bindings.md)")
    heads = _header_lines(text)
    out = []
    for i, table in enumerate(tables):
        start = heads[i] if i < len(heads) else None
        end = heads[i + 1] - 1 if i + 1 < len(heads) else None
        out.append(_binding(table, i + 1, path, gestures, labels,
                            lambda name: _field_line(text, start, end, name), start))
    return out


def _binding(t: dict[str, Any], index: int, path: Path, gestures: list[str], labels: Sequence[str],
             line_of, start: int | None) -> Binding:
    def fail(name: str | None, message: str):
        line = line_of(name) if name else start
        where = f"line {line}" if line else f"binding {index}"
        raise BindingsError(f"{path} {where}: {message}")

    for name in t:
        if name not in FIELDS:
            fail(name, f"unknown field {name!r} (allowed: {', '.join(FIELDS)})")
    if "gesture" not in t:
        fail(None, f"binding {index} has no 'gesture' (one of: {', '.join(gestures)})")
    gesture = t["gesture"]
    if not isinstance(gesture, str) or gesture not in gestures:
        hint = "; the model has no gestures (--model none): only swipes" if not labels else ""
        fail("gesture", f"unknown gesture {gesture!r} (allowed: {', '.join(gestures)}){hint}")
    actions = [a for a in ACTIONS if a in t]
    if len(actions) != 1:
        fail(actions[1] if len(actions) > 1 else None,
             f"binding {index} needs exactly one action: key = \"...\", command = [...] or print = true"
             f"{' (it has ' + ' and '.join(actions) + ')' if actions else ''}")
    action = actions[0]

    def number(name: str, default: float) -> float:
        value = t.get(name, default)
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 <= value <= 3600:
            fail(name, f"{name} must be a number of seconds within 0..3600, not {value!r}")
        return float(value)

    hand = t.get("hand", "any")
    if not isinstance(hand, str) or hand.lower() not in HANDS:
        fail("hand", f"hand must be one of {', '.join(HANDS)}, not {hand!r}")
    swipe = gesture in SWIPES
    for name in (("hold", "repeat") if swipe else ("shape",)):
        if name in t:
            fail(name, f"{name!r} does not apply to {'swipes' if swipe else 'held gestures'}"
                       f"{' (shape is for swipes: the hand shape while swiping)' if name == 'shape' else ''}")
    shape = t.get("shape")
    if shape is not None and (not isinstance(shape, str) or shape not in gestures or shape in SWIPES):
        fail("shape", f"unknown shape {shape!r} (allowed: {', '.join(g for g in gestures if g not in SWIPES)})")
    if "timeout" in t and action != "command":
        fail("timeout", "timeout applies to commands only")
    key, command = None, ()
    if action == "key":
        key = t["key"]
        if not isinstance(key, str) or not key.strip():
            fail("key", f"key must be a key or chord such as \"right\" or \"ctrl+alt+right\", not {key!r}")
    elif action == "command":
        command = t["command"]
        if (not isinstance(command, list) or not command or not all(isinstance(a, str) for a in command)
                or not command[0]):
            fail("command", "command must be a list of strings, the program first: command = [\"playerctl\", "
                            "\"play-pause\"] (it is run directly, never through a shell)")
        command = tuple(command)
    elif t["print"] is not True:
        fail("print", "print must be true")
    name = t.get("name", "")
    if not isinstance(name, str):
        fail("name", "name must be a string")
    return Binding(index, start, gesture, action, key, command, number("timeout", DEFAULT_TIMEOUT), hand.lower(),
                   shape, number("hold", 0.0), number("repeat", 0.0), number("cooldown", DEFAULT_COOLDOWN), name,
                   line_of(action))


# ---------------------------------------------------------------------------------------------- matching
@dataclass
class BindingEngine:
    """Which bindings fire this frame, given its events and the gestures being held."""

    bindings: list[Binding]
    _last_fired: dict[int, int] = field(default_factory=dict)  # binding index -> t_ms
    _holds: dict[tuple[int, int, int], int | None] = field(default_factory=dict)  # (binding, track, since) -> last t

    def update(self, t_ms: int, events: list[GestureEvent], active: list[ActiveGesture],
               frame: int | None = None) -> list[Firing]:
        fired = []
        for b in self.bindings:
            if b.swipe:
                for e in events:
                    if (e.type == "swipe" and e.gesture == b.gesture and b.matches_hand(e.hand)
                            and (b.shape is None or e.shape == b.shape) and self._cool(b, t_ms)):
                        self._last_fired[b.index] = t_ms
                        fired.append(Firing(b, e))
                continue
            for a in active:
                if a.gesture != b.gesture or not b.matches_hand(a.hand) or a.held_ms(t_ms) < b.hold * 1000:
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

    def _cool(self, b: Binding, t_ms: int) -> bool:
        last = self._last_fired.get(b.index)
        return last is None or t_ms - last >= b.cooldown * 1000
