"""The landmark head: hand-shape features, the fused graph of the shipped model, and crop-only models."""

from __future__ import annotations

import json
from collections import Counter

import cv2
import numpy as np
import onnx
import onnxruntime as ort
import pytest

from realtime.classifier.graph import FUSION_EPS, without_landmark_head
from realtime.classifier.model import GestureClassifier, ModelLoadError
from realtime.core.contract import FUSED_NAME, LANDMARK_INPUT_NAME, LANDMARK_OUTPUT_NAME, OUTPUT_NAME
from realtime.core.hand_shape import FEATURES_SIZE, hand_shape_features, image_flip
from realtime.core.paths import GESTURE_MODEL, HAND_MODEL
from realtime.hands.tracker import HandTracker
from realtime.live.pipeline import GesturePipeline

from conftest import PHOTOS, python, require_fixtures


@pytest.fixture(scope="module")
def photo_hands():
    """Real hands: the fixture photos' landmarks from MediaPipe (IMAGE mode)."""
    require_fixtures()
    found = []
    with HandTracker(HAND_MODEL, 2, video=False) as tracker:
        for path in PHOTOS:
            image = cv2.imread(str(path))
            found += [(image, h) for h in tracker.detect(image)]
    assert len(found) >= 4
    return found


def test_features_ignore_position_and_scale_and_mirror_left_hands(photo_hands):
    _, hand = photo_hands[0]
    pts = np.asarray(hand.landmarks, np.float64)[:, :2]
    f = hand_shape_features(pts, flip=False)
    assert f.shape == (FEATURES_SIZE,) and np.isfinite(f).all()
    np.testing.assert_allclose(hand_shape_features(pts * 3.0 + [40.0, -7.0], flip=False), f, atol=1e-4)
    mirrored = pts.copy()
    mirrored[:, 0] = 1000.0 - mirrored[:, 0]
    np.testing.assert_allclose(hand_shape_features(mirrored, flip=True), f, atol=1e-4)
    # a person's right hand looks like a left hand in the camera's own view, like a right one in a mirror
    assert image_flip("Right", mirrored=False) and not image_flip("Left", mirrored=False)
    assert image_flip("Left", mirrored=True) and not image_flip("Right", mirrored=True)
    turned = pts.copy()  # a different shape: the thumb tip moved onto the index tip
    turned[4] = turned[8]
    assert np.abs(hand_shape_features(turned, flip=False) - f).max() > 0.1


def test_shipped_fused_output_is_the_documented_rule_on_real_hands(photo_hands):
    model = onnx.load(str(GESTURE_MODEL))
    wanted = ("handsign.fused_output", "handsign.landmark_input", "handsign.labels", "handsign.fusion")
    meta = {p.key: json.loads(p.value) for p in model.metadata_props if p.key in wanted}
    assert meta["handsign.fused_output"] == FUSED_NAME and meta["handsign.landmark_input"] == LANDMARK_INPUT_NAME
    labels, fusion = meta["handsign.labels"], meta["handsign.fusion"]
    w = np.array([fusion["weights"][l] for l in labels], np.float32)
    # docs/landmark-head.md: no_gesture is the crop's call (weight 0), every gesture has the same weight
    gestures = [fusion["weights"][l] for l in labels if l != "no_gesture"]
    assert fusion["weights"]["no_gesture"] == 0 and 0 < min(gestures) == max(gestures) <= 1, fusion["weights"]
    session = ort.InferenceSession(str(GESTURE_MODEL), providers=["CPUExecutionProvider"])
    size = session.get_inputs()[0].shape[1]
    images = np.stack([cv2.resize(image, (size, size))[:, :, ::-1] for image, _ in photo_hands]).astype(np.float32)
    shapes = np.stack([hand_shape_features(h.landmarks, image_flip(h.handedness, False)) for _, h in photo_hands])
    crop, lm, fused = session.run([OUTPUT_NAME, LANDMARK_OUTPUT_NAME, FUSED_NAME],
                                  {session.get_inputs()[0].name: images, LANDMARK_INPUT_NAME: shapes})
    groups = np.zeros((len(fusion["groups"]), len(labels)), np.float32)
    for g, members in enumerate(fusion["groups"]):
        groups[g, [labels.index(m) for m in members]] = 1
    group_of_label = (lm @ groups.T) @ groups  # the group's probability, given to each member
    logits = (1 - w) * np.log(crop + FUSION_EPS) + w * np.log(group_of_label + FUSION_EPS)
    want = np.exp(logits - logits.max(1, keepdims=True))
    np.testing.assert_allclose(fused, want / want.sum(1, keepdims=True), atol=1e-5)
    np.testing.assert_allclose(lm.sum(1), 1, atol=1e-5)
    assert (lm.argmax(1) != crop.argmax(1)).any() or (np.abs(fused - crop).max() > 1e-3)  # the head is not inert


