"""The desktop around a run (issue 39), for real: profiles following the focused window of an X server
with a window manager (openbox), sleep releasing the clip and waking on SIGUSR2 and the global hotkey,
the bindings file reloaded (a broken edit refused), the tray's handlers on a running loop, and the
login entry written and removed in a temporary home."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import threading
from pathlib import Path

import cv2
import jsonschema
import pytest

from realtime.actions import (
    BindingsError,
    BindingsFile,
    EventDispatcher,
    ProfiledBindings,
    StreamServer,
    read_bindings_file,
)
from realtime.actions.stream import profile_message
from realtime.core.paths import GESTURE_MODEL
from realtime.desktop import FocusedWindow, TrayMenu, open_focus_reader
from realtime.desktop.tray import start_tray

from conftest import ROOT, SHARED, LineReader, wait_until, xvfb

PALMS = SHARED / "data" / "hagrid_context" / "palm" / "hagrid_380_resize336_palm_00000.jpg"
LABELS = ["call", "dislike", "fist", "like", "no_gesture", "ok", "one", "palm", "peace", "stop"]
PROFILES = """
[[binding]]
name = "default palm"
gesture = "palm"
print = true

[profile.alpha]
match = { title = "HandSignAlpha" }

[[profile.alpha.binding]]
name = "alpha palm"
gesture = "palm"
print = true

[profile.beta]
match = { title = "HandSignBeta" }

