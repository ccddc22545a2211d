"""MediaPipe hand tracking (Tasks HandLandmarker) -> small ``Hand`` values in frame pixels."""

from __future__ import annotations

import dataclasses
import importlib.abc
import sys
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from realtime.core.contract import (
    DEFAULT_CROP_MARGIN,
    DEFAULT_FRAMING,
    Box,
    clamp_box,
    crop_box,
    hand_crop,
    landmarks_box,
)
from realtime.core.errors import HandSignError
from realtime.core.paths import AUTO, resolve_hand_model
from realtime.hands.tiles import is_duplicate, tile_boxes

#: Hands found only in a tile must reach this handedness score (a cheap guard against false hands).
TILE_MIN_SCORE = 0.8
#: Video, one hand tracked, two allowed: look for a second hand at most this often (ms). MediaPipe itself
#: runs its palm detector (~13 ms of CPU here, three times a lite landmark pass) on every such frame.
DEFAULT_SECOND_HAND_MS = 100


class _NoTensorFlow(importlib.abc.MetaPathFinder):
    """Makes ``import tensorflow`` fail while mediapipe is imported.

    mediapipe's optional_dependencies imports TensorFlow, when installed, only for a docs
    decorator: seconds of start-up and hundreds of MB for nothing. The live tool must not load it.
    """

    def find_spec(self, name, path=None, target=None):
        if name == "tensorflow" or name.startswith("tensorflow."):
            raise ModuleNotFoundError(f"No module named {name!r} (blocked while importing mediapipe)")
        return None


@contextmanager
def _without_tensorflow():
    if "tensorflow" in sys.modules:
        yield
        return
    blocker = _NoTensorFlow()
    sys.meta_path.insert(0, blocker)
    try:
        yield
    finally:
        sys.meta_path.remove(blocker)


with _without_tensorflow():
    import mediapipe as mp
    from mediapipe.tasks.python import BaseOptions, vision


@dataclass(frozen=True)
class Hand:
    """One detected hand: landmarks (21, 2) in pixels, handedness as the person sees it."""

    landmarks: np.ndarray
    handedness: str  # "Left" or "Right": the person's own hand
    score: float
    frame_size: tuple[int, int]  # width, height

    def crop(self, frame: np.ndarray, margin: float = DEFAULT_CROP_MARGIN,
             framing: str = DEFAULT_FRAMING) -> tuple[np.ndarray, Box]:
        """The crop the classifier sees (contract geometry) and its unclamped box."""
        return hand_crop(frame, self.landmarks, margin, framing)

    def box(self, margin: float = DEFAULT_CROP_MARGIN, framing: str = DEFAULT_FRAMING) -> Box:
        """The crop box clipped to the frame, for drawing and JSON output."""
        return clamp_box(crop_box(landmarks_box(self.landmarks), margin, framing), *self.frame_size)


