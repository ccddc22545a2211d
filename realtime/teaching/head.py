"""A softmax classifier on backbone features (scikit-learn), folded into one dense layer for ONNX.

Standardise, then multinomial logistic regression with balanced class weights: a few hundred
embeddings fit in about a second on a CPU. The scaler is folded into the weights, so the ONNX head
is a plain ``features @ weight + bias -> softmax``.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import StratifiedKFold, cross_val_predict
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

#: Inverse regularisation strength; chosen on held-out photos (docs/teach.md).
DEFAULT_C = 0.1
#: A class whose cross-validated predictions go to one other class this often is reported.
CONFUSION_WARNING = 0.1


def make_estimator(c: float = DEFAULT_C):
    """The head: standardized features into a class-balanced logistic regression."""
    return make_pipeline(StandardScaler(),
                         LogisticRegression(C=c, class_weight="balanced", max_iter=3000))


def fit_dense(features: np.ndarray, targets: np.ndarray, c: float = DEFAULT_C) -> tuple[np.ndarray, np.ndarray]:
    """Fit on (N, D) features and integer targets 0..K-1; returns ``weight`` (D, K) and ``bias`` (K,)."""
    model = make_estimator(c).fit(features, targets)
    scaler, lr = model[0], model[1]
    coef, intercept = lr.coef_, lr.intercept_
    if coef.shape[0] == 1:  # binary: sigmoid(z) == softmax([0, z])[1]
        coef, intercept = np.vstack([np.zeros_like(coef), coef]), np.concatenate([[0.0], intercept])
    weight = (coef / scaler.scale_).T
    bias = intercept - (scaler.mean_ / scaler.scale_) @ coef.T
    return weight.astype(np.float32), bias.astype(np.float32)


@dataclass
class CrossValidation:
    """Per-class accuracy of out-of-fold predictions, and the pairs often confused."""

    folds: int
    accuracy: float
    per_class: dict[str, float]
    confusions: list[tuple[str, str, float]] = field(default_factory=list)  # true, predicted, fraction


def cross_validate(features: np.ndarray, targets: np.ndarray, classes: list[str], c: float = DEFAULT_C,
                   folds: int = 5, seed: int = 0) -> CrossValidation:
    """Stratified k-fold (k bounded by the smallest class) out-of-fold accuracy per class."""
    k = int(min(folds, np.bincount(targets).min()))
    if k < 2:
        raise ValueError("cross-validation needs at least 2 images per class")
    pred = cross_val_predict(make_estimator(c), features, targets,
                             cv=StratifiedKFold(k, shuffle=True, random_state=seed))
    per_class, confusions = {}, []
    for i, name in enumerate(classes):
        rows = pred[targets == i]
        per_class[name] = float(np.mean(rows == i))
        for j, other in enumerate(classes):
            share = float(np.mean(rows == j))
            if j != i and share >= CONFUSION_WARNING:
                confusions.append((name, other, share))
    return CrossValidation(k, float(np.mean(pred == targets)), per_class, confusions)
