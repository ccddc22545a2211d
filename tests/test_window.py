"""The real OpenCV window under Xvfb, driven with xdotool: crop view, snapshot, quit."""

import json
import os
import shutil
import subprocess
import sys
import time

import cv2
import numpy as np
import pytest

from conftest import CLIPS, PHOTOS, ROOT, require_fixtures

CLIPS_BY_NAME = {p.name: p for p in CLIPS}


@pytest.fixture(scope="module")
def display():
    if not sys.platform.startswith("linux"):
        pytest.skip("the window test drives an X server (Xvfb); it runs on Linux")
    for tool in ("Xvfb", "xdotool", "import", "xdpyinfo"):
        if shutil.which(tool) is None:
            pytest.fail(f"{tool} is missing: install xvfb, xdotool, imagemagick and x11-utils (see .ci/run)")
    read, write = os.pipe()
    server = subprocess.Popen(["Xvfb", "-displayfd", str(write), "-screen", "0", "1024x768x24", "-nolisten", "tcp"],
                              pass_fds=(write,), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    os.close(write)
    number = b""
    while not number.endswith(b"\n"):  # Xvfb writes the number and the newline separately:
        chunk = os.read(read, 16)      # closing the pipe before both arrive kills it (EPIPE)
        if not chunk:
            break
        number += chunk
    os.close(read)
    name = f":{number.decode().strip()}"
    for _ in range(50):  # Xvfb announces its number before every client can connect
        if subprocess.run(["xdpyinfo", "-display", name], capture_output=True).returncode == 0:
            break
        if server.poll() is not None:
            pytest.fail(f"Xvfb exited with code {server.returncode}: {server.stderr.read()[-1500:]}")
        time.sleep(0.1)
    else:
        pytest.fail(f"Xvfb display {name} never accepted a connection")
    yield name
    server.terminate()
    server.wait(timeout=10)


def screenshot(window: str, env: dict) -> np.ndarray:
    png = subprocess.run(["import", "-window", window, "png:-"], env=env, capture_output=True, check=True).stdout
    return cv2.imdecode(np.frombuffer(png, np.uint8), cv2.IMREAD_COLOR)


def key(window: str, name: str, env: dict) -> None:
    subprocess.run(["xdotool", "key", "--window", window, name], env=env, check=True, capture_output=True)
    time.sleep(0.8)


def open_window(env: dict, *args: str) -> tuple[subprocess.Popen, str]:
    """Start `realtime.run ARGS` and wait for its window; returns the process and the window id."""
    app = subprocess.Popen([sys.executable, "-m", "realtime.run", *args],
                           env=env, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    found = subprocess.run(["timeout", "60", "xdotool", "search", "--sync", "--name", "^HandSign$"],
                           env=env, capture_output=True, text=True)
    if found.returncode != 0:
        app.kill()
        pytest.fail(app.stderr.read()[-2000:] if app.poll() is not None else "no window")
    time.sleep(2)
    return app, found.stdout.split()[0]


def test_window_keys_crop_view_snapshot_and_quit(display, hagrid_shaped_model, tmp_path):
    require_fixtures()
    env = {**os.environ, "DISPLAY": display}
    snaps = tmp_path / "snaps"
    app, window = open_window(env, "--source", str(PHOTOS[0]), "--loop", "--model", str(hagrid_shaped_model),
                              "--snapshot-dir", str(snaps))
    try:
        key(window, "space", env)  # pause: the frame stays, only what we toggle changes
        before = screenshot(window, env)
        key(window, "c", env)
        after = screenshot(window, env)
        key(window, "x", env)  # the activation map over the crop view
        mapped = screenshot(window, env)
        key(window, "x", env)
        key(window, "s", env)
        key(window, "q", env)
        code = app.wait(timeout=30)
        stderr = app.stderr.read()
    finally:
        if app.poll() is None:
            app.kill()
    assert code == 0, stderr[-2000:]
    assert "Traceback" not in stderr

    assert before.shape == after.shape
    changed = np.any(cv2.absdiff(before, after) > 30, axis=2)
    ys, xs = np.nonzero(changed)
    assert changed.sum() > 40 * 40, "the crop view did not change the window"
    # the crop view sits in the top-right corner: nearly all the change is there
    assert np.mean(xs > before.shape[1] * 0.5) > 0.9 and np.mean(ys < before.shape[0] * 0.75) > 0.9
    # 'x' paints the map over the crop tile only: every changed pixel lies inside the crop view's change
    heat = np.any(cv2.absdiff(after, mapped) > 30, axis=2)
    assert heat.sum() > 20 * 20, "'x' did not draw a map over the crop view"
    hy, hx = np.nonzero(heat)
    assert xs.min() - 3 <= hx.min() and hx.max() <= xs.max() + 3 and ys.min() - 3 <= hy.min() \
        and hy.max() <= ys.max() + 3, "'x' changed the window outside the crop view"

    frames = list(snaps.glob("*_frame.png"))
    assert len(frames) == 1, list(snaps.iterdir())
    stem = frames[0].name[: -len("_frame.png")]
    predictions = json.loads((snaps / f"{stem}_predictions.json").read_text())
    assert len(predictions["hands"]) == 1 and predictions["hands"][0]["top3"]
    crop = cv2.imread(str(snaps / f"{stem}_crop0.png"))
    x0, y0, x1, y1 = predictions["hands"][0]["box"]  # the model's framing: the grown hand box
    assert crop is not None and abs(crop.shape[0] - (y1 - y0)) <= 2 and abs(crop.shape[1] - (x1 - x0)) <= 2
    assert cv2.imread(str(frames[0])) is not None
    assert "snapshot saved" in stderr


def test_teach_mode_records_trains_and_switches_model(display, tmp_path):
    """t, type a name, hold r, enter: crops on disk, taught.onnx written, the window uses it at once."""
    require_fixtures()
    env = {**os.environ, "DISPLAY": display}
    teach, snaps = tmp_path / "teach", tmp_path / "snaps"
    # one hand, no tile search: OpenCV keeps only the last key pressed between two frames, so
    # the keys below must not come faster than frames
    app, window = open_window(env, "--source", str(PHOTOS[2]), "--loop", "--max-hands", "1", "--no-tiles",
                              "--teach-dir", str(teach), "--snapshot-dir", str(snaps))
    try:
        key(window, "t", env)
        subprocess.run(["xdotool", "key", "--window", window, "--delay", "700", "w", "a", "v", "e"], env=env,
                       check=True, capture_output=True)
        key(window, "Return", env)
        # hold r: the key repeats, as X auto-repeat does for a held key
        subprocess.run(["xdotool", "key", "--window", window, "--delay", "100", "--repeat", "30", "r"],
                       env=env, check=True, capture_output=True)
        time.sleep(1)
        recorded = sorted((teach / "wave").glob("*.png"))
        assert len(recorded) >= 5, recorded
        key(window, "Return", env)  # train
        for _ in range(120):
            if (teach / "taught.onnx").exists():
                break
            time.sleep(0.5)
        time.sleep(3)
        key(window, "Escape", env)  # leave teach mode (does not quit)
        key(window, "s", env)
        key(window, "q", env)
        code = app.wait(timeout=60)
        stderr = app.stderr.read()
    finally:
        if app.poll() is None:
            app.kill()
    assert code == 0 and "Traceback" not in stderr, stderr[-3000:]
    assert "now using" in stderr, stderr[-3000:]
    assert cv2.imread(str(recorded[0])) is not None
    predictions = json.loads(next(snaps.glob("*_predictions.json")).read_text())
    assert predictions["hands"][0]["label"] == "wave", predictions  # the taught gesture, on its own photo


def test_key_binding_presses_the_key_in_another_x_client(display, tmp_path):
    """A swipe on a real clip presses the bound chord; xev, a real X client, receives it."""
    require_fixtures()
    if shutil.which("xev") is None:
        pytest.fail("xev is missing: install x11-utils (see .ci/run)")
    env = {**os.environ, "DISPLAY": display}
    bindings = tmp_path / "keys.toml"
    bindings.write_text('[[binding]]\ngesture = "swipe_left"\nkey = "ctrl+alt+right"\n\n'
                        '[[binding]]\ngesture = "swipe_right"\nkey = "b"\n')
    log = (tmp_path / "xev.log").open("w")
    xev = subprocess.Popen(["xev", "-geometry", "300x200+0+0", "-event", "keyboard"], env=env, stdout=log,
                           stderr=subprocess.STDOUT)
    try:
        found = subprocess.run(["timeout", "20", "xdotool", "search", "--sync", "--name", "Event Tester"],
                               env=env, capture_output=True, text=True)
        assert found.returncode == 0, "xev's window never appeared"
        subprocess.run(["xdotool", "windowfocus", "--sync", found.stdout.split()[0]], env=env, check=True)
        result = subprocess.run([sys.executable, "-m", "realtime.run", "--source", str(CLIPS_BY_NAME["swipe_left_right.mp4"]),
                                 "--events-only", "--model", "none", "--bindings", str(bindings)],
                                env=env, cwd=ROOT, capture_output=True, text=True, timeout=120)
        time.sleep(1)
    finally:
        xev.terminate()
        xev.wait(timeout=10)
        log.close()
    assert result.returncode == 0 and "Traceback" not in result.stderr, result.stderr[-2000:]
    swipes = [json.loads(l)["gesture"] for l in result.stdout.splitlines()]
    assert swipes == ["swipe_left", "swipe_right", "swipe_left"], swipes
    pressed = [l.split("keysym ")[1].split(")")[0] for l in (tmp_path / "xev.log").read_text().splitlines()
               if "keysym" in l]
    # each KeyPress and KeyRelease line: ctrl, alt, right down (right with ctrl+alt held), then up; b; again
    chord = ["0xffe3, Control_L", "0xffe9, Alt_L", "0xff53, Right", "0xff53, Right", "0xffe9, Alt_L",
             "0xffe3, Control_L"]
    assert pressed == chord + ["0x62, b", "0x62, b"] + chord, pressed


def test_a_pauses_every_binding_at_once(display, tmp_path):
    """The kill switch: after `a` nothing fires and the window says PAUSED in red; `a` again resumes."""
    require_fixtures()
    env = {**os.environ, "DISPLAY": display}
    bindings = tmp_path / "print.toml"
    bindings.write_text('[[binding]]\ngesture = "swipe_left"\nprint = true\ncooldown = 0\n')
    app, window = open_window(env, "--source", str(CLIPS_BY_NAME["swipe_left_right.mp4"]), "--loop",
                              "--model", "none", "--bindings", str(bindings))
    try:
        time.sleep(4)
        before = screenshot(window, env)
        key(window, "a", env)
        after = screenshot(window, env)
        time.sleep(8)  # several loops of the clip, each with two left swipes
        key(window, "a", env)
        time.sleep(6)
        key(window, "q", env)
        code = app.wait(timeout=30)
        stderr = app.stderr.read()
    finally:
        if app.poll() is None:
            app.kill()
    assert code == 0 and "Traceback" not in stderr, stderr[-3000:]
    log = [l for l in stderr.splitlines() if "actions paused" in l or "actions resumed" in l
           or "fired swipe_left" in l or "paused: not firing" in l]
    paused_at = next(i for i, l in enumerate(log) if "actions paused" in l)
    resumed_at = next(i for i, l in enumerate(log) if "actions resumed" in l)
    assert any("fired swipe_left" in l for l in log[:paused_at]), log  # it fired before
    during = log[paused_at + 1:resumed_at]
    assert during and all("paused: not firing" in l for l in during), log  # swipes came, nothing fired
    assert any("fired swipe_left" in l for l in log[resumed_at:]), log  # and fires again after
    cv2.imwrite(str(tmp_path / "paused.png"), after)
    red = lambda img: int(np.sum((img[..., 2] > 200) & (img[..., 1] < 80) & (img[..., 0] < 80)))
    assert red(after) > red(before) + 200, (red(before), red(after))
