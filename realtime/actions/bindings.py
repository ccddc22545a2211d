"""Bindings: a TOML file mapping gesture events to actions, checked at start, matched per frame.

    [[binding]]
    gesture = "swipe_left"        # a gesture of the model, swipe_left/right/up/down, click, double_click,
                                  # drag_start, drag_end, zoom_in or zoom_out
    key = "right"                 # or: command = ["playerctl", "next"]   or: print = true
    hand = "any"                  # left | right | any
    cooldown = 0.5                # seconds before this binding fires again

Gesture bindings fire once per hold, after ``hold`` seconds (counted from the gesture's first
frame; the ``start`` event itself needs ``--min-hold``), and again every ``repeat`` seconds while
it is held if ``repeat`` > 0. Swipe bindings fire on the swipe, optionally only for a hand
``shape``. ``min_confidence`` (0..1) skips gestures and swipes the model is less sure of.

    [[binding]]
    sequence = ["palm", "fist"]   # one hand shows these gestures in this order ...
    within = 0.8                  # ... each beginning within this many seconds after the one before fired
    key = "space"

    [clutch]                      # optional: bindings act only for `seconds` after `gesture`
    gesture = "palm"              # has been held for `hold` seconds
    hold = 0.5
    seconds = 5

A file with an unknown gesture, key, field or a bad value is refused with its line.
"""

from __future__ import annotations

import logging
import re
import tomllib
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NoReturn

from realtime.core.contract import NO_GESTURE
from realtime.core.errors import HandSignError
from realtime.events.clicks import POINTER_EVENTS
from realtime.events.cursor import SCROLL_DIRECTIONS
from realtime.events.gestures import ActiveGesture, GestureEvent
from realtime.events.swipes import SWIPES

log = logging.getLogger(__name__)
HANDS = ("left", "right", "any")
ACTIONS = ("key", "command", "print")
FIELDS = ("gesture", "sequence", "within", "hand", "shape", "hold", "repeat", "cooldown", "timeout", "min_confidence",
          "name") + ACTIONS
CLUTCH_FIELDS = ("gesture", "hold", "seconds")
#: [pointer] settings (realtime.events.cursor.CursorMapper): name -> (low, high) or the allowed words
POINTER_FIELDS = {"hand": ("left", "right", "any"), "region": (0.1, 1.0), "min_cutoff": (0.01, 30.0),
                  "beta": (0.0, 10.0), "scroll_speed": (0.1, 10.0), "scroll_x": SCROLL_DIRECTIONS,
                  "scroll_y": SCROLL_DIRECTIONS, "click_lookback_ms": (0, 1000), "click_settle_ms": (0, 2000),
                  "min_gain": (0.1, 1.0), "max_gain": (1.0, 5.0)}
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
    bindings = read_bindings_file(path, labels)[0]
    if not bindings:
        raise BindingsError(f"{path}: no [[binding]] tables (docs/bindings.md)")
    return bindings


def read_bindings_file(path: Path, labels: Sequence[str]) -> tuple[list[Binding], Clutch | None, dict[str, Any]]:
    """The bindings, the clutch (if the file has one) and the [pointer] settings, checked against the
    model's ``labels``."""
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
    gestures = [g for g in labels if g != NO_GESTURE] + list(SWIPES) + list(POINTER_EVENTS)
    for key in data:
        if key not in ("binding", "clutch", "pointer"):
            line = _field_line(text, 1, None, key)
            raise BindingsError(f"{path} line {line}: unknown table or key {key!r} (a bindings file holds "
                                "[[binding]] tables, one [clutch] and one [pointer])")
    tables = data.get("binding", [])
    if (not isinstance(tables, list) or not all(isinstance(t, dict) for t in tables)
            or (not tables and "pointer" not in data)):
        raise BindingsError(f"{path}: no [[binding]] tables (docs/bindings.md)")
    heads = _header_lines(text)
    out = []
    for i, table in enumerate(tables):
        start = heads[i] if i < len(heads) else None
        end = heads[i + 1] - 1 if i + 1 < len(heads) else None
        out.append(_binding(table, i + 1, path, gestures, labels,
                            lambda name, s=start, e=end: _field_line(text, s, e, name), start))
    return out, _clutch(data.get("clutch"), text, path, gestures), _pointer(data.get("pointer"), text, path)


