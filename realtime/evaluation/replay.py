"""A clip's tracked and classified hands, recorded once and replayed through the event logic.

The live path (MediaPipe, the classifier, smoothing) is what costs: on 2 cores about the clip's own
length. The event rules only read each frame's hands, so a clip is played through the live path once,
its frames kept (on disk, keyed by the clip and every option that changes them), and any number of
event settings are then replayed on them in milliseconds: a threshold sweep over the development set
takes seconds. Replaying with the settings it was recorded with gives exactly the live loop's events
(``tests/test_scorecard.py`` checks it).
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import logging
import pickle
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from realtime.classifier.model import GestureClassifier
from realtime.core.contract import shown_label
from realtime.core.outputs import write_bytes_atomic
from realtime.events.detector import EventDetector
from realtime.events.gestures import GestureEvent
from realtime.events.options import EventOptions
from realtime.live.loop import LiveLoop
from realtime.live.options import LiveOptions
from realtime.live.pipeline import FrameResult
from realtime.live.recognition import RecognitionOptions, open_pipeline
from realtime.live.sources import open_video

log = logging.getLogger(__name__)

#: Change it whenever what a recording holds, or the live path before the events, changes.
RECORDING_VERSION = "2"
NOT_BINDABLE = ("hold", "end")


def bindable(event: GestureEvent) -> bool:
    """An event that can fire a binding: a start, a swipe or another one-off event (not hold or end)."""
    return event.type not in NOT_BINDABLE


@dataclass(frozen=True)
class _Stamp:
    index: int
    timestamp_ms: int


@dataclass(frozen=True)
class RecordedHand:
    """One hand of one frame, as the event logic reads it."""

    track: int | None
    handedness: str
    landmarks: np.ndarray | None
    probabilities: np.ndarray | None  # smoothed, in the model's label order
    top3: tuple[tuple[str, float], ...] = ()
    label: str | None = None
    score: float | None = None


@dataclass(frozen=True)
class RecordedFrame:
    """A frame as :class:`realtime.events.detector.FrameLike`: its hands, size and time."""

    frame: _Stamp
    image: np.ndarray  # an empty (height, width, 0) array: only its shape is read
    hands: tuple[RecordedHand, ...]


@dataclass
class Recording:
    """One clip's frames after the live path, before the events."""

    clip: Path
    fps: float
    mirrored: bool
    labels: tuple[str, ...] | None
    threshold: float
    frames: list[RecordedFrame] = field(default_factory=list)
    live_events: list[GestureEvent] = field(default_factory=list)  # what the live loop fired

    @property
    def seconds(self) -> float:
        """The clip's length in seconds."""
        return len(self.frames) / self.fps if self.fps else 0.0

    def events(self, options: EventOptions, threshold: float | None = None) -> list[GestureEvent]:
        """The bindable events these frames give with ``options`` (and, if given, another label threshold)."""
        detector = EventDetector.create_from_options(options)
        out = []
        for frame in self._relabelled(threshold):
            out += [e for e in detector.update(frame, self.mirrored) if bindable(e)]
        return out

    def _relabelled(self, threshold: float | None) -> list[RecordedFrame]:
        if threshold is None or threshold == self.threshold or self.labels is None:
            return self.frames
        out = []
        for f in self.frames:
            hands = []
            for h in f.hands:
                label, score = h.label, h.score
                if h.probabilities is not None:
                    label, score = shown_label(h.probabilities, self.labels, threshold)
                hands.append(RecordedHand(h.track, h.handedness, h.landmarks, h.probabilities, h.top3, label, score))
            out.append(RecordedFrame(f.frame, f.image, tuple(hands)))
        return out


class _Record:
    """A view that keeps every frame's hands and the live loop's bindable events."""

    def __init__(self, recording: Recording) -> None:
        self.recording = recording

    def frame(self, result: FrameResult, events: list[GestureEvent]) -> bool:
        h, w = result.image.shape[:2]
        hands = tuple(RecordedHand(x.track, x.handedness, x.landmarks, x.probabilities, tuple(x.top3), x.label,
                                   x.score) for x in result.hands)
        self.recording.frames.append(RecordedFrame(_Stamp(result.frame.index, result.frame.timestamp_ms),
                                                   np.empty((h, w, 0), np.uint8), hands))
        self.recording.live_events += [e for e in events if bindable(e)]
        return True

    def waiting(self, result: FrameResult | None) -> bool:
        return True

    def finished(self, result: FrameResult | None) -> None:
        pass

    def close(self) -> None:
        pass


def record_clip(clip: Path, classifier: GestureClassifier | None, recognition: RecognitionOptions,
                options: LiveOptions) -> Recording:
    """Play ``clip`` once through the live path, keeping its frames."""
    with ExitStack() as stack:
        source = stack.enter_context(open_video(clip))
        pipeline = open_pipeline(stack, source, classifier, recognition)
        loop = LiveLoop(options, source, pipeline)
        recording = Recording(clip, source.fps or 30.0, loop.mirror, classifier.labels if classifier else None,
                              options.threshold)
        loop.run(_Record(recording))
    return recording


def recording_key(clip: Path, classifier: GestureClassifier | None, recognition: RecognitionOptions,
                  options: LiveOptions) -> str:
    """A name for a recording: the clip and the model files as they are, and every option that matters."""
    def stamp(path: Path) -> list:
        st = Path(path).stat()
        return [str(Path(path).resolve()), st.st_size, st.st_mtime_ns]

    parts = {"version": RECORDING_VERSION, "clip": stamp(clip), "mirror": options.mirror,
             "model": stamp(classifier.path) if classifier else None,
             "heads": classifier.heads if classifier else None, "serial": options.serial,
             "options": {k: str(v) for k, v in dataclasses.asdict(recognition).items()}}
    digest = hashlib.sha1(json.dumps(parts, sort_keys=True).encode()).hexdigest()[:16]
    return f"{clip.stem[:40]}-{digest}"


def recorded(clip: Path, classifier: GestureClassifier | None, recognition: RecognitionOptions,
             options: LiveOptions, cache: Path | None) -> Recording:
    """The clip's recording from ``cache`` if it is there, else played now (and kept there)."""
    path = cache / f"{recording_key(clip, classifier, recognition, options)}.pkl" if cache else None
    if path is not None and path.is_file():
        try:
            with path.open("rb") as f:
                return pickle.load(f)
        except (OSError, pickle.UnpicklingError, EOFError, AttributeError) as exc:
            log.warning("ignored an unreadable recording %s: %s", path, exc)
    recording = record_clip(clip, classifier, recognition, options)
    if path is not None:
        path.parent.mkdir(parents=True, exist_ok=True)
        write_bytes_atomic(path, pickle.dumps(recording, protocol=pickle.HIGHEST_PROTOCOL))
    return recording
