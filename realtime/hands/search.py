"""Live search for distant hands: what the VIDEO-mode tracker misses, found without stalling the loop.

When the tracker has no hand, a worker thread (the second core) looks at one
overlapping tile of the newest frame per step, with its own IMAGE-mode landmarker; a tile enlarges
a small hand for MediaPipe's 192x192 palm detector. A hand found there is then followed in a region
around its last position, enlarged, until it is lost. The loop never waits for the worker: it
merges whatever the worker found for a recent frame. For files (``wait=True``) the loop does wait,
so a clip gives the same answer every time, however busy the machine is.
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from realtime.core.contract import Box, landmarks_box
from realtime.core.paths import AUTO
from realtime.hands.tiles import is_duplicate, tile_boxes
from realtime.hands.tracker import Hand, HandTracker

log = logging.getLogger(__name__)

#: A followed hand's region: its landmark box grown to this many times its longer side.
FOLLOW_SCALE = 3.0
FOLLOW_MIN_SIDE = 96
#: Results about frames older than this are dropped (the hand has moved on).
MAX_AGE_FRAMES = 5
#: While nothing is being followed, at most one tile per this many seconds (a full sweep of the
#: four tiles each second), so the search leaves the live loop its share of the CPU.
TILE_INTERVAL_S = 0.25


@dataclass
class _Request:
    image: np.ndarray
    index: int
    tracked: list[tuple[float, float, float, float]]
    mirrored: bool


def follow_region(points: np.ndarray, width: int, height: int) -> Box:
    """A square region around a hand's landmarks, FOLLOW_SCALE times its size, inside the frame."""
    x0, y0, x1, y1 = landmarks_box(points)
    side = max(max(x1 - x0, y1 - y0) * FOLLOW_SCALE, FOLLOW_MIN_SIDE)
    side = min(side, width, height)
    cx, cy = (x0 + x1) / 2, (y0 + y1) / 2
    left = int(round(min(max(cx - side / 2, 0), width - side)))
    top = int(round(min(max(cy - side / 2, 0), height - side)))
    return left, top, left + int(side), top + int(side)


class DistantHandSearch:
    """Background tile search and region following; ``update`` once per frame, ``close`` at the end."""

    def __init__(self, model_path: str | Path = AUTO, max_hands: int = 2, min_detection: float = 0.5,
                 wait: bool = False, tile_interval: float = TILE_INTERVAL_S) -> None:
        self.max_hands, self.wait = max_hands, wait
        self.tile_interval = 0.0 if wait else tile_interval  # files are not real time: no pause
        self._next_tile_at = 0.0
        self._detector = HandTracker(model_path, max_hands=1, video=False, min_detection=min_detection,
                                     tiles=False)
        self._cond = threading.Condition()
        self._request: _Request | None = None
        self._found: tuple[int, list[Hand]] = (-1, [])
        self._regions: list[Box] = []
        self._tile = 0
        self._stopped = False
        self.step_ms = 0.0  # the worker's last step: one tile or the followed regions
        self.steps = 0
        self._thread = threading.Thread(target=self._work, name="distant-hand-search", daemon=True)
        self._thread.start()

    @property
    def following(self) -> int:
        """Distant hands followed now."""
        return len(self._regions)

    def update(self, image: np.ndarray, index: int, tracked: list[Hand], mirrored: bool) -> list[Hand]:
        """Hand the worker this frame when it has something to do; return the distant hands it
        found for a recent frame that the tracker does not already have."""
        boxes = [landmarks_box(h.landmarks) for h in tracked]
        with self._cond:
            due = self._regions or time.monotonic() >= self._next_tile_at
            # tiles only while the tracker has no hand: a second hand near a tracked one is the tracker's
            # to find (a person far behind the user is not someone to take gestures from)
            if (not tracked or self._regions) and due:
                self._request = _Request(image, index, boxes, mirrored)
                self._cond.notify()
                if self.wait:
                    self._cond.wait_for(lambda: self._found[0] == index or self._stopped, timeout=10)
            found_index, found = self._found
        if index - found_index > MAX_AGE_FRAMES:
            return []
        extra = [h for h in found if not is_duplicate(landmarks_box(h.landmarks), boxes)]
        return extra[: max(self.max_hands - len(tracked), 0)]

    def _work(self) -> None:
        while True:
            with self._cond:
                self._cond.wait_for(lambda: self._request is not None or self._stopped)
                if self._stopped:
                    return
                request, self._request = self._request, None
            started = time.perf_counter()
            self._next_tile_at = time.monotonic() + self.tile_interval
            try:
                hands = self._step(request)
            except Exception as exc:  # never take the live loop down: log, and find nothing this step
                log.warning("distant-hand search step failed: %s", exc)
                hands, self._regions = [], []
            self.step_ms = (time.perf_counter() - started) * 1000
            self.steps += 1
            with self._cond:
                self._found = (request.index, hands)
                self._cond.notify_all()

    def _step(self, r: _Request) -> list[Hand]:
        h, w = r.image.shape[:2]
        if self._regions:
            regions, self._regions = self._regions, []
        else:
            tiles = tile_boxes(w, h)
            regions = [tiles[self._tile % len(tiles)]]
            self._tile += 1
        known = list(r.tracked)
        hands = [hand for region in regions
                 for hand in self._detector.detect_in_region(r.image, region, r.mirrored, known)]
        # follow what was found (and is not tracked already) until it is lost
        self._regions = [follow_region(x.landmarks, w, h) for x in hands][: self.max_hands]
        return hands

    def __enter__(self) -> DistantHandSearch:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def close(self) -> None:
        """Stop the worker and close its landmarkers."""
        with self._cond:
            self._stopped = True
            self._cond.notify()
        self._thread.join(timeout=10)
        if not self._thread.is_alive():  # never close the landmarker under a step still running
            self._detector.close()
