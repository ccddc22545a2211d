"""The bindings file: TOML mapping gesture events to actions, per application, checked at start.

    [[binding]]
    gesture = "swipe_left"        # a gesture of the model, swipe_left/right/up/down, click, double_click, right_click,
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

    [profile.slides]              # per application (realtime.actions.profiles): while the window in
    match = { title = "Impress" } # front matches, its own bindings, clutch and [pointer] apply
    inherit = false               # true: the default bindings apply under its own
    [[profile.slides.binding]]
    gesture = "swipe_left"
    key = "right"

    [desktop]
    sleep_hotkey = "ctrl+alt+h"   # the global sleep/wake toggle; "" turns it off

A file with an unknown gesture, key, field or a bad value is refused with its line.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NoReturn

from realtime.actions.bindings import (
    ACTIONS,
    DEFAULT_CLUTCH_HOLD,
    DEFAULT_CLUTCH_SECONDS,
    DEFAULT_COOLDOWN,
    DEFAULT_TIMEOUT,
    DEFAULT_WITHIN,
    HANDS,
    Binding,
    BindingsError,
    Clutch,
)
from realtime.actions.profiles import DEFAULT_PROFILE, BindingsConfig, DesktopSettings, Profile, WindowMatch
from realtime.core.contract import NO_GESTURE
from realtime.events.clicks import POINTER_EVENTS
from realtime.events.cursor import SCROLL_DIRECTIONS
from realtime.events.swipes import SWIPES

FIELDS = ("gesture", "sequence", "within", "hand", "shape", "hold", "repeat", "cooldown", "timeout", "min_confidence",
          "name") + ACTIONS
CLUTCH_FIELDS = ("gesture", "hold", "seconds")
#: [pointer] settings (realtime.events.cursor.CursorMapper): name -> (low, high) or the allowed words
POINTER_FIELDS = {"hand": ("left", "right", "any"), "region": (0.1, 1.0), "min_cutoff": (0.01, 30.0),
                  "beta": (0.0, 10.0), "scroll_speed": (0.1, 10.0), "scroll_x": SCROLL_DIRECTIONS,
                  "scroll_y": SCROLL_DIRECTIONS, "click_lookback_ms": (0, 1000), "click_settle_ms": (0, 2000),
                  "min_gain": (0.1, 1.0), "max_gain": (1.0, 5.0), "dwell_ms": (0, 5000), "dwell_radius": (2, 200),
                  "right_click": (False, True)}
TOP_LEVEL = ("binding", "clutch", "pointer", "profile", "desktop")
PROFILE_FIELDS = ("match", "regex", "inherit", "binding", "clutch", "pointer")
MATCH_KEYS = {"app": "app", "class": "cls", "title": "title"}
DESKTOP_FIELDS = ("sleep_hotkey",)


def _table_line(text: str, header: str) -> int | None:
    """The line of the first table header matching the regular expression ``header``."""
    return next((i for i, line in enumerate(text.splitlines(), 1) if re.match(rf"\s*{header}", line)), None)


def _header_lines(text: str, prefix: str = "") -> list[int]:
    return [i for i, line in enumerate(text.splitlines(), 1)
            if re.match(rf"\s*\[\[\s*{prefix}binding\s*\]\]", line)]


def _field_line(text: str, start: int | None, end: int | None, name: str) -> int | None:
    if start is None:
        return None
    lines = text.splitlines()
    for i in range(start, min(end or len(lines), len(lines)) + 1):
        if re.match(rf"\s*{re.escape(name)}\s*=", lines[i - 1]):
            return i
    return start


def _profile_header(name: str) -> str:
    """The regular expression of ``profile.NAME`` in a table header (the name bare or quoted)."""
    quoted = re.escape(name)
    return rf"profile\s*\.\s*(?:{quoted}|\"{quoted}\"|'{quoted}')"


def _failer(text: str, path: Path, start: int | None, prefix: str = "") -> Callable[[str | None, str], NoReturn]:
    """A ``fail(field, message)`` for one table starting at line ``start``: raises BindingsError naming the
    field's line (or the table's), with ``prefix`` before the message."""
    def fail(name: str | None, message: str) -> NoReturn:
        line = _field_line(text, start, None, name) if name else start
        raise BindingsError(f"{path} line {line}: {prefix}{message}")
    return fail


def _check_fields(table: dict[str, Any], allowed: Sequence[str], kind: str,
                  fail: Callable[[str | None, str], NoReturn]) -> None:
    """Refuse a field the table does not know."""
    for name in table:
        if name not in allowed:
            fail(name, f"unknown {kind}field {name!r} (allowed: {', '.join(allowed)})")


def load_bindings(path: Path, labels: Sequence[str]) -> list[Binding]:
    """The default bindings of a file, checked against the model's ``labels``; raises BindingsError."""
    bindings = list(read_bindings_file(path, labels).default.bindings)
    if not bindings:
        raise BindingsError(f"{path}: no [[binding]] tables (docs/bindings.md)")
    return bindings