class HandTracker:
    """HandLandmarker in VIDEO mode (tracking between frames) or IMAGE mode (independent images).

    Use as a context manager, or call :meth:`close`: a landmarker left to the garbage collector
    prints a traceback at interpreter exit.
    """

    def __init__(self, model_path: str | Path = AUTO, max_hands: int = 2, video: bool = True,
                 min_detection: float = 0.5, min_presence: float = 0.5, min_tracking: float = 0.5,
                 tiles: bool = True, second_hand_ms: int = DEFAULT_SECOND_HAND_MS) -> None:
        model_path = resolve_hand_model(model_path, video)
        if not model_path.is_file():
            raise HandSignError(f"hand model not found: {model_path} "
                                "(rebuild it with `python scripts/build_hand_landmarker.py`)")
        self.video, self.max_hands = video, max_hands
        self.tiles = tiles and not video  # stills only: the live search is a separate matter
        self.settings = dict(max_hands=max_hands, mode="VIDEO" if video else "IMAGE", tiles=self.tiles,
                             min_detection=min_detection, min_presence=min_presence,
                             min_tracking=min_tracking, model=model_path.name)
        options = vision.HandLandmarkerOptions(
            base_options=BaseOptions(model_asset_path=str(model_path)),
            running_mode=vision.RunningMode.VIDEO if video else vision.RunningMode.IMAGE,
            num_hands=max_hands, min_hand_detection_confidence=min_detection,
            min_hand_presence_confidence=min_presence, min_tracking_confidence=min_tracking)
        self._options, self._model_path = options, model_path
        self._landmarker = self._create(options)
        self._last_ts = -1
        #: VIDEO mode with one hand tracked of two allowed: a one-hand twin follows it (landmarks only,
        #: no palm detector), and the two-hand landmarker looks for a second hand every ``second_hand_ms``.
        self.second_hand_ms = second_hand_ms if video and max_hands > 1 else 0
        self.settings["second_hand_ms"] = self.second_hand_ms
        self._one_hand = None
        self._following_one = False
        self._last_wide_ms = 0
        #: frames the two-hand landmarker ran on, and frames the one-hand twin followed a hand alone
        self.looks = {"two-hand": 0, "one-hand": 0}

    def _create(self, options):
        try:
            return vision.HandLandmarker.create_from_options(options)
        except (RuntimeError, ValueError) as exc:
            raise HandSignError(f"{self._model_path} is not a usable hand_landmarker.task: "
                                f"{str(exc).splitlines()[0]}") from None

    def detect(self, frame_bgr: np.ndarray, timestamp_ms: int = 0, mirrored: bool = False,
               scale: float = 1.0) -> list[Hand]:
        """Hands in a BGR frame. ``mirrored`` says whether the frame is a mirror view.

        ``scale`` < 1 hands MediaPipe a smaller copy (idle looks: the palm detector sees 192x192 either
        way, and a smaller image is cheaper to convert); the landmarks are in the frame's own pixels
        still, and VIDEO-mode tracking carries on at full size (its regions are relative to the image).

        MediaPipe labels handedness as if the image were mirrored (a selfie view); for an
        unmirrored frame the labels are swapped back so they name the person's own hand.
        On stills with ``tiles`` on, when the whole frame shows fewer than ``max_hands`` hands,
        four overlapping tiles are searched too (small, distant hands), duplicates merged.
        """
        if scale != 1.0:
            h, w = frame_bgr.shape[:2]
            small = cv2.resize(frame_bgr, (round(w * scale), round(h * scale)), interpolation=cv2.INTER_AREA)
            hands = [Hand(hand.landmarks * np.array([w / small.shape[1], h / small.shape[0]], np.float32),
                          hand.handedness, hand.score, (w, h))
                     for hand in self._track(small, timestamp_ms, mirrored)]
        else:
            hands = self._track(frame_bgr, timestamp_ms, mirrored)
        if self.tiles and len(hands) < self.max_hands:
            hands = self._search_tiles(frame_bgr, hands, mirrored)
        return hands

    def _track(self, frame_bgr: np.ndarray, timestamp_ms: int, mirrored: bool) -> list[Hand]:
        """One frame through the two-hand landmarker, or through its one-hand twin while that follows
        the only hand in view and the last look for a second one is under ``second_hand_ms`` old."""
        twin_first = self._following_one and timestamp_ms - self._last_wide_ms < self.second_hand_ms
        if twin_first:
            hands = self._follow_one(frame_bgr, timestamp_ms, mirrored)
            if hands:
                return hands
            # the twin, a few frames behind after a look for a second hand, lost it: the two-hand
            # landmarker, which looked more recently, tries on this frame
        hands = self._detect(frame_bgr, timestamp_ms, mirrored)
        self._last_wide_ms = timestamp_ms
        if self.video:
            self.looks["two-hand"] += 1
        if self._following_one and not twin_first and not hands:
            # the two-hand landmarker, a few frames behind, lost the hand (its palm detector can miss a
            # turned hand that tracking keeps): the twin that follows it has the say
            hands = self._follow_one(frame_bgr, timestamp_ms, mirrored)
        self._following_one = bool(self.second_hand_ms) and len(hands) == 1
        return hands

    def _follow_one(self, frame_bgr: np.ndarray, timestamp_ms: int, mirrored: bool) -> list[Hand]:
        if self._one_hand is None:
            self._one_hand = self._create(dataclasses.replace(self._options, num_hands=1))
        self.looks["one-hand"] += 1
        return self._detect(frame_bgr, timestamp_ms, mirrored, self._one_hand)

    def _search_tiles(self, frame_bgr: np.ndarray, hands: list[Hand], mirrored: bool) -> list[Hand]:
        h, w = frame_bgr.shape[:2]
        known = [landmarks_box(x.landmarks) for x in hands]
        extra = [hand for tile in tile_boxes(w, h) for hand in self.detect_in_region(frame_bgr, tile, mirrored, known)]
        # deterministic: whole-frame hands first, then tile hands by score
        return (hands + sorted(extra, key=lambda x: -x.score))[: self.max_hands]

    def detect_in_region(self, frame_bgr: np.ndarray, region: Box, mirrored: bool,
                         known: list[tuple[float, float, float, float]]) -> list[Hand]:
        """New hands inside ``region`` (a tile), in frame pixels: those below TILE_MIN_SCORE or
        overlapping a box in ``known`` are dropped; the boxes of those kept are added to ``known``."""
        h, w = frame_bgr.shape[:2]
        x0, y0, x1, y1 = region
        found = []
        for hand in self._detect(frame_bgr[y0:y1, x0:x1], 0, mirrored):
            points = hand.landmarks + np.array([x0, y0], np.float32)
            box = landmarks_box(points)
            if hand.score < TILE_MIN_SCORE or is_duplicate(box, known):
                continue
            known.append(box)
            found.append(Hand(points, hand.handedness, hand.score, (w, h)))
        return found

    def _detect(self, frame_bgr: np.ndarray, timestamp_ms: int, mirrored: bool, landmarker=None) -> list[Hand]:
        h, w = frame_bgr.shape[:2]
        image = mp.Image(image_format=mp.ImageFormat.SRGB,
                         data=np.ascontiguousarray(cv2.cvtColor(np.ascontiguousarray(frame_bgr),
                                                                cv2.COLOR_BGR2RGB)))
        if self.video:
            ts = max(int(timestamp_ms), self._last_ts + 1)  # VIDEO mode needs increasing stamps
            self._last_ts = ts
            result = (landmarker or self._landmarker).detect_for_video(image, ts)
        else:
            result = self._landmarker.detect(image)
        hands = []
        for marks, categories in zip(result.hand_landmarks, result.handedness):
            pts = np.array([[m.x * w, m.y * h] for m in marks], dtype=np.float32)
            side = categories[0].category_name
            if not mirrored:
                side = {"Left": "Right", "Right": "Left"}.get(side, side)
            hands.append(Hand(pts, side, float(categories[0].score), (w, h)))
        return hands

    def close(self) -> None:
        """Close the landmarkers (MediaPipe's must be closed explicitly)."""
        for landmarker in (self._landmarker, self._one_hand):
            if landmarker is not None:
                landmarker.close()
        self._landmarker = self._one_hand = None

    def __enter__(self) -> HandTracker:
        return self

    def __exit__(self, *exc) -> None:
        self.close()