def _pointer(table: Any, text: str, path: Path) -> dict[str, Any]:
    if table is None:
        return {}
    start = next((i for i, line in enumerate(text.splitlines(), 1) if re.match(r"\s*\[\s*pointer\s*\]", line)), None)

    def fail(name: str | None, message: str):
        raise BindingsError(f"{path} line {_field_line(text, start, None, name) if name else start}: {message}")

    if not isinstance(table, dict):
        fail(None, "pointer must be a table: [pointer] with " + ", ".join(POINTER_FIELDS))
    out = {}
    for name, value in table.items():
        allowed = POINTER_FIELDS.get(name)
        if allowed is None:
            fail(name, f"unknown pointer field {name!r} (allowed: {', '.join(POINTER_FIELDS)})")
        if isinstance(allowed[0], str):
            if not isinstance(value, str) or value.lower() not in allowed:
                fail(name, f"pointer {name} must be one of {', '.join(allowed)}, not {value!r}")
            value = value.lower()
        elif isinstance(value, bool) or not isinstance(value, (int, float)) or not allowed[0] <= value <= allowed[1]:
            fail(name, f"pointer {name} must be a number within {allowed[0]:g}..{allowed[1]:g}, not {value!r}")
        out[name] = value
    return out


def _clutch(table: Any, text: str, path: Path, gestures: list[str]) -> Clutch | None:
    if table is None:
        return None
    start = next((i for i, line in enumerate(text.splitlines(), 1) if re.match(r"\s*\[\s*clutch\s*\]", line)), None)

    def fail(name: str | None, message: str):
        line = _field_line(text, start, None, name) if name else start
        raise BindingsError(f"{path} line {line}: {message}")

    if not isinstance(table, dict):
        fail(None, "clutch must be a table: [clutch] with gesture, hold and seconds")
    for name in table:
        if name not in CLUTCH_FIELDS:
            fail(name, f"unknown clutch field {name!r} (allowed: {', '.join(CLUTCH_FIELDS)})")
    gesture = table.get("gesture")
    held = [g for g in gestures if g not in SWIPES and g not in POINTER_EVENTS]
    if not isinstance(gesture, str) or gesture not in held:
        fail("gesture" if "gesture" in table else None,
             f"the clutch needs a gesture to hold, one of: {', '.join(held)} (not {gesture!r})")
    values = {}
    for name, default, low in (("hold", DEFAULT_CLUTCH_HOLD, 0.0), ("seconds", DEFAULT_CLUTCH_SECONDS, 0.5)):
        value = table.get(name, default)
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not low <= value <= 3600:
            fail(name, f"clutch {name} must be a number of seconds within {low:g}..3600, not {value!r}")
        values[name] = float(value)
    return Clutch(gesture, values["hold"], values["seconds"])


@dataclass
class _Table:
    """One [[binding]] table being read: its fields, and one-line errors that name the file's line."""

    t: dict[str, Any]
    index: int
    path: Path
    line_of: Callable[[str], int | None]
    start: int | None

    def fail(self, name: str | None, message: str) -> NoReturn:
        """Refuse the table, naming the line of field ``name`` (or the table's own)."""
        line = self.line_of(name) if name else self.start
        where = f"line {line}" if line else f"binding {self.index}"
        raise BindingsError(f"{self.path} {where}: {message}")

    def seconds(self, name: str, default: float) -> float:
        """A field of seconds within 0..3600."""
        value = self.t.get(name, default)
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 <= value <= 3600:
            self.fail(name, f"{name} must be a number of seconds within 0..3600, not {value!r}")
        return float(value)


