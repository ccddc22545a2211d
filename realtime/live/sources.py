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
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from realtime.core.errors import HandSignError
from realtime.core.images import IMAGE_SUFFIXES, ImageReadError, read_bgr

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Frame:
    """One frame: the BGR image, its index and its timestamp in ms."""

    image: np.ndarray  # BGR
    index: int
    timestamp_ms: int
    stale: bool = False  # a repeat of the last frame while the source reconnects: show, don't process


class Source:
    """Base: iterate frames; ``live`` (camera), ``still`` (unrelated images) and ``close``."""

    live = False
    still = False
    name = ""
    fps: float | None = None

    def __iter__(self) -> Iterator[Frame]:
        raise NotImplementedError

    def close(self) -> None:
        """Release the source."""
        pass

    def release(self) -> None:
        """Let go of the device or file while asleep; iteration goes on after :meth:`reopen`."""
        pass

    def reopen(self) -> None:
        """Take the device or file again after :meth:`release`."""
        pass

    def __enter__(self) -> Source:
        return self

    def __exit__(self, *exc) -> None:
        self.close()


class CameraSource(Source):
    """A webcam read by a background thread that always holds the newest frame.

    A camera that stops delivering frames (a USB camera unplugged and plugged back in) is
    re-opened with backoff for up to ``reconnect_seconds``; meanwhile ``status`` says so.
    """

    live = True
    #: A read failing for this long counts as a lost camera (shorter hiccups are waited out).
    STALL_SECONDS = 1.0

    def __init__(self, index: int | str, width: int | None = None, height: int | None = None,
                 reconnect_seconds: float = 10.0, opener: Callable[[int | str], cv2.VideoCapture] = cv2.VideoCapture
                 ) -> None:
        """``index`` is a camera number, or any device/stream URL OpenCV opens (tests use a file)."""
        self.name = f"camera {index}"
        self.index, self.width, self.height = index, width, height
        self.reconnect_seconds = reconnect_seconds
        self._opener = opener
        self._cap = self._open()
        if not self._cap.isOpened():
            self._cap.release()
            hint = "try --camera 1" if index == 0 else "try --camera 0"
            raise HandSignError(f"camera {index} could not be opened ({hint}; check that no other "
                                "program uses it and that this user may access cameras)")
        self.fps = self._cap.get(cv2.CAP_PROP_FPS) or None
        self._cond = threading.Condition()
        self._frame: np.ndarray | None = None
        self._count = 0
        self._stopped = False
        self.dropped = 0
        self.reconnects = 0
        self.status: str | None = None
        self._thread = threading.Thread(target=self._reader, name="camera-reader", daemon=True)
        self._thread.start()

    def release(self) -> None:
        """Stop reading and release the camera (its light goes off); the frames iterated so far stay valid."""
        self.close()
        log.info("%s released", self.name)

    def reopen(self) -> None:
        """Open the camera again and read on; a camera that does not open is reconnected as if lost."""
        with self._cond:
            self._stopped, self._frame = False, None
        self._cap = self._open()
        self._thread = threading.Thread(target=self._reader, name="camera-reader", daemon=True)
        self._thread.start()
        log.info("%s opened again", self.name)

    def _open(self) -> cv2.VideoCapture:
        previous = cv2.utils.logging.getLogLevel()
        cv2.utils.logging.setLogLevel(cv2.utils.logging.LOG_LEVEL_SILENT)  # our message says it all
        try:
            cap = self._opener(self.index)
        finally:
            cv2.utils.logging.setLogLevel(previous)
        if cap.isOpened():
            if self.width:
                cap.set(cv2.CAP_PROP_FRAME_WIDTH, self.width)
            if self.height:
                cap.set(cv2.CAP_PROP_FRAME_HEIGHT, self.height)
        return cap

    def _reconnect(self) -> bool:
        """Re-open the camera with backoff until it delivers a frame or the time is up."""
        self._cap.release()
        deadline, delay = time.monotonic() + self.reconnect_seconds, 0.25
        log.warning("%s lost: reconnecting for up to %.0f s", self.name, self.reconnect_seconds)
        while not self._stopped:
            self.status = f"{self.name} lost: reconnecting ({deadline - time.monotonic():.0f} s left)"
            self._cap = self._open()
            if self._cap.isOpened():
                ok, frame = self._cap.read()
                if ok and frame is not None:
                    self.reconnects += 1
                    self.status = None
                    log.info("%s is back", self.name)
                    self._publish(frame)
                    return True
            self._cap.release()
            if time.monotonic() >= deadline:
                return False
            time.sleep(max(0.0, min(delay, deadline - time.monotonic())))
            delay = min(delay * 2, 2.0)
        return False

    def _publish(self, frame: np.ndarray) -> None:
        with self._cond:
            if self._frame is not None:
                self.dropped += 1
            self._frame = frame
            self._count += 1
            self._cond.notify()

    def _reader(self) -> None:
        failures_since = None
        while not self._stopped:
            ok, frame = self._cap.read()
            if not ok or frame is None:
                failures_since = failures_since or time.monotonic()
                if time.monotonic() - failures_since > self.STALL_SECONDS:
                    if not self._reconnect():
                        break
                    failures_since = None
                    continue
                time.sleep(0.02)  # a camera that hiccups gets a moment to come back
                continue
            failures_since = None
            self._publish(frame)
        with self._cond:
            self._stopped = True
            self._cond.notify()

    def __iter__(self) -> Iterator[Frame]:
        """Frames as they come. While the camera is being re-opened, the last frame is repeated
        about 5 times a second with ``stale=True``, so a window can keep showing the status."""
        start = time.monotonic()
        index, last = 0, None
        waited = 0.0
        while True:
            with self._cond:
                got = self._cond.wait_for(lambda: self._frame is not None or self._stopped, timeout=0.2)
                frame, self._frame = self._frame, None
            if frame is not None:
                waited = 0.0
                last = frame
                yield Frame(frame, index, int((time.monotonic() - start) * 1000))
                index += 1
                continue
            if got:  # stopped
                log.warning("%s stopped delivering frames%s", self.name,
                            f" (no frame for {self.reconnect_seconds:.0f} s of reconnecting)"
                            if self.reconnect_seconds else "")
                return
            waited += 0.2
            if waited > self.STALL_SECONDS + self.reconnect_seconds + 5:  # a reader that hangs
                log.warning("%s delivered no frame for %.0f s", self.name, waited)
                return
            if self.status and last is not None:
                yield Frame(last, index, int((time.monotonic() - start) * 1000), stale=True)

    def close(self) -> None:
        """Stop the reader thread and release the camera."""
        self._stopped = True
        if self._thread.is_alive():
            self._thread.join(timeout=2)
        self._cap.release()


