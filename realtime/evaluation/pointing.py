"""The pointing test's window: ISO 9241-9's ring of targets, one highlighted at a time, clicked with
whatever moves the pointer (HandSign's pointer mode, or a mouse); each click recorded as a trial.

    trials = PointingTask(PointingOptions(distances=(256, 512), widths=(32, 64))).run()   # None: quit

Conditions come in the order given (each distance with each width); in each, the first click on the
highlighted target starts it and every further click is a trial, hit or miss. Esc or closing the
window quits (and nothing is scored). The scoring is :mod:`realtime.evaluation.fitts`.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass

import cv2
import numpy as np

from realtime.evaluation.fitts import Target, Trial, ring

log = logging.getLogger(__name__)
WINDOW = "HandSign pointing test"
ESC = 27
BACKGROUND, IDLE, ACTIVE, TEXT = (245, 245, 245), (200, 200, 200), (60, 170, 60), (40, 40, 40)


@dataclass(frozen=True)
class PointingOptions:
    """The task's conditions and window."""

    distances: tuple[int, ...] = (256, 512)  # ring diameters A, px
    widths: tuple[int, ...] = (32, 64)  # target widths W, px
    targets: int = 9  # targets on a ring (odd)
    size: tuple[int, int] = (1280, 800)  # the window's canvas, px
    fullscreen: bool = False  # the window fills the screen (give the screen's size as ``size``)
    trace: bool = False  # print each target shown and each trial as a JSON line on stdout

    def __post_init__(self) -> None:
        if self.targets < 3 or self.targets % 2 == 0:
            raise ValueError("targets must be an odd number, at least 3")
        if not self.distances or not self.widths or min(self.widths) < 4:
            raise ValueError("give at least one distance and one width (widths at least 4 px)")
        if max(self.distances) + max(self.widths) > min(self.size) - 60:
            raise ValueError(f"a ring of {max(self.distances)} px with {max(self.widths)} px targets does not fit "
                             f"a {self.size[0]}x{self.size[1]} window: give a larger --size or smaller --distances")

    @property
    def conditions(self) -> list[tuple[int, int]]:
        """(distance, width) in the order they are run."""
        return [(a, w) for a in self.distances for w in self.widths]


class PointingTask:
    """The window and its trials; :meth:`run` blocks until every condition is done or the user quits."""

    def __init__(self, options: PointingOptions, out: Callable[[str], None] | None = None,
                 clock: Callable[[], float] = time.perf_counter) -> None:
        self.options, self.clock = options, clock
        self.out = out or (lambda line: print(line, flush=True))
        self._clicks: list[tuple[int, int, float]] = []

    def _mouse(self, event: int, x: int, y: int, *_: object) -> None:
        if event == cv2.EVENT_LBUTTONDOWN:
            self._clicks.append((x, y, self.clock()))

    def _trace(self, record: dict) -> None:
        if self.options.trace:
            self.out(json.dumps(record))

    def _draw(self, spots: list[Target], active: int, condition: int, done: int) -> np.ndarray:
        w, h = self.options.size
        canvas = np.full((h, w, 3), BACKGROUND, np.uint8)
        for t in spots[:-1]:
            cv2.circle(canvas, (round(t.x), round(t.y)), round(t.width / 2), IDLE, -1, cv2.LINE_AA)
        t = spots[active]
        cv2.circle(canvas, (round(t.x), round(t.y)), round(t.width / 2), ACTIVE, -1, cv2.LINE_AA)
        a, width = self.options.conditions[condition]
        text = (f"condition {condition + 1} of {len(self.options.conditions)} (A {a} px, W {width} px): "
                + ("click the green target to start" if active == 0 and done == 0 else
                   f"trial {done + 1} of {len(spots) - 1}") + "   Esc quits")
        cv2.putText(canvas, text, (16, 28), cv2.FONT_HERSHEY_SIMPLEX, 0.6, TEXT, 1, cv2.LINE_AA)
        return canvas

    def _wait_click(self, canvas: np.ndarray) -> tuple[int, int, float] | None:
        while not self._clicks:
            cv2.imshow(WINDOW, canvas)
            if (cv2.waitKey(10) & 0xFF) == ESC or cv2.getWindowProperty(WINDOW, cv2.WND_PROP_VISIBLE) < 1:
                return None
        return self._clicks.pop(0)

    def run(self) -> list[Trial] | None:
        """Every condition's trials, or None when the user quit."""
        o = self.options
        cv2.namedWindow(WINDOW, cv2.WINDOW_AUTOSIZE | cv2.WINDOW_GUI_NORMAL)
        if o.fullscreen:
            cv2.setWindowProperty(WINDOW, cv2.WND_PROP_FULLSCREEN, cv2.WINDOW_FULLSCREEN)
        cv2.setMouseCallback(WINDOW, self._mouse)
        trials: list[Trial] = []
        try:
            for c, (a, w) in enumerate(o.conditions):
                spots = ring((o.size[0] / 2, o.size[1] / 2 + 16), a, w, o.targets)
                start = None
                i = 0
                while i < len(spots):
                    t = spots[i]
                    self._trace({"kind": "target", "condition": c, "index": i, "x": t.x, "y": t.y, "width": w,
                                 "distance": a})
                    click = self._wait_click(self._draw(spots, i, c, max(i - 1, 0) if start else 0))
                    if click is None:
                        return None
                    x, y, at = click
                    hit = np.hypot(x - t.x, y - t.y) <= w / 2
                    if start is None:
                        if hit:
                            start, i = (x, y, at), i + 1
                        continue  # the start needs the first target itself
                    prev = spots[i - 1]
                    trial = Trial(a, w, prev.x, prev.y, start[0], start[1], t.x, t.y, x, y,
                                  round((at - start[2]) * 1000, 1), bool(hit))
                    trials.append(trial)
                    self._trace({"kind": "trial", "condition": c, "index": i, **trial.to_json()})
                    start, i = (x, y, at), i + 1
            return trials
        finally:
            cv2.destroyWindow(WINDOW)
            cv2.waitKey(1)

