"""What stops a runaway action, on real processes: the dry run, the kill switch (SIGUSR1), a command's
timeout, one run per binding at a time, programs missing from PATH, no replay after a pause, and the
plain error when keys have no display to go to."""

import json
import logging
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from realtime.actions import ActionRunner, BindingEngine, BindingsError, EventDispatcher, load_bindings
from realtime.core.contract import HAGRID_LABELS, NO_GESTURE
from realtime.events.gestures import GestureDetector, HandObservation
from realtime.events.options import GestureOptions

from conftest import CLIPS, ROOT, LineReader, python, require_fixtures, wait_until

LABELS = HAGRID_LABELS + (NO_GESTURE,)
CLIP = {p.name: p for p in CLIPS}
APPEND = "import os, sys; open(sys.argv[1], 'a').write(os.environ['HANDSIGN_GESTURE'] + '\\n')"


def bindings_file(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "bindings.toml"
    path.write_text(text)
    return path


def command(*argv: str) -> str:
    return json.dumps([sys.executable, "-c", *argv])


def runner_for(tmp_path: Path, text: str, dry_run: bool = False) -> tuple[ActionRunner, list]:
    path = bindings_file(tmp_path, text)
    bindings = load_bindings(path, LABELS)
    return ActionRunner(bindings, path, dry_run), bindings


def firing_of(bindings, gesture="swipe_up"):
    """A real firing from the engine: a swipe event through the binding engine."""
    from realtime.events.gestures import GestureEvent
    event = GestureEvent("swipe", gesture, "Right", 0, 0.9, 0.5, 0.5, 1000, 0, 1, distance=2.0)
    fired = BindingEngine(bindings).update(1000, [event], [])
    assert len(fired) == 1
    return fired[0]


def test_dry_run_logs_every_firing_and_runs_nothing(tmp_path):
    require_fixtures()
    marker = tmp_path / "ran.txt"
    path = bindings_file(tmp_path, f'[[binding]]\ngesture = "swipe_up"\ncommand = {command(APPEND, str(marker))}\n'
                                   f'\n[[binding]]\ngesture = "swipe_down"\ncommand = {command(APPEND, str(marker))}\n')
    result = python("-m", "realtime.run", "--source", str(CLIP["swipe2_up_down.mp4"]), "--events-only",
                    "--model", "none", "--bindings", str(path), "--dry-run")
    assert result.returncode == 0, result.stderr[-2000:]
    swipes = [json.loads(l) for l in result.stdout.splitlines()]
    assert [s["gesture"] for s in swipes] == ["swipe_down", "swipe_up"]
    would = [l for l in result.stderr.splitlines() if "dry run: would fire" in l]
    assert len(would) == 2 and all(sys.executable in l for l in would), result.stderr[-2000:]
    assert not marker.exists()  # nothing ran
    assert "fired " not in result.stderr


def test_sigusr1_pauses_and_resumes_every_binding(tmp_path):
    """A real run, paused and resumed by signals: while paused nothing fires (it is logged and dropped);
    after the resume it fires again; the command ran exactly as often as the log says it fired."""
    require_fixtures()
    marker = tmp_path / "ran.txt"
    path = bindings_file(tmp_path, f'[[binding]]\ngesture = "swipe_up"\ncommand = {command(APPEND, str(marker))}\n'
                                   'cooldown = 0\n\n'
                                   f'[[binding]]\ngesture = "swipe_down"\ncommand = {command(APPEND, str(marker))}\n'
                                   'cooldown = 0\n')
    proc = subprocess.Popen([sys.executable, "-m", "realtime.run", "--source", str(CLIP["swipe2_up_down.mp4"]),
                             "--loop", "--events-only", "--model", "none", "--bindings", str(path)],
                            cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, stdin=subprocess.DEVNULL,
                            text=True)
    log = LineReader(proc.stderr)
    try:
        assert log.wait_for(1, 60, lambda l: "kill switch" in l), "".join(log.lines)[-2000:]
        proc.send_signal(signal.SIGUSR1)
        log.wait_for(2, 90, lambda l: "paused: not firing" in l)
        proc.send_signal(signal.SIGUSR1)
        log.wait_for(1, 90, lambda l: "actions resumed" in l)
        resumed = next(i for i, l in enumerate(log.lines) if "actions resumed" in l)
        wait_until(lambda: any("fired " in l for l in log.rest(timeout=0.5)[resumed:]), 90,
                   what="a firing after the resume")
    finally:
        proc.terminate()
        proc.wait(timeout=30)
    text = "".join(log.rest(timeout=10))
    before, rest = text.split("actions paused", 1)
    paused, after = rest.split("actions resumed", 1)
    assert "fired " not in paused and paused.count("paused: not firing") >= 2, paused
    assert "fired " in after
    fired = text.count("fired ")
    wait_until(lambda: marker.is_file() and len(marker.read_text().splitlines()) == fired, 10,
               what=f"{fired} command runs")
    assert "Traceback" not in text


def test_a_command_past_its_timeout_is_killed(tmp_path, caplog):
    pidfile = tmp_path / "pid"
    sleeper = "import os, sys, time; open(sys.argv[1], 'w').write(str(os.getpid())); time.sleep(120)"
    runner, bindings = runner_for(tmp_path, f'[[binding]]\ngesture = "swipe_up"\n'
                                            f'command = {command(sleeper, str(pidfile))}\ntimeout = 1\n')
    caplog.set_level(logging.WARNING)
    started = time.monotonic()
    runner.fire(firing_of(bindings))
    pid = int(wait_until(lambda: pidfile.is_file() and pidfile.read_text(), 30, what="the command to start"))
    wait_until(lambda: "ran past its timeout of 1 s: killed" in caplog.text, 30, what="the kill")
    killed_after = time.monotonic() - started
    with pytest.raises(ProcessLookupError):  # gone, and reaped: not even a zombie left
        os.kill(pid, 0)
    # the command sleeps 120 s: killed well before, so it was the 1 s timeout (slack for a busy machine)
    assert 1.0 <= killed_after < 15, killed_after
    runner.close()


def test_one_run_per_binding_at_a_time(tmp_path):
    marker, release = tmp_path / "runs.txt", tmp_path / "release"
    slow = ("import os, sys, time; open(sys.argv[1], 'a').write('run\\n')\n"
            "while not os.path.exists(sys.argv[2]): time.sleep(0.05)")
    runner, bindings = runner_for(tmp_path, f'[[binding]]\ngesture = "swipe_up"\n'
                                            f'command = {command(slow, str(marker), str(release))}\n')
    firing = firing_of(bindings)
    try:
        assert runner.fire(firing).startswith("swipe_up -> command")
        wait_until(marker.is_file, 30, what="the first run")
        assert runner.fire(firing).endswith("(still running)")  # not started a second time
        assert runner.fire(firing).endswith("(still running)")
        release.write_text("")
        wait_until(lambda: not runner._busy, 30, what="the first run to end")
        assert not runner.fire(firing).endswith("(still running)")  # free again: it starts
        wait_until(lambda: marker.read_text().count("run") == 2, 30, what="the second run")
    finally:
        release.write_text("")  # never leave a command waiting
        runner.close()
    assert marker.read_text().count("run") == 2


def test_a_program_not_on_path_is_an_error_or_with_dry_run_a_warning(tmp_path, caplog):
    text = '[[binding]]\ngesture = "swipe_up"\ncommand = ["handsign-no-such-program", "--now"]\n'
    with pytest.raises(BindingsError, match="command 'handsign-no-such-program' not found on PATH"):
        runner_for(tmp_path, text)
    caplog.set_level(logging.WARNING)
    runner, _ = runner_for(tmp_path, text, dry_run=True)
    assert "not found on PATH" in caplog.text
    runner.close()
    require_fixtures()
    path = bindings_file(tmp_path, text)
    result = python("-m", "realtime.run", "--source", str(CLIPS[0]), "--events-only", "--model", "none",
                    "--bindings", str(path), "--max-frames", "2")
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert result.stderr.strip().splitlines()[-1].startswith("error: ") and "not found on PATH" in result.stderr


def test_a_held_gesture_is_not_replayed_after_resume(tmp_path):
    """Paused while a gesture starts and is held: resuming does not fire that hold late; the next
    hold fires as usual."""
    marker = tmp_path / "ran.txt"
    runner, bindings = runner_for(tmp_path, f'[[binding]]\ngesture = "palm"\nhold = 0.5\n'
                                            f'command = {command(APPEND, str(marker))}\ncooldown = 0\n')
    dispatcher = EventDispatcher(BindingEngine(bindings), runner)
    gestures = GestureDetector(GestureOptions(hold_every_ms=0))

    class Result:  # what the dispatcher reads of a frame
        def __init__(self, t, i):
            self.frame = type("F", (), {"timestamp_ms": t, "index": i})()

        def to_json(self):
            return {}

    said = []
    step, t = 33, 0
    script = [("palm", False)] * 10 + [("palm", True)] * 40 + [("palm", False)] * 30 + [(None, False)] * 20 \
        + [("palm", False)] * 40
    for i, (label, pause) in enumerate(script):
        if pause != dispatcher.paused:
            dispatcher.toggle()
        hands = [] if label is None else [HandObservation(0, "Right", label, 0.9, (320.0, 240.0), 100.0)]
        events = gestures.update(t, hands, 640, 480, i)
        said += [(i, s) for s in dispatcher.dispatch(Result(t, i), events, gestures.active)]
        t += step
    runner.close()
    # the first hold reached 0.5 s while paused (frame ~25): never fired, not on resume (frame 50) either
    assert [i for i, _ in said] and all(i >= 100 for i, _ in said), said
    assert len(said) == 1
    wait_until(lambda: marker.is_file() and marker.read_text() == "palm\n", 10, what="the second hold's run")


@pytest.mark.parametrize("env_unset,env", [(("DISPLAY", "WAYLAND_DISPLAY"), {}),
                                           (("DISPLAY",), {"WAYLAND_DISPLAY": "wayland-0"})],
                         ids=["no display", "wayland without x"])
def test_key_bindings_without_a_display_are_one_plain_error(tmp_path, env_unset, env):
    require_fixtures()
    path = bindings_file(tmp_path, '[[binding]]\ngesture = "swipe_left"\nkey = "right"\n')
    result = python("-m", "realtime.run", "--source", str(CLIPS[0]), "--events-only", "--model", "none",
                    "--bindings", str(path), env=env, unset=env_unset)
    assert result.returncode == 2 and "Traceback" not in result.stderr
    last = result.stderr.strip().splitlines()[-1]
    if env:
        assert last.startswith("error: key bindings cannot work here: this is a Wayland session"), last
    else:
        assert last.startswith("error: key bindings need a display to send keys to (DISPLAY is not set)"), last
