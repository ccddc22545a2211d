"""The events scorecard: how it scores, GIFs timed by their own delays, and recordings that replay the
live path's events exactly (the full scorecard over every fixture is a command: docs/events-scorecard.md)."""

from __future__ import annotations

import json

import pytest
from PIL import Image

from realtime.classifier import load_classifier
from realtime.evaluation import replay
from realtime.evaluation.scorecard import ClipLabel, person, read_scorecard_labels, score_clip, totals
from realtime.events.gestures import GestureEvent
from realtime.events.options import EventOptions, GestureOptions
from realtime.live.options import LiveOptions
from realtime.live.recognition import RecognitionOptions
from realtime.live.sources import GifSource, open_source

from conftest import CLIP_BY_NAME, FIXTURES, python, require_fixtures

DEV = FIXTURES / "dev"
VOLUME_GIF = DEV / "gestures" / "Hormozzan__GestureVolumeControl__gesture.gif"


def event(name: str, kind: str = "start", t: int = 0) -> GestureEvent:
    return GestureEvent(kind, name, "Right", 0, 0.9, 0.5, 0.5, t, 0)


def test_each_wanted_name_counts_once_wrong_is_forbidden_or_unlisted_and_a_drag_is_one_event():
    label = ClipLabel(want=("palm", "fist", "zoom_in"), ok_extra=("stop", "drag_start", "drag_end"),
                      forbidden=("mute",))
    fired = [event("palm"), event("palm"), event("stop"), event("mute"), event("rock"),
             event("drag_start", "pointer"), event("drag_end", "pointer")]
    s = score_clip("gestures/someone__repo__clip.mp4", label, fired, 10.0)
    assert (s.wanted, s.hit) == (("palm", "fist", "zoom_in"), ("palm",))
    assert s.wrong == ["mute", "rock"]  # forbidden, and not listed at all; palm twice is no error
    quiet = score_clip("nongesture/other__repo__clip.mp4", ClipLabel(ok_extra=("palm",)), fired, 30.0)
    assert quiet.nongesture and len(quiet.false) == 6  # every event but the drag's end, near miss or not
    t = totals([s, quiet])
    assert (t.hit, t.wanted, t.wrong, t.false) == (1, 3, 2, 6) and t.false_per_minute == pytest.approx(12.0)
    assert person("gestures/LU-JUN-WANG__hand_track-by-mediapipe__hand2.mp4") == "LU-JUN-WANG"


def test_the_dev_labels_read_and_every_clip_is_there(tmp_path):
    require_fixtures()
    labels = read_scorecard_labels(DEV / "labels.json")
    assert len(labels) == 18 and all((DEV / key).is_file() for key in labels)
    assert labels["gestures/Hormozzan__GestureVolumeControl__gesture.gif"].want == ("zoom_in", "zoom_out")
    bad = tmp_path / "labels.json"
    bad.write_text(json.dumps({"gestures/a.mp4": {"want": "palm"}}))
    with pytest.raises(Exception, match="must be lists of event names"):
        read_scorecard_labels(bad)


def test_a_gif_is_timed_by_its_own_frame_delays():
    require_fixtures()
    with Image.open(VOLUME_GIF) as gif:
        delays = []
        for i in range(gif.n_frames):
            gif.seek(i)
            delays.append(gif.info["duration"])
    assert len(set(delays)) > 1  # this GIF mixes 30 and 40 ms frames: index / fps would drift
    with open_source(source=VOLUME_GIF) as source:
        assert isinstance(source, GifSource)
        stamps = [f.timestamp_ms for f in source]
    assert len(stamps) == len(delays)
    assert stamps[-1] == sum(delays[:-1])


def test_a_recording_replays_the_live_events_exactly_and_is_kept(tmp_path, monkeypatch):
    """The events a clip's recording gives with the live loop's own options are the live loop's events,
    and the second time the recording comes from the cache, without the live path."""
    require_fixtures()
    classifier = load_classifier(None)
    options, recognition = LiveOptions(headless=True, events_only=True), RecognitionOptions()
    clip = CLIP_BY_NAME["swipe_left_right.mp4"]
    first = replay.recorded(clip, classifier, recognition, options, tmp_path)
    live = [(e.type, e.gesture, e.t_ms) for e in first.live_events]
    assert [g for _, g, _ in live].count("swipe_left") == 2 and "swipe_right" in [g for _, g, _ in live]
    assert [(e.type, e.gesture, e.t_ms) for e in first.events(options.events)] == live
    # other options replay other events: a hold no clip reaches fires no start
    slow = EventOptions(gestures=GestureOptions(min_hold_ms=10000))
    assert not [e for e in first.events(slow) if e.type == "start"]

    def no_live_path(*a, **k):
        raise AssertionError("played the clip again instead of reading its recording")

    monkeypatch.setattr(replay, "record_clip", no_live_path)
    again = replay.recorded(clip, classifier, recognition, options, tmp_path)
    assert [(e.type, e.gesture, e.t_ms) for e in again.events(options.events)] == live


def test_evaluate_events_prints_the_scorecard_for_labels_in_its_form(tmp_path):
    require_fixtures()
    r = python("-m", "realtime.evaluate_events", "--clips", str(VOLUME_GIF), "--labels", str(DEV / "labels.json"))
    assert r.returncode == 0, r.stderr
    assert "Hormozzan__GestureVolumeControl__gesture.gif" in r.stdout
    line = next(l for l in r.stdout.splitlines() if l.startswith("all "))
    assert "recall" in line and "wrong" in line
    bad = tmp_path / "labels.json"
    bad.write_text('{"gestures/x.mp4": {"want": 3}}')
    r = python("-m", "realtime.evaluate_events", "--clips", str(VOLUME_GIF), "--labels", str(bad))
    assert r.returncode == 2 and r.stderr.strip().startswith("error:") and len(r.stderr.strip().splitlines()) == 1
