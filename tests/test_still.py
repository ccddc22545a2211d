"""Still hands keep their landmarks a frame or two instead of another MediaPipe pass."""

import re

import cv2
import numpy as np

from realtime.hands.still import StillHands

from conftest import CLIP_BY_NAME, PHOTOS, ROOT, python, require_fixtures


def noisy(image, seed):
    """The same picture with fresh sensor noise, as a camera gives a still scene."""
    rng = np.random.default_rng(seed)
    return np.clip(image + rng.normal(0, 3, image.shape), 0, 255).astype(np.uint8)


def test_a_still_hand_is_kept_at_most_twice_and_a_moved_one_is_tracked_again():
    require_fixtures()
    from realtime.hands import HandTracker
    photo = cv2.imread(str(PHOTOS[0]))
    with HandTracker(max_hands=1, video=False) as tracker:
        hands = tracker.detect(photo)
    assert len(hands) == 1
    still = StillHands(max_reused=2)
    assert still.reuse(photo) is None  # nothing tracked yet
    still.tracked(photo, hands)
    assert still.reuse(noisy(photo, 1)) == hands and still.reuse(noisy(photo, 2)) == hands
    assert still.reuse(noisy(photo, 3)) is None  # twice in a row: MediaPipe again
    still.tracked(photo, hands)
    x0, y0, x1, y1 = hands[0].box()
    shifted = np.roll(photo, int(0.15 * (x1 - x0)), axis=1)  # the hand moved by 0.15 of its size
    assert still.reuse(shifted) is None
    elsewhere = photo.copy()  # a change far from the hand does not count
    far_x = 0 if x0 > photo.shape[1] - x1 else photo.shape[1] - 40
    elsewhere[:, far_x:far_x + 40] = 255 - elsewhere[:, far_x:far_x + 40]
    assert still.reuse(elsewhere) == hands
    assert still.reused == 3


def test_a_real_clip_gives_the_same_labels_with_fewer_mediapipe_passes():
    """The fixture swipes through the pipeline with and without still hands: nearly the same labels
    and hands on every frame, and MediaPipe skipped on some frames."""
    require_fixtures()
    from realtime.classifier import GestureClassifier
    from realtime.hands import HandTracker
    from realtime.live.pipeline import GesturePipeline
    from realtime.live.sources import VideoFileSource
    classifier = GestureClassifier(ROOT / "models" / "handsign.onnx")
    runs = {}
    for reuse in (0, 2):
        labels, still = [], StillHands(reuse) if reuse else None
        with VideoFileSource(CLIP_BY_NAME["swipe2_up_down.mp4"]) as source, HandTracker("lite", 2) as tracker:
            pipeline = GesturePipeline(tracker, classifier, still=still)
            for frame in source:
                labels.append(sorted(h.label for h in pipeline.process(frame).hands))
        runs[reuse] = labels, still.reused if still else 0
    (plain, _), (kept, reused) = runs[0], runs[2]
    assert reused >= 5, reused
    same = sum(a == b for a, b in zip(plain, kept))
    assert same >= 0.9 * len(plain), (same, len(plain))


def _passes(*extra: str) -> tuple[int, int, int]:
    """(two-hand landmarker frames, one-hand twin frames, still-hand frames) of one bench pass."""
    r = python("-m", "realtime.bench", "--source", str(CLIP_BY_NAME["swipe_left_right.mp4"]), "--loops", "1",
               "--loop", "pipelined", "--model", "none", *extra)
    assert r.returncode == 0, r.stderr[-2000:]
    m = re.search(r"two-hand landmarker on (\d+) frames, one-hand twin on (\d+) .* still hands kept their "
                  r"landmarks on (\d+)", r.stdout)
    return int(m.group(1)), int(m.group(2)), int(m.group(3))


def test_still_frames_0_and_second_hand_ms_0_turn_those_paths_off():
    """The cost options through realtime.bench (the live path realtime.run builds): by default the twin
    and still hands take over some frames; with both at 0 the two-hand landmarker runs on every frame."""
    require_fixtures()
    two, twin, still = _passes()
    assert twin > 0 and still > 0 and two < 80, (two, twin, still)
    assert _passes("--still-frames", "0")[2] == 0
    assert _passes("--still-frames", "0", "--second-hand-ms", "0") == (80, 0, 0)


def test_pointer_mode_turns_the_twin_and_still_hands_off():
    """open_pipeline with pointer=True (what realtime.run --pointer builds): every frame's landmarks from
    the one two-hand landmarker."""
    require_fixtures()
    from contextlib import ExitStack

    from realtime.live.recognition import RecognitionOptions, open_pipeline
    from realtime.live.sources import open_video
    for pointer in (False, True):
        with ExitStack() as stack:
            source = stack.enter_context(open_video(CLIP_BY_NAME["swipe_left_right.mp4"]))
            pipeline = open_pipeline(stack, source, None, RecognitionOptions(pointer=pointer))
            assert (pipeline.still is None) is pointer
            assert (pipeline.tracker.settings["second_hand_ms"] == 0) is pointer
