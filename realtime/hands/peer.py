"""MediaPipe's own Gesture Recognizer, the peer that benchmarks compare HandSign against.

It lives here because it is MediaPipe behind the same door as the tracker (TensorFlow blocked while
mediapipe imports); it is not part of the live path.
"""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np

from realtime.core.errors import HandSignError
from realtime.hands.tracker import BaseOptions, mp, vision


class PeerRecognizer:
    """MediaPipe's Gesture Recognizer in VIDEO mode; ``recognize`` one BGR frame at a time."""

    def __init__(self, task: Path, max_hands: int = 2) -> None:
        if not Path(task).is_file():
            raise HandSignError(f"peer task not found: {task}")
        options = vision.GestureRecognizerOptions(base_options=BaseOptions(model_asset_path=str(task)),
                                                  running_mode=vision.RunningMode.VIDEO, num_hands=max_hands)
        try:
            self._recognizer = vision.GestureRecognizer.create_from_options(options)
        except (RuntimeError, ValueError) as exc:
            raise HandSignError(f"{task} is not a usable MediaPipe gesture recognizer .task: "
                                f"{str(exc).splitlines()[0]}") from None
        self.task = Path(task)

    def recognize(self, frame_bgr: np.ndarray, timestamp_ms: int) -> list[tuple[str, float]]:
        """Each hand's top gesture and its score (``None`` is MediaPipe's "no gesture")."""
        rgb = mp.Image(image_format=mp.ImageFormat.SRGB, data=cv2.cvtColor(frame_bgr, cv2.COLOR_BGR2RGB))
        result = self._recognizer.recognize_for_video(rgb, int(timestamp_ms))
        return [(g[0].category_name, g[0].score) if g else ("None", 0.0) for g in result.gestures]

    def close(self) -> None:
        """Close MediaPipe's recognizer (it must be closed explicitly)."""
        self._recognizer.close()

    def __enter__(self) -> PeerRecognizer:
        return self

    def __exit__(self, *exc) -> None:
        self.close()
