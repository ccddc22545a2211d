"""Figures for exploration and evaluation; each function returns a matplotlib Figure.

The CLIs save them as PNG; the notebook shows them with ``display(fig)``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Mapping, Sequence

import numpy as np
from matplotlib.figure import Figure  # figures without pyplot: no GUI backend, no global state


def _subplots(rows: int = 1, cols: int = 1, figsize=(6, 4), **kw):
    fig = Figure(figsize=figsize)
    return fig, fig.subplots(rows, cols, **kw)


def class_counts(counts: Mapping[str, int], title: str = "Images per class") -> Figure:
    names = list(counts)
    fig, ax = _subplots(figsize=(max(6, 0.5 * len(names)), 4))
    ax.bar(names, [counts[n] for n in names], color="tab:blue")
    ax.set_ylabel("images")
    ax.set_title(title)
    ax.tick_params(axis="x", rotation=60)
    fig.tight_layout()
    return fig


def image_grid(images: Sequence[np.ndarray], titles: Sequence[str], cols: int = 6,
               title: str | None = None, title_colors: Sequence[str] | None = None) -> Figure:
    """RGB images in a grid with a caption each."""
    n = max(len(images), 1)
    cols = min(cols, n)
    rows = (n + cols - 1) // cols
    fig, axes = _subplots(rows, cols, figsize=(2.2 * cols, 2.4 * rows), squeeze=False)
    for i, ax in enumerate(axes.flat):
        ax.axis("off")
        if i < len(images):
            ax.imshow(images[i])
            ax.set_title(titles[i], fontsize=8,
                         color=(title_colors[i] if title_colors else "black"))
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    return fig


def confusion_matrix(cm: np.ndarray, labels: Sequence[str], normalize: bool = True) -> Figure:
    from sklearn.metrics import ConfusionMatrixDisplay
    values = cm.astype(float)
    if normalize:
        values = values / np.maximum(values.sum(axis=1, keepdims=True), 1)
    size = max(5, 0.55 * len(labels))
    fig, ax = _subplots(figsize=(size + 1, size))
    ConfusionMatrixDisplay(values, display_labels=list(labels)).plot(
        ax=ax, cmap="Blues", xticks_rotation=60, values_format=".2f" if normalize else "d",
        colorbar=False)
    ax.set_title("Confusion matrix (rows: true class, normalised)" if normalize else "Confusion matrix")
    fig.tight_layout()
    return fig


def training_curves(histories: Mapping[str, Mapping[str, Sequence[float]]]) -> Figure:
    """Accuracy and loss per epoch; several runs (e.g. baseline vs EfficientNet) side by side."""
    fig, (acc_ax, loss_ax) = _subplots(1, 2, figsize=(11, 4))
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
    fig, ax = _subplots(figsize=(5, 0.35 * len(top) + 1))
    names = [t[0] for t in top][::-1]
    ax.barh(names, [t[1] for t in top][::-1], color="tab:green")
    ax.set_xlim(0, 1)
    ax.set_xlabel("probability")
    ax.set_title(title)
    fig.tight_layout()
    return fig


def save(fig: Figure, path: str | Path) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    return path
