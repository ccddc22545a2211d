"""The landmark head: a small network on hand-shape features (scikit-learn), and its fusion rule.

Hand shapes that landmarks cannot tell apart share a *group*: ``one`` and ``mute`` differ by the
lips, the ``*_inverted`` gestures by which side of the hand faces the camera. The head predicts
groups; within a group the crop classifier decides. :func:`fuse` is the rule the ONNX graph
computes (``realtime.classifier.graph.with_landmark_head``), in numpy, for choosing its weights.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from sklearn.neural_network import MLPClassifier
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from realtime.classifier.graph import FUSION_EPS, LandmarkHead
from realtime.core.contract import LOOK_ALIKE_PAIRS, NO_GESTURE
from realtime.core.hand_shape import FEATURES_RECIPE, batch_features

#: HaGRID's look-alikes as landmarks: the first of each pair names the group.
HAGRID_GROUPS = LOOK_ALIKE_PAIRS
DEFAULT_HIDDEN = 64
#: Training copies per hand: turned by up to this many degrees about the wrist, and mirrored.
AUGMENT_DEGREES = 20.0


def label_groups(labels: Sequence[str], look_alikes: Sequence[Sequence[str]] = HAGRID_GROUPS
                 ) -> tuple[tuple[str, ...], ...]:
    """Every label in one group: the look-alikes present in ``labels`` together, the rest alone."""
    groups, placed = [], set()
    for members in look_alikes:
        present = tuple(m for m in members if m in labels)
        if len(present) > 1:
            groups.append(present)
            placed.update(present)
    groups += [(l,) for l in labels if l not in placed]
    return tuple(sorted(groups))


def group_targets(labels: Sequence[str], targets: np.ndarray, groups: Sequence[Sequence[str]]) -> np.ndarray:
    """Each target's group index."""
    index = {name: g for g, members in enumerate(groups) for name in members}
    return np.array([index[labels[t]] for t in targets], np.int64)


def rotate(landmarks: np.ndarray, degrees: float) -> np.ndarray:
    """Landmarks turned by ``degrees`` about the wrist."""
    a = np.deg2rad(degrees)
    r = np.array([[np.cos(a), -np.sin(a)], [np.sin(a), np.cos(a)]])
    return (landmarks - landmarks[0]) @ r.T + landmarks[0]


def augmented(landmarks: np.ndarray, flips: np.ndarray, targets: np.ndarray, seed: int = 0
              ) -> tuple[np.ndarray, np.ndarray]:
    """Features of each hand as found, turned a little, and turned a little and mirrored (another
    person's hand, or a handedness the tracker got wrong)."""
    rng = np.random.default_rng(seed)
    parts = [batch_features(list(landmarks), list(flips))]
    for mirror in (False, True):
        turned = [rotate(l, rng.uniform(-AUGMENT_DEGREES, AUGMENT_DEGREES)) for l in landmarks]
        parts.append(batch_features(turned, [bool(f) != mirror for f in flips]))
    return np.concatenate(parts), np.concatenate([targets] * 3)


def fit_layers(features: np.ndarray, targets: np.ndarray, hidden: int = DEFAULT_HIDDEN, seed: int = 0
               ) -> tuple[tuple[np.ndarray, np.ndarray], ...]:
    """Fit standardise -> dense(hidden, ReLU) -> softmax; returns the dense layers with the scaler
    folded into the first (what the ONNX graph runs)."""
    model = make_pipeline(StandardScaler(), MLPClassifier((hidden,), alpha=1e-3, max_iter=400, random_state=seed,
                                                          early_stopping=True)).fit(features, targets)
    scaler, mlp = model[0], model[1]
    if len(mlp.classes_) != targets.max() + 1:
        raise ValueError("every group needs training hands")
    w0, b0 = mlp.coefs_[0], mlp.intercepts_[0]
    w0f = w0 / scaler.scale_[:, None]
    b0f = b0 - (scaler.mean_ / scaler.scale_) @ w0
    layers = [(w0f, b0f)] + list(zip(mlp.coefs_[1:], mlp.intercepts_[1:]))
    if mlp.n_outputs_ == 1:  # two groups: a logistic output becomes softmax([0, z])
        w, b = layers[-1]
        layers[-1] = (np.hstack([np.zeros_like(w), w]), np.concatenate([[0.0], b]))
    return tuple((np.asarray(w, np.float32), np.asarray(b, np.float32)) for w, b in layers)


def group_probabilities(layers, features: np.ndarray) -> np.ndarray:
    """The head's softmax over groups, in numpy (what the graph computes)."""
    x = np.asarray(features, np.float64)
    for k, (w, b) in enumerate(layers):
        x = x @ w + b
        if k < len(layers) - 1:
            x = np.maximum(x, 0)
    x = np.exp(x - x.max(axis=1, keepdims=True))
    return x / x.sum(axis=1, keepdims=True)


def fuse(p_crop: np.ndarray, p_group: np.ndarray, group_matrix: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """softmax((1 - w) * log(p_crop) + w * log(p_group of each label)), per label ``w``."""
    q = p_group @ group_matrix
    z = (1 - weights) * np.log(p_crop + FUSION_EPS) + weights * np.log(q + FUSION_EPS)
    z = np.exp(z - z.max(axis=1, keepdims=True))
    return z / z.sum(axis=1, keepdims=True)


def make_head(layers, groups, labels: Sequence[str], gesture_weight: float, no_gesture_weight: float = 0.0
              ) -> LandmarkHead:
    """The head with its fusion weights: ``gesture_weight`` for the gestures, ``no_gesture_weight`` for
    ``no_gesture`` (a resting hand has no one shape, so it leans on the crop). Look-alikes share the
    landmark evidence of their group and the crop splits them."""
    weights = {l: float(no_gesture_weight if l == NO_GESTURE else gesture_weight) for l in labels}
    return LandmarkHead(tuple(layers), tuple(tuple(g) for g in groups), weights, FEATURES_RECIPE)
