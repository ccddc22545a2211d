"""Each frame's events -> everything that acts on them: the stream, OSC, the pointer and the bindings of the
profile in front, with the kill switch (the window's `a`, or SIGUSR1) that pauses every action at once,
and the bindings file reloaded when it changes."""

from __future__ import annotations

import logging
import os
import signal
import threading
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from realtime.actions.bindings import BindingEngine
from realtime.actions.bindings_file import read_bindings_file
from realtime.actions.mouse import PointerMode
from realtime.actions.osc import OscSender
from realtime.actions.profiles import BindingsConfig, Profile, ProfiledBindings
from realtime.actions.runner import ActionRunner
from realtime.actions.stream import StreamServer, event_message, frame_message, profile_message
from realtime.core.errors import HandSignError
from realtime.desktop.focus import FocusReader, open_focus_reader
from realtime.events.gestures import ActiveGesture, GestureEvent

log = logging.getLogger(__name__)
#: how often the bindings file is checked for changes, in seconds
RELOAD_EVERY_S = 1.0


class BindingsFile:
    """The bindings file behind a run: read (with its runner) and watched for changes."""

    def __init__(self, path: Path, labels: Sequence[str], dry_run: bool = False) -> None:
        self.path, self.labels, self.dry_run = Path(path), list(labels), dry_run
        self._seen = self._stamp()

    def _stamp(self) -> tuple[int, int] | None:
        try:
            st = self.path.stat()
        except OSError:
            return None
        return st.st_mtime_ns, st.st_size

    def changed(self) -> bool:
        """Whether the file changed since it was last read (or last looked at)."""
        stamp = self._stamp()
        if stamp == self._seen or stamp is None:
            return False  # a file being replaced can be missing for a moment: wait for it
        self._seen = stamp
        return True

    def load(self) -> tuple[BindingsConfig, ActionRunner]:
        """The file's bindings and a runner for them; raises BindingsError (or HandSignError) naming the line."""
        self._seen = self._stamp()
        config = read_bindings_file(self.path, self.labels)
        return config, ActionRunner(config.all_bindings, self.path, self.dry_run)


