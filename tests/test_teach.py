"""Teaching new gestures: real HaGRID crops in, a complete HandSign model out, scored on held-out photos.

The taught gestures are HaGRID ones the shipped backbone has seen (the only labelled hands here), so
these tests show the workflow and the plumbing; they do not measure how well an unseen sign is learnt.
"""

import json

import numpy as np
import onnx
import pytest

from realtime.classifier.graph import with_taught_head
from realtime.classifier.model import GestureClassifier
from realtime.core.contract import NO_GESTURE
from realtime.core.errors import HandSignError
from realtime.core.images import read_bgr

from conftest import PHOTOS, ROOT, SHARED, python, require_fixtures

CROPS = SHARED / "data" / "hagrid_crops"
CONTEXT = SHARED / "data" / "hagrid_context"
SHIPPED = ROOT / "models" / "handsign.onnx"


def link_images(src, dst, count, start=0):
    dst.mkdir(parents=True, exist_ok=True)
    for f in sorted(src.glob("*.jpg"))[start:start + count]:
        (dst / f.name).symlink_to(f)


@pytest.fixture(scope="module")
def taught(tmp_path_factory):
    """Three gestures taught from 12 tight crops each (new names, base dropped)."""
    if not CROPS.is_dir() or not CONTEXT.is_dir():
        pytest.fail(f"HaGRID data missing under {SHARED / 'data'}")
    d = tmp_path_factory.mktemp("teach")
    for name, cls in (("horns", "rock"), ("phone", "call"), ("thumb_up", "like")):
        link_images(CROPS / cls, d / "data" / name, 12)
    (d / "data" / "phone" / "broken.jpg").write_bytes(b"\xff\xd8\xff not really a jpeg")
    out = d / "taught.onnx"
    result = python("-m", "realtime.teach", "--data", str(d / "data"), "--out", str(out))
    assert result.returncode == 0, result.stderr[-3000:]
    return d, out, result.stdout


def test_taught_model_loads_and_reports_cross_validation(taught):
    _, out, stdout = taught
    model = GestureClassifier(out)
    assert model.labels == ("horns", "phone", "thumb_up")
    assert model.feature_name == "features"  # a taught model can itself be embedded with
    assert "cross-validated accuracy" in stdout and "skipped 1 unreadable" in stdout
    meta = json.loads(model.contract.extra["teach"])
    assert meta["images"] == {"horns": 12, "phone": 12, "thumb_up": 12} and not meta["keep_base"]
    assert "metrics" not in model.contract.extra  # the base's scores do not describe it
    # the base has a landmark head, so the taught model gets one for its own gestures
    assert model.has_landmark_head and "landmark head taught too" in stdout, stdout
    # the backbone is the shipped one: same features for the same crop
    crop = read_bgr(PHOTOS[2])
    assert np.allclose(model.embed([crop]), GestureClassifier(SHIPPED).embed([crop]), atol=1e-5)


def test_taught_model_classifies_held_out_photos_through_the_live_path(taught, tmp_path):
    _, out, _ = taught
    data = tmp_path / "held_out"
    for name, cls in (("horns", "rock"), ("phone", "call"), ("thumb_up", "like")):
        link_images(CONTEXT / cls, data / name, 15)
    result = python("-m", "realtime.evaluate", "--model", str(out), "--data", str(data),
                    "--out", str(tmp_path / "eval"), "--no-tiles")
    assert result.returncode == 0, result.stderr[-3000:]
    metrics = json.loads((tmp_path / "eval" / "metrics.json").read_text())
    assert metrics["accuracy_given_hand"] >= 0.8, metrics  # chance is 1/3
    result = python("-m", "training.evaluate", "--model", str(out), "--data", str(data), "--split", "all",
                    "--out", str(tmp_path / "eval_crops"))
    assert result.returncode == 0, result.stderr[-3000:]


