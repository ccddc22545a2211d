"""The pipelined live loop (hands of frame t+1 tracked while frame t is classified): the same
results as the serial loop on real clips, errors and early exits handled; the lite hand model;
the benchmark against MediaPipe's Gesture Recognizer."""

import json
import re
import threading

import pytest

from realtime.core.paths import HAND_MODEL, HAND_MODEL_LITE
from realtime.hands.tracker import HandTracker
from realtime.live.detections import PipelinedDetections, detections
from realtime.live.pipeline import GesturePipeline
from realtime.live.sources import VideoFileSource

from conftest import CLIPS, PHOTOS, SHARED, python, require_fixtures

PEER_TASK = SHARED / "peers" / "mediapipe_gesture_recognizer.task"


def headless(*args):
    result = python("-m", "realtime.run", "--headless", *args)
    assert result.returncode == 0 and "Traceback" not in result.stderr, result.stderr[-3000:]
    return [json.loads(l) for l in result.stdout.splitlines()]


@pytest.mark.parametrize("clip", [c for c in CLIPS if "swipe" in c.name], ids=lambda p: p.name)
def test_pipelined_and_serial_loops_give_the_same_results(clip):
    """Shipped model, smoothing and events: frame for frame the same hands, labels and events."""
    require_fixtures()
    pipelined = headless("--source", str(clip), "--mirror")
    serial = headless("--source", str(clip), "--mirror", "--serial")
    assert len(pipelined) == len(serial) > 30
    assert [(l["frame"], l["hands"], l["events"]) for l in pipelined] == \
           [(l["frame"], l["hands"], l["events"]) for l in serial]
    assert sum(len(l["events"]) for l in pipelined) >= 2  # the swipes, at least


def test_the_worker_is_never_more_than_one_frame_ahead_and_stops_when_left():
    require_fixtures()
    taken = []

    class Counting:
        def __iter__(self):
            with VideoFileSource(CLIPS[0]) as src:
                for f in src:
                    taken.append(f.index)
                    yield f

    with HandTracker(max_hands=1, video=True) as tracker:
        pipeline = GesturePipeline(tracker, None)
        with PipelinedDetections(pipeline, Counting(), lambda: False) as found:
            for i, d in enumerate(found):
                assert max(taken) <= d.frame.index + 1  # at most the next frame is being tracked
                if i == 9:
                    break
        assert not any(t.name == "hands-stage" and t.is_alive() for t in threading.enumerate())
    assert max(taken) <= 11


def test_an_error_in_the_hands_stage_reaches_the_caller():
    require_fixtures()

    def frames():
        with VideoFileSource(CLIPS[0]) as src:
            for f in src:
                yield f
                if f.index == 3:
                    raise OSError("camera unplugged mid-frame")

    with HandTracker(max_hands=1, video=True) as tracker:
        pipeline = GesturePipeline(tracker, None)
        got = []
        with pytest.raises(OSError, match="unplugged"):
            with detections(pipeline, frames(), lambda: False) as found:
                for d in found:
                    got.append(d.frame.index)
        assert got == [0, 1, 2, 3]


def test_auto_hand_model_is_lite_for_video_and_full_for_stills():
    require_fixtures()
    import cv2
    with HandTracker(video=True) as video, HandTracker(video=False) as still:
        assert video.settings["model"] == HAND_MODEL_LITE.name and still.settings["model"] == HAND_MODEL.name
    with HandTracker(HAND_MODEL_LITE, max_hands=2, video=False, tiles=False) as lite:
        assert [len(lite.detect(cv2.imread(str(p)))) for p in PHOTOS] == [1] * len(PHOTOS)


def test_bench_times_both_loops_and_the_peer_in_one_run():
    require_fixtures()
    if not PEER_TASK.is_file():
        pytest.fail(f"peer task missing: {PEER_TASK}")
    result = python("-m", "realtime.bench", "--source", str(CLIPS[0]), "--loops", "1", "--peer-task", str(PEER_TASK),
                    "--serve-clients", "2")
    assert result.returncode == 0, result.stderr[-3000:]
    out = result.stdout
    fps = {m[0]: float(m[1]) for m in re.findall(r"end to end, (\w+) loop: ([\d.]+) fps", out)}
    assert set(fps) == {"pipelined", "serial"} and all(v > 0 for v in fps.values()), out
    ratios = re.findall(r"ratio, (\w+) / peer: ([\d.]+)x the peer's fps, latency ([+-][\d.]+) ms", out)
    assert [r[0] for r in ratios] == ["pipelined", "serial"], out
    assert re.search(r"latency ms .*\(peer\)", out) and "hand_landmarker_lite.task" in out
    assert re.search(r"^serve +\| +[\d.]+ /", out, re.M) and "serving: 2 WebSocket clients" in out, out


def test_bench_with_a_bad_peer_task_is_a_one_line_error(tmp_path):
    require_fixtures()
    bad = tmp_path / "peer.task"
    bad.write_bytes(b"not a task bundle")
    result = python("-m", "realtime.bench", "--source", str(CLIPS[0]), "--loops", "1", "--peer-task", str(bad))
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert "error: " in result.stderr and "gesture recognizer" in result.stderr