def test_crop_only_models_still_work_and_refuse_the_landmarks_head(tmp_path, photo_hands):
    plain = tmp_path / "crop_only.onnx"
    onnx.save(without_landmark_head(onnx.load(str(GESTURE_MODEL))), str(plain))
    only = GestureClassifier(plain)
    assert not only.has_landmark_head and only.heads == "crop"
    shipped = GestureClassifier(GESTURE_MODEL, heads="crop")
    batch = np.random.default_rng(0).uniform(0, 255, (3, only.contract.image_size, only.contract.image_size, 3)).astype(np.float32)
    np.testing.assert_allclose(only.predict_batch(batch), shipped.predict_batch(batch), atol=1e-5)
    with pytest.raises(ModelLoadError, match="no landmark head"):
        GestureClassifier(plain, heads="landmarks")
    done = python("-m", "realtime.run", "--source", str(PHOTOS[0]), "--headless", "--model", str(plain),
                  "--heads", "landmarks")
    assert done.returncode == 2 and done.stderr.strip().splitlines()[-1].startswith("error:"), done.stderr


def test_heads_change_the_answer_through_the_live_path(photo_hands):
    """Each head is reachable from the live path: the same hands give per-head probabilities."""
    image, _ = photo_hands[0]
    answers = {}
    with HandTracker(HAND_MODEL, 2, video=False) as tracker:
        for heads in ("crop", "landmarks", "fused"):
            pipeline = GesturePipeline(tracker, GestureClassifier(GESTURE_MODEL, heads=heads), threshold=0.0,
                                       smoothing=1)
            hands = pipeline.classify_hands(image, tracker.detect(image))
            answers[heads] = np.stack([h.probabilities for h in hands])
    assert not np.allclose(answers["crop"], answers["landmarks"], atol=1e-3)
    assert not np.allclose(answers["crop"], answers["fused"], atol=1e-6)
    # and from the command line: realtime.run --heads H prints the top three of that head for the same photo
    for heads in ("crop", "landmarks", "fused"):
        run = python("-m", "realtime.run", "--source", str(PHOTOS[0]), "--headless", "--heads", heads,
                     "--threshold", "0", "--smooth", "1")
        assert run.returncode == 0, run.stderr[-2000:]
        printed = [h["top3"] for h in json.loads(run.stdout.splitlines()[0])["hands"]]
        expected = [[[GestureClassifier(GESTURE_MODEL).labels[i], float(p[i])] for i in np.argsort(p)[::-1][:3]]
                    for p in answers[heads]]
        assert len(printed) == len(expected)
        for got, want in zip(printed, expected):
            assert [g[0] for g in got] == [w[0] for w in want], (heads, got, want)
            np.testing.assert_allclose([g[1] for g in got], [w[1] for w in want], atol=1e-3)


@pytest.mark.slow
def test_training_the_landmark_head_writes_a_loadable_fused_model_and_the_reference_shapes(tmp_path):
    """``training.landmark_head`` end to end on real crops and photos: a few crops per class, one tuning
    photo per class, then the written model loads, answers with each head, and the reference keeps
    the hand shapes (the file teach mode's --keep-base fits a taught landmark head from)."""
    require_fixtures()
    from realtime.teaching import reference

    from conftest import SHARED
    tune = tmp_path / "tune"
    for folder in sorted((SHARED / "data" / "hagrid_context").iterdir()):
        (tune / folder.name).mkdir(parents=True)
        first = sorted(folder.iterdir())[0]
        (tune / folder.name / first.name).symlink_to(first)
    ref = tmp_path / "ref.npz"
    ref.write_bytes(GESTURE_MODEL.with_suffix(".reference.npz").read_bytes())
    out = tmp_path / "fused.onnx"
    r = python("-m", "training.landmark_head", "--data", str(SHARED / "data" / "hagrid_crops"), "--tune-data", str(tune),
               "--per-class", "4", "--hidden", "16", "--cache-dir", str(tmp_path / "cache"), "--out", str(out),
               "--reference", str(ref), "--reference-per-class", "2")
    assert r.returncode == 0, r.stderr[-3000:]
    assert f"wrote {out}" in r.stdout and out.is_file()
    report = json.loads(out.with_suffix(".landmark_head.json").read_text())
    assert report["tune_images"] == 19 and len(report["grid"]) == 24 and report["hands_found"] >= 19
    chosen = report["chosen"]
    assert chosen["accuracy"] == max(g["accuracy"] for g in report["grid"])
    model = GestureClassifier(out, heads="fused")
    assert model.has_landmark_head and list(model.labels) == list(GestureClassifier(GESTURE_MODEL).labels)
    fusion = json.loads({p.key: p.value for p in onnx.load(str(out)).metadata_props}["handsign.fusion"])
    assert fusion["weights"]["palm"] == chosen["gesture_weight"] and fusion["hidden"] == [16]
    crop_only = GestureClassifier(out, heads="crop")
    assert crop_only.heads == "crop"
    shapes = reference.load(ref, model)
    per_class = Counter(shapes.shape_labels)  # up to 2 of each class, of the crops where a hand was found
    assert set(per_class) == set(model.labels) and set(per_class.values()) <= {1, 2}
    assert len(shapes.shapes) == len(shapes.shape_labels) == sum(per_class.values())
