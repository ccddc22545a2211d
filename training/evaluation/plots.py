"""Figures for exploration and evaluation; each function returns a matplotlib Figure.

The CLIs save them as PNG; the notebook shows them with ``display(fig)``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
from matplotlib.figure import Figure  # figures without pyplot: no GUI backend, no global state

from realtime.evaluation.figures import confusion_matrix, image_grid, save, subplots  # noqa: F401  (re-exported)


def class_counts(counts: Mapping[str, int], title: str = "Images per class") -> Figure:
    """A bar chart of images per class."""
    names = list(counts)
    fig, ax = subplots(figsize=(max(6, 0.5 * len(names)), 4))
    ax.bar(names, [counts[n] for n in names], color="tab:blue")
    ax.set_ylabel("images")
    ax.set_title(title)
    ax.tick_params(axis="x", rotation=60)
    fig.tight_layout()
    return fig


def training_curves(histories: Mapping[str, Mapping[str, Sequence[float]]]) -> Figure:
    """Accuracy and loss per epoch; several runs (e.g. baseline vs EfficientNet) side by side."""
    fig, (acc_ax, loss_ax) = subplots(1, 2, figsize=(11, 4))
    for name, h in histories.items():
        epochs = np.arange(1, len(h.get("accuracy", [])) + 1)
        for key, ax, style in (("accuracy", acc_ax, "-"), ("val_accuracy", acc_ax, "--"),
                               ("loss", loss_ax, "-"), ("val_loss", loss_ax, "--")):
            if len(h.get(key, [])):
                ax.plot(epochs, h[key], style, marker="o", ms=3, label=f"{name} {key}")
    for ax, title in ((acc_ax, "accuracy"), (loss_ax, "loss")):
        ax.set_xlabel("epoch")
        ax.set_title(title)
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8)
    fig.tight_layout()
    return fig


def probability_bars(top: Sequence[tuple[str, float]], title: str = "") -> Figure:
    """Horizontal bars of the top classes and their probabilities."""
    fig, ax = subplots(figsize=(5, 0.35 * len(top) + 1))
    names = [t[0] for t in top][::-1]
    ax.barh(names, [t[1] for t in top][::-1], color="tab:green")
    ax.set_xlim(0, 1)
    ax.set_xlabel("probability")
    ax.set_title(title)
    fig.tight_layout()
    return fig
