"""Classification metrics shared by both evaluators (scikit-learn)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np


def compute_metrics(y_true: np.ndarray, y_pred: np.ndarray, labels: Sequence[str]) -> dict:
    """Accuracy, macro F1 and per-class precision/recall/F1/support over ``labels``' indices.

    Predictions outside ``range(len(labels))`` (e.g. "no hand found") count as wrong. Macro F1
    averages the classes that occur in ``y_true``, so scoring a subset of a model's classes works.
    """
    from sklearn.metrics import accuracy_score, f1_score, precision_recall_fscore_support
    idx = np.arange(len(labels))
    present = np.unique(y_true)
    p, r, f, s = precision_recall_fscore_support(y_true, y_pred, labels=idx, zero_division=0)
    return {
        "accuracy": float(accuracy_score(y_true, y_pred)),
        "macro_f1": float(f1_score(y_true, y_pred, labels=present, average="macro", zero_division=0)),
        "count": int(len(y_true)),
        "per_class": {name: {"precision": float(p[i]), "recall": float(r[i]), "f1": float(f[i]),
                             "support": int(s[i])} for i, name in enumerate(labels)},
    }
