"""Real MediaPipe on real photos: hands found where the photos show them, crops framed by the contract."""

import cv2
import numpy as np
import pytest

from realtime.core.contract import PAD_VALUE, landmarks_box
from realtime.hands.tiles import tile_boxes
from realtime.hands.tracker import HandTracker

from conftest import PHOTOS, require_fixtures


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


def test_hand_framing_crop_is_the_grown_landmark_box(tracker):
    frame = cv2.imread(str(PHOTOS[0]))
    hand = tracker.detect(frame)[0]
    crop, box = hand.crop(frame, margin=0.1, framing="hand")
    x0, y0, x1, y1 = landmarks_box(hand.landmarks)
    grow = 0.1 * max(x1 - x0, y1 - y0)
    assert crop.shape[:2] == (box[3] - box[1], box[2] - box[0])
    assert abs(box[0] - (x0 - grow)) <= 1 and abs(box[3] - (y1 + grow)) <= 1


def test_context_crop_is_square_and_centred_on_the_hand(tracker):
    frame = cv2.imread(str(PHOTOS[0]))
    hand = tracker.detect(frame)[0]
    crop, box = hand.crop(frame, margin=0.25, framing="context")
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
    from realtime.core.errors import HandSignError
    with pytest.raises(HandSignError, match="hand model not found"):
        HandTracker(tmp_path / "none.task")
    bad = tmp_path / "bad.task"
    bad.write_text("not a bundle")
    with pytest.raises(HandSignError, match="not a usable hand_landmarker.task"):
        HandTracker(bad)


def paste_small(photo, scale: float, centre: tuple[int, int], canvas_size=(1440, 1080)):
    """A real photo shrunk to ``scale`` of the canvas width, pasted on a grey canvas; returns canvas, box."""
    image = cv2.imread(str(photo))
    h, w = image.shape[:2]
    nw = int(canvas_size[0] * scale)
    nh = int(h * nw / w)
    small = cv2.resize(image, (nw, nh), interpolation=cv2.INTER_AREA)
    canvas = np.full((canvas_size[1], canvas_size[0], 3), PAD_VALUE, np.uint8)
    x0, y0 = centre[0] - nw // 2, centre[1] - nh // 2
    canvas[y0:y0 + nh, x0:x0 + nw] = small
    return canvas, (x0, y0, x0 + nw, y0 + nh)


@pytest.mark.parametrize("name,scale", [("hand_1.jpg", 0.1), ("hand_5.jpg", 0.2)])
def test_tiles_find_a_hand_too_small_for_the_whole_frame(name, scale):
    """Measured: the whole-frame pass misses these shrunken photos; the tile search finds them."""
    require_fixtures()
    photo = next(p for p in PHOTOS if p.name == name)
    canvas, (x0, y0, x1, y1) = paste_small(photo, scale, (300, 250))
    with HandTracker(max_hands=1, video=False, tiles=False) as whole:
        assert whole.detect(canvas) == []  # the flag turns the search off
    with HandTracker(max_hands=1, video=False) as tiled:
        hands = tiled.detect(canvas)
    assert len(hands) == 1
    bx0, by0, bx1, by1 = landmarks_box(hands[0].landmarks)
    assert x0 <= bx0 < bx1 <= x1 and y0 <= by0 < by1 <= y1  # in frame pixels, inside the pasted photo
    assert hands[0].frame_size == (1440, 1080)


def test_a_hand_seen_by_several_tiles_is_reported_once():
    require_fixtures()
    photo = next(p for p in PHOTOS if p.name == "hand_2.jpg")
    canvas, _ = paste_small(photo, 0.1, (720, 540))  # the centre: inside all four overlapping tiles
    with HandTracker(max_hands=2, video=False) as tiled:  # one hand < 2 allowed: the tiles are searched
        assert all(len(tiled._detect(canvas[y0:y1, x0:x1], 0, False)) == 1 for x0, y0, x1, y1 in tile_boxes(1440, 1080))
        first, second = tiled.detect(canvas), tiled.detect(canvas)
    assert len(first) == 1
    assert np.array_equal(first[0].landmarks, second[0].landmarks)  # deterministic


def test_a_half_size_look_finds_the_hand_in_full_frame_pixels_and_tracking_goes_on_at_full_size():
    """Idle looks hand MediaPipe half the frame: the landmarks still come in the frame's pixels, near
    the full-size ones, and VIDEO-mode tracking carries on when the next frame is full size."""
    require_fixtures()
    frame = cv2.imread(str(PHOTOS[0]))
    with HandTracker("lite", max_hands=1, video=True) as full, HandTracker("lite", max_hands=1, video=True) as half:
        reference = full.detect(frame, 0)
        small = half.detect(frame, 0, scale=0.5)
        assert len(reference) == len(small) == 1
        size = max(np.ptp(reference[0].landmarks, axis=0))
        assert np.abs(small[0].landmarks - reference[0].landmarks).max() < 0.15 * size
        assert small[0].frame_size == reference[0].frame_size
        after = half.detect(frame, 33)
        assert len(after) == 1
        assert np.abs(after[0].landmarks - reference[0].landmarks).max() < 0.05 * size


def test_one_hand_is_followed_alone_and_a_second_one_is_found_within_100_ms():
    """Video, two hands allowed: while one hand is in view the one-hand twin follows it (no palm
    detector), the two-hand landmarker looks every 100 ms, and a second hand that comes is tracked
    within that time (plus a frame); the first one is never dropped meanwhile."""
    require_fixtures()
    photo = cv2.resize(cv2.imread(str(PHOTOS[0])), (320, 240))
    one = np.hstack([photo, np.full_like(photo, 128)])
    two = np.hstack([photo, cv2.flip(photo, 1)])
    frames = [one] * 20 + [two] * 10
    with HandTracker("lite", max_hands=2, video=True, second_hand_ms=100) as tracker:
        counts = [len(tracker.detect(f, i * 33)) for i, f in enumerate(frames)]
        assert tracker.looks["one-hand"] >= 10, tracker.looks  # most one-hand frames skipped the palm detector
    assert all(c >= 1 for c in counts), counts
    assert counts[20 + 4:] == [2] * 6, counts  # 100 ms at 33 ms a frame, plus the frame itself
