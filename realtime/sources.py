"""Frame sources: a camera, a video file, an image or a folder of images, iterated alike.

    for frame in open_source(camera=0):
        ...

A camera is read in its own thread that keeps only the newest frame, so a slow iteration skips
stale frames instead of building a backlog. Files are read in order, every frame.
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

import cv2
import numpy as np

from realtime.errors import HandSignError
from realtime.images import IMAGE_SUFFIXES, ImageReadError, read_bgr

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Frame:
    image: np.ndarray  # BGR
    index: int
    timestamp_ms: int


class Source:
    """Base: iterate frames; ``live`` (camera), ``still`` (unrelated images) and ``close``."""

    live = False
    still = False
    name = ""
    fps: float | None = None

    def __iter__(self) -> Iterator[Frame]:
        raise NotImplementedError

    def close(self) -> None:
        pass

    def __enter__(self) -> "Source":
        return self

    def __exit__(self, *exc) -> None:
        self.close()


class CameraSource(Source):
    """A webcam read by a background thread that always holds the newest frame."""

    live = True

    def __init__(self, index: int | str, width: int | None = None, height: int | None = None,
                 stall_seconds: float = 3.0) -> None:
        """``index`` is a camera number, or any device/stream URL OpenCV opens (tests use a file)."""
        self.name = f"camera {index}"
        self.stall_seconds = stall_seconds
        previous = cv2.utils.logging.getLogLevel()
        cv2.utils.logging.setLogLevel(cv2.utils.logging.LOG_LEVEL_SILENT)  # our message says it all
        try:
            self._cap = cv2.VideoCapture(index)
        finally:
            cv2.utils.logging.setLogLevel(previous)
        if not self._cap.isOpened():
            self._cap.release()
            hint = "try --camera 1" if index == 0 else "try --camera 0"
            raise HandSignError(f"camera {index} could not be opened ({hint}; check that no other "
                                "program uses it and that this user may access cameras)")
        if width:
            self._cap.set(cv2.CAP_PROP_FRAME_WIDTH, width)
        if height:
            self._cap.set(cv2.CAP_PROP_FRAME_HEIGHT, height)
        self.fps = self._cap.get(cv2.CAP_PROP_FPS) or None
        self._cond = threading.Condition()
        self._frame: np.ndarray | None = None
        self._count = 0
        self._stopped = False
        self.dropped = 0
        self._thread = threading.Thread(target=self._reader, name="camera-reader", daemon=True)
        self._thread.start()

    def _reader(self) -> None:
        failures_since = None
        while not self._stopped:
            ok, frame = self._cap.read()
            if not ok or frame is None:
                failures_since = failures_since or time.monotonic()
                if time.monotonic() - failures_since > self.stall_seconds:
                    break
                time.sleep(0.05)  # a camera that hiccups gets a few seconds to come back
                continue
            failures_since = None
            with self._cond:
                if self._frame is not None:
                    self.dropped += 1
                self._frame = frame
                self._count += 1
                self._cond.notify()
        with self._cond:
            self._stopped = True
            self._cond.notify()

    def __iter__(self) -> Iterator[Frame]:
        start = time.monotonic()
        index = 0
        while True:
            with self._cond:
                got = self._cond.wait_for(lambda: self._frame is not None or self._stopped,
                                          timeout=self.stall_seconds + 1)
                frame, self._frame = self._frame, None
            if frame is None:
                if not got:
                    log.warning("%s delivered no frame for %.0f s", self.name, self.stall_seconds)
                else:
                    log.warning("%s stopped delivering frames", self.name)
                return
            yield Frame(frame, index, int((time.monotonic() - start) * 1000))
            index += 1

    def close(self) -> None:
        self._stopped = True
        if self._thread.is_alive():
            self._thread.join(timeout=2)
        self._cap.release()


class VideoFileSource(Source):
    """Every frame of a video file, stamped with its position in the video."""

    def __init__(self, path: Path, loop: bool = False) -> None:
        self.name, self.loop = str(path), loop
        self._cap = cv2.VideoCapture(str(path))
        if not self._cap.isOpened():
            self._cap.release()
            raise HandSignError(f"cannot open video {path}: not a readable video file")
        self.fps = self._cap.get(cv2.CAP_PROP_FPS) or 30.0

    def __iter__(self) -> Iterator[Frame]:
        index = 0
        while True:
            ok, frame = self._cap.read()
            if (not ok or frame is None) and self.loop and index > 0:
                self._cap.set(cv2.CAP_PROP_POS_FRAMES, 0)
                ok, frame = self._cap.read()
            if not ok or frame is None:
                return
            yield Frame(frame, index, int(round(index * 1000.0 / self.fps)))
            index += 1

    def close(self) -> None:
        self._cap.release()


class ImagesSource(Source):
    """One image file or every image in a folder (sorted), each an unrelated still."""

    still = True

    def __init__(self, path: Path, loop: bool = False) -> None:
        self.name, self.loop = str(path), loop
        if path.is_dir():
            self.paths = sorted(p for p in path.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES)
            if not self.paths:
                raise HandSignError(f"no images in folder {path}")
        else:
            read_bgr(path)  # fail now, with a one-line error, on an unreadable single image
            self.paths = [path]

    def __iter__(self) -> Iterator[Frame]:
        index = 0
        while True:
            shown = 0
            for path in self.paths:
                try:
                    image = read_bgr(path)
                except ImageReadError as exc:
                    log.warning("skipped %s", exc)
                    continue
                yield Frame(image, index, index * 1000)
                index += 1
                shown += 1
            if not (self.loop and shown):
                return


def open_source(camera: int | None = None, source: str | Path | None = None,
                width: int | None = None, height: int | None = None, loop: bool = False) -> Source:
    """A camera index or a path (video, image or folder); exactly one of them.

    ``loop`` replays a file source until the caller stops.
    """
    if camera is not None and source is not None:
        raise HandSignError("pass either --camera N or --source PATH, not both")
    if source is None:
        return CameraSource(0 if camera is None else camera, width, height)
    path = Path(source)
    if not path.exists():
        raise HandSignError(f"source not found: {path}")
    if path.is_dir() or path.suffix.lower() in IMAGE_SUFFIXES:
        return ImagesSource(path, loop)
    return VideoFileSource(path, loop)
