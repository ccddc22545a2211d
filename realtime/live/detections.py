"""The pipelined live loop: MediaPipe tracks frame t+1 on a worker thread while the caller
classifies, draws and shows frame t.

MediaPipe's hand stage keeps about one core busy and the classifier waits for it; run one after
the other, the second core idles through most of a frame. Here the worker reads the source and
runs the hands stage (:meth:`GesturePipeline.detect`); the caller takes each detection in order
and runs the gesture stage (:meth:`GesturePipeline.finish`), so smoothing, events and teach mode
see exactly the serial loop's results. The hand-over is a rendezvous: the worker starts the next
frame only once the caller has taken the last one, so it is never more than one frame ahead
(a camera frame waits at most one frame; nothing queues up).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable, Iterator

from realtime.live.pipeline import Detection, GesturePipeline
from realtime.live.sources import Frame


class _End:
    """The worker's last message: the source ended, or the worker failed with ``error``."""

    def __init__(self, error: BaseException | None = None) -> None:
        self.error = error


class PipelinedDetections:
    """Iterate detections (or stale frames) of ``frames``, found one frame ahead on a worker thread.

    ``mirror`` is asked before each frame, so the window's `m` key applies at once. Use as a
    context manager (or call :meth:`close`): leaving early stops the worker.
    """

    def __init__(self, pipeline: GesturePipeline, frames: Iterable[Frame], mirror: Callable[[], bool]) -> None:
        self.pipeline, self._frames, self._mirror = pipeline, frames, mirror
        self._cond = threading.Condition()
        self._slot: Detection | Frame | _End | None = None
        self._stopped = False
        self._thread = threading.Thread(target=self._work, name="hands-stage", daemon=True)
        self._thread.start()

    def _put(self, item) -> bool:
        """Hand ``item`` over and wait until it is taken; False once stopped."""
        with self._cond:
            self._slot = item
            self._cond.notify_all()
            self._cond.wait_for(lambda: self._slot is None or self._stopped)
            return not self._stopped

    def _work(self) -> None:
        try:
            wait_start = time.perf_counter()
            for frame in self._frames:
                if self._stopped:
                    return
                if frame.stale:  # a reconnecting camera: the caller shows it, nothing to detect
                    item = frame
                else:
                    capture_ms = (time.perf_counter() - wait_start) * 1000
                    item = self.pipeline.detect(frame, self._mirror(), capture_ms)
                if not self._put(item):
                    return
                wait_start = time.perf_counter()
            self._put(_End())
        except BaseException as exc:  # re-raised in the caller's thread
            self._put(_End(exc))

    def __iter__(self) -> Iterator[Detection | Frame]:
        while True:
            with self._cond:
                self._cond.wait_for(lambda: self._slot is not None)
                item, self._slot = self._slot, None
                self._cond.notify_all()
            if isinstance(item, _End):
                if item.error is not None:
                    raise item.error
                return
            yield item

    def close(self) -> None:
        """Stop the tracking thread and wait for it."""
        with self._cond:
            self._stopped = True
            self._cond.notify_all()
        self._thread.join(timeout=10)

    def __enter__(self) -> PipelinedDetections:
        return self

    def __exit__(self, *exc) -> None:
        self.close()


class SerialDetections:
    """The same iteration without a thread: each frame's hands are found when it is asked for."""

    def __init__(self, pipeline: GesturePipeline, frames: Iterable[Frame], mirror: Callable[[], bool]) -> None:
        self.pipeline, self._frames, self._mirror = pipeline, frames, mirror

    def __iter__(self) -> Iterator[Detection | Frame]:
        wait_start = time.perf_counter()
        for frame in self._frames:
            if frame.stale:
                yield frame
            else:
                capture_ms = (time.perf_counter() - wait_start) * 1000
                yield self.pipeline.detect(frame, self._mirror(), capture_ms)
            wait_start = time.perf_counter()

    def close(self) -> None:
        """Nothing to stop: tracking runs in the caller's thread."""
        pass

    def __enter__(self) -> SerialDetections:
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def detections(pipeline: GesturePipeline, frames: Iterable[Frame], mirror: Callable[[], bool],
               pipelined: bool = True) -> PipelinedDetections | SerialDetections:
    """The live loop's detections: one frame ahead on a worker thread, or serial."""
    return (PipelinedDetections if pipelined else SerialDetections)(pipeline, frames, mirror)
