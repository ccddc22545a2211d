"""Per-hand probability smoothing across frames, so labels do not flicker.

Hands are matched to the tracks of earlier frames by handedness and nearest box centre; each
track averages its last ``window`` probability vectors.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field
from typing import Sequence

import numpy as np

from realtime.core.contract import Box


@dataclass
class _Track:
    id: int
    handedness: str
    center: tuple[float, float]
    size: float
    history: deque = field(default_factory=deque)
    missing: int = 0


def _center_size(box: Box) -> tuple[tuple[float, float], float]:
    x0, y0, x1, y1 = box
    return ((x0 + x1) / 2.0, (y0 + y1) / 2.0), max(x1 - x0, y1 - y0, 1)


class ProbabilitySmoother:
    """Mean of each hand's last ``window`` probability vectors (window 1 = no smoothing)."""

    def __init__(self, window: int = 5, max_missing: int = 5, max_jump: float = 1.0) -> None:
        self.window = max(1, window)
        self.max_missing = max_missing
        self.max_jump = max_jump  # a match may move at most this many box sizes between frames
        self._tracks: list[_Track] = []
        self._next_id = 0

    def reset(self) -> None:
        self._tracks.clear()

    def update(self, boxes: Sequence[Box], handedness: Sequence[str],
               probabilities: Sequence[np.ndarray]) -> list[tuple[int, np.ndarray]]:
        """Feed this frame's hands; returns (track id, smoothed probabilities) in the same order."""
        free = list(self._tracks)
        out = []
        for box, side, probs in zip(boxes, handedness, probabilities):
            center, size = _center_size(box)
            best, best_d = None, None
            for t in free:
                d = np.hypot(center[0] - t.center[0], center[1] - t.center[1]) / max(size, t.size)
                if t.handedness == side and d <= self.max_jump and (best_d is None or d < best_d):
                    best, best_d = t, d
            if best is None:
                best = _Track(self._next_id, side, center, size, deque(maxlen=self.window))
                self._next_id += 1
                self._tracks.append(best)
            else:
                free.remove(best)
            best.center, best.size, best.missing = center, size, 0
            best.history.append(np.asarray(probs, dtype=np.float32))
            out.append((best.id, np.mean(best.history, axis=0)))
        for t in free:
            t.missing += 1
        self._tracks = [t for t in self._tracks if t.missing <= self.max_missing]
        return out
