"""Where the live loop's results go besides the window: JSON lines, the recorded video, snapshots."""

from __future__ import annotations

import json
import sys
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path
from typing import TextIO

import cv2
import numpy as np

from realtime.core.errors import HandSignError
from realtime.core.outputs import write_image_atomic, write_text_atomic
from realtime.events.gestures import GestureEvent
from realtime.live.pipeline import FrameResult


class JsonLines:
    """One JSON line per frame (its hands and events), or with ``events_only`` one per event."""

    def __init__(self, events_only: bool = False, stream: TextIO | None = None) -> None:
        self.events_only, self.stream = events_only, stream

    def write(self, result: FrameResult, events: Sequence[GestureEvent]) -> None:
        """Write one frame's JSON line."""
        out = self.stream or sys.stdout
        if self.events_only:
            for event in events:
                print(json.dumps(event.to_json()), file=out, flush=True)
        else:
            print(json.dumps({**result.to_json(), "events": [e.to_json() for e in events]}), file=out, flush=True)

    def write_events(self, events: Sequence[GestureEvent]) -> None:
        """Events with no frame of their own (the gestures still shown when the source ended)."""
        for event in events:
            print(json.dumps(event.to_json()), file=self.stream or sys.stdout, flush=True)


class Recorder:
    """Writes annotated frames to a video; opens lazily so the first frame sets the size."""

    def __init__(self, path: Path | None, fps: float) -> None:
        self.path, self.fps, self._writer = path, fps, None

    def write(self, canvas: np.ndarray) -> None:
        """Append one annotated frame to the video."""
        if self.path is None:
            return
        if self._writer is None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            h, w = canvas.shape[:2]
            self._writer = cv2.VideoWriter(str(self.path), cv2.VideoWriter_fourcc(*"mp4v"), self.fps, (w, h))
            if not self._writer.isOpened():
                raise HandSignError(f"cannot write video {self.path}")
        self._writer.write(canvas)

    def close(self) -> None:
        """Finish the video file."""
        if self._writer is not None:
            self._writer.release()


def save_snapshot(folder: Path, canvas: np.ndarray, result: FrameResult) -> Path:
    """The annotated frame, each raw crop and the predictions as JSON, under one timestamp."""
    folder.mkdir(parents=True, exist_ok=True)
    stem = datetime.now().strftime("%Y%m%d-%H%M%S-%f")
    for i, hand in enumerate(result.hands):
        write_image_atomic(folder / f"{stem}_crop{i}.png", hand.crop)
    write_text_atomic(folder / f"{stem}_predictions.json", json.dumps(result.to_json(), indent=1))
    return write_image_atomic(folder / f"{stem}_frame.png", canvas)
