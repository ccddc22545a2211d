"""Pointer mode measured on clips: jitter while the hand is held still, and the filter's lag.

Each clip goes once through the live path (as ``realtime.run --pointer`` runs it); the hands and
events of every frame are replayed through the pointer logic twice, with the One Euro filter as
shipped and with it opened up (a cutoff of 1 kHz: the raw palm), onto a 1920x1080 screen:

- **jitter**: the pointer's standard deviation (px, x and y pooled) over stretches where the raw
  palm stays within ``STILL_SIZES`` hand sizes for ``STILL_FRAMES`` frames or more;
- **lag**: how far the filtered pointer's motion trails the raw one's (the shift, in ms, that best
  lines up their per-frame steps while the hand moves). The pipeline's own time per frame comes on
  top (``realtime.bench``);
- **click displacement**: for each click and each drag's press, how far from where the pointer rested
  just before the hand began the gesture (the event's ``t_ms - held_ms``) it lands, with clicks
  landing in place (``click_settle_ms`` 0: as before 2026-12-06) and as shipped.
"""

from __future__ import annotations

import dataclasses
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from realtime.classifier.model import GestureClassifier
from realtime.events.cursor import CursorMapper
from realtime.events.detector import observations
from realtime.live.loop import LiveLoop
from realtime.live.options import LiveOptions
from realtime.live.recognition import RecognitionOptions, open_pipeline
from realtime.live.sources import VideoFileSource

SCREEN = (1920, 1080)
STILL_SIZES = 0.08
STILL_FRAMES = 8
RAW_CUTOFF = 1000.0


@dataclass
class PointerFigures:
    """One clip's pointer figures: frames, still frames, jitter raw and filtered, and lag."""

    clip: str
    frames: int
    still_frames: int
    jitter_raw: float | None
    jitter_filtered: float | None
    lag_ms: float | None
    #: px from the rest before the gesture, per click or press: landing in place, and as shipped
    clicks_in_place: list[float] = field(default_factory=list)
    clicks_shipped: list[float] = field(default_factory=list)


class _Frames:
    """A view that keeps each frame's hands (as the event logic sees them) and events."""

    def __init__(self) -> None:
        self.frames: list[tuple[int, list, list, int, int]] = []

    def frame(self, result: Any, events: list) -> bool:
        h, w = result.image.shape[:2]
        self.frames.append((result.frame.timestamp_ms, observations(result), list(events), w, h))
        return True

    def waiting(self, result: Any) -> bool:
        return True

    def finished(self, result: Any) -> None:
        pass

    def close(self) -> None:
        pass


def record(clip: Path, classifier: GestureClassifier | None, recognition: RecognitionOptions,
           options: LiveOptions) -> list:
    """Play ``clip`` through the live path in pointer mode; each frame's time, hands, events and size."""
    with ExitStack() as stack:
        source = stack.enter_context(VideoFileSource(clip))
        pipeline = open_pipeline(stack, source, classifier, dataclasses.replace(recognition, pointer=True))
        loop = LiveLoop(options, source, pipeline)
        view = _Frames()
        loop.run(view)
    return view.frames


def replay(frames: list, min_cutoff: float, beta: float) -> tuple[np.ndarray, list]:
    """The pointer after every frame, (N, 2), and the raw palm (centre, size) of the pointer hand or None."""
    mapper = CursorMapper(SCREEN, (SCREEN[0] // 2, SCREEN[1] // 2), min_cutoff=min_cutoff, beta=beta)
    out, palms = [], []
    for t, hands, events, w, h in frames:
        mapper.update(t, hands, events, w, h)
        out.append((mapper.x, mapper.y))
        key = mapper.hand_key
        mine = [o for o in hands if key is not None and (o.track if o.track is not None else o.hand) == key]
        palms.append((mine[0].center, mine[0].size) if mine else None)
    return np.array(out, float), palms


def figures(name: str, frames: list, min_cutoff: float, beta: float) -> PointerFigures:
    """Jitter and lag of one recorded clip with this One Euro filter."""
    raw, palms = replay(frames, RAW_CUTOFF, 0.0)
    smooth, _ = replay(frames, min_cutoff, beta)
    still = np.zeros(len(frames), bool)
    start = 0
    for i in range(1, len(frames) + 1):  # runs of frames whose palm stays near the run's first palm
        anchor = palms[start]
        ok = (i < len(frames) and anchor is not None and palms[i] is not None
              and np.hypot(*np.subtract(palms[i][0], anchor[0])) <= STILL_SIZES * anchor[1])
        if not ok:
            if i - start >= STILL_FRAMES:
                still[start + 2:i] = True  # the first frames still settle
            start = i
    jitter = {}
    for label, track in (("raw", raw), ("filtered", smooth)):
        parts = [track[a:b] - track[a:b].mean(0) for a, b in _runs(still)]
        jitter[label] = float(np.sqrt(np.mean(np.concatenate(parts) ** 2))) if parts else None
    lag = _lag_ms(raw, smooth, [f[0] for f in frames])
    return PointerFigures(name, len(frames), int(still.sum()), jitter["raw"], jitter["filtered"], lag,
                          click_displacements(frames, min_cutoff, beta, 0),
                          click_displacements(frames, min_cutoff, beta, CursorMapper.click_settle_ms))


def click_displacements(frames: list, min_cutoff: float, beta: float, settle_ms: int) -> list[float]:
    """Per click or press, px between where it lands and where the pointer was on the last frame before
    the hand began the gesture."""
    mapper = CursorMapper(SCREEN, (SCREEN[0] // 2, SCREEN[1] // 2), min_cutoff=min_cutoff, beta=beta,
                          click_settle_ms=settle_ms)
    trail, out = [], []
    for t, hands, events, w, h in frames:
        begins = [e.t_ms - e.held_ms for e in events if e.type == "pointer" and e.gesture in ("click", "drag_start")]
        for c in mapper.update(t, hands, events, w, h):
            if c.kind in ("click", "press") and begins:
                rest = [(x, y) for when, x, y in trail if when < begins[0]]
                if rest:
                    out.append(float(np.hypot(c.x - rest[-1][0], c.y - rest[-1][1])))
        trail.append((t, mapper.x, mapper.y))
    return out


def _runs(mask: np.ndarray) -> list[tuple[int, int]]:
    runs, start = [], None
    for i, v in enumerate(list(mask) + [False]):
        if v and start is None:
            start = i
        elif not v and start is not None:
            runs.append((start, i))
            start = None
    return runs


def _lag_ms(raw: np.ndarray, smooth: np.ndarray, times: list[int], max_shift: int = 10) -> float | None:
    """The shift (ms) that best lines up the filtered pointer's per-frame steps with the raw ones: the
    peak of their cross-correlation over -3..``max_shift`` frames, refined between frames by a parabola
    through the peak and its neighbours (the filter's lag is mostly under one frame)."""
    a, b = np.diff(raw[:, 0]), np.diff(smooth[:, 0])
    if len(a) < 2 * max_shift or np.abs(a).sum() == 0:
        return None
    shifts = list(range(-3, max_shift + 1))
    scores = np.array([float(np.dot(a[:len(a) - k], b[k:])) if k >= 0 else float(np.dot(a[-k:], b[:len(b) + k]))
                       for k in shifts])
    i = int(np.argmax(scores))
    frac = 0.0
    if 0 < i < len(shifts) - 1:
        left, mid, right = scores[i - 1], scores[i], scores[i + 1]
        curve = left - 2 * mid + right
        frac = 0.5 * (left - right) / curve if curve < 0 else 0.0
    return (shifts[i] + frac) * float(np.median(np.diff(times)))
