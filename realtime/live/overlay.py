"""Overlay drawers, one per thing drawn; each has ``draw(canvas, result)`` and draws in place."""

from __future__ import annotations

import time

import cv2
import numpy as np

from realtime.classifier.activation import overlay_map
from realtime.core.contract import NO_GESTURE
from realtime.live.pipeline import FrameResult, HandResult

FONT = cv2.FONT_HERSHEY_SIMPLEX
GREEN, GREY, WHITE, BLACK, AMBER = (60, 200, 60), (160, 160, 160), (255, 255, 255), (0, 0, 0), (0, 190, 255)
HELP_TEXT = ("s snapshot  c crops  x where it looked  m mirror  t teach  a actions on/off  z sleep  space pause  "
             "h help  q quit")
RED = (40, 40, 230)


def _text(canvas: np.ndarray, text: str, org: tuple[int, int], scale: float = 0.5,
          color=WHITE, thickness: int = 1, background=BLACK) -> tuple[int, int]:
    """Text on a filled background box; returns its (width, height)."""
    (w, h), base = cv2.getTextSize(text, FONT, scale, thickness)
    x, y = org
    if background is not None:
        cv2.rectangle(canvas, (x - 2, y - h - 3), (x + w + 2, y + base), background, cv2.FILLED)
    cv2.putText(canvas, text, (x, y), FONT, scale, color, thickness, cv2.LINE_AA)
    return w, h + base


Rect = tuple[int, int, int, int]  # x0, y0, x1, y1


def _text_rect(text: str, org: tuple[int, int], scale: float, thickness: int = 1) -> Rect:
    """The box :func:`_text` fills for ``text`` at ``org`` (its baseline start)."""
    (w, h), base = cv2.getTextSize(text, FONT, scale, thickness)
    return org[0] - 2, org[1] - h - 3, org[0] + w + 2, org[1] + base


def _overlaps(a: Rect, b: Rect) -> bool:
    return a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]


def place_label(text: str, box: Rect, frame: tuple[int, int], avoid: list[Rect], scale: float = 0.6,
                thickness: int = 2) -> tuple[int, int]:
    """Where a hand's caption goes (its baseline start): inside the frame and clear of the HUD and the
    crop view. Tried in order: above the box, inside its top, below it (under the confidence bar),
    inside its bottom; each kept within the frame and shifted left of a panel it would run under."""
    width, height = frame
    (w, h), base = cv2.getTextSize(text, FONT, scale, thickness)
    x0, y0, x1, y1 = box

    def fit(x: int, y: int) -> tuple[int, int]:
        x = min(max(x, 4), max(width - w - 4, 4))
        y = min(max(y, h + 5), max(height - base - 2, h + 5))
        for r in avoid:  # a panel on the right (the crop view): move the caption to its left
            if _overlaps(_text_rect(text, (x, y), scale, thickness), r) and r[0] > width // 2:
                x = max(r[0] - w - 8, 4)
        return x, y

    candidates = [fit(x0 + 2, y0 - 6), fit(x0 + 2, y0 + h + 6), fit(x0 + 2, y1 + h + 18), fit(x0 + 2, y1 - base - 6)]
    for org in candidates:
        if not any(_overlaps(_text_rect(text, org, scale, thickness), r) for r in avoid):
            return org
    return candidates[0]


def _hand_color(hand: HandResult):
    if hand.label is None:
        return AMBER
    return GREEN if hand.is_gesture else GREY


def caption(hand: HandResult) -> str:
    """A hand's caption: its label and confidence, and which hand it is."""
    if hand.label is None:
        return f"{hand.handedness} hand"
    if hand.label == NO_GESTURE:  # a hand doing nothing: no gesture name, no confidence
        return f"no gesture ({hand.handedness})"
    return f"{hand.label} {hand.score:.0%} ({hand.handedness})"


