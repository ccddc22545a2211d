"""The overlay's layout: a hand's caption stays inside the frame and clear of the HUD and the crop view."""

import cv2
import pytest

from realtime.live.overlay import Annotator, _overlaps
from realtime.live.pipeline import FrameResult, HandResult
from realtime.live.sources import Frame

from conftest import PHOTOS, require_fixtures


def _hand(box, label, score, crop) -> HandResult:
    view = cv2.cvtColor(cv2.resize(crop, (160, 160)), cv2.COLOR_BGR2RGB)
    return HandResult(box=box, handedness="Right" if box[0] > 300 else "Left", hand_score=0.9, crop=crop,
                      model_view=view, label=label, score=score, top3=[(label, score)], track=0)


@pytest.mark.parametrize("actions", [None, "actions on (a pauses)"])
def test_captions_stay_clear_of_the_timing_line_and_the_crop_view(actions):
    """The case seen on a 779x390 two-hand clip: the left hand's label sat under the stage timings and
    the right hand's was cut off by the crop panel."""
    require_fixtures()
    photo = cv2.imread(str(PHOTOS[0]))
    image = cv2.resize(photo, (779, 390))
    crop = photo[: photo.shape[0] // 2, : photo.shape[1] // 2]
    hands = [_hand((6, 8, 150, 170), "palm", 0.91, crop),          # top left, under the HUD
             _hand((600, 10, 770, 200), "one", 0.86, crop)]       # top right, under the crop panel
    result = FrameResult(Frame(image, 0, 0), image, hands,
                         {"capture": 1.2, "hands": 14.8, "search": 0.3, "classify": 6.1, "draw": 0.8})
    annotator = Annotator(0.6)
    canvas = annotator.draw(result, 31.0, show_crops=True, actions=actions)
    assert canvas.shape == image.shape
    assert len(annotator.labels) == 2 and len(annotator.reserved) == 2  # the HUD and the crop panel
    h, w = image.shape[:2]
    for rect in annotator.labels:
        assert rect[0] >= 0 and rect[1] >= 0 and rect[2] <= w and rect[3] <= h, rect
        for reserved in annotator.reserved:
            assert not _overlaps(rect, reserved), (rect, reserved)
    assert not _overlaps(*annotator.labels)
    # the caption's pixels were drawn where it says: its background (the hand's colour) is there
    x0, y0, x1, y1 = annotator.labels[1]
    assert (canvas[y0 + 2:y1 - 2, x0 + 2:x1 - 2] != image[y0 + 2:y1 - 2, x0 + 2:x1 - 2]).any()


def test_a_caption_with_room_above_its_box_stays_there():
    require_fixtures()
    image = cv2.resize(cv2.imread(str(PHOTOS[0])), (640, 480))
    hand = _hand((200, 200, 320, 330), "fist", 0.8, image[200:330, 200:320].copy())
    annotator = Annotator(0.6)
    annotator.draw(FrameResult(Frame(image, 0, 0), image, [hand], {}), 30.0)
    (x0, y0, x1, y1), = annotator.labels
    assert y1 <= 200 + 2 and x0 >= 196  # just above the box, at its left edge
