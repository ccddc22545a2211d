"""Idle mode: fewer looks for hands while none is in view, woken by the first frame that moves."""

import re
import subprocess
import sys

import cv2
import numpy as np

from realtime.hands.idle import IdlePacer

from conftest import CLIP_BY_NAME, PHOTOS, ROOT, python, require_fixtures

STEP = 33  # a 30 fps camera


def still_frames(count, seed=0):
    """A real photo as a camera sees a still scene: the same picture, fresh sensor noise each frame."""
    photo = cv2.resize(cv2.imread(str(PHOTOS[0])), (320, 240))
    rng = np.random.default_rng(seed)
    return [np.clip(photo + rng.normal(0, 3, photo.shape), 0, 255).astype(np.uint8) for _ in range(count)]


def test_a_still_scene_is_looked_at_rarely_and_a_moving_one_at_once():
    require_fixtures()
    pacer = IdlePacer(idle_after_ms=1000, max_interval_ms=1000)
    frames = still_frames(150)
    looks = [pacer.look(i * STEP, f) for i, f in enumerate(frames)]  # nothing found on any of them
    assert all(looks[:31]), "awake for the first second: every frame"
    idle = looks[31:]
    assert 2 <= sum(idle) <= 5, sum(idle)  # once a second over ~4 s of a still scene
    # right after a look, the still scene is not looked at again; something coming into view (a real hand
    # crop pasted on the scene) is looked at in that very frame
    last = max(i for i, look in enumerate(looks) if look) * STEP
    assert not pacer.look(last + STEP, frames[0])
    moved = frames[-1].copy()
    moved[60:180, 100:190] = cv2.resize(cv2.imread(str(PHOTOS[2])), (90, 120))
    assert not pacer.look(last + 2 * STEP, moved)  # within 100 ms of the last look: the next frame decides
    t = last + 4 * STEP
    assert pacer.look(t, moved)
    pacer.seen(t, 1)  # a hand was found: awake again
    assert all(pacer.look(t + k * STEP, frames[0]) for k in range(1, 20))


def test_idle_mode_wakes_in_the_frame_a_hand_appears(tmp_path):
    """A real clip with its hand painted out for 3 s, then the hand: `realtime.bench --wake` tracks it in
    the same frame with idle mode as without, and idle mode skipped looks meanwhile."""
    require_fixtures()
    clip = tmp_path / "enters.mp4"
    made = subprocess.run([sys.executable, str(ROOT / "scripts" / "no_hand_clip.py"),
                           str(CLIP_BY_NAME["swipe_left_right.mp4"]), str(clip), "--enter", "45", "--repeat", "1"],
                          cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert made.returncode == 0, made.stderr[-2000:]
    result = python("-m", "realtime.bench", "--source", str(clip), "--wake", "--model", "none")
    assert result.returncode == 0, result.stderr[-2000:]
    skipped = int(re.search(r"skipped on (\d+)", result.stdout).group(1))
    assert skipped > 0, result.stdout
    delay = int(re.search(r"a delay of (\d+) ms", result.stdout).group(1))
    assert delay == 0, result.stdout  # docs/speed.md: the first frame with a hand is tracked


def test_idle_after_0_turns_idle_mode_off():
    require_fixtures()
    result = python("-m", "realtime.bench", "--source", str(CLIP_BY_NAME["swipe_left_right.mp4"]), "--loops", "1",
                    "--loop", "pipelined", "--model", "none", "--idle-after", "0", "--no-tiles")
    assert result.returncode == 0 and "idle mode: off" in result.stdout, result.stderr[-2000:]


def test_a_hand_gone_within_three_looks_puts_it_straight_back_to_idle():
    """MediaPipe now and then finds a "hand" in a face for a frame or two: that wakes idle mode, and
    losing it before three frames in a row sends it back at once; a hand seen three times keeps it
    awake for idle_after_ms."""
    require_fixtures()
    frames = still_frames(40)
    pacer = IdlePacer(idle_after_ms=500, max_interval_ms=1000)
    t = 0
    for i in range(20):  # 660 ms without a hand: idle
        t = i * STEP
        if pacer.look(t, frames[i]):
            pacer.seen(t, 0)
    assert pacer.idle(t)
    t += 1000  # the longest gap: looked at
    assert pacer.look(t, frames[20])
    pacer.seen(t, 1)
    assert not pacer.idle(t + STEP)
    assert pacer.look(t + STEP, frames[21])  # awake: the next frame is looked at
    pacer.seen(t + STEP, 0)  # gone after two frames: a flicker
    assert pacer.idle(t + 2 * STEP) and pacer.flickers == 1
    assert not pacer.look(t + 2 * STEP, frames[22])  # idle again, and a still scene just looked at
    t += 2000
    for k in range(3):  # a hand that stays
        assert pacer.look(t + k * STEP, frames[23 + k])
        pacer.seen(t + k * STEP, 1)
    pacer.seen(t + 3 * STEP, 0)
    assert not pacer.idle(t + 4 * STEP) and pacer.flickers == 1  # awake for idle_after_ms after the last hand
    assert pacer.idle(t + 2 * STEP + 500)
