"""realtime.evaluate_events: events of the live path on real clips, counted per minute and scored
against labels; the matching rules on their own."""

import json
import re

from realtime.evaluation.events import ClipEvents, match, score
from realtime.events.gestures import GestureEvent

from conftest import CLIPS, ROOT, python, require_fixtures

LABELS = ROOT / "examples" / "labels" / "fixture_clips.json"


def event(gesture, t_ms, kind="swipe"):
    return GestureEvent(kind, gesture, "Right", 0, 0.9, 0.5, 0.5, t_ms, 300)


def test_the_fixture_clips_give_their_swipes_and_drag_and_nothing_else():
    require_fixtures()
    result = python("-m", "realtime.evaluate_events", "--clips", str(CLIPS[0].parent), "--labels", str(LABELS))
    assert result.returncode == 0, result.stderr[-2000:]
    out = result.stdout
    rows = {l.split()[0]: l.split() for l in out.splitlines() if l.strip()}
    assert rows["swipe_left_right.mp4"][2] == "3" and rows["swipe2_up_down.mp4"][2] == "2"
    seconds, count, per_minute = float(rows["total"][1]), int(rows["total"][2]), float(rows["total"][3])
    assert count == 7 and abs(per_minute - count / (seconds / 60)) < 0.2  # both printed rounded
    for kind in ("swipe_left", "swipe_right", "swipe_up", "swipe_down", "drag_start", "drag_end"):
        assert rows[kind][4:] == ["1.00", "1.00"], rows[kind]  # recall, precision
    assert "labelled clips giving exactly their events: 3 of 3" in out
    assert re.search(r"ok +dndv2\.mp4", out) and re.search(r"ok +swipe_left_right\.mp4", out)


def test_matching_uses_times_when_labelled_and_counts_each_event_once():
    fired = [event("swipe_left", 400), event("swipe_left", 3000), event("swipe_up", 500)]
    pairs = match([{"gesture": "swipe_left", "t_ms": 2800}, {"gesture": "swipe_left", "t_ms": 9000},
                   {"gesture": "swipe_up"}], fired)
    assert [hit.t_ms if hit else None for _, hit in pairs] == [3000, None, 500]
    run = ClipEvents(ROOT / "a.mp4", 300, 10.0, fired)
    kinds, clips = score([run], {"a.mp4": [{"gesture": "swipe_left"}]})
    assert (kinds["swipe_left"].expected, kinds["swipe_left"].fired, kinds["swipe_left"].matched) == (1, 2, 1)
    assert kinds["swipe_left"].precision == 0.5 and kinds["swipe_up"].recall is None
    assert clips == {"a.mp4": False}  # it gave more than its events
    assert run.per_minute == 18.0


def test_bad_clips_and_labels_are_one_line_errors(tmp_path):
    require_fixtures()
    bad = tmp_path / "labels.json"
    bad.write_text(json.dumps({"a.mp4": [{"direction": "left"}]}))
    for args, message in ((["--clips", str(tmp_path / "none")], "clips not found"),
                          (["--clips", str(tmp_path)], "no video clips"),
                          (["--clips", str(CLIPS[0]), "--labels", str(bad)], "is not an events labels file")):
        result = python("-m", "realtime.evaluate_events", *args)
        assert result.returncode == 2 and result.stderr.strip().splitlines()[-1].startswith("error: "), result.stderr
        assert message in result.stderr and "Traceback" not in result.stderr


def test_the_peer_is_counted_by_the_same_rule_on_the_same_clips():
    require_fixtures()
    from conftest import CLIP_BY_NAME, SHARED
    task = SHARED / "peers" / "mediapipe_gesture_recognizer.task"
    result = python("-m", "realtime.evaluate_events", "--clips", str(CLIP_BY_NAME["swipe2_up_down.mp4"]),
                    "--peer-task", str(task))
    assert result.returncode == 0, result.stderr[-2000:]
    ours, _, peer = result.stdout.partition("peer: MediaPipe Gesture Recognizer")
    assert "a hand's top class for 600 ms" in peer  # the same --min-hold as HandSign's starts
    assert re.search(r"^swipe2_up_down\.mp4 +4\.6 +2 ", ours, re.M)  # HandSign: its two swipes
    row = re.search(r"^swipe2_up_down\.mp4 +4\.6 +(\d+) ", peer, re.M)
    assert row, peer  # the peer played the same 4.6 s
    from realtime.evaluation.events import peer_starts
    from realtime.hands.peer import PeerRecognizer
    with PeerRecognizer(task) as recognizer:  # the same recognizer, in process: the count it printed
        run = peer_starts(CLIP_BY_NAME["swipe2_up_down.mp4"], recognizer, 600)
    assert int(row.group(1)) == len(run.events)
    assert all(e.held_ms >= 600 and e.type == "start" for e in run.events)


class ScriptedPeer:
    """Stands in for MediaPipe's recognizer: each frame's hands are the script's next entry."""

    def __init__(self, script):
        self.script = iter(script)

    def recognize(self, image, timestamp_ms):
        return next(self.script, [])


def test_the_peer_start_rule_is_handsigns_a_gesture_held_for_min_hold():
    """15 fps clip: a palm for 10 frames (667 ms) starts once at 600 ms; 8 frames (533 ms) do not; a
    change of gesture restarts the clock; 'None' is no gesture."""
    require_fixtures()
    from realtime.evaluation.events import peer_starts

    from conftest import CLIP_BY_NAME
    palm, fist, none = [("Open_Palm", 0.9)], [("Closed_Fist", 0.8)], [("None", 0.5)]
    script = [none] * 3 + [palm] * 10 + [none] * 3 + [fist] * 8 + [palm] * 5 + [fist] * 10
    run = peer_starts(CLIP_BY_NAME["swipe2_up_down.mp4"], ScriptedPeer(script), 600)
    starts = [(e.gesture, e.frame) for e in run.events]
    assert starts == [("Open_Palm", 12), ("Closed_Fist", 38)]  # 9 frames after each run began: 600 ms at 15 fps
