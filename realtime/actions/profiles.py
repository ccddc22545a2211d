"""Per-application profiles: the bindings file's ``[profile.NAME]`` tables, chosen by the window in front.

    [profile.browser]
    match = { app = "firefox" }   # app: process name, class: window class, title: window title
    inherit = true                # the default bindings apply too, under the profile's own

    [[profile.browser.binding]]
    gesture = "like"
    key = "f11"

While a profile matches the focused window its bindings are used instead of the default ones (those
outside any profile); the first matching profile in file order wins; a profile without bindings
turns them off for its windows. A binding fires by the profile in front when its event comes.
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from realtime.actions.bindings import Binding, BindingEngine, Clutch, Firing
from realtime.desktop.focus import FocusedWindow, FocusReader
from realtime.events.gestures import ActiveGesture, GestureEvent

log = logging.getLogger(__name__)
#: the name of the bindings outside any profile
DEFAULT_PROFILE = "default"
#: the global hotkey that puts HandSign to sleep and wakes it, unless the file's [desktop] names another
DEFAULT_SLEEP_HOTKEY = "ctrl+alt+h"
#: how often the focused window is looked up, in seconds
FOCUS_EVERY_S = 0.25


@dataclass(frozen=True)
class WindowMatch:
    """Which windows a profile is for: every given key must match (case-insensitive substrings, or
    regular expressions searched anywhere with ``regex``)."""

    app: str | None = None
    cls: str | None = None
    title: str | None = None
    regex: bool = False

    def matches(self, window: FocusedWindow) -> bool:
        """Whether ``window`` is one of the profile's."""
        for want, have in ((self.app, window.app), (self.cls, window.cls), (self.title, window.title)):
            if want is None:
                continue
            if self.regex:
                if not re.search(want, have, re.IGNORECASE):
                    return False
            elif want.lower() not in have.lower():
                return False
        return True

    def describe(self) -> str:
        """``title ~ 'Slides'`` for the log."""
        parts = [f"{k} {'~' if self.regex else 'has'} {v!r}" for k, v in
                 (("app", self.app), ("class", self.cls), ("title", self.title)) if v is not None]
        return " and ".join(parts)


@dataclass(frozen=True)
class Profile:
    """Bindings, clutch and pointer settings for some windows (or, as ``default``, for the rest)."""

    name: str
    bindings: tuple[Binding, ...] = ()
    clutch: Clutch | None = None
    pointer: dict[str, Any] = field(default_factory=dict, hash=False)
    match: WindowMatch | None = None  # None: the default profile
    inherit: bool = False  # the default bindings (and clutch, if it has none) apply under its own
    line: int | None = None


@dataclass(frozen=True)
class DesktopSettings:
    """The bindings file's ``[desktop]`` table."""

    #: the global sleep/wake hotkey, a chord such as "ctrl+alt+h"; "" turns it off
    sleep_hotkey: str = DEFAULT_SLEEP_HOTKEY
    #: whether the file names the hotkey (then it listens in headless runs too)
    sleep_hotkey_written: bool = False


@dataclass(frozen=True)
class BindingsConfig:
    """A whole bindings file: the default profile, the named ones in file order, the desktop settings."""

    default: Profile
    profiles: tuple[Profile, ...] = ()
    desktop: DesktopSettings = field(default_factory=DesktopSettings)

    @property
    def all_bindings(self) -> list[Binding]:
        """Every binding of the file, each once (their indices are unique)."""
        return list(self.default.bindings) + [b for p in self.profiles for b in p.bindings]

    @property
    def right_click(self) -> bool:
        """Whether anything asks for the right click: a ``[pointer] right_click = true`` or a binding on it."""
        return (any(p.pointer.get("right_click") for p in (self.default, *self.profiles))
                or any(b.gesture == "right_click" for b in self.all_bindings))

    def effective(self, profile: Profile) -> Profile:
        """The profile as it acts: inherited bindings added under its own, the default clutch if it
        inherits and has none, its pointer settings over the default ones."""
        if profile.match is None:
            return profile
        bindings = profile.bindings + (self.default.bindings if profile.inherit else ())
        clutch = profile.clutch or (self.default.clutch if profile.inherit else None)
        return Profile(profile.name, bindings, clutch, {**self.default.pointer, **profile.pointer}, profile.match,
                       profile.inherit, profile.line)

    def profile_for(self, window: FocusedWindow | None) -> Profile:
        """The first profile matching ``window`` in file order, else the default one."""
        if window is not None:
            for p in self.profiles:
                if p.match is not None and p.match.matches(window):
                    return p
        return self.default


class ProfiledBindings:
    """One binding engine per profile, all fed every frame (so a hold that began under one profile is
    not fired again by the next); only the firings of the profile in front are returned."""

    def __init__(self, config: BindingsConfig, focus: FocusReader | None = None,
                 clock: Callable[[], float] = time.monotonic, focus_every_s: float = FOCUS_EVERY_S) -> None:
        self.config, self.focus, self.clock, self.focus_every_s = config, focus, clock, focus_every_s
        self.profiles = {p.name: config.effective(p) for p in (config.default, *config.profiles)}
        self.engines = {name: BindingEngine(list(p.bindings), p.clutch) for name, p in self.profiles.items()}
        self.current = self.profiles[DEFAULT_PROFILE]
        self.window: FocusedWindow | None = None
        self._next_look = 0.0

    @classmethod
    def single(cls, engine: BindingEngine) -> ProfiledBindings:
        """Just one engine's bindings, as the default profile (no profiles, no focus lookups)."""
        made = cls(BindingsConfig(Profile(DEFAULT_PROFILE, tuple(engine.bindings), engine.clutch)))
        made.engines[DEFAULT_PROFILE] = engine
        return made

    @property
    def engine(self) -> BindingEngine:
        """The engine of the profile in front."""
        return self.engines[self.current.name]

    def look(self, force: bool = False) -> Profile | None:
        """Look up the window in front (at most every ``focus_every_s``); the new profile if it changed."""
        now = self.clock()
        if self.focus is None or (now < self._next_look and not force):
            return None
        self._next_look = now + self.focus_every_s
        window = self.focus()
        if window is None:
            return None  # no window has the focus (a desktop click, a window closing): keep the profile
        self.window = window
        profile = self.profiles[self.config.profile_for(window).name]
        if profile.name == self.current.name:
            return None
        self.current = profile
        return profile

    def update(self, t_ms: int, events: Sequence[GestureEvent], active: Sequence[ActiveGesture],
               frame: int | None = None) -> list[Firing]:
        """What fires this frame, by the profile in front."""
        fired: list[Firing] = []
        for name, engine in self.engines.items():
            engine.quiet = name != self.current.name
            found = engine.update(t_ms, list(events), list(active), frame)
            if name == self.current.name:
                fired = found
        return fired
