"""Report figures shared by the live-path evaluator and training; each returns a matplotlib Figure.

Figures are made without pyplot (no GUI backend, no global state) and saved with :func:`save`.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

import numpy as np
from matplotlib.figure import Figure


def subplots(rows: int = 1, cols: int = 1, figsize=(6, 4), **kw):
    """A figure and its axes without pyplot (no GUI backend, safe on threads)."""
    fig = Figure(figsize=figsize)
    return fig, fig.subplots(rows, cols, **kw)


def image_grid(images: Sequence[np.ndarray], titles: Sequence[str], cols: int = 6,
               title: str | None = None, title_colors: Sequence[str] | None = None) -> Figure:
    """RGB images in a grid with a caption each."""
    n = max(len(images), 1)
    cols = min(cols, n)
    rows = (n + cols - 1) // cols
    fig, axes = subplots(rows, cols, figsize=(2.2 * cols, 2.4 * rows), squeeze=False)
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


def confusion_matrix(cm: np.ndarray, labels: Sequence[str], normalize: bool = True,
                     columns: Sequence[str] | None = None) -> Figure:
    """Rows: true classes (``labels``); columns: predictions (``columns``, default the same)."""
    values = cm.astype(float)
    if normalize:
        values = values / np.maximum(values.sum(axis=1, keepdims=True), 1)
    columns = list(labels if columns is None else columns)
    size = max(5, 0.55 * max(len(labels), len(columns)))
    fig, ax = subplots(figsize=(size + 1, size))
    ax.imshow(values, cmap="Blues", vmin=0, vmax=values.max() or 1)
    for (i, j), v in np.ndenumerate(values):
        if v:
            ax.text(j, i, f"{v:.2f}" if normalize else f"{int(v)}", ha="center", va="center", fontsize=7,
                    color="white" if v > 0.6 * (values.max() or 1) else "black")
    ax.set_xticks(range(len(columns)), columns, rotation=60, ha="right")
    ax.set_yticks(range(len(labels)), list(labels))
    ax.set_xlabel("predicted")
    ax.set_ylabel("true")
    ax.set_title("Confusion matrix (rows: true class, normalised)" if normalize else "Confusion matrix")
    fig.tight_layout()
    return fig


def save(fig: Figure, path: str | Path) -> Path:
    """Write a PNG under a temporary name, then rename: never a half-written file."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.stem}.{os.getpid()}.tmp{path.suffix}")
    fig.savefig(tmp, dpi=110)
    os.replace(tmp, path)
    return path
