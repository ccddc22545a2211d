"""Real MediaPipe on real photos: hands found where the photos show them, crops framed by the contract."""

import cv2
import numpy as np
import pytest

from conftest import PHOTOS, require_fixtures
from realtime.contract import PAD_VALUE, landmarks_box
from realtime.hands import HandTracker


@pytest.fixture(scope="module")
def tracker():
    require_fixtures()
    with HandTracker(max_hands=2, video=False) as t:
        yield t


@pytest.mark.parametrize("photo", PHOTOS, ids=lambda p: p.name)
def test_one_hand_per_photo_inside_the_frame(tracker, photo):
    frame = cv2.imread(str(photo))
    hands = tracker.detect(frame)
    assert len(hands) == 1  # measured: exactly one per photo (hand_4's joined hands count as one)
    hand = hands[0]
    h, w = frame.shape[:2]
    x0, y0, x1, y1 = hand.box()
    assert 0 <= x0 < x1 <= w and 0 <= y0 < y1 <= h
    assert hand.handedness in ("Left", "Right") and 0.5 <= hand.score <= 1.0
    assert hand.landmarks.shape == (21, 2)


@pytest.mark.parametrize("photo", PHOTOS, ids=lambda p: p.name)
def test_the_hand_is_where_the_box_says(tracker, photo):
    """Moving the photo moves the box by the same amount, and greying the box out removes the hand."""
    frame = cv2.imread(str(photo))
    base = landmarks_box(tracker.detect(frame)[0].landmarks)
    dx, dy = 120, 60
    shifted = cv2.copyMakeBorder(frame, dy, 0, dx, 0, cv2.BORDER_CONSTANT, value=(PAD_VALUE,) * 3)
    moved = landmarks_box(tracker.detect(shifted)[0].landmarks)
    size = max(base[2] - base[0], base[3] - base[1])
    centre_shift = np.subtract(moved, base).reshape(2, 2).mean(axis=0)  # landmarks jitter a little
    assert np.allclose(centre_shift, [dx, dy], atol=0.2 * size), (centre_shift, size)

    hand = tracker.detect(frame)[0]
    x0, y0, x1, y1 = hand.box(margin=0.15)
    masked = frame.copy()
    masked[y0:y1, x0:x1] = PAD_VALUE
    assert tracker.detect(masked) == []


def test_crop_is_square_and_centred_on_the_hand(tracker):
    frame = cv2.imread(str(PHOTOS[0]))
    hand = tracker.detect(frame)[0]
    crop, box = hand.crop(frame, margin=0.25)
    assert crop.shape[0] == crop.shape[1] == box[2] - box[0]
    again = tracker.detect(crop)  # the crop alone still shows the hand, near its middle
    assert len(again) == 1
    cx, cy = np.mean(again[0].landmarks, axis=0)
    side = crop.shape[0]
    assert abs(cx - side / 2) < 0.2 * side and abs(cy - side / 2) < 0.2 * side


def test_handedness_follows_the_mirror(tracker):
    frame = cv2.imread(str(PHOTOS[1]))
    plain = tracker.detect(frame, mirrored=False)[0].handedness
    mirrored = tracker.detect(frame[:, ::-1].copy(), mirrored=True)[0].handedness
    assert plain == mirrored  # the same person's hand, seen directly or in a mirror view


def test_missing_hand_model_is_a_clear_error(tmp_path):
    from realtime.errors import HandSignError
    with pytest.raises(HandSignError, match="hand model not found"):
        HandTracker(tmp_path / "none.task")
    bad = tmp_path / "bad.task"
    bad.write_text("not a bundle")
    with pytest.raises(HandSignError, match="not a usable hand_landmarker.task"):
        HandTracker(bad)
