"""Still hands: a hand whose surroundings did not change since it was last tracked keeps its landmarks.

Pure logic, no I/O. Holding a gesture (600 ms before it starts) is most of what a hand in view does,
and MediaPipe's landmark pass is most of a frame's CPU then. When none of the tracked hands' regions
changed since the frame they were tracked on (a small, grey, blurred view of each, compared by mean
difference), the hands stage hands back the same hands for at most ``max_reused`` frames in a row
instead of running MediaPipe. A hand that moves, opens or pinches changes its region and is tracked
on that very frame; a new hand elsewhere waits at most ``max_reused`` frames. Off for stills and in
pointer mode, where a slow, fine motion of the hand must move the pointer on every frame.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import cv2
import numpy as np

from realtime.core.contract import landmarks_box

#: A hand's region: its landmark box grown by this share of its longer side on every side.
REGION_MARGIN = 0.25
#: The region as compared: this many pixels a side, grey, blurred (sensor noise is not motion).
VIEW_SIDE = 32
#: The region changed when its view's mean absolute difference (0..255) is above this. On the fixture
#: clips, MediaPipe's own landmarks moved by at most 0.11 of the hand's size (its jitter) at 90 % of the
#: frames under it.
DEFAULT_CHANGE_LEVEL = 2.0
DEFAULT_MAX_REUSED = 2


def region_view(image: np.ndarray, landmarks: np.ndarray) -> np.ndarray:
    """The region around a hand's landmarks as the check sees it (float32, VIEW_SIDE x VIEW_SIDE)."""
    h, w = image.shape[:2]
    x0, y0, x1, y1 = landmarks_box(landmarks)
    grow = max(x1 - x0, y1 - y0) * REGION_MARGIN
    left, top = int(max(0, x0 - grow)), int(max(0, y0 - grow))
    right, bottom = int(min(w, x1 + grow)), int(min(h, y1 + grow))
    if right - left < 2 or bottom - top < 2:
        return np.zeros((VIEW_SIDE, VIEW_SIDE), np.float32)
    small = cv2.resize(image[top:bottom, left:right], (VIEW_SIDE, VIEW_SIDE), interpolation=cv2.INTER_AREA)
    grey = cv2.cvtColor(small, cv2.COLOR_BGR2GRAY) if small.ndim == 3 else small
    return cv2.GaussianBlur(grey, (3, 3), 0).astype(np.float32)


@dataclass
class StillHands:
    """Per frame: :meth:`reuse` says whether the last tracked hands stand for this frame too;
    :meth:`tracked` records what the hands stage found when it ran."""

    max_reused: int = DEFAULT_MAX_REUSED
    change_level: float = DEFAULT_CHANGE_LEVEL
    _hands: list = field(default_factory=list, repr=False)
    _views: list = field(default_factory=list, repr=False)
    _in_a_row: int = 0
    reused: int = 0  # frames that kept the last hands

    def reuse(self, image: np.ndarray) -> list | None:
        """The last tracked hands if none of their regions changed (and they were not already kept
        ``max_reused`` frames in a row); None: run the hands stage."""
        if not self._hands or self._in_a_row >= self.max_reused:
            return None
        for hand, old in zip(self._hands, self._views):
            if float(np.mean(np.abs(region_view(image, hand.landmarks) - old))) > self.change_level:
                return None
        self._in_a_row += 1
        self.reused += 1
        return self._hands

    def tracked(self, image: np.ndarray, hands: list) -> None:
        """The hands the hands stage found on ``image``."""
        self._hands = list(hands)
        self._views = [region_view(image, hand.landmarks) for hand in hands]
        self._in_a_row = 0
