"""The inference contract: crop geometry, preprocessing and metadata round trip."""

import cv2
import numpy as np
import pytest

from realtime.core import contract as C

from conftest import PEER, PHOTOS, require_fixtures


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
    crop = C.crop_padded(frame, box)
    assert crop.shape == (20, 20, 3)
    assert (crop[:5, :5] == C.PAD_VALUE).all()  # padding where the frame ends
    assert (crop[5:15, 5:15] == 255).all()  # the hand in the middle


def test_crop_square_outside_frame_is_all_padding():
    crop = C.crop_padded(np.zeros((50, 50, 3), np.uint8), (100, 100, 120, 120))
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


def test_grown_box_keeps_the_aspect_and_adds_the_margin_of_the_longer_side():
    assert C.grown_box((10, 20, 50, 100), 0.1) == (2, 12, 58, 108)  # longer side 80: 8 px each way
    assert C.grown_box((10, 20, 50, 100), 0.0) == (10, 20, 50, 100)


def test_crop_box_chooses_the_framing():
    box = (10, 20, 50, 100)
    assert C.crop_box(box, 0.1, "hand") == C.grown_box(box, 0.1)
    assert C.crop_box(box, 0.1, "context") == C.square_crop_box(box, 0.1)
    with pytest.raises(C.ContractError, match="framing"):
        C.crop_box(box, 0.1, "wide")


def test_hand_framing_crop_is_grey_padded_to_square_like_a_training_crop():
    frame = np.full((200, 200, 3), 30, np.uint8)
    points = np.array([[50, 40], [90, 140]], np.float32)  # a tall hand: 40 x 100
    crop, box = C.hand_crop(frame, points, 0.1, "hand")
    assert crop.shape[:2] == (120, 60)  # real pixels only, no context added sideways
    prepared = C.prepare_image(crop, 60)
    assert (prepared[:, :10] == C.PAD_VALUE).all() and (prepared[:, 20:40] == 30).all()


def test_old_models_without_framing_key_read_as_context():
    meta = C.ModelContract(labels=("a", "b")).to_metadata()
    assert C.ModelContract.from_metadata(meta).crop_framing == C.DEFAULT_FRAMING == "hand"
    del meta["handsign.crop_framing"]
    assert C.ModelContract.from_metadata(meta).crop_framing == "context"
    meta["handsign.crop_framing"] = '"sideways"'
    with pytest.raises(C.ContractError, match="framing"):
        C.ModelContract.from_metadata(meta)


def test_no_gesture_is_not_a_gesture_index():
    contract = C.ModelContract(labels=("call", "no_gesture", "palm"))
    assert contract.gesture_indices == [0, 2]