class EventDispatcher:
    """Streams every event, and fires the bindings they trigger unless paused.

    ``dispatch`` takes a frame's result (anything with ``frame.timestamp_ms``, ``frame.index`` and
    ``to_json()``), its events and the gestures being held; it returns what to tell the user. The
    tray's thread and signal handlers call the toggles; a re-entrant lock keeps them between frames.
    """

    def __init__(self, engine: BindingEngine | ProfiledBindings | None = None, runner: ActionRunner | None = None,
                 stream: StreamServer | None = None, osc: OscSender | None = None,
                 serve_frames: bool = False, pointer: PointerMode | None = None,
                 bindings_file: BindingsFile | None = None,
                 make_pointer: Callable[[dict[str, Any]], PointerMode] | None = None,
                 clock: Callable[[], float] = time.monotonic) -> None:
        if (engine is None) != (runner is None):
            raise ValueError("bindings need both their engine and their runner")
        if isinstance(engine, BindingEngine):
            engine = ProfiledBindings.single(engine)
        self.bindings, self.runner, self.stream, self.osc = engine, runner, stream, osc
        self.pointer = pointer
        self.pointer_on = pointer is not None
        self.make_pointer = make_pointer
        self.serve_frames = serve_frames
        self.bindings_file = bindings_file
        self.clock = clock
        self.paused = False
        self._pending: list[str] = []  # said outside a frame (SIGUSR1, the tray), shown with the next one
        self._lock = threading.RLock()
        self._next_reload_check = clock() + RELOAD_EVERY_S
        self._opened_focus: FocusReader | None = None  # a window lookup a reload opened (closed at the end)

    @property
    def engine(self) -> BindingEngine | None:
        """The binding engine of the profile in front (None without bindings)."""
        return self.bindings.engine if self.bindings is not None else None

    @property
    def pointer_available(self) -> bool:
        """Whether pointer mode is on or can be turned on."""
        return self.pointer is not None or self.make_pointer is not None

    @property
    def profile(self) -> str | None:
        """The profile in front, where the bindings file has profiles."""
        if self.bindings is None or not self.bindings.config.profiles:
            return None
        return self.bindings.current.name

    def dispatch(self, result: Any, events: Sequence[GestureEvent], active: Sequence[ActiveGesture]) -> list[str]:
        """Send one frame's events to every receiver: bindings, pointer, stream and OSC."""
        with self._lock:
            return self._dispatch(result, events, active)

    def _dispatch(self, result: Any, events: Sequence[GestureEvent], active: Sequence[ActiveGesture]) -> list[str]:
        self._watch_file()
        self._follow_focus()
        for event in events:
            if self.stream is not None:
                self.stream.publish(event_message(event))
            if self.osc is not None:
                self.osc.send(event)
        if self.stream is not None and self.serve_frames:
            self.stream.publish(frame_message({**result.to_json(), "events": [e.to_json() for e in events]}))
        said, self._pending = self._pending, []
        if self.pointer is not None:
            if self.paused or not self.pointer_on:
                self.pointer.stop()
            else:
                self.pointer.frame(result, events)
        if self.bindings is None:
            return said
        for firing in self.bindings.update(result.frame.timestamp_ms, list(events), list(active), result.frame.index):
            where = f" (profile {self.profile})" if self.profile else ""
            if self.paused:
                log.info("paused: not firing %s%s", firing.binding.describe(), where)
                continue
            said.append(f"-> {self.runner.fire(firing, where)}")
        return said

    def _follow_focus(self) -> None:
        """Switch profiles when the window in front asks for another one."""
        if self.bindings is None:
            return
        profile = self.bindings.look()
        if profile is not None:
            self._switched(profile)

    def _switched(self, profile: Profile) -> None:
        window = self.bindings.window
        text = f"profile {profile.name}" + (f" for {window.describe()}" if window is not None else "")
        log.info("%s: %d bindings", text, len(profile.bindings))
        self._pending.append(text)
        if self.stream is not None:
            self.stream.update_hello(profile=profile.name)
            self.stream.publish(profile_message(profile.name, window))
        if self.pointer is not None:
            self.pointer.configure(profile.pointer)

    def _watch_file(self) -> None:
        now = self.clock()
        if self.bindings_file is None or now < self._next_reload_check:
            return
        self._next_reload_check = now + RELOAD_EVERY_S
        if self.bindings_file.changed():
            self._pending.append(self.reload("the file changed"))

    def reload(self, why: str = "asked") -> str:
        """Read the bindings file again; a bad file is refused and the old bindings stay."""
        with self._lock:
            if self.bindings_file is None:
                return "no --bindings file to reload"
            try:
                config, runner = self.bindings_file.load()
            except HandSignError as exc:
                text = f"bindings not reloaded ({why}), the old ones stay: {exc}"
                log.error("%s", text)
                return text
            old = self.runner
            focus = self.bindings.focus if self.bindings is not None else None
            if config.profiles and focus is None:  # the first profiles of this run: the window in front matters now
                focus = self._opened_focus = open_focus_reader()
            self.bindings = ProfiledBindings(config, focus if config.profiles else None)
            self.runner = runner
            if old is not None:
                old.close()
            text = (f"bindings reloaded ({why}): {len(config.all_bindings)} bindings, "
                    f"{len(config.profiles)} profiles from {self.bindings_file.path}")
            log.info("%s", text)
            if self.bindings.focus is not None:
                profile = self.bindings.look(force=True)
                if profile is not None:
                    self._switched(profile)
            if self.pointer is not None:
                self.pointer.configure(self.bindings.current.pointer)
            return text

    def toggle(self) -> str:
        """The kill switch: pause or resume every binding at once; returns (and logs) what happened."""
        with self._lock:
            if self.bindings is None and self.pointer is None:
                text = "no --bindings or --pointer: nothing to pause"
            else:
                self.paused = not self.paused
                if self.paused and self.pointer is not None:
                    self.pointer.stop()
                text = ("actions paused: nothing fires, the pointer stays (a resumes)" if self.paused
                        else "actions resumed")
            log.info(text)
            return text

    def toggle_pointer(self) -> str:
        """Pointer mode on or off (made on first use where the run began without ``--pointer``)."""
        with self._lock:
            if self.pointer is None:
                if self.make_pointer is None:
                    return "pointer mode cannot be had here"
                settings = self.bindings.current.pointer if self.bindings is not None else {}
                try:
                    self.pointer = self.make_pointer(settings)
                except HandSignError as exc:
                    log.error("%s", exc)
                    return f"pointer mode cannot be had here: {exc}"
            self.pointer_on = not self.pointer_on
            if not self.pointer_on:
                self.pointer.stop()
            text = f"pointer mode {'on' if self.pointer_on else 'off'}"
            log.info(text)
            return text

    def status(self) -> str | None:
        """The window's actions line; None without bindings."""
        if self.bindings is None and self.pointer is None:
            return None
        what = "actions" + (" + POINTER" if self.pointer is not None and self.pointer_on else "")
        if self.profile:
            what += f" [{self.profile}]"
        if self.paused:
            return f"{what} PAUSED (a resumes)"
        dry = self.runner.dry_run if self.runner is not None else self.pointer.driver.dry_run
        dwell = self.pointer.mapper.dwell_left_ms if self.pointer is not None and self.pointer_on else None
        countdown = f"  dwell click in {dwell / 1000:.1f} s" if dwell is not None else ""
        return (f"{what}: dry run (a pauses)" if dry else f"{what} on (a pauses)") + countdown

    def rest(self) -> None:
        """Asleep: let go of the pointer's button; the profiles are looked up again on waking."""
        with self._lock:
            if self.pointer is not None:
                self.pointer.stop()

    def install_signal(self) -> None:
        """SIGUSR1 toggles the kill switch too (where the platform has it), e.g. from a desktop shortcut."""
        if (self.bindings is not None or self.pointer is not None) and hasattr(signal, "SIGUSR1"):
            signal.signal(signal.SIGUSR1, lambda *_: self._pending.append(self.toggle()))
            log.info("kill switch: 'a' in the window, or kill -USR1 %d", os.getpid())

    def close(self) -> None:
        """Stop the receivers (the pointer lets go of its button)."""
        if self.pointer is not None:
            self.pointer.stop()
        if hasattr(self._opened_focus, "close"):
            self._opened_focus.close()
        if self.runner is not None:
            self.runner.close()