[[profile.beta.binding]]
name = "beta palm"
gesture = "palm"
print = true
"""


@pytest.fixture(scope="module")
def palm_clip(tmp_path_factory) -> Path:
    """A real HaGRID scene with a palm, held 1.3 s, then 0.7 s with the hand blurred away, twice."""
    image = cv2.imread(str(PALMS))
    assert image is not None, f"missing {PALMS}"
    blank = cv2.blur(image, (151, 151))
    path = tmp_path_factory.mktemp("clips") / "palms.mp4"
    out = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"mp4v"), 15, image.shape[1::-1])
    for _ in range(2):
        for frame in [image] * 20 + [blank] * 10:
            out.write(frame)
    out.release()
    return path


@pytest.fixture(scope="module")
def desktop():
    """A fresh X server with openbox (an EWMH window manager: it keeps _NET_ACTIVE_WINDOW) and two
    xmessage windows, titled HandSignAlpha and HandSignBeta; yields (display, {title: window id})."""
    for tool in ("openbox", "xmessage"):
        if shutil.which(tool) is None:
            pytest.fail(f"{tool} is missing: install openbox and x11-utils (see .ci/run)")
    with xvfb("1024x768x24") as name:
        env = {**os.environ, "DISPLAY": name}
        procs = [subprocess.Popen(["openbox"], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)]
        try:
            windows = {}
            for title in ("HandSignAlpha", "HandSignBeta"):
                procs.append(subprocess.Popen(["xmessage", "-title", title, title], env=env,
                                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
                found = wait_until(lambda t=title: subprocess.run(
                    ["xdotool", "search", "--name", f"^{t}$"], env=env, capture_output=True, text=True).stdout.split(),
                    timeout=60, what=f"the {title} window")
                windows[title] = found[0]
            wait_until(lambda: "_NET_SUPPORTING_WM_CHECK(WINDOW)" in subprocess.run(
                ["xprop", "-root", "_NET_SUPPORTING_WM_CHECK"], env=env, capture_output=True, text=True).stdout,
                timeout=60, what="openbox managing the screen")
            yield name, windows
        finally:
            for proc in reversed(procs):
                proc.terminate()
                proc.wait(timeout=10)


def activate(display: str, window: str) -> None:
    subprocess.run(["xdotool", "windowactivate", "--sync", window], env={**os.environ, "DISPLAY": display},
                   check=True, timeout=20)


def start_run(display: str, *args: str) -> tuple[subprocess.Popen, LineReader, LineReader]:
    env = {**os.environ, "DISPLAY": display, "PYTHONUNBUFFERED": "1"}
    proc = subprocess.Popen([sys.executable, "-m", "realtime.run", *args], cwd=ROOT, env=env, text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    return proc, LineReader(proc.stdout), LineReader(proc.stderr)


def printed(lines: list[str]) -> list[str]:
    """The names of the print bindings that fired, in order."""
    return [json.loads(line)["name"] for line in lines if line.startswith('{"binding"')]


def stop(proc: subprocess.Popen) -> None:
    proc.terminate()
    try:
        proc.wait(timeout=20)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def test_profiles_follow_the_window_in_front(desktop, palm_clip, tmp_path):
    """The issue's check: alpha's binding while HandSignAlpha is in front, beta's while HandSignBeta
    is, the default one at most once, on held palms played in a loop."""
    display, windows = desktop
    bindings = tmp_path / "profiles.toml"
    bindings.write_text(PROFILES)
    activate(display, windows["HandSignAlpha"])
    proc, out, err = start_run(display, "--source", str(palm_clip), "--loop", "--events-only",
                               "--bindings", str(bindings))
    try:
        out.wait_for(2, 120, lambda line: '"alpha palm"' in line)
        activate(display, windows["HandSignBeta"])
        switch = len(out.lines)
        out.wait_for(2, 120, lambda line: '"beta palm"' in line)
        activate(display, windows["HandSignAlpha"])
        back = len(out.lines)
        out.wait_for(len(printed(out.lines[:back])) + 2, 120, lambda line: line.startswith('{"binding"'))
    finally:
        stop(proc)
    err.rest(10)
    names = printed(out.lines)
    before, during, after = printed(out.lines[:switch]), printed(out.lines[switch:back]), printed(out.lines[back:])
    assert names.count("default palm") <= 1, names
    assert "alpha palm" in before and set(before) <= {"alpha palm", "default palm"}, before
    # a palm that began before the switch may still fire by the profile in front when it began
    assert during.count("beta palm") >= 2 and during[-1] == "beta palm", during
    assert after and after[-1] == "alpha palm" and after.count("alpha palm") >= 2, after
    log = "".join(err.lines)
    assert "profile alpha for 'HandSignAlpha'" in log and "profile beta for 'HandSignBeta'" in log, log[-3000:]


def fds(pid: int) -> set[str]:
    """The files a process holds open (Linux)."""
    out = set()
    for fd in Path(f"/proc/{pid}/fd").iterdir():
        try:
            out.add(os.readlink(fd))
        except OSError:
            pass
    return out


def test_sleep_releases_the_source_and_wakes_on_sigusr2_and_the_hotkey_and_edits_reload(desktop, palm_clip,
                                                                                          tmp_path):
    display, _ = desktop
    bindings = tmp_path / "bindings.toml"
    bindings.write_text('[desktop]\nsleep_hotkey = "ctrl+alt+h"\n\n[[binding]]\nname = "first"\ngesture = "palm"\n'
                        'print = true\n')
    proc, out, err = start_run(display, "--source", str(palm_clip), "--loop", "--headless", "--bindings",
                               str(bindings), "--verbose")
    frames = lambda lines: sum(1 for line in lines if line.startswith('{"frame"'))  # noqa: E731
    try:
        err.wait_for(1, 120, lambda line: "global hotkey ctrl+alt+h" in line)
        out.wait_for(5, 120, lambda line: line.startswith('{"frame"'))
        assert str(palm_clip) in fds(proc.pid)

        proc.send_signal(signal.SIGUSR2)
        err.wait_for(1, 60, lambda line: "asleep:" in line)
        assert str(palm_clip) not in fds(proc.pid)  # the "camera" is closed while asleep
        seen = frames(out.wait_for(10**9, 1.5))  # 1.5 s asleep: no frame may come
        assert frames(out.wait_for(10**9, 1.5)) == seen

        subprocess.run(["xdotool", "key", "ctrl+alt+h"], env={**os.environ, "DISPLAY": display}, check=True)
        err.wait_for(1, 60, lambda line: "awake:" in line)
        out.wait_for(seen + 5, 60, lambda line: line.startswith('{"frame"'))
        assert frames(out.lines) >= seen + 5 and str(palm_clip) in fds(proc.pid)

        bindings.write_text('[[binding]]\nname = "second"\ngesture = "palm"\nprint = true\n')
        err.wait_for(1, 60, lambda line: "bindings reloaded" in line)
        out.wait_for(1, 120, lambda line: '"second"' in line)
        bindings.write_text('[[binding]]\nname = "third"\ngesture = "palmm"\nprint = true\n')
        err.wait_for(1, 60, lambda line: "bindings not reloaded" in line)
        mark = len(out.lines)
        out.wait_for(printed(out.lines).count("second") + 1, 120, lambda line: '"second"' in line)
    finally:
        stop(proc)
    log = "".join(err.rest(10))
    assert "line 3: unknown gesture 'palmm'" in log and "the old ones stay" in log, log[-3000:]
    assert "third" not in printed(out.lines) and printed(out.lines[mark:]), out.lines[-5:]
    assert "going to sleep: the camera is released (SIGUSR2)" in log and "(hotkey ctrl+alt+h)" in log
    assert "Traceback" not in log


class LoopThread:
    """A LiveLoop on a clip in a thread, with a background view: what the tray acts on."""

    def __init__(self, clip: Path, bindings: Path) -> None:
        from contextlib import ExitStack

        from realtime.actions.mouse import MouseDriver, PointerMode
        from realtime.classifier import load_classifier
        from realtime.live import LiveLoop, LiveOptions, open_source
        from realtime.live.controls import BackgroundView, LiveControls
        from realtime.live.recognition import RecognitionOptions, open_pipeline

        self.stack = ExitStack()
        classifier = load_classifier(GESTURE_MODEL, 1)
        file = BindingsFile(bindings, classifier.labels, dry_run=True)
        config, runner = file.load()
        self.dispatcher = EventDispatcher(ProfiledBindings(config), runner, bindings_file=file,
                                          make_pointer=lambda s: PointerMode(MouseDriver(dry_run=True), **s))
        self.source = self.stack.enter_context(open_source(source=clip, loop=True))
        pipeline = open_pipeline(self.stack, self.source, classifier, RecognitionOptions(max_hands=1))
        self.loop = LiveLoop(LiveOptions(headless=True), self.source, pipeline, self.dispatcher)
        self.view = BackgroundView(self.loop, None)
        self.menu = TrayMenu(LiveControls(self.loop, self.dispatcher, self.view))
        self.thread = threading.Thread(target=self.loop.run, args=(self.view,), daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.loop.quit_requested = True
        self.thread.join(timeout=30)
        self.stack.close()


def test_the_trays_menu_acts_on_a_running_loop(palm_clip, tmp_path):
    bindings = tmp_path / "bindings.toml"
    bindings.write_text('[[binding]]\ngesture = "palm"\nprint = true\n\n[pointer]\nregion = 0.5\n')
    run = LoopThread(palm_clip, bindings)
    try:
        wait_until(lambda: run.loop.frames >= 3, 60, what="frames")
        items = {text: (handler, checked, enabled) for text, handler, checked, enabled in run.menu.items()}
        assert list(items) == ["Asleep (camera off)", "Actions on", "Pointer mode", "Show window",
                               "Reload bindings", "Quit"]
        assert items["Actions on"][1]() and not items["Pointer mode"][1]() and items["Pointer mode"][2]()

        run.menu.on_sleep()
        wait_until(lambda: str(palm_clip) not in fds(os.getpid()), 30, what="the clip released")
        asleep_at = run.loop.frames
        assert items["Asleep (camera off)"][1]() and run.menu.controls.tray_state().title() == \
            "HandSign: asleep (camera off)"
        run.menu.on_sleep()
        wait_until(lambda: run.loop.frames > asleep_at + 2, 60, what="frames after waking")
        assert str(palm_clip) in fds(os.getpid())

        assert "paused" in run.menu.on_actions() and run.dispatcher.paused and not items["Actions on"][1]()
        assert run.menu.on_pointer() == "pointer mode on" and run.dispatcher.pointer.settings == {"region": 0.5}
        assert run.menu.controls.tray_state().title() == "HandSign: actions paused, pointer"
        assert run.menu.on_window() == "no display for a window"

        bindings.write_text('[[binding]]\ngesture = "palm"\nprint = 1\n')
        said = run.menu.on_reload()
        assert said.startswith("bindings not reloaded (tray), the old ones stay") and "print must be true" in said
        bindings.write_text('[[binding]]\ngesture = "fist"\nprint = true\n[[binding]]\ngesture = "palm"\nprint = true\n')
        assert "2 bindings" in run.menu.on_reload() and len(run.dispatcher.engine.bindings) == 2
        assert run.dispatcher.pointer.settings == {}  # the reloaded file has no [pointer]

        run.menu.on_quit()
        run.thread.join(timeout=30)
        assert not run.thread.is_alive()
    finally:
        run.close()


def test_without_a_system_tray_the_tray_is_a_warning_and_none(display, caplog, monkeypatch):
    monkeypatch.setenv("DISPLAY", display)
    assert start_tray(object()) is None  # Xvfb runs no tray: nothing is drawn, the run goes on
    assert "no tray icon: this desktop runs no system tray" in caplog.text


def test_profiles_are_chosen_in_file_order_and_inherit(tmp_path):
    path = tmp_path / "b.toml"
    path.write_text("""
