"""Per-hand probability smoothing across frames, so labels do not flicker.

Hands are matched to the tracks of earlier frames by handedness and nearest box centre; each
track averages its last ``window`` probability vectors.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass, field

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
    carried: int = 0  # frames in a row its probabilities were carried over, not computed (see ``stable``)


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
        """Forget every track's history."""
        self._tracks.clear()

    def _match(self, center: tuple[float, float], size: float, side: str, free: list[_Track]) -> _Track | None:
        best, best_d = None, None
        for t in free:
            d = np.hypot(center[0] - t.center[0], center[1] - t.center[1]) / max(size, t.size)
            if t.handedness == side and d <= self.max_jump and (best_d is None or d < best_d):
                best, best_d = t, d
        return best

    def stable(self, box: Box, side: str, min_score: float, max_move: float = 0.15,
               max_carried: int = 2) -> np.ndarray | None:
        """The probabilities to carry over for a hand that need not be classified this frame: it matches
        a track seen in the last frame, barely moved (``max_move`` box sizes), whose smoothed best class
        is at least ``min_score``, and whose probabilities were carried fewer than ``max_carried`` frames
        in a row (so a hand is classified at least every ``max_carried + 1`` frames). None: classify it."""
        center, size = _center_size(box)
        track = self._match(center, size, side, [t for t in self._tracks if t.missing == 0])
        if track is None or track.carried >= max_carried or not track.history:
            return None
        moved = np.hypot(center[0] - track.center[0], center[1] - track.center[1]) / max(size, track.size)
        if moved > max_move or abs(size - track.size) > max_move * track.size:
            return None
        if float(np.max(np.mean(track.history, axis=0))) < min_score:
            return None
        return track.history[-1]

    def update(self, boxes: Sequence[Box], handedness: Sequence[str],
               probabilities: Sequence[np.ndarray], reused: Sequence[bool] | None = None
               ) -> list[tuple[int, np.ndarray]]:
        """Feed this frame's hands; returns (track id, smoothed probabilities) in the same order.
        ``reused`` marks the hands whose probabilities were carried over by :meth:`stable`."""
        free = list(self._tracks)
        out = []
        reused = reused or [False] * len(boxes)
        for box, side, probs, carried in zip(boxes, handedness, probabilities, reused):
            center, size = _center_size(box)
            best = self._match(center, size, side, free)
            if best is None:
                best = _Track(self._next_id, side, center, size, deque(maxlen=self.window))
                self._next_id += 1
                self._tracks.append(best)
            else:
                free.remove(best)
            best.center, best.size, best.missing = center, size, 0
            best.carried = best.carried + 1 if carried else 0
            best.history.append(np.asarray(probs, dtype=np.float32))
            out.append((best.id, np.mean(best.history, axis=0)))
        for t in free:
            t.missing += 1
        self._tracks = [t for t in self._tracks if t.missing <= self.max_missing]
        return out
