"""Geometry for finding small hands: overlapping tiles of a frame, and merging what they find.

MediaPipe's palm detector sees the whole frame at 192x192, so a hand of a few dozen pixels in a
large photo nearly vanishes. Looking again in overlapping tiles enlarges such hands. Pure functions.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from realtime.core.contract import Box


def tile_boxes(width: int, height: int, fraction: float = 0.6, grid: int = 2) -> list[Box]:
    """``grid`` x ``grid`` tiles, each ``fraction`` of the frame's width and height, evenly overlapping.

    The tiles cover the whole frame (fraction * grid >= 1 is required), in row-major order.
    """
    if grid < 1 or not 0 < fraction <= 1 or fraction * grid < 1:
        raise ValueError(f"tiles of {fraction} x {grid} per side do not cover the frame")
    tw, th = int(round(width * fraction)), int(round(height * fraction))
    xs = np.linspace(0, width - tw, grid).round().astype(int) if grid > 1 else [0]
    ys = np.linspace(0, height - th, grid).round().astype(int) if grid > 1 else [0]
    return [(int(x), int(y), int(x) + tw, int(y) + th) for y in ys for x in xs]


def box_iou(a: Sequence[float], b: Sequence[float]) -> float:
    """Intersection over union of two (x0, y0, x1, y1) boxes."""
    ix = max(0.0, min(a[2], b[2]) - max(a[0], b[0]))
    iy = max(0.0, min(a[3], b[3]) - max(a[1], b[1]))
    inter = ix * iy
    union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter
    return float(inter / union) if union > 0 else 0.0


def is_duplicate(box: Sequence[float], others: Sequence[Sequence[float]], iou: float = 0.3) -> bool:
    """True when ``box`` overlaps any of ``others`` by at least ``iou`` (the same hand seen twice)."""
    return any(box_iou(box, o) >= iou for o in others)