[[binding]]
gesture = "palm"
key = "space"

[pointer]
region = 0.6

[profile.slides]
match = { title = "impress|slides", regex = true }
[[profile.slides.binding]]
gesture = "swipe_left"
key = "right"

[profile.browser]
match = { app = "FireFox" }
inherit = true
[profile.browser.pointer]
beta = 0.5
[[profile.browser.binding]]
gesture = "like"
key = "f11"

[profile.video]
match = { class = "mpv" }
""")
    config = read_bindings_file(path, LABELS)
    assert [b.index for b in config.all_bindings] == [1, 2, 3]
    pick = lambda **w: config.profile_for(FocusedWindow(**w)).name  # noqa: E731
    assert pick(title="Talk - LibreOffice Impress") == "slides" and pick(title="Google Slides - firefox") == "slides"
    assert pick(app="firefox", title="news") == "browser" and pick(cls="mpv mpv") == "video"
    assert pick(app="xterm") == "default" and config.profile_for(None).name == "default"
    browser = config.effective(config.profiles[1])
    assert [b.gesture for b in browser.bindings] == ["like", "palm"] and browser.pointer == {"region": 0.6, "beta": 0.5}
    assert config.effective(config.profiles[2]).bindings == ()  # an empty profile: nothing fires there

    # a hold that began under one profile is not fired again by the next; the one in front fires
    windows = iter([FocusedWindow(title="slides"), FocusedWindow(app="firefox")])
    now = [0.0]
    bindings = ProfiledBindings(config, lambda: next(windows), clock=lambda: now[0])
    assert bindings.look().name == "slides"
    now[0] = 1.0
    assert bindings.look().name == "browser"


@pytest.mark.parametrize("text, message", [
    ('[profile.a]\ninherit = true\n', "line 1: profile 'a': needs match"),
    ('[profile.a]\nmatch = { title = "x" }\ncolour = 1\n', "line 3: profile 'a': unknown field 'colour'"),
    ('[profile.a]\nmatch = { name = "x" }\n', "line 2: profile 'a': unknown match key 'name'"),
    ('[profile.a]\nmatch = { title = "(x" }\nregex = true\n', "line 2: profile 'a': match title '(x' is not a regular"),
    ('[profile.default]\nmatch = { title = "x" }\n', "profile 'default': 'default' is the name"),
    ('[profile.a]\nmatch = { title = "x" }\n\n[[profile.a.binding]]\ngesture = "palm"\nkey = "space"\nhold = -1\n',
     "line 7: hold must be a number"),
    ('[profile.a]\nmatch = { title = "x" }\n[profile.a.pointer]\nregion = 7\n', "line 4: pointer region must be"),
    ('[[binding]]\ngesture = "palm"\nprint = true\n[desktop]\nsleep_hotkey = "ctrl+banana"\n',
     "line 5: hotkey 'ctrl+banana': unknown key 'banana'"),
])
def test_bad_profiles_are_refused_with_their_line(tmp_path, text, message):
    path = tmp_path / "b.toml"
    path.write_text(text)
    with pytest.raises(BindingsError, match=None) as err:
        read_bindings_file(path, LABELS)
    assert message in str(err.value), str(err.value)


def test_the_dry_run_names_the_profile_that_would_fire(tmp_path, caplog):
    from realtime.actions import ActionRunner
    from realtime.events.gestures import ActiveGesture

    path = tmp_path / "b.toml"
    path.write_text(PROFILES)
    config = read_bindings_file(path, LABELS)
    stream = StreamServer("127.0.0.1", 0, hello={"labels": LABELS, "swipes": [], "model": None, "frames": False})
    dispatcher = EventDispatcher(ProfiledBindings(config, lambda: FocusedWindow("xmessage", "xmessage", "HandSignBeta")),
                                 ActionRunner(config.all_bindings, path, dry_run=True), stream)

    class Result:
        class frame:
            timestamp_ms, index = 1000, 30

    caplog.set_level("INFO")
    palm = ActiveGesture(0, "palm", "Right", 0, 1000, 0.99, 0.5, 0.5)
    try:
        said = dispatcher.dispatch(Result, [], [palm])
    finally:
        stream.close()
    assert said[0] == "profile beta for 'HandSignBeta' (xmessage, xmessage)" and said[1] == "-> dry run: beta palm"
    assert "would fire beta palm (binding 3) (profile beta)" in caplog.text
    assert stream.hello["profile"] == "beta"  # clients connecting later are told the profile in front
    schema = json.loads((ROOT / "docs" / "stream.schema.json").read_text())
    jsonschema.validate(stream.hello, schema)
    jsonschema.validate(profile_message("beta", FocusedWindow("xmessage", "xmessage", "HandSignBeta")), schema)
    jsonschema.validate(profile_message("default"), schema)


def test_without_a_window_lookup_the_default_bindings_apply_with_one_warning(caplog):
    assert open_focus_reader({"WAYLAND_DISPLAY": "wayland-0"}, "linux") is None
    assert "a Wayland session without XWayland" in caplog.text and "the default bindings apply" in caplog.text


def test_autostart_writes_and_removes_its_entry_in_a_temporary_home(tmp_path, monkeypatch, capsys):
    from handsign.cli import main

    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.delenv("XDG_CONFIG_HOME", raising=False)
    bindings = tmp_path / "gestures.toml"
    bindings.write_text('[[binding]]\ngesture = "palm"\nprint = true\n')
    entry = tmp_path / ".config" / "autostart" / "handsign.desktop"
    monkeypatch.chdir(tmp_path)
    assert main(["autostart", "status"]) == 0 and "not installed" in capsys.readouterr().out
    assert main(["autostart", "enable", "--", "--background", "--bindings", "gestures.toml"]) == 0
    assert f"installed: {entry}" in capsys.readouterr().out
    text = entry.read_text()
    assert f"Exec={sys.executable} -m realtime.run --background --bindings {bindings}\n" in text
    assert main(["autostart", "status"]) == 0
    assert f"runs at login: {sys.executable} -m realtime.run --background --bindings {bindings}" in capsys.readouterr().out
    assert main(["autostart", "disable"]) == 0 and not entry.exists()
    assert main(["autostart", "status"]) == 0 and "not installed" in capsys.readouterr().out
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg"))
    assert main(["autostart", "enable"]) == 0 and (tmp_path / "xdg" / "autostart" / "handsign.desktop").exists()
    with pytest.raises(SystemExit) as bad:
        main(["autostart", "enable", "--", "--bindings", "missing.toml"])
    assert bad.value.code == 2 and "missing.toml does not exist" in capsys.readouterr().err


def test_the_entries_of_macos_and_windows_run_the_same_command():
    import plistlib

    from realtime.desktop.autostart import autostart_entry, parse_desktop_exec

    options = ["--background", "--bindings", "/home/me/my gestures.toml"]
    mac = autostart_entry(options, "darwin", {"HOME": "/Users/me"}, python="/opt/py/bin/python")
    assert mac.path == Path("/Users/me/Library/LaunchAgents/org.handsign.run.plist")
    assert plistlib.loads(mac.text().encode())["ProgramArguments"] == ["/opt/py/bin/python", "-m", "realtime.run",
                                                                        *options]
    win = autostart_entry(options, "win32", {"APPDATA": "C:\\Users\\me\\AppData\\Roaming"}, python="C:\\py\\python.exe")
    assert win.path.name == "HandSign.cmd" and "Startup" in win.path.parts
    assert 'start "" C:\\py\\pythonw.exe -m realtime.run --background --bindings "/home/me/my gestures.toml"' in win.text()
    linux = autostart_entry([*options, "--model", "50%.onnx"], "linux", {"HOME": "/home/me"}, python="/py")
    exec_line = next(line for line in linux.text().splitlines() if line.startswith("Exec="))
    assert '"/home/me/my gestures.toml"' in exec_line and "50%%.onnx" in exec_line
    assert parse_desktop_exec(exec_line[5:]) == list(linux.argv)


def test_a_reload_that_brings_the_first_profiles_starts_looking_at_the_window_in_front(display, tmp_path,
                                                                                         monkeypatch):
    monkeypatch.setenv("DISPLAY", display)
    path = tmp_path / "b.toml"
    path.write_text('[[binding]]\ngesture = "palm"\nprint = true\n')
    file = BindingsFile(path, LABELS, dry_run=True)
    config, runner = file.load()
    dispatcher = EventDispatcher(ProfiledBindings(config), runner, bindings_file=file)
    assert dispatcher.bindings.focus is None  # no profiles: no window lookups
    path.write_text(PROFILES)
    assert "2 profiles" in dispatcher.reload()
    assert dispatcher.bindings.focus is not None and dispatcher.profile == "default"  # Xvfb: no window in front
    dispatcher.close()