def read_bindings_file(path: Path, labels: Sequence[str]) -> BindingsConfig:
    """The whole file: default bindings, clutch and [pointer], the profiles and [desktop], checked
    against the model's ``labels``; raises BindingsError naming the line."""
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
        if key not in TOP_LEVEL:
            line = _field_line(text, 1, None, key)
            raise BindingsError(f"{path} line {line}: unknown table or key {key!r} (a bindings file holds "
                                "[[binding]] tables, one [clutch], one [pointer], [profile.NAME] tables and one "
                                "[desktop])")
    tables = data.get("binding", [])
    profiles_data = data.get("profile", {})
    if not isinstance(tables, list) or not all(isinstance(t, dict) for t in tables) or (
            not tables and "pointer" not in data and not profiles_data):
        raise BindingsError(f"{path}: no [[binding]] tables (docs/bindings.md)")
    reader = _Reader(text, path, gestures, labels)
    default = Profile(DEFAULT_PROFILE, tuple(reader.bindings(tables, "")),
                      _clutch(data.get("clutch"), text, path, gestures),
                      _pointer(data.get("pointer"), text, path))
    if not isinstance(profiles_data, dict):
        raise BindingsError(f"{path} line {_field_line(text, 1, None, 'profile')}: profile must hold "
                            "[profile.NAME] tables")
    profiles = tuple(reader.profile(name, table) for name, table in profiles_data.items())
    return BindingsConfig(default, profiles, _desktop(data.get("desktop"), text, path))


@dataclass
class _Reader:
    """Reads binding tables and profiles, numbering the bindings across the whole file."""

    text: str
    path: Path
    gestures: list[str]
    labels: Sequence[str]
    count: int = 0

    def bindings(self, tables: list[dict[str, Any]], prefix: str) -> list[Binding]:
        """The [[PREFIXbinding]] tables, checked."""
        heads = _header_lines(self.text, prefix)
        out = []
        for i, table in enumerate(tables):
            start = heads[i] if i < len(heads) else None
            end = heads[i + 1] - 1 if i + 1 < len(heads) else None
            self.count += 1
            out.append(_binding(table, self.count, self.path, self.gestures, self.labels,
                                lambda name, s=start, e=end: _field_line(self.text, s, e, name), start))
        return out

    def profile(self, name: str, table: Any) -> Profile:
        """One [profile.NAME] table, checked: its match, bindings, clutch and pointer settings."""
        header = _profile_header(name)
        prefix = header + r"\s*\.\s*"
        start = _table_line(self.text, rf"\[\s*{header}\s*\]") or _table_line(self.text, rf"\[+\s*{prefix}")

        fail = _failer(self.text, self.path, start, f"profile {name!r}: ")

        if name == DEFAULT_PROFILE:
            fail(None, f"{DEFAULT_PROFILE!r} is the name of the bindings outside any profile: pick another")
        if not isinstance(table, dict):
            fail(None, "a profile is a table: [profile.NAME] with match = { title = \"...\" }")
        _check_fields(table, PROFILE_FIELDS, "", fail)
        match = table.get("match")
        if not isinstance(match, dict) or not match:
            fail("match" if "match" in table else None,
                 "needs match = { app = \"...\", class = \"...\", title = \"...\" } (one or more of them: the "
                 "process name, the window class, the window title)")
        regex = table.get("regex", match.get("regex", False))
        if not isinstance(regex, bool):
            fail("regex", f"regex must be true or false, not {regex!r}")
        values: dict[str, str] = {}
        for key, value in match.items():
            if key == "regex":
                continue
            if key not in MATCH_KEYS:
                fail("match", f"unknown match key {key!r} (allowed: {', '.join(MATCH_KEYS)}, regex)")
            if not isinstance(value, str) or not value:
                fail("match", f"match {key} must be a non-empty string, not {value!r}")
            if regex:
                try:
                    re.compile(value)
                except re.error as exc:
                    fail("match", f"match {key} {value!r} is not a regular expression: {exc}")
            values[MATCH_KEYS[key]] = value
        inherit = table.get("inherit", False)
        if not isinstance(inherit, bool):
            fail("inherit", f"inherit must be true or false, not {inherit!r}")
        tables = table.get("binding", [])
        if not isinstance(tables, list) or not all(isinstance(t, dict) for t in tables):
            fail("binding", f"bindings are [[profile.{name}.binding]] tables")
        bindings = self.bindings(tables, prefix)
        return Profile(name, tuple(bindings), _clutch(table.get("clutch"), self.text, self.path, self.gestures, prefix),
                       _pointer(table.get("pointer"), self.text, self.path, prefix),
                       WindowMatch(**values, regex=regex), inherit, start)