def test_keep_base_adds_a_gesture_and_keeps_the_others(tmp_path):
    """A new gesture is one the base's examples do not show: here `like`, left out of --base-data."""
    require_fixtures()
    link_images(CROPS / "like", tmp_path / "data" / "thumbs", 15)
    for cls in ("call", "fist", "one", "palm", "peace", "no_gesture"):
        link_images(CROPS / cls, tmp_path / "base" / cls, 20, start=100)
    out = tmp_path / "plus.onnx"
    result = python("-m", "realtime.teach", "--data", str(tmp_path / "data"), "--out", str(out),
                    "--keep-base", "--base-data", str(tmp_path / "base"), "--hands", "none")
    assert result.returncode == 0, result.stderr[-3000:]
    model, base = GestureClassifier(out), GestureClassifier(SHIPPED)
    assert model.labels == base.labels + ("thumbs",)
    held = tmp_path / "held"
    link_images(CONTEXT / "like", held / "thumbs", 12)
    link_images(CONTEXT / "fist", held / "fist", 12)
    link_images(CONTEXT / "palm", held / "palm", 12)
    result = python("-m", "realtime.evaluate", "--model", str(out), "--data", str(held),
                    "--out", str(tmp_path / "eval"), "--no-tiles")
    assert result.returncode == 0, result.stderr[-3000:]
    per_class = json.loads((tmp_path / "eval" / "metrics.json").read_text())["per_class"]
    assert per_class["thumbs"]["recall"] >= 0.6, per_class
    assert per_class["fist"]["recall"] >= 0.8 and per_class["palm"]["recall"] >= 0.8, per_class


def test_keep_base_teaches_the_landmark_head_from_the_shipped_reference_shapes(tmp_path):
    """Without --base-data the shipped reference's hand shapes stand for the base's gestures."""
    require_fixtures()
    link_images(CROPS / "rock", tmp_path / "data" / "horns", 15)
    out = tmp_path / "plus.onnx"
    result = python("-m", "realtime.teach", "--data", str(tmp_path / "data"), "--out", str(out), "--keep-base",
                    "--hands", "none")
    assert result.returncode == 0, result.stderr[-3000:]
    assert "landmark head taught too" in result.stdout, result.stdout
    model = GestureClassifier(out)
    assert model.has_landmark_head and model.labels[-1] == "horns"
    fusion = json.loads(model.session.get_modelmeta().custom_metadata_map["handsign.fusion"])
    assert ["horns"] in fusion["groups"] and ["one", "mute"] in fusion["groups"]
    # real photos of the same shape: the landmark head alone puts them on `horns` or the base's `rock`
    # (the very same hand shape, which landmarks cannot tell apart), and keeps a base gesture its own
    from realtime.core.hand_shape import hand_shape_features
    from realtime.teaching.teach import crop_shapes
    lm = GestureClassifier(out, heads="landmarks")
    size = lm.contract.image_size
    for cls, allowed in (("rock", {"horns", "rock"}), ("palm", {"palm"})):
        crops = [read_bgr(p) for p in sorted((CONTEXT / cls).glob("*.jpg"))[:10]]
        shapes = [s for s in crop_shapes(crops) if s is not None]
        assert len(shapes) >= 4, cls
        feats = np.stack([hand_shape_features(l, f) for l, f in shapes])
        top = lm.predict_batch(np.zeros((len(feats), size, size, 3), np.float32), feats).argmax(1)
        assert np.mean([lm.labels[t] in allowed for t in top]) >= 0.7, (cls, [lm.labels[t] for t in top])


def test_mixture_head_keeps_base_probabilities_when_the_new_head_says_base(tmp_path):
    """The keep-base graph: [p_base * p_new(base), p_new(taught)], checked against numpy."""
    base = onnx.load(str(SHIPPED))
    dim, rng = 1280, np.random.default_rng(0)
    weight, bias = rng.normal(0, 0.01, (dim, 3)).astype(np.float32), np.array([2.0, 0.0, -1.0], np.float32)
    path = tmp_path / "mixture.onnx"
    onnx.save(with_taught_head(base, weight, bias, ["a", "b"], True, {}), str(path))
    model, shipped = GestureClassifier(path), GestureClassifier(SHIPPED, heads="crop")
    assert not model.has_landmark_head  # the base's landmark head knows none of the taught gestures
    crops = [read_bgr(p) for p in PHOTOS[:3]]
    p = np.stack([x.probabilities for x in model.predict(crops)])
    p_base = np.stack([x.probabilities for x in shipped.predict(crops)])
    logits = shipped.embed(crops) @ weight + bias
    p_new = np.exp(logits - logits.max(1, keepdims=True))
    p_new /= p_new.sum(1, keepdims=True)
    expected = np.concatenate([p_base * p_new[:, :1], p_new[:, 1:]], axis=1)
    assert np.allclose(p, expected, atol=1e-5) and np.allclose(p.sum(1), 1, atol=1e-5)
    assert NO_GESTURE in model.labels


