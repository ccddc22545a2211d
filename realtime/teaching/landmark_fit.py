"""Fitting the landmark head and choosing its fusion weights, from landmarks already found (no
TensorFlow, no MediaPipe): the steps of ``python -m training.landmark_head`` after the hands are found
(``realtime.evaluation.crop_landmarks``)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import onnx

from realtime.classifier.graph import LandmarkHead
from realtime.core.contract import FUSED_NAME, LANDMARK_INPUT_NAME, NO_GESTURE, OUTPUT_NAME
from realtime.core.errors import HandSignError
from realtime.core.hand_shape import batch_features
from realtime.teaching import reference
from realtime.teaching.shape_head import augmented, fit_layers, fuse, group_probabilities

#: the fusion grid: the landmark head's weight for gestures, and for no_gesture
GESTURE_WEIGHTS = (0.0, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8)
NO_GESTURE_WEIGHTS = (0.0, 0.2, 0.4)
#: one hand in this many is held out to score the head on its own
HELD_OUT_EVERY = 5

#: per photo, the hands the live path found: (crop probabilities, hand-shape features)
LiveHands = list[list[tuple[np.ndarray, np.ndarray]]]


@dataclass(frozen=True)
class FittedHead:
    """The head's layers, its accuracy on its own held-out hands, and those hands' features."""

    layers: list
    split_accuracy: float
    held_features: np.ndarray
    held_count: int


@dataclass(frozen=True)
class FusionChoice:
    """Every weight setting's live-path accuracy, the best one, and the crop-only and landmarks-only ones."""

    grid: list[dict]
    best: dict
    crop_accuracy: float
    landmarks_accuracy: float


def fit_head(landmarks: np.ndarray, flips: np.ndarray, targets: np.ndarray, hidden: int, seed: int) -> FittedHead:
    """Score the head on a seeded held-out share of the hands, then refit it on all of them."""
    order = np.random.default_rng(seed).permutation(len(targets))
    cut = len(order) // HELD_OUT_EVERY
    test, train = order[:cut], order[cut:]
    x, y = augmented(landmarks[train], flips[train], targets[train], seed)
    layers = fit_layers(x, y, hidden, seed)
    held = batch_features(list(landmarks[test]), list(flips[test]))
    split_accuracy = float((group_probabilities(layers, held).argmax(1) == targets[test]).mean())
    x, y = augmented(landmarks, flips, targets, seed)
    return FittedHead(fit_layers(x, y, hidden, seed), split_accuracy, held, len(test))


def live_accuracy(truths: Sequence[str], hands: LiveHands, labels: Sequence[str], layers, groups,
                  weights: np.ndarray) -> float:
    """The live path's accuracy with these fusion weights (the hand chosen as ``realtime.evaluate`` does)."""
    matrix = LandmarkHead(layers, groups, {}, "").group_matrix(labels)
    gestures = [i for i, label in enumerate(labels) if label != NO_GESTURE]
    right = 0
    for true, found in zip(truths, hands):
        if not found:
            continue
        p = fuse(np.stack([h[0] for h in found]), group_probabilities(layers, np.stack([h[1] for h in found])),
                 matrix, weights)
        chosen = p[int(np.argmax(p[:, gestures].max(axis=1)))]
        right += labels[int(np.argmax(chosen))] == true
    return right / max(len(truths), 1)


def choose_fusion(truths: Sequence[str], hands: LiveHands, labels: Sequence[str], layers, groups) -> FusionChoice:
    """Score every setting of the grid; the best accuracy wins, a tie going to more landmark weight."""
    grid = []
    for wg in GESTURE_WEIGHTS:
        for wn in NO_GESTURE_WEIGHTS:
            w = np.array([wn if label == NO_GESTURE else wg for label in labels])
            grid.append({"gesture_weight": wg, "no_gesture_weight": wn,
                         "accuracy": live_accuracy(truths, hands, labels, layers, groups, w)})
    best = max(grid, key=lambda r: (round(r["accuracy"], 6), r["gesture_weight"], -r["no_gesture_weight"]))
    crop = next(r for r in grid if r["gesture_weight"] == 0 and r["no_gesture_weight"] == 0)
    landmarks_only = live_accuracy(truths, hands, labels, layers, groups, np.ones(len(labels)))
    return FusionChoice(grid, best, crop["accuracy"], landmarks_only)


def check_graph(model: onnx.ModelProto, head: LandmarkHead, labels: Sequence[str], shapes: np.ndarray) -> None:
    """The graph's fused output equals the numpy rule the weights were chosen with."""
    import onnxruntime as ort

    session = ort.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"])
    image = session.get_inputs()[0]
    size = image.shape[1]
    images = np.random.default_rng(0).uniform(0, 255, (len(shapes), size, size, 3)).astype(np.float32)
    crop, got = session.run([OUTPUT_NAME, FUSED_NAME], {image.name: images, LANDMARK_INPUT_NAME: shapes})
    weights = np.array([head.weights[label] for label in labels])
    want = fuse(crop, group_probabilities(head.layers, shapes), head.group_matrix(labels), weights)
    if np.abs(got - want).max() > 1e-4:
        raise HandSignError(f"the fused graph differs from the fusion rule by {np.abs(got - want).max():.2g}")


def store_shapes(path: Path, classifier, found, per_class: int, seed: int) -> int:
    """Up to ``per_class`` hands of each class of ``found`` (a ``LandmarkSet``) into the teach reference
    file at ``path``; the number stored."""
    ref = reference.load(path, classifier)
    rng = np.random.default_rng(seed)
    rows = []
    for k in range(len(found.labels)):
        mine = np.flatnonzero(found.targets == k)
        rows += sorted(rng.permutation(mine)[:per_class].tolist())
    ref.shapes = found.landmarks[rows].astype(np.float32)
    ref.shape_flips = found.flips[rows].astype(bool)
    ref.shape_labels = [found.labels[found.targets[r]] for r in rows]
    reference.save(ref, path)
    return len(rows)