class VideoFileSource(Source):
    """Every frame of a video file, stamped with its position in the video."""

    def __init__(self, path: Path, loop: bool = False) -> None:
        self.name, self.loop, self.path = str(path), loop, Path(path)
        self._cap = cv2.VideoCapture(str(path))
        if not self._cap.isOpened():
            self._cap.release()
            raise HandSignError(f"cannot open video {path}: not a readable video file")
        self.fps = self._cap.get(cv2.CAP_PROP_FPS) or 30.0
        self._position = 0  # frames read since the file's start (for reopening where it was)

    def __iter__(self) -> Iterator[Frame]:
        index = 0
        while True:
            ok, frame = self._cap.read()
            if (not ok or frame is None) and self.loop and index > 0:
                self._cap.set(cv2.CAP_PROP_POS_FRAMES, 0)
                self._position = 0
                ok, frame = self._cap.read()
            if not ok or frame is None:
                return
            self._position += 1
            yield Frame(frame, index, int(round(index * 1000.0 / self.fps)))
            index += 1

    def release(self) -> None:
        """Close the file while asleep."""
        self._cap.release()
        log.info("%s released", self.name)

    def reopen(self) -> None:
        """Open the file again where it was."""
        self._cap = cv2.VideoCapture(str(self.path))
        if not self._cap.isOpened():
            raise HandSignError(f"cannot open video {self.path} again after sleeping")
        self._cap.set(cv2.CAP_PROP_POS_FRAMES, self._position)
        log.info("%s opened again", self.name)

    def close(self) -> None:
        """Release the file."""
        self._cap.release()


class GifSource(Source):
    """Every frame of an animated GIF, stamped by the GIF's own frame delays (Pillow): OpenCV would
    time them as index / fps, and a GIF's frames need not be evenly spaced."""

    #: Browsers show a frame with no delay (or under 20 ms) for 100 ms; so does this source.
    DEFAULT_DELAY_MS = 100

    def __init__(self, path: Path, loop: bool = False) -> None:
        from PIL import Image, UnidentifiedImageError  # only GIFs need Pillow

        self.name, self.loop = str(path), loop
        try:
            self._gif = Image.open(path)
            self._gif.seek(0)
        except (OSError, UnidentifiedImageError) as exc:
            raise HandSignError(f"cannot open GIF {path}: {exc}") from None
        delays = [self._delay(i) for i in range(getattr(self._gif, "n_frames", 1))]
        self._delays = delays
        self.fps = 1000.0 / float(np.median(delays))

    def _delay(self, i: int) -> int:
        self._gif.seek(i)
        delay = int(self._gif.info.get("duration") or 0)
        return delay if delay >= 20 else self.DEFAULT_DELAY_MS

    def __iter__(self) -> Iterator[Frame]:
        index, t = 0, 0
        while True:
            for i, delay in enumerate(self._delays):
                self._gif.seek(i)
                rgb = np.asarray(self._gif.convert("RGB"))
                yield Frame(cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR), index, t)
                index, t = index + 1, t + delay
            if not self.loop:
                return

    def close(self) -> None:
        """Close the GIF."""
        self._gif.close()


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
                width: int | None = None, height: int | None = None, loop: bool = False,
                reconnect_seconds: float = 10.0) -> Source:
    """A camera index or a path (video, image or folder); exactly one of them.

    ``loop`` replays a file source until the caller stops.
    """
    if camera is not None and source is not None:
        raise HandSignError("pass either --camera N or --source PATH, not both")
    if source is None:
        return CameraSource(0 if camera is None else camera, width, height, reconnect_seconds)
    path = Path(source)
    if not path.exists():
        raise HandSignError(f"source not found: {path}")
    if path.is_dir() or path.suffix.lower() in IMAGE_SUFFIXES:
        return ImagesSource(path, loop)
    return open_video(path, loop)


def open_video(path: Path, loop: bool = False) -> Source:
    """A video file, or an animated GIF timed by its own frame delays."""
    return GifSource(path, loop) if Path(path).suffix.lower() == ".gif" else VideoFileSource(path, loop)