def _desktop(table: Any, text: str, path: Path) -> DesktopSettings:
    if table is None:
        return DesktopSettings()
    fail = _failer(text, path, _table_line(text, r"\[\s*desktop\s*\]"))
    if not isinstance(table, dict):
        fail(None, "desktop must be a table: [desktop] with sleep_hotkey")
    _check_fields(table, DESKTOP_FIELDS, "desktop ", fail)
    hotkey = table.get("sleep_hotkey", None)
    if hotkey is None:
        return DesktopSettings()
    if not isinstance(hotkey, str):
        fail("sleep_hotkey", f"sleep_hotkey must be a chord such as \"ctrl+alt+h\", or \"\" for none, not {hotkey!r}")
    from realtime.desktop.hotkey import HotkeyError, hotkey_spec

    if hotkey.strip():
        try:
            hotkey_spec(hotkey)
        except HotkeyError as exc:
            fail("sleep_hotkey", str(exc))
    return DesktopSettings(hotkey.strip(), True)


def _pointer(table: Any, text: str, path: Path, prefix: str = "") -> dict[str, Any]:
    if table is None:
        return {}
    fail = _failer(text, path, _table_line(text, rf"\[\s*{prefix}pointer\s*\]"))

    if not isinstance(table, dict):
        fail(None, "pointer must be a table: [pointer] with " + ", ".join(POINTER_FIELDS))
    out = {}
    for name, value in table.items():
        allowed = POINTER_FIELDS.get(name)
        if allowed is None:
            fail(name, f"unknown pointer field {name!r} (allowed: {', '.join(POINTER_FIELDS)})")
        if isinstance(allowed[0], bool):
            if not isinstance(value, bool):
                fail(name, f"pointer {name} must be true or false, not {value!r}")
        elif isinstance(allowed[0], str):
            if not isinstance(value, str) or value.lower() not in allowed:
                fail(name, f"pointer {name} must be one of {', '.join(allowed)}, not {value!r}")
            value = value.lower()
        elif isinstance(value, bool) or not isinstance(value, (int, float)) or not allowed[0] <= value <= allowed[1]:
            fail(name, f"pointer {name} must be a number within {allowed[0]:g}..{allowed[1]:g}, not {value!r}")
        out[name] = value
    return out


def _clutch(table: Any, text: str, path: Path, gestures: list[str], prefix: str = "") -> Clutch | None:
    if table is None:
        return None
    fail = _failer(text, path, _table_line(text, rf"\[\s*{prefix}clutch\s*\]"))
    if not isinstance(table, dict):
        fail(None, "clutch must be a table: [clutch] with gesture, hold and seconds")
    _check_fields(table, CLUTCH_FIELDS, "clutch ", fail)
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