class HandBoxDrawer:
    """Crop box per hand with its label, confidence and handedness, the label clear of ``avoid``."""

    def draw(self, canvas: np.ndarray, result: FrameResult, avoid: list[Rect] = ()) -> list[Rect]:
        """Draws; returns where each hand's caption went."""
        placed = []
        for hand in result.hands:
            x0, y0, x1, y1 = hand.box
            color = _hand_color(hand)
            cv2.rectangle(canvas, (x0, y0), (x1 - 1, y1 - 1), color, 2)
            text = caption(hand)
            org = place_label(text, hand.box, (canvas.shape[1], canvas.shape[0]), list(avoid) + placed)
            _text(canvas, text, org, 0.6, BLACK, 2, background=color)
            placed.append(_text_rect(text, org, 0.6, 2))
        return placed


class ConfidenceBarDrawer:
    """A bar under each box: the smoothed confidence, with the threshold marked."""

    def __init__(self, threshold: float) -> None:
        self.threshold = threshold

    def draw(self, canvas: np.ndarray, result: FrameResult) -> None:
        """Draw each hand's label and confidence bar."""
        h = canvas.shape[0]
        for hand in result.hands:
            if hand.score is None or hand.label == NO_GESTURE:
                continue
            x0, _, x1, y1 = hand.box
            top = min(y1 + 4, h - 10)
            width = max(x1 - x0, 40)
            cv2.rectangle(canvas, (x0, top), (x0 + width, top + 8), BLACK, cv2.FILLED)
            cv2.rectangle(canvas, (x0, top), (x0 + int(width * hand.score), top + 8), _hand_color(hand), cv2.FILLED)
            tx = x0 + int(width * self.threshold)
            cv2.line(canvas, (tx, top - 2), (tx, top + 10), WHITE, 1)


class StatsDrawer:
    """FPS and the time spent in each stage, top left."""

    #: the stage names the timing line shows, for its width before the stages are timed
    WIDEST = "ms: capture 00.0  hands 00.0  search 00.0  classify 00.0  draw 00.0"

    def draw(self, canvas: np.ndarray, result: FrameResult, fps: float) -> None:
        """Draw fps and the stages' times."""
        stages = "  ".join(f"{k} {v:.1f}" for k, v in result.timings_ms.items())
        _text(canvas, f"{fps:.0f} fps", (8, 22), 0.6, WHITE, 2)
        _text(canvas, f"ms: {stages}", (8, 44), 0.45)

    def area(self, canvas: np.ndarray, actions: bool) -> Rect:
        """The part of the frame the stats (and the actions line under them) cover."""
        right = _text_rect(self.WIDEST, (8, 44), 0.45)[2]
        return 0, 0, min(right, canvas.shape[1]), 70 if actions else 50


def _wrap(text: str, width: int, scale: float) -> list[str]:
    """Split ``text`` into lines that fit ``width`` pixels at ``scale``."""
    lines, line = [], ""
    for word in text.split():
        trial = f"{line} {word}".strip()
        if line and cv2.getTextSize(trial, FONT, scale, 1)[0][0] > width:
            lines.append(line)
            line = word
        else:
            line = trial
    return lines + [line] if line else lines


class HelpDrawer:
    """The key help along the bottom (wrapped on narrow frames)."""

    def draw(self, canvas: np.ndarray, result: FrameResult) -> None:
        """Draw the keys' help."""
        lines = _wrap(HELP_TEXT, canvas.shape[1] - 20, 0.45)
        y = canvas.shape[0] - 8 - 18 * (len(lines) - 1)
        for line in lines:
            _text(canvas, line, (8, y), 0.45)
            y += 18


class BannerDrawer:
    """A message across the top, wrapped to the frame (no gesture model, paused, snapshot saved)."""

    def draw(self, canvas: np.ndarray, text: str, color=AMBER, y: int = 72) -> None:
        """Draw the banner line (paused, saved, ...)."""
        for line in _wrap(text, canvas.shape[1] - 24, 0.5):
            _text(canvas, line, (10, y), 0.5, BLACK, 1, background=color)
            y += 20


class TeachDrawer:
    """Teach mode's panel: the gesture being recorded, its crop count, the keys; red while recording."""

    def draw(self, canvas: np.ndarray, lines: list[str], recording: bool) -> None:
        """Draw teach mode's lines."""
        y = canvas.shape[0] - 34 - 22 * len(lines)
        for i, line in enumerate(lines):
            _text(canvas, line, (10, y), 0.55 if i == 0 else 0.45, WHITE if i else BLACK, 1 + (i == 0),
                  background=(RED if recording else AMBER) if i == 0 else BLACK)
            y += 22
        if recording:
            cv2.circle(canvas, (canvas.shape[1] - 24, canvas.shape[0] - 48), 10, RED, cv2.FILLED)


