"""The live search for distant hands (VIDEO mode): far hands found and followed, no false hands."""

import json

import cv2
import numpy as np
import pytest

from realtime.core.contract import clamp_box, grown_box, landmarks_box
from realtime.hands.search import follow_region
from realtime.hands.tracker import HandTracker

from conftest import CLIPS, PHOTOS, python, require_fixtures

ORIGIN, SCALE = (80, 60), 0.3


def far_clip(path):
    """A real clip with every frame shrunk to 30 % inside a 640x480 grey canvas: a distant person."""
    clip = next(c for c in CLIPS if c.name == "swipe_left_right.mp4")
    cap, out = cv2.VideoCapture(str(clip)), cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"mp4v"), 15, (640, 480))
    size = None
    while True:
        ok, frame = cap.read()
        if not ok:
            break
        small = cv2.resize(frame, None, fx=SCALE, fy=SCALE, interpolation=cv2.INTER_AREA)
        canvas = np.full((480, 640, 3), 114, np.uint8)
        canvas[ORIGIN[1]:ORIGIN[1] + small.shape[0], ORIGIN[0]:ORIGIN[0] + small.shape[1]] = small
        out.write(canvas)
        size = small.shape[1], small.shape[0]
    out.release()
    return size


def headless(*args):
    result = python("-m", "realtime.run", "--headless", "--model", "none", *args)
    assert result.returncode == 0, result.stderr[-2000:]
    return [json.loads(l) for l in result.stdout.splitlines()]


def test_distant_hands_are_found_live_and_the_flag_turns_it_off(tmp_path):
    require_fixtures()
    video = tmp_path / "far.mp4"
    w, h = far_clip(video)
    assert not any(l["hands"] for l in headless("--source", str(video), "--no-tiles"))  # measured: 0 of 80
    lines = headless("--source", str(video))
    found = [hand for l in lines for hand in l["hands"]]
    assert sum(bool(l["hands"]) for l in lines) >= 45, len(found)  # measured: 56 of 80 frames
    for hand in found:  # every hand lies in the shrunken clip, none in the grey around it
        x0, y0, x1, y1 = hand["box"]
        cx, cy = (x0 + x1) / 2, (y0 + y1) / 2
        assert ORIGIN[0] <= cx <= ORIGIN[0] + w and ORIGIN[1] <= cy <= ORIGIN[1] + h


def test_no_false_hands_in_frames_without_hands(tmp_path):
    """The six fixture photos with their hand painted over (people, faces and rooms remain)."""
    require_fixtures()
    video = tmp_path / "empty.mp4"
    out = cv2.VideoWriter(str(video), cv2.VideoWriter_fourcc(*"mp4v"), 15, (640, 480))
    with HandTracker(max_hands=2, video=False, tiles=False) as tracker:
        for photo in PHOTOS:
            image = cv2.imread(str(photo))
            for hand in tracker.detect(image):
                x0, y0, x1, y1 = clamp_box(grown_box(landmarks_box(hand.landmarks), 0.5), *image.shape[1::-1])
                image[y0:y1, x0:x1] = 114
            scale = min(640 / image.shape[1], 480 / image.shape[0])
            small = cv2.resize(image, None, fx=scale, fy=scale)
            canvas = np.full((480, 640, 3), 114, np.uint8)
            canvas[:small.shape[0], :small.shape[1]] = small
            for _ in range(10):
                out.write(canvas)
    out.release()
    lines = headless("--source", str(video))
    assert len(lines) == 60 and sum(len(l["hands"]) for l in lines) == 0


@pytest.mark.parametrize("box,size", [((10, 10, 30, 30), (640, 480)), ((600, 440, 639, 479), (640, 480)),
                                      ((0, 0, 400, 400), (320, 240))])
def test_follow_region_is_square_enlarged_and_inside_the_frame(box, size):
    points = np.array([box[:2], box[2:]], np.float32)
    x0, y0, x1, y1 = follow_region(points, *size)
    assert 0 <= x0 < x1 <= size[0] and 0 <= y0 < y1 <= size[1]
    assert x1 - x0 == y1 - y0 >= min(96, *size)


def test_predict_on_photos_finds_small_hands_unless_told_not_to(tmp_path, hagrid_shaped_model):
    require_fixtures()
    from test_hands import paste_small
    photo = next(p for p in PHOTOS if p.name == "hand_1.jpg")
    canvas, (x0, y0, x1, y1) = paste_small(photo, 0.1, (300, 250))
    path = tmp_path / "far.png"
    cv2.imwrite(str(path), canvas)
    base = ["-m", "training.predict", "--model", str(hagrid_shaped_model), "--photos"]
    with_tiles = python(*base, str(path))
    assert with_tiles.returncode == 0, with_tiles.stderr[-2000:]
    line = with_tiles.stdout.strip().splitlines()[-1]
    box = json.loads(line.split(" hand at ")[1].split("]:")[0] + "]")
    assert x0 - 20 <= box[0] < box[2] <= x1 + 20 and y0 - 20 <= box[1] < box[3] <= y1 + 20
    without = python(*base, "--no-tiles", str(path))
    assert without.returncode == 0 and without.stdout.strip().endswith("no hand found")
