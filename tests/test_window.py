"""The real OpenCV window under Xvfb, driven with xdotool: crop view, snapshot, quit."""

import json
import os
import subprocess
import sys

import cv2
import numpy as np
import pytest

from conftest import CLIPS, PHOTOS, ROOT, LineReader, require_fixtures, wait_until, xev_window

CLIPS_BY_NAME = {p.name: p for p in CLIPS}


def screenshot(window: str, env: dict) -> np.ndarray:
    png = subprocess.run(["import", "-window", window, "png:-"], env=env, capture_output=True, check=True).stdout
    return cv2.imdecode(np.frombuffer(png, np.uint8), cv2.IMREAD_COLOR)


class App:
    """`realtime.run` with a window: the process, its window id and its log, read as it comes."""

    def __init__(self, env: dict, *args: str) -> None:
        self.env = env
        self.proc = subprocess.Popen([sys.executable, "-m", "realtime.run", "--verbose", *args], env=env, cwd=ROOT,
                                     stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        self.log = LineReader(self.proc.stderr)
        found = subprocess.run(["timeout", "60", "xdotool", "search", "--sync", "--name", "^HandSign$"],
                               env=env, capture_output=True, text=True)
        if found.returncode != 0:
            self.proc.kill()
            pytest.fail("".join(self.log.rest(5))[-2000:] if self.proc.poll() is not None else "no window")
        self.window = found.stdout.split()[0]
        # the first frame is drawn: the window is no longer one flat colour
        wait_until(lambda: float(np.std(self.shot())) > 10, 60, interval=0.2, what="the first frame in the window")

    def shot(self) -> np.ndarray:
        return screenshot(self.window, self.env)

    def count(self, *texts: str) -> int:
        return sum(any(t in l for t in texts) for l in self.log.lines)

    def wait_log(self, *texts: str, count: int = 1, timeout: float = 90) -> None:
        lines = self.log.wait_for(count, timeout, lambda l: any(t in l for t in texts))
        if sum(any(t in l for t in texts) for l in lines) < count:
            pytest.fail(f"no {texts} in the log after {timeout:g} s: {''.join(lines)[-2000:]}")

    def key(self, name: str, *chars: str) -> None:
        """Press a key in the window and wait until the window has handled it (its debug log line;
        ``chars``: what OpenCV may report for it, the key's own letter by default)."""
        texts = [f"key {c!r}" for c in (chars or (name,))]
        seen = self.count(*texts)
        subprocess.run(["xdotool", "key", "--window", self.window, name], env=self.env, check=True,
                       capture_output=True)
        self.wait_log(*texts, count=seen + 1, timeout=60)

    def stable_shot(self) -> np.ndarray:
        """A screenshot once two in a row are the same (the window has redrawn and is still)."""
        shots = [self.shot()]
        wait_until(lambda: shots.append(self.shot()) or np.array_equal(shots[-1], shots[-2]), 30, interval=0.1,
                   what="a still window")
        return shots[-1]

    def changed_shot(self, before: np.ndarray, pixels: int) -> np.ndarray:
        """A screenshot once at least ``pixels`` pixels differ from ``before`` (the redraw reached X)."""
        return wait_until(lambda: (lambda s: s if np.sum(np.any(cv2.absdiff(before, s) > 30, axis=2)) > pixels
                                   else None)(self.shot()), 30, interval=0.1, what="the window to change")

    def finish(self, timeout: float = 60) -> tuple[int, str]:
        try:
            code = self.proc.wait(timeout=timeout)
        finally:
            if self.proc.poll() is None:
                self.proc.kill()
        return code, "".join(self.log.rest(10))


def test_window_keys_crop_view_snapshot_and_quit(display, hagrid_shaped_model, tmp_path):
    require_fixtures()
    env = {**os.environ, "DISPLAY": display}
    snaps = tmp_path / "snaps"
    app = App(env, "--source", str(PHOTOS[0]), "--loop", "--model", str(hagrid_shaped_model),
              "--snapshot-dir", str(snaps))
    try:
        app.key("space", " ")  # pause: the frame stays, only what we toggle changes
        before = app.stable_shot()
        app.key("c")
        after = app.changed_shot(before, 40 * 40)
        after = app.stable_shot()
        app.key("x")  # the activation map over the crop view
        mapped = app.changed_shot(after, 20 * 20)
        mapped = app.stable_shot()
        app.key("x")
        app.key("s")
        app.wait_log("snapshot saved")
        app.key("q")
    finally:
        code, stderr = app.finish(30)
    assert code == 0, stderr[-2000:]
    assert "Traceback" not in stderr

    assert before.shape == after.shape
    changed = np.any(cv2.absdiff(before, after) > 30, axis=2)
    assert changed.sum() > 40 * 40, "the crop view did not change the window"
    # the crop view sits in the top-right corner; the only change elsewhere is the hand's caption, which
    # moves clear of the crop view: single lines of text, nothing taller
    h, w = changed.shape
    corner = np.zeros_like(changed)
    corner[: int(h * 0.75), w // 2:] = True
    ys, xs = np.nonzero(changed & corner)
    assert len(xs) > 40 * 40, "the crop view did not change the top-right corner"
    elsewhere = cv2.dilate((changed & ~corner).astype(np.uint8), np.ones((3, 9), np.uint8))
    _, _, stats, _ = cv2.connectedComponentsWithStats(elsewhere)
    assert all(height <= 40 for height in stats[1:, cv2.CC_STAT_HEIGHT]), stats[1:]
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
    app = App(env, "--source", str(PHOTOS[2]), "--loop", "--max-hands", "1", "--no-tiles",
              "--teach-dir", str(teach), "--snapshot-dir", str(snaps))
    try:
        app.key("t")
        for letter in "wave":
            app.key(letter)
        app.key("Return", "\r", "\n")
        # hold r: the key repeats, as X auto-repeat does for a held key
        subprocess.run(["xdotool", "key", "--window", app.window, "--delay", "100", "--repeat", "30", "r"],
                       env=env, check=True, capture_output=True)
        recorded = wait_until(lambda: (lambda r: r if len(r) >= 5 else None)(sorted((teach / "wave").glob("*.png"))),
                              30, what="5 recorded crops")
        app.key("Return", "\r", "\n")  # train
        app.wait_log("now using", timeout=120)
        app.key("Escape", "\x1b")  # leave teach mode (does not quit)
        app.key("s")
        app.wait_log("snapshot saved")
        app.key("q")
    finally:
        code, stderr = app.finish(60)
    assert code == 0 and "Traceback" not in stderr, stderr[-3000:]
    assert "now using" in stderr, stderr[-3000:]
    assert cv2.imread(str(recorded[0])) is not None
    predictions = json.loads(next(snaps.glob("*_predictions.json")).read_text())
    assert predictions["hands"][0]["label"] == "wave", predictions  # the taught gesture, on its own photo


def test_key_binding_presses_the_key_in_another_x_client(display, tmp_path):
    """A swipe on a real clip presses the bound chord; xev, a real X client, receives it."""
    require_fixtures()
    bindings = tmp_path / "keys.toml"
    bindings.write_text('[[binding]]\ngesture = "swipe_left"\nkey = "ctrl+alt+right"\n\n'
                        '[[binding]]\ngesture = "swipe_right"\nkey = "b"\n')
    xev_log = tmp_path / "xev.log"
    with xev_window(display, xev_log, events="keyboard", geometry="300x200+0+0", focus=True) as env:
        result = subprocess.run([sys.executable, "-m", "realtime.run", "--source", str(CLIPS_BY_NAME["swipe_left_right.mp4"]),
                                 "--events-only", "--model", "none", "--bindings", str(bindings)],
                                env=env, cwd=ROOT, capture_output=True, text=True, timeout=120)
        wait_until(lambda: xev_log.read_text().count("keysym") >= 14, 20, what="xev to log every key event")
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
    app = App(env, "--source", str(CLIPS_BY_NAME["swipe_left_right.mp4"]), "--loop",
              "--model", "none", "--bindings", str(bindings))
    try:
        app.wait_log("fired swipe_left")
        before = app.shot()
        app.key("a")

        def red(img):
            return int(np.sum((img[..., 2] > 200) & (img[..., 1] < 80) & (img[..., 0] < 80)))

        after = wait_until(lambda: (lambda s: s if red(s) > red(before) + 200 else None)(app.shot()), 30,
                           interval=0.1, what="the red PAUSED line")
        app.wait_log("paused: not firing", count=2)  # swipes came while paused
        app.key("a")
        app.wait_log("actions resumed")
        app.wait_log("fired swipe_left", count=app.count("fired swipe_left") + 1)
        app.key("q")
    finally:
        code, stderr = app.finish(30)
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
    assert red(after) > red(before) + 200, (red(before), red(after))