class CropViewDrawer:
    """The crops exactly as the model sees them, stacked in the top-right corner."""

    def __init__(self, size: int = 160) -> None:  # the model input size: shown 1:1
        self.size = size

    def _side(self, canvas: np.ndarray, result: FrameResult) -> int:
        h, w = canvas.shape[:2]
        return min(self.size, w // 3, (h - 16) // max(len(result.hands), 1))

    def area(self, canvas: np.ndarray, result: FrameResult) -> Rect | None:
        """The part of the frame the crop panel covers (None when it shows nothing)."""
        shown = sum(h.model_view is not None for h in result.hands)
        side = self._side(canvas, result)
        if not shown or side < 16:
            return None
        return canvas.shape[1] - side - 10, 0, canvas.shape[1], 8 + shown * (side + 8)

    def draw(self, canvas: np.ndarray, result: FrameResult) -> None:
        """Draw the crops the model saw (and their activation maps)."""
        h, w = canvas.shape[:2]
        y = 8
        for hand in result.hands:
            if hand.model_view is None:
                continue
            tile = cv2.cvtColor(hand.model_view, cv2.COLOR_RGB2BGR)
            if hand.activation is not None:
                tile = overlay_map(tile, hand.activation)
            side = self._side(canvas, result)
            if side < 16:
                return
            tile = cv2.resize(tile, (side, side), interpolation=cv2.INTER_NEAREST)
            x = w - side - 8
            canvas[y:y + side, x:x + side] = tile
            cv2.rectangle(canvas, (x - 1, y - 1), (x + side, y + side), _hand_color(hand), 1)
            caption = hand.label or hand.handedness
            _text(canvas, caption, (x + 2, y + side - 4), 0.4)
            y += side + 8


class ActionsDrawer:
    """Whether bindings fire, under the stats: green when on, red when paused (the kill switch)."""

    def draw(self, canvas: np.ndarray, status: str) -> None:
        """Draw the actions line (``status``): green when on, amber in a dry run, red when paused."""
        color = RED if "PAUSED" in status else (AMBER if "dry run" in status else GREEN)
        _text(canvas, status, (8, 64), 0.45, BLACK if color != RED else WHITE, 1, background=color)


class Annotator:
    """All drawers composed in the live loop's order; ``draw`` returns a new annotated canvas."""

    def __init__(self, threshold: float) -> None:
        self.boxes, self.bars = HandBoxDrawer(), ConfidenceBarDrawer(threshold)
        self.stats, self.help, self.banner, self.crops = StatsDrawer(), HelpDrawer(), BannerDrawer(), CropViewDrawer()
        self.teach, self.actions = TeachDrawer(), ActionsDrawer()
        self.labels: list[Rect] = []
        self.reserved: list[Rect] = []

    def draw(self, result: FrameResult, fps: float, show_crops: bool = False, show_help: bool = True,
             banner: str | None = None, teach: list[str] | None = None,
             recording: bool = False, actions: str | None = None) -> np.ndarray:
        """Draw every element on a copy of the frame."""
        t0 = time.perf_counter()
        canvas = result.image.copy()
        avoid = [self.stats.area(canvas, bool(actions))]
        panel = self.crops.area(canvas, result) if show_crops else None
        if panel is not None:
            avoid.append(panel)
        self.labels = self.boxes.draw(canvas, result, avoid)  # where the captions went (tests read it)
        self.reserved = avoid
        self.bars.draw(canvas, result)
        if show_crops:
            self.crops.draw(canvas, result)
        if banner:
            self.banner.draw(canvas, banner, y=92 if actions else 72)  # below the actions line
        if teach:
            self.teach.draw(canvas, teach, recording)
        if show_help:
            self.help.draw(canvas, result)
        result.timings_ms["draw"] = (time.perf_counter() - t0) * 1000
        self.stats.draw(canvas, result, fps)
        if actions:
            self.actions.draw(canvas, actions)
        return canvas