def _binding(t: dict[str, Any], index: int, path: Path, gestures: list[str], labels: Sequence[str],
             line_of: Callable[[str], int | None], start: int | None) -> Binding:
    """One [[binding]] table, checked field by field."""
    table = _Table(t, index, path, line_of, start)
    for name in t:
        if name not in FIELDS:
            table.fail(name, f"unknown field {name!r} (allowed: {', '.join(FIELDS)})")
    gesture, sequence = _trigger(table, gestures, labels)
    action, key, command = _action(table)
    hand = t.get("hand", "any")
    if not isinstance(hand, str) or hand.lower() not in HANDS:
        table.fail("hand", f"hand must be one of {', '.join(HANDS)}, not {hand!r}")
    shape = _shape(table, gesture, sequence, gestures)
    if "timeout" in t and action != "command":
        table.fail("timeout", "timeout applies to commands only")
    name = t.get("name", "")
    if not isinstance(name, str):
        table.fail("name", "name must be a string")
    min_confidence = t.get("min_confidence", 0.0)
    if isinstance(min_confidence, bool) or not isinstance(min_confidence, (int, float)) or not 0 <= min_confidence <= 1:
        table.fail("min_confidence", f"min_confidence must be a number within 0..1, not {min_confidence!r}")
    within = table.seconds("within", DEFAULT_WITHIN)
    if sequence and not 0.1 <= within <= 10:
        table.fail("within", f"within must be 0.1..10 seconds, not {within!r}")
    return Binding(index, start, gesture, action, key, command, table.seconds("timeout", DEFAULT_TIMEOUT),
                   hand.lower(), shape, table.seconds("hold", 0.0), table.seconds("repeat", 0.0),
                   table.seconds("cooldown", DEFAULT_COOLDOWN), name, line_of(action), float(min_confidence),
                   sequence, within)


def _trigger(table: _Table, gestures: list[str], labels: Sequence[str]) -> tuple[str, tuple[str, ...]]:
    """What fires the binding: (its gesture, or the sequence's name ``a>b``; the sequence's steps)."""
    t, fail = table.t, table.fail
    if ("gesture" in t) == ("sequence" in t):
        fail("sequence" if "sequence" in t else None,
             f"binding {table.index} needs either 'gesture' (one of: {', '.join(gestures)}) or 'sequence' "
             "(a list of them), not " + ("both" if "gesture" in t else "neither"))
    if "sequence" not in t:
        gesture = t["gesture"]
        if "within" in t:
            fail("within", "'within' applies to sequences only")
        if not isinstance(gesture, str) or gesture not in gestures:
            hint = "; the model has no gestures (--model none): only swipes" if not labels else ""
            fail("gesture", f"unknown gesture {gesture!r} (allowed: {', '.join(gestures)}){hint}")
        return gesture, ()
    steps = t["sequence"]
    if (not isinstance(steps, list) or len(steps) < 2 or len(steps) > 8
            or not all(isinstance(g, str) for g in steps)):
        fail("sequence", f"sequence must be a list of 2 to 8 gestures, such as [\"palm\", \"fist\"], not {steps!r}")
    unknown = [g for g in steps if g not in gestures]
    if unknown:
        fail("sequence", f"unknown gesture {unknown[0]!r} in the sequence (allowed: {', '.join(gestures)})")
    if any(a == b for a, b in zip(steps, steps[1:])):
        fail("sequence", "a sequence cannot repeat a gesture twice in a row (a held gesture starts once)")
    for name in ("hold", "repeat", "shape"):
        if name in t:
            fail(name, f"{name!r} does not apply to sequences")
    return ">".join(steps), tuple(steps)


def _action(table: _Table) -> tuple[str, str | None, tuple[str, ...]]:
    """What the binding does: (key, command or print; the key; the command)."""
    t, fail = table.t, table.fail
    actions = [a for a in ACTIONS if a in t]
    if len(actions) != 1:
        fail(actions[1] if len(actions) > 1 else None,
             f"binding {table.index} needs exactly one action: key = \"...\", command = [...] or print = true"
             f"{' (it has ' + ' and '.join(actions) + ')' if actions else ''}")
    action, key, command = actions[0], None, ()
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
    return action, key, command


def _shape(table: _Table, gesture: str, sequence: tuple[str, ...], gestures: list[str]) -> str | None:
    """The hand shape a swipe asks for (None: any), after refusing fields that do not apply to this kind."""
    t = table.t
    swipe, pointer = gesture in SWIPES, gesture in POINTER_EVENTS
    kind = "swipes" if swipe else "clicks, drags and zooms" if pointer else "held gestures"
    for name in (("hold", "repeat", "shape") if pointer else ("hold", "repeat") if swipe
                 else ("shape",) if not sequence else ()):
        if name in t:
            table.fail(name, f"{name!r} does not apply to {kind}"
                             f"{' (shape is for swipes: the hand shape while swiping)' if name == 'shape' else ''}")
    shapes = [g for g in gestures if g not in SWIPES and g not in POINTER_EVENTS]
    shape = t.get("shape")
    if shape is not None and (not isinstance(shape, str) or shape not in shapes):
        table.fail("shape", f"unknown shape {shape!r} (allowed: {', '.join(shapes)})")
    return shape


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
                if not self.armed(t_ms):
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
