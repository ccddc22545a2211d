"""Clicks, double clicks, drags and zooms: the pure logic on landmark-shaped sequences, and the live
path on synthetic clips of real HaGRID hand photos (realtime/evaluation/synthetic.py)."""

from __future__ import annotations

import json

import pytest

from conftest import CLIP_BY_NAME, SHARED, python, require_fixtures
from realtime.events.gestures import HandObservation
from realtime.events.pointer import PointerDetector

STEP = 33


def hand(fingers, pinch, pinched=False, x=320.0, y=240.0, size=150.0, track=0, side="Right", label=None, tip_up=False):
    tip = (x, y - 0.6 * size) if tip_up else (x, y - 0.1 * size)
    return HandObservation(track, side, label, 0.9, (x, y), size, fingers, tip, pinch, pinched)


OPEN = dict(fingers=4, pinch=0.8)
PINCH = dict(fingers=0, pinch=0.15, pinched=True)
FIST = dict(fingers=0, pinch=0.4)
INDEX = dict(fingers=1, pinch=0.9, tip_up=True)
L_SHAPE = dict(fingers=1, pinch=1.2)


def play(frames, detector=None):
    """Each frame: a list of hand keyword dicts; returns (gesture, t_ms) of every event."""
    det = detector or PointerDetector()
    out = []
    for i, hands in enumerate(frames):
        out += [(e.gesture, e.t_ms) for e in det.update(i * STEP, [hand(**h) for h in hands], 640, 480, i)]
    return out


def names(frames, detector=None):
    return [g for g, _ in play(frames, detector)]


def test_a_quick_pinch_is_a_click_and_two_are_a_double_click():
    click = [[OPEN]] * 10 + [[PINCH]] * 5 + [[OPEN]] * 10
    assert names(click) == ["click"]
    double = [[OPEN]] * 10 + [[PINCH]] * 4 + [[OPEN]] * 4 + [[PINCH]] * 4 + [[OPEN]] * 10
    assert names(double) == ["click", "click", "double_click"]
    apart = [[OPEN]] * 10 + [[PINCH]] * 4 + [[OPEN]] * 30 + [[PINCH]] * 4 + [[OPEN]] * 10  # 1 s apart
    assert names(apart) == ["click", "click"]
    assert names([[OPEN]] * 10 + [[PINCH]] * 1 + [[OPEN]] * 10) == []  # one odd frame is no click


def test_a_tap_of_the_index_from_a_fist_is_a_click():
    assert names([[FIST]] * 10 + [[INDEX]] * 5 + [[FIST]] * 10) == ["click"]
    assert names([[FIST]] * 10 + [[INDEX]] * 20 + [[FIST]] * 10) == []  # the index held up: pointing, not a tap
    assert names([[FIST]] * 2 + [[INDEX]] * 5 + [[FIST]] * 10) == []  # no fist before it


def test_a_held_pinch_drags_and_opening_drops():
    frames = [[OPEN]] * 10 + [[dict(PINCH, x=200 + 10 * i)] for i in range(30)] + [[dict(OPEN, x=500)]] * 10
    assert names(frames) == ["drag_start", "drag_end"]  # moving: it starts once the pinch has moved
    still = play([[OPEN]] * 10 + [[PINCH]] * 20 + [[OPEN]] * 5)
    assert [g for g, _ in still] == ["drag_start", "drag_end"]
    assert still[0][1] - 10 * STEP >= 400 - STEP  # held still: after a click's time, not at the closing frame
    # a fist drags only when it closes from an open hand: a fist that was always a fist does nothing
    assert names([[OPEN]] * 10 + [[FIST]] * 30 + [[OPEN]] * 10) == ["drag_start", "drag_end"]
    assert names([[FIST]] * 40 + [[OPEN]] * 10) == []
    # a hand lost while dragging drops what it held
    lost = names([[OPEN]] * 10 + [[PINCH]] * 20 + [[]] * 20)
    assert lost == ["drag_start", "drag_end"]


def test_one_hand_zoom_with_the_thumb_and_index_and_two_hand_zoom():
    assert names([[PINCH]] * 5 + [[dict(fingers=1, pinch=0.5)]] * 3 + [[L_SHAPE]] * 5) == ["zoom_in"]
    assert names([[L_SHAPE]] * 5 + [[dict(fingers=1, pinch=0.5)]] * 3 + [[PINCH]] * 5)[:1] == ["zoom_out"]
    # an open palm is wide too, but has every finger out: no zoom
    assert names([[PINCH]] * 5 + [[OPEN]] * 8) == []

    def pair(gap, shape):
        return [dict(shape, x=320 - gap / 2, track=0, label="fist"), dict(shape, x=320 + gap / 2, track=1, label="fist")]
    apart = [pair(200, FIST)] * 5 + [pair(200 + 30 * i, FIST) for i in range(12)] + [pair(560, FIST)] * 5
    assert names(apart) == ["zoom_in"]
    together = [pair(560, FIST)] * 5 + [pair(560 - 30 * i, FIST) for i in range(12)] + [pair(200, FIST)] * 5
    assert names(together) == ["zoom_out"]
    relaxed = [[dict(h, label=None) for h in pair(200 + 30 * min(i, 12), dict(fingers=2, pinch=0.5))] for i in range(20)]
    assert names(relaxed) == []  # two relaxed hands moving apart (talking with the hands): no zoom


def test_small_hands_do_nothing():
    click = [[dict(OPEN, size=40)]] * 10 + [[dict(PINCH, size=40)]] * 5 + [[dict(OPEN, size=40)]] * 10
    assert names(click) == [] and names(click, PointerDetector(min_size=0)) == ["click"]


@pytest.fixture(scope="module")
def action_clips(tmp_path_factory):
    require_fixtures()
    out = tmp_path_factory.mktemp("action_clips")
    made = python("scripts/make_action_clips.py", "--data", str(SHARED / "data" / "hagrid_crops"),
                  "--background", str(CLIP_BY_NAME["dndv2.mp4"]), "--out", str(out))
    assert made.returncode == 0, made.stderr[-2000:]
    return out


def test_synthetic_clips_give_their_clicks_drags_and_zooms_and_nothing_else(action_clips):
    labels = json.loads((action_clips / "labels.json").read_text())
    assert set(labels) == {"tap_click.mp4", "tap_double_click.mp4", "fist_drag.mp4", "two_hand_zoom.mp4"}
    result = python("-m", "realtime.evaluate_events", "--clips", str(action_clips), "--labels",
                    str(action_clips / "labels.json"))
    assert result.returncode == 0, result.stderr[-2000:]
    assert "labelled clips giving exactly their events: 4 of 4" in result.stdout, result.stdout
    rows = {l.split()[0]: l.split() for l in result.stdout.splitlines() if l.strip()}
    for kind in ("click", "double_click", "drag_start", "drag_end", "zoom_in", "zoom_out"):
        assert rows[kind][4:] == ["1.00", "1.00"], rows[kind]
    assert not any(k.startswith("swipe") for k in rows)  # a click, drag or zoom is never also a swipe
