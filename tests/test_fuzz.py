"""Seeded fuzzing of read -> crop -> preprocess -> classify: only clean errors, in a bounded number of cases."""


import cv2
import numpy as np
import pytest

from realtime.classifier.model import GestureClassifier
from realtime.core.contract import hand_crop, prepare_image
from realtime.core.errors import HandSignError
from realtime.core.images import read_bgr
from realtime.live.sources import VideoFileSource

from conftest import CLIPS, PHOTOS, require_fixtures

CASES = 60


def classify_file(classifier, path):
    image = read_bgr(path)
    h, w = image.shape[:2]
    points = np.array([[w * 0.3, h * 0.3], [w * 0.6, h * 0.7]], np.float32)
    for framing in ("hand", "context"):
        crop, _ = hand_crop(image, points, 0.1, framing)
        classifier.predict([crop])


@pytest.fixture(scope="module")
def classifier(hagrid_shaped_model):
    return GestureClassifier(hagrid_shaped_model, threads=1)


def test_random_and_truncated_files(classifier, tmp_path):
    require_fixtures()
    rng = np.random.default_rng(1234)
    sources = [PHOTOS[0].read_bytes(), cv2.imencode(".png", cv2.imread(str(PHOTOS[1])))[1].tobytes()]
    clean_errors = successes = 0
    for i in range(CASES):
        kind = i % 3
        if kind == 0:
            data = rng.integers(0, 256, int(rng.integers(0, 4000)), dtype=np.uint8).tobytes()
        else:
            src = sources[kind - 1]
            data = src[: int(rng.integers(0, len(src)))]
            if rng.random() < 0.5 and data:  # flip some bytes too
                arr = bytearray(data)
                for j in rng.integers(0, len(arr), 20):
                    arr[j] = int(rng.integers(0, 256))
                data = bytes(arr)
        path = tmp_path / f"f{i}.{'jpg' if kind < 2 else 'png'}"
        path.write_bytes(data)
        try:
            classify_file(classifier, path)
            successes += 1
        except HandSignError:
            clean_errors += 1
    assert clean_errors + successes == CASES and clean_errors > 0


def test_truncated_videos(tmp_path):
    """Every cut of a real clip either plays its readable frames (fewer than the whole clip's, each a
    real BGR frame of the clip's size) or fails with one clean error naming the file."""
    require_fixtures()
    rng = np.random.default_rng(99)
    data = CLIPS[0].read_bytes()
    with VideoFileSource(CLIPS[0]) as source:
        whole = [frame.image.shape for frame in source]
    played = failed = 0
    for i in range(12):
        path = tmp_path / f"v{i}.mp4"
        path.write_bytes(data[: int(rng.integers(0, len(data)))])
        try:
            with VideoFileSource(path) as source:
                shapes = [frame.image.shape for frame in source]
        except HandSignError as exc:
            assert path.name in str(exc) and "\n" not in str(exc), exc
            failed += 1
            continue
        assert len(shapes) < len(whole) and all(s == whole[0] for s in shapes), (path, len(shapes))
        played += 1
    assert played + failed == 12 and failed > 0, (played, failed)


def test_random_arrays_and_landmarks(classifier):
    """Random arrays and landmarks (NaN and inf among them): each case is a valid prediction (19
    finite probabilities summing to 1) or a clean HandSignError, and both outcomes occur."""
    rng = np.random.default_rng(7)
    predicted = errors = 0
    for _ in range(CASES):
        shape = tuple(int(v) for v in rng.integers(0, 40, int(rng.integers(1, 5))))
        dtype = rng.choice([np.uint8, np.uint16, np.float32])
        array = (rng.random(shape) * 255).astype(dtype)
        points = rng.normal(20, 30, (int(rng.integers(0, 4)), 2)).astype(np.float32)
        if rng.random() < 0.2 and points.size:
            points[0, 0] = rng.choice([np.nan, np.inf, -np.inf])
        try:
            crop, _ = hand_crop(array, points, float(rng.uniform(0, 0.5)), rng.choice(["hand", "context"]))
            prepared = prepare_image(crop, 32)
            (prediction,) = classifier.predict([crop])
        except HandSignError as exc:
            assert str(exc) and "\n" not in str(exc)
            errors += 1
            continue
        assert prepared.shape == (32, 32, 3)
        probs = prediction.probabilities
        assert probs.shape == (len(classifier.labels),) and np.isfinite(probs).all()
        assert abs(float(probs.sum()) - 1) < 1e-4
        predicted += 1
    assert predicted + errors == CASES and predicted > 0 and errors > 0, (predicted, errors)
