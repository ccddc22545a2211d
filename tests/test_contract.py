"""The inference contract: crop geometry, preprocessing and metadata round trip."""

import cv2
import numpy as np
import pytest

from conftest import PEER, PHOTOS, require_fixtures
from realtime import contract as C


def test_hagrid_labels_are_canonical_sorted_order():
    assert list(C.HAGRID_LABELS) == sorted(C.HAGRID_LABELS)
    assert len(C.HAGRID_LABELS) == 18
    assert C.HAGRID_LABELS[0] == "call" and C.HAGRID_LABELS[-1] == "two_up_inverted"


def test_canonical_labels_sorts_and_rejects_duplicates():
    assert C.canonical_labels(["b", "a", "c"]) == ["a", "b", "c"]
    with pytest.raises(C.ContractError):
        C.canonical_labels(["a", "a"])


@pytest.mark.parametrize("box,margin", [((10, 20, 50, 100), 0.25), ((0, 0, 30, 10), 0.0), ((5, 5, 6, 6), 0.5)])
def test_square_crop_box_is_square_centred_and_has_margin(box, margin):
    x0, y0, x1, y1 = C.square_crop_box(box, margin)
    side = max(box[2] - box[0], box[3] - box[1], 1) * (1 + 2 * margin)
    assert x1 - x0 == y1 - y0 == max(round(side), 1)
    assert abs((x0 + x1) / 2 - (box[0] + box[2]) / 2) <= 1
    assert abs((y0 + y1) / 2 - (box[1] + box[3]) / 2) <= 1
    assert x0 <= box[0] and y0 <= box[1] and x1 >= box[2] and y1 >= box[3]


def test_crop_square_pads_outside_the_frame_and_keeps_the_hand_centred():
    frame = np.zeros((100, 200, 3), np.uint8)
    frame[:10, :10] = 255  # a white "hand" in the top-left corner
    box = C.square_crop_box((0, 0, 10, 10), margin=0.5)  # reaches past the top-left edge
    crop = C.crop_square(frame, box)
    assert crop.shape == (20, 20, 3)
    assert (crop[:5, :5] == C.PAD_VALUE).all()  # padding where the frame ends
    assert (crop[5:15, 5:15] == 255).all()  # the hand in the middle


def test_crop_square_outside_frame_is_all_padding():
    crop = C.crop_square(np.zeros((50, 50, 3), np.uint8), (100, 100, 120, 120))
    assert crop.shape == (20, 20, 3) and (crop == C.PAD_VALUE).all()


def test_clamp_box_stays_inside():
    assert C.clamp_box((-5, -5, 700, 500), 640, 480) == (0, 0, 640, 480)


def test_prepare_image_pads_to_square_converts_to_rgb_and_resizes():
    bgr = np.zeros((40, 80, 3), np.uint8)
    bgr[:, :, 0] = 255  # pure blue in BGR
    out = C.prepare_image(bgr, 32)
    assert out.shape == (32, 32, 3) and out.dtype == np.uint8
    assert out[16, 16].tolist() == [0, 0, 255]  # RGB order: blue is last
    assert out[0, 16].tolist() == [C.PAD_VALUE] * 3  # padded rows above, no stretching


def test_shared_fixtures_are_present():
    """Fixture-driven tests are parametrized over these files: fail loudly rather than collect none."""
    require_fixtures()
    assert len(PHOTOS) == 6 and PEER.is_file()


def test_prepare_image_on_a_real_photo_matches_cv2_area_resize():
    require_fixtures()
    bgr = cv2.imread(str(PHOTOS[0]))
    side = min(bgr.shape[:2])
    square = bgr[:side, :side]
    expected = cv2.cvtColor(cv2.resize(square, (96, 96), interpolation=cv2.INTER_AREA), cv2.COLOR_BGR2RGB)
    assert np.array_equal(C.prepare_image(square, 96), expected)


def test_prepare_image_rejects_empty():
    with pytest.raises(C.ContractError):
        C.prepare_image(np.zeros((0, 0, 3), np.uint8), 32)


def test_metadata_round_trip():
    original = C.ModelContract(labels=("a", "b"), image_size=96, crop_margin=0.3,
                               extra={"opset": "17", "metrics": '{"accuracy": 0.9}'})
    meta = original.to_metadata()
    assert all(isinstance(k, str) and isinstance(v, str) for k, v in meta.items())
    assert C.ModelContract.from_metadata(meta) == original


@pytest.mark.parametrize("meta,message", [
    ({}, "no HandSign metadata"),
    ({"handsign.labels": "not json", "handsign.schema_version": "1"}, "malformed"),
    ({"handsign.labels": '["a"]', "handsign.schema_version": "99"}, "schema version"),
    ({"handsign.labels": '["a"]', "handsign.schema_version": "1", "handsign.layout": '"NCHW"'}, "layout"),
])
def test_metadata_errors_are_clear(meta, message):
    with pytest.raises(C.ContractError, match=message):
        C.ModelContract.from_metadata(meta)


def test_to_batch_is_float_nhwc_in_value_range():
    crops = [np.full((30, 50, 3), 200, np.uint8), np.full((70, 70, 3), 10, np.uint8)]
    batch = C.to_batch(crops, C.ModelContract(labels=("x",), image_size=24))
    assert batch.shape == (2, 24, 24, 3) and batch.dtype == np.float32
    assert 0 <= batch.min() and batch.max() <= 255