def test_old_single_output_models_still_load_and_say_they_cannot_be_taught(hagrid_shaped_model, tmp_path):
    model = GestureClassifier(hagrid_shaped_model)  # exported without the feature output
    assert model.feature_name is None
    link_images(CROPS / "like", tmp_path / "data" / "a", 5)
    link_images(CROPS / "fist", tmp_path / "data" / "b", 5)
    result = python("-m", "realtime.teach", "--data", str(tmp_path / "data"), "--out", str(tmp_path / "m.onnx"),
                    "--base", str(hagrid_shaped_model), "--hands", "none")
    assert result.returncode == 2 and result.stderr.startswith("error:"), result.stderr
    assert "no backbone feature output" in result.stderr and "Traceback" not in result.stderr
    assert not (tmp_path / "m.onnx").exists()
    # ... until export.features upgrades the file; the probabilities do not change
    upgraded = tmp_path / "upgraded.onnx"
    result = python("-m", "export.features", str(hagrid_shaped_model), "--out", str(upgraded))
    assert result.returncode == 0, result.stderr[-2000:]
    crops = [read_bgr(p) for p in PHOTOS[:2]]
    new = GestureClassifier(upgraded)
    assert new.feature_name == "features" and new.embed(crops).shape == (2, 1280)
    assert np.array_equal(np.stack([x.probabilities for x in new.predict(crops)]),
                          np.stack([x.probabilities for x in model.predict(crops)]))


@pytest.mark.parametrize("layout, expected", [
    ({"a": 5, "b": 4}, "fewer than 5 readable images"),
    ({"a": 6}, "need at least 2 gestures"),
    ({}, "not a folder-per-class data set"),
])
def test_bad_teach_data_is_one_line_error(tmp_path, layout, expected):
    data = tmp_path / "data"
    data.mkdir()
    for name, n in layout.items():
        link_images(CROPS / "palm", data / name, n)
    out = tmp_path / "m.onnx"
    result = python("-m", "realtime.teach", "--data", str(data), "--out", str(out), "--hands", "none")
    assert result.returncode == 2, result.stderr
    lines = result.stderr.strip().splitlines()
    assert lines[-1].startswith("error:") and expected in lines[-1] and "Traceback" not in result.stderr
    assert not out.exists()


def test_keep_base_rejects_a_name_the_base_has(tmp_path):
    link_images(CROPS / "palm", tmp_path / "data" / "palm", 6)
    result = python("-m", "realtime.teach", "--data", str(tmp_path / "data"), "--out", str(tmp_path / "m.onnx"),
                    "--keep-base", "--hands", "none")
    assert result.returncode == 2 and "already labels of the base model" in result.stderr


def test_teach_mode_keys_name_pick_and_record_window(tmp_path):
    """The window's key handling without a window: typing, backspace, slots, hold-to-record."""
    from realtime.live.teach_mode import TeachMode
    mode = TeachMode(tmp_path / "teach", SHIPPED)
    mode.enter()
    for k in b"pinchx":
        mode.handle_key(k)
    mode.handle_key(8)  # backspace
    assert mode.state.name == "pinch" and mode.handle_key(ord("q")) is None  # q is a letter while naming
    mode.handle_key(13)
    assert mode.state.gesture == "pinchq" and not mode.recording
    mode.handle_key(ord("r"))
    assert mode.recording
    for name in ("a_first", "b_second"):
        (tmp_path / "teach" / name).mkdir(parents=True)
    mode.handle_key(ord("2"))
    assert mode.state.gesture == "b_second"
    with pytest.raises(HandSignError, match="record at least 5 crops of a_first, b_second") as err:
        mode.train()
    assert "\n" not in str(err.value)  # shown whole as the window's banner
    assert mode.handle_key(ord("q")) == "quit" and mode.handle_key(27) == "leave" and not mode.state.active


def test_teach_refuses_to_overwrite_its_base(tmp_path):
    link_images(CROPS / "palm", tmp_path / "data" / "a", 5)
    link_images(CROPS / "fist", tmp_path / "data" / "b", 5)
    before = SHIPPED.read_bytes()
    result = python("-m", "realtime.teach", "--data", str(tmp_path / "data"), "--out", str(SHIPPED))
    assert result.returncode == 2 and "overwrite the base model" in result.stderr
    assert SHIPPED.read_bytes() == before
