"""Where the model looked: the shipped model's class activation maps on real photos, the occlusion
fallback, and the feature-map output that leaves the probabilities as they were."""

import numpy as np
import onnx
import pytest

from realtime.classifier.activation import ActivationMaps, class_activation_map, mass_inside
from realtime.classifier.graph import FEATURE_MAP_KEY, FEATURE_MAP_LAYOUT_KEY, expose_feature_map
from realtime.classifier.model import GestureClassifier
from realtime.core.contract import FEATURE_MAP_NAME, landmarks_box, points_in_model_view, to_batch
from realtime.core.images import read_bgr
from realtime.hands.tracker import HandTracker

from conftest import PHOTOS, ROOT, python, require_fixtures

SHIPPED = ROOT / "models" / "handsign.onnx"


@pytest.fixture(scope="module")
def hands_in_photos():
    """(crop, landmarks in model-view pixels) of every hand the full tracker finds in the fixture photos."""
    require_fixtures()
    c = GestureClassifier(SHIPPED).contract
    out = []
    with HandTracker("full", 2, video=False) as tracker:
        for photo in PHOTOS:
            image = read_bgr(photo)
            for hand in tracker.detect(image):
                crop, box = hand.crop(image, c.crop_margin, c.crop_framing)
                out.append((crop, points_in_model_view(hand.landmarks, box, c.image_size)))
    assert len(out) >= 5
    return out


def without_feature_map(path, tmp_path):
    """The shipped graph with the feature-map output and its metadata taken away (as before the upgrade)."""
    model = onnx.load(str(path))
    keep = [o for o in model.graph.output if o.name != FEATURE_MAP_NAME]
    del model.graph.output[:]
    model.graph.output.extend(keep)
    nodes = [n for n in model.graph.node if FEATURE_MAP_NAME not in n.output]
    del model.graph.node[:]
    model.graph.node.extend(nodes)
    meta = {p.key: p.value for p in model.metadata_props if p.key not in (FEATURE_MAP_KEY, FEATURE_MAP_LAYOUT_KEY)}
    del model.metadata_props[:]
    onnx.helper.set_model_props(model, meta)
    out = tmp_path / "plain.onnx"
    onnx.save(model, str(out))
    return out


def concentration(maps, hands):
    """Per hand: (mass of the predicted class's map inside the landmark box, the box's share of the crop)."""
    size = maps.classifier.contract.image_size
    _, heats = maps.maps([crop for crop, _ in hands])
    rows = []
    for heat, (_, points) in zip(heats, hands):
        x0, y0, x1, y1 = landmarks_box(points)
        rows.append((mass_inside(heat, (x0, y0, x1, y1)), (x1 - x0) * (y1 - y0) / size ** 2))
    return rows


def test_shipped_map_of_the_predicted_class_lies_on_the_hand(hands_in_photos):
    maps = ActivationMaps(GestureClassifier(SHIPPED))
    assert maps.method == "cam"
    rows = concentration(maps, hands_in_photos)
    # denser on the hand than a uniform map would be, for every hand; most of it there, typically
    assert all(mass > share for mass, share in rows), rows
    assert np.median([mass for mass, _ in rows]) >= 0.6, rows


def test_feature_map_output_leaves_the_probabilities_unchanged(hands_in_photos, tmp_path):
    plain = GestureClassifier(without_feature_map(SHIPPED, tmp_path))
    shipped = GestureClassifier(SHIPPED)
    assert not plain.contract.feature_map_output and shipped.contract.feature_map_layout == "NCHW"
    batch = to_batch([crop for crop, _ in hands_in_photos], shipped.contract)
    assert np.array_equal(plain.predict_batch(batch), shipped.predict_batch(batch))
    # and the surgery gives it back, the same map as the shipped file's
    again = expose_feature_map(onnx.load(str(tmp_path / "plain.onnx")))
    onnx.save(again, str(tmp_path / "again.onnx"))
    restored = ActivationMaps(GestureClassifier(tmp_path / "again.onnx"))
    _, a = restored.maps([hands_in_photos[0][0]])
    _, b = ActivationMaps(shipped).maps([hands_in_photos[0][0]])
    assert restored.method == "cam" and np.allclose(a[0], b[0])


def test_occlusion_map_for_models_without_a_feature_map(hands_in_photos, tmp_path):
    maps = ActivationMaps(GestureClassifier(without_feature_map(SHIPPED, tmp_path)))
    assert maps.method == "occlusion"
    rows = concentration(maps, hands_in_photos)
    # the same check as the class activation map's (docs/activation-maps.md): denser on the hand than a
    # uniform map for every hand, and most of it there, typically (measured: median 0.77, lowest 0.41)
    assert all(mass > share for mass, share in rows), rows
    assert np.median([mass for mass, _ in rows]) >= 0.6, rows


def test_class_activation_map_is_the_weighted_feature_map():
    fmap = np.zeros((3, 2, 2), np.float32)
    fmap[0, 0, 0], fmap[1, 1, 1], fmap[2, 0, 1] = 1.0, 2.0, 5.0
    cam = class_activation_map(fmap, np.array([1.0, 1.0, -1.0]))
    assert np.allclose(cam, [[0.5, 0.0], [0.0, 1.0]])  # negative evidence clipped, scaled to 1
    assert np.allclose(class_activation_map(np.moveaxis(fmap, 0, -1), np.array([1.0, 1.0, -1.0]), "NHWC"), cam)


def test_predict_cam_writes_the_map_beside_each_crop(tmp_path):
    require_fixtures()
    result = python("-m", "training.predict", "--model", str(SHIPPED), "--photos", str(PHOTOS[1]),
                    "--activation-maps", str(tmp_path / "cam"))
    assert result.returncode == 0, result.stderr[-2000:]
    import cv2
    written = sorted((tmp_path / "cam").glob("*_cam.png"))
    assert len(written) == 1 and "where it looked" in result.stdout
    image = cv2.imread(str(written[0]))
    size = GestureClassifier(SHIPPED).contract.image_size
    assert image.shape == (size, 2 * size, 3)
